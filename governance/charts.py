"""Plotly figures for the governance dashboards, built from selector output.

Same JSON-safe shape and house style as catalog.charts (whose layout helpers and colours they share), so
static/js/charts.js draws them and the API could return the same dicts.
"""

from __future__ import annotations

from catalog.charts import LIFECYCLE_COLOURS, MAX_POINTS, bar, figure_layout, figure_to_dict
from catalog.models import Lifecycle

from .models import SlaState, WorkItemType

SLA_COLOURS = {
    SlaState.BREACHED: "#dc2626",
    SlaState.DUE_SOON: "#d97706",
    SlaState.ON_TRACK: "#059669",
    SlaState.NONE: "#9ca3af",
}
APPROVED_COLOUR = "#059669"
REJECTED_COLOUR = "#dc2626"
COMPLETE_COLOUR = "#059669"
# Legends read in the order the traces were given (Plotly reverses them for stacked bars by default).
LEGEND_BELOW = {
    "showlegend": True,
    "legend": {"orientation": "h", "y": -0.18, "x": 0, "traceorder": "normal"},
}
INCOMPLETE_COLOUR = "#2563eb"
# Height of one horizontal bar row in the per-model chart, so long lists stay readable.
ROW_HEIGHT = 22


def _whole_numbers(values) -> dict:
    axis = {"rangemode": "tozero", "tickformat": ",d"}
    if max(values, default=0) <= 8:
        axis["dtick"] = 1
    return axis


def models_by_domain_figure(domains) -> dict:
    """Stacked bars: models per domain, one colour per lifecycle. `domains` is catalog domain_list() output
    (annotated `<lifecycle>_count`)."""
    domains = list(domains)
    title = "Models per domain and lifecycle"
    if len(domains) > MAX_POINTS:  # never more bars than a page ships points per trace
        title += f" · first {MAX_POINTS:,} of {len(domains):,} domains"
        domains = domains[:MAX_POINTS]
    names = [d.name for d in domains]
    traces = []
    for value, label in Lifecycle.choices:
        counts = [getattr(d, f"{value}_count", 0) or 0 for d in domains]
        traces.append(
            bar(
                name=label,
                x=names,
                y=counts,
                marker={"color": LIFECYCLE_COLOURS[value]},
                hovertemplate=f"%{{x}}<br>{label}: %{{y}} models<extra></extra>",
            )
        )
    totals = [sum(getattr(d, f"{v}_count", 0) or 0 for v in Lifecycle.values) for d in domains]
    layout = figure_layout(
        title,
        y_title="Models",
        height=300,
        barmode="stack",
        yaxis=_whole_numbers(totals),
        margin={"l": 56, "r": 16, "t": 44, "b": 72},
        bargap=0.35,
        **LEGEND_BELOW,
    )
    return figure_to_dict(traces, layout)


def dod_scores_figure(scores) -> dict:
    """Horizontal bars: each model's definition-of-done score (% of items done), grouped by domain on the
    axis, green when complete. `scores` is dod_scores() output."""
    rows = sorted(scores, key=lambda s: (s.model.domain.name, s.model.name))
    title = "Definition-of-done score per model (green: complete)"
    if len(rows) > MAX_POINTS:  # the dashboard shows at most DOD_CHART_MAX_MODELS; this is the last guard
        title += f" · first {MAX_POINTS:,} of {len(rows):,} models"
        rows = rows[:MAX_POINTS]
    return figure_to_dict(
        [
            bar(
                orientation="h",
                x=[s.report.percent for s in rows],
                y=[[s.model.domain.name for s in rows], [s.model.name for s in rows]],
                marker={"color": [COMPLETE_COLOUR if s.report.complete else INCOMPLETE_COLOUR for s in rows]},
                text=[f"{s.report.passed}/{s.report.total}" for s in rows],
                textposition="outside",
                cliponaxis=False,
                customdata=[
                    "<br>missing: " + "; ".join(c.label for c in s.report.missing[:4])
                    if s.report.missing
                    else "<br>complete"
                    for s in rows
                ],
                hovertemplate="<b>%{y}</b>: %{x}%%{customdata}<extra></extra>",
            )
        ],
        figure_layout(
            title,
            x_title="Items done (%)",
            height=110 + ROW_HEIGHT * max(len(rows), 1),
            margin={"l": 16, "r": 40, "t": 44, "b": 44},
            xaxis={"range": [0, 108], "dtick": 25, "ticksuffix": "%"},
            yaxis={"autorange": "reversed", "ticks": "", "showgrid": False, "tickfont": {"size": 11}},
            bargap=0.3,
        ),
    )


def open_work_figure(rows: list[dict]) -> dict:
    """Stacked bars: open work items per type, split by SLA state. `rows` is work_item_open_counts()."""
    labels = dict(WorkItemType.choices)
    types = [labels.get(r["type"], r["type"]) for r in rows]
    traces = [
        bar(
            name=SlaState(state).label,
            x=types,
            y=[r[state] for r in rows],
            marker={"color": SLA_COLOURS[state]},
            hovertemplate=f"%{{x}}<br>{SlaState(state).label}: %{{y}}<extra></extra>",
        )
        for state in (SlaState.BREACHED, SlaState.DUE_SOON, SlaState.ON_TRACK, SlaState.NONE)
    ]
    layout = figure_layout(
        "Open work by type and SLA state",
        y_title="Open items",
        height=300,
        barmode="stack",
        yaxis=_whole_numbers([r["total"] for r in rows]),
        margin={"l": 56, "r": 16, "t": 44, "b": 72},
        bargap=0.35,
        **LEGEND_BELOW,
    )
    return figure_to_dict(traces, layout)


def promotions_per_month_figure(rows: list[dict]) -> dict:
    """Grouped bars: promotions approved and rejected per month of decision. `rows` is
    promotion_decisions_by_month() output, oldest month first (the latest MAX_POINTS months are drawn)."""
    rows = rows[-MAX_POINTS:]
    # "Mar" under each bar pair, with the year where it starts (the first month and every January).
    months = [
        r["month"].strftime("%b<br>%Y" if i == 0 or r["month"].month == 1 else "%b")
        for i, r in enumerate(rows)
    ]
    traces = [
        bar(
            name=name,
            x=months,
            y=[r[key] for r in rows],
            marker={"color": colour},
            hovertemplate=f"%{{x}}<br>{name}: %{{y}}<extra></extra>",
        )
        for key, name, colour in (
            ("approved", "Approved", APPROVED_COLOUR),
            ("rejected", "Rejected", REJECTED_COLOUR),
        )
    ]
    layout = figure_layout(
        "Promotions decided per month",
        y_title="Promotions",
        height=300,
        barmode="group",
        xaxis={"type": "category"},
        yaxis=_whole_numbers([max(r["approved"], r["rejected"]) for r in rows]),
        margin={"l": 56, "r": 16, "t": 44, "b": 84},
        bargap=0.3,
        **{**LEGEND_BELOW, "legend": {**LEGEND_BELOW["legend"], "y": -0.3}},
    )
    return figure_to_dict(traces, layout)
