"""Measuring the portal through gunicorn for `manage.py bench_portal`, and judging the result.

Pure functions and small classes, no Django: the command runs them in its own process against a server
that adds `Server-Timing: app;dur=<ms>` and `X-Bench-Queries: <n>` (benchmarks.middleware).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser

FLOOR = "floor"
PAGE = "page"  # list and detail pages and API endpoints: p95 <= PAGE_LIMIT x floor
DASHBOARD = "dashboard"  # p95 <= DASHBOARD_LIMIT x floor
PAGE_LIMIT = 5.0
DASHBOARD_LIMIT = 10.0
DEEP_LIMIT = 2.0  # a deep page's p95 against page 1's
MAX_TRACE_POINTS = 2_000
SEED_LIMIT_SECONDS = 300.0


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    user: str  # whose session (or token, for the API) the request carries
    kind: str = PAGE
    api: bool = False
    page_one: str = ""  # for a deep page: the key of its page 1
    charts: bool = False  # parse its json_script charts and count points per trace
    fragment: bool = False  # a part of a page loaded after its first paint: sent with X-Fragment: 1


@dataclass
class Row:
    key: str
    label: str
    path: str
    user: str
    kind: str
    requests: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    queries: int = 0
    queries_varied: bool = False
    bytes: int = 0
    status: int = 0
    page_one: str = ""
    chart_traces: int = 0
    chart_max_points: int = 0
    samples_ms: list[float] = field(default_factory=list, repr=False)


@dataclass
class Target:
    name: str
    limit: str
    value: str
    passed: bool


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks, as numpy's default."""
    if not values:
        return 0.0
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def server_ms(headers) -> float:
    match = re.search(r"app;dur=([0-9.]+)", headers.get("server-timing", ""))
    if not match:
        raise ValueError("The response has no Server-Timing header: is benchmarks.settings in use?")
    return float(match.group(1))


def record(row: Row, response, *, keep_sample: bool = True) -> None:
    """Adds one response to its row: server time, queries, size, status."""
    queries = int(response.headers.get("x-bench-queries", "-1"))
    if row.requests and queries != row.queries:
        row.queries_varied = True
    row.queries = max(row.queries, queries)
    row.bytes = len(response.content)
    row.status = response.status_code
    if keep_sample:
        row.samples_ms.append(server_ms(response.headers))
        row.requests += 1


def summarise(row: Row) -> None:
    row.p50_ms = round(percentile(row.samples_ms, 50), 2)
    row.p95_ms = round(percentile(row.samples_ms, 95), 2)


class _JsonScripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inside = False
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.inside = tag == "script" and dict(attrs).get("type") == "application/json"
        if self.inside:
            self.found.append("")

    def handle_endtag(self, tag):
        self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.found[-1] += data


def chart_trace_points(html: str) -> list[int]:
    """Points per trace of every Plotly figure the page embeds with json_script."""
    parser = _JsonScripts()
    parser.feed(html)
    points = []
    for text in parser.found:
        try:
            figure = json.loads(text)
        except ValueError:
            continue
        if not isinstance(figure, dict) or not isinstance(figure.get("data"), list):
            continue
        for trace in figure["data"]:
            if isinstance(trace, dict):
                points.append(max(len(trace.get("x") or []), len(trace.get("y") or [])))
    return points


def plan_uses_seq_scan(plan: str, table: str) -> bool:
    return re.search(rf"Seq Scan on {re.escape(table)}\b", plan) is not None


