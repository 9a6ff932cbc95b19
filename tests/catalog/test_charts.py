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
    today_label, due_label = due["layout"]["annotations"]
    assert "next due" in due_label["text"] and today_label["text"].strip() == "today"
    # The due date is the right edge: its label grows left, on a row above "today"'s, in a taller margin.
    assert due_label["xanchor"] == today_label["xanchor"] == "right"
    assert due_label["yshift"] > today_label["yshift"]
    assert due["layout"]["margin"]["t"] > overdue["layout"]["margin"]["t"]


def test_domain_lifecycle_bar():
    domain = SimpleNamespace(
        experimental_count=2, staging_count=0, production_count=5, deprecated_count=1, archived_count=0
    )
    fig = charts.domain_lifecycle_figure(domain)
    assert fig["data"][0]["y"] == ["Experimental", "Staging", "Production", "Deprecated", "Archived"]
    assert fig["data"][0]["x"] == [2, 0, 5, 1, 0]


# --- Every builder: bounded traces, valid Plotly ----------------------------------------------------------

BIG = 5_000  # well past MAX_POINTS


def _when(i: int) -> datetime:
    return datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=7 * i)


def _metric_rows(n: int) -> list[dict]:
    # A slow drift with a jump every 97 versions, so the tolerance chart has breaches to keep.
    return [
        {
            "version": str(i + 1),
            "value": 0.7 + 0.0001 * i + (0.2 if i % 97 == 0 else 0.0),
            "created_at": _when(i),
        }
        for i in range(n)
    ]


def _day_stats(n: int, *, baseline: bool = True):
    from datetime import date

    series = [
        SimpleNamespace(
            day=date(2015, 1, 1) + timedelta(days=i),
            mean=0.5 + 0.3 * math.sin(i / 40),
            std=0.1 + 0.08 * math.sin(i / 25),
        )
        for i in range(n)
    ]
    return SimpleNamespace(series=series, baseline=SimpleNamespace(mean=0.5, std=0.1) if baseline else None)


def _score(i: int):
    missing = [SimpleNamespace(label=f"item {k}") for k in range(i % 3)]
    return SimpleNamespace(
        model=SimpleNamespace(name=f"m{i:05d}", domain=SimpleNamespace(name=f"d{i % 7}")),
        report=SimpleNamespace(
            percent=100 - 25 * len(missing),
            passed=4 - len(missing),
            total=4,
            complete=not missing,
            missing=missing,
        ),
    )


