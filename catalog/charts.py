"""Plotly figures for the catalog pages, built from selector output.

Every builder returns a JSON-safe dict ({"data": [...], "layout": {...}}) that a page embeds with
`json_script` and `static/js/charts.js` draws; the API can return the same dicts. Long series are
downsampled here with LTTB, so a page never ships more than MAX_POINTS points per trace.

The figures are written as the plain dicts and lists plotly.js reads, not through
`plotly.graph_objects`: its classes validate every property on every assignment, which made building
one model page's charts cost about 100 ms (1,000 versions). tests/catalog/test_charts.py feeds every
builder's output to `plotly.graph_objects.Figure` to keep them valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .models import Lifecycle, MetricGoal, TrainingReason

MAX_POINTS = 2000

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PRIMARY_COLOUR = "#2563eb"
# Colour-blind-safe palette (Okabe-Ito order, blue first for the primary metric).
PALETTE = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2", "#65a30d", "#dc2626"]
REASON_COLOURS = {
    TrainingReason.INITIAL: "#7c3aed",
    TrainingReason.SCHEDULED: "#2563eb",
    TrainingReason.DRIFT: "#dc2626",
    TrainingReason.MANUAL: "#6b7280",
}
# Kept in step with the lifecycle badges in static/css/portal.css.
LIFECYCLE_COLOURS = {
    Lifecycle.EXPERIMENTAL: "#7c3aed",
    Lifecycle.STAGING: "#d97706",
    Lifecycle.PRODUCTION: "#059669",
    Lifecycle.DEPRECATED: "#b45309",
    Lifecycle.ARCHIVED: "#6b7280",
}
OVERDUE_COLOUR = "#dc2626"
DUE_COLOUR = "#d97706"


# --- Downsampling ---------------------------------------------------------------------------------------


def lttb(points: Sequence[tuple[float, float]], threshold: int = MAX_POINTS) -> list[tuple[float, float]]:
    """Largest-triangle-three-buckets: at most `threshold` points that keep the series' visual shape.

    The first and last points are always kept; within each bucket the point forming the largest
    triangle with the previously kept point and the next bucket's average wins, so spikes survive.
    `points` must be sorted by x.
    """
    n = len(points)
    if threshold >= n or threshold < 3:
        return list(points)
    # Plain lists and comprehensions rather than a per-point loop body: a 20,000-point curve is sampled in
    # about a third of the time, with the same arithmetic (so the same points) as the textbook loop.
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    sampled = [points[0]]
    every = (n - 2) / (threshold - 2)
    a = 0  # index of the last kept point
    for i in range(threshold - 2):
        start = int(i * every) + 1
        end = int((i + 1) * every) + 1
        if end - start == 1:  # one candidate (series just over the threshold): nothing to weigh
            a = start
            sampled.append(points[a])
            continue
        # Average of the next bucket (the last point stands in for the final bucket).
        next_start, next_end = end, min(int((i + 2) * every) + 1, n)
        if next_start >= next_end:
            next_start, next_end = n - 1, n
        span = next_end - next_start
        avg_x = sum(xs[next_start:next_end]) / span
        avg_y = sum(ys[next_start:next_end]) / span
        ax, ay = xs[a], ys[a]
        dx, dy = ax - avg_x, avg_y - ay
        areas = [
            abs(dx * (y - ay) - (ax - x) * dy) for x, y in zip(xs[start:end], ys[start:end], strict=True)
        ]
        best = start + areas.index(max(areas))  # the first of equal areas, as a strict ">" scan keeps
        sampled.append(points[best])
        a = best
    sampled.append(points[-1])
    return sampled


# --- Helpers --------------------------------------------------------------------------------------------


def no_template() -> dict:
    """What plotly writes for `template="none"`: no theme, so the colours set here are all there is."""
    return {"data": {"scatter": [{"type": "scatter"}]}}


def merge(base: dict, updates: dict) -> dict:
    """Deep-merge `updates` into `base` (in place) the way `Figure.update_layout` does: nested dicts
    merge key by key, anything else replaces. Empty lists (no shapes, no annotations) are left out."""
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        elif isinstance(value, dict):
            base[key] = merge({}, value)
        elif isinstance(value, list) and not value:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def scatter(**props) -> dict:
    return {"type": "scatter", **props}


def bar(**props) -> dict:
    return {"type": "bar", **props}


def figure_to_dict(data: list[dict], layout: dict) -> dict:
    """The figure as plotly.js takes it. Values must already be JSON-safe (dates through plot_date)."""
    return {"data": data, "layout": layout}


def plot_date(value: datetime | None) -> str | None:
    """Plotly.js ignores UTC offsets, so dates go out as naive UTC strings (the portal runs in UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # "YYYY-MM-DD HH:MM:SS" (the offset, if any, cut off); isoformat is ~5x faster than strftime, which
    # counts with a 1,000-version model (several dates per version).
    return value.isoformat(" ", "seconds")[:19]


def figure_layout(title: str, *, x_title: str = "", y_title: str = "", height: int = 300, **extra) -> dict:
    """The house layout; `extra` is deep-merged into it (pass nested dicts: `xaxis={"type": "date"}`)."""

    def axis(text: str) -> dict:
        return {
            "gridcolor": GRID,
            "zeroline": False,
            "linecolor": "#9ca3af",
            "ticks": "outside",
            "tickcolor": "#9ca3af",
            "automargin": True,
            "title": {"text": text, "font": {"color": MUTED}},
        }

    layout = {
        "template": no_template(),
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "pad": {"l": 12},
            "font": {"size": 14, "color": INK},
        },
        "font": {"family": FONT, "size": 12, "color": INK},
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 44, "b": 44},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": axis(x_title),
        "yaxis": axis(y_title),
        "hoverlabel": {"font": {"family": FONT}},
        "showlegend": False,
    }
    return merge(layout, extra)


