"""Monitoring reads: the alert list and one alert, a model's posted prediction statistics."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import django_filters
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import Domain, RegisteredModel

from .. import policies
from ..models import Alert, AlertCondition, AlertState, AuditEvent, Delivery, PredictionStats, Severity
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
    its baseline: two queries whatever the number of days."""
    stats = PredictionStats.objects.select_related("version")
    series = list(
        stats.filter(model=model, is_baseline=False, day__gte=date_from, day__lte=date_to).order_by("day")
    )
    baseline = stats.filter(model=model, is_baseline=True).first()
    return PredictionSeries(model, date_from, date_to, baseline, series)
