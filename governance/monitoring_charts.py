"""Plotly figures for the monitoring section of the model page and the compliance dashboard.

Same JSON-safe shape and house style as catalog.charts (whose layout helpers, colours and LTTB they share):
a page embeds each with json_script and static/js/charts.js draws it; the API could return the same dicts.
Daily series are downsampled on the server, so a page never ships more than MAX_POINTS points per trace.
"""

from __future__ import annotations

import datetime
import math

from catalog.charts import (
    MAX_POINTS,
    MUTED,
    PRIMARY_COLOUR,
    bar,
    figure_layout,
    figure_to_dict,
    lttb,
    scatter,
)

BAND_FILL = "rgba(5, 150, 105, 0.12)"
BAND_LINE = "rgba(5, 150, 105, 0.55)"
BASELINE_COLOUR = "#047857"
LIMIT_COLOUR = "#dc2626"
BREACH_COLOUR = "#dc2626"
STD_COLOUR = "#7c3aed"
AGE_COLOURS = ("#059669", "#10b981", "#d97706", "#f59e0b", "#dc2626", "#991b1b")


def _ordinal(day: datetime.date) -> float:
    return float(day.toordinal())


def _day(ordinal: float) -> str:
    return datetime.date.fromordinal(int(ordinal)).isoformat()


def _daily(series, attr: str) -> list[tuple[float, float]]:
    """(day, value) points, downsampled with LTTB when there are more than MAX_POINTS days."""
    return lttb([(_ordinal(s.day), float(getattr(s, attr))) for s in series], MAX_POINTS)


def _span(points: list[tuple[float, float]]) -> list[str]:
    first, last = points[0][0], points[-1][0]
    pad = max(1.0, (last - first) * 0.02)
    return [_day(first - pad), _day(last + pad)]


