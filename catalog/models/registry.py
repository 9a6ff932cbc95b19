from django.db import models
from django.urls import reverse


class RegistryKind(models.TextChoices):
    MLFLOW = "mlflow", "MLflow"
    MANIFESTS = "manifests", "Models-as-code manifests"
    MANUAL = "manual", "Registered by hand"


class RegistryAuth(models.TextChoices):
    NONE = "none", "None"
    BASIC = "basic", "Basic (user name + password)"
    BEARER = "bearer", "Bearer token"


class RegistrySource(models.Model):
    """A model registry Modelhouse reads from.

    Credentials are never stored: `secret_env` names the environment variable (or secret mounted as one)
    that holds the password or token, read by the worker at sync time.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=RegistryKind.choices)
    base_url = models.CharField(max_length=500, help_text="Registry URL, or a directory for manifests.")
    ui_url = models.URLField(max_length=500, blank=True, help_text="Where people browse this registry.")
    is_enabled = models.BooleanField(default=True)
    poll_seconds = models.PositiveIntegerField(default=300)
    full_sweep_hours = models.PositiveIntegerField(
        default=24, help_text="How often a full sweep runs to catch deletions."
    )
    default_domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    auth = models.CharField(max_length=10, choices=RegistryAuth.choices, default=RegistryAuth.NONE)
    auth_username = models.CharField(max_length=150, blank=True)
    secret_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable holding the password/token."
    )
    # Incremental sync state, advanced only after a successful sync.
    watermark_ms = models.BigIntegerField(null=True, blank=True, editable=False)
    last_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:registry-detail", args=[self.name])


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncRun(models.Model):
    """One sync of one registry source: what it found, what it changed, and how it ended."""

    source = models.ForeignKey(RegistrySource, on_delete=models.CASCADE, related_name="sync_runs")
    is_full = models.BooleanField(default=False)
    trigger = models.CharField(max_length=20, default="schedule")  # schedule, manual, command
    status = models.CharField(max_length=20, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    http_calls = models.PositiveIntegerField(default=0)
    attempt = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    problems = models.JSONField(
        default=list, blank=True, help_text="Per-item problems that did not stop the sync."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="syncrun_source_recent")]

    def __str__(self) -> str:
        return f"{self.source} sync #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CatalogEventKind(models.TextChoices):
    ALIAS_SET = "alias_set", "Alias set"
    ALIAS_MOVED = "alias_moved", "Alias moved"
    ALIAS_REMOVED = "alias_removed", "Alias removed"
    VERSION_REMOVED = "version_removed", "Version removed from registry"
    MODEL_REMOVED = "model_removed", "Model removed from registry"


class CatalogEvent(models.Model):
    """Something that happened to a model outside Modelhouse, seen by a registry sync."""

    model = models.ForeignKey("catalog.RegisteredModel", on_delete=models.CASCADE, related_name="events")
    version = models.ForeignKey(
        "catalog.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    source = models.ForeignKey(
        RegistrySource, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sync_run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=30, choices=CatalogEventKind.choices)
    alias = models.CharField(max_length=100, blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["model", "-occurred_at"], name="event_model_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.model_id}"
