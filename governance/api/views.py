"""Governance REST API: thin views. Each checks the request's shape with one input serializer, calls one
selector or service, and answers with one output serializer.

As in the catalog API, filtering is the selectors' job (they apply the FilterSets of governance.filters),
so no view has a filter backend, and lists page with keyset cursors named by `get_keyset_ordering()`.
Errors from services become 400 (ValidationError), 403 (PermissionDenied, e.g. the four-eyes refusal)
and 409 (DomainError, e.g. deciding twice) in portal.exceptions.api_exception_handler.

Model-scoped governance endpoints live under /api/v1/governance/models/<name>/ so they never collide with
the catalog's /api/v1/models/<name>/ routes.
"""

import json
from operator import attrgetter

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated

from portal.api import ApiView, filterset_parameters
from portal.exports import CsvExportApi

from .. import policies, selectors
from ..filters import AuditEventFilter, PromotionFilter, WorkItemFilter
from ..models import DodItem
from ..services import dod as dod_services
from ..services import promotions as promotion_services
from ..services import work_items as work_item_services
from ..services.gates import gates_evaluate
from . import serializers as s
from .permissions import CanAttestDod, CanCreateWorkItem, CanEditWorkItem, CanRetryApply, CanViewAudit

WORK_ITEM_TAG, PROMOTION_TAG, DOD_TAG, AUDIT_TAG = "work items", "promotions", "definition of done", "audit"


WORK_ITEM_SORT_PARAMETER = OpenApiParameter(
    "sort",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(selectors.WORK_ITEM_SORTS),
    description="; ".join(f"`{key}`: {sort.label}" for key, sort in selectors.WORK_ITEM_SORTS.items())
    + f". Default `{selectors.DEFAULT_WORK_ITEM_SORT}`.",
)


# --- work items -----------------------------------------------------------------------------------------


