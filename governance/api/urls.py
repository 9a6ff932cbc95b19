from django.urls import path

from portal.routes import api_actions

from . import views

app_name = "governance-api"

urlpatterns = [
    path("work-items/", views.WorkItemListCreateApi.as_view(), name="work-item-list"),
    # Before <key>: work-item keys always hold a '-' (PERS-12), so "board" is never a key.
    path("work-items/board/", views.WorkItemBoardApi.as_view(), name="work-item-board"),
    path("work-items/<str:key>/", views.WorkItemDetailApi.as_view(), name="work-item-detail"),
    path(
        "work-items/<str:key>/transitions/",
        views.WorkItemTransitionApi.as_view(),
        name="work-item-transitions",
    ),
    path("work-items/<str:key>/comments/", views.WorkItemCommentsApi.as_view(), name="work-item-comments"),
    path("work-items/<str:key>/links/", views.WorkItemLinksApi.as_view(), name="work-item-links"),
    path("work-items/<str:key>/watch/", views.WorkItemWatchApi.as_view(), name="work-item-watch"),
    path("promotions/", views.PromotionListCreateApi.as_view(), name="promotion-list"),
    path("promotions/<int:pk>/", views.PromotionDetailApi.as_view(), name="promotion-detail"),
    *api_actions(
        "promotions/<int:pk>/",
        "promotion",
        {
            "approve": views.PromotionApproveApi,
            "reject": views.PromotionRejectApi,
            "withdraw": views.PromotionWithdrawApi,
            "waivers": views.PromotionWaiversApi,
            "retry-apply": views.PromotionRetryApplyApi,
        },
    ),
    # Model-scoped governance lives under governance/ so it never collides with the catalog's models/ routes.
    path(
        "governance/models/<str:name>/timeline/",
        views.ModelPromotionTimelineApi.as_view(),
        name="model-promotion-timeline",
    ),
    path(
        "governance/models/<str:name>/production-at/",
        views.ModelProductionAtApi.as_view(),
        name="model-production-at",
    ),
    path("governance/models/<str:name>/rollback/", views.ModelRollbackApi.as_view(), name="model-rollback"),
    path(
        "governance/models/<str:name>/definition-of-done/",
        views.ModelDodApi.as_view(),
        name="model-definition-of-done",
    ),
    path(
        "governance/models/<str:name>/definition-of-done/attestations/",
        views.ModelDodAttestationsApi.as_view(),
        name="model-dod-attestations",
    ),
    path(
        "governance/models/<str:name>/definition-of-done/attestations/<str:item>/",
        views.ModelDodAttestationDetailApi.as_view(),
        name="model-dod-attestation-detail",
    ),
    path("governance/definition-of-done/", views.DodScoreListApi.as_view(), name="definition-of-done-list"),
    path("audit-events/", views.AuditEventListApi.as_view(), name="audit-event-list"),
    path("audit-events/export.csv", views.AuditEventExportApi.as_view(), name="audit-event-export"),
]
