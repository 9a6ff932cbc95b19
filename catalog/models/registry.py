from django.db import models


class RegistryKind(models.TextChoices):
    MLFLOW = "mlflow", "MLflow"
    MANIFESTS = "manifests", "Models-as-code manifests"
    MANUAL = "manual", "Registered by hand"


class RegistrySource(models.Model):
    """A model registry Modelhouse reads from. Credentials are named env vars, never stored values."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=RegistryKind.choices)
    base_url = models.CharField(max_length=500, help_text="Registry URL, or a directory for manifests.")
    ui_url = models.URLField(max_length=500, blank=True, help_text="Where people browse this registry.")
    is_enabled = models.BooleanField(default=True)
    poll_seconds = models.PositiveIntegerField(default=300)
    default_domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
