"""REST API of data access (purposes, requests, grants, campaigns, a dataset's impact, a version's data
use), verification (scripts and runs) and monitoring (prediction statistics, alerts).

Thin views in the pattern of governance.api.views (whose ApiView base they share): one input
serializer checks the shape, one selector or service does the work, one output serializer answers. Filters
are applied by the selectors, so no view has a filter backend; lists page with keyset cursors named by
`get_keyset_ordering()`. Services raise ValidationError (400 with field messages), PermissionDenied (403
with the policy's reason, e.g. "Nobody approves their own access request.") and DomainError (409, e.g.
compliance deciding before the data owners); portal.exceptions turns them into HTTP once.
"""

import json
from operator import attrgetter

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated

from catalog import policies as catalog_policies
from portal.api import ApiView, filterset_parameters
from portal.exports import CsvExportApi

from .. import policies
from ..selectors import data_access as access_selectors
from ..selectors import monitoring as monitoring_selectors
from ..selectors import verification as verification_selectors
from ..services import data_access as access_services
from ..services import monitoring as monitoring_services
from ..services import verification as verification_services
from . import access_serializers as s

ACCESS_TAG, VERIFICATION_TAG, MONITORING_TAG = "data access", "verification", "monitoring"
EXPORT_BATCH = 500


# --- permissions (they only ask the policies; services ask again) ---------------------------------------


class CanManagePurposes(BasePermission):
    message = "Only compliance maintains the purpose registry."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or policies.can_manage_purposes(request.user)


class CanRevokeGrants(BasePermission):
    message = "Only compliance revokes grants."

    def has_permission(self, request, view) -> bool:
        return policies.can_revoke_grant(request.user)


class CanRunCampaigns(BasePermission):
    message = "Only compliance runs re-certification campaigns."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or policies.can_run_campaigns(request.user)


class CanEditModel(BasePermission):
    """Writes to a model's governance settings (purpose, verification scripts): its owners and admins."""

    message = "Only the model's owners or an admin may change it."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or catalog_policies.can_edit_model(request.user, obj)


class CanOperateModel(BasePermission):
    """Posting prediction statistics and running verifications: the model's owners and engineers."""

    message = "Only the model's owners and engineers do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return (
            request.method in SAFE_METHODS
            or catalog_policies.can_edit_model(request.user, obj)
            or policies.can_retry_apply(request.user)
        )


# --- purposes -------------------------------------------------------------------------------------------


@extend_schema(tags=[ACCESS_TAG])
class PurposeListCreateApi(ApiView):
    """The purposes personal data may be used for, with the legal bases each may rest on."""

    permission_classes = [IsAuthenticated, CanManagePurposes]

    def get_keyset_ordering(self):
        return access_selectors.PURPOSE_ORDERING

    @extend_schema(
        operation_id="purposes_list", summary="List purposes", responses=s.PurposeOutput(many=True)
    )
    def get(self, request):
        return self.respond_page(s.PurposeOutput, access_selectors.purpose_list(user=request.user))

    @extend_schema(
        operation_id="purposes_create",
        summary="Add a purpose (compliance)",
        request=s.PurposeCreateInput,
        responses={201: s.PurposeOutput},
    )
    def post(self, request):
        data = self.validated(s.PurposeCreateInput, request.data).validated_data
        purpose = access_services.purpose_create(actor=request.user, **data)
        purpose = access_selectors.purpose_detail(user=request.user, slug=purpose.slug)
        return self.respond(s.PurposeOutput, purpose, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[ACCESS_TAG])
class PurposeDetailApi(ApiView):
    @extend_schema(operation_id="purposes_retrieve", summary="A purpose", responses=s.PurposeOutput)
    def get(self, request, slug):
        return self.respond(s.PurposeOutput, access_selectors.purpose_detail(user=request.user, slug=slug))


# --- access requests ------------------------------------------------------------------------------------


