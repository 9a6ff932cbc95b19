"""Reads the governance pages need beyond the shared selectors: filter choices for the work list, and the
aggregates and first rows behind the dashboards. (The gates of many promotions at once, the queue's gate
summary, are services.gates.gates_evaluate_many, next to the gates themselves.)

Each function runs in a fixed number of queries whatever the number of rows, so list pages and dashboards
cost the same with 3 rows as with 300 (tests/governance/test_view_queries.py).

The dashboards' aggregates (models per domain, open work, promotions decided per month; the slowest of
them was a third of a dashboard's SQL at 100k models) are kept in the cache for AGGREGATE_SECONDS and
returned with the time they were counted, which the page shows. None of them is per user.
The queue, failed write-backs and alerts the dashboards list are read live.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from catalog.models import (
    Domain,
    Lifecycle,
    RegisteredModel,
    Tag,
)

from ..filters import sla_q
from ..models import (
    ACTIVE_STATES,
    Alert,
    ApplyStatus,
    PromotionRequest,
    PromotionStatus,
    SlaState,
    WorkItem,
)
from ..workflows import CLOSED
from .monitoring import alert_list
from .promotions import promotion_list

MODEL_CHOICES_MAX = 1000
AGGREGATE_SECONDS = 60
OPEN_SLA_STATES = (SlaState.BREACHED, SlaState.DUE_SOON, SlaState.ON_TRACK, SlaState.NONE)


# --- lists ------------------------------------------------------------------------------------------------


def work_item_filter_options() -> dict:
    """Choices for the work list's filter bar: one small query each."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return {
        "domains": list(Domain.objects.only("name", "slug", "key").order_by("name")),
        "users": list(users.only("username", "first_name", "last_name")),
        "labels": list(
            Tag.objects.filter(work_items__isnull=False)
            .distinct()
            .order_by("name")
            .values_list("name", flat=True)
        ),
        "models": list(
            RegisteredModel.objects.order_by("name").values_list("name", flat=True)[:MODEL_CHOICES_MAX]
        ),
    }


def promotion_apply_failures(*, user) -> QuerySet[PromotionRequest]:
    """Approved promotions whose write-back to the registry failed, newest first, with the model and version
    the dashboard's card names (not the people and waivers of a promotion row): engineers retry them."""
    failed = promotion_list(user=user, filters={"status": PromotionStatus.APPROVED}).filter(
        apply_status=ApplyStatus.FAILED
    )
    return failed.select_related(None).select_related("model", "version").prefetch_related(None)


# --- dashboards -------------------------------------------------------------------------------------------


def first_rows(queryset: QuerySet, limit: int) -> list:
    """The first `limit` rows of `queryset` in its order, with its related rows, in two queries: the keys in
    order from the table alone (values_list() drops select_related's joins), then those rows with their
    joins. A dashboard card shows 10 of thousands of alerts or promotions; in one query PostgreSQL joins
    every matching row before it sorts and cuts (13 ms for the open alerts at scale), or spends longer
    planning the joins than running them."""
    keys = list(queryset.values_list("pk", flat=True)[:limit])
    if not keys:
        return []
    rows = {row.pk: row for row in queryset.filter(pk__in=keys)}
    return [rows[key] for key in keys if key in rows]


def open_alerts_first(*, user, limit: int) -> list[Alert]:
    """The `limit` open or acknowledged alerts seen last, with the model the dashboard's card names (not the
    owner, acknowledger and incident of an alert row, which were half the card's time)."""
    alerts = alert_list(user=user, filters={"state": list(ACTIVE_STATES)})
    return first_rows(alerts.select_related(None).select_related("model"), limit)


def counted_recently(key: str, count: Callable[[], object]) -> tuple[object, datetime.datetime]:
    """count() as it was at most AGGREGATE_SECONDS ago, and when it was counted. `key` names everything the
    count depends on (the user whose scope it counts, the day when it counts by date)."""
    key = f"governance:dashboard:{key}"
    hit = cache.get(key)
    if hit is None:
        hit = (timezone.now(), count())
        cache.set(key, hit, AGGREGATE_SECONDS)
    return hit[1], hit[0]


