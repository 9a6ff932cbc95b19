import math
import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from portal.security import artifact_uri_problem
from portal.text import contains_nul

from .. import policies
from ..models import (
    DatasetRole,
    MetricPoint,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    TrainingReason,
    VersionDataset,
    VersionMetric,
    VersionStatus,
)
from .datasets import dataset_upsert_by_uri
from .models import model_refresh_version_stats

VERSION_RE = re.compile(r"^[\w.\-+]{1,50}$")
ALIAS_RE = re.compile(r"^[A-Za-z][\w\-]{0,99}$")
METRIC_KEY_RE = re.compile(r"^[\w.\-/: ]{1,100}$")
MAX_POINTS_PER_CALL = 10_000


def _sequence_for(model: RegisteredModel, label: str) -> int:
    if label.isdigit():
        return int(label)
    current = ModelVersion.objects.filter(model=model).aggregate(m=Max("sequence"))["m"] or 0
    return current + 1


@transaction.atomic
def version_create(
    *,
    actor,
    model: RegisteredModel,
    version: str,
    created_at: datetime | None = None,
    created_by: str = "",
    status: str = VersionStatus.READY,
    source_uri: str = "",
    run_id: str = "",
    code_commit: str = "",
    code_repository: str = "",
    hyperparameters: dict | None = None,
    parent_version: str | None = None,
    artifact_digest: str = "",
    training_reason: str = TrainingReason.MANUAL,
    description: str = "",
    metrics: list[dict] | None = None,
    datasets: list[dict] | None = None,
    aliases: list[str] | None = None,
) -> ModelVersion:
    """Record a new version with its lineage in one transaction: all of it is stored, or none.

    `metrics` is a list of {key, value, step?, timestamp?}; `datasets` a list of {uri, name?, digest?, role?}.
    Raises ValidationError (field messages) or PermissionDenied.
    """
    policies.require(
        policies.can_edit_model(actor, model), "Only the model's owners or an admin add versions."
    )
    version = (version or "").strip()
    if not VERSION_RE.match(version):
        raise ValidationError({"version": "1-50 letters, digits, '.', '-', '_' or '+'."})
    duplicate = {"version": f"{model.name} already has a version {version!r}."}
    if ModelVersion.objects.filter(model=model, version=version).exists():
        raise ValidationError(duplicate)
    if contains_nul(
        [
            created_by,
            source_uri,
            run_id,
            code_commit,
            code_repository,
            hyperparameters,
            description,
            artifact_digest,
            metrics,
            datasets,
            aliases,
        ]
    ):
        raise ValidationError("Null characters are not allowed in text.")
    if hyperparameters is not None and not isinstance(hyperparameters, dict):
        raise ValidationError({"hyperparameters": "Give hyperparameters as an object of name: value."})
    source_problem = artifact_uri_problem(source_uri)
    if source_problem:
        raise ValidationError({"source_uri": f"This URI is refused: {source_problem}."})
    parent = None
    if parent_version:
        parent = ModelVersion.objects.filter(model=model, version=parent_version).first()
        if parent is None:
            raise ValidationError({"parent_version": f"{model.name} has no version {parent_version!r}."})
    obj = ModelVersion(
        model=model,
        version=version,
        created_at=created_at or timezone.now(),
        created_by=created_by or getattr(actor, "username", ""),
        status=status,
        source_uri=source_uri,
        run_id=run_id,
        code_commit=code_commit,
        code_repository=code_repository,
        hyperparameters=hyperparameters or {},
        parent=parent,
        artifact_digest=artifact_digest,
        training_reason=training_reason,
        description=description,
        sequence=_sequence_for(model, version),
    )
    obj.full_clean(exclude=["model", "parent"])
    try:
        with transaction.atomic():  # a concurrent insert of the same label is a 400, not a 500
            obj.save()
    except IntegrityError:
        raise ValidationError(duplicate) from None
    if metrics:
        _log_metrics(obj, metrics)
    if datasets:
        _link_datasets(obj, datasets)
    for alias in aliases or []:
        _set_alias(model, alias, obj)
    model_refresh_version_stats(model=model)
    return obj


def _clean_points(points) -> list[dict]:
    if not isinstance(points, list) or not points:
        raise ValidationError({"metrics": "Give a non-empty list of {key, value, step} points."})
    if len(points) > MAX_POINTS_PER_CALL:
        raise ValidationError({"metrics": f"At most {MAX_POINTS_PER_CALL:,} points per call."})
    cleaned: dict[tuple[str, int], dict] = {}
    for i, point in enumerate(points):
        if not isinstance(point, dict):
            raise ValidationError({"metrics": f"Point {i} is not an object."})
        key = str(point.get("key", "")).strip()
        if not METRIC_KEY_RE.match(key):
            raise ValidationError({"metrics": f"Point {i}: a metric key of 1-100 characters is required."})
        try:
            value = float(point.get("value"))
        except (TypeError, ValueError):
            raise ValidationError({"metrics": f"Point {i} ({key}): value must be a number."}) from None
        if not math.isfinite(value):
            raise ValidationError({"metrics": f"Point {i} ({key}): value must be finite."})
        step = point.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValidationError({"metrics": f"Point {i} ({key}): step must be a whole number >= 0."})
        cleaned[(key, step)] = {"key": key, "step": step, "value": value, "timestamp": point.get("timestamp")}
    return list(cleaned.values())


