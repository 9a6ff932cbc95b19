from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .. import policies
from ..filters import ModelFilter
from ..models import Domain, ModelAlias, ModelOwner, ModelVersion, RegisteredModel, RegistrySource, Tag, Team
from ._dates import as_text, parse_timestamp
from ._filtering import apply_filterset


@dataclass(frozen=True)
class Sort:
    label: str
    ordering: tuple[str, ...]


# Each ordering ends with the primary key so keyset pagination has a total order.
MODEL_SORTS: dict[str, Sort] = {
    "name": Sort("Name A-Z", ("name", "id")),
    "-name": Sort("Name Z-A", ("-name", "-id")),
    "-updated": Sort("Recently updated", ("-updated_at", "-id")),
    "updated": Sort("Least recently updated", ("updated_at", "id")),
    "domain": Sort("Domain", ("domain__name", "name", "id")),
    "lifecycle": Sort("Lifecycle", ("lifecycle", "id")),
    "-versions": Sort("Most versions", ("-version_count", "-id")),
}
DEFAULT_MODEL_SORT = "name"


def model_list(*, user, filters=None) -> QuerySet[RegisteredModel]:
    """Models the user may see, filtered (q, domain, team, owner, lifecycle, tag, registry).

    Loads everything a list row shows in a fixed number of queries, whatever the page size.
    Raises ValidationError for an invalid filter value.
    """
    qs = (
        policies.scope(RegisteredModel.objects.all(), user)
        .select_related("domain", "team", "source", "latest_version")
        .prefetch_related(
            "tags",
            Prefetch("ownerships", queryset=ModelOwner.objects.select_related("user")),
            Prefetch("latest_version__metrics"),
        )
        .defer("search_document", "search_vector")
    )
    return apply_filterset(ModelFilter, filters, qs)


def model_filter_options() -> dict:
    """Choices for the filter bar (small tables, one query each)."""
    # EXISTS per user / tag (an index probe each) rather than DISTINCT over the join, which reads every
    # ownership and tag link: 30 ms at 100k models, on every catalog page.
    users_owning = (
        get_user_model()
        .objects.filter(Exists(ModelOwner.objects.filter(user=OuterRef("pk"))))
        .order_by("username")
    )
    tagged = RegisteredModel.tags.through.objects.filter(tag=OuterRef("pk"))
    return {
        "domains": list(Domain.objects.only("name", "slug")),
        "teams": list(Team.objects.only("name", "slug")),
        "owners": list(users_owning.only("username", "first_name", "last_name")),
        "tags": list(Tag.objects.filter(Exists(tagged)).order_by("name").values_list("name", flat=True)),
        "registries": list(RegistrySource.objects.values_list("name", flat=True)),
    }


def model_detail(*, user, name: str) -> RegisteredModel:
    qs = (
        policies.scope(RegisteredModel.objects.all(), user)
        .select_related("domain", "team", "source", "latest_version", "manifest_source")
        .prefetch_related(
            "tags",
            "input_datasets",
            Prefetch("ownerships", queryset=ModelOwner.objects.select_related("user")),
            Prefetch("aliases", queryset=ModelAlias.objects.select_related("version")),
        )
    )
    return get_object_or_404(qs, name=name)


def model_versions(*, model: RegisteredModel) -> QuerySet[ModelVersion]:
    """Versions newest first, with aliases, metrics and linked datasets loaded."""
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("parent")
        .prefetch_related("aliases", "metrics", "dataset_links__dataset")
        .order_by("-sequence", "-id")
    )


def model_retraining_timeline(*, model: RegisteredModel) -> list[dict]:
    """Each training in time order: when, which version, why, and on how many training datasets."""
    rows = (
        ModelVersion.objects.filter(model=model)
        .order_by("created_at", "id")
        .values_list("id", "version", as_text("created_at"), "training_reason", "status")
    )
    return [
        {
            "id": pk,
            "version": label,
            "created_at": parse_timestamp(created),
            "training_reason": reason,
            "status": st,
        }
        for pk, label, created, reason, st in rows
    ]
