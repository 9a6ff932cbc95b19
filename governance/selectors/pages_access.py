"""Reads the data-access, verification and monitoring pages need beyond the shared selectors: choices for
the request form and the list filters, the compliance dashboard's aggregates, and what a model page shows
about monitoring (alerts, the latest verification run of each script on recent versions, the thresholds).

Each function runs in a fixed number of queries. `production_personal_data` makes the check models rely on
(services.data_access.version_data_uses) for all production models at once, through the same
data_uses_evaluate, so the dashboard's answer is exactly the one the version page and the alert give.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
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
from .data_access import _with_request_data
from .monitoring import _with_alert_data

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


def oldest_pending_requests(*, user, limit: int = 10) -> list[AccessRequest]:
    """The open requests waiting longest, with what their rows show."""
    qs = policies.scope(AccessRequest.objects.filter(status__in=OPEN_STATUSES), user)
    return list(_with_request_data(qs).order_by("submitted_at", "id")[:limit])


def grants_expiring(*, user, days: int = 30, limit: int = 50) -> list[AccessRequest]:
    """Active grants ending within `days` (today included), soonest first."""
    today = timezone.localdate()
    qs = policies.scope(
        AccessRequest.objects.filter(
            status=AccessStatus.APPROVED,
            expiry_date__gte=today,
            expiry_date__lte=today + datetime.timedelta(days=days),
        ),
        user,
    )
    return list(_with_request_data(qs).order_by("expiry_date", "id")[:limit])


def access_kpis(*, user) -> dict[str, int]:
    """The dashboard's headline numbers: open requests, those waiting for compliance (every owner has
    approved), active grants, those ending within 30 days, and active special-category grants."""
    from .data_access import GrantFilter

    today = timezone.localdate()
    scoped = policies.scope(AccessRequest.objects.all(), user)
    owner_pending = ApprovalStep.objects.filter(
        request=OuterRef("pk"), kind=StepKind.OWNER, status=StepStatus.PENDING
    )
    compliance_pending = ApprovalStep.objects.filter(
        request=OuterRef("pk"), kind=StepKind.COMPLIANCE, status=StepStatus.PENDING
    )
    active = scoped.filter(status=AccessStatus.APPROVED)
    special = GrantFilter({"special_category": "true"}, queryset=active).qs
    return {
        "open": scoped.filter(status__in=OPEN_STATUSES).count(),
        "awaiting_compliance": scoped.filter(
            Exists(compliance_pending), ~Exists(owner_pending), status__in=OPEN_STATUSES
        ).count(),
        "active": active.count(),
        "expiring": active.filter(
            expiry_date__gte=today, expiry_date__lte=today + datetime.timedelta(days=30)
        ).count(),
        "special": special.count(),
    }


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


def version_data_uses_many(
    *, versions: list[ModelVersion], at: datetime.date, purposes: dict[int, ModelPurpose | None] | None = None
) -> dict[int, list[DataUse]]:
    """services.data_access.version_data_uses(version=v, at=at) for many versions, by version id: the same
    answers (the check itself is data_uses_evaluate) from five queries whatever the number of versions
    (fewer when the versions' dataset_links are prefetched or `purposes`, the ModelPurpose per model id,
    is given). Each version's `model` must be loaded."""
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
    for model_id, user_id in ModelOwner.objects.filter(model_id__in=model_ids).values_list(
        "model_id", "user_id"
    ):
        owners.setdefault(model_id, set()).add(user_id)
    # Only datasets with personal data are checked against grants (the others need none).
    datasets = {ln.dataset_id for rows in links.values() for ln in rows if ln.dataset.has_pii}
    grants: list[AccessRequest] = []
    if datasets:
        everyone = set().union(*owners.values()) if owners else set()
        teams = {v.model.team_id for v in versions if v.model.team_id}
        grants = list(
            AccessRequest.objects.filter(
                Q(requester_id__in=everyone) | Q(team_id__in=teams),
                # EXISTS rather than a join to the entries and DISTINCT over every column of the grant.
                Exists(AccessRequestDataset.objects.filter(request=OuterRef("pk"), dataset_id__in=datasets)),
                status__in=(AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED),
                start_date__lte=at,
                expiry_date__gte=at,
            )
            .select_related("purpose")
            .prefetch_related("dataset_entries")
        )
    naming: dict[int, set[int]] = {}  # dataset id -> positions in `grants` of the grants naming it
    for position, grant in enumerate(grants):
        for entry in grant.dataset_entries.all():
            naming.setdefault(entry.dataset_id, set()).add(position)
    out = {}
    for version in versions:
        model = version.model
        mine = owners.get(model.pk, set())
        positions = set().union(*(naming.get(ln.dataset_id, set()) for ln in links[version.pk]))
        granted = [
            grants[i]
            for i in sorted(positions)  # AccessRequest's ordering, as version_data_uses reads them
            if grants[i].requester_id in mine or (model.team_id and grants[i].team_id == model.team_id)
        ]
        out[version.pk] = data_uses_evaluate(
            links=links[version.pk], grants=granted, purpose=purposes.get(model.pk), day=at
        )
    return out


def production_personal_data(*, user, limit: int = 100) -> list[ProductionDataUse]:
    """Models in production (the version behind their 'production' alias) trained on personal data, each with
    whether every such dataset is covered by a grant today (the check version pages and alerts make).
    Uncovered ones first. A fixed number of queries whatever the number of models."""
    personal = VersionDataset.objects.filter(version=OuterRef("version"), role="training").exclude(
        dataset__pii_categories=[]
    )
    aliases = list(
        ModelAlias.objects.filter(alias="production")
        .filter(Exists(personal))
        .filter(model__in=catalog_policies.scope(RegisteredModel.objects.all(), user))
        .select_related("model", "model__domain", "version")
        .defer(*(f"model__{f}" for f in _MODEL_DEFERRED))
        .order_by("model__name", "id")[:limit]
    )
    for alias in aliases:
        alias.version.model = alias.model  # the same row: no query for version.model
    uses = version_data_uses_many(versions=[a.version for a in aliases], at=timezone.localdate())
    rows = [ProductionDataUse(alias.model, alias.version, uses[alias.version.pk]) for alias in aliases]
    return sorted(rows, key=lambda r: (r.covered, r.model.name))


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
    """The model's active alerts (worst first) and its most recently resolved ones."""
    qs = _with_alert_data(policies.scope(Alert.objects.filter(model=model), user))
    active = sorted(
        qs.filter(state__in=ACTIVE_STATES).order_by("-last_seen", "-id"),
        key=lambda a: {"critical": 0, "warning": 1}.get(a.severity, 2),
    )
    resolved = list(qs.filter(state=AlertState.RESOLVED).order_by("-resolved_at", "-id")[:resolved_limit])
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
