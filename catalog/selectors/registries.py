from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from .. import policies
from ..models import CatalogEvent, RegistrySource, SyncRun

SYNC_RUN_ORDERING = ("-started_at", "-id")


def registry_list(*, user) -> QuerySet[RegistrySource]:
    """Registry sources with their last sync's status and times, in one query."""
    last = SyncRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-id")
    return (
        policies.scope(RegistrySource.objects.all(), user)
        .select_related("default_domain")
        .annotate(
            last_sync_status=Subquery(last.values("status")[:1]),
            last_sync_started_at=Subquery(last.values("started_at")[:1]),
            last_sync_finished_at=Subquery(last.values("finished_at")[:1]),
        )
        .order_by("name")
    )


def registry_detail(*, user, name: str) -> RegistrySource:
    return get_object_or_404(registry_list(user=user), name=name)


def sync_run_list(*, source: RegistrySource) -> QuerySet[SyncRun]:
    return SyncRun.objects.filter(source=source).order_by(*SYNC_RUN_ORDERING)


def catalog_event_list(*, model=None, source=None, limit: int = 50) -> list[CatalogEvent]:
    """Recent registry events (alias changes, removals) for one model or one source. A model's events are
    given that model instance rather than a second read of its row."""
    qs = CatalogEvent.objects.select_related("version", "source").order_by("-occurred_at", "-id")
    qs = qs.filter(model=model) if model is not None else qs.select_related("model")
    if source is not None:
        qs = qs.filter(source=source)
    events = list(qs[:limit])
    if model is not None:
        for event in events:
            event.model = model
    return events


def sync_run_recent(*, source: RegistrySource, limit: int = 30) -> list[dict]:
    """The source's last `limit` runs, oldest first, as the few values a chart of them needs."""
    rows = (
        SyncRun.objects.filter(source=source)
        .order_by(*SYNC_RUN_ORDERING)
        .values("id", "status", "started_at", "finished_at", "created", "updated", "removed")[:limit]
    )
    return list(reversed(rows))
