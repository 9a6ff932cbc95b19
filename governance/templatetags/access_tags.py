"""Template helpers for the data-access and monitoring pages, and the sections they add to catalog pages.

The catalog's model, dataset and version views stay untouched: their templates include
governance/_model_monitoring.html, _dataset_impact.html and _version_data_use.html, which ask this library
for what they show (`model_monitoring`, `dataset_impact_for`, `version_data_use_for`); it calls selectors.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from catalog import policies as catalog_policies
from catalog import selectors as catalog_selectors

from .. import monitoring_charts, policies
from ..models import AccessStatus, LegalBasis
from ..selectors import data_access as access_selectors
from ..selectors import monitoring as monitoring_selectors
from ..selectors import pages_access

register = template.Library()

PREDICTION_DAYS = 180
VERIFICATION_VERSIONS = 4
RUN_VERSIONS = 20
EVENT_SUMMARIES = {
    "access.requested": "asked for access",
    "access.submitted": "submitted it for approval",
    "access.owner_approved": "approved as data owner",
    "access.owner_rejected": "rejected as data owner",
    "access.compliance_approved": "approved for compliance",
    "access.compliance_rejected": "rejected for compliance",
    "access.granted": "granted access",
    "access.withdrawn": "withdrew the request",
    "access.revoked": "revoked the grant",
    "access.expired": "expired the grant",
    "campaign.keep": "kept the grant in a re-certification campaign",
    "campaign.revoke": "revoked the grant in a re-certification campaign",
    "alert.opened": "opened the alert",
    "alert.escalated": "escalated the alert",
    "alert.mitigated": "took automatic mitigations",
    "alert.acknowledged": "acknowledged the alert",
    "alert.resolved": "resolved the alert",
}


@register.filter
def event_summary(event) -> str:
    """What an audit event on an access request or alert says, in a few words."""
    text = EVENT_SUMMARIES.get(event.action, event.action.replace(".", " ").replace("_", " "))
    after = event.after if isinstance(event.after, dict) else {}
    if event.action.startswith("access.") and after.get("dataset"):
        text += f" ({after['dataset']})"
    if event.action.startswith("campaign.") and after.get("campaign"):
        text = text.replace("a re-certification campaign", f"“{after['campaign']}”")
    return text


@register.filter
def legal_basis_label(value: str) -> str:
    return dict(LegalBasis.choices).get(value, value)


@register.filter
def legal_basis_labels(values) -> str:
    labels = dict(LegalBasis.choices)
    return ", ".join(labels.get(v, v) for v in (values or []))


@register.filter
def status_class(value: str) -> str:
    """The badge modifier of an access request status (approved shows as "Granted")."""
    return {
        AccessStatus.DRAFT: "muted",
        AccessStatus.SUBMITTED: "access-open",
        AccessStatus.IN_REVIEW: "access-open",
        AccessStatus.APPROVED: "ok",
        AccessStatus.REJECTED: "danger",
        AccessStatus.REVOKED: "danger",
        AccessStatus.EXPIRED: "muted",
        AccessStatus.WITHDRAWN: "muted",
    }.get(value, "muted")


@register.filter
def jsonish(value) -> str:
    """A detail value for people: numbers rounded, lists joined, the rest as text."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {jsonish(v)}" for k, v in value.items()) or "—"
    if value is None or value == "":
        return "—"
    return str(value)


@register.simple_tag(takes_context=True)
def dataset_impact_for(context, dataset):
    """templates/governance/_dataset_impact.html: every version that used `dataset`, the production models
    among them and the active grants on it (selectors.data_access.dataset_impact, four queries)."""
    request = context["request"]
    impact = access_selectors.dataset_impact(user=request.user, pk=dataset.pk)
    today = timezone.localdate()
    return {
        "impact": impact,
        "grants": [
            {
                "grant": g,
                "columns": next(iter(g.entries_here), None).columns if g.entries_here else [],
                "days_left": (g.expiry_date - today).days,
            }
            for g in impact.active_grants
        ],
        "model_count": len({v.version.model_id for v in impact.versions}),
    }


@register.simple_tag(takes_context=True)
def version_data_use_for(context, version):
    """templates/governance/_version_data_use.html: each training dataset of `version`, covered by a grant on
    the day it was trained or not, and why."""
    # The view already read `version` through the catalog's scope: reuse it and its loaded dataset links.
    return access_selectors.version_data_use_loaded(version=version)


@register.simple_tag(takes_context=True)
def model_monitoring(context, model) -> dict:
    """templates/governance/_model_monitoring.html: the model's alerts, its verification scripts with the
    newest run on recent versions, the prediction and retraining-variance charts, and what the user may do.
    """
    request = context["request"]
    user = request.user
    today = timezone.localdate()
    policy = monitoring_selectors.model_monitoring_policy(model=model)
    stats = monitoring_selectors.prediction_stats_series(
        model=model, date_from=today - datetime.timedelta(days=PREDICTION_DAYS), date_to=today
    )
    mean_chart = monitoring_charts.prediction_mean_figure(stats, bias_tolerance_std=policy.bias_tolerance_std)
    std_chart = monitoring_charts.prediction_std_figure(stats, variance_ratio_max=policy.variance_ratio_max)
    metric_chart = None
    if model.primary_metric:
        metric, tolerance = model.primary_metric, policy.retraining_variance_tolerance
        metric_chart = catalog_selectors.metric_values_derived(
            model=model,
            name="metric_tolerance_figure",
            params=(metric, tolerance),
            derive=lambda values: monitoring_charts.metric_tolerance_figure(
                values.get(metric, []), metric=metric, tolerance=tolerance
            ),
        )
    can_edit = catalog_policies.can_edit_model(user, model)
    latest = stats.series[-1] if stats.series else None
    # The "Run now" choices (the newest 20) also give the verification matrix its newest versions.
    run_versions = pages_access.model_versions_for_runs(model=model, limit=RUN_VERSIONS)
    charts = [
        c
        for c in (
            {
                "figure": mean_chart,
                "id": "monitoring-mean-chart",
                "label": "Prediction mean against the baseline",
            },
            {"figure": std_chart, "id": "monitoring-std-chart", "label": "Prediction std against the limit"},
            {
                "figure": metric_chart,
                "id": "monitoring-metric-chart",
                "label": f"{model.primary_metric} per version with the retraining tolerance",
            },
        )
        if c["figure"] is not None
    ]
    return {
        "alerts": pages_access.model_alerts(user=user, model=model),
        "verification": pages_access.model_verification_matrix(
            model=model, versions=VERIFICATION_VERSIONS, newest=run_versions
        ),
        "run_versions": run_versions,
        "can_run": can_edit or policies.can_retry_apply(user),
        "can_add_script": can_edit,
        "policy": policy,
        "stats": stats,
        "latest": latest,
        "latest_shift": abs(latest.mean - stats.baseline.mean) / stats.baseline.std
        if latest and stats.baseline and stats.baseline.std
        else None,
        "charts": charts,
        "prediction_days": PREDICTION_DAYS,
    }
