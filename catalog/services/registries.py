"""Registry sources: configuration, their beat schedule, and starting syncs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from portal.security import validate_fetch_url

from .. import policies
from ..models import RegistryAuth, RegistryKind, RegistrySource, SyncRun
from .registry_sync import sync_run_start

ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
NAME_RE = re.compile(r"^[\w.\-]{1,100}$")
MIN_POLL_SECONDS = 30
SOURCE_FIELDS = (
    "kind",
    "base_url",
    "ui_url",
    "is_enabled",
    "poll_seconds",
    "full_sweep_hours",
    "default_domain",
    "auth",
    "auth_username",
    "secret_env",
)


def _validate(source: RegistrySource) -> None:
    errors = {}
    if not NAME_RE.match(source.name or ""):
        errors["name"] = "1-100 letters, digits, '.', '-' or '_'."
    if source.kind == RegistryKind.MLFLOW:
        url = urlparse(source.base_url or "")
        if url.scheme not in ("http", "https") or not url.netloc:
            errors["base_url"] = "An MLflow tracking server URL such as http://mlflow.internal:5000."
        else:
            # The workers fetch it: no credentials in it, no loopback/private/metadata addresses.
            try:
                validate_fetch_url(source.base_url)
            except ValidationError as exc:
                errors["base_url"] = exc.messages[0]
    elif source.kind == RegistryKind.MANIFESTS:
        if not source.base_url or not Path(source.base_url).is_absolute():
            errors["base_url"] = "An absolute path to a directory (or git checkout) of manifest YAML files."
        elif ".." in Path(source.base_url).parts:
            errors["base_url"] = "Give the directory's own absolute path, without '..' segments."
    else:
        errors["kind"] = f"Choose one of: {RegistryKind.MLFLOW}, {RegistryKind.MANIFESTS}."
    if source.poll_seconds < MIN_POLL_SECONDS:
        errors["poll_seconds"] = f"Poll at most every {MIN_POLL_SECONDS} seconds."
    if source.auth != RegistryAuth.NONE:
        if not ENV_NAME_RE.match(source.secret_env or ""):
            errors["secret_env"] = "The NAME of an environment variable (A-Z, 0-9, _) that holds the secret."
        if source.auth == RegistryAuth.BASIC and not source.auth_username:
            errors["auth_username"] = "Basic auth needs a user name."
    if errors:
        raise ValidationError(errors)
    source.full_clean(exclude=["base_url"])


def registry_schedule_sync(*, source: RegistrySource) -> None:
    """Keep the source's django-celery-beat entry in line with its poll interval and enabled flag."""
    name = f"Sync registry #{source.pk}"
    if not source.is_enabled:
        PeriodicTask.objects.filter(name=name).update(enabled=False)
        return
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=source.poll_seconds, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": "catalog.registry_sync",
            "interval": interval,
            "args": f"[{source.pk}]",
            "kwargs": '{"trigger": "schedule"}',
            "enabled": True,
            "description": f"Poll {source.name} ({source.get_kind_display()})",
        },
    )


@transaction.atomic
def registry_source_create(*, actor, name: str, kind: str, base_url: str, **fields) -> RegistrySource:
    policies.require(policies.can_manage_registries(actor), "Only admins configure registries.")
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    if RegistrySource.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A registry named {name!r} already exists."})
    source = RegistrySource(name=name, kind=kind, base_url=base_url.strip(), **fields)
    _validate(source)
    source.save()
    registry_schedule_sync(source=source)
    return source


@transaction.atomic
def registry_source_update(*, actor, source: RegistrySource, **fields) -> RegistrySource:
    policies.require(policies.can_manage_registries(actor), "Only admins configure registries.")
    unknown = set(fields) - set(SOURCE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    for key, value in fields.items():
        setattr(source, key, value)
    _validate(source)
    source.save()
    registry_schedule_sync(source=source)
    return source


def registry_sync_request(*, actor, source: RegistrySource, full: bool = False) -> SyncRun:
    """'Sync now': record a queued run and hand it to a worker once this transaction commits."""
    policies.require(policies.can_trigger_sync(actor), "Only engineers and admins start a sync.")
    from ..tasks import registry_sync_task

    sync_run = sync_run_start(source=source, full=full, trigger="manual")
    transaction.on_commit(
        lambda: registry_sync_task.delay(source.pk, full=full, trigger="manual", sync_run_id=sync_run.pk)
    )
    return sync_run
