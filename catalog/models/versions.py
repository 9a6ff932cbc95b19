from django.db import models
from django.urls import reverse


class VersionStatus(models.TextChoices):
    PENDING = "pending", "Pending registration"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed registration"
    REMOVED = "removed", "Removed from registry"


class TrainingReason(models.TextChoices):
    INITIAL = "initial", "Initial training"
    SCHEDULED = "scheduled", "Scheduled retrain"
    DRIFT = "drift", "Drift detected"
    MANUAL = "manual", "Manual"


class DatasetRole(models.TextChoices):
    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"


class ModelVersion(models.Model):
    model = models.ForeignKey("catalog.RegisteredModel", on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=50)
    created_at = models.DateTimeField(help_text="When the version was trained/registered.")
    created_by = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.READY)
    description = models.TextField(blank=True)
    source_uri = models.CharField(max_length=1000, blank=True)
    run_id = models.CharField(max_length=100, blank=True)
    code_commit = models.CharField(max_length=64, blank=True)
    code_repository = models.CharField(max_length=500, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    artifact_digest = models.CharField(max_length=128, blank=True)
    training_reason = models.CharField(
        max_length=20, choices=TrainingReason.choices, default=TrainingReason.MANUAL
    )
    datasets = models.ManyToManyField(
        "catalog.Dataset", through="catalog.VersionDataset", related_name="versions"
    )
    # Order of versions within a model: numeric registry versions sort numerically.
    sequence = models.PositiveIntegerField(default=0)
    parent_run_id = models.CharField(max_length=100, blank=True, help_text="Run that launched this training.")
    tags = models.JSONField(default=dict, blank=True, help_text="Registry tags, as the registry has them.")
    registry_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Last change in the registry."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-sequence", "-id"]
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="uniq_model_version")]
        indexes = [
            models.Index(fields=["model", "sequence"], name="version_model_seq"),
            models.Index(fields=["run_id"], name="version_run_id"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:version-detail", args=[self.model.name, self.version])


class ModelAlias(models.Model):
    """A named pointer (champion, production, ...) to one version of a model."""

    model = models.ForeignKey("catalog.RegisteredModel", on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=100)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["alias"]
        constraints = [models.UniqueConstraint(fields=["model", "alias"], name="uniq_model_alias")]

    def __str__(self) -> str:
        return f"@{self.alias}"


class VersionMetric(models.Model):
    """The final (latest-step) value of one metric of one version; lists and charts read this."""

    # No index of its own: uniq_version_metric (version, key) serves lookups by version.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="metrics", db_index=False
    )
    key = models.CharField(max_length=100)
    value = models.FloatField()
    step = models.BigIntegerField(default=0)
    point_count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="uniq_version_metric")]

    def __str__(self) -> str:
        return f"{self.key}={self.value:g}"


class MetricPoint(models.Model):
    """One point of a metric's history (a series over training steps)."""

    # No index of its own: uniq_metric_point (version, key, step) serves lookups by version.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="metric_points", db_index=False
    )
    key = models.CharField(max_length=100)
    step = models.BigIntegerField(default=0)
    value = models.FloatField()
    timestamp = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key", "step"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key", "step"], name="uniq_metric_point"),
        ]

    def __str__(self) -> str:
        return f"{self.key}[{self.step}]={self.value:g}"


class VersionDataset(models.Model):
    # No index of its own: uniq_version_dataset_role (version, dataset, role) serves lookups by version.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="dataset_links", db_index=False
    )
    # No index of its own: dataset_usage (dataset, version) serves lookups by dataset.
    dataset = models.ForeignKey(
        "catalog.Dataset", on_delete=models.PROTECT, related_name="version_links", db_index=False
    )
    role = models.CharField(max_length=20, choices=DatasetRole.choices, default=DatasetRole.TRAINING)
    digest = models.CharField(max_length=128, blank=True, help_text="Digest of the data as used.")

    class Meta:
        ordering = ["role", "dataset__name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "dataset", "role"], name="uniq_version_dataset_role")
        ]
        indexes = [models.Index(fields=["dataset", "version"], name="dataset_usage")]

    def __str__(self) -> str:
        return f"{self.dataset_id} ({self.role})"