class AccessRequestObjectMixin:
    def get_object(self):
        return access_selectors.access_request_get(user=self.request.user, pk=self.kwargs["pk"])

    def respond_request(self, pk, *, status_code=status.HTTP_200_OK):
        access_request = access_selectors.access_request_detail(user=self.request.user, pk=pk)
        refusal = access_selectors.access_request_decision_refusal(
            user=self.request.user, request=access_request
        )
        return self.respond(
            s.AccessRequestDetailOutput, access_request, status_code=status_code, decision_refusal=refusal
        )


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestListCreateApi(AccessRequestObjectMixin, ApiView):
    """Requests to use datasets for a purpose until a date: list (newest first) and ask."""

    def get_keyset_ordering(self):
        return access_selectors.ACCESS_REQUEST_ORDERING

    @extend_schema(
        operation_id="access_requests_list",
        summary="List access requests",
        description="`mine=true`: requests you made. `awaiting_me=true`: requests with an approval step you "
        "may decide now (the dataset owners first, then compliance; never your own).",
        parameters=filterset_parameters(access_selectors.AccessRequestFilter),
        responses=s.AccessRequestListOutput(many=True),
    )
    def get(self, request):
        requests = access_selectors.access_request_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.AccessRequestListOutput, requests)

    @extend_schema(
        operation_id="access_requests_create",
        summary="Ask for access to datasets (submitted at once unless submit=false)",
        description='Each dataset is its id, its URI, or `{"dataset": id or URI, "columns": [...]}`. '
        "The owner of each dataset approves (compliance stands in where there is none), then compliance "
        "when any dataset holds personal data. Special-category or restricted data needs a DPIA reference.",
        request=s.AccessRequestCreateInput,
        responses={201: s.AccessRequestDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.AccessRequestCreateInput, request.data).validated_data
        access_request = access_services.access_request_create(actor=request.user, **data)
        return self.respond_request(access_request.pk, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestDetailApi(AccessRequestObjectMixin, ApiView):
    @extend_schema(
        operation_id="access_requests_retrieve",
        summary="A request with its datasets, approval steps, audit events and whether you may decide",
        responses=s.AccessRequestDetailOutput,
    )
    def get(self, request, pk):
        return self.respond_request(pk)


ACCESS_DECISION_RESPONSES = {
    200: s.AccessRequestDetailOutput,
    400: OpenApiResponse(description="A rejection without a reason (10+ characters)."),
    403: OpenApiResponse(description="Not yours to decide: your own request, or another owner's step."),
    409: OpenApiResponse(
        description="Already decided, or compliance deciding while data owners still have to."
    ),
}


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestApproveApi(AccessRequestObjectMixin, ApiView):
    @extend_schema(
        operation_id="access_requests_approve",
        summary="Approve the step you may decide (dataset owner, then compliance; never the requester)",
        request=s.ReasonInput,
        responses=ACCESS_DECISION_RESPONSES,
    )
    def post(self, request, pk):
        data = self.validated(s.ReasonInput, request.data).validated_data
        access_services.access_request_decide(
            actor=request.user, request=self.get_object(), approve=True, reason=data.get("reason", "")
        )
        return self.respond_request(pk)


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestRejectApi(AccessRequestObjectMixin, ApiView):
    @extend_schema(
        operation_id="access_requests_reject",
        summary="Reject with a reason: rejects the whole request",
        request=s.RequiredReasonInput,
        responses=ACCESS_DECISION_RESPONSES,
    )
    def post(self, request, pk):
        data = self.validated(s.RequiredReasonInput, request.data).validated_data
        access_services.access_request_decide(
            actor=request.user, request=self.get_object(), approve=False, reason=data["reason"]
        )
        return self.respond_request(pk)


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestSubmitApi(AccessRequestObjectMixin, ApiView):
    @extend_schema(
        operation_id="access_requests_submit",
        summary="Submit a draft for approval (the requester)",
        request=s.EmptyInput,
        responses={
            200: s.AccessRequestDetailOutput,
            403: OpenApiResponse(description="Not the requester."),
            409: OpenApiResponse(description="Not a draft any more."),
        },
    )
    def post(self, request, pk):
        self.validated(s.EmptyInput, request.data)
        access_services.access_request_submit(actor=request.user, request=self.get_object())
        return self.respond_request(pk)


@extend_schema(tags=[ACCESS_TAG])
class AccessRequestWithdrawApi(AccessRequestObjectMixin, ApiView):
    @extend_schema(
        operation_id="access_requests_withdraw",
        summary="Withdraw a draft or an undecided request (the requester)",
        request=s.ReasonInput,
        responses={
            200: s.AccessRequestDetailOutput,
            403: OpenApiResponse(description="Not the requester."),
            409: OpenApiResponse(description="Already decided or withdrawn."),
        },
    )
    def post(self, request, pk):
        data = self.validated(s.ReasonInput, request.data).validated_data
        access_services.access_request_withdraw(
            actor=request.user, request=self.get_object(), reason=data.get("reason", "")
        )
        return self.respond_request(pk)


# --- grants ---------------------------------------------------------------------------------------------


@extend_schema(tags=[ACCESS_TAG])
class GrantListApi(ApiView):
    """Granted requests: active, revoked and expired."""

    def get_keyset_ordering(self):
        return access_selectors.GRANT_ORDERING

    @extend_schema(
        operation_id="grants_list",
        summary="List grants",
        parameters=filterset_parameters(access_selectors.GrantFilter),
        responses=s.GrantListOutput(many=True),
    )
    def get(self, request):
        grants = access_selectors.grant_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.GrantListOutput, grants)


@extend_schema(tags=[ACCESS_TAG])
class GrantDetailApi(ApiView):
    @extend_schema(operation_id="grants_retrieve", summary="A grant", responses=s.GrantDetailOutput)
    def get(self, request, pk):
        return self.respond(s.GrantDetailOutput, access_selectors.grant_detail(user=request.user, pk=pk))


@extend_schema(tags=[ACCESS_TAG])
class GrantRevokeApi(ApiView):
    permission_classes = [IsAuthenticated, CanRevokeGrants]

    @extend_schema(
        operation_id="grants_revoke",
        summary="Revoke an active grant at once, with a reason (compliance)",
        request=s.RequiredReasonInput,
        responses={
            200: s.GrantDetailOutput,
            400: OpenApiResponse(description="No reason (10+ characters)."),
            403: OpenApiResponse(description="Not compliance."),
            409: OpenApiResponse(description="The grant already ended."),
        },
    )
    def post(self, request, pk):
        grant = access_selectors.grant_get(user=request.user, pk=pk)
        data = self.validated(s.RequiredReasonInput, request.data).validated_data
        access_services.grant_revoke(actor=request.user, request=grant, reason=data["reason"])
        return self.respond(s.GrantDetailOutput, access_selectors.grant_detail(user=request.user, pk=pk))


def _grant_datasets(grant) -> str:
    return "; ".join(entry.dataset.uri for entry in grant.dataset_entries.all())


def _grant_columns(grant) -> str:
    return json.dumps(
        {entry.dataset.uri: entry.columns for entry in grant.dataset_entries.all() if entry.columns},
        ensure_ascii=False,
    )


@extend_schema(tags=[ACCESS_TAG])
class GrantExportApi(CsvExportApi):
    """The filtered grants as CSV, newest first, streamed."""

    columns = {
        "id": attrgetter("pk"),
        "status": attrgetter("status"),
        "requester": attrgetter("requester.username"),
        "team": lambda grant: grant.team.slug if grant.team else "",
        "purpose": attrgetter("purpose.name"),
        "legal_basis": attrgetter("legal_basis"),
        "datasets": _grant_datasets,
        "columns": _grant_columns,
        "start_date": attrgetter("start_date"),
        "expiry_date": attrgetter("expiry_date"),
        "dpia_reference": attrgetter("dpia_reference"),
        "submitted_at": attrgetter("submitted_at"),
        "decided_at": attrgetter("decided_at"),
        "ended_at": attrgetter("ended_at"),
        "ended_by": lambda grant: grant.ended_by.username if grant.ended_by else "",
        "end_reason": attrgetter("end_reason"),
    }
    filename = "grants.csv"
    batch_size = EXPORT_BATCH
    operation_id = "grants_export"
    summary = "Export grants as CSV"
    notes = (
        "`datasets` are URIs separated by '; '; `columns` is a JSON object of the datasets granted only some "
        "columns."
    )
    filterset = access_selectors.GrantFilter

    def rows(self, request):
        return access_selectors.grant_list(user=request.user, filters=request.query_params)


@extend_schema(tags=[ACCESS_TAG])
class AccessDecisionExportApi(CsvExportApi):
    """Every approval-step decision as CSV, oldest first, streamed."""

    columns = {
        "request_id": attrgetter("request_id"),
        "request_status": attrgetter("request.status"),
        "requester": attrgetter("request.requester.username"),
        "purpose": attrgetter("request.purpose.name"),
        "step": attrgetter("kind"),
        "dataset": lambda step: step.dataset.uri if step.dataset else "",
        "approver": lambda step: step.approver.username if step.approver else "compliance",
        "decision": attrgetter("status"),
        "decided_by": lambda step: step.decided_by.username if step.decided_by else "",
        "decided_at": attrgetter("decided_at"),
        "reason": attrgetter("reason"),
    }
    filename = "access-decisions.csv"
    batch_size = EXPORT_BATCH
    operation_id = "access_decisions_export"
    summary = "Export access decisions as CSV (one row per decided approval step)"
    notes = "`approver` is who had to decide (`compliance`: any compliance officer)."
    filterset = access_selectors.DecisionFilter

    def rows(self, request):
        return access_selectors.access_decision_list(user=request.user, filters=request.query_params)


# --- campaigns ------------------------------------------------------------------------------------------


@extend_schema(tags=[ACCESS_TAG])
class CampaignListCreateApi(ApiView):
    """Re-certification campaigns: data owners attest keep or revoke for every active grant."""

    permission_classes = [IsAuthenticated, CanRunCampaigns]

    def get_keyset_ordering(self):
        return access_selectors.CAMPAIGN_ORDERING

    @extend_schema(
        operation_id="campaigns_list",
        summary="List campaigns with their progress",
        responses=s.CampaignListOutput(many=True),
    )
    def get(self, request):
        return self.respond_page(s.CampaignListOutput, access_selectors.campaign_list(user=request.user))

    @extend_schema(
        operation_id="campaigns_create",
        summary="Start a campaign over every active grant (compliance)",
        request=s.CampaignCreateInput,
        responses={201: s.CampaignDetailOutput},
    )
    def post(self, request):
        data = self.validated(s.CampaignCreateInput, request.data).validated_data
        campaign = access_services.campaign_start(actor=request.user, **data)
        campaign = access_selectors.campaign_detail(user=request.user, pk=campaign.pk)
        return self.respond(s.CampaignDetailOutput, campaign, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[ACCESS_TAG])
class CampaignDetailApi(ApiView):
    @extend_schema(
        operation_id="campaigns_retrieve",
        summary="A campaign with its items and progress",
        responses=s.CampaignDetailOutput,
    )
    def get(self, request, pk):
        return self.respond(
            s.CampaignDetailOutput, access_selectors.campaign_detail(user=request.user, pk=pk)
        )


@extend_schema(tags=[ACCESS_TAG])
class CampaignItemAttestApi(ApiView):
    @extend_schema(
        operation_id="campaigns_items_attest",
        summary="Keep or revoke one grant on your dataset (its owner; compliance where there is none)",
        request=s.AttestInput,
        responses={
            200: s.CampaignItemOutput,
            400: OpenApiResponse(description="Revoking without a note (10+ characters)."),
            403: OpenApiResponse(description="Not the dataset's owner."),
            409: OpenApiResponse(description="Already attested, or the campaign is closed."),
        },
    )
    def post(self, request, pk, item_id):
        item = access_selectors.campaign_item_get(user=request.user, campaign_id=pk, pk=item_id)
        data = self.validated(s.AttestInput, request.data).validated_data
        access_services.campaign_attest(actor=request.user, item=item, **data)
        item = access_selectors.campaign_item_get(user=request.user, campaign_id=pk, pk=item_id)
        return self.respond(s.CampaignItemOutput, item)


# --- datasets, versions, models -------------------------------------------------------------------------


@extend_schema(tags=[ACCESS_TAG])
class DatasetImpactApi(ApiView):
    @extend_schema(
        operation_id="datasets_impact",
        summary="What a dataset touches: versions trained on it, production models, active grants",
        description="Answers erasure and breach questions in one call.",
        responses=s.DatasetImpactOutput,
    )
    def get(self, request, pk):
        return self.respond(s.DatasetImpactOutput, access_selectors.dataset_impact(user=request.user, pk=pk))


@extend_schema(tags=[ACCESS_TAG])
class VersionDataUseApi(ApiView):
    @extend_schema(
        operation_id="versions_data_use",
        summary="Was each training dataset of a version covered by a grant?",
        description="A grant covers a dataset when it names it, was given to one of the model's owners or "
        "its team, for the model's declared purpose, and was valid on the day checked (default: the day "
        "the version was trained). Datasets without personal data need no grant.",
        parameters=[
            OpenApiParameter(
                "at", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="Check this day (YYYY-MM-DD)."
            )
        ],
        responses=s.VersionDataUseOutput,
    )
    def get(self, request, pk):
        at = self.validated(s.DataUseParams, request.query_params).validated_data.get("at")
        return self.respond(
            s.VersionDataUseOutput, access_selectors.version_data_use(user=request.user, pk=pk, at=at)
        )


class GovernanceModelMixin:
    def get_object(self):
        model = access_selectors.governance_model(user=self.request.user, name=self.kwargs["name"])
        self.check_object_permissions(self.request, model)
        return model


@extend_schema(tags=[ACCESS_TAG])
class ModelPurposeApi(GovernanceModelMixin, ApiView):
    """The purpose a model serves: its training data must have been granted for it."""

    permission_classes = [IsAuthenticated, CanEditModel]

    def respond_purpose(self, model):
        link = access_selectors.model_purpose(model=model)
        if link is not None:
            link = access_selectors.purpose_detail(user=self.request.user, slug=link.purpose.slug)
        return self.respond(s.ModelPurposeOutput, {"model": model.name, "purpose": link})

    @extend_schema(
        operation_id="governance_models_purpose_retrieve",
        summary="A model's declared purpose",
        responses=s.ModelPurposeOutput,
    )
    def get(self, request, name):
        return self.respond_purpose(self.get_object())

    @extend_schema(
        operation_id="governance_models_purpose_update",
        summary="Declare a model's purpose (the model's owners)",
        request=s.ModelPurposeInput,
        responses=s.ModelPurposeOutput,
    )
    def put(self, request, name):
        model = self.get_object()
        data = self.validated(s.ModelPurposeInput, request.data).validated_data
        access_services.model_purpose_set(actor=request.user, model=model, purpose=data["purpose"])
        return self.respond_purpose(model)


# --- verification ---------------------------------------------------------------------------------------


@extend_schema(tags=[VERIFICATION_TAG])
class ModelVerificationScriptsApi(GovernanceModelMixin, ApiView):
    """A model's verification scripts: list them; add one or replace the one of that name."""

    permission_classes = [IsAuthenticated, CanEditModel]

    def get_keyset_ordering(self):
        return verification_selectors.SCRIPT_ORDERING

    @extend_schema(
        operation_id="governance_models_verification_scripts_list",
        summary="A model's verification scripts",
        responses=s.VerificationScriptOutput(many=True),
    )
    def get(self, request, name):
        scripts = verification_selectors.verification_script_list(model=self.get_object())
        return self.respond_page(s.VerificationScriptOutput, scripts)

    @extend_schema(
        operation_id="governance_models_verification_scripts_create",
        summary="Add a script, or a new revision of the one with this name (the model's owners)",
        description="The script is Python. It reads the version's metadata, parameters, metrics and "
        'datasets as JSON on stdin and prints `{"passed": true|false, "checks": [...]}`. A syntax error '
        "is a 400 naming the line.",
        request=s.VerificationScriptInput,
        responses={201: s.VerificationScriptDetailOutput},
    )
    def post(self, request, name):
        model = self.get_object()
        data = self.validated(s.VerificationScriptInput, request.data).validated_data
        script = verification_services.verification_script_save(actor=request.user, model=model, **data)
        script = verification_selectors.verification_script_detail(user=request.user, pk=script.pk)
        return self.respond(s.VerificationScriptDetailOutput, script, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[VERIFICATION_TAG])
class VerificationScriptDetailApi(ApiView):
    @extend_schema(
        operation_id="verification_scripts_retrieve",
        summary="A verification script with its source",
        responses=s.VerificationScriptDetailOutput,
    )
    def get(self, request, pk):
        script = verification_selectors.verification_script_detail(user=request.user, pk=pk)
        return self.respond(s.VerificationScriptDetailOutput, script)


@extend_schema(tags=[VERIFICATION_TAG])
class VerificationScriptRunApi(ApiView):
    permission_classes = [IsAuthenticated, CanOperateModel]

    @extend_schema(
        operation_id="verification_scripts_run",
        summary="Run a script on a version of its model (the model's owners and engineers)",
        description="Queues the run on a worker and answers at once; follow the run's `url`. Asking again "
        "while the same revision is queued or running on the version answers with that run "
        "(`queued: false`).",
        request=s.VerificationRunInput,
        responses={202: s.VerificationRunQueuedOutput},
    )
    def post(self, request, pk):
        script = verification_selectors.verification_script_detail(user=request.user, pk=pk)
        self.check_object_permissions(request, script.model)
        data = self.validated(s.VerificationRunInput, request.data, context={"model": script.model})
        version = data.validated_data["version"]
        queued = verification_services.verification_queue(
            version=version, trigger="manual", actor=request.user, scripts=[script]
        )
        if queued:
            runs = verification_selectors.verification_runs_by_ids(ids=[run.pk for run in queued])
        else:
            runs = verification_selectors.verification_runs_active(script=script, version_id=version.pk)
        return self.respond(
            s.VerificationRunQueuedOutput,
            {"queued": bool(queued), "runs": runs},
            status_code=status.HTTP_202_ACCEPTED,
        )


@extend_schema(tags=[VERIFICATION_TAG])
class VerificationRunListApi(ApiView):
    """Verification runs, newest first."""

    def get_keyset_ordering(self):
        return verification_selectors.VERIFICATION_RUN_ORDERING

    @extend_schema(
        operation_id="verification_runs_list",
        summary="List verification runs",
        parameters=filterset_parameters(verification_selectors.VerificationRunFilter),
        responses=s.VerificationRunListOutput(many=True),
    )
    def get(self, request):
        runs = verification_selectors.verification_run_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.VerificationRunListOutput, runs)


