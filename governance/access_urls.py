from django.urls import path

from . import access_views as views

app_name = "governance-access"


def _actions(route: str, view, actions, prefix: str):
    """POST-only routes for a page's forms: <route><action>/ runs the action; on error the page re-renders."""
    return [
        path(
            f"{route}{action}/",
            view.as_view(http_method_names=["post"]),
            {"action": action},
            name=f"{prefix}-{action}",
        )
        for action in actions
    ]


urlpatterns = [
    # Data access. Fixed words come before <int:pk>/, which never matches them anyway.
    path("access/", views.AccessRequestListView.as_view(), name="access-request-list"),
    path("access/new/", views.AccessRequestCreateView.as_view(), name="access-request-create"),
    path("access/grants/", views.GrantListView.as_view(), name="grant-list"),
    path("access/purposes/", views.PurposeListView.as_view(), name="purpose-list"),
    path("access/campaigns/", views.CampaignListView.as_view(), name="campaign-list"),
    path("access/campaigns/<int:pk>/", views.CampaignDetailView.as_view(), name="campaign-detail"),
    path(
        "access/campaigns/<int:pk>/items/<int:item_id>/attest/",
        views.CampaignDetailView.as_view(http_method_names=["post"]),
        {"action": "attest"},
        name="campaign-item-attest",
    ),
    path("access/<int:pk>/", views.AccessRequestDetailView.as_view(), name="access-request-detail"),
    *_actions(
        "access/<int:pk>/",
        views.AccessRequestDetailView,
        ("approve", "reject", "withdraw", "submit", "revoke"),
        "access-request",
    ),
    path("compliance/", views.ComplianceDashboardView.as_view(), name="compliance-dashboard"),
    path("compliance/production/", views.ComplianceProductionView.as_view(), name="compliance-production"),
    # Monitoring.
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/", views.AlertDetailView.as_view(), name="alert-detail"),
    *_actions("alerts/<int:pk>/", views.AlertDetailView, ("acknowledge", "resolve"), "alert"),
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
