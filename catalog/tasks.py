"""Catalog background jobs. Tasks take ids and call services; running one twice changes nothing more."""

from __future__ import annotations

import logging
import random
import uuid
from contextlib import contextmanager

from celery import shared_task
from django.core.cache import cache

from .models import RegistrySource, SyncRun, SyncStatus
from .registries.base import RegistryError
from .services import model_search_refresh
from .services.registry_sync import sync_run_execute, sync_run_start

logger = logging.getLogger(__name__)

# Below the broker's visibility timeout (1 h), so a running sync is never delivered twice.
SYNC_SOFT_TIME_LIMIT = 20 * 60
SYNC_TIME_LIMIT = 25 * 60
SYNC_MAX_RETRIES = 5


@shared_task(name="catalog.models_search_refresh", acks_late=True, max_retries=3, default_retry_delay=10)
def models_search_refresh(model_ids: list[int]) -> int:
    """Rebuild search documents, e.g. after a domain rename or an owner's name change."""
    return model_search_refresh(model_ids=model_ids)


class SyncLocked(Exception):
    pass


@contextmanager
def registry_lock(source_id: int, *, timeout: int = SYNC_TIME_LIMIT + 60):
    """One sync per source at a time, across workers; the lock expires if its holder dies."""
    key, token = f"registry-sync-lock:{source_id}", uuid.uuid4().hex
    if not cache.add(key, token, timeout=timeout):
        raise SyncLocked(f"Another sync of registry #{source_id} is running.")
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with full jitter: 15 s, 30 s, 60 s ... capped at 10 min."""
    return random.uniform(0.5, 1.0) * min(600, 15 * 2**retries)


@shared_task(
    bind=True,
    name="catalog.registry_sync",
    acks_late=True,
    max_retries=SYNC_MAX_RETRIES,
    soft_time_limit=SYNC_SOFT_TIME_LIMIT,
    time_limit=SYNC_TIME_LIMIT,
)
def registry_sync_task(
    self, source_id: int, full: bool = False, trigger: str = "schedule", sync_run_id: int | None = None
) -> dict:
    source = RegistrySource.objects.filter(pk=source_id).first()
    if source is None or (trigger == "schedule" and not source.is_enabled):
        return {"skipped": "source missing or disabled"}
    try:
        with registry_lock(source_id):
            sync_run = SyncRun.objects.filter(pk=sync_run_id).first() if sync_run_id else None
            if sync_run is None:
                sync_run = sync_run_start(source=source, full=full, trigger=trigger)
            if sync_run.status != SyncStatus.RUNNING:
                return {"skipped": f"sync run {sync_run.pk} already {sync_run.status}"}
            sync_run.attempt = self.request.retries + 1
            sync_run.save(update_fields=["attempt"])
            try:
                sync_run_execute(sync_run=sync_run, final_attempt=self.request.retries >= self.max_retries)
            except RegistryError as exc:
                if exc.transient and self.request.retries < self.max_retries:
                    raise self.retry(
                        exc=exc,
                        countdown=backoff_seconds(self.request.retries),
                        kwargs={"full": full, "trigger": trigger, "sync_run_id": sync_run.pk},
                    ) from exc
                return {"sync_run": sync_run.pk, "status": "failed"}
            return {"sync_run": sync_run.pk, "status": "succeeded"}
    except SyncLocked as exc:
        if sync_run_id:
            # A requested sync waits for the running one instead of being dropped.
            raise self.retry(
                exc=exc, countdown=30, kwargs={"full": full, "trigger": trigger, "sync_run_id": sync_run_id}
            ) from exc
        logger.info("%s Skipping this scheduled poll.", exc)
        return {"skipped": "locked"}
