"""`seed_demo --scale N`: N synthetic models with versions, metrics and lineage, through bulk inserts.

- a plan per model (`ScaleModelPlan`), drawn from a random generator seeded with the model's number;
- one function per table that yields the table's rows from the plans (`model_rows`, `version_rows`, ...);
  the per-version details (digests, hyperparameters) come from the plan's generator too, so the output
  is the same for the same numbers as long as the writers call them in the same order per model;
- two writers for the same rows. On PostgreSQL, `CopyWriter` streams them through COPY (psycopg 3
  `copy.write_row`), with model and version ids reserved from their sequences up front, so parents,
  latest_version and version_count are known while the rows are written and nothing is read back. On
  SQLite, `RowWriter` stores them in multi-row INSERT statements and ids are read back by natural key.
Each batch of models is one transaction holding its rows, its denormalised fields and its search
documents, so an interrupted run leaves only whole models behind and a re-run continues.

`ScaleShape` sets how big each model is: versions per model, metric points per version, and a few
"long" models (1,000 versions, the newest with a training curve of 20,000 steps) for chart work.
"""

import random
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import islice

from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.db.models import Count, DateTimeField, JSONField, OuterRef, Subquery
from django.db.models.functions import Length
from django.utils import timezone

from catalog.models import (
    DatasetRole,
    Lifecycle,
    MetricGoal,
    MetricPoint,
    ModelOwner,
    ModelVersion,
    OwnerRole,
    RegisteredModel,
    Tag,
    TrainingReason,
    VersionDataset,
    VersionMetric,
)
from catalog.services import model_search_refresh
from portal.roles import Role

from . import trends
from .content import ALGORITHMS, DATASETS, DOMAINS, PROFILES, TEAMS, USERS, MetricProfile
from .seed import Foundation, Progress, demo_foundation_ensure, demo_now, progress_silent

MODEL_BATCH_SIZE = 2_000  # models planned, inserted, indexed and committed together
INSERT_BATCH_SIZE = 10_000  # rows per INSERT statement (SQLite path)
VERSIONS_PER_MODEL = 10
POINTS_PER_VERSION = 10  # metric points per version: a primary curve of 9 steps and 1 secondary point
TRAINING_STEPS = 30  # the primary metric's curve spans steps 0..29 (or more when it has more points)
HISTORY_DAYS = 540
SCALE_PREFIX = "scale-model-"

# Which kinds of model each demo domain has (a fraud team does not forecast store demand).
DOMAIN_PROFILES = {
    "PERS": ("ndcg", "recall", "auc"),
    "DEMAND": ("rmse", "mape", "mape"),
    "RISK": ("fraud_auc", "fraud_auc", "auc"),
    "MKT": ("auc", "auc", "mape"),
    "SUPPLY": ("mae", "rmse", "auc"),
}
PROFILE_FAMILY = {
    "auc": ("classification", "gbm"),
    "fraud_auc": ("fraud", "gbm"),
    "ndcg": ("ranking", "lambdamart"),
    "recall": ("recommendations", "two_tower"),
    "rmse": ("forecasting", "forecast_gbm"),
    "mape": ("forecasting", "prophet"),
    "mae": ("regression", "gbm"),
}
LIFECYCLES = (Lifecycle.EXPERIMENTAL, Lifecycle.STAGING, Lifecycle.PRODUCTION, Lifecycle.DEPRECATED)
LIFECYCLE_WEIGHTS = (3, 2, 4, 1)
CADENCES = (None, 7, 30, 30, 90)
RETRAIN_REASONS = (TrainingReason.MANUAL, TrainingReason.MANUAL, TrainingReason.DRIFT)
WRITERS = tuple(u.username for u in USERS if u.role in (Role.SCIENTIST, Role.ENGINEER))
STAGES = ("models", "owners", "tags", "versions", "metrics", "metric_points", "dataset_links", "search")


