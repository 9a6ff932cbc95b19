"""Governance API serializers: inputs check shape and length only; outputs read what the selectors loaded.

Workflow rules, four-eyes, gate checks and who may do what live in governance.services and policies; an
input serializer here only makes sure a service gets values of the right type and size. Output serializers
touch only relations the selectors select or prefetch (tests/governance/test_api_queries.py pins that).
"""

import re

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from catalog.api.serializers import LookupField, MarkdownField, NamedRefOutput, StrictInput, VersionRefOutput
from catalog.models import Dataset, Domain, ModelVersion, RegisteredModel
from portal.markdown import render_markdown

from .. import policies
from ..filters import STATUS_CHOICES
from ..models import DodItem, Gate, LinkKind, Priority, WorkItem, WorkItemType
from ..selectors import WORK_ITEM_SORTS
from ..workflows import STATUS_LABELS, WORKFLOWS

MAX_ID = 2**63 - 1
MAX_LIST = 50
_DIGITS = re.compile(r"^[0-9]{1,19}$")

# --- fields ---------------------------------------------------------------------------------------------


class IdLookupField(serializers.PrimaryKeyRelatedField):
    """A related row named by its numeric id, with a readable message when it does not exist. Refuses
    booleans (True would be id 1) and ids beyond a 64-bit integer (the database would fail on them)."""

    def __init__(self, noun: str, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"Unknown {noun} '{{pk_value}}'.",
                "incorrect_type": f"Give the {noun} as its numeric id.",
            },
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not _DIGITS.match(data):
                self.fail("incorrect_type", data_type="str")
            data = int(data)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def _user_field(**kwargs):
    return LookupField("user", slug_field="username", queryset=get_user_model().objects.all(), **kwargs)


def _model_field(**kwargs):
    return LookupField("model", slug_field="name", queryset=RegisteredModel.objects.all(), **kwargs)


def _version_field(**kwargs):
    return IdLookupField("version", queryset=ModelVersion.objects.select_related("model"), **kwargs)


# --- inputs ---------------------------------------------------------------------------------------------


class WorkItemListParams(serializers.Serializer):
    """Query parameters the work-item list checks itself; the filters are WorkItemFilter's."""

    sort = serializers.ChoiceField(choices=list(WORK_ITEM_SORTS), required=False, allow_blank=True)


class WorkItemUpdateInput(StrictInput):
    """PATCH body: every field optional; only the fields sent change. Null clears an optional field."""

    title = serializers.CharField(max_length=200, required=False)
    description = MarkdownField()
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = _user_field(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    model = _model_field(required=False, allow_null=True)
    version = _version_field(required=False, allow_null=True)
    dataset = IdLookupField("dataset", queryset=Dataset.objects.all(), required=False, allow_null=True)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=MAX_LIST
    )


class WorkItemCreateInput(WorkItemUpdateInput):
    domain = LookupField("domain", slug_field="slug", queryset=Domain.objects.all())
    type = serializers.ChoiceField(choices=WorkItemType.choices)
    title = serializers.CharField(max_length=200)
    watchers = serializers.ListField(child=_user_field(), required=False, max_length=MAX_LIST)


class TransitionInput(StrictInput):
    to_status = serializers.ChoiceField(choices=STATUS_CHOICES)
    comment = MarkdownField()


class CommentInput(StrictInput):
    body = MarkdownField(required=True)


class LinkInput(StrictInput):
    target = LookupField("work item", slug_field="key", queryset=WorkItem.objects.all())
    kind = serializers.ChoiceField(choices=LinkKind.choices, default=LinkKind.RELATES)


class PromotionRequestInput(StrictInput):
    version = _version_field(help_text="Id of the version to promote.")
    target = serializers.CharField(max_length=100, help_text="staging, production or an alias.")
    justification = MarkdownField(required=True)


class DecisionInput(StrictInput):
    comment = MarkdownField()


class WithdrawInput(StrictInput):
    reason = MarkdownField()


class WaiverInput(StrictInput):
    gate = serializers.ChoiceField(choices=Gate.choices)
    reason = MarkdownField(required=True)


class RollbackInput(StrictInput):
    target = serializers.CharField(max_length=100, default="production")
    reason = MarkdownField()


class ProductionAtParams(serializers.Serializer):
    date = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD")


class DodScoresParams(serializers.Serializer):
    domain = LookupField("domain", slug_field="slug", queryset=Domain.objects.all(), required=False)


