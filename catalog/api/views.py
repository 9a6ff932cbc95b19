"""Catalog REST API: thin views. Each checks the request's shape with one input serializer, calls one
selector or service, and answers with one output serializer.

Filtering is the selectors' job (they apply the FilterSets the HTML lists use), so no view has a filter
backend: `filter_backends = []` keeps DRF's default DjangoFilterBackend from filtering a second time.
Lists page with keyset cursors (portal.pagination.KeysetApiPagination, the default pagination class);
each list view names its total order in `get_keyset_ordering()`.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal.api import ApiView, filterset_parameters

from .. import selectors, services
from ..filters import DatasetFilter, ModelFilter
from ..registries.manifests import manifest_schema
from ..selectors.datasets import DATASET_ORDERING
from ..selectors.models import DEFAULT_MODEL_SORT, MODEL_SORTS
from ..selectors.registries import SYNC_RUN_ORDERING
from ..services import registries as registry_services
from . import serializers as s
from .permissions import (
    CanEditModel,
    CanManageDatasets,
    CanManageRegistries,
    CanRegisterModel,
    CanTriggerSync,
)

VERSION_ORDERING = ("-sequence", "-id")
DOMAIN_ORDERING = ("name", "id")


SORT_PARAMETER = OpenApiParameter(
    "sort",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(MODEL_SORTS),
    description="; ".join(f"`{key}`: {sort.label}" for key, sort in MODEL_SORTS.items())
    + f". Default `{DEFAULT_MODEL_SORT}`.",
)


# --- models ---------------------------------------------------------------------------------------------


@extend_schema(tags=["models"])
class ModelListCreateApi(ApiView):
    """Registered models: list with the HTML list's filters and sorts; register one."""

    permission_classes = [IsAuthenticated, CanRegisterModel]
    sort = DEFAULT_MODEL_SORT

    def get_keyset_ordering(self):
        return MODEL_SORTS[self.sort].ordering

    @extend_schema(
        operation_id="models_list",
        summary="List models",
        parameters=[*filterset_parameters(ModelFilter), SORT_PARAMETER],
        responses=s.ModelListOutput(many=True),
    )
    def get(self, request):
        params = self.validated(s.ModelListParams, request.query_params)
        self.sort = params.validated_data.get("sort") or DEFAULT_MODEL_SORT
        models = selectors.model_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.ModelListOutput, models, load=selectors.model_list_load)

    @extend_schema(
        operation_id="models_create",
        summary="Register a model",
        request=s.ModelCreateInput,
        responses={201: s.ModelDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.ModelCreateInput, request.data)
        model = services.model_create(actor=request.user, **data.to_service_kwargs())
        model = selectors.model_detail(user=request.user, name=model.name)
        return self.respond(
            s.ModelDetailOutput, model, status_code=status.HTTP_201_CREATED, load=selectors.model_list_load
        )


class ModelObjectMixin:
    permission_classes = [IsAuthenticated, CanEditModel]

    def get_object(self):
        model = selectors.model_detail(user=self.request.user, name=self.kwargs["name"])
        self.check_object_permissions(self.request, model)
        return model


@extend_schema(tags=["models"])
class ModelDetailApi(ModelObjectMixin, ApiView):
    """One model with its model card, owners, aliases and retraining schedule."""

    @extend_schema(operation_id="models_retrieve", summary="A model", responses=s.ModelDetailOutput)
    def get(self, request, name):
        return self.respond(s.ModelDetailOutput, self.get_object(), load=selectors.model_list_load)

    @extend_schema(
        operation_id="models_partial_update",
        summary="Change a model's metadata (owners and admins)",
        request=s.ModelUpdateInput,
        responses=s.ModelDetailOutput,
    )
    def patch(self, request, name):
        model = self.get_object()
        data = self.validated(s.ModelUpdateInput, request.data, partial=True)
        services.model_update(actor=request.user, model=model, **data.to_service_kwargs())
        model = selectors.model_detail(user=request.user, name=name)
        return self.respond(s.ModelDetailOutput, model, load=selectors.model_list_load)


@extend_schema(tags=["models"])
class ModelVersionsApi(ModelObjectMixin, ApiView):
    """A model's versions, newest first; record a new version with its lineage."""

    def get_keyset_ordering(self):
        return VERSION_ORDERING

    @extend_schema(
        operation_id="models_versions_list",
        summary="A model's versions, newest first",
        responses=s.VersionListOutput(many=True),
    )
    def get(self, request, name):
        return self.respond_page(s.VersionListOutput, selectors.model_versions(model=self.get_object()))

    @extend_schema(
        operation_id="models_versions_create",
        summary="Record a version with its metrics, datasets and aliases (owners and admins)",
        request=s.VersionCreateInput,
        responses={201: s.VersionDetailOutput},
    )
    def post(self, request, name):
        model = self.get_object()
        data = self.validated(s.VersionCreateInput, request.data)
        version = services.version_create(actor=request.user, model=model, **data.validated_data)
        version = selectors.version_by_id(user=request.user, pk=version.pk)
        return self.respond(s.VersionDetailOutput, version, status_code=status.HTTP_201_CREATED)


# --- versions -------------------------------------------------------------------------------------------


class VersionObjectMixin:
    permission_classes = [IsAuthenticated, CanEditModel]

    def get_object(self):
        version = selectors.version_by_id(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, version)
        return version


@extend_schema(tags=["versions"])
class VersionDetailApi(VersionObjectMixin, ApiView):
    """One version: metrics (final values), parameters, datasets, code, aliases, parent."""

    @extend_schema(operation_id="versions_retrieve", summary="A version", responses=s.VersionDetailOutput)
    def get(self, request, pk):
        return self.respond(s.VersionDetailOutput, self.get_object())


@extend_schema(tags=["versions"])
class VersionMetricsApi(VersionObjectMixin, ApiView):
    """A version's metric points: read the step history, log more points."""

    pagination_class = None  # one version's series; charts downsample on the server

    @extend_schema(
        operation_id="versions_metrics_list",
        summary="Metric histories over training steps",
        parameters=[
            OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.QUERY, description="One metric only.")
        ],
        responses=s.MetricHistoryOutput(many=True),
    )
    def get(self, request, pk):
        version = self.get_object()
        key = self.validated(s.MetricHistoryParams, request.query_params).validated_data.get("key")
        history = selectors.metric_history(version=version)
        if key is not None:
            if key not in history:
                raise Http404(f"Version {version.version} has no metric {key!r}.")
            history = {key: history[key]}
        rows = [
            {"key": k, "points": [{"step": step, "value": value} for step, value in points]}
            for k, points in history.items()
        ]
        return Response(s.MetricHistoryOutput(rows, many=True).data)

    @extend_schema(
        operation_id="versions_metrics_create",
        summary="Log metric points (same key and step overwrites)",
        request=s.MetricsLogInput,
        responses={201: s.VersionDetailOutput},
    )
    def post(self, request, pk):
        version = self.get_object()
        data = self.validated(s.MetricsLogInput, request.data)
        services.version_metrics_log(
            actor=request.user, version=version, points=data.validated_data["metrics"]
        )
        version = selectors.version_by_id(user=request.user, pk=pk)
        return self.respond(s.VersionDetailOutput, version, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=["versions"])
