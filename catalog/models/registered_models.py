from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse


class Lifecycle(models.TextChoices):
    EXPERIMENTAL = "experimental", "Experimental"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    DEPRECATED = "deprecated", "Deprecated"
    ARCHIVED = "archived", "Archived"


class MetricGoal(models.TextChoices):
    MAXIMIZE = "maximize", "Higher is better"
    MINIMIZE = "minimize", "Lower is better"


class OwnerRole(models.TextChoices):
    TECHNICAL = "technical", "Technical owner"
    BUSINESS = "business", "Business owner"
    STEWARD = "steward", "Data steward"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredModel(models.Model):
    """A model as the business knows it; versions hold the lineage of each training."""

    name = models.CharField(max_length=200, unique=True)
    domain = models.ForeignKey("catalog.Domain", on_delete=models.PROTECT, related_name="models")
    team = models.ForeignKey(
        "catalog.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="models"
    )
    description = models.TextField(blank=True, help_text="Markdown.")
    tags = models.ManyToManyField(Tag, related_name="models", blank=True)
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="catalog.ModelOwner", related_name="owned_models", blank=True
    )
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.EXPERIMENTAL)

    # Model card
    intended_use = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)

    primary_metric = models.CharField(
        max_length=100, blank=True, help_text="Metric that decides regressions."
    )
    primary_metric_goal = models.CharField(
        max_length=10, choices=MetricGoal.choices, default=MetricGoal.MAXIMIZE
    )

    regression_tolerance = models.FloatField(
        default=0.0, help_text="How much worse than the champion the primary metric may be (absolute)."
    )

    # Retraining schedule: the next due date is derived by the service from the last training.
    retrain_every_days = models.PositiveIntegerField(null=True, blank=True)
    next_retrain_due = models.DateTimeField(null=True, blank=True)

    source = models.ForeignKey(
        "catalog.RegistrySource", on_delete=models.SET_NULL, null=True, blank=True, related_name="models"
    )
    source_url = models.URLField(max_length=1000, blank=True)
    registry_tags = models.JSONField(default=dict, blank=True, help_text="Tags as the registry has them.")
    manifest_source = models.ForeignKey(
        "catalog.RegistrySource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="manifest_models",
        help_text="Models-as-code source that owns this model's metadata, if any.",
    )
    contract = models.JSONField(default=dict, blank=True, help_text="Input and output schema.")
    input_datasets = models.ManyToManyField(
        "catalog.Dataset", blank=True, related_name="declared_by_models", help_text="Pipelines feeding it."
    )

    # Denormalised for fast lists; kept true by catalog.services.
    latest_version = models.ForeignKey(
        "catalog.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version_count = models.PositiveIntegerField(default=0)
    search_document = models.TextField(blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="model_updated_keyset"),
            models.Index(fields=["lifecycle", "id"], name="model_lifecycle_keyset"),
            models.Index(fields=["domain", "name"], name="model_domain_name"),
            # Models per domain and lifecycle (domain list, dashboards), counted from the index alone.
            models.Index(fields=["domain", "lifecycle", "id"], name="model_domain_lifecycle"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:model-detail", args=[self.name])

    def retrain_overdue_days(self, now) -> int | None:
        """Whole days since retraining fell due, or None when it is not overdue at `now` (0: due less
        than a day ago). The one reading of the schedule: pages, the API and the monitoring check."""
        due = self.next_retrain_due
        return (now - due).days if due is not None and due < now else None

    def is_retrain_overdue(self, now) -> bool:
        return self.retrain_overdue_days(now) is not None

    @property
    def model_card_complete(self) -> bool:
        return all(
            [
                self.description.strip(),
                self.intended_use.strip(),
                self.limitations.strip(),
                self.ethical_considerations.strip(),
            ]
        )


class ModelOwner(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="ownerships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="model_ownerships"
    )
    role = models.CharField(max_length=20, choices=OwnerRole.choices, default=OwnerRole.TECHNICAL)

    class Meta:
        ordering = ["role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["model", "user", "role"], name="uniq_model_owner_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
