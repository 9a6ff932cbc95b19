"""Plotly figures for the catalog pages, built from selector output.

Every builder returns a JSON-safe dict ({"data": [...], "layout": {...}}) that a page embeds with
`json_script` and `static/js/charts.js` draws; the API can return the same dicts. Long series are
downsampled here with LTTB, so a page never ships more than MAX_POINTS points per trace.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import plotly.io as pio

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
    sampled = [points[0]]
    every = (n - 2) / (threshold - 2)
    a = 0  # index of the last kept point
    for i in range(threshold - 2):
        start = int(i * every) + 1
        end = int((i + 1) * every) + 1
        # Average of the next bucket (the last point stands in for the final bucket).
        next_start, next_end = end, min(int((i + 2) * every) + 1, n)
        if next_start >= next_end:
            next_start, next_end = n - 1, n
        span = next_end - next_start
        avg_x = sum(p[0] for p in points[next_start:next_end]) / span
        avg_y = sum(p[1] for p in points[next_start:next_end]) / span
        ax, ay = points[a]
        best, best_area = start, -1.0
        for j in range(start, end):
            x, y = points[j]
            area = abs((ax - avg_x) * (y - ay) - (ax - x) * (avg_y - ay))
            if area > best_area:
                best, best_area = j, area
        sampled.append(points[best])
        a = best
    sampled.append(points[-1])
    return sampled


# --- Helpers --------------------------------------------------------------------------------------------


def figure_to_dict(fig: go.Figure) -> dict:
    # Round-trip through plotly's encoder: dates, numpy scalars and the like become plain JSON values.
    return json.loads(pio.to_json(fig, validate=False))


def plot_date(value: datetime | None) -> str | None:
    """Plotly.js ignores UTC offsets, so dates go out as naive UTC strings (the portal runs in UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def figure_layout(
    title: str, *, x_title: str = "", y_title: str = "", height: int = 300, **extra
) -> go.Layout:
    axis = {
        "gridcolor": GRID,
        "zeroline": False,
        "linecolor": "#9ca3af",
        "ticks": "outside",
        "tickcolor": "#9ca3af",
        "automargin": True,
    }
    return go.Layout(
        template="none",
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "pad": {"l": 12},
            "font": {"size": 14, "color": INK},
        },
        font={"family": FONT, "size": 12, "color": INK},
        height=height,
        margin={"l": 56, "r": 16, "t": 44, "b": 44},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        xaxis={**axis, "title": {"text": x_title, "font": {"color": MUTED}}},
        yaxis={**axis, "title": {"text": y_title, "font": {"color": MUTED}}},
        hoverlabel={"font": {"family": FONT}},
        showlegend=False,
        **extra,
    )


def _ordered_keys(keys, primary: str) -> list[str]:
    """Primary metric first, then the rest alphabetically."""
    return sorted(keys, key=lambda k: (k != primary, k))


def _colour_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _fmt(value: float) -> str:
    return f"{value:.4g}"


# --- Figures --------------------------------------------------------------------------------------------