class WorkItemObjectMixin:
    permission_classes = [IsAuthenticated, CanEditWorkItem]

    def get_object(self):
        item = selectors.work_item_get(user=self.request.user, key=self.kwargs["key"])
        self.check_object_permissions(self.request, item)
        return item

    def respond_item(self, key, *, status_code=status.HTTP_200_OK):
        item = selectors.work_item_detail(user=self.request.user, key=key)
        return self.respond(s.WorkItemDetailOutput, item, status_code=status_code)


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemListCreateApi(WorkItemObjectMixin, ApiView):
    """Work items: list with filters, saved views and sorts; create one."""

    permission_classes = [IsAuthenticated, CanCreateWorkItem]
    sort = selectors.DEFAULT_WORK_ITEM_SORT

    def get_keyset_ordering(self):
        return selectors.WORK_ITEM_SORTS[self.sort].ordering

    @extend_schema(
        operation_id="work_items_list",
        summary="List work items",
        description="Saved views (`view`) resolve against the requesting user: `assigned_to_me`, "
        "`reported_by_me`, `my_team` (assigned to a member of one of your teams, or about a model of one "
        "of your teams), `overdue` (open and past the due date), `watching`.",
        parameters=[*filterset_parameters(WorkItemFilter), WORK_ITEM_SORT_PARAMETER],
        responses=s.WorkItemListOutput(many=True),
    )
    def get(self, request):
        params = self.validated(s.WorkItemListParams, request.query_params)
        self.sort = params.validated_data.get("sort") or selectors.DEFAULT_WORK_ITEM_SORT
        items = selectors.work_item_list(user=request.user, filters=request.query_params, sort=self.sort)
        return self.respond_page(s.WorkItemListOutput, items)

    @extend_schema(
        operation_id="work_items_create",
        summary="Create a work item (reporter and assignee watch it)",
        request=s.WorkItemCreateInput,
        responses={201: s.WorkItemDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.WorkItemCreateInput, request.data).validated_data
        item = work_item_services.work_item_create(actor=request.user, **data)
        return self.respond_item(item.key, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemBoardApi(ApiView):
    """The work-item board: filtered items grouped by status column."""

    pagination_class = None

    @extend_schema(
        operation_id="work_items_board",
        summary=f"Items per board column, most urgent first (at most {selectors.BOARD_COLUMN_LIMIT} each)",
        parameters=filterset_parameters(WorkItemFilter),
        responses=s.BoardOutput,
    )
    def get(self, request):
        columns = selectors.work_item_board(user=request.user, filters=request.query_params)
        return self.respond(s.BoardOutput, {"columns": columns})


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemDetailApi(WorkItemObjectMixin, ApiView):
    """One work item with comments, links, watchers and its activity (audit events)."""

    @extend_schema(
        operation_id="work_items_retrieve", summary="A work item", responses=s.WorkItemDetailOutput
    )
    def get(self, request, key):
        return self.respond_item(key)

    @extend_schema(
        operation_id="work_items_partial_update",
        summary="Change a work item (reporter, assignee, engineers, managers)",
        request=s.WorkItemUpdateInput,
        responses=s.WorkItemDetailOutput,
    )
    def patch(self, request, key):
        item = self.get_object()
        data = self.validated(s.WorkItemUpdateInput, request.data, partial=True).validated_data
        work_item_services.work_item_update(actor=request.user, item=item, **data)
        return self.respond_item(key)


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemTransitionApi(WorkItemObjectMixin, ApiView):
    # The service names why a move is refused (workflow, comment needed, request-driven item).
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="work_items_transition",
        summary="Move a work item along its workflow",
        description="400 names the allowed statuses when the move is not allowed, or asks for a comment "
        "when the move needs one (see `allowed_transitions` on the item).",
        request=s.TransitionInput,
        responses=s.WorkItemDetailOutput,
    )
    def post(self, request, key):
        item = self.get_object()
        data = self.validated(s.TransitionInput, request.data).validated_data
        work_item_services.work_item_transition(actor=request.user, item=item, **data)
        return self.respond_item(key)


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemCommentsApi(WorkItemObjectMixin, ApiView):
    """An item's comments, oldest first; @username mentions make those users watchers."""

    permission_classes = [IsAuthenticated]

    def get_keyset_ordering(self):
        return selectors.COMMENT_ORDERING

    @extend_schema(
        operation_id="work_items_comments_list", summary="Comments", responses=s.CommentOutput(many=True)
    )
    def get(self, request, key):
        return self.respond_page(s.CommentOutput, selectors.comment_list(item=self.get_object()))

    @extend_schema(
        operation_id="work_items_comments_create",
        summary="Comment (Markdown; @username mentions notify and watch)",
        request=s.CommentInput,
        responses={201: s.CommentOutput},
    )
    def post(self, request, key):
        item = self.get_object()
        data = self.validated(s.CommentInput, request.data).validated_data
        comment = work_item_services.comment_add(actor=request.user, item=item, **data)
        return self.respond(
            s.CommentOutput, selectors.comment_detail(pk=comment.pk), status_code=status.HTTP_201_CREATED
        )


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemLinksApi(WorkItemObjectMixin, ApiView):
    @extend_schema(
        operation_id="work_items_links_create",
        summary="Link this item to another (this item blocks / relates to the target)",
        request=s.LinkInput,
        responses={201: s.WorkItemDetailOutput},
    )
    def post(self, request, key):
        item = self.get_object()
        data = self.validated(s.LinkInput, request.data).validated_data
        work_item_services.work_item_link(actor=request.user, source=item, **data)
        return self.respond_item(key, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[WORK_ITEM_TAG])
class WorkItemWatchApi(WorkItemObjectMixin, ApiView):
    """Watch an item (POST) or stop watching it (DELETE)."""

    permission_classes = [IsAuthenticated]

    def watch(self, request, key, watching: bool):
        item = self.get_object()
        work_item_services.work_item_watch(actor=request.user, item=item, watching=watching)
        return self.respond(s.WatchOutput, {"key": item.key, "watching": watching})

    @extend_schema(operation_id="work_items_watch", summary="Watch", request=None, responses=s.WatchOutput)
    def post(self, request, key):
        return self.watch(request, key, True)

    @extend_schema(
        operation_id="work_items_unwatch",
        summary="Stop watching",
        request=None,
        responses={200: s.WatchOutput},
    )
    def delete(self, request, key):
        return self.watch(request, key, False)


# --- promotions -----------------------------------------------------------------------------------------


class PromotionObjectMixin:
    def get_object(self):
        return selectors.promotion_detail(user=self.request.user, pk=self.kwargs["pk"])

    def respond_promotion(self, pk, *, status_code=status.HTTP_200_OK):
        promotion = selectors.promotion_detail(user=self.request.user, pk=pk)
        return self.respond(
            s.PromotionDetailOutput,
            promotion,
            status_code=status_code,
            gates=gates_evaluate(promotion=promotion),
            decision_refusal=policies.promotion_decision_refusal(self.request.user, promotion),
        )


@extend_schema(tags=[PROMOTION_TAG])
class PromotionListCreateApi(PromotionObjectMixin, ApiView):
    """Promotion requests (newest first; the pending queue `status=pending` oldest first); request one."""

    def get_keyset_ordering(self):
        return selectors.promotion_ordering(self.request.query_params)

    @extend_schema(
        operation_id="promotions_list",
        summary="List promotion requests",
        parameters=filterset_parameters(PromotionFilter),
        responses=s.PromotionListOutput(many=True),
    )
    def get(self, request):
        promotions = selectors.promotion_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.PromotionListOutput, promotions)

    @extend_schema(
        operation_id="promotions_create",
        summary="Request a promotion (the model's owners)",
        request=s.PromotionRequestInput,
        responses={201: s.PromotionDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.PromotionRequestInput, request.data).validated_data
        promotion = promotion_services.promotion_request(actor=request.user, **data)
        return self.respond_promotion(promotion.pk, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[PROMOTION_TAG])
class PromotionDetailApi(PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="promotions_retrieve",
        summary="A promotion request with its live gates and whether you may decide on it",
        responses=s.PromotionDetailOutput,
    )
    def get(self, request, pk):
        return self.respond_promotion(pk)


DECISION_RESPONSES = {
    200: s.PromotionDetailOutput,
    400: OpenApiResponse(description="Failing gates (listed), or a missing reason."),
    403: OpenApiResponse(description="Not an engineer, or the four-eyes rule (the requester never decides)."),
    409: OpenApiResponse(description="Already decided or withdrawn."),
}


@extend_schema(tags=[PROMOTION_TAG])
class PromotionApproveApi(PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="promotions_approve",
        summary="Approve (engineers, never the requester; every gate passing or waived)",
        request=s.DecisionInput,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, pk):
        data = self.validated(s.DecisionInput, request.data).validated_data
        promotion_services.promotion_approve(actor=request.user, promotion=self.get_object(), **data)
        return self.respond_promotion(pk)


@extend_schema(tags=[PROMOTION_TAG])
class PromotionRejectApi(PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="promotions_reject",
        summary="Reject with a reason (engineers, never the requester)",
        request=s.DecisionInput,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, pk):
        data = self.validated(s.DecisionInput, request.data).validated_data
        promotion_services.promotion_reject(
            actor=request.user, promotion=self.get_object(), comment=data.get("comment", "")
        )
        return self.respond_promotion(pk)


@extend_schema(tags=[PROMOTION_TAG])
class PromotionWithdrawApi(PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="promotions_withdraw",
        summary="Withdraw a pending request (the requester)",
        request=s.WithdrawInput,
        responses=s.PromotionDetailOutput,
    )
    def post(self, request, pk):
        data = self.validated(s.WithdrawInput, request.data).validated_data
        promotion_services.promotion_withdraw(actor=request.user, promotion=self.get_object(), **data)
        return self.respond_promotion(pk)


@extend_schema(tags=[PROMOTION_TAG])
class PromotionWaiversApi(PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="promotions_waivers_create",
        summary="Waive a failing gate with a written reason (engineers, never the requester)",
        request=s.WaiverInput,
        responses={201: s.PromotionDetailOutput},
    )
    def post(self, request, pk):
        data = self.validated(s.WaiverInput, request.data).validated_data
        promotion_services.promotion_waive_gate(actor=request.user, promotion=self.get_object(), **data)
        return self.respond_promotion(pk, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[PROMOTION_TAG])
class PromotionRetryApplyApi(PromotionObjectMixin, ApiView):
    permission_classes = [IsAuthenticated, CanRetryApply]

    @extend_schema(
        operation_id="promotions_retry_apply",
        summary="Retry a failed write-back to the registry (engineers)",
        request=None,
        responses=s.PromotionDetailOutput,
    )
    def post(self, request, pk):
        promotion_services.promotion_retry_apply(actor=request.user, promotion=self.get_object())
        return self.respond_promotion(pk)


# --- model-scoped governance ----------------------------------------------------------------------------


class GovernanceModelMixin:
    def get_model(self):
        return selectors.promotion_model(user=self.request.user, name=self.kwargs["name"])


@extend_schema(tags=[PROMOTION_TAG])
class ModelRollbackApi(GovernanceModelMixin, PromotionObjectMixin, ApiView):
    @extend_schema(
        operation_id="governance_models_rollback",
        summary="Request a rollback of a target to the version that held it before (the model's owners)",
        request=s.RollbackInput,
        responses={201: s.PromotionDetailOutput},
    )
    def post(self, request, name):
        data = self.validated(s.RollbackInput, request.data).validated_data
        promotion = promotion_services.promotion_rollback(actor=request.user, model=self.get_model(), **data)
        return self.respond_promotion(promotion.pk, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[PROMOTION_TAG])
class ModelPromotionTimelineApi(GovernanceModelMixin, ApiView):
    """A model's applied promotions in the order they took effect."""

    def get_keyset_ordering(self):
        return selectors.TIMELINE_ORDERING

    @extend_schema(
        operation_id="governance_models_timeline",
        summary="Promotion timeline: who moved which version where, when and why",
        responses=s.TimelineEntryOutput(many=True),
    )
    def get(self, request, name):
        return self.respond_page(s.TimelineEntryOutput, selectors.promotion_timeline(model=self.get_model()))


@extend_schema(tags=[PROMOTION_TAG])
class ModelProductionAtApi(GovernanceModelMixin, ApiView):
    @extend_schema(
        operation_id="governance_models_production_at",
        summary="The version that was in production at the end of a day",
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=True, description="YYYY-MM-DD"
            )
        ],
        responses=s.ProductionAtOutput,
    )
    def get(self, request, name):
        day = self.validated(s.ProductionAtParams, request.query_params).validated_data["date"]
        model = self.get_model()
        version = selectors.production_at(model=model, when=day)
        return self.respond(s.ProductionAtOutput, {"model": model.name, "date": day, "version": version})


