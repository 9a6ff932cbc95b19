"""Apply what a registry connector read to the catalog.

Reading happens first, outside any transaction; applying is one transaction, so a failing registry
leaves the catalog exactly as it was, and the watermark only advances with a successful apply.
Writes are compare-first: a re-sync of unchanged data updates no rows.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from portal.text import contains_nul, strip_nul

from ..models import (
    CatalogEvent,
    CatalogEventKind,
    Dataset,
    Domain,
    Lifecycle,
    MetricPoint,
    ModelAlias,
    ModelOwner,
    ModelVersion,
    OwnerRole,
    RegisteredModel,
    RegistrySource,
    SyncRun,
    SyncStatus,
    Tag,
    VersionDataset,
    VersionMetric,
    VersionStatus,
)
from ..registries.base import RegistryError, Snapshot, connector_for, ms_to_datetime
from .models import models_refresh_version_stats
from .search import model_search_refresh

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
DOMAIN_TAG = "domain"
UNASSIGNED_DOMAIN = {"slug": "unassigned", "name": "Unassigned", "key": "UNASSIGNED"}
TAG_CLEAN_RE = re.compile(r"[^\w.\-:]+")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    touched_models: set[int] = field(default_factory=set)


# -- entry points -----------------------------------------------------------------------------------
def sync_run_start(*, source: RegistrySource, full: bool = False, trigger: str = "schedule") -> SyncRun:
    return SyncRun.objects.create(source=source, is_full=full, trigger=trigger, status=SyncStatus.RUNNING)


def sync_run_execute(*, sync_run: SyncRun, final_attempt: bool = True) -> SyncRun:
    """Read the source and apply it. Records the outcome on `sync_run` and returns it.

    Raises RegistryError when the registry failed; the run is then marked failed, unless the error is
    transient and this is not the final attempt (the run stays running with the error noted, for a retry).
    """
    source = sync_run.source
    sweep = sync_run.is_full or _sweep_due(source)
    known = {} if sync_run.is_full else _known_versions(source)
    try:
        connector = connector_for(source)
        snapshot = connector.fetch(
            since_ms=None if sweep else source.watermark_ms, sweep=sweep, known_versions=known
        )
        counts = _apply(source, snapshot, sync_run)
    except RegistryError as exc:
        retrying = exc.transient and not final_attempt
        note = f"Attempt {sync_run.attempt}: {exc.message}" + (" Retrying with backoff." if retrying else "")
        sync_run.error = "\n".join(filter(None, [sync_run.error, note]))
        if not retrying:
            sync_run.status = SyncStatus.FAILED
            sync_run.finished_at = timezone.now()
        sync_run.save(update_fields=["error", "status", "finished_at"])
        raise
    except Exception as exc:
        logger.exception("Registry sync %s crashed", sync_run.pk)
        sync_run.status = SyncStatus.FAILED
        sync_run.finished_at = timezone.now()
        sync_run.error = "\n".join(filter(None, [sync_run.error, f"Internal error: {exc!r}"]))
        sync_run.save(update_fields=["error", "status", "finished_at"])
        raise
    sync_run.status = SyncStatus.SUCCEEDED
    sync_run.finished_at = timezone.now()
    sync_run.http_calls = snapshot.http_calls
    sync_run.created, sync_run.updated = counts.created, counts.updated
    sync_run.unchanged, sync_run.removed = counts.unchanged, counts.removed
    sync_run.problems = [p.as_dict() for p in snapshot.problems]
    sync_run.is_full = sync_run.is_full or sweep
    sync_run.save()
    return sync_run


def registry_sync(*, source: RegistrySource, full: bool = False, trigger: str = "command") -> SyncRun:
    """Synchronous sync (management command, tests): one attempt, no retry."""
    return sync_run_execute(sync_run=sync_run_start(source=source, full=full, trigger=trigger))


def _sweep_due(source: RegistrySource) -> bool:
    if source.watermark_ms is None or source.last_full_sync_at is None:
        return True
    return timezone.now() - source.last_full_sync_at >= timezone.timedelta(hours=source.full_sweep_hours)


def _known_versions(source: RegistrySource) -> dict[tuple[str, str], int]:
    rows = ModelVersion.objects.filter(model__source=source).values_list(
        "model__name", "version", "registry_updated_at", "run_id"
    )
    return {
        (name, version): round(updated.timestamp() * 1000)
        for name, version, updated, run_id in rows
        if updated is not None
    }


# -- apply ------------------------------------------------------------------------------------------
def _sanitise(snapshot: Snapshot) -> None:
    """Registries may hold NUL characters, which PostgreSQL refuses in text: drop them on the way in."""
    for item in [*snapshot.models, *snapshot.versions]:
        for name, value in vars(item).items():
            if isinstance(value, str | dict | list) and contains_nul(value):
                setattr(item, name, strip_nul(value))
        for metric in getattr(item, "metrics", []):
            metric.key = strip_nul(metric.key)
        for dataset in getattr(item, "datasets", []):
            dataset.uri, dataset.name, dataset.digest = strip_nul([dataset.uri, dataset.name, dataset.digest])


@transaction.atomic
def _apply(source: RegistrySource, snapshot: Snapshot, sync_run: SyncRun) -> Counts:
    _sanitise(snapshot)
    counts = Counts()
    models = _apply_models(source, snapshot, counts)
    versions = _apply_versions(source, snapshot, models, counts)
    _apply_run_data(snapshot, versions, counts)
    _apply_aliases(source, snapshot, models, versions, sync_run, counts)
    if snapshot.complete:
        _apply_removals(source, snapshot, sync_run, counts)
    if counts.touched_models:
        models_refresh_version_stats(model_ids=counts.touched_models)
        model_search_refresh(model_ids=counts.touched_models)
    changed_fields = []
    if snapshot.watermark_ms and snapshot.watermark_ms != source.watermark_ms:
        source.watermark_ms = snapshot.watermark_ms
        changed_fields.append("watermark_ms")
    if snapshot.complete:
        source.last_full_sync_at = timezone.now()
        changed_fields.append("last_full_sync_at")
    if changed_fields:
        source.save(update_fields=changed_fields)
    return counts


def _registry_tag_names(tags: dict[str, str]) -> list[str]:
    names = set()
    for key, value in tags.items():
        if key == DOMAIN_TAG or key.startswith("mlflow."):
            continue
        raw = f"{key}:{value}" if value not in ("", None, "true", "True") else key
        name = TAG_CLEAN_RE.sub("-", raw.strip().lower())[:50].strip("-")
        if name:
            names.add(name)
    return sorted(names)


def _resolve_domain(value: str | None, domains: dict[str, Domain], fallback: Domain | None) -> Domain:
    if value:
        found = domains.get(value.strip().lower()) or domains.get(slugify(value))
        if found:
            return found
    if fallback is not None:
        return fallback
    if UNASSIGNED_DOMAIN["slug"] in domains:
        return domains[UNASSIGNED_DOMAIN["slug"]]
    domain, _ = Domain.objects.get_or_create(slug=UNASSIGNED_DOMAIN["slug"], defaults=UNASSIGNED_DOMAIN)
    domains[domain.slug] = domain
    return domain


def _model_url(source: RegistrySource, name: str) -> str:
    base = (source.ui_url or source.base_url).rstrip("/")
    if source.kind == "mlflow" and base.startswith(("http://", "https://")):
        return f"{base}/#/models/{name}"
    return ""


MANIFEST_FIELDS = (
    "intended_use",
    "limitations",
    "ethical_considerations",
    "lifecycle",
    "primary_metric",
    "primary_metric_goal",
    "retrain_every_days",
    "contract",
)
MODEL_UPDATE_FIELDS = [
    "description",
    "source_url",
    "domain",
    "registry_tags",
    "manifest_source",
    *MANIFEST_FIELDS,
    "updated_at",
]


def _apply_models(source, snapshot: Snapshot, counts: Counts) -> dict[str, RegisteredModel]:
    """Upsert models. A registry (MLflow) mirrors description and registry tags; a manifests source owns
    the catalog metadata (domain, owners, card, tags, ...) and may describe a model another registry syncs."""
    is_manifest = source.kind == "manifests"
    domains: dict[str, Domain] = {}
    for d in Domain.objects.all():
        domains.update({d.slug: d, d.name.lower(): d, d.key.lower(): d})
    names = [m.name for m in snapshot.models]
    existing = {m.name: m for m in RegisteredModel.objects.filter(name__in=names)}
    mine: dict[str, RegisteredModel] = {}
    to_create, to_update, tag_wishes, manifest_owners, declared = [], [], {}, {}, {}
    for remote in snapshot.models:
        model = existing.get(remote.name)
        if model is not None and model.source_id != source.pk and not is_manifest:
            owner = "registered by hand" if model.source_id is None else "synced from another registry"
            snapshot.problems.append(_problem(remote.name, f"name already in the catalog ({owner}); skipped"))
            continue
        if is_manifest and model is not None and model.manifest_source_id not in (None, source.pk):
            snapshot.problems.append(_problem(remote.name, "described by another manifests source; skipped"))
            continue
        manifest = remote.manifest or {}
        desired: dict = {}
        if is_manifest:
            desired.update(
                description=remote.description,
                manifest_source_id=source.pk,
                domain_id=_resolve_domain(manifest.get("domain"), domains, source.default_domain).pk,
                **{k: manifest[k] for k in MANIFEST_FIELDS if k in manifest},
            )
            if manifest.get("source_url"):
                desired["source_url"] = manifest["source_url"]
            tag_wishes[remote.name] = manifest.get("tags", [])
            manifest_owners[remote.name] = manifest.get("owners", [])
            declared[remote.name] = manifest.get("datasets", [])
        else:
            desired["registry_tags"] = remote.tags
            desired["source_url"] = _model_url(source, remote.name)
            if model is None or model.manifest_source_id is None:
                desired["description"] = remote.description
                if model is None or remote.tags.get(DOMAIN_TAG):
                    desired["domain_id"] = _resolve_domain(
                        remote.tags.get(DOMAIN_TAG), domains, source.default_domain
                    ).pk
        if model is None:
            model = RegisteredModel(name=remote.name, source=source, lifecycle=Lifecycle.EXPERIMENTAL)
            for k, v in desired.items():
                setattr(model, k, v)
            to_create.append(model)
        elif any(getattr(model, k) != v for k, v in desired.items()):
            for k, v in desired.items():
                setattr(model, k, v)
            to_update.append(model)
        else:
            counts.unchanged += 1
        mine[remote.name] = model
    RegisteredModel.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        now = timezone.now()
        for m in to_update:
            m.updated_at = now
        RegisteredModel.objects.bulk_update(to_update, MODEL_UPDATE_FIELDS, batch_size=BATCH_SIZE)
    counts.created += len(to_create)
    counts.updated += len(to_update)
    counts.touched_models.update(m.pk for m in to_create + to_update)
    if is_manifest:
        _apply_tags({n: mine[n] for n in tag_wishes}, tag_wishes, counts)
        _apply_owners(mine, manifest_owners, snapshot, counts)
        _apply_declared_datasets(mine, declared, counts)
        _apply_manifest_scripts(mine, snapshot)
    return mine


def _apply_manifest_scripts(models: dict[str, RegisteredModel], snapshot: Snapshot) -> None:
    """Scripts kept next to a manifest become the model's verification scripts (through catalog.hooks, so
    the catalog does not import governance); what cannot be stored is reported, the sync goes on."""
    from .. import hooks

    for remote in snapshot.models:
        scripts = (remote.manifest or {}).get("verification")
        if scripts and remote.name in models:
            for reason in hooks.manifest_scripts(model=models[remote.name], scripts=scripts):
                snapshot.problems.append(_problem(remote.name, reason))


def _apply_declared_datasets(models, declared: dict[str, list[dict]], counts: Counts) -> None:
    uris = {d["uri"] for items in declared.values() for d in items}
    known = dict(Dataset.objects.filter(uri__in=uris).values_list("uri", "pk"))
    names = {d["uri"]: d.get("name") for items in declared.values() for d in items}
    missing = [
        Dataset(uri=u, name=(names[u] or u.rstrip("/").rsplit("/", 1)[-1])[:200]) for u in uris - known.keys()
    ]
    if missing:
        Dataset.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(Dataset.objects.filter(uri__in=uris).values_list("uri", "pk"))
    through = RegisteredModel.input_datasets.through
    ids = [models[n].pk for n in declared]
    current: dict[int, set[int]] = defaultdict(set)
    for model_id, dataset_id in through.objects.filter(registeredmodel_id__in=ids).values_list(
        "registeredmodel_id", "dataset_id"
    ):
        current[model_id].add(dataset_id)
    for name, items in declared.items():
        model = models[name]
        wanted = {known[d["uri"]] for d in items}
        if wanted != current.get(model.pk, set()):
            model.input_datasets.set(wanted)
            counts.touched_models.add(model.pk)


def _apply_tags(models: dict[str, RegisteredModel], wishes: dict[str, list[str]], counts: Counts) -> None:
    wanted_names = sorted({t for tags in wishes.values() for t in tags})
    Tag.objects.bulk_create([Tag(name=n) for n in wanted_names], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=wanted_names).values_list("name", "pk"))
    through = RegisteredModel.tags.through
    model_ids = [m.pk for m in models.values()]
    current: dict[int, set[int]] = defaultdict(set)
    for model_id, tag_id in through.objects.filter(registeredmodel_id__in=model_ids).values_list(
        "registeredmodel_id", "tag_id"
    ):
        current[model_id].add(tag_id)
    adds, removes = [], []
    for name, model in models.items():
        wanted = {tag_ids[t] for t in wishes.get(name, [])}
        have = current.get(model.pk, set())
        adds.extend(through(registeredmodel_id=model.pk, tag_id=t) for t in wanted - have)
        removes.extend((model.pk, t) for t in have - wanted)
        if wanted != have:
            counts.touched_models.add(model.pk)
    through.objects.bulk_create(adds, ignore_conflicts=True, batch_size=BATCH_SIZE)
    for model_id, tag_id in removes:
        through.objects.filter(registeredmodel_id=model_id, tag_id=tag_id).delete()


def _apply_owners(models, manifest_owners: dict[str, list[dict]], snapshot: Snapshot, counts: Counts) -> None:
    from django.contrib.auth import get_user_model

    usernames = {o["username"] for owners in manifest_owners.values() for o in owners}
    users = dict(get_user_model().objects.filter(username__in=usernames).values_list("username", "pk"))
    current: dict[int, set[tuple[int, str]]] = defaultdict(set)
    ids = [models[n].pk for n in manifest_owners]
    for model_id, user_id, role in ModelOwner.objects.filter(model_id__in=ids).values_list(
        "model_id", "user_id", "role"
    ):
        current[model_id].add((user_id, role))
    for name, owners in manifest_owners.items():
        model = models[name]
        wanted = set()
        for owner in owners:
            if owner["username"] not in users:
                snapshot.problems.append(
                    _problem(name, f"owner {owner['username']!r} is not a Modelhouse user")
                )
                continue
            wanted.add((users[owner["username"]], owner.get("role", OwnerRole.TECHNICAL)))
        if wanted != current.get(model.pk, set()):
            ModelOwner.objects.filter(model=model).delete()
            ModelOwner.objects.bulk_create(
                [ModelOwner(model=model, user_id=u, role=r) for u, r in sorted(wanted)]
            )
            counts.touched_models.add(model.pk)


def _problem(item: str, reason: str):
    from ..registries.base import Problem

    return Problem(item=item, reason=reason)


VERSION_FIELDS = [
    "created_at",
    "created_by",
    "status",
    "description",
    "source_uri",
    "run_id",
    "tags",
    "registry_updated_at",
    "sequence",
]
RUN_FIELDS = ["hyperparameters", "code_commit", "code_repository", "parent_run_id"]


def _apply_versions(
    source, snapshot: Snapshot, models, counts: Counts
) -> dict[tuple[str, str], ModelVersion]:
    relevant = [v for v in snapshot.versions if v.model_name in models]
    model_ids = {models[v.model_name].pk for v in relevant}
    existing: dict[tuple[int, str], ModelVersion] = {}
    for start in range(0, len(relevant), 5000):
        chunk = relevant[start : start + 5000]
        for version in ModelVersion.objects.filter(
            model_id__in=model_ids, version__in={v.version for v in chunk}
        ):
            existing[(version.model_id, version.version)] = version
    result: dict[tuple[str, str], ModelVersion] = {}
    to_create, to_update = [], []
    for remote in relevant:
        model = models[remote.model_name]
        desired = {
            "created_at": ms_to_datetime(remote.created_ms) or timezone.now(),
            "created_by": remote.created_by[:150],
            "status": remote.status,
            "description": remote.description,
            "source_uri": remote.source_uri[:1000],
            "run_id": remote.run_id[:100],
            "tags": remote.tags,
            "registry_updated_at": ms_to_datetime(remote.updated_ms),
            "sequence": int(remote.version) if remote.version.isdigit() else 0,
        }
        if remote.run_loaded:
            desired.update(
                hyperparameters=remote.hyperparameters,
                code_commit=remote.code_commit[:64],
                code_repository=remote.code_repository[:500],
                parent_run_id=remote.parent_run_id[:100],
            )
        obj = existing.get((model.pk, remote.version))
        if obj is None:
            obj = ModelVersion(model=model, version=remote.version, training_reason="manual", **desired)
            to_create.append(obj)
        elif any(getattr(obj, k) != v for k, v in desired.items()):
            for k, v in desired.items():
                setattr(obj, k, v)
            to_update.append(obj)
        else:
            counts.unchanged += 1
        result[(remote.model_name, remote.version)] = obj
    ModelVersion.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    ModelVersion.objects.bulk_update(to_update, VERSION_FIELDS + RUN_FIELDS, batch_size=BATCH_SIZE)
    counts.created += len(to_create)
    counts.updated += len(to_update)
    counts.touched_models.update(v.model_id for v in to_create + to_update)
    if to_create:
        from .. import hooks

        new_ids = [v.pk for v in to_create]
        transaction.on_commit(lambda: hooks.versions_created(new_ids))
    _link_parents(result.values())
    return result


def _link_parents(versions) -> None:
    """A version whose run's parent run produced another registered version gets that version as parent."""
    wanted = {v.parent_run_id for v in versions if v.parent_run_id}
    if not wanted:
        return
    by_run = dict(ModelVersion.objects.filter(run_id__in=wanted).values_list("run_id", "pk"))
    changed = []
    for version in versions:
        parent_id = by_run.get(version.parent_run_id) if version.parent_run_id else None
        if parent_id and parent_id != version.pk and version.parent_id != parent_id:
            version.parent_id = parent_id
            changed.append(version)
    ModelVersion.objects.bulk_update(changed, ["parent"], batch_size=BATCH_SIZE)