def _ordered_keys(keys, primary: str) -> list[str]:
    """Primary metric first, then the rest alphabetically."""
    return sorted(keys, key=lambda k: (k != primary, k))


def _colour_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class _DayLabels(dict):
    """datetime -> "YYYY-MM-DD" (UTC), formatted on first use."""

    def __missing__(self, value: datetime) -> str:
        label = self[value] = plot_date(value)[:10]
        return label


def _thin(rows: list, limit: int) -> list:
    """At most `limit` rows spread evenly over `rows`, first and last kept (for marks without a y shape
    to keep, where LTTB has nothing to choose by)."""
    n = len(rows)
    if n <= limit:
        return rows
    if limit < 2:
        return rows[-limit:] if limit else []
    step = (n - 1) / (limit - 1)
    return [rows[round(i * step)] for i in range(limit)]


# --- Figures --------------------------------------------------------------------------------------------


def metric_across_versions_figures(
    series: dict[str, list[dict]], *, primary_metric: str = "", goal: str = MetricGoal.MAXIMIZE
) -> list[dict]:
    """One figure per metric: its final value for each version, in version order, primary metric first.

    `series` is `metric_values_across_versions()` output. Returns [{"key", "title", "figure"}, ...].
    """
    charts = []
    # Every metric of a version shares its date: format each once (a 1,000-version model has thousands).
    days = _DayLabels()
    for index, key in enumerate(_ordered_keys(series, primary_metric)):
        rows = series[key]
        indexed = lttb([(float(i), r["value"]) for i, r in enumerate(rows)], MAX_POINTS)
        kept = [rows[int(i)] for i, _ in indexed]
        is_primary = key == primary_metric
        colour = PRIMARY_COLOUR if is_primary else _colour_for(index + (0 if primary_metric in series else 1))
        labels = [f"v{r['version']}" for r in kept]
        hover = [
            f"<b>v{r['version']}</b><br>{key} = {_fmt(r['value'])}"
            + (f"<br>{days[r['created_at']]}" if r["created_at"] else "")
            for r in kept
        ]
        traces = [
            scatter(
                x=labels,
                y=[r["value"] for r in kept],
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker={"color": colour, "size": 7},
                hovertext=hover,
                hoverinfo="text",
                name=key,
            )
        ]
        if is_primary and kept:
            pick = max if goal == MetricGoal.MAXIMIZE else min
            best = pick(kept, key=lambda r: r["value"])
            traces.append(
                scatter(
                    x=[f"v{best['version']}"],
                    y=[best["value"]],
                    mode="markers",
                    marker={
                        "symbol": "star",
                        "size": 15,
                        "color": "#f59e0b",
                        "line": {"color": INK, "width": 1},
                    },
                    hovertext=[f"<b>Best: v{best['version']}</b><br>{key} = {_fmt(best['value'])}"],
                    hoverinfo="text",
                    name="best",
                )
            )
        title = f"{key} (primary)" if is_primary else key
        if is_primary:
            title += " · higher is better" if goal == MetricGoal.MAXIMIZE else " · lower is better"
        fig = figure_to_dict(
            traces, figure_layout(title, x_title="Version", y_title=key, xaxis={"type": "category"})
        )
        charts.append({"key": key, "title": title, "figure": fig, "is_primary": is_primary})
    return charts