@extend_schema(tags=[DOD_TAG])
class ModelDodApi(ApiView):
    """A model's definition-of-done checklist and score."""

    @extend_schema(
        operation_id="governance_models_definition_of_done",
        summary="Definition of done: checks with evidence, and the score",
        responses=s.DodScoreOutput,
    )
    def get(self, request, name):
        return self.respond(s.DodScoreOutput, selectors.dod_score(user=request.user, name=name))


class DodAttestationMixin:
    permission_classes = [IsAuthenticated, CanAttestDod]

    def get_object(self):
        score = selectors.dod_score(user=self.request.user, name=self.kwargs["name"])
        self.check_object_permissions(self.request, score.model)
        return score.model


@extend_schema(tags=[DOD_TAG])
class ModelDodAttestationsApi(DodAttestationMixin, ApiView):
    @extend_schema(
        operation_id="governance_models_attestations_create",
        summary="Attest an item no catalog fact can prove (the model's owners and engineers)",
        request=s.AttestationInput,
        responses={201: s.DodScoreOutput},
    )
    def post(self, request, name):
        model = self.get_object()
        data = self.validated(s.AttestationInput, request.data).validated_data
        dod_services.dod_attest(actor=request.user, model=model, **data)
        return self.respond(
            s.DodScoreOutput, selectors.dod_score(user=request.user, name=name), status_code=201
        )


