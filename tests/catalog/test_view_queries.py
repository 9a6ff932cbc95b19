"""Every list page costs the same number of queries with 3 rows as with 20 (no N+1 in views or templates).

Rows are seeded with several owners, tags, metrics, datasets and aliases each, so a relation that is
not loaded by its selector shows up as extra queries.
"""

import itertools

import pytest

from catalog.models import Lifecycle, ModelAlias, OwnerRole
from catalog.views import MODEL_PANELS
from tests.conftest import table_rows_linking
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    add_metric,
    link_dataset,
)

pytestmark = pytest.mark.django_db

_names = itertools.count()


@pytest.fixture
def owners():
    return [UserFactory(username=f"owner{i}") for i in range(3)]


@pytest.fixture
def domain():
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


def add_version(model, label: str, *, parent=None):
    version = ModelVersionFactory(model=model, version=label, parent=parent)
    for key in ("auc", "logloss", "recall"):
        add_metric(version, key, [0.5, 0.6, 0.7])
    for role in ("training", "training", "evaluation"):
        link_dataset(version, DatasetFactory(owner=model.ownerships.first().user, domain=model.domain), role)
    return version


def add_models(n: int, *, domain, owners):
    for _ in range(n):
        i = next(_names)
        model = RegisteredModelFactory(
            name=f"model-{i:03d}",
            domain=domain,
            owners=owners,
            tags=[f"tag-{i}", "shared", "gbm"],
            lifecycle=list(Lifecycle.values)[i % 5],
            retrain_every_days=30,
        )
        first = add_version(model, "1")
        second = add_version(model, "2", parent=first)
        ModelAlias.objects.create(model=model, alias="champion", version=second)
        from catalog.models import ModelOwner

        ModelOwner.objects.get_or_create(model=model, user=owners[0], role=OwnerRole.BUSINESS)


def test_catalog_list(client, manager, domain, owners, assert_flat_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/?page_size=50",
        grow=lambda: add_models(17, domain=domain, owners=owners),
        rows=table_rows_linking("/models/"),
        expect=(3, 20),
    )


def test_catalog_list_filtered(client, manager, domain, owners, assert_flat_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/?page_size=50&tag=shared&owner=owner1&domain=personalisation&sort=domain",
        grow=lambda: add_models(17, domain=domain, owners=owners),
        rows=table_rows_linking("/models/"),
        expect=(3, 20),
    )


def test_dataset_list(client, manager, domain, owners, assert_flat_queries):
    model = RegisteredModelFactory(domain=domain, owners=owners)

    def add_datasets(n):
        for _ in range(n):
            dataset = DatasetFactory(
                owner=owners[next(_names) % 3], domain=domain, pii_categories=["contact"]
            )
            for label in ("a", "b"):
                version = ModelVersionFactory(model=model, version=f"{label}{next(_names)}")
                link_dataset(version, dataset, "training")

    add_datasets(3)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/datasets/?page_size=50",
        grow=lambda: add_datasets(17),
        rows=table_rows_linking("/datasets/"),
        expect=(3, 20),
    )


def domain_cards(response) -> int:
    return response.content.decode().count('class="card domain-card"')


def test_domain_list(client, manager, owners, assert_flat_queries):
    def add_domains(n):
        for _ in range(n):
            i = next(_names)
            add_models(
                2,
                domain=DomainFactory(name=f"Domain {i}", slug=f"domain-{i}", key=f"D{i:03d}"),
                owners=owners,
            )

    add_domains(3)
    client.force_login(manager)
    assert_flat_queries(client, "/domains/", grow=lambda: add_domains(17), rows=domain_cards, expect=(3, 20))


def test_domain_page(client, manager, domain, owners, assert_flat_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/domains/personalisation/",
        grow=lambda: add_models(17, domain=domain, owners=owners),
        rows=table_rows_linking("/models/"),
        expect=(3, 20),
    )


def test_model_page_versions_table(client, manager, domain, owners, assert_flat_queries):
    model = RegisteredModelFactory(name="churn", domain=domain, owners=owners, tags=["a", "b", "c"])
    ModelAlias.objects.all()
    previous = [None]

    def add_versions(n):
        for _ in range(n):
            version = add_version(model, str(next(_names) + 1), parent=previous[0])
            ModelAlias.objects.update_or_create(model=model, alias="champion", defaults={"version": version})
            ModelAlias.objects.create(model=model, alias=f"candidate-{version.version}", version=version)
            previous[0] = version

    add_versions(3)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/models/churn/",
        grow=lambda: add_versions(17),
        rows=table_rows_linking("/models/churn/versions/"),
        expect=(3, 20),
    )


def picker_options(response) -> int:
    return response.content.decode().count("<option ")


@pytest.mark.parametrize("part", list(MODEL_PANELS))
def test_model_page_parts(client, manager, domain, owners, part, assert_flat_queries):
    """Each part of the model page loaded after its first paint (catalog.views.MODEL_PANELS) charts, lists
    or checks every version in the same number of queries with 3 versions as with 20."""
    model = RegisteredModelFactory(name="churn", domain=domain, owners=owners, tags=["a", "b"])
    previous = [None]

    def add_versions(n):
        for _ in range(n):
            version = add_version(model, str(next(_names) + 1), parent=previous[0])
            ModelAlias.objects.update_or_create(model=model, alias="champion", defaults={"version": version})
            previous[0] = version

    add_versions(3)
    client.force_login(manager)
    lineage = part == "lineage"  # every version is a suggestion of its picker
    small, _ = assert_flat_queries(
        client,
        f"/models/churn/panels/{part}/",
        headers={"X-Fragment": "1"},
        grow=lambda: add_versions(17),
        rows=picker_options if lineage else None,
        expect=(3, 20) if lineage else None,
    )
    assert "<body" not in small.content.decode()


def alias_chips(response) -> int:
    return response.content.decode().count('<span class="chip chip--alias">@c')


def test_version_page(client, manager, domain, owners, assert_flat_queries):
    """The version page is not a list, but its datasets, children and aliases must not cost a query each."""
    model = RegisteredModelFactory(name="churn", domain=domain, owners=owners)
    root = add_version(model, "1")

    def add_children(n):
        for _ in range(n):
            child = add_version(model, str(next(_names) + 100), parent=root)
            ModelAlias.objects.create(model=model, alias=f"c{child.version}", version=root)
            link_dataset(root, DatasetFactory(owner=owners[1]), "evaluation")

    add_children(3)
    client.force_login(manager)
    _, large = assert_flat_queries(
        client, "/models/churn/versions/1/", grow=lambda: add_children(17), rows=alias_chips, expect=(3, 20)
    )
    html = large.content.decode()
    assert html.count('href="/models/churn/versions/1') >= 1 and "+ " in html  # lineage caps long columns
