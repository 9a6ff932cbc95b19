from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.ModelListView.as_view(), name="model-list"),
    path("models-count/", views.ModelCountView.as_view(), name="model-count"),
    path("models/<str:name>/", views.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:name>/panels/<slug:panel>/", views.ModelPanelView.as_view(), name="model-panel"),
    path(
        "models/<str:name>/versions/<str:version>/", views.VersionDetailView.as_view(), name="version-detail"
    ),
    path(
        "models/<str:name>/versions/<str:version>/history/",
        views.VersionHistoryView.as_view(),
        name="version-history",
    ),
    path("datasets/", views.DatasetListView.as_view(), name="dataset-list"),
    path("datasets/<int:pk>/", views.DatasetDetailView.as_view(), name="dataset-detail"),
    path("domains/", views.DomainListView.as_view(), name="domain-list"),
    path("domains/<slug:slug>/", views.DomainDetailView.as_view(), name="domain-detail"),
    path("registries/", views.RegistryListView.as_view(), name="registry-list"),
    # Before <name>/: "new" is reserved (the form refuses it as a registry name).
    path("registries/new/", views.RegistryFormView.as_view(), name="registry-create"),
    path("registries/<str:name>/", views.RegistryDetailView.as_view(), name="registry-detail"),
    path("registries/<str:name>/edit/", views.RegistryFormView.as_view(), name="registry-edit"),
    path("registries/<str:name>/sync/", views.RegistrySyncView.as_view(), name="registry-sync"),
]
