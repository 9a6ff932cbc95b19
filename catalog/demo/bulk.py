"""`seed_demo --scale N`: N synthetic models with versions, metrics and lineage, through bulk inserts.

Laid out so the path can grow (COPY on PostgreSQL for 100k+ models):
- a plan per model (`ScaleModelPlan`), drawn from a random generator seeded with the model's number;
- one function per table that yields the table's rows from the plans (`model_rows`, `version_rows`, ...);
  the per-version details (digests, hyperparameters) come from the plan's generator too, so the output
  is the same for the same numbers as long as `_batch_write` calls them in the same order;
- `RowWriter`, which stores rows in multi-row INSERT statements of up to INSERT_BATCH_SIZE rows; ids are
  read back by natural key (`_model_ids`, `_version_ids`), so a COPY writer can replace it as it is.
Each batch of MODEL_BATCH_SIZE models is one transaction holding its rows, its denormalised fields and
its search documents, so an interrupted run leaves only whole models behind and a re-run continues.
"""

import random
import sqlite3
import time
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
INSERT_BATCH_SIZE = 10_000  # rows per INSERT statement
VERSIONS_PER_MODEL = 10
TRAINING_STEPS = 30  # the primary metric is logged at steps 0, 15 and 29
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


@dataclass
class ScaleModelPlan:
    number: int
    rng: random.Random
    domain_id: int
    domain_name: str
    team_id: int
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
    model_id: int | None = None
    version_ids: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return scale_model_name(self.number)


def scale_model_name(number: int) -> str:
    return f"{SCALE_PREFIX}{number:06d}"


def demo_scale_generate(
    *, count: int, progress: Progress = progress_silent, now: datetime | None = None
) -> ScaleResult:
    """Add `count` synthetic models named scale-model-NNNNNN, numbered on from the highest existing one,
    each with VERSIONS_PER_MODEL versions, final metrics, a few metric points and dataset links.

    Creates the demo users, domains, teams and datasets first if they are missing. Denormalised fields
    (latest_version, version_count, next_retrain_due) and search documents are set like the services do.
    """
    now = now or demo_now()
    started = time.monotonic()
    with transaction.atomic():
        foundation = demo_foundation_ensure(now=now, progress=progress)
    next_number = _next_scale_number()
    inserting = time.monotonic()
    totals = dict.fromkeys(("models", "versions", "metrics", "metric_points", "dataset_links"), 0)
    first = last = ""
    while totals["models"] < count:
        size = min(MODEL_BATCH_SIZE, count - totals["models"])
        numbers = range(next_number, next_number + size)
        next_number += size
        with transaction.atomic():
            written = _batch_write(numbers, foundation, now)
        if written["models"]:
            first = first or scale_model_name(numbers[0])
            last = scale_model_name(numbers[-1])
        for key, value in written.items():
            totals[key] += value
        if settings.DEBUG and not connection.force_debug_cursor:
            # DEBUG keeps every statement's SQL (megabytes per batch here); nobody is counting, so drop it
            # as Django does after each request.
            reset_queries()
        rate = totals["models"] / max(time.monotonic() - inserting, 1e-6)
        progress(f"Scale models [{totals['models']:,}/{count:,}] {rate:,.0f} models/s")
    return ScaleResult(**totals, seconds=time.monotonic() - started, first=first, last=last)


def _batch_write(numbers: range, foundation: Foundation, now: datetime) -> dict[str, int]:
    taken = set(
        RegisteredModel.objects.filter(name__in=[scale_model_name(n) for n in numbers]).values_list(
            "name", flat=True
        )
    )
    plans = [_plan(n, foundation, now) for n in numbers if scale_model_name(n) not in taken]
    if not plans:
        return {"models": 0}
    # Ids are read back rather than RETURNed: the same code then serves a COPY writer.
    _write(RegisteredModel, MODEL_FIELDS, model_rows(plans))
    for plan, model_id in zip(plans, _model_ids(plans), strict=True):
        plan.model_id = model_id
    _write(ModelOwner, OWNER_FIELDS, owner_rows(plans))
    _write(RegisteredModel.tags.through, TAG_FIELDS, tag_rows(plans, _tag_ids(plans)))
    # Level by level, so each version's parent (the previous level) already has an id when it is inserted.
    versions = 0
    for level in range(1, VERSIONS_PER_MODEL + 1):
        versions += _write(ModelVersion, VERSION_FIELDS, version_rows(plans, level))
        for plan, version_id in zip(plans, _version_ids(plans, level), strict=True):
            plan.version_ids.append(version_id)
    written = {
        "models": len(plans),
        "versions": versions,
        "metrics": _write(VersionMetric, METRIC_FIELDS, metric_rows(plans)),
        "metric_points": _write(MetricPoint, POINT_FIELDS, point_rows(plans)),
        "dataset_links": _write(VersionDataset, LINK_FIELDS, dataset_link_rows(plans)),
    }
    _version_stats_refresh([p.model_id for p in plans])
    model_search_refresh(model_ids=[p.model_id for p in plans])
    return written


# --- Plans -----------------------------------------------------------------------------------------