@dataclass(frozen=True)
class ScaleShape:
    """How big each synthetic model is. The default at --scale 100000: 1M versions, 10M metric points."""

    versions_per_model: int = VERSIONS_PER_MODEL
    points_per_version: int = POINTS_PER_VERSION
    long_models: int = 0  # the first this many models of a run get long_versions versions instead
    long_versions: int = 1_000
    long_points: int = 20_000  # steps in the primary curve of a long model's newest version

    def __post_init__(self):
        if self.versions_per_model < 1 or self.long_versions < 1:
            raise ValueError("A model needs at least one version.")
        if self.points_per_version < 2 or self.long_points < 1:
            raise ValueError("A version needs at least 2 metric points (primary curve and secondary).")
        if self.long_models < 0:
            raise ValueError("long_models is a number of models, 0 or more.")


@dataclass(frozen=True)
class ScaleResult:
    models: int
    versions: int
    metrics: int
    metric_points: int
    dataset_links: int
    seconds: float
    first: str = ""
    last: str = ""
    stage_seconds: dict = field(default_factory=dict)  # time per table (COPY path: generation included)
    writer: str = ""


@dataclass
class ScaleModelPlan:
    number: int
    rng: random.Random
    domain_id: int
    domain_name: str
    team_id: int
    team_name: str
    profile: MetricProfile
    family: str
    algorithm: str
    lifecycle: str
    cadence: int | None
    owners: list[tuple[int, str, str]]  # (user id, user name, owner role)
    trained_at: list[datetime]  # oldest first
    reasons: list[TrainingReason]
    primary: list[float]
    secondary: list[float]
    train_dataset_id: int
    eval_dataset_id: int
    steps: tuple[int, ...]  # the primary curve's steps on every version...
    newest_steps: tuple[int, ...]  # ...but the newest, which a long model logs in full
    model_id: int | None = None
    version_ids: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return scale_model_name(self.number)

    @property
    def versions(self) -> int:
        return len(self.trained_at)

    def primary_steps(self, index: int) -> tuple[int, ...]:
        return self.newest_steps if index == self.versions - 1 else self.steps


def scale_model_name(number: int) -> str:
    return f"{SCALE_PREFIX}{number:06d}"


def primary_steps(count: int) -> tuple[int, ...]:
    """`count` steps spread over a training run of TRAINING_STEPS steps (or `count`, if longer)."""
    last = max(TRAINING_STEPS, count) - 1
    if count == 1:
        return (last,)
    return tuple(round(i * last / (count - 1)) for i in range(count))


def demo_scale_generate(
    *,
    count: int,
    shape: ScaleShape | None = None,
    progress: Progress = progress_silent,
    now: datetime | None = None,
) -> ScaleResult:
    """Add `count` synthetic models named scale-model-NNNNNN, numbered on from the highest existing one,
    each with `shape.versions_per_model` versions, final metrics, metric points and dataset links.

    Creates the demo users, domains, teams and datasets first if they are missing. Denormalised fields
    (latest_version, version_count, next_retrain_due) and search documents are set like the services do.
    PostgreSQL goes through COPY; other databases through multi-row INSERT.
    """
    shape = shape or ScaleShape()
    now = now or demo_now()
    started = time.monotonic()
    with transaction.atomic():
        foundation = demo_foundation_ensure(now=now, progress=progress)
    next_number = _next_scale_number()
    use_copy = connection.vendor == "postgresql"
    inserting = time.monotonic()
    totals = dict.fromkeys(("models", "versions", "metrics", "metric_points", "dataset_links"), 0)
    stage_seconds: dict[str, float] = defaultdict(float)
    first = last = ""
    long_left = shape.long_models
    batch_size = MODEL_BATCH_SIZE
    while totals["models"] < count:
        size = min(batch_size, count - totals["models"])
        numbers = range(next_number, next_number + size)
        next_number += size
        long_numbers = set(numbers[: min(long_left, size)])
        long_left -= len(long_numbers)
        with transaction.atomic():
            if use_copy:
                written = _batch_copy(numbers, long_numbers, foundation, now, shape, stage_seconds)
            else:
                written = _batch_write(numbers, long_numbers, foundation, now, shape, stage_seconds)
            committing = time.monotonic()
        stage_seconds["commit"] += time.monotonic() - committing
        if written["models"]:
            first = first or scale_model_name(numbers[0])
            last = scale_model_name(numbers[-1])
        for key, value in written.items():
            totals[key] += value
        if settings.DEBUG and not connection.force_debug_cursor:
            # DEBUG keeps every statement's SQL (megabytes per batch here); nobody is counting, so drop it
            # as Django does after each request.
            reset_queries()
        elapsed = max(time.monotonic() - inserting, 1e-6)
        progress(
            f"Scale models [{totals['models']:,}/{count:,}] {totals['models'] / elapsed:,.0f} models/s, "
            f"{totals['versions']:,} versions, {totals['metric_points']:,} points, {elapsed:,.1f}s"
        )
    return ScaleResult(
        **totals,
        seconds=time.monotonic() - started,
        first=first,
        last=last,
        stage_seconds=dict(stage_seconds),
        writer="COPY" if use_copy else "INSERT",
    )


