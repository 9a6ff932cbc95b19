from collections import defaultdict

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from .. import policies
from ..models import MetricPoint, ModelAlias, ModelVersion, VersionDataset, VersionMetric


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
    """For each metric key, its final value per version in version order (one query)."""
    rows = (
        VersionMetric.objects.filter(version__model=model)
        .order_by("version__sequence", "version_id")
        .values_list("key", "value", "version__version", "version__created_at")
    )
    series: dict[str, list[dict]] = defaultdict(list)
    for key, value, label, created_at in rows:
        series[key].append({"version": label, "value": value, "created_at": created_at})
    return dict(sorted(series.items()))


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
