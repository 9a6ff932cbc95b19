"""A version's metric histories as its page charts them: each series is read (and a long one sampled)
once, then served from the cache until any of its points changes, whichever writer changed it."""

import json
import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import charts, selectors
from catalog.charts import MAX_POINTS, lttb
from catalog.models import MetricPoint, VersionMetric
from catalog.registries.base import RemoteMetric, RemoteVersion
from catalog.selectors import versions as version_selectors
from catalog.services import registry_sync
from catalog.services.versions import version_metrics_log
from tests.factories import ModelVersionFactory, RegisteredModelFactory, add_metric

pytestmark = pytest.mark.django_db

LONG = MAX_POINTS + 500
SPIKE_STEP = 1234  # a middle step: rewriting it changes neither the count nor the last step and value


def curve(n: int) -> list[float]:
    return [1.0 / (1 + i / 100) + 0.01 * (i % 7) for i in range(n)]


@pytest.fixture
def model(scientist):
    return RegisteredModelFactory(name="ranker", primary_metric="loss", owners=[scientist])


@pytest.fixture
def version(model):
    version = ModelVersionFactory(model=model, version="1")
    add_metric(version, "loss", curve(LONG))
    add_metric(version, "acc", [0.5, 0.6, 0.7])
    add_metric(version, "auc", [0.9])
    return version


@pytest.fixture
def reads(monkeypatch):
    """The metric keys each call read points for."""
    calls = []
    read = version_selectors._metric_points

    def recording(*, version, keys):
        calls.append(sorted(keys))
        return read(version=version, keys=keys)

    monkeypatch.setattr(version_selectors, "_metric_points", recording)
    return calls


def expected(version) -> tuple[dict, dict]:
    """(points, totals) as charting the full history keeps them."""
    full = selectors.metric_history(version=version)
    return {k: lttb(p, MAX_POINTS) for k, p in full.items()}, {k: len(p) for k, p in full.items()}


def test_sampled_history_charts_as_the_full_history(version):
    sampled = selectors.metric_history_sampled(version=version)
    assert (sampled.points, sampled.totals) == expected(version)
    assert sampled.totals == {"acc": 3, "auc": 1, "loss": LONG}
    full = selectors.metric_history(version=version)
    assert charts.metric_history_figures(
        sampled.points, primary_metric="loss", totals=sampled.totals
    ) == charts.metric_history_figures(full, primary_metric="loss")


def test_series_are_read_once_then_cached(version, reads):
    first = selectors.metric_history_sampled(version=version)
    again = selectors.metric_history_sampled(version=version)
    assert again == first
    assert reads == [["acc", "loss"]]  # the single point is never read: its sum is its value


def _log_append(version, actor):
    version_metrics_log(actor=actor, version=version, points=[{"key": "loss", "value": 0.25, "step": LONG}])


def _log_overwrite(version, actor):
    version_metrics_log(
        actor=actor, version=version, points=[{"key": "loss", "value": 50.0, "step": SPIKE_STEP}]
    )


def _log_short(version, actor):
    version_metrics_log(actor=actor, version=version, points=[{"key": "acc", "value": 0.8, "step": 3}])


def _sync_overwrite(version, actor):
    """What a registry sync applies when the registry's history of one step changed."""
    history = curve(LONG)
    history[SPIKE_STEP] = 50.0
    remote = RemoteVersion(
        model_name=version.model.name,
        version=version.version,
        created_ms=0,
        updated_ms=0,
        run_loaded=True,
        metrics=[RemoteMetric("loss", value, step) for step, value in enumerate(history)]
        + [RemoteMetric("acc", v, s) for s, v in enumerate([0.5, 0.6, 0.7])]
        + [RemoteMetric("auc", 0.9, 0)],
    )
    assert registry_sync._apply_metrics([(remote, version)])


def _delete_point(version, actor):
    MetricPoint.objects.filter(version=version, key="loss", step=SPIKE_STEP).delete()


@pytest.mark.parametrize("change", [_log_append, _log_overwrite, _log_short, _sync_overwrite, _delete_point])
def test_the_cache_follows_every_change_of_the_points(version, scientist, change):
    before = selectors.metric_history_sampled(version=version)
    summaries = VersionMetric.objects.filter(version=version).values_list(
        "key", "value", "step", "point_count"
    )
    summary = list(summaries)
    change(version, scientist)
    after = selectors.metric_history_sampled(version=version)
    assert after != before
    assert (after.points, after.totals) == expected(version)
    if change in (_log_overwrite, _sync_overwrite):
        # The summary rows did not move, so they could not have told the cache about the change.
        assert list(summaries.all()) == summary
        assert (SPIKE_STEP, 50.0) in after.points["loss"]


def test_a_series_with_an_infinite_value_is_read_every_time(version, reads):
    MetricPoint.objects.filter(version=version, key="loss", step=SPIKE_STEP).update(value=math.inf)
    first = selectors.metric_history_sampled(version=version)
    assert selectors.metric_history_sampled(version=version) == first
    assert (first.points, first.totals) == expected(version)
    assert reads == [["acc", "loss"], ["loss"]]


def _figures(html: str) -> dict[str, dict]:
    return {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    }


PART = {"X-Fragment": "1"}  # as static/js/fragments.js asks for the part


def test_version_page_reads_the_history_once(client, manager, model, django_assert_num_queries):
    """The version page's history part: once cached, it costs no query more than a version without
    history; uncached, one query more (the points of every series)."""
    charted = ModelVersionFactory(model=model, version="1")
    add_metric(charted, "loss", curve(LONG))
    add_metric(charted, "acc", [0.5, 0.6, 0.7])
    add_metric(charted, "auc", [0.9])
    ModelVersionFactory(model=model, version="2")
    client.force_login(manager)
    with CaptureQueriesContext(connection) as bare:
        assert client.get("/models/ranker/versions/2/history/", headers=PART).status_code == 200
    with django_assert_num_queries(len(bare.captured_queries) + 1):
        cold = client.get("/models/ranker/versions/1/history/", headers=PART).content.decode()
    with django_assert_num_queries(len(bare.captured_queries)):
        warm = client.get("/models/ranker/versions/1/history/", headers=PART).content.decode()
    assert _figures(warm) == _figures(cold)
    assert [f["data"][0]["name"] for f in _figures(warm).values() if f.get("data")] == ["loss", "acc"]
    (loss,) = [f for f in _figures(warm).values() if f.get("data") and f["data"][0].get("name") == "loss"]
    assert len(loss["data"][0]["x"]) == MAX_POINTS
    assert f"2,000 of {LONG:,} points shown" in warm
    assert "Logged once, so not charted: <code>auc</code>" in warm