@extend_schema(tags=[DOD_TAG])
class ModelDodAttestationDetailApi(DodAttestationMixin, ApiView):
    @extend_schema(
        operation_id="governance_models_attestations_destroy",
        summary="Revoke an attestation, saying why (the model's owners and engineers)",
        parameters=[
            OpenApiParameter(
                "reason",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="Why the attestation no longer holds.",
            )
        ],
        request=None,
        responses={200: s.DodScoreOutput},
    )
    def delete(self, request, name, item):
        if item not in DodItem.values:
            raise NotFound(f"Unknown definition-of-done item {item!r}.")
        model = self.get_object()
        reason = self.validated(s.AttestationRevokeParams, request.query_params).validated_data["reason"]
        dod_services.dod_attestation_revoke(actor=request.user, model=model, item=item, reason=reason)
        return self.respond(s.DodScoreOutput, selectors.dod_score(user=request.user, name=name))


@extend_schema(tags=[DOD_TAG])
class DodScoreListApi(ApiView):
    """Definition-of-done scores of every model (of one domain), by model name."""

    def get_keyset_ordering(self):
        return selectors.DOD_SCORE_ORDERING

    @extend_schema(
        operation_id="governance_definition_of_done_list",
        summary="Definition-of-done scores per model",
        parameters=[
            OpenApiParameter("domain", OpenApiTypes.STR, OpenApiParameter.QUERY, description="Domain (slug)")
        ],
        responses=s.DodScoreOutput(many=True),
    )
    def get(self, request):
        domain = self.validated(s.DodScoresParams, request.query_params).validated_data.get("domain")
        page = self.paginate_queryset(selectors.dod_score_models(domain=domain))
        data = s.DodScoreOutput(
            selectors.dod_scores(models=page), many=True, context=self.get_serializer_context()
        ).data
        return self.get_paginated_response(data)