def _plan(number: int, foundation: Foundation, now: datetime) -> ScaleModelPlan:
    rng = random.Random(number)
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
    spacing = min(cadence or rng.uniform(20, 50), HISTORY_DAYS / VERSIONS_PER_MODEL)
    ages = []
    for _ in range(VERSIONS_PER_MODEL):
        ages.append(age)
        age += spacing * rng.uniform(0.8, 1.2)
    trained_at = [now - timedelta(days=a) for a in reversed(ages)]
    reasons = [TrainingReason.INITIAL] + [
        TrainingReason.SCHEDULED if cadence and rng.random() < 0.8 else rng.choice(RETRAIN_REASONS)
        for _ in range(VERSIONS_PER_MODEL - 1)
    ]
    maturity = trends.version_progress(VERSIONS_PER_MODEL, rng)

    technical = foundation.users[rng.choice(WRITERS)]
    owners = [(technical.pk, technical.username, OwnerRole.TECHNICAL)]
    if rng.random() < 0.4:
        business = foundation.users["maria"]
        owners.append((business.pk, business.username, OwnerRole.BUSINESS))
    pool = [foundation.datasets[d.slug].pk for d in DATASETS if d.domain == domain_spec.key]
    train = rng.choice(pool)
    return ScaleModelPlan(
        number=number,
        rng=rng,
        domain_id=domain.pk,
        domain_name=domain.name,
        team_id=team.pk,
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
    )


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


def model_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    for p in plans:
        rng = p.rng
        yield (
            p.name,
            p.domain_id,
            p.team_id,
            f"Synthetic {p.family} model for load tests in *{p.domain_name}*. "
            f"Primary metric `{p.profile.primary.key}`.",
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


def version_rows(plans: list[ScaleModelPlan], level: int) -> Iterator[tuple]:
    """Version `level` (1-based) of every planned model; its parent is the model's previous version."""
    i = level - 1
    for p in plans:
        rng = p.rng
        run_id = trends.hexdigest(rng, 128)
        yield (
            p.model_id,
            str(level),
            level,
            p.trained_at[i],
            p.owners[0][1],
            f"{p.reasons[i].label}.",
            f"mlflow-artifacts:/{p.number}/{run_id}/artifacts/model",
            run_id,
            trends.hexdigest(rng, 160),
            f"https://git.modelhouse.example/scale/{p.name}",
            trends.nudge_hyperparameters(ALGORITHMS[p.algorithm], rng),
            p.version_ids[i - 1] if i else None,
            f"sha256:{trends.hexdigest(rng, 256)}",
            p.reasons[i].value,
        )


POINT_STEPS = (0, TRAINING_STEPS // 2, TRAINING_STEPS - 1)
LAST_STEP = TRAINING_STEPS - 1
METRIC_FIELDS = ("version_id", "key", "value", "step", "point_count")


def metric_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    """The final value of each version's primary metric (logged at POINT_STEPS) and one secondary metric."""
    for p in plans:
        primary_key, secondary_key = p.profile.primary.key, p.profile.secondaries[0].key
        for i, version_id in enumerate(p.version_ids):
            yield (version_id, primary_key, p.primary[i], LAST_STEP, len(POINT_STEPS))
            yield (version_id, secondary_key, p.secondary[i], LAST_STEP, 1)


POINT_FIELDS = ("version_id", "key", "step", "value", "timestamp")


def point_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    """A short curve of the primary metric ending at its final value, and the secondary's one point."""
    for p in plans:
        start_factor = 0.8 if p.profile.goal == MetricGoal.MAXIMIZE else 1.6
        primary_key, secondary_key = p.profile.primary.key, p.profile.secondaries[0].key
        for i, version_id in enumerate(p.version_ids):
            final, end = p.primary[i], p.trained_at[i]
            for step in POINT_STEPS:
                share = 1 - step / LAST_STEP  # 1 at the first step, 0 at the last
                value = round(final * (1 + (start_factor - 1) * share**2), 5)
                yield (version_id, primary_key, step, value, end - timedelta(minutes=LAST_STEP - step))
            yield (version_id, secondary_key, LAST_STEP, p.secondary[i], end)


LINK_FIELDS = ("version_id", "dataset_id", "role", "digest")


def dataset_link_rows(plans: list[ScaleModelPlan]) -> Iterator[tuple]:
    for p in plans:
        rng = p.rng
        for version_id in p.version_ids:
            yield (version_id, p.train_dataset_id, TRAINING, f"sha256:{trends.hexdigest(rng, 256)}")
            yield (version_id, p.eval_dataset_id, EVALUATION, f"sha256:{trends.hexdigest(rng, 256)}")


TRAINING, EVALUATION = DatasetRole.TRAINING.value, DatasetRole.EVALUATION.value


# --- Writing ---------------------------------------------------------------------------------------


class RowWriter:
    """Inserts tuples into one model's table, many rows per statement.

    Rows hold the values of `fields` in order; every other concrete column gets its model default (or
    now, for auto_now fields), so a column added later with a default needs no change here. Datetimes
    and JSON are adapted per backend as the ORM does. This skips bulk_create's per-value compilation
    (~13 us a value, three quarters of the run at 10k models). Statements: multi-row VALUES on SQLite;
    INSERT ... SELECT FROM UNNEST(arrays) on PostgreSQL, one parameter per column, since psycopg parses
    a query with 50,000 placeholders slowly. A COPY writer can take this class's place for the same rows.
    """

    def __init__(self, model, fields: tuple[str, ...]):
        meta = model._meta
        given = [meta.get_field(name) for name in fields]
        attnames = {f.attname for f in given}
        others = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in attnames]
        now = timezone.now()
        self.adapters = [(i, adapter) for i, f in enumerate(given) if (adapter := _adapter(f))]
        self.tail = [
            f.get_db_prep_save(now if _is_auto_now(f) else f.get_default(), connection) for f in others
        ]
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


def _next_scale_number() -> int:
    """One past the highest scale-model-N (compared as numbers: longer names are higher)."""
    name = (
        RegisteredModel.objects.filter(name__regex=rf"^{SCALE_PREFIX}[0-9]+$")
        .order_by(Length("name").desc(), "-name")
        .values_list("name", flat=True)
        .first()
    )
    return int(name.removeprefix(SCALE_PREFIX)) + 1 if name else 1