def metric_across_versions_figures(
    series: dict[str, list[dict]], *, primary_metric: str = "", goal: str = MetricGoal.MAXIMIZE
) -> list[dict]:
    """One figure per metric: its final value for each version, in version order, primary metric first.

    `series` is `metric_values_across_versions()` output. Returns [{"key", "title", "figure"}, ...].
    """
    charts = []
    for index, key in enumerate(_ordered_keys(series, primary_metric)):
        rows = series[key]
        indexed = lttb([(float(i), r["value"]) for i, r in enumerate(rows)], MAX_POINTS)
        kept = [rows[int(i)] for i, _ in indexed]
        is_primary = key == primary_metric
        colour = PRIMARY_COLOUR if is_primary else _colour_for(index + (0 if primary_metric in series else 1))
        labels = [f"v{r['version']}" for r in kept]
        hover = [
            f"<b>v{r['version']}</b><br>{key} = {_fmt(r['value'])}"
            + (f"<br>{plot_date(r['created_at'])[:10]}" if r["created_at"] else "")
            for r in kept
        ]
        traces = [
            go.Scatter(
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
                go.Scatter(
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
        fig = go.Figure(
            data=traces,
            layout=figure_layout(
                title,
                x_title="Version",
                y_title=key,
                xaxis_type="category",
            ),
        )
        charts.append({"key": key, "title": title, "figure": figure_to_dict(fig), "is_primary": is_primary})
    return charts


def metric_history_figures(
    history: dict[str, list[tuple[int, float]]], *, primary_metric: str = ""
) -> list[dict]:
    """One figure per metric of one version: value over training steps, downsampled to MAX_POINTS.

    `history` is `metric_history()` output. Returns [{"key", "title", "figure", "points", "shown"}, ...].
    """
    charts = []
    for index, key in enumerate(_ordered_keys(history, primary_metric)):
        points = history[key]
        kept = lttb(points, MAX_POINTS)
        is_primary = key == primary_metric
        colour = (
            PRIMARY_COLOUR if is_primary else _colour_for(index + (0 if primary_metric in history else 1))
        )
        single = len(kept) == 1
        title = key + (" (primary)" if is_primary else "")
        if len(kept) < len(points):
            title += f" · {len(kept):,} of {len(points):,} points shown"
        fig = go.Figure(
            data=[
                go.Scatter(
                    x=[p[0] for p in kept],
                    y=[p[1] for p in kept],
                    mode="markers" if single else "lines",
                    line={"color": colour, "width": 1.8},
                    marker={"color": colour, "size": 8},
                    hovertemplate=f"step %{{x}}<br>{key} = %{{y:.4g}}<extra></extra>",
                    name=key,
                )
            ],
            layout=figure_layout(title, x_title="Step", y_title=key),
        )
        charts.append(
            {
                "key": key,
                "title": title,
                "figure": figure_to_dict(fig),
                "points": len(points),
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
    for reason in reasons:
        rows = [row for row in timeline if row["training_reason"] == reason]
        traces.append(
            go.Scatter(
                x=[plot_date(row["created_at"]) for row in rows],
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
                    f"<br>{plot_date(row['created_at'])[:16]} UTC<br>status: {row['status']}"
                    for row in rows
                ],
                hoverinfo="text",
                name=labels.get(reason, reason),
            )
        )
    shapes, annotations = [], []

    def marker_line(x: datetime, colour: str, text: str, dash: str, side: str) -> None:
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
                # Labels grow away from each other: "today" to the right, the due date to the left.
                "xanchor": side,
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
        marker_line(now, MUTED, "today ", "dot", "right")
        marker_line(next_due, DUE_COLOUR, f" next due {next_due:%d %b %Y}", "dash", "left")
    else:
        marker_line(now, MUTED, "today", "dot", "center")
    dates = [row["created_at"] for row in timeline] + [now] + ([next_due] if next_due else [])
    start, end = min(dates), max(dates)
    pad = max((end - start) * 0.06, timedelta(days=2))
    title = "Trainings over time"
    if every_days:
        title += f" · retrain every {every_days} days"
    fig = go.Figure(
        data=traces,
        layout=figure_layout(
            title,
            x_title="Trained at (UTC)",
            height=120 + 56 * max(len(reasons), 1),
            shapes=shapes,
            annotations=annotations,
        ),
    )
    fig.update_layout(
        showlegend=False,
        margin={"l": 130, "r": 24, "t": 56, "b": 44},
        xaxis={"type": "date", "range": [plot_date(start - pad), plot_date(end + pad)]},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": [labels[r] for r in reasons]},
    )
    return figure_to_dict(fig)


def domain_lifecycle_figure(domain) -> dict:
    """Bar of the domain's models per lifecycle, from the `<lifecycle>_count` annotations of domain_list()."""
    names = [label for _, label in Lifecycle.choices]
    counts = [getattr(domain, f"{value}_count", 0) or 0 for value in Lifecycle.values]
    fig = go.Figure(
        data=[
            go.Bar(
                x=counts,
                y=names,
                orientation="h",
                marker={"color": [LIFECYCLE_COLOURS[v] for v in Lifecycle.values]},
                text=counts,
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{y}: %{x} models<extra></extra>",
            )
        ],
        layout=figure_layout("Models per lifecycle", x_title="Models", height=250),
    )
    xaxis = {"rangemode": "tozero", "tickformat": ",d"}
    if max(counts, default=0) <= 8:
        xaxis["dtick"] = 1
    fig.update_layout(
        margin={"l": 96, "r": 28, "t": 40, "b": 40},
        xaxis=xaxis,
        yaxis={"autorange": "reversed", "ticks": "", "showgrid": False},
        bargap=0.35,
    )
    return figure_to_dict(fig)
