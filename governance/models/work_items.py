from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from ..workflows import CLOSED, STATUS_LABELS


class WorkItemType(models.TextChoices):
    TASK = "task", "Task"
    BUG = "bug", "Bug"
    RETRAIN = "retrain", "Retrain"
    PROMOTION = "promotion", "Promotion"
    DATA_ACCESS = "data_access", "Data access"
    INCIDENT = "incident", "Incident"
    VERIFICATION = "verification", "Verification"


class Priority(models.TextChoices):
    BLOCKER = "blocker", "Blocker"
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


PRIORITY_RANK = {p: i for i, p in enumerate(Priority.values)}  # blocker first
Status = models.TextChoices("Status", [(k.upper(), (k, v)) for k, v in STATUS_LABELS.items()])
DUE_SOON = timedelta(days=2)


class SlaState(models.TextChoices):
    NONE = "none", "No due date"
    ON_TRACK = "on_track", "On track"
    DUE_SOON = "due_soon", "Due soon"
    BREACHED = "breached", "Breached"
    MET = "met", "Done in time"
    MISSED = "missed", "Done late"


class WorkItemCounter(models.Model):
    """The last number used for work-item keys in one domain (PERS-1, PERS-2, ...)."""

    domain = models.OneToOneField(
        "catalog.Domain", on_delete=models.CASCADE, related_name="work_item_counter"
    )
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.domain.key}: {self.last_number}"


class WorkItem(models.Model):
    key = models.CharField(max_length=24, unique=True, editable=False)
    domain = models.ForeignKey("catalog.Domain", on_delete=models.PROTECT, related_name="work_items")
    number = models.PositiveIntegerField(editable=False)
    type = models.CharField(max_length=20, choices=WorkItemType.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    status = models.CharField(max_length=20, choices=Status.choices, default="open")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    priority_rank = models.PositiveSmallIntegerField(default=PRIORITY_RANK[Priority.MEDIUM], editable=False)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reported_items"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_items",
    )
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="watched_items")
    labels = models.ManyToManyField("catalog.Tag", blank=True, related_name="work_items")
    due_date = models.DateField(null=True, blank=True)
    model = models.ForeignKey(
        "catalog.RegisteredModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items"
    )
    version = models.ForeignKey(
        "catalog.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items"
    )
    dataset = models.ForeignKey(
        "catalog.Dataset", on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["domain", "number"], name="uniq_work_item_number")]
        indexes = [
            models.Index(fields=["status", "priority_rank", "id"], name="work_item_status"),
            models.Index(fields=["assignee", "status"], name="work_item_assignee"),
            models.Index(fields=["model", "status"], name="work_item_model"),
            models.Index(fields=["due_date", "id"], name="work_item_due"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("governance:work-item-detail", args=[self.key])

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    @property
    def sla_state(self) -> str:
        if self.due_date is None:
            return SlaState.NONE
        if self.is_closed:
            done_on = (self.resolved_at or self.updated_at).date()
            return SlaState.MET if done_on <= self.due_date else SlaState.MISSED
        today = timezone.localdate()
        if self.due_date < today:
            return SlaState.BREACHED
        if self.due_date - today <= DUE_SOON:
            return SlaState.DUE_SOON
        return SlaState.ON_TRACK

    def get_sla_state_display(self) -> str:
        return SlaState(self.sla_state).label


class Comment(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(help_text="Markdown; @username mentions notify and watch.")
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on {self.item_id} by {self.author_id}"


class LinkKind(models.TextChoices):
    BLOCKS = "blocks", "blocks"
    RELATES = "relates", "relates to"


class WorkItemLink(models.Model):
    """`source` blocks / relates to `target`."""

    source = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="outgoing_links")
    target = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="incoming_links")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="uniq_work_item_link"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="work_item_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"