class _Stage:
    """Adds the time spent in a `with` block to stage_seconds[name]."""

    def __init__(self, stage_seconds: dict, name: str):
        self.stage_seconds, self.name = stage_seconds, name

    def __enter__(self):
        self.started = time.monotonic()

    def __exit__(self, *exc):
        self.stage_seconds[self.name] += time.monotonic() - self.started


def _plans(numbers, long_numbers, foundation, now, shape) -> list[ScaleModelPlan]:
    taken = set(
        RegisteredModel.objects.filter(name__in=[scale_model_name(n) for n in numbers]).values_list(
            "name", flat=True
        )
    )
    return [
        _plan(n, foundation, now, shape, is_long=n in long_numbers)
        for n in numbers
        if scale_model_name(n) not in taken
    ]


def _batch_copy(numbers, long_numbers, foundation, now, shape, stage_seconds) -> dict[str, int]:
    """One batch through COPY (PostgreSQL): ids reserved first, every row written once, nothing read back."""
    with _Stage(stage_seconds, "plan"):
        plans = _plans(numbers, long_numbers, foundation, now, shape)
    if not plans:
        return {"models": 0}
    with connection.cursor() as cursor:
        # A crash loses at most the last batches' commits, never consistency; the tables stay logged.
        cursor.execute("SET LOCAL synchronous_commit = off")
        skip_checks = _can_skip_fk_checks(cursor)
        if skip_checks:
            # Every foreign key written here points at a demo row that exists or at an id reserved for
            # this very batch, so the per-row checks (deferred to COMMIT, a third of the load time at 10M
            # points) prove nothing; pg_restore --disable-triggers skips them the same way.
            cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        return _batch_copy_rows(plans, foundation, stage_seconds)
    finally:
        if skip_checks:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _can_skip_fk_checks(cursor) -> bool:
    """Only a superuser may set session_replication_role; anyone else gets the checks."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


def _batch_copy_rows(plans, foundation, stage_seconds) -> dict[str, int]:
    model_ids = _reserve_ids(RegisteredModel, len(plans))
    version_ids = iter(_reserve_ids(ModelVersion, sum(p.versions for p in plans)))
    for plan, model_id in zip(plans, model_ids, strict=True):
        plan.model_id = model_id
        plan.version_ids = list(islice(version_ids, plan.versions))
    stage = partial(_Stage, stage_seconds)
    with stage("models"):
        # Through a staging table, so the tsvector is computed as the rows go in: an UPDATE afterwards
        # would write every model row (and its dozen index entries) twice.
        documents = {p.model_id: _search_document(p, foundation) for p in plans}
        stage_table = _model_stage_table()
        CopyWriter(
            RegisteredModel,
            ("id", *MODEL_FIELDS, "latest_version", "version_count", "search_document"),
            table=stage_table,
        ).write(
            (p.model_id, *row, p.version_ids[-1], p.versions, documents[p.model_id])
            for p, row in zip(plans, model_rows(plans), strict=True)
        )
        _model_stage_flush(stage_table)
    with stage("owners"):
        CopyWriter(ModelOwner, OWNER_FIELDS).write(owner_rows(plans))
    with stage("tags"):
        CopyWriter(RegisteredModel.tags.through, TAG_FIELDS).write(tag_rows(plans, _tag_ids(plans)))
    with stage("versions"):
        versions = CopyWriter(ModelVersion, ("id", *VERSION_FIELDS)).write(
            (p.version_ids[level - 1], *row)
            for p in plans
            for level, row in zip(range(1, p.versions + 1), version_rows([p]), strict=True)
        )
    with stage("metrics"):
        metrics = CopyWriter(VersionMetric, METRIC_FIELDS).write(metric_rows(plans))
    with stage("metric_points"):
        points = CopyWriter(MetricPoint, POINT_FIELDS).write(point_rows(plans))
    with stage("dataset_links"):
        links = CopyWriter(VersionDataset, LINK_FIELDS).write(dataset_link_rows(plans))
    return {
        "models": len(plans),
        "versions": versions,
        "metrics": metrics,
        "metric_points": points,
        "dataset_links": links,
    }


def _batch_write(numbers, long_numbers, foundation, now, shape, stage_seconds) -> dict[str, int]:
    plans = _plans(numbers, long_numbers, foundation, now, shape)
    if not plans:
        return {"models": 0}
    stage = partial(_Stage, stage_seconds)
    # Ids are read back rather than RETURNed: the rows are the same ones the COPY writer takes.
    with stage("models"):
        _write(RegisteredModel, MODEL_FIELDS, model_rows(plans))
        for plan, model_id in zip(plans, _model_ids(plans), strict=True):
            plan.model_id = model_id
    with stage("owners"):
        _write(ModelOwner, OWNER_FIELDS, owner_rows(plans))
    with stage("tags"):
        _write(RegisteredModel.tags.through, TAG_FIELDS, tag_rows(plans, _tag_ids(plans)))
    # Level by level, so each version's parent (the previous level) already has an id when it is inserted.
    versions = 0
    with stage("versions"):
        rows = {p.model_id: version_rows([p]) for p in plans}
        for level in range(1, max(p.versions for p in plans) + 1):
            present = [p for p in plans if p.versions >= level]
            versions += _write(ModelVersion, VERSION_FIELDS, (next(rows[p.model_id]) for p in present))
            for plan, version_id in zip(present, _version_ids(present, level), strict=True):
                plan.version_ids.append(version_id)
    with stage("metrics"):
        metrics = _write(VersionMetric, METRIC_FIELDS, metric_rows(plans))
    with stage("metric_points"):
        points = _write(MetricPoint, POINT_FIELDS, point_rows(plans))
    with stage("dataset_links"):
        links = _write(VersionDataset, LINK_FIELDS, dataset_link_rows(plans))
    with stage("search"):
        _version_stats_refresh([p.model_id for p in plans])
        model_search_refresh(model_ids=[p.model_id for p in plans])
    return {
        "models": len(plans),
        "versions": versions,
        "metrics": metrics,
        "metric_points": points,
        "dataset_links": links,
    }


# --- Plans -----------------------------------------------------------------------------------------


def _plan(number: int, foundation: Foundation, now: datetime, shape: ScaleShape, *, is_long: bool = False):
    rng = random.Random(number)
    count = shape.long_versions if is_long else shape.versions_per_model
    domain_spec = DOMAINS[number % len(DOMAINS)]
    domain = foundation.domains[domain_spec.key]
    teams = [t.name for t in TEAMS if t.domain == domain_spec.key]
    team = foundation.teams[teams[(number // len(DOMAINS)) % len(teams)]]
    profile_key = rng.choice(DOMAIN_PROFILES.get(domain_spec.key, ("auc",)))
    profile = PROFILES[profile_key]
    family, algorithm = PROFILE_FAMILY[profile_key]
    cadence = rng.choice(CADENCES)

    # Newest training first: inside its cadence for most models, overdue for about one in four.
    age = rng.uniform(0.05, 1.3) * cadence if cadence else rng.uniform(1, 60)
    spacing = min(cadence or rng.uniform(20, 50), HISTORY_DAYS / count)
    ages = []
    for _ in range(count):
        ages.append(age)
        age += spacing * rng.uniform(0.8, 1.2)
    trained_at = [now - timedelta(days=a) for a in reversed(ages)]
    reasons = [TrainingReason.INITIAL] + [
        TrainingReason.SCHEDULED if cadence and rng.random() < 0.8 else rng.choice(RETRAIN_REASONS)
        for _ in range(count - 1)
    ]
    maturity = trends.version_progress(count, rng)

    technical = foundation.users[rng.choice(WRITERS)]
    owners = [(technical.pk, technical.username, OwnerRole.TECHNICAL)]
    if rng.random() < 0.4:
        business = foundation.users["maria"]
        owners.append((business.pk, business.username, OwnerRole.BUSINESS))
    pool = [foundation.datasets[d.slug].pk for d in DATASETS if d.domain == domain_spec.key]
    train = rng.choice(pool)
    steps = primary_steps(shape.points_per_version - 1)
    return ScaleModelPlan(
        number=number,
        rng=rng,
        domain_id=domain.pk,
        domain_name=domain.name,
        team_id=team.pk,
        team_name=team.name,
        profile=profile,
        family=family,
        algorithm=algorithm,
        lifecycle=rng.choices(LIFECYCLES, LIFECYCLE_WEIGHTS)[0],
        cadence=cadence,
        owners=owners,
        trained_at=trained_at,
        reasons=reasons,
        primary=trends.metric_values(profile.primary, maturity, rng),
        secondary=trends.metric_values(profile.secondaries[0], maturity, rng),
        train_dataset_id=train,
        eval_dataset_id=rng.choice([d for d in pool if d != train] or pool),
        steps=steps,
        newest_steps=primary_steps(shape.long_points) if is_long else steps,
    )


def _search_document(plan: ScaleModelPlan, foundation: Foundation) -> str:
    """What catalog.services.search builds for the model (name, description, tags, owners, domain, team),
    from the plan instead of the database; the tsvector is then made from it in SQL."""
    owners = []
    for _, username, _ in sorted(plan.owners, key=lambda o: (o[2], o[1])):
        user = foundation.users[username]
        owners.append(" ".join(filter(None, [username, user.get_full_name()])))
    description = _description(plan)
    parts = [
        plan.name,
        description,
        " ".join(sorted({"scale", plan.family})),
        " ".join(owners),
        plan.domain_name,
        plan.team_name,
    ]
    return "\n".join(p for p in parts if p)


# --- Rows, one function per table ------------------------------------------------------------------
# Each yields tuples holding the values of its *_FIELDS in order; every other column takes its default.

MODEL_FIELDS = (
    "name",
    "domain_id",
    "team_id",
    "description",
    "lifecycle",
    "intended_use",
    "limitations",
    "ethical_considerations",
    "primary_metric",
    "primary_metric_goal",
    "retrain_every_days",
    "next_retrain_due",
)


def _description(p: ScaleModelPlan) -> str:
    return (
        f"Synthetic {p.family} model for load tests in *{p.domain_name}*. "
        f"Primary metric `{p.profile.primary.key}`."
    )


def model_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    for p in plans:
        rng = p.rng
        yield (
            p.name,
            p.domain_id,
            p.team_id,
            _description(p),
            p.lifecycle,
            "Load and performance testing." if rng.random() < 0.7 else "",
            "Synthetic data; numbers mean nothing." if rng.random() < 0.5 else "",
            "No personal data is scored." if rng.random() < 0.4 else "",
            p.profile.primary.key,
            p.profile.goal,
            p.cadence,
            # True by construction: the newest training plus the cadence (model_refresh_version_stats).
            p.trained_at[-1] + timedelta(days=p.cadence) if p.cadence else None,
        )


OWNER_FIELDS = ("model_id", "user_id", "role")


def owner_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    for p in plans:
        for user_id, _, role in p.owners:
            yield (p.model_id, user_id, role)


TAG_FIELDS = ("registeredmodel_id", "tag_id")


def tag_rows(plans: list[ScaleModelPlan], tag_ids: dict[str, int]) -> Iterator[tuple]:
    for p in plans:
        yield (p.model_id, tag_ids["scale"])
        yield (p.model_id, tag_ids[p.family])


VERSION_FIELDS = (
    "model_id",
    "version",
    "sequence",
    "created_at",
    "created_by",
    "description",
    "source_uri",
    "run_id",
    "code_commit",
    "code_repository",
    "hyperparameters",
    "parent_id",
    "artifact_digest",
    "training_reason",
)


def version_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    """Every version of each planned model, oldest first; a version's parent is the model's previous one.

    Parents are read from plan.version_ids, so a caller either fills them in advance (COPY) or appends
    each level's ids before asking for the next (INSERT, reading ids back)."""
    for p in plans:
        rng = p.rng
        base = ALGORITHMS[p.algorithm]
        repository = f"https://git.modelhouse.example/scale/{p.name}"
        created_by = p.owners[0][1]
        for i in range(p.versions):
            run_id = trends.hexdigest(rng, 128)
            yield (
                p.model_id,
                str(i + 1),
                i + 1,
                p.trained_at[i],
                created_by,
                f"{p.reasons[i].label}.",
                f"mlflow-artifacts:/{p.number}/{run_id}/artifacts/model",
                run_id,
                trends.hexdigest(rng, 160),
                repository,
                trends.nudge_hyperparameters(base, rng),
                p.version_ids[i - 1] if i else None,
                f"sha256:{trends.hexdigest(rng, 256)}",
                p.reasons[i].value,
            )