@extend_schema(tags=[VERIFICATION_TAG])
class VerificationRunDetailApi(ApiView):
    @extend_schema(
        operation_id="verification_runs_retrieve",
        summary="A run: checks, output tails, isolation, attempts, worker and duration",
        responses=s.VerificationRunDetailOutput,
    )
    def get(self, request, pk):
        run = verification_selectors.verification_run_detail(user=request.user, pk=pk)
        return self.respond(s.VerificationRunDetailOutput, run)


# --- monitoring -----------------------------------------------------------------------------------------


@extend_schema(tags=[MONITORING_TAG])
class ModelPredictionStatsApi(GovernanceModelMixin, ApiView):
    """Daily summaries of a model's predictions, posted by the serving system, and the baseline."""

    permission_classes = [IsAuthenticated, CanOperateModel]
    pagination_class = None  # one model's series over a bounded range of days

    @extend_schema(
        operation_id="models_prediction_stats_list",
        summary="A model's daily prediction statistics and its baseline",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                description="First day (YYYY-MM-DD); default 90 days before `to`.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                description="Last day (YYYY-MM-DD); default today.",
            ),
        ],
        responses=s.PredictionSeriesOutput,
    )
    def get(self, request, name):
        model = self.get_object()
        span = self.validated(s.PredictionStatsParams, request.query_params).validated_data
        series = monitoring_selectors.prediction_stats_series(model=model, **span)
        return self.respond(s.PredictionSeriesOutput, series)

    @extend_schema(
        operation_id="models_prediction_stats_create",
        summary="Post a day's prediction statistics, or the baseline (the model's owners and engineers)",
        description="Posting a day again replaces it; there is one baseline per model.",
        request=s.PredictionStatsInput,
        responses={201: s.PredictionStatsOutput},
    )
    def post(self, request, name):
        model = self.get_object()
        data = self.validated(s.PredictionStatsInput, request.data, context={"model": model}).validated_data
        stats = monitoring_services.prediction_stats_record(actor=request.user, model=model, **data)
        return self.respond(s.PredictionStatsOutput, stats, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=[MONITORING_TAG])