def every_builder_at_scale() -> dict[str, dict]:
    """Each chart builder of the portal fed more rows than MAX_POINTS wherever its input can grow."""
    from catalog.registry_charts import sync_runs_figure
    from governance import charts as governance_charts
    from governance import monitoring_charts

    now = datetime(2025, 6, 1, tzinfo=UTC)
    reasons = ["initial", "scheduled", "drift", "manual"]
    timeline = [
        {
            "id": i,
            "version": str(i + 1),
            "created_at": _when(i),
            # Most trainings in one lane, so that lane alone is past the limit.
            "training_reason": "scheduled" if i % 10 else reasons[(i // 10) % 4],
            "status": "ready",
        }
        for i in range(BIG)
    ]
    runs = [
        {
            "id": i,
            "status": "succeeded",
            "started_at": now + timedelta(minutes=i),
            "finished_at": now + timedelta(minutes=i, seconds=3),
            "created": i % 5,
            "updated": 1,
            "removed": 0,
        }
        for i in range(BIG)
    ]
    domains = [
        SimpleNamespace(
            name=f"domain {i}",
            experimental_count=1,
            staging_count=2,
            production_count=3,
            deprecated_count=0,
            archived_count=None,
        )
        for i in range(BIG)
    ]
    figures = {}
    for chart in charts.metric_across_versions_figures(
        {"auc": _metric_rows(BIG), "f1": _metric_rows(BIG)}, primary_metric="auc"
    ):
        figures[f"metric_across_versions:{chart['key']}"] = chart["figure"]
    for chart in charts.metric_history_figures(
        {"loss": [(i, 1 / (i + 1)) for i in range(50_000)], "acc": [(0, 0.5)]}, primary_metric="loss"
    ):
        figures[f"metric_history:{chart['key']}"] = chart["figure"]
    figures["retraining_timeline"] = charts.retraining_timeline_figure(
        timeline, next_due=now - timedelta(days=3), now=now, every_days=7
    )
    figures["domain_lifecycle"] = charts.domain_lifecycle_figure(
        SimpleNamespace(
            experimental_count=BIG, staging_count=1, production_count=2, deprecated_count=0, archived_count=0
        )
    )
    figures["sync_runs"] = sync_runs_figure(runs)
    figures["models_by_domain"] = governance_charts.models_by_domain_figure(domains)
    figures["dod_scores"] = governance_charts.dod_scores_figure([_score(i) for i in range(BIG)])
    figures["open_work"] = governance_charts.open_work_figure(
        [
            {"type": t, "breached": 1, "due_soon": 2, "on_track": 3, "none": 4, "total": 10}
            for t in ("review", "promotion", "access", "retraining")
        ]
    )
    figures["promotions_per_month"] = governance_charts.promotions_per_month_figure(
        [
            {"month": datetime(2000 + i // 12, i % 12 + 1, 1).date(), "approved": i % 4, "rejected": i % 2}
            for i in range(BIG)
        ]
    )
    figures["prediction_mean"] = monitoring_charts.prediction_mean_figure(
        _day_stats(BIG), bias_tolerance_std=1.0
    )
    figures["prediction_mean:no baseline"] = monitoring_charts.prediction_mean_figure(
        _day_stats(BIG, baseline=False), bias_tolerance_std=1.0
    )
    figures["prediction_std"] = monitoring_charts.prediction_std_figure(
        _day_stats(BIG), variance_ratio_max=1.2
    )
    figures["metric_tolerance"] = monitoring_charts.metric_tolerance_figure(
        _metric_rows(BIG), metric="auc", tolerance=0.05
    )
    figures["pending_by_age"] = monitoring_charts.pending_by_age_figure(
        [{"label": f"{i}-{i + 1} d", "count": BIG * i} for i in range(6)]
    )
    return figures


def _trace_points(trace: dict) -> int:
    return max(
        len(trace.get(axis) or [])
        if not isinstance((trace.get(axis) or [None])[0], list)
        else len(trace[axis][0])
        for axis in ("x", "y")
    )


def test_no_trace_of_any_builder_exceeds_max_points():
    figures = every_builder_at_scale()
    assert len(figures) >= 15
    for name, figure in figures.items():
        assert figure["data"], name
        for trace in figure["data"]:
            assert _trace_points(trace) <= MAX_POINTS, (name, trace.get("name"), _trace_points(trace))
    # The long ones were really long, and now fill the budget instead of being cut to nothing.
    assert _trace_points(figures["metric_across_versions:auc"]["data"][0]) == MAX_POINTS
    assert _trace_points(figures["metric_history:loss"]["data"][0]) == MAX_POINTS
    assert _trace_points(figures["metric_tolerance"]["data"][1]) > MAX_POINTS * 0.9
    assert _trace_points(figures["sync_runs"]["data"][0]) == MAX_POINTS


def test_every_builder_output_is_a_valid_plotly_figure_and_plain_json():
    import plotly.graph_objects as go

    for name, figure in every_builder_at_scale().items():
        assert json.loads(json.dumps(figure)) == figure, name  # plain JSON: no dates, tuples or numpy values
        go.Figure(figure)  # raises ValueError on any property plotly.js would not know


def test_small_figures_are_valid_plotly_too():
    """Also the branches a big input does not take: markers+text lanes, no baseline, a due date ahead."""
    import plotly.graph_objects as go

    from governance import monitoring_charts

    now = datetime(2025, 6, 1, tzinfo=UTC)
    timeline = [
        {
            "id": i,
            "version": str(i),
            "created_at": now - timedelta(days=9 * i),
            "training_reason": r,
            "status": "ready",
        }
        for i, r in enumerate(["initial", "drift", "manual"])
    ]
    small = [
        charts.retraining_timeline_figure(timeline, next_due=now + timedelta(days=3), now=now),
        charts.retraining_timeline_figure(timeline, next_due=None, now=now),
        monitoring_charts.prediction_std_figure(_day_stats(30, baseline=False), variance_ratio_max=1.2),
        monitoring_charts.prediction_mean_figure(_day_stats(30), bias_tolerance_std=0.2),
        monitoring_charts.metric_tolerance_figure(_metric_rows(12), metric="auc", tolerance=0.01),
        *[
            c["figure"]
            for c in charts.metric_across_versions_figures({"rmse": _metric_rows(5)}, primary_metric="x")
        ],
    ]
    for figure in small:
        go.Figure(figure)
    assert small[0]["data"][0]["mode"] == "markers+text"


def test_metric_tolerance_downsamples_past_max_points_and_keeps_the_breaches():
    from governance import monitoring_charts

    rows = _metric_rows(BIG)
    figure = monitoring_charts.metric_tolerance_figure(rows, metric="auc", tolerance=0.05)
    band, values = figure["data"]
    # The breaches plus an LTTB sample of the rest; the two may overlap, so a little under the budget.
    assert MAX_POINTS * 0.9 < len(values["x"]) == len(band["x"]) <= MAX_POINTS
    assert f"{len(values['x']):,} of {BIG:,} versions shown" in figure["layout"]["title"]["text"]
    # Every version that jumped past the tolerance (and the one after, which jumps back) is drawn in red.
    jumps = {f"v{i + 1}" for i in range(1, BIG) if i % 97 in (0, 1)}
    red = {x for x, colour in zip(values["x"], values["marker"]["color"], strict=True) if colour == "#dc2626"}
    assert red == jumps
    # Each drawn version keeps the band of the version just before it, drawn or not.
    by_label = {r["version"]: r for r in rows}
    previous = {rows[i]["version"]: rows[i - 1]["value"] for i in range(1, BIG)}
    for x, centre, high in list(zip(band["x"], band["y"], band["error_y"]["array"], strict=True))[1:50]:
        assert centre == previous[x[1:]] and math.isclose(high, abs(centre) * 0.05)
    assert values["x"][0] == "v1" and values["x"][-1] == f"v{BIG}"
    assert values["y"][-1] == by_label[str(BIG)]["value"]
    order = [int(x[1:]) for x in values["x"]]
    assert order == sorted(order)


def test_metric_tolerance_is_unchanged_below_max_points():
    from governance import monitoring_charts

    rows = _metric_rows(300)
    figure = monitoring_charts.metric_tolerance_figure(rows, metric="auc", tolerance=0.05)
    assert figure["data"][1]["x"] == [f"v{i + 1}" for i in range(300)]
    assert figure["data"][0]["y"][0] is None and figure["data"][0]["error_y"]["array"][0] is None
    assert "shown" not in figure["layout"]["title"]["text"]


def test_retraining_timeline_thins_a_crowded_lane_and_says_so():
    now = datetime(2025, 6, 1, tzinfo=UTC)
    timeline = [
        {
            "id": i,
            "version": str(i + 1),
            "created_at": _when(i),
            "training_reason": "scheduled",
            "status": "ready",
        }
        for i in range(BIG)
    ]
    figure = charts.retraining_timeline_figure(timeline, next_due=None, now=now)
    (lane,) = figure["data"]
    assert len(lane["x"]) == MAX_POINTS
    assert lane["text"][0] == "v1" and lane["text"][-1] == f"v{BIG}"  # the first and the latest stay
    assert f"{MAX_POINTS:,} of {BIG:,} trainings shown" in figure["layout"]["title"]["text"]


def test_plot_date_matches_naive_utc_strftime():
    from zoneinfo import ZoneInfo

    for value in (
        datetime(2025, 3, 3, tzinfo=UTC),
        datetime(2025, 3, 3, 1, 2, 3, 999_999, tzinfo=UTC),
        datetime(2025, 3, 3, 1, 2, 3, tzinfo=ZoneInfo("America/New_York")),
        datetime(2025, 12, 31, 23, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
        datetime(2025, 3, 3, 1, 2, 3, 5),  # naive: taken as UTC already
    ):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        assert charts.plot_date(value) == naive.strftime("%Y-%m-%d %H:%M:%S")
    assert charts.plot_date(None) is None


def test_figure_layout_merges_nested_options_into_the_house_style():
    layout = charts.figure_layout("t", x_title="X", xaxis={"type": "date"}, margin={"l": 9}, shapes=[])
    assert layout["xaxis"]["type"] == "date" and layout["xaxis"]["title"]["text"] == "X"
    assert layout["xaxis"]["gridcolor"] == charts.GRID  # kept from the house style
    assert layout["margin"] == {"l": 9, "r": 16, "t": 44, "b": 44}
    assert "shapes" not in layout  # nothing to draw, nothing sent
    # Each call builds its own dicts: changing one figure never changes the next.
    layout["xaxis"]["title"]["text"] = "changed"
    assert charts.figure_layout("t", x_title="X")["xaxis"]["title"]["text"] == "X"


def test_chart_tag_writes_json_script_markup_that_cannot_close_the_script():
    from django.utils.html import json_script

    from catalog.templatetags.catalog_tags import chart_json

    figure = {"data": [{"type": "scatter", "x": [1], "y": [2], "name": "</script><b>&"}], "layout": {}}
    text = chart_json(figure)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == figure
    # The same document as Django's json_script, written compactly.
    reference = str(json_script(figure, "x"))
    assert json.loads(reference[reference.index(">") + 1 : reference.rindex("</script>")]) == json.loads(text)