METRIC_FIELDS = ("version_id", "key", "value", "step", "point_count")


def metric_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    """The final value of each version's primary metric (the last point of its curve) and one secondary."""
    for p in plans:
        primary_key, secondary_key = p.profile.primary.key, p.profile.secondaries[0].key
        for i, version_id in enumerate(p.version_ids):
            steps = p.primary_steps(i)
            yield (version_id, primary_key, p.primary[i], steps[-1], len(steps))
            yield (version_id, secondary_key, p.secondary[i], steps[-1], 1)


POINT_FIELDS = ("version_id", "key", "step", "value", "timestamp")


def _curve(steps: tuple[int, ...], start_factor: float, end: datetime) -> list[tuple[int, float, datetime]]:
    """(step, factor, timestamp) per step: the value is final * factor, ending at exactly final."""
    last = steps[-1] or 1
    wiggle = len(steps) > 1_000  # long series get a visible ripple, so downsampling has shape to keep
    curve = []
    for n, step in enumerate(steps):
        share = 1 - step / last  # 1 at the first step, 0 at the last
        factor = 1 + (start_factor - 1) * share**2
        if wiggle and n < len(steps) - 1:
            factor += 0.01 * share * ((step * 7919) % 101 - 50) / 50
        curve.append((step, factor, end - timedelta(minutes=last - step)))
    return curve