class AlertListApi(ApiView):
    """Alerts, last seen first."""

    def get_keyset_ordering(self):
        return monitoring_selectors.ALERT_ORDERING

    @extend_schema(
        operation_id="alerts_list",
        summary="List alerts",
        parameters=filterset_parameters(monitoring_selectors.AlertFilter),
        responses=s.AlertListOutput(many=True),
    )
    def get(self, request):
        alerts = monitoring_selectors.alert_list(user=request.user, filters=request.query_params)
        return self.respond_page(s.AlertListOutput, alerts)


class AlertObjectMixin:
    def respond_alert(self, pk):
        return self.respond(
            s.AlertDetailOutput, monitoring_selectors.alert_detail(user=self.request.user, pk=pk)
        )


@extend_schema(tags=[MONITORING_TAG])
class AlertDetailApi(AlertObjectMixin, ApiView):
    @extend_schema(
        operation_id="alerts_retrieve",
        summary="An alert with its details, notifications and audit events",
        responses=s.AlertDetailOutput,
    )
    def get(self, request, pk):
        return self.respond_alert(pk)


@extend_schema(tags=[MONITORING_TAG])
class AlertAcknowledgeApi(AlertObjectMixin, ApiView):
    @extend_schema(
        operation_id="alerts_acknowledge",
        summary="Acknowledge an open alert",
        request=s.EmptyInput,
        responses={200: s.AlertDetailOutput, 400: OpenApiResponse(description="The alert is not open.")},
    )
    def post(self, request, pk):
        alert = monitoring_selectors.alert_get(user=request.user, pk=pk)
        self.validated(s.EmptyInput, request.data)
        monitoring_services.alert_acknowledge(actor=request.user, alert=alert)
        return self.respond_alert(pk)


@extend_schema(tags=[MONITORING_TAG])
class AlertResolveApi(AlertObjectMixin, ApiView):
    @extend_schema(
        operation_id="alerts_resolve",
        summary="Resolve an alert, saying what was done",
        request=s.ResolveInput,
        responses={
            200: s.AlertDetailOutput,
            400: OpenApiResponse(description="Already resolved, or no resolution (10+ characters)."),
        },
    )
    def post(self, request, pk):
        alert = monitoring_selectors.alert_get(user=request.user, pk=pk)
        data = self.validated(s.ResolveInput, request.data).validated_data
        monitoring_services.alert_resolve(actor=request.user, alert=alert, resolution=data["resolution"])
        return self.respond_alert(pk)