def _apply_run_data(snapshot: Snapshot, versions, counts: Counts) -> None:
    loaded = [
        (r, versions[(r.model_name, r.version)])
        for r in snapshot.versions
        if r.run_loaded and (r.model_name, r.version) in versions
    ]
    for start in range(0, len(loaded), BATCH_SIZE):
        batch = loaded[start : start + BATCH_SIZE]
        if _apply_metrics(batch) | _apply_datasets(batch):
            counts.touched_models.update(v.model_id for _, v in batch)


def _apply_metrics(batch) -> bool:
    ids = [v.pk for _, v in batch]
    have_points = {
        (vid, key, step): value
        for vid, key, step, value in MetricPoint.objects.filter(version_id__in=ids).values_list(
            "version_id", "key", "step", "value"
        )
    }
    have_summary = {
        (vid, key): (value, step, n)
        for vid, key, value, step, n in VersionMetric.objects.filter(version_id__in=ids).values_list(
            "version_id", "key", "value", "step", "point_count"
        )
    }
    points, summaries = [], []
    for remote, version in batch:
        latest: dict[str, tuple[int, float]] = {}
        count: dict[str, int] = defaultdict(int)
        seen = set()
        for m in remote.metrics:
            if (m.key, m.step) in seen:
                continue
            seen.add((m.key, m.step))
            count[m.key] += 1
            if m.key not in latest or m.step >= latest[m.key][0]:
                latest[m.key] = (m.step, m.value)
            if have_points.get((version.pk, m.key, m.step)) != m.value:
                points.append((version.pk, m.key[:100], m.step, m.value, ms_to_datetime(m.timestamp_ms)))
        for key, (step, value) in latest.items():
            if have_summary.get((version.pk, key)) != (value, step, count[key]):
                summaries.append((version.pk, key[:100], value, step, count[key]))
    _upsert_points(points)
    _upsert_summaries(summaries)
    return bool(points or summaries)


