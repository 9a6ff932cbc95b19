"""Reads the governance pages need beyond the shared selectors: the gates of many promotions at once (the
queue's gate summary), filter choices for the work list, and the aggregates behind the dashboards.

Each function runs in a fixed number of queries whatever the number of rows, so list pages and dashboards
cost the same with 3 rows as with 300 (tests/governance/test_view_queries.py).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from catalog.models import Dataset, Domain, ModelAlias, RegisteredModel, Tag, VersionDataset, VersionMetric

from ..filters import sla_q
from ..models import (
    ACTIVE_STATES,
    FINAL_STATUSES,
    AccessRequest,
    AccessStatus,
    Alert,
    ApplyStatus,
    Gate,
    Mitigation,
    MonitoringPolicy,
    PromotionRequest,
    PromotionStatus,
    Severity,
    SlaState,
    VerificationRun,
    WorkItem,
)
from ..services.dod import dod_queryset
from ..services.gates import (
    BLOCKING_PRIORITIES,
    FAIL,
    GATES,
    PASS,
    WAIVED,
    GateResult,
    _definition_of_done,
)
from ..services.verification import verification_verdict
from ..workflows import CLOSED
from .promotions import promotion_list

MODEL_CHOICES_MAX = 1000
OPEN_SLA_STATES = (SlaState.BREACHED, SlaState.DUE_SOON, SlaState.ON_TRACK, SlaState.NONE)
GRANT_STATUSES = (AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED)


# --- gates of many promotions ---------------------------------------------------------------------------


def _own_policy(model: RegisteredModel) -> MonitoringPolicy | None:
    try:
        return model.monitoring_policy  # loaded by select_related: no query
    except ObjectDoesNotExist:
        return None


def _model_purpose(model: RegisteredModel):
    try:
        return model.data_purpose
    except ObjectDoesNotExist:
        return None


class _GateData:
    """Everything the five gates read for a batch of promotions, loaded in about ten queries."""

    def __init__(self, promotions: list[PromotionRequest], today: datetime.date):
        self.today = today
        model_ids = {p.model_id for p in promotions}
        version_ids = {p.version_id for p in promotions}
        self.models = {
            m.pk: m
            for m in dod_queryset(RegisteredModel.objects.filter(pk__in=model_ids))
            .select_related("monitoring_policy", "data_purpose__purpose")
            .defer("search_document", "search_vector")
        }
        self.runs = defaultdict(list)
        finished = VerificationRun.objects.filter(version_id__in=version_ids, status__in=FINAL_STATUSES)
        for run in finished.only(
            "id", "version_id", "script_id", "script_revision", "status", "finished_at"
        ).order_by("-finished_at", "-id"):
            self.runs[run.version_id].append(run)
        self.aliases: dict[int, dict] = defaultdict(dict)
        for alias in ModelAlias.objects.filter(model_id__in=model_ids).select_related("version"):
            self.aliases[alias.model_id][alias.alias] = alias.version
        self.champions = {p.pk: self._champion(p) for p in promotions}
        wanted = version_ids | {c.pk for c in self.champions.values() if c is not None}
        keys = {m.primary_metric for m in self.models.values() if m.primary_metric}
        self.metrics = {
            (version_id, key): value
            for version_id, key, value in VersionMetric.objects.filter(
                version_id__in=wanted, key__in=keys
            ).values_list("version_id", "key", "value")
        }
        self._load_blocking(model_ids)
        self._load_data_access(version_ids)

    def _champion(self, promotion):
        # As gates.champion_for: the current holder of the target, else champion, else production.
        aliases = self.aliases.get(promotion.model_id, {})
        for name in (promotion.target, "champion", "production"):
            holder = aliases.get(name)
            if holder is not None and holder.pk != promotion.version_id:
                return holder
        return None

    def _load_blocking(self, model_ids) -> None:
        own = {pk: _own_policy(m) for pk, m in self.models.items()}
        domain_ids = {m.domain_id for pk, m in self.models.items() if own[pk] is None}
        defaults: dict[int, MonitoringPolicy] = {}
        for policy in MonitoringPolicy.objects.filter(domain_id__in=domain_ids, model__isnull=True).order_by(
            "pk"
        ):
            defaults.setdefault(policy.domain_id, policy)
        blocking = {
            pk
            for pk, m in self.models.items()
            if Mitigation.BLOCK_PROMOTIONS
            in ((own[pk] or defaults.get(m.domain_id) or MonitoringPolicy()).mitigations or [])
        }
        self.alerts: dict[int, Alert] = {}
        if blocking:
            critical = Alert.objects.filter(
                model_id__in=blocking, state__in=ACTIVE_STATES, severity=Severity.CRITICAL
            )
            for alert in critical.order_by("-last_seen", "-id"):  # Alert's ordering, as .first() uses
                self.alerts.setdefault(alert.model_id, alert)
        self.incidents: dict[int, list[str]] = defaultdict(list)
        open_incidents = (
            WorkItem.objects.filter(model_id__in=model_ids, type="incident", priority__in=BLOCKING_PRIORITIES)
            .exclude(status__in=CLOSED)
            .order_by("number")
            .values_list("model_id", "key")
        )
        for model_id, key in open_incidents:
            self.incidents[model_id].append(key)

    def _load_data_access(self, version_ids) -> None:
        self.training = defaultdict(list)
        for link in VersionDataset.objects.filter(version_id__in=version_ids, role="training").select_related(
            "dataset"
        ):
            self.training[link.version_id].append(link)
        personal = {ln.dataset_id for links in self.training.values() for ln in links if ln.dataset.has_pii}
        self.grants: list[AccessRequest] = []
        if not personal:
            return
        owners = {o.user_id for m in self.models.values() for o in m.ownerships.all()}
        teams = {m.team_id for m in self.models.values() if m.team_id}
        self.grants = list(
            AccessRequest.objects.filter(
                Q(requester_id__in=owners) | Q(team_id__in=teams),
                dataset_entries__dataset__in=personal,
                status__in=GRANT_STATUSES,
                start_date__lte=self.today,
                expiry_date__gte=self.today,
            )
            .select_related("purpose")
            .prefetch_related("dataset_entries")
            .distinct()
        )

    # Each check answers (passed, evidence) with the words gates.py uses.
    def definition_of_done(self, promotion) -> tuple[bool, str]:
        return _definition_of_done(SimpleNamespace(model=self.models[promotion.model_id]))

    def verification(self, promotion) -> tuple[bool, str]:
        model = self.models[promotion.model_id]
        return verification_verdict(
            version=promotion.version,
            scripts=model.active_verification_scripts,
            runs=self.runs.get(promotion.version_id, []),
        )

    def no_regression(self, promotion) -> tuple[bool, str]:
        model = self.models[promotion.model_id]
        if not model.primary_metric:
            return False, "The model has no primary metric, so a regression cannot be ruled out."
        champion = self.champions[promotion.pk]
        if champion is None:
            return True, "No current champion to compare with."
        key = model.primary_metric
        candidate = self.metrics.get((promotion.version_id, key))
        reference = self.metrics.get((champion.pk, key))
        if candidate is None:
            return False, f"v{promotion.version.version} has no {key} to compare."
        if reference is None:
            return True, f"Champion v{champion.version} has no {key}; nothing to regress against."
        maximize = model.primary_metric_goal == "maximize"
        delta = candidate - reference if maximize else reference - candidate
        tolerance = model.regression_tolerance
        return delta >= -tolerance, (
            f"{key} {candidate:.4g} vs champion v{champion.version} {reference:.4g} "
            f"({'+' if delta >= 0 else ''}{delta:.4g} {'better' if delta >= 0 else 'worse'}; "
            f"tolerance {tolerance:g})."
        )

    def no_blocking_incident(self, promotion) -> tuple[bool, str]:
        alert = self.alerts.get(promotion.model_id)
        if alert is not None:
            return (
                False,
                f"Blocked by the open critical alert '{alert.get_condition_display()}': {alert.summary}",
            )
        keys = self.incidents.get(promotion.model_id, [])
        return (
            not keys,
            "No open blocker or critical incident." if not keys else f"Open: {', '.join(keys)}.",
        )

    def data_access(self, promotion) -> tuple[bool, str]:
        model = self.models[promotion.model_id]
        personal = [ln for ln in self.training.get(promotion.version_id, []) if ln.dataset.has_pii]
        if not personal:
            return True, "No training dataset holds personal data."
        owners = {o.user_id for o in model.ownerships.all()}
        grants = [
            g
            for g in self.grants
            if g.requester_id in owners or (model.team_id and g.team_id == model.team_id)
        ]
        purpose = _model_purpose(model)
        uses = [self._use(link.dataset, grants, purpose) for link in personal]
        missing = [(d, reason) for d, covered, reason in uses if not covered]
        if missing:
            return False, " ".join(f"{d.name}: {reason}" for d, reason in missing)
        return True, " ".join(f"{d.name}: {reason}" for d, _, reason in uses)

    def _use(self, dataset: Dataset, grants, purpose) -> tuple[Dataset, bool, str]:
        # As services.data_access.version_data_uses for one dataset with personal data, on `today`.
        day = self.today
        candidates = [
            g
            for g in grants
            if any(e.dataset_id == dataset.pk for e in g.dataset_entries.all())
            and (g.status == AccessStatus.APPROVED or (g.ended_at is not None and g.ended_at.date() > day))
        ]
        if purpose is None:
            return dataset, False, "The model declares no purpose, so no grant can be checked against it."
        matching = [g for g in candidates if g.purpose_id == purpose.purpose_id]
        if matching:
            grant = matching[0]
            return (
                dataset,
                True,
                f"Grant #{grant.pk} for '{grant.purpose.name}' until {grant.expiry_date:%Y-%m-%d}.",
            )
        if candidates:
            return (
                dataset,
                False,
                f"Granted only for '{candidates[0].purpose.name}', not '{purpose.purpose.name}'.",
            )
        return dataset, False, f"No grant to the model's owners or team valid on {day:%Y-%m-%d}."


_BATCHED = {
    Gate.DEFINITION_OF_DONE: _GateData.definition_of_done,
    Gate.VERIFICATION: _GateData.verification,
    Gate.NO_REGRESSION: _GateData.no_regression,
    Gate.NO_BLOCKING_INCIDENT: _GateData.no_blocking_incident,
    Gate.DATA_ACCESS: _GateData.data_access,
}


def promotion_gates_many(*, promotions: Iterable[PromotionRequest]) -> dict[int, list[GateResult]]:
    """gates_evaluate() for many promotions at once, by promotion id: the same results (status, evidence,
    waiver) in a fixed number of queries. Promotions must come from promotion_list() (waivers loaded).

    A gate added to services.gates.GATES without a batched twin here is still evaluated, one query set per
    promotion, so the summary is never wrong, only slower.
    """
    promotions = list(promotions)
    if not promotions:
        return {}
    data = _GateData(promotions, timezone.localdate())
    results: dict[int, list[GateResult]] = {}
    for promotion in promotions:
        waivers = {w.gate: w for w in promotion.waivers.all()}
        rows = []
        for gate, check in GATES.items():
            batched = _BATCHED.get(gate)
            passed, evidence = batched(data, promotion) if batched else check(promotion)
            waiver = waivers.get(gate)
            status = PASS if passed else (WAIVED if waiver else FAIL)
            rows.append(
                GateResult(
                    gate,
                    Gate(gate).label,
                    status,
                    evidence,
                    waiver.reason if waiver and not passed else "",
                    str(waiver.waived_by) if waiver and not passed else "",
                )
            )
        results[promotion.pk] = rows
    return results


# --- lists ------------------------------------------------------------------------------------------------


def work_item_filter_options() -> dict:
    """Choices for the work list's filter bar: one small query each."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return {
        "domains": list(Domain.objects.only("name", "slug", "key").order_by("name")),
        "users": list(users.only("username", "first_name", "last_name")),
        "labels": list(
            Tag.objects.filter(work_items__isnull=False)
            .distinct()
            .order_by("name")
            .values_list("name", flat=True)
        ),
        "models": list(
            RegisteredModel.objects.order_by("name").values_list("name", flat=True)[:MODEL_CHOICES_MAX]
        ),
    }