def point_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    """Each version's primary curve ending at its final value, and the secondary's one point."""
    for p in plans:
        start_factor = 0.8 if p.profile.goal == MetricGoal.MAXIMIZE else 1.6
        primary_key, secondary_key = p.profile.primary.key, p.profile.secondaries[0].key
        offsets = [
            (step, factor, timedelta(minutes=p.steps[-1] - step))
            for step, factor, _ in _curve(p.steps, start_factor, p.trained_at[0])
        ]
        for i, version_id in enumerate(p.version_ids):
            final, end = p.primary[i], p.trained_at[i]
            if p.primary_steps(i) is p.steps:
                for step, factor, back in offsets:
                    yield (version_id, primary_key, step, round(final * factor, 5), end - back)
            else:
                for step, factor, at in _curve(p.primary_steps(i), start_factor, end):
                    yield (version_id, primary_key, step, round(final * factor, 5), at)
            yield (version_id, secondary_key, p.primary_steps(i)[-1], p.secondary[i], end)


LINK_FIELDS = ("version_id", "dataset_id", "role", "digest")


def dataset_link_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    for p in plans:
        rng = p.rng
        for version_id in p.version_ids:
            yield (version_id, p.train_dataset_id, TRAINING, f"sha256:{trends.hexdigest(rng, 256)}")
            yield (version_id, p.eval_dataset_id, EVALUATION, f"sha256:{trends.hexdigest(rng, 256)}")


