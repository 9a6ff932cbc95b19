"""Every list page costs the same number of queries with 3 rows as with 20 (no N+1 in views or templates).

Rows are seeded with several owners, tags, metrics, datasets and aliases each, so a relation that is
not loaded by its selector shows up as extra queries.
"""

import itertools

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Lifecycle, ModelAlias, OwnerRole
from catalog.views import MODEL_PANELS
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


def assert_same_queries(client, url, *, add_rows, expect_rows, count_rows, django_assert_num_queries):
    client.get(url)  # warm-up: content types, session
    # Both measured requests start from an empty cache: adding rows changes what pages cache (the model
    # page's charts are keyed on its metric values), which would otherwise show as a difference here.
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert response.status_code == 200
    assert count_rows(response.content.decode()) == 3
    add_rows()
    cache.clear()
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert count_rows(response.content.decode()) == expect_rows


def rows_linking(prefix: str):
    def count(html: str) -> int:
        body = html[html.index("<tbody>") : html.rindex("</tbody>")] if "<tbody>" in html else ""
        return sum(1 for line in body.split("<tr>")[1:] if f'href="{prefix}' in line)

    return count


def test_catalog_list(client, manager, domain, owners, django_assert_num_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_same_queries(
        client,
        "/?page_size=50",
        add_rows=lambda: add_models(17, domain=domain, owners=owners),
        expect_rows=20,
        count_rows=rows_linking("/models/"),
        django_assert_num_queries=django_assert_num_queries,
    )


def test_catalog_list_filtered(client, manager, domain, owners, django_assert_num_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_same_queries(
        client,
        "/?page_size=50&tag=shared&owner=owner1&domain=personalisation&sort=domain",
        add_rows=lambda: add_models(17, domain=domain, owners=owners),
        expect_rows=20,
        count_rows=rows_linking("/models/"),
        django_assert_num_queries=django_assert_num_queries,
    )


def test_dataset_list(client, manager, domain, owners, django_assert_num_queries):
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
    assert_same_queries(
        client,
        "/datasets/?page_size=50",
        add_rows=lambda: add_datasets(17),
        expect_rows=20,
        count_rows=rows_linking("/datasets/"),
        django_assert_num_queries=django_assert_num_queries,
    )


def test_domain_list(client, manager, owners, django_assert_num_queries):
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

    def count_cards(html: str) -> int:
        return html.count('class="card domain-card"')

    client.get("/domains/")
    with CaptureQueriesContext(connection) as small:
        assert count_cards(client.get("/domains/").content.decode()) == 3
    add_domains(17)
    with django_assert_num_queries(len(small.captured_queries)):
        assert count_cards(client.get("/domains/").content.decode()) == 20


def test_domain_page(client, manager, domain, owners, django_assert_num_queries):
    add_models(3, domain=domain, owners=owners)
    client.force_login(manager)
    assert_same_queries(
        client,
        "/domains/personalisation/",
        add_rows=lambda: add_models(17, domain=domain, owners=owners),
        expect_rows=20,
        count_rows=rows_linking("/models/"),
        django_assert_num_queries=django_assert_num_queries,
    )


def test_model_page_versions_table(client, manager, domain, owners, django_assert_num_queries):
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
    assert_same_queries(
        client,
        "/models/churn/",
        add_rows=lambda: add_versions(17),
        expect_rows=20,
        count_rows=rows_linking("/models/churn/versions/"),
        django_assert_num_queries=django_assert_num_queries,
    )


@pytest.mark.parametrize("part", list(MODEL_PANELS))
def test_model_page_parts(client, manager, domain, owners, part, django_assert_num_queries):
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
    url = f"/models/churn/panels/{part}/"
    client.get(url, headers={"X-Fragment": "1"})  # warm-up
    cache.clear()
    with CaptureQueriesContext(connection) as small:
        response = client.get(url, headers={"X-Fragment": "1"})
    assert response.status_code == 200 and "<body" not in response.content.decode()
    small_html = response.content.decode()
    add_versions(17)
    cache.clear()
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, headers={"X-Fragment": "1"})
    assert response.status_code == 200
    if part == "lineage":  # every version is a suggestion of the picker
        assert small_html.count("<option ") == 3 and response.content.decode().count("<option ") == 20


def test_version_page(client, manager, domain, owners, django_assert_num_queries):
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
    url = "/models/churn/versions/1/"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add_children(17)
    with django_assert_num_queries(len(small.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('href="/models/churn/versions/1') >= 1 and "+ " in html  # lineage caps long columns
