from django.conf import settings
from django.db import models


class DodItem(models.TextChoices):
    DATASETS_LINKED = "datasets_linked", "Input data pipelines named"
    CONTRACT_DEFINED = "contract_defined", "Output format / contract defined"
    RETRAINING_REPEATABLE = "retraining_repeatable", "Repeatable retraining pipeline"
    SCALABILITY_REVIEWED = "scalability_reviewed", "Scalability and cluster settings reviewed"
    CONFIG_IN_CODE = "config_in_code", "Configuration tracked in code"
    OWNERS_NAMED = "owners_named", "Owners named"
    MODEL_CARD_COMPLETE = "model_card_complete", "Model card complete"
    VERIFICATION_PASSING = "verification_passing", "Verification script present and passing"


# Items no fact in the catalog can prove: a person attests them.
ATTESTED_ITEMS = frozenset({DodItem.SCALABILITY_REVIEWED})


class DodAttestation(models.Model):
    model = models.ForeignKey(
        "catalog.RegisteredModel", on_delete=models.CASCADE, related_name="dod_attestations"
    )
    item = models.CharField(max_length=30, choices=DodItem.choices)
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attested_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "item"], name="uniq_dod_attestation")]

    def __str__(self) -> str:
        return f"{self.item} attested on {self.model_id}"
