from django.urls import path

from portal.routes import form_actions

from . import access_views as views

app_name = "governance-access"


urlpatterns = [
    # Data access. Fixed words come before <int:pk>/, which never matches them anyway.
    path("access/", views.AccessRequestListView.as_view(), name="access-request-list"),
    path("access/new/", views.AccessRequestCreateView.as_view(), name="access-request-create"),
    path("access/grants/", views.GrantListView.as_view(), name="grant-list"),
    path("access/purposes/", views.PurposeListView.as_view(), name="purpose-list"),
    path("access/campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("access/campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    *form_actions(
        "access/campaigns/<int:pk>/items/<int:item_id>/",
        "campaign-item",
        views.CampaignDetailView,
        ["attest"],
    ),
    path("access/<int:pk>/", views.AccessRequestDetailView.as_view(), name="access-request-detail"),
    *form_actions(
        "access/<int:pk>/",
        "access-request",
        views.AccessRequestDetailView,
        ("approve", "reject", "withdraw", "submit", "revoke"),
    ),
    path("compliance/", views.ComplianceDashboardView.as_view(), name="compliance-dashboard"),
    path("compliance/production/", views.ComplianceProductionView.as_view(), name="compliance-production"),
    # Monitoring.
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    *form_actions("alerts/<int:pk>/", "alert", views.AlertDetailView, ("acknowledge", "resolve")),
    # Verification.
    path(
        "verification/models/<str:name>/scripts/new/",
        views.VerificationScriptCreateView.as_view(),
        name="verification-script-create",
    ),
    path(
        "verification/scripts/<int:pk>/run/",
        views.VerificationScriptRunView.as_view(),
        name="verification-script-run",
    ),
    path(
        "verification/runs/<int:pk>/",
        views.VerificationRunDetailView.as_view(),
        name="verification-run-detail",
    ),
]
