"""Plotly figure for a registry's page: how long its recent syncs took and how much they changed.

Built from `sync_run_recent()` output in the same JSON-safe shape and house style as `catalog.charts`.
"""

from __future__ import annotations

import math

from .charts import GRID, MAX_POINTS, MUTED, bar, figure_layout, figure_to_dict, plot_date, scatter
from .models import SyncStatus

STATUS_COLOURS = {
    SyncStatus.SUCCEEDED: "#059669",
    SyncStatus.FAILED: "#dc2626",
    SyncStatus.RUNNING: "#9ca3af",
}
CHANGES_COLOUR = "#2563eb"


def sync_runs_figure(runs: list[dict]) -> dict:
    """Bars: duration of each run (coloured by outcome); line: models and versions it changed.

    `runs` are oldest first. Runs still going have no duration and show as an empty slot. At most the
    latest MAX_POINTS runs are drawn.
    """
    runs = runs[-MAX_POINTS:]
    labels = {s.value: s.label for s in SyncStatus}
    x = [f"#{r['id']}" for r in runs]
    durations = [
        (r["finished_at"] - r["started_at"]).total_seconds() if r["finished_at"] else None for r in runs
    ]
    changes = [r["created"] + r["updated"] + r["removed"] for r in runs]
    # Whole items: at most about five ticks, never fractions.
    changes_step = max(1, math.ceil(max(changes, default=0) / 5))
    hover = [
        f"<b>Sync #{r['id']}</b> · {labels.get(r['status'], r['status'])}"
        f"<br>{plot_date(r['started_at'])[:16]} UTC"
        + (f"<br>took {d:.1f} s" if d is not None else "<br>still running")
        + f"<br>{r['created']} created, {r['updated']} updated, {r['removed']} removed"
        for r, d in zip(runs, durations, strict=True)
    ]
    return figure_to_dict(
        [
            bar(
                x=x,
                y=durations,
                marker={"color": [STATUS_COLOURS.get(r["status"], MUTED) for r in runs]},
                hovertext=hover,
                hoverinfo="text",
                name="Duration (s)",
            ),
            scatter(
                x=x,
                y=changes,
                yaxis="y2",
                mode="lines+markers",
                line={"color": CHANGES_COLOUR, "width": 2},
                marker={"color": CHANGES_COLOUR, "size": 6},
                hovertext=hover,
                hoverinfo="text",
                name="Items changed",
            ),
        ],
        figure_layout(
            "Recent syncs: duration (bars) and items changed (line)",
            x_title="Sync run",
            y_title="Seconds",
            height=260,
            xaxis={"type": "category"},
            yaxis2={
                "title": {"text": "Changed", "font": {"color": CHANGES_COLOUR}},
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "showgrid": False,
                "zeroline": False,
                "tickfont": {"color": CHANGES_COLOUR},
                "dtick": changes_step,
                "tickformat": ",d",
                "automargin": True,
            },
            margin={"l": 56, "r": 56, "t": 44, "b": 44},
            yaxis={"rangemode": "tozero", "gridcolor": GRID},
            bargap=0.35,
        ),
    )
