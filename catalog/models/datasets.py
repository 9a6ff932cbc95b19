from django.conf import settings
from django.db import models
from django.urls import reverse


class PiiCategory(models.TextChoices):
    CONTACT = "contact", "Contact details"
    IDENTIFIER = "identifier", "Identifiers"
    LOCATION = "location", "Location"
    PURCHASE_HISTORY = "purchase_history", "Purchase history"
    BEHAVIOUR = "behaviour", "Online behaviour"
    FINANCIAL = "financial", "Financial"
    HEALTH = "health", "Health"
    BIOMETRIC = "biometric", "Biometric"
    GENETIC = "genetic", "Genetic"
    ETHNIC_ORIGIN = "ethnic_origin", "Racial or ethnic origin"
    POLITICAL_OPINION = "political_opinion", "Political opinions"
    RELIGION = "religion", "Religious or philosophical beliefs"
    TRADE_UNION = "trade_union", "Trade-union membership"
    SEX_LIFE = "sex_life", "Sex life or orientation"


# GDPR Art. 9 special categories: processing needs an explicit exception and, here, a DPIA.
SPECIAL_CATEGORIES = {
    PiiCategory.HEALTH,
    PiiCategory.BIOMETRIC,
    PiiCategory.GENETIC,
    PiiCategory.ETHNIC_ORIGIN,
    PiiCategory.POLITICAL_OPINION,
    PiiCategory.RELIGION,
    PiiCategory.TRADE_UNION,
    PiiCategory.SEX_LIFE,
}


class Sensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class Dataset(models.Model):
    """A data set known to the catalog, identified by URI. Versions link to it with a role."""

    uri = models.CharField(max_length=1000, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_datasets",
    )
    domain = models.ForeignKey(
        "catalog.Domain", on_delete=models.SET_NULL, null=True, blank=True, related_name="datasets"
    )
    pii_categories = models.JSONField(default=list, blank=True)
    sensitivity = models.CharField(max_length=20, choices=Sensitivity.choices, default=Sensitivity.INTERNAL)
    last_updated_at = models.DateTimeField(null=True, blank=True, help_text="Freshness: last data refresh.")
    retention_days = models.PositiveIntegerField(null=True, blank=True, help_text="How long rows are kept.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:dataset-detail", args=[self.pk])

    @property
    def has_pii(self) -> bool:
        return bool(self.pii_categories)

    @property
    def is_special_category(self) -> bool:
        return any(c in SPECIAL_CATEGORIES for c in self.pii_categories)

    def get_pii_labels(self) -> list[str]:
        labels = dict(PiiCategory.choices)
        return [labels.get(c, c) for c in self.pii_categories]
