from django.conf import settings
from django.db import models
from django.db.models import Q


class AlertCondition(models.TextChoices):
    RETRAINING_OVERDUE = "retraining_overdue", "Retraining overdue"
    DATA_STALE = "data_stale", "Upstream data stale"
    RETRAINING_VARIANCE = "retraining_variance", "Retraining variance"
    PREDICTION_BIAS = "prediction_bias", "Prediction bias"
    PREDICTION_VARIANCE = "prediction_variance", "Prediction variance"
    VERIFICATION_FAILING = "verification_failing", "Verification failing in production"
    UNAPPROVED_ALIAS = "unapproved_alias", "Production alias changed outside Modelhouse"
    DATA_ACCESS_LAPSED = "data_access_lapsed", "Training data access lapsed"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(models.Model):
    """One problem with one model; at most one active alert per model and condition."""

    model = models.ForeignKey("catalog.RegisteredModel", on_delete=models.CASCADE, related_name="alerts")
    condition = models.CharField(max_length=30, choices=AlertCondition.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    state = models.CharField(max_length=20, choices=AlertState.choices, default=AlertState.OPEN)
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    incident = models.ForeignKey(
        "governance.WorkItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    mitigations = models.JSONField(default=list, blank=True, help_text="What was done automatically.")

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "condition"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="one_active_alert_per_model_condition",
            )
        ]
        indexes = [models.Index(fields=["state", "severity", "-last_seen"], name="alert_board")]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} on {self.model_id} ({self.state})"


class Mitigation(models.TextChoices):
    INCIDENT = "incident", "Open an incident assigned to the owner"
    BLOCK_PROMOTIONS = "block_promotions", "Block promotions while a critical alert is open"
    ROLLBACK = "rollback", "Roll production back to the last approved version"


class MonitoringPolicy(models.Model):
    """Thresholds and mitigations for one model; a domain-wide default when `model` is empty."""

    domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.CASCADE, null=True, blank=True, related_name="monitoring_policies"
    )
    model = models.OneToOneField(
        "catalog.RegisteredModel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="monitoring_policy",
    )
    max_data_age_hours = models.PositiveIntegerField(default=48)
    retraining_variance_tolerance = models.FloatField(
        default=0.05, help_text="Relative change of the primary metric."
    )
    bias_tolerance_std = models.FloatField(default=3.0, help_text="|mean - baseline mean| in baseline stds.")
    variance_ratio_max = models.FloatField(default=2.0, help_text="Largest std / baseline std.")
    mitigations = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(domain__isnull=False) | Q(model__isnull=False), name="monitoring_policy_has_scope"
            ),
            models.UniqueConstraint(
                fields=["domain"], condition=Q(model__isnull=True), name="one_default_policy_per_domain"
            ),
        ]

    def __str__(self) -> str:
        return f"Monitoring policy for {self.model_id or self.domain_id}"


class PredictionStats(models.Model):
    """A day of a serving system's predictions, summarised (count, mean, std, quantiles, per segment)."""

    model = models.ForeignKey(
        "catalog.RegisteredModel", on_delete=models.CASCADE, related_name="prediction_stats"
    )
    version = models.ForeignKey(
        "catalog.ModelVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prediction_stats",
    )
    day = models.DateField()
    count = models.PositiveBigIntegerField()
    mean = models.FloatField()
    std = models.FloatField()
    quantiles = models.JSONField(default=dict, blank=True)
    segment_means = models.JSONField(default=dict, blank=True)
    is_baseline = models.BooleanField(default=False, help_text="The training/validation reference.")
    received_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "day"], condition=Q(is_baseline=False), name="one_stats_per_day"
            ),
            models.UniqueConstraint(
                fields=["model"], condition=Q(is_baseline=True), name="one_baseline_per_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.day}: mean {self.mean:g}"


class NotificationChannel(models.Model):
    """Where alerts go: e-mail addresses or a webhook (JSON POST signed with HMAC-SHA256)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=500, help_text="Comma-separated addresses, or the webhook URL.")
    secret_env = models.CharField(max_length=100, blank=True, help_text="Env var holding the signing secret.")
    min_severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    is_enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One notification of one alert event to one channel, retried until delivered or given up."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=20)  # opened, escalated, resolved
    status = models.CharField(max_length=10, default="pending")  # pending, sent, failed
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.event} of {self.alert_id} to {self.channel_id}: {self.status}"
