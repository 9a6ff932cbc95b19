"""The model and version pages at the size of a long-lived model: what was made fast must stay right."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import TrainingReason
from tests.factories import DomainFactory, ModelVersionFactory, RegisteredModelFactory, add_metric

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(scientist):
    model = RegisteredModelFactory(
        name="ranker", domain=DomainFactory(), owners=[scientist], primary_metric="auc"
    )
    start = datetime(2024, 1, 1, 8, 30, 15, 123_456, tzinfo=UTC)
    for i, label in enumerate(["1", "2", 'rc "3" & co']):
        version = ModelVersionFactory(
            model=model,
            version=label,
            sequence=i + 1,
            created_at=start + timedelta(days=10 * i, microseconds=i),
            training_reason=TrainingReason.SCHEDULED,
        )
        add_metric(version, "auc", [0.7 + 0.05 * i])
        add_metric(version, "f1", [0.5 + 0.01 * i])
    model.refresh_from_db()
    return model


def test_timeline_and_metric_values_keep_exact_aware_utc_times(model):
    timeline = selectors.model_retraining_timeline(model=model)
    stored = list(model.versions.order_by("created_at").values_list("version", "created_at"))
    assert [(row["version"], row["created_at"]) for row in timeline] == stored
    assert all(row["created_at"].utcoffset() == timedelta(0) for row in timeline)
    assert timeline[2]["created_at"] == datetime(2024, 1, 21, 8, 30, 15, 123_458, tzinfo=UTC)
    assert set(timeline[0]) == {"id", "version", "created_at", "training_reason", "status"}

    values = selectors.metric_values_across_versions(model=model)
    assert [(r["version"], r["created_at"]) for r in values["auc"]] == [
        (label, created) for label, created in stored
    ]
    assert [r["value"] for r in values["f1"]] == pytest.approx([0.5, 0.51, 0.52])


def test_metric_values_are_read_once_per_model_instance(model):
    with CaptureQueriesContext(connection) as queries:
        first = selectors.metric_values_across_versions(model=model)
        again = selectors.metric_values_across_versions(model=model)
    assert again is first and len(queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:  # a fresh instance (the next request) reads again
        selectors.metric_values_across_versions(model=type(model).objects.get(pk=model.pk))
    assert len(queries.captured_queries) == 2


def test_model_page_reads_the_metric_values_once_for_charts_and_monitoring(client, manager, model):
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/models/ranker/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-chart="metric-chart-1"' in page and 'data-chart="monitoring-metric-chart"' in page
    metric_reads = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r'SELECT "catalog_versionmetric"\."key"', q["sql"]) and "catalog_modelversion" in q["sql"]
    ]
    assert len(metric_reads) == 1


def _lineage_options(page: str) -> list[tuple[str, bool, str]]:
    select = page[page.index('id="lineage-version"') : page.index("</select>")]
    return [
        (html.unescape(value), bool(selected), html.unescape(text))
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select
        )
    ]


def test_lineage_picker_lists_every_version_newest_first_with_the_shown_one_selected(client, manager, model):
    client.force_login(manager)
    page = client.get("/models/ranker/").content.decode()
    assert _lineage_options(page) == [
        ('rc "3" & co', True, 'vrc "3" & co'),  # the latest by default
        ("2", False, "v2"),
        ("1", False, "v1"),
    ]
    assert 'value="rc &quot;3&quot; &amp; co"' in page  # escaped, not raw

    page = client.get("/models/ranker/", {"version": "1"}).content.decode()
    assert [selected for _, selected, _ in _lineage_options(page)] == [False, False, True]
    assert "Lineage of v1" in page

    response = client.get("/models/ranker/", {"version": "nope"})
    assert response.status_code == 400
    assert not any(selected for _, selected, _ in _lineage_options(response.content.decode()))


def test_a_single_version_has_no_picker(client, manager, scientist):
    model = RegisteredModelFactory(name="solo", domain=DomainFactory(), owners=[scientist])
    ModelVersionFactory(model=model, version="1")
    client.force_login(manager)
    page = client.get("/models/solo/").content.decode()
    assert 'id="lineage-version"' not in page and "Lineage of v1" in page