class AttestationInput(StrictInput):
    item = serializers.ChoiceField(choices=DodItem.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AttestationRevokeParams(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- outputs --------------------------------------------------------------------------------------------


def _api_url(context, url_name: str, **kwargs) -> str:
    return reverse(url_name, kwargs=kwargs, request=context.get("request"))


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


class DatasetRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uri = serializers.CharField()


class TransitionOutput(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    requires_comment = serializers.BooleanField()


class WorkItemListOutput(serializers.Serializer):
    """One row of the work-item list: reads only what selectors.work_item_list loads."""

    key = serializers.CharField()
    url = serializers.SerializerMethodField()
    domain = NamedRefOutput()
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.SerializerMethodField()
    priority = serializers.CharField()
    reporter = serializers.CharField(source="reporter.username")
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    labels = serializers.SerializerMethodField()
    due_date = serializers.DateField(allow_null=True)
    sla_state = serializers.CharField(help_text="none, on_track, due_soon, breached, met or missed.")
    model = serializers.CharField(source="model.name", allow_null=True, default=None)
    version = VersionRefOutput(allow_null=True)
    dataset = DatasetRefOutput(allow_null=True)
    comment_count = serializers.IntegerField()
    watcher_count = serializers.IntegerField()
    allowed_transitions = serializers.SerializerMethodField()
    can_transition = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, obj) -> str:
        return _api_url(self.context, "governance-api:work-item-detail", key=obj.key)

    def get_status_label(self, obj) -> str:
        return STATUS_LABELS[obj.status]

    def get_labels(self, obj) -> list[str]:
        return sorted(t.name for t in obj.labels.all())

    @extend_schema_field(TransitionOutput(many=True))
    def get_allowed_transitions(self, obj):
        """The statuses the item's workflow allows next (whether this user may move it: can_transition)."""
        workflow = WORKFLOWS[obj.type]
        return [
            {
                "status": status,
                "label": STATUS_LABELS[status],
                "requires_comment": workflow.requires_comment(obj.status, status),
            }
            for status in workflow.allowed(obj.status)
        ]

    def get_can_transition(self, obj) -> bool:
        user = _user(self.context)
        return user is not None and policies.can_transition_work_item(user, obj)


class CommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    body = serializers.CharField()
    body_html = serializers.SerializerMethodField()
    mentions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_body_html(self, obj) -> str:
        return render_markdown(obj.body)

    def get_mentions(self, obj) -> list[str]:
        return sorted(u.username for u in obj.mentions.all())


class LinkedItemOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, "governance-api:work-item-detail", key=obj.key)


class LinkOutput(serializers.Serializer):
    kind = serializers.CharField()
    direction = serializers.ChoiceField(choices=["outgoing", "incoming"])
    label = serializers.CharField(help_text="Reads 'this item <label> item', e.g. 'is blocked by'.")
    item = LinkedItemOutput()


class ActivityOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    reason = serializers.CharField()


INCOMING_LABELS = {LinkKind.BLOCKS: "is blocked by", LinkKind.RELATES: "relates to"}


class WorkItemDetailOutput(WorkItemListOutput):
    """One item as selectors.work_item_detail loads it."""

    description = serializers.CharField()
    description_html = serializers.SerializerMethodField()
    watchers = serializers.SerializerMethodField()
    is_watching = serializers.SerializerMethodField()
    comments = CommentOutput(source="comments.all", many=True)
    links = serializers.SerializerMethodField()
    activity = ActivityOutput(many=True, help_text="The item's audit events, oldest first.")
    promotion = serializers.SerializerMethodField()
    comments_url = serializers.SerializerMethodField()

    def get_description_html(self, obj) -> str:
        return render_markdown(obj.description)

    def get_watchers(self, obj) -> list[str]:
        return sorted(u.username for u in obj.watchers.all())

    def get_is_watching(self, obj) -> bool:
        user = _user(self.context)
        return user is not None and any(u.pk == user.pk for u in obj.watchers.all())

    @extend_schema_field(LinkOutput(many=True))
    def get_links(self, obj):
        rows = [
            {
                "kind": link.kind,
                "direction": "outgoing",
                "label": LinkKind(link.kind).label,
                "item": link.target,
            }
            for link in obj.outgoing_links.all()
        ] + [
            {
                "kind": link.kind,
                "direction": "incoming",
                "label": INCOMING_LABELS[link.kind],
                "item": link.source,
            }
            for link in obj.incoming_links.all()
        ]
        return LinkOutput(rows, many=True, context=self.context).data

    def get_promotion(self, obj) -> int | None:
        """Id of the promotion request a promotion item follows."""
        promotion = getattr(obj, "promotion", None) if obj.type == "promotion" else None
        return promotion.pk if promotion is not None else None

    def get_comments_url(self, obj) -> str:
        return _api_url(self.context, "governance-api:work-item-comments", key=obj.key)


class BoardColumnOutput(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Items in this column (the list holds at most the limit).")
    has_more = serializers.BooleanField()
    items = WorkItemListOutput(many=True)


class BoardOutput(serializers.Serializer):
    columns = BoardColumnOutput(many=True)


class WatchOutput(serializers.Serializer):
    key = serializers.CharField()
    watching = serializers.BooleanField()


# --- promotions -----------------------------------------------------------------------------------------


class WaiverOutput(serializers.Serializer):
    gate = serializers.CharField()
    reason = serializers.CharField()
    waived_by = serializers.CharField(source="waived_by.username")
    waived_at = serializers.DateTimeField()


class GateOutput(serializers.Serializer):
    gate = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=["pass", "fail", "waived"])
    evidence = serializers.CharField()
    waiver_reason = serializers.CharField()
    waived_by = serializers.CharField()


class PromotionListOutput(serializers.Serializer):
    """One promotion request as selectors.promotion_list loads it."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    model = serializers.CharField(source="model.name")
    model_url = serializers.SerializerMethodField()
    version = VersionRefOutput()
    previous_version = VersionRefOutput(allow_null=True)
    target = serializers.CharField()
    justification = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    is_rollback = serializers.BooleanField()
    is_automatic = serializers.BooleanField()
    status = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()
    apply_status = serializers.CharField()
    apply_error = serializers.CharField()
    apply_attempts = serializers.IntegerField()
    applied_at = serializers.DateTimeField(allow_null=True)
    work_item = serializers.CharField(source="work_item.key", allow_null=True, default=None)
    waivers = WaiverOutput(source="waivers.all", many=True)

    def get_url(self, obj) -> str:
        return _api_url(self.context, "governance-api:promotion-detail", pk=obj.pk)

    def get_model_url(self, obj) -> str:
        return _api_url(self.context, "catalog-api:model-detail", name=obj.model.name)


class PromotionDetailOutput(PromotionListOutput):
    """One request with its live gates and what the requesting user may do with it (from the view)."""

    gates = serializers.SerializerMethodField()
    gates_at_decision = GateOutput(many=True, help_text="The gates as they stood when it was decided.")
    can_decide = serializers.SerializerMethodField()
    decision_refusal = serializers.SerializerMethodField()
    can_withdraw = serializers.SerializerMethodField()

    @extend_schema_field(GateOutput(many=True))
    def get_gates(self, obj):
        return GateOutput([g.as_dict() for g in self.context["gates"]], many=True).data

    def get_can_decide(self, obj) -> bool:
        """Whether the requesting user may approve, reject or waive now (pending, and the policy allows)."""
        return obj.status == "pending" and self.context["decision_refusal"] is None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decision_refusal(self, obj):
        """Why the requesting user may not decide on this request (four eyes, role), or null."""
        return self.context["decision_refusal"]

    def get_can_withdraw(self, obj) -> bool:
        user = _user(self.context)
        return obj.status == "pending" and user is not None and policies.can_withdraw_promotion(user, obj)


class TimelineEntryOutput(serializers.Serializer):
    """One applied promotion: who moved which version where, when, and why."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    target = serializers.CharField()
    version = VersionRefOutput()
    previous_version = VersionRefOutput(allow_null=True)
    is_rollback = serializers.BooleanField()
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    justification = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_comment = serializers.CharField()
    applied_at = serializers.DateTimeField()

    def get_url(self, obj) -> str:
        return _api_url(self.context, "governance-api:promotion-detail", pk=obj.pk)


class ProductionAtOutput(serializers.Serializer):
    model = serializers.CharField()
    date = serializers.DateField()
    version = VersionRefOutput(allow_null=True, help_text="Null when nothing was in production then.")


# --- definition of done ---------------------------------------------------------------------------------


class DodCheckOutput(serializers.Serializer):
    item = serializers.CharField()
    label = serializers.CharField()
    passed = serializers.BooleanField()
    evidence = serializers.CharField()
    attested = serializers.BooleanField(help_text="A person attests this item; the catalog cannot prove it.")


class DodScoreOutput(serializers.Serializer):
    """A model's definition-of-done checklist and score (a selectors.DodScore)."""

    model = serializers.CharField(source="model.name")
    model_url = serializers.SerializerMethodField()
    domain = NamedRefOutput(source="model.domain")
    passed = serializers.IntegerField(source="report.passed")
    total = serializers.IntegerField(source="report.total")
    score = serializers.FloatField(source="report.score")
    percent = serializers.IntegerField(source="report.percent")
    complete = serializers.BooleanField(source="report.complete")
    checks = DodCheckOutput(source="report.checks", many=True)

    def get_model_url(self, obj) -> str:
        return _api_url(self.context, "catalog-api:model-detail", name=obj.model.name)


# --- audit ----------------------------------------------------------------------------------------------


class AuditEventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target = serializers.CharField(source="target_label")
    before = serializers.JSONField()
    after = serializers.JSONField()
    reason = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()