UPSERT_CHUNK = 5000


def _unnest_upsert(
    model, columns: list[tuple[str, str]], conflict: list[str], update: list[str], rows
) -> None:
    """PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) ON CONFLICT per chunk, with no model instances
    (building 100k+ instances was most of a large sync's apply time)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c, _ in columns)
    arrays = ", ".join(f"%s::{sql_type}[]" for _, sql_type in columns)
    sets = ", ".join(
        f"{connection.ops.quote_name(c)} = EXCLUDED.{connection.ops.quote_name(c)}" for c in update
    )
    sql = (
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_CHUNK):
            chunk = rows[start : start + UPSERT_CHUNK]
            cursor.execute(sql, [list(column) for column in zip(*chunk, strict=True)])


def _upsert_points(rows: list[tuple]) -> None:
    """rows: (version_id, key, step, value, timestamp)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _unnest_upsert(
            MetricPoint,
            [
                ("version_id", "bigint"),
                ("key", "varchar"),
                ("step", "bigint"),
                ("value", "float8"),
                ("timestamp", "timestamptz"),
            ],
            ["version_id", "key", "step"],
            ["value", "timestamp"],
            rows,
        )
        return
    MetricPoint.objects.bulk_create(
        [MetricPoint(version_id=v, key=k, step=st, value=val, timestamp=ts) for v, k, st, val, ts in rows],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["version", "key", "step"],
        update_fields=["value", "timestamp"],
    )


