"""Catalog API serializers: inputs check shape and length only; outputs read what the selectors loaded.

Business rules (name syntax, tag syntax, who may do what, lineage consistency) live in catalog.services;
an input serializer here only makes sure the service gets values of the right type and size.
Output serializers touch only relations the selectors select or prefetch, so lists cost a fixed number of
queries whatever the page size (tests/catalog/test_api_queries.py pins that).
"""

from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.reverse import reverse

from portal.markdown import render_markdown
from portal.reversing import url_maker
from portal.serializers import LeanOutput

from ..models import (
    DatasetRole,
    Domain,
    Lifecycle,
    MetricGoal,
    OwnerRole,
    PiiCategory,
    RegistryAuth,
    RegistryKind,
    Sensitivity,
    Team,
    TrainingReason,
    VersionStatus,
)
from ..selectors import MODEL_SORTS

CLOCK_SKEW = timedelta(days=1)

# --- fields ---------------------------------------------------------------------------------------------


class MarkdownField(serializers.CharField):
    """Free text up to MODELHOUSE_MAX_DESCRIPTION_CHARS, read when the serializer is built (not at import),
    so the limit follows the settings."""

    def __init__(self, **kwargs):
        limit = settings.MODELHOUSE_MAX_DESCRIPTION_CHARS
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", limit)
        kwargs.setdefault("error_messages", {"max_length": f"At most {limit:,} characters."})
        super().__init__(**kwargs)


class FiniteFloatField(serializers.FloatField):
    """A JSON number (or numeric string); DRF already refuses NaN/Infinity, this also refuses true/false."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class LookupField(serializers.SlugRelatedField):
    """A related row named by one of its unique fields, with a readable message when it does not exist."""

    def __init__(self, noun: str, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"Unknown {noun} '{{value}}'.",
                "invalid": f"Give the {noun} as a string.",
                "null_characters": "Null characters are not allowed.",
            },
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The lookup would reach the database, and PostgreSQL refuses NUL in text (a 500).
        if "\x00" in data:
            self.fail("null_characters")
        return super().to_internal_value(data)


def _domain_field(**kwargs):
    return LookupField("domain", slug_field="slug", queryset=Domain.objects.all(), **kwargs)


def _team_field(**kwargs):
    return LookupField(
        "team", slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True, **kwargs
    )


def _user_field(**kwargs):
    return LookupField("user", slug_field="username", queryset=get_user_model().objects.all(), **kwargs)


# --- inputs ---------------------------------------------------------------------------------------------


class StrictInput(serializers.Serializer):
    """A request body whose unknown keys are an error rather than silently ignored (a PATCH of `name` or a
    misspelt field would otherwise answer 200 and change nothing)."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        unknown_errors = {key: [ErrorDetail("Unknown field.", code="unknown")] for key in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown_errors and isinstance(exc.detail, dict):
                exc.detail.update(unknown_errors)
            raise
        if unknown_errors:
            raise serializers.ValidationError(unknown_errors)
        return value


class ModelListParams(serializers.Serializer):
    """Query parameters the model list checks itself; the filters are ModelFilter's (see model_list)."""

    sort = serializers.ChoiceField(choices=list(MODEL_SORTS), required=False, allow_blank=True)


class OwnerInput(StrictInput):
    username = _user_field()
    role = serializers.ChoiceField(choices=OwnerRole.choices, default=OwnerRole.TECHNICAL)


class ModelUpdateInput(StrictInput):
    """PATCH body: every field optional; only the fields sent change."""

    domain = _domain_field(required=False)
    team = _team_field()
    description = MarkdownField()
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    owners = OwnerInput(many=True, required=False, allow_empty=False)
    lifecycle = serializers.ChoiceField(choices=Lifecycle.choices, required=False)
    intended_use = MarkdownField()
    limitations = MarkdownField()
    ethical_considerations = MarkdownField()
    primary_metric = serializers.CharField(max_length=100, required=False, allow_blank=True)
    primary_metric_goal = serializers.ChoiceField(choices=MetricGoal.choices, required=False)
    retrain_every_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True
    )
    source_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)

    def to_service_kwargs(self) -> dict:
        """validated_data in the shape catalog.services expects (owners as (user, role) pairs)."""
        data = dict(self.validated_data)
        if "owners" in data:
            # .get: in a PATCH (partial) DRF skips nested defaults too.
            data["owners"] = [(o["username"], o.get("role", OwnerRole.TECHNICAL)) for o in data["owners"]]
        return data


class ModelCreateInput(ModelUpdateInput):
    name = serializers.CharField(max_length=200)
    domain = _domain_field()