class VersionDatasetsApi(VersionObjectMixin, ApiView):
    """The datasets a version was trained or evaluated on."""

    @extend_schema(
        operation_id="versions_datasets_create",
        summary="Link training/evaluation datasets (unknown URIs become catalog datasets)",
        request=s.DatasetsLinkInput,
        responses={201: s.VersionDetailOutput},
    )
    def post(self, request, pk):
        version = self.get_object()
        data = self.validated(s.DatasetsLinkInput, request.data)
        services.version_datasets_link(
            actor=request.user, version=version, datasets=data.validated_data["datasets"]
        )
        version = selectors.version_by_id(user=request.user, pk=pk)
        return self.respond(s.VersionDetailOutput, version, status_code=status.HTTP_201_CREATED)


# --- datasets -------------------------------------------------------------------------------------------


@extend_schema(tags=["datasets"])
class DatasetListCreateApi(ApiView):
    """Datasets known to the catalog: list and filter; register one."""

    permission_classes = [IsAuthenticated, CanManageDatasets]

    def get_keyset_ordering(self):
        return DATASET_ORDERING

    @extend_schema(
        operation_id="datasets_list",
        summary="List datasets",
        parameters=filterset_parameters(DatasetFilter),
        responses=s.DatasetListOutput(many=True),
    )
    def get(self, request):
        return self.respond_page(
            s.DatasetListOutput, selectors.dataset_list(user=request.user, filters=request.query_params)
        )

    @extend_schema(
        operation_id="datasets_create",
        summary="Register a dataset",
        request=s.DatasetCreateInput,
        responses={201: s.DatasetDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.DatasetCreateInput, request.data)
        dataset = services.dataset_create(actor=request.user, **data.validated_data)
        dataset = selectors.dataset_detail(user=request.user, pk=dataset.pk)
        usage = selectors.dataset_usage(dataset=dataset)
        return self.respond(s.DatasetDetailOutput, dataset, status_code=status.HTTP_201_CREATED, usage=usage)


@extend_schema(tags=["datasets"])
class DatasetDetailApi(ApiView):
    """One dataset and every model version that used it."""

    permission_classes = [IsAuthenticated, CanManageDatasets]

    def get_object(self):
        dataset = selectors.dataset_detail(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, dataset)
        return dataset

    def respond_detail(self, dataset):
        usage = selectors.dataset_usage(dataset=dataset)
        return self.respond(s.DatasetDetailOutput, dataset, usage=usage)

    @extend_schema(
        operation_id="datasets_retrieve",
        summary="A dataset and the models that use it",
        responses=s.DatasetDetailOutput,
    )
    def get(self, request, pk):
        return self.respond_detail(self.get_object())

    @extend_schema(
        operation_id="datasets_partial_update",
        summary="Change a dataset (its owner or compliance)",
        request=s.DatasetUpdateInput,
        responses=s.DatasetDetailOutput,
    )
    def patch(self, request, pk):
        dataset = self.get_object()
        data = self.validated(s.DatasetUpdateInput, request.data, partial=True)
        dataset = services.dataset_update(actor=request.user, dataset=dataset, **data.validated_data)
        return self.respond_detail(dataset)


# --- domains --------------------------------------------------------------------------------------------


@extend_schema(tags=["domains"])
class DomainListApi(ApiView):
    """Business domains with model counts per lifecycle stage."""

    def get_keyset_ordering(self):
        return DOMAIN_ORDERING

    @extend_schema(
        operation_id="domains_list", summary="Domains with model counts", responses=s.DomainOutput(many=True)
    )
    def get(self, request):
        return self.respond_page(s.DomainOutput, selectors.domain_list())


@extend_schema(tags=["domains"])
class DomainDetailApi(ApiView):
    """One business domain with its model counts."""

    @extend_schema(operation_id="domains_retrieve", summary="A domain", responses=s.DomainOutput)
    def get(self, request, slug):
        return self.respond(s.DomainOutput, selectors.domain_detail(slug=slug))


# --- registries -------------------------------------------------------------------------------------------


class RegistryObjectMixin:
    def get_object(self):
        return selectors.registry_detail(user=self.request.user, name=self.kwargs["name"])


@extend_schema(tags=["registries"])
class RegistryListCreateApi(ApiView):
    """Model registries Modelhouse polls (MLflow, models-as-code manifests)."""

    permission_classes = [IsAuthenticated, CanManageRegistries]

    def get_keyset_ordering(self):
        return ("name", "id")

    @extend_schema(
        operation_id="registries_list", summary="List registries", responses=s.RegistrySourceOutput(many=True)
    )
    def get(self, request):
        return self.respond_page(s.RegistrySourceOutput, selectors.registry_list(user=request.user))

    @extend_schema(
        operation_id="registries_create",
        summary="Add a registry (admins)",
        request=s.RegistrySourceCreateInput,
        responses={201: s.RegistrySourceOutput},
    )
    def post(self, request):
        data = self.validated(s.RegistrySourceCreateInput, request.data).validated_data
        source = registry_services.registry_source_create(actor=request.user, **data)
        source = selectors.registry_detail(user=request.user, name=source.name)
        return self.respond(s.RegistrySourceOutput, source, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=["registries"])
class RegistryDetailApi(RegistryObjectMixin, ApiView):
    permission_classes = [IsAuthenticated, CanManageRegistries]

    @extend_schema(operation_id="registries_retrieve", summary="A registry", responses=s.RegistrySourceOutput)
    def get(self, request, name):
        return self.respond(s.RegistrySourceOutput, self.get_object())

    @extend_schema(
        operation_id="registries_partial_update",
        summary="Change a registry (admins)",
        request=s.RegistrySourceUpdateInput,
        responses=s.RegistrySourceOutput,
    )
    def patch(self, request, name):
        source = self.get_object()
        data = self.validated(s.RegistrySourceUpdateInput, request.data, partial=True).validated_data
        registry_services.registry_source_update(actor=request.user, source=source, **data)
        return self.respond(s.RegistrySourceOutput, selectors.registry_detail(user=request.user, name=name))


@extend_schema(tags=["registries"])
class RegistrySyncRunsApi(RegistryObjectMixin, ApiView):
    """A registry's sync history, newest first; POST starts a sync now (engineers and admins)."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), CanTriggerSync()]
        return [IsAuthenticated()]

    def get_keyset_ordering(self):
        return SYNC_RUN_ORDERING

    @extend_schema(
        operation_id="registries_sync_runs_list", summary="Sync history", responses=s.SyncRunOutput(many=True)
    )
    def get(self, request, name):
        return self.respond_page(s.SyncRunOutput, selectors.sync_run_list(source=self.get_object()))

    @extend_schema(
        operation_id="registries_sync",
        summary="Sync now",
        request=s.SyncRequestInput,
        responses={202: s.SyncRunOutput},
    )
    def post(self, request, name):
        data = self.validated(s.SyncRequestInput, request.data).validated_data
        run = registry_services.registry_sync_request(actor=request.user, source=self.get_object(), **data)
        return self.respond(s.SyncRunOutput, run, status_code=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["registries"])
class ManifestSchemaApi(ApiView):
    """The JSON Schema every models-as-code manifest is validated against."""

    pagination_class = None

    @extend_schema(
        operation_id="manifest_schema",
        summary="Model manifest JSON Schema",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(manifest_schema())