TRAINING, EVALUATION = DatasetRole.TRAINING.value, DatasetRole.EVALUATION.value


# --- Writing ---------------------------------------------------------------------------------------


def _other_columns(meta, given):
    """Concrete columns not in `given` (the primary key aside, unless given) with the value each row gets:
    the model default, or now for auto_now fields, so a column added later with a default needs no change."""
    attnames = {f.attname for f in given}
    others = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in attnames]
    now = timezone.now()
    return others, [now if _is_auto_now(f) else f.get_default() for f in others]


class CopyWriter:
    """Streams tuples into one model's table with PostgreSQL binary COPY (psycopg 3 write_row).

    Rows hold the values of `fields` in order (include "id" to give explicit ids); every other concrete
    column gets its model default. Binary, so the server parses no text: timestamps and floats were most
    of its work on the metric points in text format. JSON values go as Python objects (jsonb dumper)."""

    def __init__(self, model, fields: tuple[str, ...], *, table: str = ""):
        meta = model._meta
        given = [meta.pk if name == "id" else meta.get_field(name) for name in fields]
        others, defaults = _other_columns(meta, given)
        # Columns left NULL are left out: the table gives them NULL (and tsvector has no binary dumper).
        kept = [
            (f, value) for f, value in zip(others, defaults, strict=True) if value is not None or not f.null
        ]
        others, self.tail = [f for f, _ in kept], tuple(value for _, value in kept)
        # "varchar(100)" -> "varchar": the binary dumpers are chosen by type, whatever the length.
        self.types = [re.sub(r"\(.*\)", "", f.db_type(connection)).strip() for f in given + others]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in given + others)
        self.sql = f"COPY {quote(table or meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"

    def write(self, rows: Iterable[tuple]) -> int:
        count = 0
        tail = self.tail
        with connection.cursor() as cursor, cursor.cursor.copy(self.sql) as copy:
            copy.set_types(self.types)
            write_row = copy.write_row
            for row in rows:
                write_row(row + tail)
                count += 1
        return count