class MetricPointInput(StrictInput):
    key = serializers.CharField(max_length=100)
    value = FiniteFloatField()
    step = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)
    timestamp = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DatasetLinkInput(StrictInput):
    uri = serializers.CharField(max_length=1000)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    digest = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=DatasetRole.choices, default=DatasetRole.TRAINING)


class VersionCreateInput(StrictInput):
    version = serializers.CharField(max_length=50)
    created_at = serializers.DateTimeField(required=False)
    created_by = serializers.CharField(max_length=150, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=VersionStatus.choices, required=False)
    source_uri = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    run_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    code_commit = serializers.CharField(max_length=64, required=False, allow_blank=True)
    code_repository = serializers.CharField(max_length=500, required=False, allow_blank=True)
    hyperparameters = serializers.DictField(required=False)
    parent_version = serializers.CharField(max_length=50, required=False, allow_blank=True)
    artifact_digest = serializers.CharField(max_length=128, required=False, allow_blank=True)
    training_reason = serializers.ChoiceField(choices=TrainingReason.choices, required=False)
    description = MarkdownField()
    metrics = MetricPointInput(many=True, required=False)
    datasets = DatasetLinkInput(many=True, required=False)
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    def validate_created_at(self, value):
        # A date far in the future is a client bug, and would overflow the next-retraining date.
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("A version cannot be trained in the future.")
        return value

    def validate_hyperparameters(self, value):
        _check_json_document(value)
        return value


MAX_JSON_DEPTH = 32


