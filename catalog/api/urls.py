from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("models/", views.ModelListCreateApi.as_view(), name="model-list"),
    # <str:...> matches [^/]+: model names may hold dots, spaces and other characters, never '/'.
    path("models/<str:name>/", views.ModelDetailApi.as_view(), name="model-detail"),
    path("models/<str:name>/versions/", views.ModelVersionsApi.as_view(), name="model-versions"),
    path("versions/<int:pk>/", views.VersionDetailApi.as_view(), name="version-detail"),
    path("versions/<int:pk>/metrics/", views.VersionMetricsApi.as_view(), name="version-metrics"),
    path("versions/<int:pk>/datasets/", views.VersionDatasetsApi.as_view(), name="version-datasets"),
    path("datasets/", views.DatasetListCreateApi.as_view(), name="dataset-list"),
    path("datasets/<int:pk>/", views.DatasetDetailApi.as_view(), name="dataset-detail"),
    path("domains/", views.DomainListApi.as_view(), name="domain-list"),
    path("domains/<slug:slug>/", views.DomainDetailApi.as_view(), name="domain-detail"),
    path("registries/", views.RegistryListCreateApi.as_view(), name="registry-list"),
    path("registries/<str:name>/", views.RegistryDetailApi.as_view(), name="registry-detail"),
    path("registries/<str:name>/sync-runs/", views.RegistrySyncRunsApi.as_view(), name="registry-sync-runs"),
    path("schemas/model-manifest.json", views.ManifestSchemaApi.as_view(), name="manifest-schema"),
]