def _upsert_summaries(rows: list[tuple]) -> None:
    """rows: (version_id, key, value, step, point_count)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _unnest_upsert(
            VersionMetric,
            [
                ("version_id", "bigint"),
                ("key", "varchar"),
                ("value", "float8"),
                ("step", "bigint"),
                ("point_count", "integer"),
            ],
            ["version_id", "key"],
            ["value", "step", "point_count"],
            rows,
        )
        return
    VersionMetric.objects.bulk_create(
        [VersionMetric(version_id=v, key=k, value=val, step=st, point_count=n) for v, k, val, st, n in rows],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["version", "key"],
        update_fields=["value", "step", "point_count"],
    )


def _apply_datasets(batch) -> bool:
    uris = {d.uri[:1000] for remote, _ in batch for d in remote.datasets}
    known = dict(Dataset.objects.filter(uri__in=uris).values_list("uri", "pk"))
    missing = {}
    for remote, _ in batch:
        for d in remote.datasets:
            uri = d.uri[:1000]
            if uri not in known and uri not in missing:
                missing[uri] = Dataset(uri=uri, name=(d.name or uri.rstrip("/").rsplit("/", 1)[-1])[:200])
    if missing:
        Dataset.objects.bulk_create(missing.values(), ignore_conflicts=True)
        known = dict(Dataset.objects.filter(uri__in=uris).values_list("uri", "pk"))
    ids = [v.pk for _, v in batch]
    have = {
        (vid, did, role): (pk, digest)
        for pk, vid, did, role, digest in VersionDataset.objects.filter(version_id__in=ids).values_list(
            "pk", "version_id", "dataset_id", "role", "digest"
        )
    }
    wanted = {}
    for remote, version in batch:
        for d in remote.datasets:
            wanted[(version.pk, known[d.uri[:1000]], d.role)] = d.digest[:128]
    creates = [
        VersionDataset(version_id=v, dataset_id=ds, role=r, digest=dg)
        for (v, ds, r), dg in wanted.items()
        if (v, ds, r) not in have
    ]
    updates = [
        VersionDataset(pk=have[k][0], digest=dg) for k, dg in wanted.items() if k in have and have[k][1] != dg
    ]
    stale = [pk for k, (pk, _) in have.items() if k not in wanted]
    VersionDataset.objects.bulk_create(creates, batch_size=2000)
    VersionDataset.objects.bulk_update(updates, ["digest"], batch_size=2000)
    if stale:
        VersionDataset.objects.filter(pk__in=stale).delete()
    return bool(creates or updates or stale)


def _apply_aliases(source, snapshot: Snapshot, models, versions, sync_run: SyncRun, counts: Counts) -> None:
    remote_by_name = {m.name: m for m in snapshot.models if m.name in models}
    if not remote_by_name:
        return
    model_ids = {models[n].pk: n for n in remote_by_name}
    current: dict[int, dict[str, ModelAlias]] = defaultdict(dict)
    for alias in ModelAlias.objects.filter(model_id__in=model_ids).select_related("version"):
        current[alias.model_id][alias.alias] = alias
    wanted_labels = {(n, label) for n, m in remote_by_name.items() for label in m.aliases.values()}
    missing = wanted_labels - versions.keys()
    lookup = dict(versions)
    if missing:
        for v in ModelVersion.objects.filter(model_id__in=model_ids, version__in={lbl for _, lbl in missing}):
            lookup[(model_ids[v.model_id], v.version)] = v
    events, new_aliases = [], []
    for name, remote in remote_by_name.items():
        model = models[name]
        have = current.get(model.pk, {})
        for alias, label in remote.aliases.items():
            target = lookup.get((name, label))
            if target is None:
                snapshot.problems.append(_problem(name, f"alias {alias!r} points at unknown version {label}"))
                continue
            existing = have.get(alias)
            if existing is None:
                new_aliases.append(ModelAlias(model=model, alias=alias, version=target))
                events.append(
                    CatalogEvent(
                        model=model,
                        version=target,
                        source=source,
                        sync_run=sync_run,
                        kind=CatalogEventKind.ALIAS_SET,
                        alias=alias,
                        details={"version": label},
                    )
                )
            elif existing.version_id != target.pk:
                previous = existing.version.version
                existing.version = target
                existing.save(update_fields=["version", "updated_at"])
                events.append(
                    CatalogEvent(
                        model=model,
                        version=target,
                        source=source,
                        sync_run=sync_run,
                        kind=CatalogEventKind.ALIAS_MOVED,
                        alias=alias,
                        details={"from_version": previous, "to_version": label},
                    )
                )
        for alias, existing in have.items():
            if alias not in remote.aliases:
                events.append(
                    CatalogEvent(
                        model=model,
                        version=existing.version,
                        source=source,
                        sync_run=sync_run,
                        kind=CatalogEventKind.ALIAS_REMOVED,
                        alias=alias,
                        details={"version": existing.version.version},
                    )
                )
                existing.delete()
    ModelAlias.objects.bulk_create(new_aliases, batch_size=BATCH_SIZE)
    CatalogEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    counts.touched_models.update(e.model_id for e in events)


def _apply_removals(source, snapshot: Snapshot, sync_run: SyncRun, counts: Counts) -> None:
    listed_models = {m.name for m in snapshot.models}
    listed_versions = {(v.model_name, v.version) for v in snapshot.versions}
    events = []
    gone_versions = []
    candidates = (
        ModelVersion.objects.filter(model__source=source).exclude(status=VersionStatus.REMOVED)
        if snapshot.lists_versions
        else ModelVersion.objects.none()
    )
    for version in candidates.select_related("model"):
        if (version.model.name, version.version) not in listed_versions:
            gone_versions.append(version)
    for version in gone_versions:
        version.status = VersionStatus.REMOVED
        events.append(
            CatalogEvent(
                model=version.model,
                version=version,
                source=source,
                sync_run=sync_run,
                kind=CatalogEventKind.VERSION_REMOVED,
                details={"version": version.version},
            )
        )
    ModelVersion.objects.bulk_update(gone_versions, ["status"], batch_size=BATCH_SIZE)
    ModelAlias.objects.filter(version__in=gone_versions).delete()
    already = set(
        CatalogEvent.objects.filter(source=source, kind=CatalogEventKind.MODEL_REMOVED).values_list(
            "model_id", flat=True
        )
    )
    owned = Q(source=source) | Q(manifest_source=source)
    for model in RegisteredModel.objects.filter(owned).exclude(name__in=listed_models):
        if model.pk not in already:
            events.append(
                CatalogEvent(
                    model=model,
                    source=source,
                    sync_run=sync_run,
                    kind=CatalogEventKind.MODEL_REMOVED,
                    details={},
                )
            )
            counts.touched_models.add(model.pk)
    CatalogEvent.objects.bulk_create(events)
    counts.removed += len(gone_versions)
    counts.touched_models.update(v.model_id for v in gone_versions)
