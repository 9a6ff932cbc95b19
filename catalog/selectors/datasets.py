from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from .. import policies
from ..filters import DatasetFilter
from ..models import Dataset, VersionDataset
from ._filtering import apply_filterset

DATASET_ORDERING = ("name", "id")


def dataset_list(*, user, filters=None) -> QuerySet[Dataset]:
    qs = (
        policies.scope(Dataset.objects.all(), user)
        .select_related("owner", "domain")
        .annotate(model_count=Count("version_links__version__model", distinct=True))
    )
    return apply_filterset(DatasetFilter, filters, qs)


def dataset_detail(*, user, pk: int) -> Dataset:
    return get_object_or_404(policies.scope(Dataset.objects.select_related("owner", "domain"), user), pk=pk)


def dataset_usage(*, dataset: Dataset) -> list[dict]:
    """Every model that used the dataset, with the versions and roles: one query.

    Answers "which models use this dataset" (erasure, breach and freshness questions).
    """
    links = (
        VersionDataset.objects.filter(dataset=dataset)
        .select_related("version", "version__model", "version__model__domain")
        .order_by("version__model__name", "-version__sequence")
    )
    by_model: dict[int, dict] = {}
    for link in links:
        model = link.version.model
        entry = by_model.setdefault(model.pk, {"model": model, "versions": []})
        entry["versions"].append({"version": link.version, "role": link.role, "digest": link.digest})
    return list(by_model.values())
