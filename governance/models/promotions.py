from django.conf import settings
from django.db import models
from django.urls import reverse


class PromotionStatus(models.TextChoices):
    PENDING = "pending", "Awaiting decision"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ApplyStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Writing to registry"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"


class Gate(models.TextChoices):
    DEFINITION_OF_DONE = "definition_of_done", "Definition of done complete"
    VERIFICATION = "verification", "Latest verification passed"
    NO_REGRESSION = "no_regression", "No regression against the champion"
    NO_BLOCKING_INCIDENT = "no_blocking_incident", "No open blocking incident"
    DATA_ACCESS = "data_access", "Data access approved for training data"


class PromotionRequest(models.Model):
    """A request to point `target` (staging, production or a named alias) at `version`."""

    model = models.ForeignKey("catalog.RegisteredModel", on_delete=models.CASCADE, related_name="promotions")
    version = models.ForeignKey("catalog.ModelVersion", on_delete=models.PROTECT, related_name="promotions")
    target = models.CharField(max_length=100, help_text="staging, production or an alias such as champion.")
    justification = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    work_item = models.OneToOneField(
        "governance.WorkItem", on_delete=models.PROTECT, related_name="promotion", null=True, blank=True
    )
    previous_version = models.ForeignKey(
        "catalog.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="What the target pointed at when the request was made.",
    )
    is_rollback = models.BooleanField(default=False)
    is_automatic = models.BooleanField(default=False, help_text="Started by a mitigation, not a person.")
    status = models.CharField(max_length=20, choices=PromotionStatus.choices, default=PromotionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    gates_at_decision = models.JSONField(default=list, blank=True)
    apply_status = models.CharField(
        max_length=20, choices=ApplyStatus.choices, default=ApplyStatus.NOT_STARTED
    )
    apply_error = models.TextField(blank=True)
    apply_attempts = models.PositiveIntegerField(default=0)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="promotion_queue"),
            models.Index(fields=["model", "target", "applied_at"], name="promotion_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} v{self.version_id} -> {self.target}"

    def get_absolute_url(self) -> str:
        return reverse("governance:promotion-detail", args=[self.pk])


class GateWaiver(models.Model):
    """A failing gate let through by an engineer, with the reason; shown on the promotion forever."""

    promotion = models.ForeignKey(PromotionRequest, on_delete=models.CASCADE, related_name="waivers")
    gate = models.CharField(max_length=30, choices=Gate.choices)
    reason = models.TextField()
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["promotion", "gate"], name="uniq_gate_waiver")]

    def __str__(self) -> str:
        return f"{self.gate} waived on {self.promotion_id}"
