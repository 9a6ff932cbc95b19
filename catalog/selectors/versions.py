from collections import defaultdict

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from .. import policies
from ..models import MetricPoint, ModelAlias, ModelVersion, VersionDataset, VersionMetric
from ._dates import as_text, parse_timestamp


def _version_detail_queryset(*, user):
    return (
        policies.scope(ModelVersion.objects.all(), user)
        .select_related("model", "model__domain", "parent", "parent__model")
        .prefetch_related(
            "metrics",
            Prefetch("aliases", queryset=ModelAlias.objects.all()),
            Prefetch(
                "dataset_links", queryset=VersionDataset.objects.select_related("dataset", "dataset__owner")
            ),
            Prefetch("children", queryset=ModelVersion.objects.select_related("model")),
        )
    )


def version_detail(*, user, model_name: str, version: str) -> ModelVersion:
    return get_object_or_404(_version_detail_queryset(user=user), model__name=model_name, version=version)


def version_by_id(*, user, pk: int) -> ModelVersion:
    """The same loading as version_detail, addressed by primary key (the API's version URLs)."""
    return get_object_or_404(_version_detail_queryset(user=user), pk=pk)


def version_for_lineage(*, user, model, version: str) -> ModelVersion:
    """One version of `model` (already loaded and visible to `user`) with what version_lineage() reads and
    nothing else: the model page draws the lineage of one version and shows none of its metrics."""
    found = get_object_or_404(
        policies.scope(ModelVersion.objects.all(), user)
        .select_related("parent", "parent__model")
        .prefetch_related(
            Prefetch("aliases", queryset=ModelAlias.objects.all()),
            Prefetch(
                "dataset_links", queryset=VersionDataset.objects.select_related("dataset", "dataset__owner")
            ),
            Prefetch("children", queryset=ModelVersion.objects.select_related("model")),
        ),
        model=model,
        version=version,
    )
    found.model = model
    return found


def version_lineage(*, version: ModelVersion) -> dict:
    """Inputs and outputs of one version, from the relations version_detail loaded (no extra queries)."""
    links = list(version.dataset_links.all())
    return {
        "version": version,
        "training": [link for link in links if link.role == "training"],
        "evaluation": [link for link in links if link.role == "evaluation"],
        "code": {"commit": version.code_commit, "repository": version.code_repository}
        if version.code_commit
        else None,
        "parent": version.parent,
        "children": list(version.children.all()),
        "aliases": [a.alias for a in version.aliases.all()],
    }


def metric_values_across_versions(*, model) -> dict[str, list[dict]]:
    """For each metric key, its final value per version in version order (one query).

    The result is kept on the `model` instance: the model page's charts and its monitoring section both
    draw from it, and for a 1,000-version model reading it twice cost a query and ~10 ms. Callers must
    not change it; a fresh instance (the next request) reads again."""
    cached = model.__dict__.get("_metric_values_across_versions")
    if cached is not None:
        return cached
    rows = (
        VersionMetric.objects.filter(version__model=model)
        .order_by("version__sequence", "version_id")
        .values_list("key", "value", "version__version", as_text("version__created_at"))
    )
    series: dict[str, list[dict]] = defaultdict(list)
    for key, value, label, created_at in rows:
        series[key].append({"version": label, "value": value, "created_at": parse_timestamp(created_at)})
    result = model.__dict__["_metric_values_across_versions"] = dict(sorted(series.items()))
    return result


def metric_history(*, version: ModelVersion) -> dict[str, list[tuple[int, float]]]:
    """Each metric's points over steps for one version (one query); charts downsample long series."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for key, step, value in (
        MetricPoint.objects.filter(version=version)
        .order_by("key", "step")
        .values_list("key", "step", "value")
    ):
        series[key].append((step, value))
    return dict(series)