def _check_json_document(value) -> None:
    """Refuse what the database would fail on: PostgreSQL's jsonb has no \\u0000 (in keys or strings), and
    very deep nesting makes serialising it run out of stack. Walks iteratively for the same reason."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise serializers.ValidationError(f"Nest at most {MAX_JSON_DEPTH} levels deep.")
        if isinstance(item, str):
            if "\x00" in item:
                raise serializers.ValidationError("Null characters are not allowed.")
        elif isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


class MetricsLogInput(StrictInput):
    metrics = MetricPointInput(many=True, allow_empty=False)


class DatasetsLinkInput(StrictInput):
    datasets = DatasetLinkInput(many=True, allow_empty=False)


class MetricHistoryParams(serializers.Serializer):
    key = serializers.CharField(max_length=100, required=False)


class DatasetUpdateInput(StrictInput):
    name = serializers.CharField(max_length=200, required=False)
    description = MarkdownField()
    owner = _user_field(required=False, allow_null=True)
    domain = _domain_field(required=False, allow_null=True)
    pii_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=PiiCategory.choices), required=False
    )
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    last_updated_at = serializers.DateTimeField(required=False, allow_null=True)


class DatasetCreateInput(DatasetUpdateInput):
    uri = serializers.CharField(max_length=1000)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- outputs --------------------------------------------------------------------------------------------


def _api_url(context, url_name: str, **kwargs) -> str:
    return reverse(f"catalog-api:{url_name}", kwargs=kwargs, request=context.get("request"))


def _html_url(context, obj) -> str:
    request = context.get("request")
    path = obj.get_absolute_url()
    return request.build_absolute_uri(path) if request is not None else path


class NamedRefOutput(LeanOutput):
    slug = serializers.CharField()
    name = serializers.CharField()


class OwnerOutput(LeanOutput):
    """An owner of a model and their role."""

    # Reads a ListOwner, as selectors.model_list_load sets them on a model (`list_owners`).

    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField()


class MetricOutput(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.FloatField()
    step = serializers.IntegerField()
    point_count = serializers.IntegerField()


class VersionDatasetOutput(serializers.Serializer):
    id = serializers.IntegerField(source="dataset.id")
    uri = serializers.CharField(source="dataset.uri")
    name = serializers.CharField(source="dataset.name")
    role = serializers.CharField()
    digest = serializers.CharField()


class CodeVersionOutput(serializers.Serializer):
    commit = serializers.CharField(source="code_commit")
    repository = serializers.CharField(source="code_repository")


class ModelListOutput(LeanOutput):
    """A model as lists show it: owners, tags, lifecycle, primary metric, schedule and latest version."""

    # Reads what selectors.model_list loads and what selectors.model_list_load sets for the rows being
    # answered (`list_owners`, `list_tags`, `list_metric`): views load those for the page, or for the one
    # model of a detail answer. Built by LeanOutput's walk (portal/serializers.py).

    name = serializers.CharField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    domain = NamedRefOutput()
    team = NamedRefOutput(allow_null=True)
    owners = OwnerOutput(source="list_owners", many=True)
    tags = serializers.SerializerMethodField()
    description = serializers.CharField()
    lifecycle = serializers.CharField()
    primary_metric = serializers.CharField()
    primary_metric_goal = serializers.CharField()
    primary_metric_value = serializers.SerializerMethodField()
    retrain_every_days = serializers.IntegerField(allow_null=True)
    next_retrain_due = serializers.DateTimeField(allow_null=True)
    is_retrain_overdue = serializers.SerializerMethodField()
    registry = serializers.CharField(source="source.name", allow_null=True, default=None)
    source_url = serializers.CharField()
    latest_version = serializers.CharField(source="latest_version.version", allow_null=True, default=None)
    version_count = serializers.IntegerField()
    model_card_complete = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_url(self, obj) -> str:
        return self._links()[0](obj)

    def get_html_url(self, obj) -> str:
        return self._links()[1](obj)

    def get_tags(self, obj) -> list[str]:
        return obj.list_tags

    def get_primary_metric_value(self, obj) -> float | None:
        return obj.list_metric.value if obj.list_metric is not None else None

    def get_is_retrain_overdue(self, obj) -> bool:
        return obj.is_retrain_overdue(self._links()[2])

    def _links(self):
        """(API link, page link, now) made once per serializer (a list reuses its child for every row):
        reverse() and build_absolute_uri() per row were a large part of a page of 50."""
        made = self.__dict__.get("_made_links")
        if made is None:
            request = self.context.get("request")
            versioned = request is not None and getattr(request, "versioning_scheme", None) is not None
            host = request.build_absolute_uri("/")[:-1] if request is not None else ""
            api = url_maker("catalog-api:model-detail", "name", prefix=host)
            html = url_maker("catalog:model-detail", "name", prefix=host)

            def api_url(obj):
                link = api(obj.name)
                # reverse() + build_absolute_uri() resolve "." and ".." segments: leave those to them.
                if versioned or "/." in link:
                    return _api_url(self.context, "model-detail", name=obj.name)
                return link

            def html_url(obj):
                link = html(obj.name)
                return _html_url(self.context, obj) if "/." in link else link

            made = self.__dict__["_made_links"] = (api_url, html_url, timezone.now())
        return made


class ModelDetailOutput(ModelListOutput):
    """One model as selectors.model_detail loads it (aliases with their versions)."""

    description_html = serializers.SerializerMethodField()
    intended_use = serializers.CharField()
    limitations = serializers.CharField()
    ethical_considerations = serializers.CharField()
    aliases = serializers.SerializerMethodField()
    versions_url = serializers.SerializerMethodField()
    registry_tags = serializers.DictField(child=serializers.CharField())
    manifest_registry = serializers.CharField(source="manifest_source.name", allow_null=True, default=None)
    contract = serializers.DictField()
    input_datasets = serializers.SerializerMethodField()

    def get_input_datasets(self, obj) -> list[str]:
        return [d.uri for d in obj.input_datasets.all()]

    def get_description_html(self, obj) -> str:
        return render_markdown(obj.description)

    def get_aliases(self, obj) -> dict[str, str]:
        return {a.alias: a.version.version for a in obj.aliases.all()}

    def get_versions_url(self, obj) -> str:
        return _api_url(self.context, "model-versions", name=obj.name)


class VersionRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, "version-detail", pk=obj.pk)


class VersionRefWithModelOutput(VersionRefOutput):
    model = serializers.CharField(source="model.name")


class VersionListOutput(serializers.Serializer):
    """One version of a model's version list (selectors.model_versions loads these relations)."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    version = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    description = serializers.CharField()
    run_id = serializers.CharField()
    source_uri = serializers.CharField()
    artifact_digest = serializers.CharField()
    training_reason = serializers.CharField()
    code_version = CodeVersionOutput(source="*")
    parent = VersionRefOutput(allow_null=True)
    aliases = serializers.SerializerMethodField()
    metrics = MetricOutput(source="metrics.all", many=True)
    datasets = VersionDatasetOutput(source="dataset_links.all", many=True)
    tags = serializers.DictField(child=serializers.CharField(), help_text="Registry tags of the version.")
    parent_run_id = serializers.CharField()
    registry_updated_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, obj) -> str:
        return _api_url(self.context, "version-detail", pk=obj.pk)

    def get_aliases(self, obj) -> list[str]:
        return [a.alias for a in obj.aliases.all()]


class VersionDetailOutput(VersionListOutput):
    """One version with its model, parent and children, as selectors.version_by_id loads it."""

    model = serializers.CharField(source="model.name")
    model_url = serializers.SerializerMethodField()
    params = serializers.DictField(source="hyperparameters")
    parent = VersionRefWithModelOutput(allow_null=True)
    children = VersionRefWithModelOutput(source="children.all", many=True)
    metrics_url = serializers.SerializerMethodField()

    def get_model_url(self, obj) -> str:
        return _api_url(self.context, "model-detail", name=obj.model.name)

    def get_metrics_url(self, obj) -> str:
        return _api_url(self.context, "version-metrics", pk=obj.pk)