def prediction_mean_figure(stats, *, bias_tolerance_std: float) -> dict | None:
    """The daily prediction mean against the baseline band (baseline mean ± tolerance × baseline std);
    days outside the band (the bias alert's condition) are marked red. None without posted days."""
    if not stats.series:
        return None
    points = _daily(stats.series, "mean")
    days = [_day(x) for x, _ in points]
    traces = []
    shapes = []
    title = "Prediction mean per day"
    if stats.baseline is not None:
        base, spread = stats.baseline.mean, stats.baseline.std
        low, high = base - bias_tolerance_std * spread, base + bias_tolerance_std * spread
        span = _span(points)
        traces.append(
            scatter(
                x=[span[0], span[1], span[1], span[0]],
                y=[low, low, high, high],
                mode="lines",
                fill="toself",
                fillcolor=BAND_FILL,
                line={"width": 0},
                hoverinfo="skip",
                name="Baseline band",
            )
        )
        shapes = [
            {
                "type": "line",
                "xref": "x",
                "yref": "y",
                "x0": span[0],
                "x1": span[1],
                "y0": y,
                "y1": y,
                "line": {"color": colour, "width": width, "dash": dash},
            }
            for y, colour, width, dash in (
                (base, BASELINE_COLOUR, 1.5, "dot"),
                (low, BAND_LINE, 1, "solid"),
                (high, BAND_LINE, 1, "solid"),
            )
        ]
        title += f" · baseline {base:.4g} ± {bias_tolerance_std:g} std"
        outside = [(d, y) for d, (_, y) in zip(days, points, strict=True) if not low <= y <= high]
    else:
        outside = []
        title += " · no baseline posted"
    traces.append(
        scatter(
            x=days,
            y=[y for _, y in points],
            mode="lines+markers" if len(points) <= 120 else "lines",
            line={"color": PRIMARY_COLOUR, "width": 2},
            marker={"color": PRIMARY_COLOUR, "size": 5},
            hovertemplate="%{x}<br>mean %{y:.4g}<extra></extra>",
            name="Mean",
        )
    )
    if outside:
        traces.append(
            scatter(
                x=[d for d, _ in outside],
                y=[y for _, y in outside],
                mode="markers",
                marker={"color": BREACH_COLOUR, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                hovertemplate="%{x}<br>mean %{y:.4g}: outside the band<extra></extra>",
                name="Outside the band",
            )
        )
    return figure_to_dict(
        traces,
        figure_layout(title, y_title="Mean prediction", height=280, shapes=shapes, xaxis={"type": "date"}),
    )


def prediction_std_figure(stats, *, variance_ratio_max: float) -> dict | None:
    """The daily prediction std against the variance limit (ratio × baseline std). None without days."""
    if not stats.series:
        return None
    points = _daily(stats.series, "std")
    days = [_day(x) for x, _ in points]
    shapes, annotations = [], []
    title = "Prediction std per day"
    over = []
    if stats.baseline is not None:
        limit = variance_ratio_max * stats.baseline.std
        span = _span(points)
        for y, colour, dash, text in (
            (stats.baseline.std, BASELINE_COLOUR, "dot", "baseline"),
            (limit, LIMIT_COLOUR, "dash", f"limit ({variance_ratio_max:g}× baseline)"),
        ):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "y",
                    "x0": span[0],
                    "x1": span[1],
                    "y0": y,
                    "y1": y,
                    "line": {"color": colour, "width": 1.5, "dash": dash},
                }
            )
            annotations.append(
                {
                    "xref": "paper",
                    "x": 1,
                    "xanchor": "right",
                    "yref": "y",
                    "y": y,
                    "yanchor": "bottom",
                    "text": text,
                    "showarrow": False,
                    "font": {"color": colour, "size": 11},
                }
            )
        title += f" · limit {limit:.4g}"
        over = [(d, y) for d, (_, y) in zip(days, points, strict=True) if y > limit]
    else:
        title += " · no baseline posted"
    traces = [
        scatter(
            x=days,
            y=[y for _, y in points],
            mode="lines+markers" if len(points) <= 120 else "lines",
            line={"color": STD_COLOUR, "width": 2},
            marker={"color": STD_COLOUR, "size": 5},
            hovertemplate="%{x}<br>std %{y:.4g}<extra></extra>",
            name="Std",
        )
    ]
    if over:
        traces.append(
            scatter(
                x=[d for d, _ in over],
                y=[y for _, y in over],
                mode="markers",
                marker={"color": BREACH_COLOUR, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
                hovertemplate="%{x}<br>std %{y:.4g}: above the limit<extra></extra>",
                name="Above the limit",
            )
        )
    layout = figure_layout(
        title,
        y_title="Std of predictions",
        height=280,
        shapes=shapes,
        annotations=annotations,
        xaxis={"type": "date"},
        yaxis={"rangemode": "tozero"},
    )
    return figure_to_dict(traces, layout)


def _kept_versions(values: list[float], breached: set[int]) -> list[int]:
    """Indexes of the versions to draw: all of them up to MAX_POINTS; beyond that the versions that broke
    the tolerance (the latest, up to half the budget) plus an LTTB sample of the rest, in order."""
    n = len(values)
    if n <= MAX_POINTS:
        return list(range(n))
    forced = sorted(breached)[-(MAX_POINTS // 2) :]
    sampled = lttb([(float(i), v) for i, v in enumerate(values)], MAX_POINTS - len(forced))
    kept = sorted({int(x) for x, _ in sampled} | set(forced))
    return kept[-MAX_POINTS:]


def metric_tolerance_figure(rows: list[dict], *, metric: str, tolerance: float) -> dict | None:
    """The primary metric per version; each version after the first carries the band the retraining-
    variance check allows (the previous version's value ± tolerance, relative). Versions that moved more
    are marked red. `rows` are metric_values_across_versions()[metric]. None with fewer than two.

    Bands and breaches are worked out on every version; past MAX_POINTS versions only a sample is drawn
    (always including the breaches, up to half of it), and the title says how many are shown."""
    if len(rows) < 2:
        return None
    values = [r["value"] for r in rows]
    breached = {  # a set: looked up once per version below (a list made 1,000 versions cost 0.1 s)
        i
        for i in range(1, len(values))
        if (abs(values[i] - values[i - 1]) / abs(values[i - 1]) if values[i - 1] else abs(values[i]))
        > tolerance
    }
    kept = _kept_versions(values, breached)
    labels = [f"v{rows[i]['version']}" for i in kept]
    kept_values = [values[i] for i in kept]
    # The band of version i is centred on version i - 1's value (which may not be drawn itself).
    centre = [values[i - 1] if i else None for i in kept]
    spread = [None if c is None else abs(c) * tolerance for c in centre]
    traces = [
        scatter(
            x=labels,
            y=centre,
            mode="markers",
            marker={"size": 0.1, "color": BAND_LINE},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": spread,
                "arrayminus": spread,
                "color": "rgba(5, 150, 105, 0.28)",
                "thickness": 12,
                "width": 0,
            },
            hovertext=[
                None if c is None else f"allowed {c - d:.4g} – {c + d:.4g}"
                for c, d in zip(centre, spread, strict=True)
            ],
            hoverinfo="text",
            name="Allowed range",
        ),
        scatter(
            x=labels,
            y=kept_values,
            mode="lines+markers",
            line={"color": PRIMARY_COLOUR, "width": 2},
            marker={
                "color": [BREACH_COLOUR if i in breached else PRIMARY_COLOUR for i in kept],
                "size": [11 if i in breached else 8 for i in kept],
            },
            hovertemplate=f"%{{x}}<br>{metric} = %{{y:.4g}}<extra></extra>",
            name=metric,
        ),
    ]
    title = f"{metric} per version · shaded: ±{tolerance:.0%} of the version before"
    if len(kept) < len(rows):
        title += f" · {len(kept):,} of {len(rows):,} versions shown"
    layout = figure_layout(title, x_title="Version", y_title=metric, height=280, xaxis={"type": "category"})
    return figure_to_dict(traces, layout)


def pending_by_age_figure(buckets: list[dict]) -> dict:
    """Bars: open access requests by how long they have waited since submission."""
    counts = [b["count"] for b in buckets]
    traces = [
        bar(
            x=[b["label"] for b in buckets],
            y=counts,
            marker={"color": list(AGE_COLOURS[: len(buckets)])},
            text=[str(c or "") for c in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y} request(s)<extra></extra>",
        )
    ]
    top = max(counts, default=0)
    yaxis = {"rangemode": "tozero", "tickformat": ",d", "range": [0, max(1, math.ceil(top * 1.2))]}
    if top <= 8:
        yaxis["dtick"] = 1
    layout = figure_layout(
        "Open requests by time waiting",
        y_title="Requests",
        height=260,
        xaxis={"type": "category", "tickfont": {"color": MUTED}},
        yaxis=yaxis,
        bargap=0.35,
    )
    return figure_to_dict(traces, layout)
