"""Promotion gates. Each gate looks at live data and says pass or fail with its evidence; a failing gate
can be waived by an engineer with a written reason. Gates are evaluated again at decision time."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import ModelAlias, VersionMetric

from ..models import Gate, PromotionRequest, WorkItem
from ..workflows import CLOSED
from .dod import dod_evaluate

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
        return False, "The model has no primary metric, so a regression cannot be ruled out."
    champion = champion_for(promotion)
    if champion is None:
        return True, "No current champion to compare with."
    values = dict(
        VersionMetric.objects.filter(
            version_id__in=[promotion.version_id, champion.pk], key=model.primary_metric
        ).values_list("version_id", "value")
    )
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
    if alert is not None:
        return False, f"Blocked by the open critical alert '{alert.get_condition_display()}': {alert.summary}"
    keys = list(
        WorkItem.objects.filter(model=promotion.model, type="incident", priority__in=BLOCKING_PRIORITIES)
        .exclude(status__in=CLOSED)
        .order_by("number")
        .values_list("key", flat=True)
    )
    return (not keys, "No open blocker or critical incident." if not keys else f"Open: {', '.join(keys)}.")


def data_access_evidence(promotion) -> tuple[bool, str]:
    """Every training dataset with personal data is covered today by an approved, unexpired grant to the
    model's owners or team for the model's purpose (the same check the version page shows)."""
    from django.utils import timezone

    from .data_access import version_data_uses

    uses = version_data_uses(version=promotion.version, at=timezone.localdate())
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


def gates_evaluate(*, promotion: PromotionRequest) -> list[GateResult]:
    waivers = {w.gate: w for w in promotion.waivers.select_related("waived_by")}
    results = []
    for gate, check in GATES.items():
        passed, evidence = check(promotion)
        waiver = waivers.get(gate)
        status = PASS if passed else (WAIVED if waiver else FAIL)
        results.append(
            GateResult(
                gate,
                Gate(gate).label,
                status,
                evidence,
                waiver.reason if waiver and not passed else "",
                str(waiver.waived_by) if waiver and not passed else "",
            )
        )
    return results
