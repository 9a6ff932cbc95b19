"""Reads the data-access, verification and monitoring pages need beyond the shared selectors: choices for
the request form and the list filters, the compliance dashboard's aggregates, and what a model page shows
about monitoring (alerts, the latest verification run of each script on recent versions, the thresholds).

Each function runs in a fixed number of queries. `production_personal_data` makes the check models rely on
(services.data_access.version_data_uses) for all production models at once, through the same
data_uses_evaluate, so the dashboard's answer is exactly the one the version page and the alert give.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import NamedTuple

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from catalog import policies as catalog_policies
from catalog.models import (
    Dataset,
    Domain,
    ModelAlias,
    ModelOwner,
    ModelVersion,
    RegisteredModel,
    VersionDataset,
)

from .. import policies
from ..models import (
    ACTIVE_STATES,
    OPEN_STATUSES,
    AccessRequest,
    AccessRequestDataset,
    AccessStatus,
    Alert,
    AlertState,
    ApprovalStep,
    Campaign,
    ModelPurpose,
    Purpose,
    StepKind,
    StepStatus,
    VerificationRun,
    VerificationScript,
)
from ..services.data_access import DataUse, data_uses_evaluate
from .data_access import _STEP_RANK

DATASET_CHOICES_MAX = 2000
# Age buckets of the compliance dashboard's pending-request chart: (label, up to this many days).
AGE_BUCKETS = (
    ("Under 1 day", 1),
    ("1–3 days", 3),
    ("3–7 days", 7),
    ("1–2 weeks", 14),
    ("2–4 weeks", 28),
    ("Over 4 weeks", None),
)
_MODEL_DEFERRED = ("search_document", "search_vector")


# --- form and filter choices ----------------------------------------------------------------------------


def dataset_choices(*, user) -> list[Dataset]:
    """Datasets a request may name, by name, with owner and domain (what the form's rows show)."""
    qs = catalog_policies.scope(Dataset.objects.select_related("owner", "domain"), user)
    return list(qs.order_by("name", "id")[:DATASET_CHOICES_MAX])


def purpose_choices(*, active_only: bool = False) -> list[Purpose]:
    qs = Purpose.objects.filter(is_active=True) if active_only else Purpose.objects.all()
    return list(qs.order_by("name", "id"))


def domain_choices() -> list[Domain]:
    return list(Domain.objects.order_by("name"))


def access_request_tab_counts(*, user) -> dict[str, int]:
    """How many requests are the user's own and how many wait for their decision now (two counts)."""
    from .data_access import awaiting_decision_q

    scoped = policies.scope(AccessRequest.objects.all(), user)
    return {
        "mine": scoped.filter(requester_id=user.pk).count(),
        "awaiting": scoped.filter(awaiting_decision_q(user)).count(),
    }


# --- compliance dashboard -------------------------------------------------------------------------------


def pending_requests_by_age(*, user, now: datetime.datetime | None = None) -> list[dict]:
    """Open requests (submitted or in review) counted by how long ago they were submitted: one query."""
    now = now or timezone.now()
    counts = {label: 0 for label, _ in AGE_BUCKETS}
    submitted = policies.scope(AccessRequest.objects.filter(status__in=OPEN_STATUSES), user).values_list(
        "submitted_at", flat=True
    )
    for when in submitted:
        age = (now - (when or now)).total_seconds() / 86400
        for label, limit in AGE_BUCKETS:
            if limit is None or age < limit:
                counts[label] += 1
                break
    return [{"label": label, "count": counts[label]} for label, _ in AGE_BUCKETS]


def _entries_with_datasets() -> Prefetch:
    entries = AccessRequestDataset.objects.select_related("dataset").only(
        "request", "dataset__name", "dataset__pii_categories"
    )
    return Prefetch("dataset_entries", queryset=entries.order_by("dataset__name", "id"))


def oldest_pending_requests(*, user, limit: int = 10) -> list[AccessRequest]:
    """The open requests waiting longest, with what their dashboard rows show: requester, datasets by name,
    the approval steps with their dataset and people. Not the team, purpose, work item and dataset owners
    of a request list row (_with_request_data), which took half the time."""
    qs = policies.scope(AccessRequest.objects.filter(status__in=OPEN_STATUSES), user)
    steps = (
        ApprovalStep.objects.select_related("dataset", "approver", "decided_by")
        .annotate(step_rank=_STEP_RANK)
        .order_by("step_rank", "id")
    )
    return list(
        qs.select_related("requester")
        .prefetch_related(_entries_with_datasets(), Prefetch("steps", queryset=steps))
        .order_by("submitted_at", "id")[:limit]
    )


def _with_grant_row_data(queryset: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    """The columns the dashboard's grant rows show (requester, purpose and basis, DPIA, end date, datasets by
    name): a request list row (_with_request_data) also reads the approval steps, team and who ended it,
    which cost a query and most of the time of these lists."""
    return (
        queryset.select_related("requester", "purpose")
        .only(
            "requester",
            "purpose",
            "legal_basis",
            "dpia_reference",
            "expiry_date",
            "requester__username",
            "requester__first_name",
            "requester__last_name",
            "purpose__name",
        )
        .prefetch_related(_entries_with_datasets())
    )


def grants_expiring(*, user, days: int = 30, limit: int = 50) -> list[AccessRequest]:
    """Active grants ending within `days` (today included), soonest first, with their requester, purpose and
    dataset entries."""
    today = timezone.localdate()
    qs = policies.scope(
        AccessRequest.objects.filter(
            status=AccessStatus.APPROVED,
            expiry_date__gte=today,
            expiry_date__lte=today + datetime.timedelta(days=days),
        ),
        user,
    )
    return list(_with_grant_row_data(qs).order_by("expiry_date", "id")[:limit])


def special_category_grants(*, user, limit: int = 50) -> list[AccessRequest]:
    """The first `limit` active grants covering special-category data, as the grant list shows them
    (grant_list(filters=status=approved&special_category=true)), with their requester, purpose and dataset
    entries. The list's status filter makes it SELECT DISTINCT over every joined column (8 ms at scale);
    the status alone needs no DISTINCT."""
    from .data_access import GRANT_ORDERING, GrantFilter

    active = policies.scope(AccessRequest.objects.filter(status=AccessStatus.APPROVED), user)
    special = GrantFilter({"special_category": "true"}, queryset=active).qs
    return list(_with_grant_row_data(special).order_by(*GRANT_ORDERING)[:limit])


def access_kpis(*, user) -> dict[str, int]:
    """The dashboard's headline numbers, in one query: open requests, those waiting for compliance (every
    owner has approved), active grants, those ending within 30 days, and active special-category grants
    (the grant list's special_category filter)."""
    from .data_access import GrantFilter

    today = timezone.localdate()
    owner_pending = ApprovalStep.objects.filter(
        request=OuterRef("pk"), kind=StepKind.OWNER, status=StepStatus.PENDING
    )
    compliance_pending = ApprovalStep.objects.filter(
        request=OuterRef("pk"), kind=StepKind.COMPLIANCE, status=StepStatus.PENDING
    )
    special = GrantFilter({"special_category": "true"}, queryset=AccessRequest.objects.all()).qs
    is_open = Q(status__in=OPEN_STATUSES)
    active = Q(status=AccessStatus.APPROVED)
    return policies.scope(AccessRequest.objects.all(), user).aggregate(
        open=Count("pk", filter=is_open),
        awaiting_compliance=Count(
            "pk", filter=is_open & Q(Exists(compliance_pending)) & ~Q(Exists(owner_pending))
        ),
        active=Count("pk", filter=active),
        expiring=Count(
            "pk",
            filter=active & Q(expiry_date__gte=today, expiry_date__lte=today + datetime.timedelta(days=30)),
        ),
        special=Count("pk", filter=active & Q(pk__in=special.values("pk"))),
    )


def compliance_counts(*, user) -> tuple[dict, datetime.datetime]:
    """{"kpis": access_kpis(user=user), "ages": pending_requests_by_age(user=user)} as they were at most
    pages.AGGREGATE_SECONDS ago, and when they were counted (the page says so). Counting them took a tenth
    of the compliance dashboard's time; headline figures a minute old serve as well."""
    from .pages import counted_recently

    return counted_recently(
        f"compliance-counts:{user.pk}:{timezone.localdate():%Y-%m-%d}",
        lambda: {"kpis": access_kpis(user=user), "ages": pending_requests_by_age(user=user)},
    )


def open_campaigns(*, user) -> QuerySet[Campaign]:
    from .data_access import campaign_list

    return campaign_list(user=user).filter(closed_at__isnull=True)


@dataclass(frozen=True)
class ProductionDataUse:
    model: RegisteredModel
    version: ModelVersion
    uses: list[DataUse]

    @property
    def personal(self) -> list[DataUse]:
        return [u for u in self.uses if u.needs_grant]

    @property
    def covered(self) -> bool:
        return all(u.covered for u in self.personal)


@dataclass(frozen=True, slots=True)
class _PurposeName:
    name: str


@dataclass(frozen=True, slots=True)
class _GrantRow:
    """What data_uses_evaluate reads of a grant, and whom the grant was given to."""

    pk: int
    requester_id: int
    team_id: int | None
    status: str
    ended_at: datetime.datetime | None
    expiry_date: datetime.date
    purpose_id: int
    purpose: _PurposeName


def version_data_uses_many(
    *, versions: list[ModelVersion], at: datetime.date, purposes: dict[int, ModelPurpose | None] | None = None
) -> dict[int, list[DataUse]]:
    """services.data_access.version_data_uses(version=v, at=at) for many versions, by version id: the same
    answers (the check itself is data_uses_evaluate) from five queries whatever the number of versions
    (fewer when the versions' dataset_links or their models' ownerships are prefetched, or `purposes`, the
    ModelPurpose per model id, is given). Each version's `model` must be loaded."""
    if not versions:
        return {}
    model_ids = {v.model_id for v in versions}
    links: dict[int, list[VersionDataset]] = {v.pk: [] for v in versions}
    if all("dataset_links" in getattr(v, "_prefetched_objects_cache", {}) for v in versions):
        # The caller loaded every link (the version page prefetches dataset_links__dataset).
        for v in versions:
            links[v.pk] = [ln for ln in v.dataset_links.all() if ln.role == "training"]
    else:
        for link in VersionDataset.objects.filter(version__in=versions, role="training").select_related(
            "dataset"
        ):
            links[link.version_id].append(link)
    if purposes is None:
        purposes = {
            p.model_id: p
            for p in ModelPurpose.objects.filter(model_id__in=model_ids).select_related("purpose")
        }
    owners: dict[int, set[int]] = {}
    if all("ownerships" in getattr(v.model, "_prefetched_objects_cache", {}) for v in versions):
        # The caller loaded every owner (the promotion queue's gates load them for the checklist).
        for v in versions:
            owners[v.model_id] = {o.user_id for o in v.model.ownerships.all()}
    else:
        for model_id, user_id in ModelOwner.objects.filter(model_id__in=model_ids).values_list(
            "model_id", "user_id"
        ):
            owners.setdefault(model_id, set()).add(user_id)
    # Only datasets with personal data are checked against grants (the others need none). Every grant of
    # every owner or team of the batch that names one may be weighed (~130 for the compliance dashboard at
    # scale), but each use reports one grant. So the grants come first as plain rows, one per dataset they
    # name, with what data_uses_evaluate reads; only the grants the uses report are loaded as grants.
    # (Loading them all with prefetch_related("dataset_entries") took most of the check's time.)
    datasets = {ln.dataset_id for rows in links.values() for ln in rows if ln.dataset.has_pii}
    grants: dict[int, _GrantRow] = {}  # in AccessRequest's ordering
    names: dict[int, set[int]] = {}  # grant id -> the datasets above it names
    naming: dict[int, set[int]] = {}  # dataset id -> the grants naming it
    if datasets:
        everyone = set().union(*owners.values()) if owners else set()
        teams = {v.model.team_id for v in versions if v.model.team_id}
        rows = AccessRequest.objects.filter(
            Q(requester_id__in=everyone) | Q(team_id__in=teams),
            dataset_entries__dataset_id__in=datasets,
            status__in=(AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED),
            start_date__lte=at,
            expiry_date__gte=at,
        ).values_list(
            "id",
            "requester_id",
            "team_id",
            "status",
            "ended_at",
            "expiry_date",
            "purpose_id",
            "purpose__name",
            "dataset_entries__dataset_id",
        )
        for *row, purpose_name, dataset_id in rows:
            if row[0] not in grants:
                grants[row[0]] = _GrantRow(*row, purpose=_PurposeName(purpose_name))
            names.setdefault(row[0], set()).add(dataset_id)
            naming.setdefault(dataset_id, set()).add(row[0])
    uses = {}
    for version in versions:
        model = version.model
        mine = owners.get(model.pk, set())
        weighed = {
            grant_id
            for ln in links[version.pk]
            for grant_id in naming.get(ln.dataset_id, ())
            if grants[grant_id].requester_id in mine
            or (model.team_id and grants[grant_id].team_id == model.team_id)
        }
        uses[version.pk] = data_uses_evaluate(
            links=links[version.pk],
            grants=[g for g in grants.values() if g.pk in weighed],
            purpose=purposes.get(version.model_id),
            day=at,
            grant_datasets=names,
        )
    reported = {u.grant.pk for rows in uses.values() for u in rows if u.grant is not None}
    loaded = {}
    if reported:
        loaded = {g.pk: g for g in AccessRequest.objects.filter(pk__in=reported).select_related("purpose")}
    return {
        version_id: [u if u.grant is None else replace(u, grant=loaded[u.grant.pk]) for u in rows]
        for version_id, rows in uses.items()
    }


class ProductionPersonalData(NamedTuple):
    rows: list[ProductionDataUse]
    more: bool  # more models than `limit` qualify: rows are the first `limit` by name


def production_personal_data(*, user, limit: int = 50) -> ProductionPersonalData:
    """Models in production (the version behind their 'production' alias) trained on personal data, each with
    whether every such dataset is covered by a grant today (the check version pages and alerts make): the
    first `limit` by name, uncovered ones first, and whether there are more. A fixed number of queries
    whatever the number of models."""
    personal = VersionDataset.objects.filter(version=OuterRef("version"), role="training").exclude(
        dataset__pii_categories=[]
    )
    aliases = list(
        ModelAlias.objects.filter(alias="production")
        .filter(Exists(personal))
        .filter(model__in=catalog_policies.scope(RegisteredModel.objects.all(), user))
        .select_related("model", "model__domain", "version")
        .defer(*(f"model__{f}" for f in _MODEL_DEFERRED))
        .order_by("model__name", "id")[: limit + 1]
    )
    more, aliases = len(aliases) > limit, aliases[:limit]
    for alias in aliases:
        alias.version.model = alias.model  # the same row: no query for version.model
    uses = version_data_uses_many(versions=[a.version for a in aliases], at=timezone.localdate())
    rows = [ProductionDataUse(alias.model, alias.version, uses[alias.version.pk]) for alias in aliases]
    return ProductionPersonalData(sorted(rows, key=lambda r: (r.covered, r.model.name)), more)


# --- model page: monitoring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptRow:
    script: VerificationScript
    runs: list[VerificationRun | None]  # one per version shown, newest version first


@dataclass(frozen=True)
class VerificationMatrix:
    versions: list[ModelVersion]
    rows: list[ScriptRow]


def model_verification_matrix(
    *, model: RegisteredModel, versions: int = 4, newest: list[ModelVersion] | None = None
) -> VerificationMatrix:
    """The model's scripts (without source) and the newest run of each on its newest `versions` versions, in
    three queries (two when `newest`, the model's versions newest first as model_versions_for_runs lists
    them, is given)."""
    if newest is not None:
        recent = newest[:versions]
    else:
        recent = list(
            ModelVersion.objects.filter(model=model)
            .exclude(status="removed")
            .only("id", "version", "sequence", "model_id", "created_at")
            .order_by("-sequence", "-id")[:versions]
        )
    scripts = list(
        VerificationScript.objects.filter(model=model).defer("source").order_by("-is_active", "name", "id")
    )
    newest_run: dict[tuple[int, int], VerificationRun] = {}
    if recent and scripts:
        runs = (
            VerificationRun.objects.filter(version__in=recent, script__in=scripts)
            .defer("stdout_tail", "stderr_tail")
            .order_by("-queued_at", "-id")
        )
        for run in runs:
            newest_run.setdefault((run.script_id, run.version_id), run)
    rows = [ScriptRow(s, [newest_run.get((s.pk, v.pk)) for v in recent]) for s in scripts]
    return VerificationMatrix(recent, rows)


def model_alerts(*, user, model: RegisteredModel, resolved_limit: int = 5) -> dict[str, list[Alert]]:
    """The model's active alerts (worst first) and its most recently resolved ones, with their incident
    (the model page's monitoring part shows nothing else of them)."""
    qs = policies.scope(Alert.objects.filter(model=model), user).select_related("incident")
    active = sorted(
        qs.filter(state__in=ACTIVE_STATES).order_by("-last_seen", "-id"),
        key=lambda a: {"critical": 0, "warning": 1}.get(a.severity, 2),
    )
    resolved = list(qs.filter(state=AlertState.RESOLVED).order_by("-resolved_at", "-id")[:resolved_limit])
    for alert in (*active, *resolved):
        alert.model = model
    return {"active": active, "resolved": resolved}


def model_versions_for_runs(*, model: RegisteredModel, limit: int = 20) -> list[ModelVersion]:
    """Versions a "Run now" form offers, newest first."""
    return list(
        ModelVersion.objects.filter(model=model)
        .exclude(status="removed")
        .only("id", "version", "sequence", "model_id", "created_at")
        .order_by("-sequence", "-id")[:limit]
    )


def model_script_names(*, model: RegisteredModel) -> list[str]:
    """The names of a model's scripts (saving one of these names makes a new revision of it)."""
    return list(
        VerificationScript.objects.filter(model=model).order_by("name").values_list("name", flat=True)
    )
