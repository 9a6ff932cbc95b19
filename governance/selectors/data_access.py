"""Data-access reads: purposes, access requests and grants, re-certification campaigns, a dataset's impact
(who trained on it, who may use it) and a version's training-data check.

The FilterSets of these lists live here rather than in governance.filters (owned by the work-item and
promotion lists); they follow the same pattern and are applied through the same apply_filterset, so a bad
filter value is a 400. Every selector loads what its API output reads, so list costs do not grow with the
page (tests/governance/test_api_access_queries.py pins that).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from catalog import policies as catalog_policies
from catalog.models import Dataset, ModelAlias, ModelOwner, ModelVersion, RegisteredModel, VersionDataset
from catalog.models.datasets import SPECIAL_CATEGORIES
from portal.roles import Role, user_roles

from .. import policies
from ..models import (
    GRANT_STATUSES,
    OPEN_STATUSES,
    AccessRequest,
    AccessRequestDataset,
    AccessStatus,
    ApprovalStep,
    Attestation,
    AuditEvent,
    Campaign,
    CampaignItem,
    ModelPurpose,
    Purpose,
    StepKind,
    StepStatus,
)
from ..services.data_access import DataUse, version_data_uses
from ._filtering import apply_filterset

PURPOSE_ORDERING = ("name", "id")
ACCESS_REQUEST_ORDERING = ("-created_at", "-id")
GRANT_ORDERING = ("-created_at", "-id")
CAMPAIGN_ORDERING = ("-started_at", "-id")
DECISION_ORDERING = ("decided_at", "id")
ACCESS_REQUEST_AUDIT_TYPE = AccessRequest._meta.label_lower
MAX_WITHIN_DAYS = 3650
_MODEL_DEFERRED = ("search_document", "search_vector")
_ID = re.compile(r"^[0-9]{1,18}$")


# --- filters --------------------------------------------------------------------------------------------


class DatasetChoiceField(django_filters.fields.ModelChoiceField):
    """A dataset named by its numeric id or its URI; an unknown one is a field error, not an empty list."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        lookup = {"pk": int(value)} if _ID.match(value) else {"uri": value}
        try:
            return self.queryset.get(**lookup)
        except Dataset.DoesNotExist:
            raise ValidationError(f"Unknown dataset '{value}'.", code="invalid_choice") from None


class DatasetRefFilter(django_filters.ModelChoiceFilter):
    field_class = DatasetChoiceField


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _with_dataset(queryset, name, dataset):
    # EXISTS rather than a join: no duplicate rows, so no DISTINCT that would defeat keyset order.
    entries = AccessRequestDataset.objects.filter(request=OuterRef("pk"), dataset=dataset)
    return queryset.filter(Exists(entries))


def _special_category_q() -> Q:
    # pii_categories is a JSON list of strings; a quoted substring match works on PostgreSQL and SQLite.
    q = Q()
    for category in sorted(SPECIAL_CATEGORIES):
        q |= Q(dataset__pii_categories__icontains=f'"{category}"')
    return q


class AccessRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=AccessStatus.choices, label="Status (repeat for several)"
    )
    requester = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Requester"
    )
    dataset = DatasetRefFilter(
        queryset=Dataset.objects.all(), method=_with_dataset, label="Dataset (id or URI)"
    )
    purpose = django_filters.ModelChoiceFilter(
        queryset=Purpose.objects.all(), to_field_name="slug", label="Purpose"
    )
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only my requests (true)")
    awaiting_me = django_filters.BooleanFilter(
        method="filter_awaiting_me", label="Only requests with a step I may decide now (true)"
    )

    class Meta:
        model = AccessRequest
        fields = ["status", "requester", "dataset", "purpose", "mine", "awaiting_me"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_mine(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(requester_id=getattr(self.user, "pk", None))

    def filter_awaiting_me(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(awaiting_decision_q(self.user))


def awaiting_decision_q(user) -> Q:
    """The requests with a step `user` may decide now, in SQL: the same answer as
    services.data_access.steps_open_to_decide + policies.step_decision_refusal give row by row.

    Owner steps are open while any is pending (the named owner decides; compliance stands in where there
    is no owner); the compliance step opens once no owner step is pending. Nobody decides their own.
    """
    if getattr(user, "pk", None) is None:
        return Q(pk__in=[])
    pending = ApprovalStep.objects.filter(request=OuterRef("pk"), status=StepStatus.PENDING)
    owner_pending = pending.filter(kind=StepKind.OWNER)
    mine = Exists(owner_pending.filter(approver=user))
    if Role.COMPLIANCE.value in user_roles(user):
        mine = (
            mine
            | Exists(owner_pending.filter(approver__isnull=True))
            | (Exists(pending.filter(kind=StepKind.COMPLIANCE)) & ~Exists(owner_pending))
        )
    return Q(mine, status__in=OPEN_STATUSES) & ~Q(requester_id=user.pk)


GRANT_STATUS_CHOICES = [(s.value, s.label) for s in GRANT_STATUSES]


class GrantFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=GRANT_STATUS_CHOICES, label="Status (repeat for several)"
    )
    requester = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Requester"
    )
    dataset = DatasetRefFilter(
        queryset=Dataset.objects.all(), method=_with_dataset, label="Dataset (id or URI)"
    )
    purpose = django_filters.ModelChoiceFilter(
        queryset=Purpose.objects.all(), to_field_name="slug", label="Purpose"
    )
    expiring_within_days = IntegerFilter(
        method="filter_expiring",
        min_value=0,
        max_value=MAX_WITHIN_DAYS,
        label="Active grants ending within this many days",
    )
    special_category = django_filters.BooleanFilter(
        method="filter_special_category", label="Covers a special-category (GDPR Art. 9) dataset"
    )

    class Meta:
        model = AccessRequest
        fields = ["status", "requester", "dataset", "purpose", "expiring_within_days", "special_category"]

    def filter_expiring(self, queryset, name, value):
        today = timezone.localdate()
        return queryset.filter(
            status=AccessStatus.APPROVED,
            expiry_date__gte=today,
            expiry_date__lte=today + datetime.timedelta(days=value),
        )

    def filter_special_category(self, queryset, name, value):
        special = Exists(AccessRequestDataset.objects.filter(_special_category_q(), request=OuterRef("pk")))
        return queryset.filter(special if value else ~special)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class DecisionFilter(django_filters.FilterSet):
    since = django_filters.DateFilter(method="filter_since", label="Decided on or after (YYYY-MM-DD)")
    until = django_filters.DateFilter(method="filter_until", label="Decided on or before (YYYY-MM-DD)")
    dataset = DatasetRefFilter(
        queryset=Dataset.objects.all(), method="filter_dataset", label="Dataset (id or URI)"
    )

    class Meta:
        model = ApprovalStep
        fields = ["since", "until", "dataset"]

    def filter_since(self, queryset, name, value):
        return queryset.filter(decided_at__gte=_start_of(value))

    def filter_until(self, queryset, name, value):
        if value == datetime.date.max:
            return queryset  # the day after would overflow; nothing is decided after it anyway
        return queryset.filter(decided_at__lt=_start_of(value + datetime.timedelta(days=1)))

    def filter_dataset(self, queryset, name, value):
        entries = AccessRequestDataset.objects.filter(request=OuterRef("request_id"), dataset=value)
        return queryset.filter(Exists(entries))


# --- purposes -------------------------------------------------------------------------------------------


def purpose_list(*, user) -> QuerySet[Purpose]:
    """Every purpose (active or not), by name, with the number of models that declare it."""
    return policies.scope(Purpose.objects.annotate(model_count=Count("models")), user).order_by(
        *PURPOSE_ORDERING
    )


def purpose_detail(*, user, slug: str) -> Purpose:
    return get_object_or_404(purpose_list(user=user), slug=slug)


# --- access requests and grants -------------------------------------------------------------------------


# Steps in the order they are decided: the data owners' first, then compliance.
_STEP_RANK = Case(
    When(kind=StepKind.COMPLIANCE, then=Value(1)), default=Value(0), output_field=IntegerField()
)


def _with_request_data(queryset: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    """What a request row shows (people, purpose, datasets with columns, the approval steps)."""
    return queryset.select_related("requester", "team", "purpose", "ended_by", "work_item").prefetch_related(
        Prefetch(
            "dataset_entries",
            queryset=AccessRequestDataset.objects.select_related("dataset", "dataset__owner").order_by(
                "dataset__name", "id"
            ),
        ),
        Prefetch(
            "steps",
            queryset=ApprovalStep.objects.select_related("dataset", "approver", "decided_by")
            .annotate(step_rank=_STEP_RANK)
            .order_by("step_rank", "id"),
        ),
    )


def access_request_list(*, user, filters=None) -> QuerySet[AccessRequest]:
    """Access requests (every status) filtered by status, requester, dataset, purpose, `mine` and
    `awaiting_me` (a step the user may decide now), newest first. ValidationError for a bad filter."""
    qs = apply_filterset(
        AccessRequestFilter, filters, policies.scope(AccessRequest.objects.all(), user), user=user
    )
    return _with_request_data(qs).order_by(*ACCESS_REQUEST_ORDERING)


def access_request_get(*, user, pk: int) -> AccessRequest:
    """One request without its relations (for write paths). Http404 if unknown."""
    return get_object_or_404(policies.scope(AccessRequest.objects.all(), user), pk=pk)


def _events(request: AccessRequest) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(target_type=ACCESS_REQUEST_AUDIT_TYPE, target_id=str(request.pk)).order_by(
            "seq"
        )
    )


def access_request_detail(*, user, pk: int) -> AccessRequest:
    """One request with datasets, columns, steps and its audit events oldest first (as `events`)."""
    request = get_object_or_404(_with_request_data(policies.scope(AccessRequest.objects.all(), user)), pk=pk)
    request.events = _events(request)
    return request


def access_request_decision_refusal(*, user, request: AccessRequest) -> str | None:
    """Why `user` may not approve or reject `request` now, or None if they may: the answer
    services.data_access.access_request_decide would give (it decides; this only reads the loaded steps)."""
    if request.status not in OPEN_STATUSES:
        return f"This request is {request.get_status_display().lower()}; there is nothing to decide."
    _, refusal, _ = policies.access_step_to_decide(user, request)
    return refusal


def grant_list(*, user, filters=None) -> QuerySet[AccessRequest]:
    """Approved requests and the grants that ended (revoked, expired), filtered by status, requester,
    dataset, purpose, `expiring_within_days` and `special_category`; newest first."""
    qs = policies.scope(AccessRequest.objects.filter(status__in=GRANT_STATUSES), user)
    return _with_request_data(apply_filterset(GrantFilter, filters, qs)).order_by(*GRANT_ORDERING)


def grant_get(*, user, pk: int) -> AccessRequest:
    return get_object_or_404(
        policies.scope(AccessRequest.objects.filter(status__in=GRANT_STATUSES), user), pk=pk
    )


def grant_detail(*, user, pk: int) -> AccessRequest:
    qs = _with_request_data(policies.scope(AccessRequest.objects.filter(status__in=GRANT_STATUSES), user))
    grant = get_object_or_404(qs, pk=pk)
    grant.events = _events(grant)
    return grant


def access_decision_list(*, user, filters=None) -> QuerySet[ApprovalStep]:
    """Every decided approval step (one row per decision), oldest decision first, with its request."""
    qs = policies.scope(ApprovalStep.objects.exclude(status=StepStatus.PENDING), user)
    return (
        apply_filterset(DecisionFilter, filters, qs)
        .select_related(
            "request", "request__requester", "request__purpose", "dataset", "approver", "decided_by"
        )
        .order_by(*DECISION_ORDERING)
    )


# --- campaigns ------------------------------------------------------------------------------------------


def _with_progress(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    counts = {
        f"{decision}_count": Count("items", filter=Q(items__decision=decision))
        for decision in Attestation.values
    }
    return queryset.select_related("started_by").annotate(item_count=Count("items"), **counts)


def campaign_list(*, user) -> QuerySet[Campaign]:
    """Campaigns newest first, each with its item count per attestation decision."""
    return _with_progress(policies.scope(Campaign.objects.all(), user)).order_by(*CAMPAIGN_ORDERING)


def campaign_detail(*, user, pk: int) -> Campaign:
    """One campaign with its progress and its items (grant, requester, purpose, dataset, who attests)."""
    items = CampaignItem.objects.select_related(
        "grant", "grant__requester", "grant__purpose", "dataset", "owner", "decided_by"
    ).order_by("grant_id", "dataset__name", "id")
    qs = _with_progress(policies.scope(Campaign.objects.all(), user)).prefetch_related(
        Prefetch("items", queryset=items)
    )
    return get_object_or_404(qs, pk=pk)


def campaign_item_get(*, user, campaign_id: int, pk: int) -> CampaignItem:
    qs = policies.scope(CampaignItem.objects.all(), user)
    return get_object_or_404(qs, pk=pk, campaign_id=campaign_id)


# --- models, datasets and versions ----------------------------------------------------------------------


def governance_model(*, user, name: str) -> RegisteredModel:
    """A model for a model-scoped governance endpoint, with its owners loaded (policies read them)."""
    qs = (
        catalog_policies.scope(RegisteredModel.objects.all(), user)
        .defer(*_MODEL_DEFERRED)
        .prefetch_related(Prefetch("ownerships", queryset=ModelOwner.objects.select_related("user")))
    )
    return get_object_or_404(qs, name=name)


def model_purpose(*, model: RegisteredModel) -> ModelPurpose | None:
    return ModelPurpose.objects.filter(model=model).select_related("purpose").first()


@dataclass(frozen=True)
class VersionUse:
    version: ModelVersion
    role: str
    digest: str
    is_production: bool


@dataclass(frozen=True)
class ProductionModel:
    model: RegisteredModel
    production_version: ModelVersion | None
    production_version_uses_dataset: bool


@dataclass(frozen=True)
class DatasetImpact:
    dataset: Dataset
    versions: list[VersionUse]
    production_models: list[ProductionModel]
    active_grants: list[AccessRequest]


def dataset_impact(*, user, pk: int) -> DatasetImpact:
    """Everything an erasure request or a breach on one dataset touches, in four queries: every model
    version that used it (with its role), the production models among their models (in production, or
    serving a version that used it), and every active grant on it (with the columns granted)."""
    dataset = get_object_or_404(catalog_policies.scope(Dataset.objects.select_related("owner"), user), pk=pk)
    links = list(
        VersionDataset.objects.filter(dataset=dataset)
        .select_related("version", "version__model")
        .defer(*(f"version__model__{f}" for f in _MODEL_DEFERRED))
        .order_by("version__model__name", "-version__sequence", "-version_id", "role")
    )
    models = {link.version.model_id: link.version.model for link in links}
    production = {
        alias.model_id: alias.version
        for alias in ModelAlias.objects.filter(alias="production", model_id__in=models).select_related(
            "version"
        )
    }
    used = {link.version_id for link in links}
    versions = [
        VersionUse(
            link.version,
            link.role,
            link.digest,
            link.version_id == getattr(production.get(link.version.model_id), "pk", None),
        )
        for link in links
    ]
    production_models = [
        ProductionModel(
            model, production.get(model.pk), getattr(production.get(model.pk), "pk", None) in used
        )
        for model in models.values()
        if model.lifecycle == "production" or model.pk in production
    ]
    grants = list(
        AccessRequest.objects.filter(
            Exists(AccessRequestDataset.objects.filter(request=OuterRef("pk"), dataset=dataset)),
            status=AccessStatus.APPROVED,
        )
        .select_related("requester", "team", "purpose")
        .prefetch_related(
            Prefetch(
                "dataset_entries",
                queryset=AccessRequestDataset.objects.filter(dataset=dataset),
                to_attr="entries_here",
            )
        )
        .order_by("expiry_date", "id")
    )
    return DatasetImpact(dataset, versions, production_models, grants)


@dataclass(frozen=True)
class VersionDataUse:
    version: ModelVersion
    purpose: Purpose | None
    at: datetime.date
    uses: list[DataUse]

    @property
    def all_covered(self) -> bool:
        return all(use.covered for use in self.uses)


def version_data_use_loaded(*, version: ModelVersion, at: datetime.date | None = None) -> VersionDataUse:
    """version_data_use for a version the caller already loaded and scoped (the catalog's version page, with
    its model and, ideally, its dataset_links__dataset): the same answers without reading the version again,
    reusing its loaded links, the model's purpose read once."""
    from .pages_access import version_data_uses_many

    day = at or version.created_at.date()
    link = model_purpose(model=version.model)
    uses = version_data_uses_many(versions=[version], at=day, purposes={version.model_id: link})
    return VersionDataUse(
        version=version, purpose=link.purpose if link else None, at=day, uses=uses[version.pk]
    )


def version_data_use(*, user, pk: int, at: datetime.date | None = None) -> VersionDataUse:
    """For each training dataset of a version: covered by a grant or not, and why, on `at` (default the
    day the version was trained). Http404 for an unknown version."""
    qs = catalog_policies.scope(ModelVersion.objects.select_related("model"), user).defer(
        *(f"model__{f}" for f in _MODEL_DEFERRED)
    )
    version = get_object_or_404(qs, pk=pk)
    link = model_purpose(model=version.model)
    return VersionDataUse(
        version=version,
        purpose=link.purpose if link else None,
        at=at or version.created_at.date(),
        uses=version_data_uses(version=version, at=at),
    )