class RowWriter:
    """Inserts tuples into one model's table, many rows per statement (SQLite, or any database).

    Rows hold the values of `fields` in order; every other concrete column gets its model default (or
    now, for auto_now fields). Datetimes and JSON are adapted per backend as the ORM does. This skips
    bulk_create's per-value compilation (~13 us a value). Statements: multi-row VALUES on SQLite;
    INSERT ... SELECT FROM UNNEST(arrays) on PostgreSQL, one parameter per column, since psycopg parses
    a query with 50,000 placeholders slowly.
    """

    def __init__(self, model, fields: tuple[str, ...]):
        meta = model._meta
        given = [meta.get_field(name) for name in fields]
        others, defaults = _other_columns(meta, given)
        self.adapters = [(i, adapter) for i, f in enumerate(given) if (adapter := _adapter(f))]
        self.tail = [f.get_db_prep_save(value, connection) for f, value in zip(others, defaults, strict=True)]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in given + others)
        self.head = f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        self.unnest = connection.vendor == "postgresql"
        if self.unnest:
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in given)
            constants = "".join(f", %s::{f.db_type(connection)}" for f in others)
            self.head += f"SELECT *{constants} FROM UNNEST({arrays})"
            self.rows_per_statement = INSERT_BATCH_SIZE
        else:
            self.placeholder = "(" + ", ".join(["%s"] * (len(given) + len(others))) + ")"
            self.rows_per_statement = max(
                1, min(INSERT_BATCH_SIZE, _param_limit() // (len(given) + len(others)))
            )

    def write(self, rows: Iterable[tuple]) -> int:
        count = 0
        rows = iter(rows)
        with connection.cursor() as cursor:
            while chunk := list(islice(rows, self.rows_per_statement)):
                if self.adapters:
                    chunk = [self._adapt(row) for row in chunk]
                if self.unnest:
                    # The constants come first in the statement, the column arrays after them.
                    arrays = [list(column) for column in zip(*chunk, strict=True)]
                    cursor.execute(self.head, self.tail + arrays)
                else:
                    params = []
                    for row in chunk:
                        params.extend(row)
                        params.extend(self.tail)
                    cursor.execute(self.head + "VALUES " + ", ".join([self.placeholder] * len(chunk)), params)
                count += len(chunk)
        return count

    def _adapt(self, row: tuple) -> list:
        row = list(row)
        for i, adapt in self.adapters:
            row[i] = adapt(row[i])
        return row


def _adapter(field):
    if isinstance(field, DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, JSONField):
        return partial(field.get_db_prep_save, connection=connection)
    return None


def _is_auto_now(field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _param_limit() -> int:
    """Most values one statement may carry: SQLite's compiled-in limit (Django 5.2 assumes 999, far below
    the 32,766+ of the SQLite versions it supports; Django 6.0 asks SQLite too, ticket #36143)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65_535


def _write(model, fields: tuple[str, ...], rows: Iterable[tuple]) -> int:
    return RowWriter(model, fields).write(rows)


MODEL_STAGE_TABLE = "scale_model_stage"


def _model_stage_table() -> str:
    """A temporary table shaped like the model table (emptied at each commit)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(MODEL_STAGE_TABLE)} "
            f"(LIKE {quote(RegisteredModel._meta.db_table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    return MODEL_STAGE_TABLE


def _model_stage_flush(table: str) -> None:
    """Moves the staged model rows into the model table with their tsvector, as model_search_refresh
    makes it (catalog.search.search_vector_expression: name weighted A, the search document B)."""
    quote = connection.ops.quote_name
    columns = [f.column for f in RegisteredModel._meta.concrete_fields]
    vector = RegisteredModel._meta.get_field("search_vector").column
    values = [
        "setweight(to_tsvector('simple'::regconfig, COALESCE(name, '')), 'A') || "
        "setweight(to_tsvector('simple'::regconfig, COALESCE(search_document, '')), 'B')"
        if column == vector
        else quote(column)
        for column in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(RegisteredModel._meta.db_table)} ({', '.join(map(quote, columns))}) "
            f"SELECT {', '.join(values)} FROM {quote(table)} ORDER BY {quote('id')}"
        )
        cursor.execute(f"DELETE FROM {quote(table)}")


