"""The model and version pages at the size of a long-lived model: what was made fast must stay right."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import ModelAlias, ModelVersion, TrainingReason
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    add_metric,
    link_dataset,
)
from tests.fragments import get_assembled

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
    assert set(timeline[0]) == {"id", "version", "created_at", "training_reason", "status", "sequence"}

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


def _metric_reads(queries) -> tuple[list[str], list[str]]:
    """(reads of the values, fingerprints of them) among the captured queries."""
    across = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r'SELECT "catalog_versionmetric"\."key"', q["sql"]) and "catalog_modelversion" in q["sql"]
    ]
    return [q for q in across if "COUNT(" not in q], [q for q in across if "COUNT(" in q]


def test_model_page_parts_read_the_metric_values_once_each_and_not_the_first_paint(client, manager, model):
    """The first paint reads no metric value; the charts part and the monitoring part (loaded after it) each
    fingerprint the values once and read them once, cold."""
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/models/ranker/")
    assert response.status_code == 200 and _metric_reads(queries) == ([], [])
    for part, chart in (("metrics", "metric-chart-1"), ("monitoring", "monitoring-metric-chart")):
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(f"/models/ranker/panels/{part}/", headers={"X-Fragment": "1"})
        assert answer.status_code == 200 and f'data-chart="{chart}"' in answer.content.decode()
        reads, fingerprints = _metric_reads(queries)
        assert len(reads) == 1 and len(fingerprints) == 1


def test_model_page_charts_metric_values_from_the_cache_until_they_change(client, manager, model):
    client.force_login(manager)

    def charted(page: str) -> str:
        scripts = r'<script id="(?:metric|monitoring-metric)-chart[^>]*>(.*?)</script>'
        return "".join(re.findall(scripts, page))

    first = charted(get_assembled(client, "/models/ranker/").content.decode())
    with CaptureQueriesContext(connection) as queries:
        again = charted(get_assembled(client, "/models/ranker/").content.decode())
    reads, fingerprints = _metric_reads(queries)
    assert reads == [] and len(fingerprints) == 2  # the charts part and the monitoring part
    assert again == first and "0.75" in first

    version = model.versions.get(version="2")
    changes = [
        lambda: version.metrics.filter(key="auc").update(value=0.7432),  # a value rewritten
        lambda: add_metric(version, "recall", [0.9]),  # a metric added
        lambda: model.versions.filter(pk=version.pk).update(sequence=9),  # versions reordered
        lambda: model.versions.filter(pk=version.pk).update(created_at=datetime(2023, 5, 6, tzinfo=UTC)),
    ]
    for change in changes:
        before = charted(get_assembled(client, "/models/ranker/").content.decode())
        change()
        with CaptureQueriesContext(connection) as queries:
            after = charted(get_assembled(client, "/models/ranker/").content.decode())
        assert len(_metric_reads(queries)[0]) == 2
        assert after != before
    assert "0.7432" in after and "recall" in after and "2023-05-06" in after


def _lineage_choices(page: str) -> tuple[str, list[str]]:
    """(the picker's value, its suggestions in order)."""
    field = re.search(r'<input type="text" id="lineage-version" name="version"[^>]*value="([^"]*)"', page)
    datalist = page[page.index('<datalist id="lineage-versions">') : page.index("</datalist>")]
    return html.unescape(field[1]), [
        html.unescape(v) for v in re.findall(r'<option value="([^"]*)">', datalist)
    ]


def test_lineage_picker_suggests_every_version_newest_first_with_the_shown_one_filled_in(
    client, manager, model
):
    client.force_login(manager)
    page = get_assembled(client, "/models/ranker/").content.decode()
    assert _lineage_choices(page) == ('rc "3" & co', ['rc "3" & co', "2", "1"])  # the latest by default
    assert 'value="rc &quot;3&quot; &amp; co"' in page  # escaped, not raw

    page = get_assembled(client, "/models/ranker/?version=1").content.decode()
    assert _lineage_choices(page)[0] == "1"
    assert "Lineage of v1" in page

    # A label that is not a version: the page is shown; its lineage part answers 400 with the message and
    # keeps what was typed, so it can be corrected.
    response = get_assembled(client, "/models/ranker/?version=nope")
    assert response.status_code == 200 and response.parts["lineage"] == 400
    page = response.content.decode()
    assert _lineage_choices(page)[0] == "nope" and "ranker has no version &#x27;nope&#x27;." in page
    assert 'aria-invalid="true"' in page and "Lineage of" not in page


def test_a_single_version_has_no_picker(client, manager, scientist):
    model = RegisteredModelFactory(name="solo", domain=DomainFactory(), owners=[scientist])
    ModelVersionFactory(model=model, version="1")
    client.force_login(manager)
    page = get_assembled(client, "/models/solo/").content.decode()
    assert 'id="lineage-version"' not in page and "Lineage of v1" in page


def test_versions_table_rows_show_aliases_primary_metric_datasets_and_parent(client, manager, model):
    v1, v2 = model.versions.get(version="1"), model.versions.get(version="2")
    ModelVersion.objects.filter(pk=v2.pk).update(parent=v1, created_by="priya")
    ModelAlias.objects.create(model=model, alias="zeta", version=v2)
    ModelAlias.objects.create(model=model, alias="alpha", version=v2)
    clicks = DatasetFactory(name="clicks", uri="s3://lake/clicks")
    views = DatasetFactory(name="views", uri="s3://lake/views")
    link_dataset(v2, views, "evaluation")
    link_dataset(v2, clicks, "training")
    link_dataset(v1, clicks, "training")
    client.force_login(manager)
    page = client.get("/models/ranker/").content.decode()
    body = page[page.index('id="versions"') : page.index('id="lineage"')]
    rows = body.split("<tr>")[2:]  # after the head row, newest first
    assert [re.search(r'href="/models/ranker/versions/([^"]+)/">v', row).group(1) for row in rows] == [
        "rc%20%223%22%20&amp;%20co",
        "2",
        "1",
    ]
    second = rows[1]
    assert re.findall(r'chip--alias">@(\w+)<', second) == ["alpha", "zeta"]
    assert ">0.75<" in second and "by priya" in second
    assert re.findall(r'href="/datasets/(\d+)/" title="([^"]+)">(\w+)</a>', second) == [  # by role, then name
        (str(views.pk), "Evaluation: s3://lake/views", "views"),
        (str(clicks.pk), "Training: s3://lake/clicks", "clicks"),
    ]
    assert '<a href="/models/ranker/versions/1/">v1</a>' in second
    assert "chip--alias" not in rows[2] and '<span class="muted">—</span></td>\n        </tr>' in rows[2]


def test_metric_values_with_an_infinity_are_charted_fresh_on_every_request(client, manager, model):
    """An infinite value (or a NaN, which SQLite cannot store) keeps the fingerprint's sums infinite whatever
    else changes, so such values are never cached."""
    model.versions.get(version="1").metrics.filter(key="f1").update(value=float("inf"))
    assert selectors.metric_values_fingerprint(model=type(model).objects.get(pk=model.pk)) is None
    client.force_login(manager)
    get_assembled(client, "/models/ranker/")
    model.versions.get(version="2").metrics.filter(key="f1").update(value=0.6789)
    with CaptureQueriesContext(connection) as queries:
        page = get_assembled(client, "/models/ranker/").content.decode()
    assert len(_metric_reads(queries)[0]) == 2 and "0.6789" in page
