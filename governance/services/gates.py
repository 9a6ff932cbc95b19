"""Promotion gates. Each gate looks at live data and says pass or fail with its evidence; a failing gate
can be waived by an engineer with a written reason. Gates are evaluated again at decision time."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from catalog.models import ModelAlias, RegisteredModel, VersionMetric

from ..models import (
    ACTIVE_STATES,
    FINAL_STATUSES,
    Alert,
    Gate,
    Mitigation,
    ModelPurpose,
    MonitoringPolicy,
    PromotionRequest,
    Severity,
    VerificationRun,
    WorkItem,
)
from ..workflows import CLOSED
from .dod import dod_evaluate, dod_queryset

PASS, FAIL, WAIVED = "pass", "fail", "waived"
BLOCKING_PRIORITIES = ("blocker", "critical")


@dataclass(frozen=True)
class GateResult:
    gate: str
    label: str
    status: str
    evidence: str
    waiver_reason: str = ""
    waived_by: str = ""

    def as_dict(self) -> dict:
        return {
            "gate": self.gate,
            "label": self.label,
            "status": self.status,
            "evidence": self.evidence,
            "waiver_reason": self.waiver_reason,
            "waived_by": self.waived_by,
        }


def _definition_of_done(promotion) -> tuple[bool, str]:
    report = dod_evaluate(model=promotion.model)
    if report.complete:
        return True, f"All {report.total} items done."
    return False, f"{report.passed}/{report.total} done; missing: " + "; ".join(
        c.label for c in report.missing
    )


def _verification(promotion) -> tuple[bool, str]:
    from .verification import verification_verdict

    return verification_verdict(version=promotion.version)


def champion_for(promotion) -> object | None:
    """The version the candidate must not be worse than: the current holder of the target, else champion."""
    aliases = {
        a.alias: a.version for a in ModelAlias.objects.filter(model=promotion.model).select_related("version")
    }
    for name in (promotion.target, "champion", "production"):
        holder = aliases.get(name)
        if holder is not None and holder.pk != promotion.version_id:
            return holder
    return None


def _no_regression(promotion) -> tuple[bool, str]:
    model = promotion.model
    if not model.primary_metric:
        return regression_verdict(promotion=promotion, model=model, champion=None, values={})
    champion = champion_for(promotion)
    values = {}
    if champion is not None:
        values = dict(
            VersionMetric.objects.filter(
                version_id__in=[promotion.version_id, champion.pk], key=model.primary_metric
            ).values_list("version_id", "value")
        )
    return regression_verdict(promotion=promotion, model=model, champion=champion, values=values)


def regression_verdict(*, promotion, model, champion, values: dict) -> tuple[bool, str]:
    """The no-regression gate's answer: `champion` as champion_for() finds it, `values` the primary metric
    by version id (of the candidate and the champion)."""
    if not model.primary_metric:
        return False, "The model has no primary metric, so a regression cannot be ruled out."
    if champion is None:
        return True, "No current champion to compare with."
    candidate, reference = values.get(promotion.version_id), values.get(champion.pk)
    if candidate is None:
        return False, f"v{promotion.version.version} has no {model.primary_metric} to compare."
    if reference is None:
        return (
            True,
            f"Champion v{champion.version} has no {model.primary_metric}; nothing to regress against.",
        )
    maximize = model.primary_metric_goal == "maximize"
    delta = candidate - reference if maximize else reference - candidate
    tolerance = model.regression_tolerance
    verdict = delta >= -tolerance
    return verdict, (
        f"{model.primary_metric} {candidate:.4g} vs champion v{champion.version} {reference:.4g} "
        f"({'+' if delta >= 0 else ''}{delta:.4g} {'better' if delta >= 0 else 'worse'}; "
        f"tolerance {tolerance:g})."
    )


def _no_blocking_incident(promotion) -> tuple[bool, str]:
    from .monitoring import promotions_blocked

    alert = promotions_blocked(promotion.model)
    keys = []
    if alert is None:
        keys = list(
            WorkItem.objects.filter(model=promotion.model, type="incident", priority__in=BLOCKING_PRIORITIES)
            .exclude(status__in=CLOSED)
            .order_by("number")
            .values_list("key", flat=True)
        )
    return incident_verdict(alert=alert, keys=keys)


def incident_verdict(*, alert, keys: list[str]) -> tuple[bool, str]:
    """The no-blocking-incident gate's answer: the critical alert that blocks promotions (or None) and the
    keys of open blocker or critical incidents."""
    if alert is not None:
        return False, f"Blocked by the open critical alert '{alert.get_condition_display()}': {alert.summary}"
    return (not keys, "No open blocker or critical incident." if not keys else f"Open: {', '.join(keys)}.")


def data_access_evidence(promotion) -> tuple[bool, str]:
    """Every training dataset with personal data is covered today by an approved, unexpired grant to the
    model's owners or team for the model's purpose (the same check the version page shows)."""
    from .data_access import version_data_uses

    return data_access_verdict(version_data_uses(version=promotion.version, at=timezone.localdate()))


def data_access_verdict(uses) -> tuple[bool, str]:
    """The data-access gate's answer from a version's data uses (version_data_uses or its batched twin)."""
    personal = [u for u in uses if u.needs_grant]
    if not personal:
        return True, "No training dataset holds personal data."
    missing = [u for u in personal if not u.covered]
    if missing:
        return False, " ".join(f"{u.dataset.name}: {u.reason}" for u in missing)
    return True, " ".join(f"{u.dataset.name}: {u.reason}" for u in personal)


GATES = {
    Gate.DEFINITION_OF_DONE: _definition_of_done,
    Gate.VERIFICATION: _verification,
    Gate.NO_REGRESSION: _no_regression,
    Gate.NO_BLOCKING_INCIDENT: _no_blocking_incident,
    Gate.DATA_ACCESS: data_access_evidence,
}


def _result(gate: str, passed: bool, evidence: str, waiver) -> GateResult:
    status = PASS if passed else (WAIVED if waiver else FAIL)
    return GateResult(
        gate,
        Gate(gate).label,
        status,
        evidence,
        waiver.reason if waiver and not passed else "",
        str(waiver.waived_by) if waiver and not passed else "",
    )


def gates_evaluate(*, promotion: PromotionRequest) -> list[GateResult]:
    waivers = {w.gate: w for w in promotion.waivers.select_related("waived_by")}
    return [_result(gate, *check(promotion), waivers.get(gate)) for gate, check in GATES.items()]


# --- many promotions at once ------------------------------------------------------------------------------
# A list page shows the gates of every promotion on it. Each gate above has a batched twin below that reads
# what _GateBatch loaded for the whole page and answers through the same *_verdict function, so a gate's rule
# is written once. A gate added to GATES without a twin is still evaluated, per promotion (right, slower).


def _own_policy(model) -> MonitoringPolicy | None:
    try:
        return model.monitoring_policy  # loaded by select_related: no query
    except ObjectDoesNotExist:
        return None


def _own_purpose(model) -> ModelPurpose | None:
    try:
        return model.data_purpose  # loaded by select_related: no query
    except ObjectDoesNotExist:
        return None


class _GateBatch:
    """Everything the gates read for a batch of promotions, loaded in a fixed number of queries."""

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
        self._load_data_access(promotions)

    def _champion(self, promotion):
        # As champion_for: the current holder of the target, else champion, else production.
        aliases = self.aliases.get(promotion.model_id, {})
        for name in (promotion.target, "champion", "production"):
            holder = aliases.get(name)
            if holder is not None and holder.pk != promotion.version_id:
                return holder
        return None

    def _load_blocking(self, model_ids) -> None:
        # As monitoring.promotions_blocked: the model's own policy, else its domain's default.
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

    def _load_data_access(self, promotions) -> None:
        from ..selectors.pages_access import version_data_uses_many

        versions = {}
        for promotion in promotions:
            version = promotion.version
            # Loaded with its owners and purpose: no query for version.model, its owners or its purpose.
            version.model = self.models[promotion.model_id]
            versions[version.pk] = version
        purposes = {pk: _own_purpose(model) for pk, model in self.models.items()}
        self.uses = version_data_uses_many(versions=list(versions.values()), at=self.today, purposes=purposes)

    # The batched twins of the gates: (passed, evidence) through the same verdicts.
    def definition_of_done(self, promotion) -> tuple[bool, str]:
        return _definition_of_done(SimpleNamespace(model=self.models[promotion.model_id]))

    def verification(self, promotion) -> tuple[bool, str]:
        from .verification import verification_verdict

        model = self.models[promotion.model_id]
        return verification_verdict(
            version=promotion.version,
            scripts=model.active_verification_scripts,
            runs=self.runs.get(promotion.version_id, []),
        )

    def no_regression(self, promotion) -> tuple[bool, str]:
        model = self.models[promotion.model_id]
        champion = self.champions[promotion.pk]
        values = {}
        for version_id in (promotion.version_id, champion.pk if champion is not None else None):
            if (version_id, model.primary_metric) in self.metrics:
                values[version_id] = self.metrics[(version_id, model.primary_metric)]
        return regression_verdict(promotion=promotion, model=model, champion=champion, values=values)

    def no_blocking_incident(self, promotion) -> tuple[bool, str]:
        return incident_verdict(
            alert=self.alerts.get(promotion.model_id), keys=self.incidents.get(promotion.model_id, [])
        )

    def data_access(self, promotion) -> tuple[bool, str]:
        return data_access_verdict(self.uses[promotion.version_id])


_BATCHED = {
    Gate.DEFINITION_OF_DONE: _GateBatch.definition_of_done,
    Gate.VERIFICATION: _GateBatch.verification,
    Gate.NO_REGRESSION: _GateBatch.no_regression,
    Gate.NO_BLOCKING_INCIDENT: _GateBatch.no_blocking_incident,
    Gate.DATA_ACCESS: _GateBatch.data_access,
}


def gates_evaluate_many(*, promotions: Iterable[PromotionRequest]) -> dict[int, list[GateResult]]:
    """gates_evaluate() for many promotions at once, by promotion id: the same results (status, evidence,
    waiver) in a fixed number of queries. Promotions must come from selectors.promotion_list() (model,
    version and waivers loaded)."""
    promotions = list(promotions)
    if not promotions:
        return {}
    batch = _GateBatch(promotions, timezone.localdate())
    results: dict[int, list[GateResult]] = {}
    for promotion in promotions:
        waivers = {w.gate: w for w in promotion.waivers.all()}
        results[promotion.pk] = [
            _result(
                gate,
                *(_BATCHED[gate](batch, promotion) if gate in _BATCHED else check(promotion)),
                waivers.get(gate),
            )
            for gate, check in GATES.items()
        ]
    return results
