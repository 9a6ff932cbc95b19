from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .. import policies
from ..filters import ModelFilter
from ..models import (
    Domain,
    ModelAlias,
    ModelOwner,
    ModelVersion,
    RegisteredModel,
    RegistrySource,
    Tag,
    Team,
    VersionDataset,
    VersionMetric,
)
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

    Loads the model's own row and its to-one relations; model_list_load() adds what a row shows from
    to-many relations, for the one page that is shown. Raises ValidationError for an invalid filter value.
    """
    qs = (
        policies.scope(RegisteredModel.objects.all(), user)
        .select_related("domain", "team", "source", "latest_version")
        .defer("search_document", "search_vector")
    )
    return apply_filterset(ModelFilter, filters, qs)


@dataclass(frozen=True, slots=True)
class FilterChoice:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class FilterOwner:
    username: str
    full_name: str

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True, slots=True)
class ListOwner:
    username: str
    full_name: str
    role: str
    role_label: str

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True, slots=True)
class ListMetric:
    key: str
    value: float


def model_count(*, user, filters=None, limit: int) -> int:
    """How many models model_list() gives for these filters, counted up to `limit` + 1 (more than `limit`
    is all a page says: an exact count of 100k models costs more than the page)."""
    return model_list(user=user, filters=filters).order_by().values("pk")[: limit + 1].count()


def model_list_load(models: list[RegisteredModel]) -> list[RegisteredModel]:
    """Sets what a list row shows from to-many relations on each of `models` (one page), in three flat
    queries whatever their number: `list_tags` (names, A-Z), `list_owners` (ListOwner, in ModelOwner's
    order) and `list_metric` (the latest version's primary metric as a ListMetric, or None).

    Plain values rather than prefetch_related(): for every row and relation Django builds a related manager
    and a filtered queryset, which took 9 of a 26 ms catalog page at 50 rows; these queries take 2."""
    by_pk = {m.pk: m for m in models}
    for m in models:
        m.list_tags, m.list_owners, m.list_metric = [], [], None
    if not models:
        return models
    for model_id, name in (
        RegisteredModel.tags.through.objects.filter(registeredmodel_id__in=by_pk)
        .order_by("tag__name")
        .values_list("registeredmodel_id", "tag__name")
    ):
        by_pk[model_id].list_tags.append(name)
    roles = dict(ModelOwner._meta.get_field("role").flatchoices)
    for model_id, role, username, first, last in (
        ModelOwner.objects.filter(model_id__in=by_pk)
        .order_by("role", "user__username")
        .values_list("model_id", "role", "user__username", "user__first_name", "user__last_name")
    ):
        full_name = f"{first} {last}".strip()  # as User.get_full_name()
        by_pk[model_id].list_owners.append(ListOwner(username, full_name, role, roles.get(role, role)))
    wanted = {m.latest_version_id: m for m in models if m.latest_version_id and m.primary_metric}
    if wanted:
        keys = {m.primary_metric for m in wanted.values()}
        for version_id, key, value in VersionMetric.objects.filter(
            version_id__in=wanted, key__in=keys
        ).values_list("version_id", "key", "value"):
            model = wanted[version_id]
            if key == model.primary_metric:
                model.list_metric = ListMetric(key, value)
    return models


FILTER_OPTIONS_CACHE_KEY = "catalog:model-filter-options:1"


def model_filter_options() -> dict:
    """Choices for the filter bar, cached for settings.MODELHOUSE_FILTER_OPTIONS_SECONDS: every catalog page
    shows them and they change rarely, so a new tag or owner reaches the filter within that time (a minute)
    instead of five queries on every page. The same for every user: only names of what exists."""
    options = cache.get(FILTER_OPTIONS_CACHE_KEY)
    if options is None:
        options = _model_filter_options()
        cache.set(FILTER_OPTIONS_CACHE_KEY, options, settings.MODELHOUSE_FILTER_OPTIONS_SECONDS)
    return options


def _model_filter_options() -> dict:
    # EXISTS per user / tag (an index probe each) rather than DISTINCT over the join, which reads every
    # ownership and tag link: 30 ms at 100k models, on every catalog page.
    users_owning = (
        get_user_model()
        .objects.filter(Exists(ModelOwner.objects.filter(user=OuterRef("pk"))))
        .order_by("username")
    )
    tagged = RegisteredModel.tags.through.objects.filter(tag=OuterRef("pk"))
    return {
        "domains": [FilterChoice(*row) for row in Domain.objects.values_list("slug", "name")],
        "teams": [FilterChoice(*row) for row in Team.objects.values_list("slug", "name")],
        "owners": [
            FilterOwner(username, f"{first} {last}".strip())
            for username, first, last in users_owning.values_list("username", "first_name", "last_name")
        ],
        "tags": list(Tag.objects.filter(Exists(tagged)).order_by("name").values_list("name", flat=True)),
        "registries": list(RegistrySource.objects.values_list("name", flat=True)),
    }


def _model_header_prefetches() -> tuple:
    """What a model's page header and summary show from other tables: tags, owners, aliases."""
    return (
        "tags",
        Prefetch("ownerships", queryset=ModelOwner.objects.select_related("user")),
        # An alias is shown as its name and its version's label.
        Prefetch(
            "aliases",
            queryset=ModelAlias.objects.select_related("version").only("model", "alias", "version__version"),
        ),
    )


def model_detail(*, user, name: str) -> RegisteredModel:
    qs = (
        policies.scope(RegisteredModel.objects.all(), user)
        .select_related("domain", "team", "source", "latest_version", "manifest_source")
        .prefetch_related("input_datasets", *_model_header_prefetches())
    )
    return get_object_or_404(qs, name=name)


def model_overview(*, user, name: str) -> RegisteredModel:
    """What the model page's first paint shows: model_detail() without the registry and manifest sources
    and the input datasets (the page's registry part, loaded after it, reads those)."""
    qs = (
        policies.scope(RegisteredModel.objects.all(), user)
        .select_related("domain", "team", "source", "latest_version")
        .prefetch_related(*_model_header_prefetches())
    )
    return get_object_or_404(qs, name=name)


def model_core(*, user, name: str) -> RegisteredModel:
    """The model with its domain and latest version, nothing more: for the parts of its page that show
    charts or lineage and check no permission beyond seeing it."""
    return get_object_or_404(
        policies.scope(RegisteredModel.objects.all(), user).select_related("domain", "latest_version"),
        name=name,
    )


def model_versions(*, model: RegisteredModel) -> QuerySet[ModelVersion]:
    """Versions newest first, with aliases, metrics and linked datasets loaded."""
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("parent")
        .prefetch_related("aliases", "metrics", "dataset_links__dataset")
        .order_by("-sequence", "-id")
    )


