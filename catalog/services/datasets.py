from django.core.exceptions import ValidationError
from django.db import transaction

from portal.text import contains_nul

from .. import policies
from ..models import Dataset, PiiCategory

DATASET_FIELDS = (
    "name",
    "description",
    "owner",
    "domain",
    "pii_categories",
    "sensitivity",
    "last_updated_at",
    "retention_days",
)


def _validate_pii(categories) -> list[str]:
    if not isinstance(categories, list | tuple):
        raise ValidationError({"pii_categories": "Give a list of PII categories."})
    unknown = sorted(set(categories) - set(PiiCategory.values))
    if unknown:
        raise ValidationError(
            {
                "pii_categories": (
                    f"Unknown PII categories: {', '.join(unknown)}. Known: {', '.join(PiiCategory.values)}."
                )
            }
        )
    return sorted(set(categories))


@transaction.atomic
def dataset_create(*, actor, uri: str, name: str = "", **fields) -> Dataset:
    policies.require(policies.can_manage_dataset(actor), "You may not register datasets.")
    if Dataset.objects.filter(uri=uri).exists():
        raise ValidationError({"uri": "A dataset with this URI is already in the catalog."})
    fields["pii_categories"] = _validate_pii(fields.get("pii_categories", []))
    if contains_nul([uri, name, fields.get("description", "")]):
        raise ValidationError("Null characters are not allowed in text.")
    # Whoever registers a dataset owns it until they hand it on, so they can curate it.
    if fields.get("owner") is None and getattr(actor, "pk", None):
        fields["owner"] = actor
    dataset = Dataset(uri=uri.strip(), name=(name or uri.rstrip("/").rsplit("/", 1)[-1]).strip(), **fields)
    dataset.full_clean()
    dataset.save()
    return dataset


@transaction.atomic
def dataset_update(*, actor, dataset: Dataset, **fields) -> Dataset:
    policies.require(
        policies.can_manage_dataset(actor, dataset), "Only the dataset owner or compliance may edit it."
    )
    unknown = set(fields) - set(DATASET_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if "pii_categories" in fields:
        fields["pii_categories"] = _validate_pii(fields["pii_categories"])
    for key, value in fields.items():
        setattr(dataset, key, value)
    dataset.full_clean()
    dataset.save()
    return dataset


def dataset_upsert_by_uri(*, uri: str, name: str = "", defaults: dict | None = None) -> Dataset:
    """The catalog entry for `uri`, created on first sight (lineage and registry sync call this).

    Existing entries are not overwritten: their curated owner and classification stay.
    """
    uri = (uri or "").strip()
    if not uri:
        raise ValidationError({"uri": "A dataset URI is required."})
    dataset, _ = Dataset.objects.get_or_create(
        uri=uri, defaults={"name": (name or uri.rstrip("/").rsplit("/", 1)[-1])[:200], **(defaults or {})}
    )
    return dataset