def promotion_apply_failures(*, user) -> QuerySet[PromotionRequest]:
    """Approved promotions whose write-back to the registry failed, newest first: engineers retry them."""
    return promotion_list(user=user, filters={"status": PromotionStatus.APPROVED}).filter(
        apply_status=ApplyStatus.FAILED
    )


# --- dashboards -------------------------------------------------------------------------------------------


def work_item_open_counts(*, domain: Domain | None = None) -> list[dict]:
    """Open work items per type, split by SLA state: [{"type", "breached", "due_soon", "on_track", "none",
    "total"}, ...] in one query, types with open items only, most items first."""
    today = timezone.localdate()
    qs = WorkItem.objects.exclude(status__in=CLOSED)
    if domain is not None:
        qs = qs.filter(domain=domain)
    counts = {state.value: Count("id", filter=sla_q(state, today=today)) for state in OPEN_SLA_STATES}
    rows = list(qs.order_by().values("type").annotate(total=Count("id"), **counts))
    return sorted(rows, key=lambda r: (-r["total"], r["type"]))


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - back
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


def promotion_decisions_by_month(*, domain: Domain | None = None, months: int = 12) -> list[dict]:
    """Approved and rejected promotions per month of decision for the last `months` months, oldest first,
    months without decisions included: [{"month": date, "approved": n, "rejected": n}, ...]."""
    today = timezone.localdate()
    first = _month_start(today, months - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    qs = PromotionRequest.objects.filter(
        status__in=(PromotionStatus.APPROVED, PromotionStatus.REJECTED), decided_at__gte=since
    )
    if domain is not None:
        qs = qs.filter(model__domain=domain)
    rows = (
        qs.annotate(month=TruncMonth("decided_at"))
        .order_by()
        .values("month")
        .annotate(
            approved=Count("id", filter=Q(status=PromotionStatus.APPROVED)),
            rejected=Count("id", filter=Q(status=PromotionStatus.REJECTED)),
        )
    )
    found = {}
    for row in rows:
        month = row["month"]
        month = timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month
        found[month.replace(day=1)] = row
    out = []
    for back in range(months - 1, -1, -1):
        month = _month_start(today, back)
        row = found.get(month, {})
        out.append({"month": month, "approved": row.get("approved", 0), "rejected": row.get("rejected", 0)})
    return out
