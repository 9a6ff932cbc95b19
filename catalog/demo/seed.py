"""The demo organisation, created through the catalog services so denormalised fields and search hold.

`demo_catalog_seed` is idempotent: what exists (by user name, domain key, team name, dataset URI,
model name) is left alone and only what is missing is created, in one transaction.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import (
    Dataset,
    DatasetRole,
    Domain,
    Lifecycle,
    MetricGoal,
    ModelAlias,
    OwnerRole,
    PiiCategory,
    RegisteredModel,
    Team,
    TrainingReason,
)
from catalog.models.datasets import SPECIAL_CATEGORIES
from catalog.services import dataset_create, domain_create, model_create, team_create, version_create
from portal.services import user_upsert

from . import trends
from .content import (
    ADMIN_USERNAME,
    ALGORITHMS,
    DATASETS,
    DEMO_PASSWORD,
    DOMAINS,
    MODELS,
    PROFILES,
    TEAMS,
    USERS,
    DemoModel,
    MetricProfile,
)

# progress(message, detail=False): detail lines are for --verbosity 2.
Progress = Callable[..., None]


def progress_silent(message: str, *, detail: bool = False) -> None:
    pass


@dataclass
class Foundation:
    """The demo users, domains, teams and datasets, keyed by user name, domain key, team name, slug."""

    users: dict
    domains: dict[str, Domain]
    teams: dict[str, Team]
    datasets: dict[str, Dataset]
    created: dict[str, int] = field(default_factory=dict)


@dataclass
class SeedResult:
    created: dict[str, int]
    already_present: bool


def demo_now() -> datetime:
    """The moment demo dates count back from: this hour, so runs within the hour give the same data."""
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def demo_users_ensure() -> tuple[dict, int]:
    """Every demo user exists with its role, name and the demo password. Returns (users, how many new)."""
    users, created = {}, 0
    for spec in USERS:
        user, is_new = user_upsert(
            username=spec.username, role=spec.role, email=spec.email, full_name=spec.full_name
        )
        users[spec.username] = user
        created += is_new
    # One hash shared by the demo accounts: the password is printed for everyone to use anyway, and a
    # PBKDF2 hash per account would make every re-run of `make run` seconds slower for nothing.
    password = make_password(DEMO_PASSWORD)
    get_user_model().objects.filter(pk__in=[u.pk for u in users.values()]).update(password=password)
    for user in users.values():
        user.password = password
    return users, created


def demo_foundation_ensure(*, now: datetime, progress: Progress = progress_silent) -> Foundation:
    """Users, domains, teams and the shared dataset pool: found if present, created if not."""
    users, new_users = demo_users_ensure()
    progress(f"Users ........ {len(users)} ({new_users} new)")
    admin = users[ADMIN_USERNAME]

    found = list(
        Domain.objects.filter(Q(key__in=[s.key for s in DOMAINS]) | Q(name__in=[s.name for s in DOMAINS]))
    )
    by_key, by_name = {d.key: d for d in found}, {d.name: d for d in found}
    domains, new_domains = {}, 0
    for spec in DOMAINS:
        domain = by_key.get(spec.key) or by_name.get(spec.name)
        if domain is None:
            domain = domain_create(actor=admin, name=spec.name, key=spec.key, description=spec.description)
            new_domains += 1
        domains[spec.key] = domain
    progress(f"Domains ...... {len(DOMAINS)} ({new_domains} new)")

    teams = {t.name: t for t in Team.objects.filter(name__in=[s.name for s in TEAMS])}
    new_teams = 0
    for spec in TEAMS:
        if spec.name not in teams:
            teams[spec.name] = team_create(
                actor=admin,
                name=spec.name,
                domain=domains[spec.domain],
                members=[users[u] for u in spec.members],
            )
            new_teams += 1
    progress(f"Teams ........ {len(TEAMS)} ({new_teams} new)")

    by_uri = {d.uri: d for d in Dataset.objects.filter(uri__in=[s.uri for s in DATASETS])}
    datasets, new_datasets = {}, 0
    for spec in DATASETS:
        dataset = by_uri.get(spec.uri)
        if dataset is None:
            owner = users[spec.owner]
            dataset = dataset_create(
                actor=owner,
                uri=spec.uri,
                name=spec.slug,
                description=spec.description,
                owner=owner,
                domain=domains[spec.domain],
                pii_categories=list(spec.pii),
                sensitivity=spec.sensitivity,
                last_updated_at=now - timedelta(days=spec.refreshed_days_ago),
            )
            new_datasets += 1
        datasets[spec.slug] = dataset
    with_pii = sum(1 for d in datasets.values() if d.pii_categories)
    progress(f"Datasets ..... {len(DATASETS)} ({new_datasets} new, {with_pii} with personal data)")
    return Foundation(
        users=users,
        domains=domains,
        teams=teams,
        datasets=datasets,
        created={"users": new_users, "domains": new_domains, "teams": new_teams, "datasets": new_datasets},
    )


def demo_catalog_seed(*, progress: Progress = progress_silent, now: datetime | None = None) -> SeedResult:
    """Create the demo organisation (users, domains, teams, datasets, ~30 models with versions).

    Safe to run again: existing rows are kept and only missing ones created; the demo users always end
    up with the demo password. All in one transaction, so an interrupted run leaves nothing half-made.
    """
    now = now or demo_now()
    with transaction.atomic():
        foundation = demo_foundation_ensure(now=now, progress=progress)
        existing = set(
            RegisteredModel.objects.filter(name__in=[m.name for m in MODELS]).values_list("name", flat=True)
        )
        missing = [spec for spec in MODELS if spec.name not in existing]
        created = dict(foundation.created, models=0, versions=0, metric_points=0, aliases=0)
        if not missing:
            progress(f"Demo data already present ({len(MODELS)} models); users and passwords checked.")
            return SeedResult(created=created, already_present=True)
        for index, spec in enumerate(missing, start=1):
            counts = _model_seed(spec, foundation, now)
            created["models"] += 1
            for key, value in counts.items():
                created[key] += value
            # Every model at --verbosity 2; every tenth (and the last) at the default verbosity.
            coarse = index % 10 == 0 or index == len(missing)
            progress(
                f"Models [{index}/{len(missing)}] {spec.name}: {counts['versions']} versions",
                detail=not coarse,
            )
    return SeedResult(created=created, already_present=False)


def _model_seed(spec: DemoModel, foundation: Foundation, now: datetime) -> dict[str, int]:
    rng = random.Random(f"modelhouse-demo:{spec.name}")
    users, datasets = foundation.users, foundation.datasets
    team = foundation.teams[spec.team]
    team_spec = next(t for t in TEAMS if t.name == spec.team)
    profile = PROFILES[spec.profile]
    owners = [(users[username], role) for username, role in spec.owners]
    actor = owners[0][0]
    card = _model_card(spec, datasets, team.name)
    model = model_create(
        actor=actor,
        name=spec.name,
        domain=foundation.domains[spec.domain],
        team=team,
        description=_description(spec, datasets),
        tags=spec.tags,
        owners=owners,
        lifecycle=spec.lifecycle,
        primary_metric=profile.primary.key,
        primary_metric_goal=profile.goal,
        retrain_every_days=spec.retrain_every_days,
        **card,
    )

    trainings = _training_plan(spec, rng, now)
    count = len(trainings)
    maturity = trends.version_progress(count, rng)
    primary = trends.metric_values(profile.primary, maturity, rng)
    secondaries = {m.key: trends.metric_values(m, maturity, rng) for m in profile.secondaries}
    losses = [round(0.45 - 0.15 * m + rng.gauss(0, 0.01), 4) for m in maturity]
    better = max if profile.goal == MetricGoal.MAXIMIZE else min
    champion = primary.index(better(primary))

    writers = [u.username for u, role in owners if role == OwnerRole.TECHNICAL] or [actor.username]
    repository = f"https://git.modelhouse.example/{team_spec.repository_group}/{spec.name}"
    experiment = rng.randint(100, 999)
    points_logged = 0
    for i, (created_at, reason) in enumerate(trainings):
        finals = {profile.primary.key: primary[i]} | {key: values[i] for key, values in secondaries.items()}
        metrics = _training_metrics(profile, finals, losses[i], created_at, rng)
        aliases = []
        if i == champion:
            aliases.append("champion")
            if spec.lifecycle == Lifecycle.PRODUCTION:
                aliases.append("production")
        if i == count - 1 and spec.lifecycle == Lifecycle.STAGING:
            aliases.append("staging")
        run_id = trends.hexdigest(rng, 128)
        version_create(
            actor=actor,
            model=model,
            version=str(i + 1),
            created_at=created_at,
            created_by=rng.choice(writers),
            source_uri=f"mlflow-artifacts:/{experiment}/{run_id}/artifacts/model",
            run_id=run_id,
            code_commit=trends.hexdigest(rng, 160),
            code_repository=repository,
            hyperparameters=trends.nudge_hyperparameters(ALGORITHMS[spec.algorithm], rng),
            parent_version=str(i) if i else None,
            artifact_digest=f"sha256:{trends.hexdigest(rng, 256)}",
            training_reason=reason,
            description=_version_note(spec, reason, created_at, rng),
            metrics=metrics,
            datasets=[
                {"uri": datasets[slug].uri, "role": DatasetRole.TRAINING, "digest": _digest(rng)}
                for slug in spec.train
            ]
            + [{"uri": datasets[spec.evaluate].uri, "role": DatasetRole.EVALUATION, "digest": _digest(rng)}],
            aliases=aliases,
        )
        points_logged += len(metrics)
    alias_count = ModelAlias.objects.filter(model=model).count()
    return {"versions": count, "metric_points": points_logged, "aliases": alias_count}


def _training_metrics(
    profile: MetricProfile, finals: dict[str, float], loss: float, trained_at: datetime, rng: random.Random
) -> list[dict]:
    """One training run's log: 20-60 steps of the primary metric converging to its final value and of
    the training loss, then each secondary metric once at the last step."""
    steps = rng.randint(20, 60)
    step_minutes = rng.uniform(0.5, 4)
    started = trained_at - timedelta(minutes=steps * step_minutes)
    stamps = [started + timedelta(minutes=s * step_minutes) for s in range(steps)]
    primary = profile.primary.key
    curve = trends.training_curve(finals[primary], profile.goal, steps, rng, profile.primary.noise * 2)
    points = [{"key": primary, "value": v, "step": s, "timestamp": stamps[s]} for s, v in enumerate(curve)]
    points += [
        {"key": profile.loss_key, "value": v, "step": s, "timestamp": stamps[s]}
        for s, v in enumerate(trends.loss_curve(loss, steps, rng))
    ]
    points += [
        {"key": key, "value": value, "step": steps - 1, "timestamp": stamps[-1]}
        for key, value in finals.items()
        if key != primary
    ]
    return points


def _training_plan(spec: DemoModel, rng: random.Random, now: datetime) -> list[tuple[datetime, str]]:
    """When each version was trained and why, oldest first, over the past ~18 months.

    A scheduled model was trained by hand for a while, then a schedule took over: its last few versions
    are `scheduled` (or `drift`) about one cadence apart, the newest one inside the cadence unless the
    model is meant to be overdue.
    """
    cadence = spec.retrain_every_days
    if cadence and spec.overdue_days:
        age = cadence + spec.overdue_days + rng.uniform(0.1, 0.8)
    elif cadence:
        age = rng.uniform(0.1, 0.6) * cadence
    elif spec.lifecycle in (Lifecycle.DEPRECATED, Lifecycle.ARCHIVED):
        age = rng.uniform(120, 300)
    else:
        age = rng.uniform(1.5, 25)
    ages: list[float] = []
    reasons: list[str] = []
    scheduled = min(spec.versions - 1, rng.randint(3, 6), int((450 - age) / cadence)) if cadence else 0
    for _ in range(scheduled):
        reason = TrainingReason.DRIFT if rng.random() < 0.15 else TrainingReason.SCHEDULED
        ages.append(age)
        reasons.append(reason)
        age += cadence * (
            rng.uniform(0.3, 0.7) if reason == TrainingReason.DRIFT else rng.uniform(0.93, 1.04)
        )
    by_hand = spec.versions - scheduled
    if spec.lifecycle == Lifecycle.EXPERIMENTAL:
        oldest = age + rng.uniform(20, 80)
    else:
        oldest = min(max(rng.uniform(400, 540), age + 20 * by_hand), 545)
    gap = (oldest - age) / max(by_hand - 1, 1)
    for j in range(by_hand):
        jitter = rng.uniform(-0.2, 0.2) * gap if 0 < j < by_hand - 1 else 0.0
        ages.append(age + gap * j + jitter)
        reasons.append(
            TrainingReason.INITIAL
            if j == by_hand - 1
            else (TrainingReason.DRIFT if rng.random() < 0.25 else TrainingReason.MANUAL)
        )
    return [(now - timedelta(days=a), r) for a, r in reversed(list(zip(ages, reasons, strict=True)))]


CADENCE_WORDS = {7: "weekly", 30: "monthly", 90: "quarterly"}
DRIFT_FEATURES = ("basket_size", "days_since_last_order", "device_type", "price_index", "region", "channel")
MANUAL_NOTES = (
    "Tuned learning rate and depth after an error analysis.",
    "Added {feature} features.",
    "Re-trained with corrected labels for the last quarter.",
    "Upgraded library versions; no feature changes.",
    "Rebalanced the training sample.",
)


def _version_note(spec: DemoModel, reason: str, created_at: datetime, rng: random.Random) -> str:
    cutoff = (created_at - timedelta(days=1)).date().isoformat()
    feature = rng.choice(DRIFT_FEATURES)
    if reason == TrainingReason.INITIAL:
        return f"First training, on data up to {cutoff}."
    if reason == TrainingReason.SCHEDULED:
        word = CADENCE_WORDS.get(spec.retrain_every_days, "scheduled")
        return f"{word.capitalize()} retrain on data up to {cutoff}."
    if reason == TrainingReason.DRIFT:
        return f"Retrained after a drift alert on `{feature}` (population stability index above 0.2)."
    return rng.choice(MANUAL_NOTES).format(feature=f"`{feature}`")


def _digest(rng: random.Random) -> str:
    return f"sha256:{trends.hexdigest(rng, 256)}"


def _pii_labels(categories) -> str:
    labels = dict(PiiCategory.choices)
    return ", ".join(labels[c].lower() for c in sorted(categories))


def _description(spec: DemoModel, datasets: dict[str, Dataset]) -> str:
    if spec.card == "minimal":
        return spec.summary
    profile = PROFILES[spec.profile]
    goal = "higher" if profile.goal == MetricGoal.MAXIMIZE else "lower"
    lines = [spec.summary, "", "## How it works", "", spec.approach, "", "## Inputs", ""]
    for slug in spec.train:
        dataset = datasets[slug]
        pii = f" *Personal data: {_pii_labels(dataset.pii_categories)}.*" if dataset.pii_categories else ""
        lines.append(f"- `{dataset.name}`: {dataset.description}{pii}")
    lines += [
        "",
        f"Evaluated offline on `{datasets[spec.evaluate].name}`; **`{profile.primary.key}`** decides "
        f"regressions ({goal} is better).",
    ]
    if spec.retrain_every_days:
        lines += ["", f"Retrained every {spec.retrain_every_days} days by the training pipeline."]
    return "\n".join(lines)


def _model_card(spec: DemoModel, datasets: dict[str, Dataset], team: str) -> dict[str, str]:
    if spec.card == "minimal":
        return {}
    card = {"intended_use": spec.intended_use}
    if spec.card == "full":
        card["limitations"] = spec.limitations
        card["ethical_considerations"] = _ethics(spec, datasets, team)
    return card


def _ethics(spec: DemoModel, datasets: dict[str, Dataset], team: str) -> str:
    categories = {c for slug in spec.train for c in datasets[slug].pii_categories}
    if not categories:
        return "Trained on aggregated data without personal information; it scores no individual."
    text = (
        f"Trained on personal data ({_pii_labels(categories)}). Identifiers are pseudonymised before "
        f"training and access is limited to the {team} team."
    )
    if categories & SPECIAL_CATEGORIES:
        text += " Uses special-category data: a DPIA is on file and any new purpose needs a new one."
    if PiiCategory.FINANCIAL in categories:
        text += " Decisions can be contested; a person reviews every decline that is appealed."
    return text
