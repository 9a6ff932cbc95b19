import json
import math
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from catalog import charts
from catalog.charts import MAX_POINTS, lttb


def test_lttb_keeps_shape_ends_and_spike_of_a_long_series():
    n = 50_000
    spike_at = 31_337
    points = [(float(i), math.sin(i / 500) + 0.05 * math.sin(i * 7.3)) for i in range(n)]
    points[spike_at] = (float(spike_at), 25.0)

    sampled = lttb(points, MAX_POINTS)

    assert len(sampled) <= 2000
    assert sampled[0] == points[0] and sampled[-1] == points[-1]
    assert (float(spike_at), 25.0) in sampled
    assert max(p[1] for p in sampled) == max(p[1] for p in points)
    xs = [p[0] for p in sampled]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # a subset, in order, no duplicates
    # The overall shape survives: the minimum of the sine is still there (within noise).
    assert min(p[1] for p in sampled) < -0.95


def test_lttb_leaves_short_series_alone():
    points = [(0, 1.0), (1, 2.0), (2, 0.5)]
    assert lttb(points, 2000) == points
    assert lttb([], 2000) == []
    assert len(lttb([(i, i) for i in range(10)], 5)) == 5


def test_lttb_keeps_a_negative_spike_too():
    points = [(float(i), 0.0) for i in range(10_000)]
    points[4321] = (4321.0, -9.0)
    assert (4321.0, -9.0) in lttb(points, 100)


def test_metric_across_versions_puts_primary_first_and_is_json_safe():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    series = {
        "accuracy": [{"version": "1", "value": 0.7, "created_at": now}],
        "auc": [
            {"version": "1", "value": 0.8, "created_at": now},
            {"version": "2", "value": 0.9, "created_at": now + timedelta(days=1)},
        ],
    }
    result = charts.metric_across_versions_figures(series, primary_metric="auc")
    assert [c["key"] for c in result] == ["auc", "accuracy"]
    assert result[0]["is_primary"]
    fig = result[0]["figure"]
    json.dumps(fig)  # plain JSON
    assert fig["data"][0]["x"] == ["v1", "v2"]
    assert "v2" in fig["data"][0]["hovertext"][1]
    assert fig["data"][1]["x"] == ["v2"]  # best version starred
    assert fig["layout"]["title"]["text"].startswith("auc (primary)")
    assert fig["layout"]["xaxis"]["title"]["text"] == "Version"


def test_metric_across_versions_best_respects_goal():
    series = {
        "rmse": [{"version": str(i), "value": v, "created_at": None} for i, v in enumerate([3.0, 1.0, 2.0])]
    }
    fig = charts.metric_across_versions_figures(series, primary_metric="rmse", goal="minimize")[0]["figure"]
    assert fig["data"][1]["x"] == ["v1"]


def test_metric_history_downsamples_each_trace():
    history = {"loss": [(i, 1 / (i + 1)) for i in range(10_000)], "acc": [(0, 0.5)]}
    result = {c["key"]: c for c in charts.metric_history_figures(history, primary_metric="acc")}
    assert len(result["loss"]["figure"]["data"][0]["x"]) == MAX_POINTS
    assert result["loss"]["points"] == 10_000 and result["loss"]["shown"] == MAX_POINTS
    assert result["acc"]["figure"]["data"][0]["mode"] == "markers"  # a single point stays visible


def test_retraining_timeline_marks_overdue_and_due():
    now = datetime(2025, 6, 1, tzinfo=UTC)
    timeline = [
        {
            "id": 1,
            "version": "1",
            "created_at": now - timedelta(days=90),
            "training_reason": "initial",
            "status": "ready",
        },
        {
            "id": 2,
            "version": "2",
            "created_at": now - timedelta(days=40),
            "training_reason": "drift",
            "status": "ready",
        },
    ]
    overdue = charts.retraining_timeline_figure(
        timeline, next_due=now - timedelta(days=10), now=now, every_days=30
    )
    texts = [a["text"] for a in overdue["layout"]["annotations"]]
    assert any("overdue" in t and "10 d" in t for t in texts)
    assert {t["name"] for t in overdue["data"]} == {"Initial training", "Drift detected"}
    assert overdue["data"][0]["x"][0] == "2025-03-03 00:00:00"  # naive UTC for plotly.js
    due = charts.retraining_timeline_figure(timeline, next_due=now + timedelta(days=5), now=now)
    assert any("next due" in a["text"] for a in due["layout"]["annotations"])


def test_domain_lifecycle_bar():
    domain = SimpleNamespace(
        experimental_count=2, staging_count=0, production_count=5, deprecated_count=1, archived_count=0
    )
    fig = charts.domain_lifecycle_figure(domain)
    assert fig["data"][0]["y"] == ["Experimental", "Staging", "Production", "Deprecated", "Archived"]
    assert fig["data"][0]["x"] == [2, 0, 5, 1, 0]