@dataclass(frozen=True, slots=True)
class VersionRowDataset:
    dataset_id: int
    name: str
    uri: str
    role: str
    role_label: str


VERSION_TABLE_FIELDS = ("id", "model_id", "version", "created_at", "created_by", "status", "training_reason")


def model_versions_table(*, model: RegisteredModel) -> QuerySet[ModelVersion]:
    """Versions newest first with the columns the model page's table shows (the parent's label as
    `parent_label`); model_versions_table_load() adds what a row shows from other tables, for the one page
    that is shown."""
    return (
        ModelVersion.objects.filter(model=model)
        .only(*VERSION_TABLE_FIELDS, "sequence")
        .annotate(parent_label=F("parent__version"))
        .order_by("-sequence", "-id")
    )


def model_versions_table_load(versions: list[ModelVersion], *, model: RegisteredModel) -> list[ModelVersion]:
    """Sets what a table row shows from other tables on each of `versions` (one page of
    model_versions_table), in two flat queries whatever their number: `row_aliases` (the names of the
    model's aliases on it, A-Z, from `model.aliases`, which model_detail() loaded), `row_metric` (the
    value of the model's primary metric, or None) and `row_datasets` (VersionRowDataset, by role, then
    dataset name).

    Plain values rather than prefetch_related(), as in model_list_load(): a related manager and a filtered
    queryset per row and relation cost ~1 ms per relation on a page of 25 rows, and only the primary
    metric is shown of a version's metrics."""
    by_pk = {v.pk: v for v in versions}
    for v in versions:
        v.row_aliases, v.row_metric, v.row_datasets = [], None, []
    if not versions:
        return versions
    for alias in model.aliases.all():
        if alias.version_id in by_pk:
            by_pk[alias.version_id].row_aliases.append(alias.alias)
    if model.primary_metric:
        for version_id, value in VersionMetric.objects.filter(
            version_id__in=by_pk, key=model.primary_metric
        ).values_list("version_id", "value"):
            by_pk[version_id].row_metric = value
    roles = dict(VersionDataset._meta.get_field("role").flatchoices)
    for version_id, dataset_id, role, name, uri in (
        VersionDataset.objects.filter(version_id__in=by_pk)
        .order_by("role", "dataset__name")
        .values_list("version_id", "dataset_id", "role", "dataset__name", "dataset__uri")
    ):
        by_pk[version_id].row_datasets.append(
            VersionRowDataset(dataset_id, name, uri, role, roles.get(role, role))
        )
    return versions


def model_retraining_timeline(*, model: RegisteredModel) -> list[dict]:
    """Each training (every version) in time order: when, which version, why, its status and sequence."""
    rows = (
        ModelVersion.objects.filter(model=model)
        .order_by("created_at", "id")
        .values_list("id", "version", as_text("created_at"), "training_reason", "status", "sequence")
    )
    return [
        {
            "id": pk,
            "version": label,
            "created_at": parse_timestamp(created),
            "training_reason": reason,
            "status": st,
            "sequence": seq,
        }
        for pk, label, created, reason, st, seq in rows
    ]


def model_version_labels(*, model: RegisteredModel) -> list[str]:
    """The labels of the model's versions, newest training first (the lineage picker's choices)."""
    return list(
        ModelVersion.objects.filter(model=model)
        .order_by("-created_at", "-id")
        .values_list("version", flat=True)
    )