def _models_per_domain_and_lifecycle() -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    grouped = RegisteredModel.objects.order_by().values_list("domain_id", "lifecycle").annotate(n=Count("*"))
    for domain_id, lifecycle, n in grouped:
        counts[domain_id][lifecycle] = n
    return dict(counts)


def dashboard_domains() -> tuple[list[Domain], datetime.datetime]:
    """Domains by name, annotated as catalog's domain_list() annotates them (`model_count` and
    `<lifecycle>_count`), and when those counts were taken: the domains are read every time, the models
    counted per (domain, lifecycle) at most AGGREGATE_SECONDS ago (a domain added since counts none).

    The grouped count reads the (domain, lifecycle, id) index in order and never joins the domain table:
    at 100k models it takes well under half the time of domain_list()'s join and per-domain aggregate,
    still the slowest query of the dashboard (~12 ms), hence the cache.
    """
    domains = list(Domain.objects.order_by("name"))
    counts, as_of = counted_recently("models-per-domain", _models_per_domain_and_lifecycle)
    for domain in domains:
        mine = counts.get(domain.pk, {})
        domain.model_count = sum(mine.values())
        for lifecycle in Lifecycle.values:
            setattr(domain, f"{lifecycle}_count", mine.get(lifecycle, 0))
    return domains, as_of


def dashboard_open_work(*, domain: Domain | None = None) -> tuple[list[dict], datetime.datetime]:
    """work_item_open_counts(domain=domain) as it was at most AGGREGATE_SECONDS ago, and when it was
    counted. The key names the day: the SLA states change at midnight."""
    key = f"open-work:{domain.pk if domain else 'all'}:{timezone.localdate():%Y-%m-%d}"
    return counted_recently(key, lambda: work_item_open_counts(domain=domain))


def work_item_open_counts(*, domain: Domain | None = None) -> list[dict]:
    """Open work items per type, split by SLA state: [{"type", "breached", "due_soon", "on_track", "none",
    "total"}, ...] in one query, types with open items only, most items first."""
    today = timezone.localdate()
    qs = WorkItem.objects.exclude(status__in=CLOSED)
    if domain is not None:
        qs = qs.filter(domain=domain)
    counts = {state.value: Count("id", filter=sla_q(state, today=today)) for state in OPEN_SLA_STATES}
    rows = list(qs.order_by().values("type").annotate(total=Count("id"), **counts))
    return sorted(rows, key=lambda r: (-r["total"], r["type"]))


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - back
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def promotion_decisions_by_month(*, domain: Domain | None = None, months: int = 12) -> list[dict]:
    """Approved and rejected promotions per month of decision for the last `months` months, oldest first,
    months without decisions included: [{"month": date, "approved": n, "rejected": n}, ...]."""
    today = timezone.localdate()
    first = _month_start(today, months - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    qs = PromotionRequest.objects.filter(
        status__in=(PromotionStatus.APPROVED, PromotionStatus.REJECTED), decided_at__gte=since
    )
    if domain is not None:
        qs = qs.filter(model__domain=domain)
    rows = (
        qs.annotate(month=TruncMonth("decided_at"))
        .order_by()
        .values("month")
        .annotate(
            approved=Count("id", filter=Q(status=PromotionStatus.APPROVED)),
            rejected=Count("id", filter=Q(status=PromotionStatus.REJECTED)),
        )
    )
    found = {}
    for row in rows:
        month = row["month"]
        month = timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month
        found[month.replace(day=1)] = row
    out = []
    for back in range(months - 1, -1, -1):
        month = _month_start(today, back)
        row = found.get(month, {})
        out.append({"month": month, "approved": row.get("approved", 0), "rejected": row.get("rejected", 0)})
    return out


def dashboard_decisions_by_month(*, domain: Domain | None = None) -> tuple[list[dict], datetime.datetime]:
    """promotion_decisions_by_month(domain=domain) as it was at most AGGREGATE_SECONDS ago, and when it was
    counted. The key names the day, so the months roll over at midnight whatever is cached."""
    key = f"decisions-by-month:{domain.pk if domain else 'all'}:{timezone.localdate():%Y-%m-%d}"
    return counted_recently(key, lambda: promotion_decisions_by_month(domain=domain))
