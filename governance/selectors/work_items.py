"""Work-item reads: the filtered list, the board, one item with everything its page shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import get_object_or_404

from .. import policies
from ..filters import WorkItemFilter
from ..models import AuditEvent, Comment, WorkItem, WorkItemLink
from ..workflows import BOARD_COLUMNS, STATUS_LABELS
from ._filtering import apply_filterset


@dataclass(frozen=True)
class Sort:
    label: str
    ordering: tuple[str, ...]
    # Keyset cursors cannot seek past NULL, so a sort on a nullable column lists only rows that have it.
    only: dict | None = None


# Each ordering ends with the primary key so keyset pagination has a total order.
WORK_ITEM_SORTS: dict[str, Sort] = {
    "created": Sort("Newest first", ("-created_at", "-id")),
    "priority": Sort("Most urgent first", ("priority_rank", "-created_at", "-id")),
    "due": Sort(
        "Soonest due first (items without a due date are left out)",
        ("due_date", "id"),
        only={"due_date__isnull": False},
    ),
    "updated": Sort("Recently updated first", ("-updated_at", "-id")),
}
DEFAULT_WORK_ITEM_SORT = "created"
COMMENT_ORDERING = ("created_at", "id")
BOARD_COLUMN_LIMIT = 50
WORK_ITEM_AUDIT_TYPE = WorkItem._meta.label_lower
# Large text the list rows never show.
_LIST_DEFERRED = ("description", "model__search_document", "model__search_vector", "model__description")


def _count_of(related_model, fk: str) -> Coalesce:
    """COUNT of related rows as a correlated subquery: no join, so filters and ordering stay row-exact."""
    rows = (
        related_model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _with_row_data(queryset: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    """What a list row shows, for any number of rows in a fixed number of queries."""
    return (
        queryset.select_related("domain", "reporter", "assignee", "model", "version", "dataset")
        .prefetch_related("labels")
        .annotate(
            comment_count=_count_of(Comment, "item"),
            watcher_count=_count_of(WorkItem.watchers.through, "workitem"),
        )
    )


def _filtered(*, user, filters) -> QuerySet[WorkItem]:
    """Items the user may see, filtered by WorkItemFilter (saved views resolve against `user`).

    Raises ValidationError for an invalid filter value."""
    return apply_filterset(WorkItemFilter, filters, policies.scope(WorkItem.objects.all(), user), user=user)


def work_item_list(*, user, filters=None, sort: str = DEFAULT_WORK_ITEM_SORT) -> QuerySet[WorkItem]:
    """Work items the user may see, filtered (q, type, status, priority, assignee, reporter, domain, model,
    label, sla, view) and ordered by WORK_ITEM_SORTS[sort]."""
    spec = WORK_ITEM_SORTS[sort]
    qs = _filtered(user=user, filters=filters)
    if spec.only:
        qs = qs.filter(**spec.only)
    return _with_row_data(qs).defer(*_LIST_DEFERRED).order_by(*spec.ordering)


def model_open_work_items(*, user, model, statuses, limit: int) -> list[WorkItem]:
    """The first `limit` items about `model` in `statuses` the user may see, most urgent first: the same
    rows as work_item_list(filters={"model": name, "status": statuses}, sort="priority"), in one query:
    the model is not looked up by name again, no DISTINCT (both filters are the item's own columns), and
    only the item's own columns are read (the model page lists key, title, status, priority and SLA)."""
    qs = policies.scope(WorkItem.objects.filter(model=model, status__in=list(statuses)), user)
    return list(qs.defer("description").order_by(*WORK_ITEM_SORTS["priority"].ordering)[:limit])


@dataclass(frozen=True)
class BoardColumn:
    status: str
    label: str
    count: int
    items: list[WorkItem]

    @property
    def has_more(self) -> bool:
        return self.count > len(self.items)


def work_item_board(*, user, filters=None, limit: int = BOARD_COLUMN_LIMIT) -> list[BoardColumn]:
    """The filtered items grouped into the BOARD_COLUMNS, most urgent first, at most `limit` per column,
    with each column's full count. Three queries whatever the number of items."""
    base = _filtered(user=user, filters=filters).filter(status__in=BOARD_COLUMNS)
    counts = dict(base.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    ranked = (
        _with_row_data(base)
        .defer(*_LIST_DEFERRED)
        .annotate(
            column_rank=Window(
                RowNumber(),
                partition_by=[F("status")],
                order_by=[F("priority_rank").asc(), F("id").asc()],
            )
        )
        .filter(column_rank__lte=limit)
        .order_by("priority_rank", "id")
    )
    by_status: dict[str, list[WorkItem]] = {status: [] for status in BOARD_COLUMNS}
    for item in ranked:
        by_status[item.status].append(item)
    return [
        BoardColumn(status, STATUS_LABELS[status], counts.get(status, 0), by_status[status])
        for status in BOARD_COLUMNS
    ]


def work_item_get(*, user, key: str) -> WorkItem:
    """One item by key, without its relations (for write paths). Http404 if unknown or not visible."""
    return get_object_or_404(policies.scope(WorkItem.objects.all(), user), key=key)


def work_item_detail(*, user, key: str) -> WorkItem:
    """One item with comments (authors, mentions), links both ways, watchers, labels, the model, version,
    dataset and promotion it is about, and its audit events oldest first as `activity`."""
    qs = (
        _with_row_data(policies.scope(WorkItem.objects.all(), user))
        .select_related("promotion")
        .prefetch_related(
            "watchers",
            Prefetch(
                "comments", queryset=Comment.objects.select_related("author").prefetch_related("mentions")
            ),
            Prefetch(
                "outgoing_links",
                queryset=WorkItemLink.objects.select_related("target").order_by("created_at", "id"),
            ),
            Prefetch(
                "incoming_links",
                queryset=WorkItemLink.objects.select_related("source").order_by("created_at", "id"),
            ),
        )
        .defer("model__search_document", "model__search_vector")
    )
    item = get_object_or_404(qs, key=key)
    item.activity = list(
        AuditEvent.objects.filter(target_type=WORK_ITEM_AUDIT_TYPE, target_id=str(item.pk)).order_by("seq")
    )
    return item


def comment_list(*, item: WorkItem) -> QuerySet[Comment]:
    """An item's comments, oldest first, with authors and mentioned users."""
    return (
        Comment.objects.filter(item=item)
        .select_related("author")
        .prefetch_related("mentions")
        .order_by(*COMMENT_ORDERING)
    )


def comment_detail(*, pk: int) -> Comment:
    return Comment.objects.select_related("author").prefetch_related("mentions").get(pk=pk)