# --- audit ----------------------------------------------------------------------------------------------


@extend_schema(tags=[AUDIT_TAG])
class AuditEventListApi(ApiView):
    """The append-only audit trail, newest first (compliance and admins)."""

    permission_classes = [IsAuthenticated, CanViewAudit]

    def get_keyset_ordering(self):
        return selectors.AUDIT_ORDERING

    @extend_schema(
        operation_id="audit_events_list",
        summary="List audit events",
        parameters=filterset_parameters(AuditEventFilter),
        responses=s.AuditEventOutput(many=True),
    )
    def get(self, request):
        events = selectors.audit_event_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.AuditEventOutput, events)


def _json(field: str):
    return lambda event: json.dumps(getattr(event, field), sort_keys=True, ensure_ascii=False)


@extend_schema(tags=[AUDIT_TAG])
class AuditEventExportApi(CsvExportApi):
    """The filtered audit trail as CSV, oldest first, streamed (compliance and admins)."""

    permission_classes = [IsAuthenticated, CanViewAudit]
    columns = {
        "seq": attrgetter("seq"),
        "occurred_at": attrgetter("occurred_at"),
        "actor": attrgetter("actor_name"),
        "action": attrgetter("action"),
        "target_type": attrgetter("target_type"),
        "target_id": attrgetter("target_id"),
        "target": attrgetter("target_label"),
        "before": _json("before"),
        "after": _json("after"),
        "reason": attrgetter("reason"),
        "hash": attrgetter("hash"),
    }
    filename = "audit-events.csv"
    operation_id = "audit_events_export"
    summary = "Export audit events as CSV"
    notes = "`before` and `after` are JSON."
    filterset = AuditEventFilter

    def rows(self, request):
        return selectors.audit_event_list(user=request.user, filters=request.query_params, oldest_first=True)
