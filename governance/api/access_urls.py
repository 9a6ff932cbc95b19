from django.urls import path

from . import access_views as views

app_name = "governance-access-api"

urlpatterns = [
    # Data access.
    path("purposes/", views.PurposeListCreateApi.as_view(), name="purpose-list"),
    path("purposes/<slug:slug>/", views.PurposeDetailApi.as_view(), name="purpose-detail"),
    path("access-requests/", views.AccessRequestListCreateApi.as_view(), name="access-request-list"),
    path("access-requests/<int:pk>/", views.AccessRequestDetailApi.as_view(), name="access-request-detail"),
    path(
        "access-requests/<int:pk>/approve/",
        views.AccessRequestApproveApi.as_view(),
        name="access-request-approve",
    ),
    path(
        "access-requests/<int:pk>/reject/",
        views.AccessRequestRejectApi.as_view(),
        name="access-request-reject",
    ),
    path(
        "access-requests/<int:pk>/submit/",
        views.AccessRequestSubmitApi.as_view(),
        name="access-request-submit",
    ),
    path(
        "access-requests/<int:pk>/withdraw/",
        views.AccessRequestWithdrawApi.as_view(),
        name="access-request-withdraw",
    ),
    path(
        "access-decisions/export.csv", views.AccessDecisionExportApi.as_view(), name="access-decision-export"
    ),
    path("grants/", views.GrantListApi.as_view(), name="grant-list"),
    path("grants/export.csv", views.GrantExportApi.as_view(), name="grant-export"),
    path("grants/<int:pk>/", views.GrantDetailApi.as_view(), name="grant-detail"),
    path("grants/<int:pk>/revoke/", views.GrantRevokeApi.as_view(), name="grant-revoke"),
    path("campaigns/", views.CampaignListCreateApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", views.CampaignDetailApi.as_view(), name="campaign-detail"),
    path(
        "campaigns/<int:pk>/items/<int:item_id>/attest/",
        views.CampaignItemAttestApi.as_view(),
        name="campaign-item-attest",
    ),
    # The catalog owns datasets/<pk>/ and versions/<pk>/; these sub-paths are governance's.
    path("datasets/<int:pk>/impact/", views.DatasetImpactApi.as_view(), name="dataset-impact"),
    path("versions/<int:pk>/data-use/", views.VersionDataUseApi.as_view(), name="version-data-use"),
    path("governance/models/<str:name>/purpose/", views.ModelPurposeApi.as_view(), name="model-purpose"),
    # Verification.
    path(
        "governance/models/<str:name>/verification-scripts/",
        views.ModelVerificationScriptsApi.as_view(),
        name="model-verification-scripts",
    ),
    path(
        "verification-scripts/<int:pk>/",
        views.VerificationScriptDetailApi.as_view(),
        name="verification-script-detail",
    ),
    path(
        "verification-scripts/<int:pk>/run/",
        views.VerificationScriptRunApi.as_view(),
        name="verification-script-run",
    ),
    path("verification-runs/", views.VerificationRunListApi.as_view(), name="verification-run-list"),
    path(
        "verification-runs/<int:pk>/",
        views.VerificationRunDetailApi.as_view(),
        name="verification-run-detail",
    ),
    # Monitoring. <str:name> never matches '/', so this does not clash with the catalog's models/<name>/.
    path(
        "models/<str:name>/prediction-stats/",
        views.ModelPredictionStatsApi.as_view(),
        name="model-prediction-stats",
    ),
    path("alerts/", views.AlertListApi.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailApi.as_view(), name="alert-detail"),
    path("alerts/<int:pk>/acknowledge/", views.AlertAcknowledgeApi.as_view(), name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", views.AlertResolveApi.as_view(), name="alert-resolve"),
]
