from django.urls import path

from portal.routes import form_actions

from . import views

app_name = "governance"

urlpatterns = [
    path("work/", views.WorkItemListView.as_view(), name="work-item-list"),
    # Before <key>/: work-item keys always hold a '-' (PERS-12), so "board" and "new" are never keys.
    path("work/board/", views.WorkItemBoardView.as_view(), name="work-item-board"),
    path("work/new/", views.WorkItemCreateView.as_view(), name="work-item-create"),
    path("work/<str:key>/", views.WorkItemDetailView.as_view(), name="work-item-detail"),
    *form_actions(
        "work/<str:key>/",
        "work-item",
        views.WorkItemDetailView,
        ("transition", "comment", "link"),
        segments={"comment": "comments", "link": "links"},
    ),
    path("work/<str:key>/watch/", views.WorkItemWatchView.as_view(), name="work-item-watch"),
    path("promotions/", views.PromotionListView.as_view(), name="promotion-list"),
    path("promotions/new/", views.PromotionCreateView.as_view(), name="promotion-create"),
    path("promotions/gates/", views.PromotionGatesView.as_view(), name="promotion-gates"),
    path("promotions/<int:pk>/", views.PromotionDetailView.as_view(), name="promotion-detail"),
    *form_actions(
        "promotions/<int:pk>/",
        "promotion",
        views.PromotionDetailView,
        ("approve", "reject", "waive", "withdraw", "retry"),
    ),
    path("governance/models/<str:name>/rollback/", views.ModelRollbackView.as_view(), name="model-rollback"),
    *form_actions(
        "governance/models/<str:name>/definition-of-done/",
        "model-dod",
        views.ModelDodView,
        ("attest", "revoke"),
    ),
    path("dashboards/", views.DashboardView.as_view(), name="dashboard"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
]