def metric_history_figures(
    history: dict[str, list[tuple[int, float]]],
    *,
    primary_metric: str = "",
    totals: dict[str, int] | None = None,
) -> list[dict]:
    """One figure per metric of one version: value over training steps, downsampled to MAX_POINTS.

    `history` is `metric_history()` output, or the points of `metric_history_sampled()` (long series
    already downsampled) with its `totals`, the number of points of each full series, which titles and
    "points" then count. Returns [{"key", "title", "figure", "points", "shown"}, ...].
    """
    charts = []
    for index, key in enumerate(_ordered_keys(history, primary_metric)):
        kept = lttb(history[key], MAX_POINTS)
        total = totals[key] if totals is not None else len(history[key])
        is_primary = key == primary_metric
        colour = (
            PRIMARY_COLOUR if is_primary else _colour_for(index + (0 if primary_metric in history else 1))
        )
        single = len(kept) == 1
        title = key + (" (primary)" if is_primary else "")
        if len(kept) < total:
            title += f" · {len(kept):,} of {total:,} points shown"
        fig = figure_to_dict(
            [
                scatter(
                    x=[p[0] for p in kept],
                    y=[p[1] for p in kept],
                    mode="markers" if single else "lines",
                    line={"color": colour, "width": 1.8},
                    marker={"color": colour, "size": 8},
                    hovertemplate=f"step %{{x}}<br>{key} = %{{y:.4g}}<extra></extra>",
                    name=key,
                )
            ],
            figure_layout(title, x_title="Step", y_title=key),
        )
        charts.append(
            {
                "key": key,
                "title": title,
                "figure": fig,
                "points": total,
                "shown": len(kept),
                "is_primary": is_primary,
            }
        )
    return charts


