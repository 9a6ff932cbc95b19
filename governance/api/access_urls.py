from django.urls import path

from portal.routes import api_actions

from . import access_views as views

app_name = "governance-access-api"

urlpatterns = [
    # Data access.
    path("purposes/", views.PurposeListCreateApi.as_view(), name="purpose-list"),
    path("purposes/<slug:slug>/", views.PurposeDetailApi.as_view(), name="purpose-detail"),
    path("access-requests/", views.AccessRequestListCreateApi.as_view(), name="access-request-list"),
    path("access-requests/<int:pk>/", views.AccessRequestDetailApi.as_view(), name="access-request-detail"),
    *api_actions(
        "access-requests/<int:pk>/",
        "access-request",
        {
            "approve": views.AccessRequestApproveApi,
            "reject": views.AccessRequestRejectApi,
            "submit": views.AccessRequestSubmitApi,
            "withdraw": views.AccessRequestWithdrawApi,
        },
    ),
    path(
        "access-decisions/export.csv", views.AccessDecisionExportApi.as_view(), name="access-decision-export"
    ),
    path("grants/", views.GrantListApi.as_view(), name="grant-list"),
    path("grants/export.csv", views.GrantExportApi.as_view(), name="grant-export"),
    path("grants/<int:pk>/", views.GrantDetailApi.as_view(), name="grant-detail"),
    *api_actions("grants/<int:pk>/", "grant", {"revoke": views.GrantRevokeApi}),
    path("campaigns/", views.CampaignListCreateApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", views.CampaignDetailApi.as_view(), name="campaign-detail"),
    *api_actions(
        "campaigns/<int:pk>/items/<int:item_id>/", "campaign-item", {"attest": views.CampaignItemAttestApi}
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
    *api_actions(
        "verification-scripts/<int:pk>/", "verification-script", {"run": views.VerificationScriptRunApi}
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
    *api_actions(
        "alerts/<int:pk>/",
        "alert",
        {"acknowledge": views.AlertAcknowledgeApi, "resolve": views.AlertResolveApi},
    ),
]
