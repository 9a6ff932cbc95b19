import hashlib

from django.conf import settings
from django.db import models


class VerificationScript(models.Model):
    """A scientist's script that checks a model version; its content hash is the script revision."""

    model = models.ForeignKey(
        "catalog.RegisteredModel", on_delete=models.CASCADE, related_name="verification_scripts"
    )
    name = models.CharField(max_length=100)
    source = models.TextField(help_text="Python. Reads the version's metadata as JSON on stdin, prints JSON.")
    checks_description = models.TextField(blank=True, help_text="What it checks, e.g. 'auc >= 0.80'.")
    timeout_seconds = models.PositiveIntegerField(default=120)
    revision = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "name"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="uniq_verification_script_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.revision[:8]})"

    @staticmethod
    def hash_source(source: str) -> str:
        return hashlib.sha256(source.encode()).hexdigest()


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    TIMED_OUT = "timed_out", "Timed out"


FINAL_STATUSES = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT)


class VerificationRun(models.Model):
    version = models.ForeignKey(
        "catalog.ModelVersion", on_delete=models.CASCADE, related_name="verification_runs"
    )
    script = models.ForeignKey(VerificationScript, on_delete=models.CASCADE, related_name="runs")
    script_revision = models.CharField(max_length=64)
    trigger = models.CharField(max_length=20, default="manual")  # manual, new_version, promotion, schedule
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    checks = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    stdout_tail = models.TextField(blank=True)
    stderr_tail = models.TextField(blank=True)
    isolation = models.JSONField(default=list, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["version", "script", "-queued_at"], name="verification_latest"),
            models.Index(fields=["status", "queued_at"], name="verification_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.script.name} on {self.version_id}: {self.status}"
