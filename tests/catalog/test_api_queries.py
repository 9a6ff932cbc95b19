"""Every API list costs the same number of queries with 3 rows as with 20 (no N+1).

Each row is seeded with several owners, tags, metrics, datasets and aliases, so a serializer field that
reads a relation the selector did not load shows up as extra queries on the larger page.
"""

import itertools

import pytest

from catalog.models import Lifecycle, ModelAlias, OwnerRole, RegisteredModel
from portal.roles import Role
from tests.conftest import api_rows
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RegistrySourceFactory,
    TeamFactory,
    add_metric,
    link_dataset,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 20
_serial = itertools.count()


@pytest.fixture
def people(make_user):
    return [
        make_user(role, username=f"{role}-{i}") for i, role in enumerate([Role.SCIENTIST, Role.ENGINEER] * 2)
    ]


@pytest.fixture
def registry():
    return RegistrySourceFactory(name="mlflow-prod")


def _version_with_lineage(model, label: str, parent=None):
    version = ModelVersionFactory(model=model, version=label, parent=parent)
    for key in ("auc", "loss", "f1"):
        add_metric(version, key, [0.5, 0.6, 0.7])
    for role in ("training", "evaluation"):
        link_dataset(version, DatasetFactory(), role=role)
        link_dataset(version, DatasetFactory(), role=role)
    ModelAlias.objects.create(model=model, alias=f"alias-{next(_serial)}", version=version)
    ModelAlias.objects.create(model=model, alias=f"alias-{next(_serial)}", version=version)
    return version


def test_model_list(api_as, scientist, people, registry, assert_flat_queries):
    domain = DomainFactory()

    def seed(n):
        for _ in range(n):
            i = next(_serial)
            model = RegisteredModelFactory(
                domain=domain,
                team=TeamFactory(domain=domain),
                source=registry,
                owners=people[:3],
                tags=[f"tag-{i}", "shared", f"other-{i}"],
                lifecycle=Lifecycle.PRODUCTION,
            )
            model.ownerships.create(user=people[3], role=OwnerRole.BUSINESS)
            _version_with_lineage(model, "1")

    seed(SMALL)
    assert_flat_queries(
        api_as(scientist),
        "/api/v1/models/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


@pytest.mark.parametrize("sort", ["domain", "-versions", "-updated"])
def test_model_list_sorted_and_filtered(api_as, scientist, people, sort, assert_flat_queries):
    domain = DomainFactory()

    def seed(n):
        for _ in range(n):
            model = RegisteredModelFactory(domain=domain, owners=people, tags=["gbm", "churn"])
            _version_with_lineage(model, "1")

    url = f"/api/v1/models/?sort={sort}&tag=gbm&domain={domain.slug}&owner={people[0].username}"
    seed(SMALL)
    assert_flat_queries(
        api_as(scientist), url, grow=lambda: seed(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )


def test_model_versions(api_as, scientist, assert_flat_queries):
    model = RegisteredModelFactory(name="m", owners=[scientist], tags=["a", "b"])
    labels = itertools.count(1)
    previous = []

    def seed(n):
        for _ in range(n):
            previous.append(
                _version_with_lineage(model, str(next(labels)), parent=previous[-1] if previous else None)
            )

    seed(SMALL)
    assert_flat_queries(
        api_as(scientist),
        "/api/v1/models/m/versions/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


def test_dataset_list(api_as, scientist, people, assert_flat_queries):
    domain = DomainFactory()
    model = RegisteredModelFactory(owners=[scientist])
    other = RegisteredModelFactory(owners=[scientist])
    versions = [ModelVersionFactory(model=model, version="1"), ModelVersionFactory(model=other, version="1")]

    def seed(n):
        for i in range(n):
            dataset = DatasetFactory(owner=people[i % len(people)], domain=domain, pii_categories=["contact"])
            for version in versions:
                link_dataset(version, dataset, role="training")
                link_dataset(version, dataset, role="evaluation")

    seed(SMALL)
    assert_flat_queries(
        api_as(scientist),
        "/api/v1/datasets/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


def test_domain_list(api_as, scientist, assert_flat_queries):
    def seed(n):
        for _ in range(n):
            domain = DomainFactory()
            for lifecycle in (Lifecycle.PRODUCTION, Lifecycle.STAGING, Lifecycle.PRODUCTION):
                RegisteredModelFactory(domain=domain, lifecycle=lifecycle)

    seed(SMALL)
    assert_flat_queries(
        api_as(scientist),
        "/api/v1/domains/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )
    assert RegisteredModel.objects.count() == LARGE * 3
