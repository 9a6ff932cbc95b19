"""Serializers of the data-access, verification and monitoring API: inputs check shape and size only;
outputs read what governance.selectors.{data_access,verification,monitoring} loaded.

Who may do what, legal bases allowed per purpose, DPIA and expiry rules, the approval order and script
syntax live in governance.services and policies; the services answer with field messages (400), the
policy's refusal (403) or a state conflict (409).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from catalog.api.serializers import (
    FiniteFloatField,
    LookupField,
    MarkdownField,
    NamedRefOutput,
    StrictInput,
    VersionRefOutput,
)
from catalog.models import Dataset, ModelVersion, Team

from .. import policies
from ..models import (
    OPEN_STATUSES,
    AccessStatus,
    LegalBasis,
    Purpose,
)
from ..services.verification import MAX_SOURCE_CHARS, MAX_TIMEOUT, MIN_TIMEOUT
from .serializers import ActivityOutput, DatasetRefOutput, IdLookupField

MAX_ID = 2**63 - 1
MAX_DATASETS = 50
MAX_COLUMNS = 500
MAX_STATS_KEYS = 200
_DIGITS = re.compile(r"^[0-9]{1,18}$")
NAMESPACE = "governance-access-api"


def _api_url(context, url_name: str, **kwargs) -> str:
    return reverse(url_name, kwargs=kwargs, request=context.get("request"))


def _user(context):
    return getattr(context.get("request"), "user", None)


# --- fields ---------------------------------------------------------------------------------------------


def _dataset_lookup(value) -> Dataset:
    """A dataset named by its numeric id (a number or a string of digits) or its URI."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise serializers.ValidationError("Give the dataset as its id or URI.")
    if isinstance(value, str):
        if "\x00" in value:
            raise serializers.ValidationError("Null characters are not allowed.")
        if len(value) > 1000:
            raise serializers.ValidationError("At most 1000 characters.")
    lookup = {"pk": int(value)} if isinstance(value, int) or _DIGITS.match(value) else {"uri": value}
    if "pk" in lookup and not 1 <= lookup["pk"] <= MAX_ID:
        raise serializers.ValidationError(f"Unknown dataset '{value}'.")
    dataset = Dataset.objects.filter(**lookup).first()
    if dataset is None:
        raise serializers.ValidationError(f"Unknown dataset '{value}'.")
    return dataset


