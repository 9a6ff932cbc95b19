from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("work/", views.WorkItemListView.as_view(), name="work-item-list"),
    # Before <key>/: work-item keys always hold a '-' (PERS-12), so "board" and "new" are never keys.
    path("work/board/", views.WorkItemBoardView.as_view(), name="work-item-board"),
    path("work/new/", views.WorkItemCreateView.as_view(), name="work-item-create"),
    path("work/<str:key>/", views.WorkItemDetailView.as_view(), name="work-item-detail"),
    path(
        "work/<str:key>/transition/",
        views.WorkItemDetailView.as_view(http_method_names=["post"]),
        {"action": "transition"},
        name="work-item-transition",
    ),
    path(
        "work/<str:key>/comments/",
        views.WorkItemDetailView.as_view(http_method_names=["post"]),
        {"action": "comment"},
        name="work-item-comment",
    ),
    path(
        "work/<str:key>/links/",
        views.WorkItemDetailView.as_view(http_method_names=["post"]),
        {"action": "link"},
        name="work-item-link",
    ),
    path("work/<str:key>/watch/", views.WorkItemWatchView.as_view(), name="work-item-watch"),
    path("promotions/", views.PromotionListView.as_view(), name="promotion-list"),
    path("promotions/new/", views.PromotionCreateView.as_view(), name="promotion-create"),
    path("promotions/gates/", views.PromotionGatesView.as_view(), name="promotion-gates"),
    path("promotions/<int:pk>/", views.PromotionDetailView.as_view(), name="promotion-detail"),
    *[
        path(
            f"promotions/<int:pk>/{action}/",
            views.PromotionDetailView.as_view(http_method_names=["post"]),
            {"action": action},
            name=f"promotion-{action}",
        )
        for action in ("approve", "reject", "waive", "withdraw", "retry")
    ],
    path("governance/models/<str:name>/rollback/", views.ModelRollbackView.as_view(), name="model-rollback"),
    *[
        path(
            f"governance/models/<str:name>/definition-of-done/{action}/",
            views.ModelDodView.as_view(),
            {"action": action},
            name=f"model-dod-{action}",
        )
        for action in ("attest", "revoke")
    ],
    path("dashboards/", views.DashboardView.as_view(), name="dashboard"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
]
