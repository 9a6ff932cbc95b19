"""The catalog list and the model list endpoint build their rows without the per-row machinery (template
includes and {% url %}, DRF's field walk, reverse() per link); these tests hold them to the answers that
machinery gives, for names that need quoting and for rows with and without their optional relations."""

import datetime

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.request import Request

from catalog import selectors
from catalog.api.serializers import ModelListOutput
from catalog.models import OwnerRole, RegisteredModel
from catalog.views import model_list_rows
from portal.reversing import url_maker
from portal.serializers import LeanOutput
from tests.factories import (
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RegistrySourceFactory,
    TeamFactory,
    UserFactory,
    add_metric,
)

pytestmark = pytest.mark.django_db

# Some are not valid model names (NAME_RE refuses "?", "#", "%"); reverse() quotes them and so must this.
AWKWARD = [
    "plain",
    "with space",
    "ümlaut-ß",
    "a+b=c&d",
    "50%",
    "semi;colon",
    "q?x",
    "hash#tag",
    "~tilde",
    "..",
    "{0}",
]


@pytest.mark.parametrize("name", AWKWARD)
def test_url_maker_answers_what_reverse_answers(name):
    make = url_maker("catalog:version-detail", "name", "version")
    assert make(name, "1.0+rc") == reverse(
        "catalog:version-detail", kwargs={"name": name, "version": "1.0+rc"}
    )
    host = "http://testserver"
    api = url_maker("catalog-api:model-detail", "name", prefix=host)
    assert api(name) == host + reverse("catalog-api:model-detail", kwargs={"name": name})


@pytest.fixture
def rows(manager):
    """Models covering each optional part of a row: team or none, registry or none, versions or none, a
    primary metric logged or not, owners with and without full names, tags, retraining overdue or not."""
    domain = DomainFactory(name="Fraud & risk", slug="fraud-risk")
    team = TeamFactory(domain=domain)
    source = RegistrySourceFactory()
    named = UserFactory(username="ana", first_name="Ana", last_name="Lima")
    bare = UserFactory(username="bob", first_name="", last_name="")
    now = timezone.now()
    specs = [
        dict(
            name="ümlaut model ß",
            team=team,
            source=source,
            tags=["gbm", "a:b"],
            due=now - datetime.timedelta(days=3),
        ),
        dict(name="a+b=c&d (v2)", team=None, source=None, tags=[], due=None),
        dict(name="no-versions", team=team, source=None, tags=["x"], due=now + datetime.timedelta(days=3)),
        # build_absolute_uri() resolves a ".." segment: the API leaves such a link to reverse() and it.
        dict(name="..", team=None, source=None, tags=[], due=None),
    ]
    for i, spec in enumerate(specs):
        model = RegisteredModelFactory(
            name=spec["name"],
            domain=domain,
            team=spec["team"],
            source=spec["source"],
            tags=spec["tags"],
            owners=[named, bare],
            primary_metric="auc" if i != 1 else "f1",
        )
        model.ownerships.filter(user=bare).update(role=OwnerRole.BUSINESS)
        if spec["name"] not in ("no-versions", ".."):
            version = ModelVersionFactory(model=model, version="1.0+rc")
            add_metric(version, "auc", [0.5, 0.75])
            RegisteredModel.objects.filter(pk=model.pk).update(latest_version=version, version_count=1)
        RegisteredModel.objects.filter(pk=model.pk).update(
            next_retrain_due=spec["due"], retrain_every_days=30
        )
    return list(selectors.model_list(user=manager, filters={}).order_by("name"))


def test_model_list_output_equals_drf_field_walk(rows, settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["portal.example"]
    request = Request(RequestFactory().get("/api/v1/models/", HTTP_HOST="portal.example:8443"))
    context = {"request": request}
    selectors.model_list_load(rows)  # as the API view does for its page
    fast = ModelListOutput(rows, many=True, context=context).data
    monkeypatch.setattr(LeanOutput, "to_representation", drf.Serializer.to_representation)
    slow = ModelListOutput(rows, many=True, context=context).data  # DRF's walk, nested ones too
    assert len(fast) == 4
    assert [dict(r) for r in fast] == [dict(r) for r in slow]
    assert list(fast[0]) == list(slow[0])  # the same keys in the same order
    assert {r["is_retrain_overdue"] for r in fast} == {True, False}
    assert any(r["team"] is None for r in fast) and any(r["registry"] is None for r in fast)
    assert any(r["latest_version"] is None for r in fast)
    assert any(r["owners"] and r["tags"] and r["primary_metric_value"] is not None for r in fast)


def test_catalog_rows_carry_the_links_and_values_the_template_shows(rows):
    built = {r["model"].name: r for r in model_list_rows(rows)}
    m = built["ümlaut model ß"]
    model = m["model"]
    assert m["url"] == model.get_absolute_url()
    assert m["domain_url"] == model.domain.get_absolute_url()
    assert m["version_url"] == model.latest_version.get_absolute_url()
    assert m["tags"] == [("a:b", "/?tag=a%3Ab"), ("gbm", "/?tag=gbm")]
    assert sorted(m["owners"]) == [("Ana Lima", "Technical owner"), ("bob", "Business owner")]
    assert m["metric"].value == 0.75 and m["overdue"] is True
    assert built["a+b=c&d (v2)"]["metric"] is None  # its primary metric f1 was not logged
    assert built["no-versions"]["version_url"] == "" and built["no-versions"]["overdue"] is False


def test_list_load_answers_what_the_relations_answer(rows, django_assert_num_queries):
    """model_list_load's flat values equal what the model's own relations give, row by row."""
    with django_assert_num_queries(3):
        selectors.model_list_load(rows)
    for m in rows:
        assert m.list_tags == [t.name for t in m.tags.all()]
        assert [(o.username, o.full_name, o.role) for o in m.list_owners] == [
            (o.user.username, o.user.get_full_name(), o.role) for o in m.ownerships.all()
        ]
        logged = m.latest_version.metrics.filter(key=m.primary_metric).first() if m.latest_version else None
        assert (m.list_metric and (m.list_metric.key, m.list_metric.value)) == (
            logged and (logged.key, logged.value)
        )
    assert sum(m.list_metric is not None for m in rows) == 1
    with django_assert_num_queries(0):
        assert selectors.model_list_load([]) == []


def test_filter_options_are_cached_for_the_configured_time(manager, settings, django_assert_num_queries):
    RegisteredModelFactory(name="first", tags=["gbm"], owners=[manager])
    first = selectors.model_filter_options()
    assert first["tags"] == ["gbm"] and [o.username for o in first["owners"]] == [manager.username]
    RegisteredModelFactory(name="second", tags=["new-tag"])
    with django_assert_num_queries(0):  # within the cache time: the cached choices, no query
        assert selectors.model_filter_options()["tags"] == ["gbm"]
    settings.MODELHOUSE_FILTER_OPTIONS_SECONDS = 0  # expired at once: read again
    cache.delete(selectors.models.FILTER_OPTIONS_CACHE_KEY)
    assert selectors.model_filter_options()["tags"] == ["gbm", "new-tag"]
    with django_assert_num_queries(5):
        selectors.model_filter_options()