class AccessDatasetInput(StrictInput):
    """One dataset of an access request, optionally limited to named columns."""

    dataset = serializers.JSONField(help_text="The dataset's id or URI.")
    columns = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=MAX_COLUMNS,
        help_text="Named columns only; empty means every column.",
    )

    def validate_dataset(self, value) -> Dataset:
        return _dataset_lookup(value)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "Dataset id."},
            {"type": "string", "description": "Dataset id or URI."},
            {
                "type": "object",
                "properties": {
                    "dataset": {
                        "oneOf": [{"type": "integer"}, {"type": "string"}],
                        "description": "Dataset id or URI.",
                    },
                    "columns": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["dataset"],
            },
        ]
    }
)
class DatasetEntryField(serializers.Field):
    """One dataset of a request: its id, its URI, or {"dataset": id or URI, "columns": [...]}.
    The internal value is (dataset, columns), the shape services.data_access expects."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            entry = AccessDatasetInput(data=data)
            entry.is_valid(raise_exception=True)
            return entry.validated_data["dataset"], entry.validated_data["columns"]
        return _dataset_lookup(data), []

    def to_representation(self, value):  # input only
        raise NotImplementedError


def _purpose_field(**kwargs):
    return LookupField("purpose", slug_field="slug", queryset=Purpose.objects.all(), **kwargs)


# One named schema component for both uses (a request's basis, a purpose's allowed bases): spectacular would
# otherwise name the same choice set twice after the two fields.
@extend_schema_field({"type": "string", "enum": list(LegalBasis.values)}, component_name="LegalBasisEnum")
class LegalBasisField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        choices = ", ".join(LegalBasis.values)
        kwargs.setdefault("error_messages", {"invalid_choice": f"A GDPR Art. 6 legal basis: {choices}."})
        super().__init__(choices=LegalBasis.choices, **kwargs)


class VersionOfModelField(IdLookupField):
    """A version id, looked up among the versions of the model in the serializer's context (`model`), so a
    version of another model is unknown here rather than silently used."""

    def __init__(self, **kwargs):
        super().__init__("version", queryset=ModelVersion.objects.all(), **kwargs)

    def get_queryset(self):
        model = self.context.get("model")
        return ModelVersion.objects.filter(model=model) if model is not None else ModelVersion.objects.none()


# --- inputs: data access --------------------------------------------------------------------------------


class PurposeCreateInput(StrictInput):
    """A purpose personal data may be used for, and the GDPR Art. 6 bases it may rest on."""

    name = serializers.CharField(max_length=150)
    description = MarkdownField(required=True, allow_blank=False)
    allowed_legal_bases = serializers.ListField(child=LegalBasisField(), allow_empty=False, max_length=10)


class AccessRequestCreateInput(StrictInput):
    """Datasets for a purpose until a date; each dataset is its id, its URI, or {dataset, columns}."""

    datasets = serializers.ListField(child=DatasetEntryField(), allow_empty=False, max_length=MAX_DATASETS)
    purpose = _purpose_field()
    legal_basis = LegalBasisField()
    justification = MarkdownField(required=True)
    start_date = serializers.DateField(
        required=False, default=timezone.localdate, help_text="YYYY-MM-DD; default today."
    )
    expiry_date = serializers.DateField(help_text="YYYY-MM-DD, in the future.")
    dpia_reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    team = LookupField(
        "team", slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    submit = serializers.BooleanField(default=True, help_text="False keeps it as a draft.")

    def validate_datasets(self, value):
        seen = set()
        for dataset, _ in value:
            if dataset.pk in seen:
                raise serializers.ValidationError(f"Name each dataset once ({dataset.uri} is repeated).")
            seen.add(dataset.pk)
        return value


class ReasonInput(StrictInput):
    """An optional reason, recorded in the audit trail."""

    reason = MarkdownField()


class RequiredReasonInput(StrictInput):
    """A reason (10+ characters), recorded in the audit trail."""

    reason = MarkdownField(required=True)


class EmptyInput(StrictInput):
    """No body, or an empty object."""


class CampaignCreateInput(StrictInput):
    """A re-certification round over every active grant."""

    name = serializers.CharField(max_length=150)
    deadline = serializers.DateField(help_text="YYYY-MM-DD, in the future.")
    revoke_unattested = serializers.BooleanField(
        default=False, help_text="Revoke the grants nobody attested by the deadline."
    )


class AttestInput(StrictInput):
    """Keep or revoke one grant; revoking needs a note."""

    keep = serializers.BooleanField(
        help_text="true keeps the grant; false revokes it at once (needs a note)."
    )
    note = MarkdownField()


class ModelPurposeInput(StrictInput):
    """The purpose (slug) the model serves."""

    purpose = _purpose_field()


class DataUseParams(serializers.Serializer):
    at = serializers.DateField(required=False, input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD")


# --- inputs: verification and monitoring ----------------------------------------------------------------


class VerificationScriptInput(StrictInput):
    """A verification script; saving one with an existing name makes a new revision."""

    name = serializers.CharField(max_length=100)
    source = serializers.CharField(max_length=MAX_SOURCE_CHARS, trim_whitespace=False)
    checks_description = MarkdownField()
    timeout_seconds = serializers.IntegerField(min_value=MIN_TIMEOUT, max_value=MAX_TIMEOUT, default=120)
    is_active = serializers.BooleanField(default=True)


class VerificationRunInput(StrictInput):
    """The version to run the script on."""

    version = VersionOfModelField(help_text="Id of a version of the script's model.")


def _check_stats_keys(value: dict) -> dict:
    if len(value) > MAX_STATS_KEYS:
        raise serializers.ValidationError(f"At most {MAX_STATS_KEYS} entries.")
    for key in value:
        if "\x00" in key or len(key) > 100:
            raise serializers.ValidationError("Names of 1-100 characters, without null characters.")
    return value


class PredictionStatsInput(StrictInput):
    """One day's summary of a model's predictions, or its baseline."""

    day = serializers.DateField(help_text="YYYY-MM-DD: the day summarised (for the baseline, any day).")
    count = serializers.IntegerField(min_value=0, max_value=MAX_ID)
    mean = FiniteFloatField()
    std = FiniteFloatField()
    quantiles = serializers.DictField(child=FiniteFloatField(), required=False, default=dict)
    segment_means = serializers.DictField(child=FiniteFloatField(), required=False, default=dict)
    is_baseline = serializers.BooleanField(default=False, help_text="The training/validation reference.")
    version = VersionOfModelField(required=False, allow_null=True, default=None)

    def validate_quantiles(self, value):
        return _check_stats_keys(value)

    def validate_segment_means(self, value):
        return _check_stats_keys(value)


MAX_SERIES_DAYS = 731


class PredictionStatsParams(serializers.Serializer):
    """`from` and `to` (inclusive days); default the 90 days up to today, at most MAX_SERIES_DAYS."""

    def get_fields(self):
        return {
            "from": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
            "to": serializers.DateField(required=False, input_formats=["%Y-%m-%d"]),
        }

    def validate(self, attrs):
        to = attrs.get("to") or timezone.localdate()
        start = attrs.get("from")
        if start is None:
            start = to - datetime.timedelta(days=90) if to.toordinal() > 90 else datetime.date.min
        if start > to:
            raise serializers.ValidationError({"from": "Must be on or before `to`."})
        if (to - start).days >= MAX_SERIES_DAYS:
            raise serializers.ValidationError({"from": f"Ask for at most {MAX_SERIES_DAYS} days at once."})
        return {"date_from": start, "date_to": to}


class ResolveInput(StrictInput):
    """What was done about the alert (10+ characters)."""

    resolution = MarkdownField(required=True)


# --- outputs: data access -------------------------------------------------------------------------------


class PurposeOutput(serializers.Serializer):
    slug = serializers.CharField()
    url = serializers.SerializerMethodField()
    name = serializers.CharField()
    description = serializers.CharField()
    allowed_legal_bases = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    model_count = serializers.IntegerField(help_text="Models that declare this purpose.")

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:purpose-detail", slug=obj.slug)


class AccessDatasetOutput(serializers.Serializer):
    id = serializers.IntegerField(source="dataset.id")
    name = serializers.CharField(source="dataset.name")
    uri = serializers.CharField(source="dataset.uri")
    owner = serializers.CharField(source="dataset.owner.username", allow_null=True, default=None)
    pii_categories = serializers.ListField(source="dataset.pii_categories", child=serializers.CharField())
    is_special_category = serializers.BooleanField(source="dataset.is_special_category")
    sensitivity = serializers.CharField(source="dataset.sensitivity")
    columns = serializers.ListField(child=serializers.CharField(), help_text="Empty means every column.")


class ApprovalStepOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="owner (a dataset's owner) or compliance.")
    dataset = DatasetRefOutput(allow_null=True)
    approver = serializers.CharField(
        source="approver.username",
        allow_null=True,
        default=None,
        help_text="Who must decide; null means any compliance officer.",
    )
    status = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class AccessRequestListOutput(serializers.Serializer):
    """One request as selectors.data_access.access_request_list loads it."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    requester = serializers.CharField(source="requester.username")
    team = serializers.CharField(source="team.slug", allow_null=True, default=None)
    purpose = NamedRefOutput()
    legal_basis = serializers.CharField()
    justification = serializers.CharField()
    start_date = serializers.DateField()
    expiry_date = serializers.DateField()
    dpia_reference = serializers.CharField()
    datasets = AccessDatasetOutput(source="dataset_entries.all", many=True)
    steps = ApprovalStepOutput(source="steps.all", many=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField()
    work_item = serializers.CharField(source="work_item.key", allow_null=True, default=None)

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:access-request-detail", pk=obj.pk)


class AccessRequestDetailOutput(AccessRequestListOutput):
    """One request with what the requesting user may do (decision_refusal comes from the view)."""

    can_decide = serializers.SerializerMethodField()
    decision_refusal = serializers.SerializerMethodField()
    can_submit = serializers.SerializerMethodField()
    can_withdraw = serializers.SerializerMethodField()
    grant_url = serializers.SerializerMethodField()
    events = ActivityOutput(many=True, help_text="The request's audit events, oldest first.")

    def get_can_decide(self, obj) -> bool:
        """Whether the requesting user may approve or reject a step now."""
        return self.context["decision_refusal"] is None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decision_refusal(self, obj):
        """Why the requesting user may not decide now (own request, not the owner, compliance waits for the
        owners, already decided), or null."""
        return self.context["decision_refusal"]

    def get_can_submit(self, obj) -> bool:
        user = _user(self.context)
        return obj.status == AccessStatus.DRAFT and getattr(user, "pk", None) == obj.requester_id

    def get_can_withdraw(self, obj) -> bool:
        user = _user(self.context)
        return (
            obj.status in (AccessStatus.DRAFT, *OPEN_STATUSES)
            and user is not None
            and policies.can_withdraw_access_request(user, obj)
        )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_grant_url(self, obj):
        if obj.status not in (AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED):
            return None
        return _api_url(self.context, f"{NAMESPACE}:grant-detail", pk=obj.pk)


class GrantListOutput(AccessRequestListOutput):
    """A grant: an approved request, or one that was revoked or expired."""

    is_active = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    ended_by = serializers.CharField(source="ended_by.username", allow_null=True, default=None)
    request_url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:grant-detail", pk=obj.pk)

    def get_request_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:access-request-detail", pk=obj.pk)

    def get_is_active(self, obj) -> bool:
        return obj.status == AccessStatus.APPROVED

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_left(self, obj):
        """Days until the grant ends (0 on its last day); null once it has ended."""
        if obj.status != AccessStatus.APPROVED:
            return None
        return max((obj.expiry_date - timezone.localdate()).days, 0)


class GrantDetailOutput(GrantListOutput):
    events = ActivityOutput(many=True, help_text="The grant's audit events, oldest first.")


class CampaignProgressOutput(serializers.Serializer):
    total = serializers.IntegerField(source="item_count")
    pending = serializers.IntegerField(source="pending_count")
    keep = serializers.IntegerField(source="keep_count")
    revoke = serializers.IntegerField(source="revoke_count")
    unattested = serializers.IntegerField(source="unattested_count", help_text="Missed the deadline.")


class CampaignListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    name = serializers.CharField()
    started_by = serializers.CharField(source="started_by.username")
    started_at = serializers.DateTimeField()
    deadline = serializers.DateField()
    revoke_unattested = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    is_closed = serializers.SerializerMethodField()
    progress = CampaignProgressOutput(source="*")

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:campaign-detail", pk=obj.pk)

    def get_is_closed(self, obj) -> bool:
        return obj.closed_at is not None


class CampaignGrantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    requester = serializers.CharField(source="requester.username")
    purpose = NamedRefOutput()
    status = serializers.CharField()
    expiry_date = serializers.DateField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:grant-detail", pk=obj.pk)


class CampaignItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    grant = CampaignGrantOutput()
    dataset = DatasetRefOutput()
    owner = serializers.CharField(
        source="owner.username",
        allow_null=True,
        default=None,
        help_text="Who attests; null means compliance (the dataset has no owner).",
    )
    decision = serializers.CharField(help_text="pending, keep, revoke or unattested.")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()
    attest_url = serializers.SerializerMethodField()

    def get_attest_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:campaign-item-attest", pk=obj.campaign_id, item_id=obj.pk)


class CampaignDetailOutput(CampaignListOutput):
    items = CampaignItemOutput(source="items.all", many=True)


class ModelPurposeOutput(serializers.Serializer):
    model = serializers.CharField()
    purpose = PurposeOutput(allow_null=True, help_text="Null until the model's owners declare one.")


class ImpactVersionOutput(serializers.Serializer):
    model = serializers.CharField(source="version.model.name")
    version = VersionRefOutput()
    role = serializers.CharField(help_text="training or evaluation.")
    digest = serializers.CharField()
    is_production = serializers.BooleanField(help_text="The model's production alias points at it.")


class ImpactModelOutput(serializers.Serializer):
    name = serializers.CharField(source="model.name")
    lifecycle = serializers.CharField(source="model.lifecycle")
    production_version = VersionRefOutput(allow_null=True, help_text="Behind the production alias.")
    production_version_uses_dataset = serializers.BooleanField()


class ImpactGrantOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    requester = serializers.CharField(source="requester.username")
    team = serializers.CharField(source="team.slug", allow_null=True, default=None)
    purpose = NamedRefOutput()
    legal_basis = serializers.CharField()
    start_date = serializers.DateField()
    expiry_date = serializers.DateField()
    columns = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:grant-detail", pk=obj.pk)

    def get_columns(self, obj) -> list[str]:
        """The columns of this dataset the grant covers; empty means every column."""
        return obj.entries_here[0].columns if obj.entries_here else []


class ImpactDatasetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uri = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    pii_categories = serializers.ListField(child=serializers.CharField())
    is_special_category = serializers.BooleanField()
    sensitivity = serializers.CharField()


class DatasetImpactOutput(serializers.Serializer):
    dataset = ImpactDatasetOutput()
    versions = ImpactVersionOutput(many=True, help_text="Every model version that used the dataset.")
    production_models = ImpactModelOutput(many=True)
    active_grants = ImpactGrantOutput(many=True)


class DataUseOutput(serializers.Serializer):
    dataset = DatasetRefOutput()
    role = serializers.CharField()
    has_pii = serializers.BooleanField(source="dataset.has_pii")
    covered = serializers.BooleanField()
    needs_grant = serializers.BooleanField()
    grant = serializers.IntegerField(source="grant.pk", allow_null=True, default=None)
    grant_url = serializers.SerializerMethodField()
    reason = serializers.CharField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_grant_url(self, obj):
        if obj.grant is None:
            return None
        return _api_url(self.context, f"{NAMESPACE}:grant-detail", pk=obj.grant.pk)


class VersionDataUseOutput(serializers.Serializer):
    model = serializers.CharField(source="version.model.name")
    version = VersionRefOutput()
    purpose = NamedRefOutput(allow_null=True, help_text="The model's declared purpose.")
    at = serializers.DateField(help_text="The day checked (default: the day the version was trained).")
    all_covered = serializers.BooleanField()
    uses = DataUseOutput(many=True, help_text="One entry per training dataset.")


# --- outputs: verification ------------------------------------------------------------------------------


class VerificationScriptOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    model = serializers.CharField(source="model.name")
    name = serializers.CharField()
    checks_description = serializers.CharField()
    timeout_seconds = serializers.IntegerField()
    revision = serializers.CharField(help_text="SHA-256 of the source.")
    is_active = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    run_url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:verification-script-detail", pk=obj.pk)

    def get_run_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:verification-script-run", pk=obj.pk)


class VerificationScriptDetailOutput(VerificationScriptOutput):
    source = serializers.CharField()


class ScriptRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:verification-script-detail", pk=obj.pk)


class VerificationRunListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    model = serializers.CharField(source="version.model.name")
    version = VersionRefOutput()
    script = ScriptRefOutput()
    script_revision = serializers.CharField()
    is_current_revision = serializers.SerializerMethodField()
    trigger = serializers.CharField(help_text="manual, new_version, promotion or schedule.")
    status = serializers.CharField()
    summary = serializers.CharField()
    queued_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    attempts = serializers.IntegerField()
    worker = serializers.CharField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:verification-run-detail", pk=obj.pk)

    def get_is_current_revision(self, obj) -> bool:
        """Whether the run checked the script as it is now."""
        return obj.script_revision == obj.script.revision


class CheckOutput(serializers.Serializer):
    name = serializers.JSONField(required=False)
    passed = serializers.JSONField(required=False)
    value = serializers.JSONField(required=False)
    threshold = serializers.JSONField(required=False)
    message = serializers.JSONField(required=False)


class VerificationRunDetailOutput(VerificationRunListOutput):
    checks = CheckOutput(many=True, help_text="As the script reported them.")
    exit_code = serializers.IntegerField(allow_null=True)
    stdout_tail = serializers.CharField()
    stderr_tail = serializers.CharField()
    isolation = serializers.ListField(child=serializers.CharField(), help_text="How the sandbox isolated it.")


class VerificationRunQueuedOutput(serializers.Serializer):
    queued = serializers.BooleanField(
        help_text="False when this script was already queued or running on the version (the runs listed)."
    )
    runs = VerificationRunListOutput(many=True)


# --- outputs: monitoring --------------------------------------------------------------------------------


class PredictionStatsOutput(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
    mean = serializers.FloatField()
    std = serializers.FloatField()
    quantiles = serializers.DictField(child=serializers.FloatField())
    segment_means = serializers.DictField(child=serializers.FloatField())
    is_baseline = serializers.BooleanField()
    version = VersionRefOutput(allow_null=True)
    received_at = serializers.DateTimeField()


class PredictionSeriesOutput(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    baseline = PredictionStatsOutput(allow_null=True)
    series = PredictionStatsOutput(many=True, help_text="One entry per posted day, oldest first.")


class AlertListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    model = serializers.CharField(source="model.name")
    model_url = serializers.SerializerMethodField()
    domain = NamedRefOutput(source="model.domain")
    condition = serializers.CharField()
    condition_label = serializers.CharField(source="get_condition_display")
    severity = serializers.CharField()
    state = serializers.CharField()
    summary = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    occurrences = serializers.IntegerField()
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()
    incident = serializers.CharField(source="incident.key", allow_null=True, default=None)
    mitigations = serializers.JSONField(help_text="What was done automatically.")

    def get_url(self, obj) -> str:
        return _api_url(self.context, f"{NAMESPACE}:alert-detail", pk=obj.pk)

    def get_model_url(self, obj) -> str:
        return _api_url(self.context, "catalog-api:model-detail", name=obj.model.name)


class DeliveryOutput(serializers.Serializer):
    channel = serializers.CharField(source="channel.name")
    event = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class AlertDetailOutput(AlertListOutput):
    details = serializers.JSONField()
    deliveries = DeliveryOutput(source="deliveries.all", many=True)
    events = ActivityOutput(many=True, help_text="The alert's audit events, oldest first.")
