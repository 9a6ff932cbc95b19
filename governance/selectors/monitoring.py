"""Monitoring reads: the alert list and one alert, a model's posted prediction statistics."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Domain, RegisteredModel

from .. import policies
from ..models import (
    Alert,
    AlertCondition,
    AlertState,
    AuditEvent,
    Delivery,
    MonitoringPolicy,
    PredictionStats,
    Severity,
)
from ._filtering import apply_filterset

ALERT_ORDERING = ("-last_seen", "-id")
ALERT_AUDIT_TYPE = Alert._meta.label_lower
_MODEL_DEFERRED = ("model__search_document", "model__search_vector")


class AlertFilter(django_filters.FilterSet):
    # distinct=False: state is the alert's own column, so no row can repeat; django-filter's default DISTINCT
    # made PostgreSQL hash every active alert (all columns, details included) before taking the first page.
    state = django_filters.MultipleChoiceFilter(
        choices=AlertState.choices, label="State (repeat for several)", distinct=False
    )
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    condition = django_filters.ChoiceFilter(choices=AlertCondition.choices)
    model = django_filters.ModelChoiceFilter(
        queryset=RegisteredModel.objects.all(), to_field_name="name", label="Model"
    )
    domain = django_filters.ModelChoiceFilter(
        field_name="model__domain", queryset=Domain.objects.all(), to_field_name="slug", label="Domain"
    )

    class Meta:
        model = Alert
        fields = ["state", "severity", "condition", "model", "domain"]


def _with_alert_data(queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    return queryset.select_related("model", "model__domain", "owner", "acknowledged_by", "incident").defer(
        *_MODEL_DEFERRED
    )


def alert_list(*, user, filters=None) -> QuerySet[Alert]:
    """Alerts filtered by state (several), severity, condition, model and domain; last seen first."""
    qs = apply_filterset(AlertFilter, filters, policies.scope(Alert.objects.all(), user))
    return _with_alert_data(qs).order_by(*ALERT_ORDERING)


def alert_get(*, user, pk: int) -> Alert:
    return get_object_or_404(policies.scope(Alert.objects.all(), user), pk=pk)


def alert_detail(*, user, pk: int) -> Alert:
    """One alert with its notifications and its audit events oldest first (as `events`)."""
    qs = _with_alert_data(policies.scope(Alert.objects.all(), user)).prefetch_related(
        Prefetch(
            "deliveries", queryset=Delivery.objects.select_related("channel").order_by("created_at", "id")
        )
    )
    alert = get_object_or_404(qs, pk=pk)
    alert.events = list(
        AuditEvent.objects.filter(target_type=ALERT_AUDIT_TYPE, target_id=str(alert.pk)).order_by("seq")
    )
    return alert


@dataclass(frozen=True)
class PredictionSeries:
    model: RegisteredModel
    date_from: datetime.date
    date_to: datetime.date
    baseline: PredictionStats | None
    series: list[PredictionStats]


def prediction_stats_series(
    *, model: RegisteredModel, date_from: datetime.date, date_to: datetime.date
) -> PredictionSeries:
    """A model's daily prediction statistics from `date_from` to `date_to` (inclusive, oldest first) and
    its baseline (the earliest posted): one query whatever the number of days."""
    rows = list(
        PredictionStats.objects.select_related("version")
        .filter(model=model)
        .filter(Q(is_baseline=True) | Q(is_baseline=False, day__gte=date_from, day__lte=date_to))
        .order_by("day", "id")
    )
    baseline = next((r for r in rows if r.is_baseline), None)
    series = [r for r in rows if not r.is_baseline]
    return PredictionSeries(model, date_from, date_to, baseline, series)


def model_monitoring_policy(*, model: RegisteredModel) -> MonitoringPolicy:
    """services.monitoring.policy_for(model) in one query: the model's own policy, else its domain's
    default, else the built-in defaults (unsaved)."""
    found = list(
        MonitoringPolicy.objects.filter(Q(model=model) | Q(domain_id=model.domain_id, model__isnull=True))
    )
    own = next((p for p in found if p.model_id == model.pk), None)
    default = next((p for p in found if p.model_id is None), None)
    return own or default or MonitoringPolicy(domain_id=model.domain_id)