def _log_metrics(version: ModelVersion, points: list[dict]) -> None:
    points = _clean_points(points)
    MetricPoint.objects.bulk_create(
        [
            MetricPoint(
                version=version, key=p["key"], step=p["step"], value=p["value"], timestamp=p["timestamp"]
            )
            for p in points
        ],
        update_conflicts=True,
        unique_fields=["version", "key", "step"],
        update_fields=["value", "timestamp"],
        batch_size=1000,
    )
    keys = {p["key"] for p in points}
    existing = {m.key: m for m in VersionMetric.objects.filter(version=version, key__in=keys)}
    counts = dict(
        MetricPoint.objects.filter(version=version, key__in=keys)
        .values("key")
        .annotate(n=Count("id"))
        .values_list("key", "n")
    )
    summaries = []
    for key in keys:
        newest = max((p for p in points if p["key"] == key), key=lambda p: p["step"])
        current = existing.get(key)
        value, step = (
            (current.value, current.step)
            if current and current.step > newest["step"]
            else (newest["value"], newest["step"])
        )
        summaries.append(
            VersionMetric(version=version, key=key, value=value, step=step, point_count=counts[key])
        )
    VersionMetric.objects.bulk_create(
        summaries,
        update_conflicts=True,
        unique_fields=["version", "key"],
        update_fields=["value", "step", "point_count"],
    )


@transaction.atomic
def version_metrics_log(*, actor, version: ModelVersion, points: list[dict]) -> None:
    """Add or overwrite metric points (same key and step overwrites); summaries follow the latest step."""
    policies.require(
        policies.can_edit_model(actor, version.model), "Only the model's owners or an admin log metrics."
    )
    if contains_nul(points):
        raise ValidationError({"metrics": "Null characters are not allowed in text."})
    _log_metrics(version, points)
    RegisteredModel.objects.filter(pk=version.model_id).update(updated_at=timezone.now())


def _link_datasets(version: ModelVersion, datasets) -> None:
    if not isinstance(datasets, list):
        raise ValidationError({"datasets": "Give a list of {uri, name, digest, role}."})
    links = []
    for i, item in enumerate(datasets):
        if not isinstance(item, dict) or not str(item.get("uri", "")).strip():
            raise ValidationError({"datasets": f"Dataset {i}: a URI is required."})
        role = item.get("role") or DatasetRole.TRAINING
        if role not in DatasetRole.values:
            raise ValidationError(
                {"datasets": f"Dataset {i}: role must be one of {', '.join(DatasetRole.values)}."}
            )
        if len(str(item["uri"])) > 1000:
            raise ValidationError({"datasets": f"Dataset {i}: URI longer than 1,000 characters."})
        dataset = dataset_upsert_by_uri(uri=str(item["uri"]), name=str(item.get("name") or ""))
        links.append(
            VersionDataset(
                version=version, dataset=dataset, role=role, digest=str(item.get("digest") or "")[:128]
            )
        )
    VersionDataset.objects.bulk_create(
        links, update_conflicts=True, unique_fields=["version", "dataset", "role"], update_fields=["digest"]
    )


@transaction.atomic
def version_datasets_link(*, actor, version: ModelVersion, datasets: list[dict]) -> None:
    """Record which datasets trained or evaluated the version; unknown URIs become catalog datasets."""
    policies.require(
        policies.can_edit_model(actor, version.model), "Only the model's owners or an admin edit lineage."
    )
    if contains_nul(datasets):
        raise ValidationError({"datasets": "Null characters are not allowed in text."})
    _link_datasets(version, datasets)


def _set_alias(model: RegisteredModel, alias: str, version: ModelVersion) -> ModelAlias:
    if not ALIAS_RE.match(alias or ""):
        raise ValidationError({"aliases": f"{alias!r} is not a valid alias (letters, digits, '-', '_')."})
    obj, _ = ModelAlias.objects.update_or_create(model=model, alias=alias, defaults={"version": version})
    return obj


@transaction.atomic
def version_alias_set(*, model: RegisteredModel, alias: str, version: ModelVersion) -> ModelAlias:
    """Point `alias` at `version` (moving it from any other version). Callers check permission first:
    registry sync mirrors the registry; governance promotions decide who may move production aliases."""
    if version.model_id != model.pk:
        raise ValidationError({"version": "That version belongs to another model."})
    return _set_alias(model, alias, version)