class MetricPointOutput(serializers.Serializer):
    step = serializers.IntegerField()
    value = serializers.FloatField()


class MetricHistoryOutput(serializers.Serializer):
    """One metric's points over training steps."""

    key = serializers.CharField()
    points = MetricPointOutput(many=True)


class DatasetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    uri = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    domain = NamedRefOutput(allow_null=True)
    pii_categories = serializers.ListField(child=serializers.CharField())
    has_pii = serializers.BooleanField()
    is_special_category = serializers.BooleanField()
    sensitivity = serializers.CharField()
    last_updated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, "dataset-detail", pk=obj.pk)

    def get_html_url(self, obj) -> str:
        return _html_url(self.context, obj)


class DatasetListOutput(DatasetOutput):
    model_count = serializers.IntegerField()


class DatasetUsageVersionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="version.id")
    version = serializers.CharField(source="version.version")
    role = serializers.CharField()
    digest = serializers.CharField()


class DatasetUsageOutput(serializers.Serializer):
    """One entry of selectors.dataset_usage: a model and the versions of it that used the dataset."""

    name = serializers.CharField(source="model.name")
    url = serializers.SerializerMethodField()
    domain = NamedRefOutput(source="model.domain")
    versions = DatasetUsageVersionOutput(many=True)

    def get_url(self, entry) -> str:
        return _api_url(self.context, "model-detail", name=entry["model"].name)


class DatasetDetailOutput(DatasetOutput):
    models = serializers.SerializerMethodField()

    @extend_schema_field(DatasetUsageOutput(many=True))
    def get_models(self, obj):
        return DatasetUsageOutput(self.context["usage"], many=True, context=self.context).data


# Models of a domain per lifecycle stage, from the `<stage>_count` annotations of selectors.domain_list.
LifecycleCountsOutput = type(
    "LifecycleCountsOutput",
    (serializers.Serializer,),
    {lc.value: serializers.IntegerField(source=f"{lc.value}_count") for lc in Lifecycle}
    | {"__module__": __name__},
)


class DomainOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    key = serializers.CharField()
    description = serializers.CharField()
    url = serializers.SerializerMethodField()
    model_count = serializers.IntegerField()
    lifecycle_counts = LifecycleCountsOutput(source="*")

    def get_url(self, obj) -> str:
        return _api_url(self.context, "domain-detail", slug=obj.slug)


# --- registries -----------------------------------------------------------------------------------------


class RegistrySourceUpdateInput(StrictInput):
    """Connection settings. Secrets are never sent here: `secret_env` names the worker's environment
    variable that holds the password or token."""

    base_url = serializers.CharField(max_length=500, required=False)
    ui_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    is_enabled = serializers.BooleanField(required=False)
    poll_seconds = serializers.IntegerField(min_value=30, max_value=7 * 24 * 3600, required=False)
    full_sweep_hours = serializers.IntegerField(min_value=1, max_value=24 * 30, required=False)
    default_domain = _domain_field(required=False, allow_null=True)
    auth = serializers.ChoiceField(choices=RegistryAuth.choices, required=False)
    auth_username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    secret_env = serializers.CharField(max_length=100, required=False, allow_blank=True)


class RegistrySourceCreateInput(RegistrySourceUpdateInput):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=[RegistryKind.MLFLOW, RegistryKind.MANIFESTS])
    base_url = serializers.CharField(max_length=500)


class SyncRequestInput(StrictInput):
    full = serializers.BooleanField(default=False)


class SyncRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    is_full = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    removed = serializers.IntegerField()
    http_calls = serializers.IntegerField()
    attempt = serializers.IntegerField()
    error = serializers.CharField()
    problems = serializers.ListField(child=serializers.DictField())


class RegistrySourceOutput(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.SerializerMethodField()
    kind = serializers.CharField()
    base_url = serializers.CharField()
    ui_url = serializers.CharField()
    is_enabled = serializers.BooleanField()
    poll_seconds = serializers.IntegerField()
    full_sweep_hours = serializers.IntegerField()
    default_domain = serializers.CharField(source="default_domain.slug", allow_null=True, default=None)
    auth = serializers.CharField()
    auth_username = serializers.CharField()
    secret_env = serializers.CharField(
        help_text="Name of the environment variable; its value is never shown."
    )
    last_sync_status = serializers.CharField(allow_null=True)
    last_sync_started_at = serializers.DateTimeField(allow_null=True)
    last_sync_finished_at = serializers.DateTimeField(allow_null=True)
    sync_runs_url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, "registry-detail", name=obj.name)

    def get_sync_runs_url(self, obj) -> str:
        return _api_url(self.context, "registry-sync-runs", name=obj.name)