def _reserve_ids(model, count: int) -> range:
    """`count` consecutive ids taken from the table's sequence in one statement (PostgreSQL). Seeding is
    the only writer while it runs; a concurrent insert between nextval and setval would take an id from
    the range and one COPY would then fail on the primary key, rolling its batch back."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), nextval(pg_get_serial_sequence(%s, 'id')) + %s)",
            [table, table, count - 1],
        )
        last = cursor.fetchone()[0]
    return range(last - count + 1, last + 1)


def _model_ids(plans: list[ScaleModelPlan]) -> list[int]:
    ids = dict(RegisteredModel.objects.filter(name__in=[p.name for p in plans]).values_list("name", "id"))
    return [ids[p.name] for p in plans]


def _version_ids(plans: list[ScaleModelPlan], level: int) -> list[int]:
    ids = dict(
        ModelVersion.objects.filter(model_id__in=[p.model_id for p in plans], sequence=level).values_list(
            "model_id", "id"
        )
    )
    return [ids[p.model_id] for p in plans]


def _tag_ids(plans: list[ScaleModelPlan]) -> dict[str, int]:
    names = {"scale"} | {p.family for p in plans}
    Tag.objects.bulk_create([Tag(name=n) for n in sorted(names)], ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


def _version_stats_refresh(model_ids: list[int]) -> None:
    """latest_version and version_count from the versions table, for many models in one UPDATE."""
    versions = ModelVersion.objects.filter(model=OuterRef("pk"))
    RegisteredModel.objects.filter(id__in=model_ids).update(
        latest_version=Subquery(versions.order_by("-sequence", "-id").values("id")[:1]),
        version_count=Subquery(versions.order_by().values("model").annotate(n=Count("id")).values("n")),
    )


def scale_analyze() -> None:
    """ANALYZE the tables a scale run filled, so the planner knows their new sizes, and VACUUM the model
    table (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    tables = [
        m._meta.db_table
        for m in (
            RegisteredModel,
            ModelOwner,
            RegisteredModel.tags.through,
            ModelVersion,
            VersionMetric,
            MetricPoint,
            VersionDataset,
        )
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        if not connection.in_atomic_block:
            # The search_vector UPDATE left a dead copy of every model row; VACUUM clears them and sets the
            # visibility map, so counts per domain and lifecycle are read from the index alone.
            cursor.execute(f"VACUUM {connection.ops.quote_name(RegisteredModel._meta.db_table)}")


def _next_scale_number() -> int:
    """One past the highest scale-model-N (compared as numbers: longer names are higher)."""
    name = (
        RegisteredModel.objects.filter(name__regex=rf"^{SCALE_PREFIX}[0-9]+$")
        .order_by(Length("name").desc(), "-name")
        .values_list("name", flat=True)
        .first()
    )
    return int(name.removeprefix(SCALE_PREFIX)) + 1 if name else 1