def evaluate(
    rows: dict[str, Row],
    *,
    page_size_queries: dict[str, tuple[int, int]],
    plans: dict[str, str],
    model_table: str,
    seed_seconds: float | None,
) -> list[Target]:
    """Every target of issue #7's scale benchmark, one Target each.

    - each page/endpoint p95 <= 5x the floor's p95, each dashboard <= 10x (both measured in the same
      interleaved rounds, so machine noise lands on both);
    - a deep page's p95 <= 2x its page 1's;
    - the same number of queries at page size 10 and 100 (page_size_queries: name -> (q10, q100));
    - the search plans do not scan the model table sequentially;
    - every chart trace <= 2,000 points; every response 200; seeding under 5 minutes.
    """
    targets = []
    floor = rows.get(FLOOR)
    floor_p95 = floor.p95_ms if floor else 0.0
    for row in rows.values():
        targets.append(Target(f"{row.label}: status", "200", str(row.status), row.status == 200))
        if row.kind in (PAGE, DASHBOARD) and floor_p95 > 0:
            limit = PAGE_LIMIT if row.kind == PAGE else DASHBOARD_LIMIT
            ratio = row.p95_ms / floor_p95
            targets.append(
                Target(
                    f"{row.label}: p95 vs floor",
                    f"<= {limit:g}x",
                    f"{ratio:.2f}x ({row.p95_ms:.1f} ms)",
                    ratio <= limit,
                )
            )
        if row.page_one and row.page_one in rows:
            first = rows[row.page_one]
            ratio = row.p95_ms / first.p95_ms if first.p95_ms else float("inf")
            targets.append(
                Target(
                    f"{row.label}: p95 vs {first.label}",
                    f"<= {DEEP_LIMIT:g}x",
                    f"{ratio:.2f}x",
                    ratio <= DEEP_LIMIT,
                )
            )
        if row.chart_traces:
            targets.append(
                Target(
                    f"{row.label}: points per chart trace",
                    f"<= {MAX_TRACE_POINTS:,}",
                    f"{row.chart_max_points:,} (max of {row.chart_traces} traces)",
                    row.chart_max_points <= MAX_TRACE_POINTS,
                )
            )
    for name, (small, large) in page_size_queries.items():
        targets.append(
            Target(f"{name}: queries at page size 10 / 100", "equal", f"{small} / {large}", small == large)
        )
    for name, plan in plans.items():
        seq = plan_uses_seq_scan(plan, model_table)
        targets.append(
            Target(f"{name}: plan", f"no Seq Scan on {model_table}", "Seq Scan" if seq else "index", not seq)
        )
    if seed_seconds is not None:
        targets.append(
            Target(
                "seed_demo --scale",
                f"<= {SEED_LIMIT_SECONDS:.0f} s",
                f"{seed_seconds:.1f} s",
                seed_seconds <= SEED_LIMIT_SECONDS,
            )
        )
    return targets


def format_table(rows: dict[str, Row]) -> str:
    """A Markdown table: one line per endpoint."""
    floor = rows.get(FLOOR)
    lines = [
        "| endpoint | as | p50 ms | p95 ms | x floor (p50) | x floor (p95) | queries | bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows.values():
        ratio50 = f"{row.p50_ms / floor.p50_ms:.1f}x" if floor and floor.p50_ms else "-"
        ratio95 = f"{row.p95_ms / floor.p95_ms:.1f}x" if floor and floor.p95_ms else "-"
        queries = f"{row.queries}{'*' if row.queries_varied else ''}"
        lines.append(
            f"| {row.label} | {row.user} | {row.p50_ms:.1f} | {row.p95_ms:.1f} | {ratio50} | {ratio95} | "
            f"{queries} | {row.bytes:,} |"
        )
    return "\n".join(lines)


def format_targets(targets: list[Target]) -> str:
    lines = ["| target | limit | measured | |", "|---|---|---|---|"]
    for t in targets:
        lines.append(f"| {t.name} | {t.limit} | {t.value} | {'PASS' if t.passed else 'FAIL'} |")
    return "\n".join(lines)


def report_dict(rows: dict[str, Row], targets: list[Target], **extra) -> dict:
    return {
        "rows": [{k: v for k, v in asdict(r).items() if k != "samples_ms"} for r in rows.values()],
        "targets": [asdict(t) for t in targets],
        "passed": all(t.passed for t in targets),
        **extra,
    }
