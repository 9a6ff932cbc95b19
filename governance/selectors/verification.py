"""Verification reads: a model's scripts, one script, the run list and one run."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from catalog.models import RegisteredModel

from .. import policies
from ..models import RunStatus, VerificationRun, VerificationScript
from ._filtering import apply_filterset

SCRIPT_ORDERING = ("name", "id")
VERIFICATION_RUN_ORDERING = ("-queued_at", "-id")
MAX_ID = 2**63 - 1
_MODEL_DEFERRED = ("search_document", "search_vector")
# The run list never shows the script's source or a run's output; the detail does.
_RUN_LIST_DEFERRED = ("script__source", "stdout_tail", "stderr_tail")


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class VerificationRunFilter(django_filters.FilterSet):
    model = django_filters.ModelChoiceFilter(
        field_name="version__model",
        queryset=RegisteredModel.objects.all(),
        to_field_name="name",
        label="Model",
    )
    version = IdFilter(field_name="version_id", label="Version id")
    status = django_filters.MultipleChoiceFilter(
        choices=RunStatus.choices, label="Status (repeat for several)"
    )
    script = IdFilter(field_name="script_id", label="Script id")

    class Meta:
        model = VerificationRun
        fields = ["model", "version", "status", "script"]


def verification_script_list(*, model: RegisteredModel) -> QuerySet[VerificationScript]:
    """A model's scripts (active or not) by name, without their source."""
    return (
        VerificationScript.objects.filter(model=model)
        .select_related("model", "created_by")
        .defer("source", *(f"model__{f}" for f in _MODEL_DEFERRED))
        .order_by(*SCRIPT_ORDERING)
    )


def verification_script_detail(*, user, pk: int) -> VerificationScript:
    """One script with its source, its model (and the model's owners, which policies read)."""
    qs = (
        policies.scope(VerificationScript.objects.all(), user)
        .select_related("model", "created_by")
        .prefetch_related("model__ownerships")
        .defer(*(f"model__{f}" for f in _MODEL_DEFERRED))
    )
    return get_object_or_404(qs, pk=pk)


def _with_run_data(queryset: QuerySet[VerificationRun]) -> QuerySet[VerificationRun]:
    return queryset.select_related("script", "version", "version__model").defer(
        *(f"version__model__{f}" for f in _MODEL_DEFERRED)
    )


def verification_run_list(*, user, filters=None) -> QuerySet[VerificationRun]:
    """Runs newest first, filtered by model (name), version (id), status and script (id)."""
    qs = apply_filterset(VerificationRunFilter, filters, policies.scope(VerificationRun.objects.all(), user))
    return _with_run_data(qs).defer(*_RUN_LIST_DEFERRED).order_by(*VERIFICATION_RUN_ORDERING)


def verification_run_detail(*, user, pk: int) -> VerificationRun:
    """One run with its checks, output tails, isolation and attempts."""
    qs = _with_run_data(policies.scope(VerificationRun.objects.all(), user)).defer("script__source")
    return get_object_or_404(qs, pk=pk)


def verification_runs_by_ids(*, ids: list[int]) -> list[VerificationRun]:
    """Runs in the order of `ids` (a service's answer, loaded for output)."""
    runs = {run.pk: run for run in _with_run_data(VerificationRun.objects.filter(pk__in=ids))}
    return [runs[pk] for pk in ids if pk in runs]


def verification_runs_active(*, script: VerificationScript, version_id: int) -> list[VerificationRun]:
    """The runs of `script` on a version still queued or running (what a repeated run request joins)."""
    qs = VerificationRun.objects.filter(
        script=script, version_id=version_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    )
    return list(_with_run_data(qs).order_by(*VERIFICATION_RUN_ORDERING))
