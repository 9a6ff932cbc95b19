"""The floor: the fastest honest read of everything a full registry sync needs, with plain HTTP calls.

Same REST calls a sync must make and nothing else: the largest page sizes MLflow allows, runs read 100
at a time through `runs/search` with an `attributes.run_id IN (...)` filter, metric histories through
`metrics/get-history-bulk-interval` for 100 runs per call and metric key. Answers are decoded from JSON
(a reader has to) but not turned into objects, and nothing is written anywhere.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import httpx

API = "/api/2.0/mlflow"
MODELS_PAGE = 1000  # registered-models/search maximum
VERSIONS_PAGE = 200_000  # model-versions/search maximum
EXPERIMENTS_PAGE = 50_000
RUNS_BATCH = 100
HISTORY_RUNS = 100  # get-history-bulk-interval maximum run_ids per call
HISTORY_POINTS = 2500


@dataclass
class FloorResult:
    seconds: float
    calls: int
    models: int
    versions: int
    runs: int
    history_points: int
    bytes: int

    def as_dict(self) -> dict:
        return asdict(self)


class _Reader:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=httpx.Timeout(120, connect=5))
        self.calls = 0
        self.bytes = 0

    def call(self, method: str, path: str, **kwargs) -> dict:
        self.calls += 1
        response = self.client.request(method, f"{API}/{path}", **kwargs)
        response.raise_for_status()
        self.bytes += len(response.content)
        return response.json()

    def pages(self, method: str, path: str, key: str, payload: dict) -> Iterator[list[dict]]:
        token = None
        while True:
            params = {**payload, **({"page_token": token} if token else {})}
            body = self.call(method, path, **({"params": params} if method == "GET" else {"json": params}))
            yield body.get(key, [])
            token = body.get("next_page_token")
            if not token:
                return


def read_floor(url: str, progress: Callable[[str], None] = print) -> FloorResult:
    started = time.perf_counter()
    reader = _Reader(url)
    try:
        models = 0
        for page in reader.pages(
            "GET",
            "registered-models/search",
            "registered_models",
            {"max_results": MODELS_PAGE, "order_by": "last_updated_timestamp DESC"},
        ):
            models += len(page)
        run_ids: set[str] = set()
        versions = 0
        for page in reader.pages(
            "GET",
            "model-versions/search",
            "model_versions",
            {"max_results": VERSIONS_PAGE, "order_by": "last_updated_timestamp DESC"},
        ):
            versions += len(page)
            run_ids.update(v["run_id"] for v in page if v.get("run_id"))
        experiment_ids = [
            e["experiment_id"]
            for page in reader.pages(
                "GET",
                "experiments/search",
                "experiments",
                {"max_results": EXPERIMENTS_PAGE, "view_type": "ALL"},
            )
            for e in page
        ]
        progress(
            f"[floor] listed {models} models, {versions} versions ({reader.calls} calls); reading runs ..."
        )
        ordered = sorted(run_ids)
        series: dict[str, list[str]] = defaultdict(list)  # metric key -> runs where it has several steps
        runs = 0
        batches = -(-len(ordered) // RUNS_BATCH)
        for n, start in enumerate(range(0, len(ordered), RUNS_BATCH), 1):
            quoted = ", ".join(f"'{r}'" for r in ordered[start : start + RUNS_BATCH])
            for page in reader.pages(
                "POST",
                "runs/search",
                "runs",
                {
                    "experiment_ids": experiment_ids,
                    "filter": f"attributes.run_id IN ({quoted})",
                    "max_results": 50_000,
                    "run_view_type": "ALL",
                },
            ):
                for run in page:
                    runs += 1
                    for metric in run.get("data", {}).get("metrics", []) or []:
                        if int(metric.get("step") or 0) > 0:
                            series[metric["key"]].append(run["info"]["run_id"])
            if n % 20 == 0 or n == batches:
                progress(f"[floor] runs: {n}/{batches} batches ({reader.calls} calls)")
        points = 0
        for key, ids in series.items():
            for start in range(0, len(ids), HISTORY_RUNS):
                body = reader.call(
                    "GET",
                    "metrics/get-history-bulk-interval",
                    params={
                        "run_ids": ids[start : start + HISTORY_RUNS],
                        "metric_key": key,
                        "max_results": HISTORY_POINTS,
                    },
                )
                points += len(body.get("metrics", []))
        progress(f"[floor] histories: {points} points ({reader.calls} calls)")
    finally:
        reader.client.close()
    return FloorResult(
        seconds=time.perf_counter() - started,
        calls=reader.calls,
        models=models,
        versions=versions,
        runs=runs,
        history_points=points,
        bytes=reader.bytes,
    )