def retraining_timeline_figure(
    timeline: list[dict], *, next_due: datetime | None, now: datetime, every_days: int | None = None
) -> dict:
    """Trainings over time in one lane per reason, with today and the next due date marked.

    `timeline` is `model_retraining_timeline()` output. An overdue next date is drawn in red.
    """
    labels = dict(TrainingReason.choices)
    reasons = [r for r in TrainingReason.values if any(row["training_reason"] == r for row in timeline)]
    show_text = len(timeline) <= 30
    traces = []
    shown = 0
    for reason in reasons:
        rows = _thin([row for row in timeline if row["training_reason"] == reason], MAX_POINTS)
        shown += len(rows)
        when = [plot_date(row["created_at"]) for row in rows]
        traces.append(
            scatter(
                x=when,
                y=[labels.get(reason, reason)] * len(rows),
                mode="markers+text" if show_text else "markers",
                text=[f"v{row['version']}" for row in rows],
                textposition="top center",
                textfont={"size": 11, "color": MUTED},
                marker={
                    "color": REASON_COLOURS.get(reason, MUTED),
                    "size": 12,
                    "line": {"color": "#ffffff", "width": 1.5},
                },
                hovertext=[
                    f"<b>v{row['version']}</b><br>{labels.get(reason, reason)}"
                    f"<br>{at[:16]} UTC<br>status: {row['status']}"
                    for row, at in zip(rows, when, strict=True)
                ],
                hoverinfo="text",
                name=labels.get(reason, reason),
            )
        )
    shapes, annotations = [], []

    def marker_line(x: datetime, colour: str, text: str, dash: str, side: str, row: int = 0) -> None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": plot_date(x),
                "x1": plot_date(x),
                "y0": 0,
                "y1": 1,
                "line": {"color": colour, "width": 2, "dash": dash},
            }
        )
        annotations.append(
            {
                "x": plot_date(x),
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                # Labels grow away from each other ("today" right, an overdue date left), or, when both
                # must grow left (a due date ahead is the chart's right edge), stack in rows.
                "xanchor": side,
                "yshift": 15 * row,
                "text": text,
                "showarrow": False,
                "font": {"color": colour, "size": 11},
            }
        )

    if next_due is not None and next_due < now:
        days = (now - next_due).days
        marker_line(now, MUTED, "today", "dot", "left")
        overdue_text = f"<b>overdue</b> since {next_due:%d %b %Y} ({days} d) "
        marker_line(next_due, OVERDUE_COLOUR, overdue_text, "dash", "right")
    elif next_due is not None:
        # The due date is the latest date drawn: a label growing right from it would be cut off.
        marker_line(now, MUTED, "today ", "dot", "right")
        marker_line(next_due, DUE_COLOUR, f"next due {next_due:%d %b %Y} ", "dash", "right", row=1)
    else:
        marker_line(now, MUTED, "today", "dot", "center")
    dates = [row["created_at"] for row in timeline] + [now] + ([next_due] if next_due else [])
    start, end = min(dates), max(dates)
    pad = max((end - start) * 0.06, timedelta(days=2))
    title = "Trainings over time"
    if every_days:
        title += f" · retrain every {every_days} days"
    if shown < len(timeline):
        title += f" · {shown:,} of {len(timeline):,} trainings shown"
    layout = figure_layout(
        title,
        x_title="Trained at (UTC)",
        height=120 + 56 * max(len(reasons), 1),
        shapes=shapes,
        annotations=annotations,
        showlegend=False,
        margin={"l": 130, "r": 24, "t": 56 + 15 * max(a["yshift"] // 15 for a in annotations), "b": 44},
        xaxis={"type": "date", "range": [plot_date(start - pad), plot_date(end + pad)]},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": [labels[r] for r in reasons]},
    )
    return figure_to_dict(traces, layout)


def domain_lifecycle_figure(domain) -> dict:
    """Bar of the domain's models per lifecycle, from the `<lifecycle>_count` annotations of domain_list()."""
    names = [label for _, label in Lifecycle.choices]
    counts = [getattr(domain, f"{value}_count", 0) or 0 for value in Lifecycle.values]
    traces = [
        bar(
            x=counts,
            y=names,
            orientation="h",
            marker={"color": [LIFECYCLE_COLOURS[v] for v in Lifecycle.values]},
            text=[str(c) for c in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x} models<extra></extra>",
        )
    ]
    xaxis = {"rangemode": "tozero", "tickformat": ",d"}
    if max(counts, default=0) <= 8:
        xaxis["dtick"] = 1
    layout = figure_layout(
        "Models per lifecycle",
        x_title="Models",
        height=250,
        margin={"l": 96, "r": 28, "t": 40, "b": 40},
        xaxis=xaxis,
        yaxis={"autorange": "reversed", "ticks": "", "showgrid": False},
        bargap=0.35,
    )
    return figure_to_dict(traces, layout)
