"""One round of `bench_sync`, run in a child process whose DATABASE_URL is a new, dedicated, empty database.

Reads the floor, measures `registry_sync(full=True)` into the empty catalog and, in the last round, a
no-change `registry_sync()`, without changing the sync code: phases are timed by wrapping module functions
for the duration of the run, database work with a connection execute wrapper. Counts what the catalog
holds afterwards, for the parent to compare with what was filled into MLflow.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from unittest import mock

PHASES = (  # functions of catalog.services.registry_sync timed during a sync (nested ones included)
    "_known_versions",
    "_apply",
    "_apply_models",
    "_apply_versions",
    "_link_parents",
    "_apply_run_data",
    "_apply_metrics",
    "_apply_datasets",
    "_apply_aliases",
    "_apply_removals",
    "models_refresh_version_stats",
    "model_search_refresh",
)
WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE")


class Probe:
    """Phase timings, HTTP call progress and database statement counts for one sync."""

    def __init__(self, label: str, progress: Callable[[str], None]) -> None:
        self.label, self.progress = label, progress
        self.phases: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []
        self.connector = None
        self.db_seconds = 0.0
        self.db_statements = 0
        self.db_writes: dict[str, int] = defaultdict(int)  # "INSERT catalog_metricpoint" -> statements
        self.started = time.perf_counter()

    def timed(self, name: str, function, *, announce: bool = False):
        probe = self

        def wrapper(*args, **kwargs):
            if name == "fetch" and args:
                probe.connector = args[0]
            probe.stack.append(name)
            if announce:
                probe.progress(f"[{probe.label}] {name} ...")
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                probe.phases[name] += elapsed
                probe.stack.pop()
                if announce:
                    calls = f", {probe.connector.calls} HTTP calls" if probe.connector else ""
                    probe.progress(f"[{probe.label}] {name} done in {elapsed:.1f} s{calls}")

        return wrapper

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.db_seconds += time.perf_counter() - started
            self.db_statements += 1
            head = sql.lstrip()[:6].upper()
            if head in WRITE_PREFIXES:
                words = sql.replace('"', "").split()
                at = next((i for i, w in enumerate(words[:6]) if w.upper() in ("INTO", "UPDATE", "FROM")), 0)
                table = words[at + 1] if at + 1 < len(words) else "?"
                self.db_writes[f"{head} {table}"] += 1

    def heartbeat(self, stop: threading.Event, every: float = 10.0) -> None:
        while not stop.wait(every):
            calls = f", {self.connector.calls} HTTP calls so far" if self.connector else ""
            where = " > ".join(self.stack) or "starting"
            self.progress(f"[{self.label}] {time.perf_counter() - self.started:.0f} s: in {where}{calls}")


@contextmanager
def instrumented(label: str, progress: Callable[[str], None]):
    from django.db import connection

    from catalog.registries.mlflow import MlflowConnector
    from catalog.services import registry_sync as module

    probe = Probe(label, progress)
    patches = [
        mock.patch.object(
            MlflowConnector, "fetch", probe.timed("fetch", MlflowConnector.fetch, announce=True)
        )
    ]
    for name in PHASES:
        patches.append(
            mock.patch.object(
                module, name, probe.timed(name, getattr(module, name), announce=name == "_apply")
            )
        )
    stop = threading.Event()
    beat = threading.Thread(target=probe.heartbeat, args=(stop,), daemon=True)
    for p in patches:
        p.start()
    beat.start()
    try:
        with connection.execute_wrapper(probe.execute):
            yield probe
    finally:
        stop.set()
        for p in reversed(patches):
            p.stop()


def _sync(label: str, source, full: bool, progress, profile_path: str | None = None) -> dict:
    from catalog.services.registry_sync import registry_sync

    progress(f"[{label}] registry_sync(full={full}) ...")
    with instrumented(label, progress) as probe:
        started = time.perf_counter()
        if profile_path:
            import cProfile

            profiler = cProfile.Profile()
            run = profiler.runcall(registry_sync, source=source, full=full, trigger="bench")
            profiler.dump_stats(profile_path)
        else:
            run = registry_sync(source=source, full=full, trigger="bench")
        seconds = time.perf_counter() - started
    fetch = probe.phases.get("fetch", 0.0)
    apply = probe.phases.get("_apply", 0.0)
    result = {
        "seconds": seconds,
        "fetch_seconds": fetch,
        "apply_seconds": apply,
        "other_seconds": seconds - fetch - apply,
        "phases": dict(probe.phases),
        "db_seconds": probe.db_seconds,
        "db_statements": probe.db_statements,
        "db_writes": dict(sorted(probe.db_writes.items())),
        "http_calls": run.http_calls,
        "status": run.status,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "removed": run.removed,
        "problems": run.problems[:20],
        "problem_count": len(run.problems),
        "error": run.error,
        "is_full": run.is_full,
    }
    progress(
        f"[{label}] done in {seconds:.1f} s (fetch {fetch:.1f} s, apply {apply:.1f} s): "
        f"{run.http_calls} HTTP calls, {run.created} created, {run.updated} updated, "
        f"{run.unchanged} unchanged, {run.removed} removed"
    )
    return result


def catalog_counts(source) -> dict:
    from catalog.models import (
        MetricPoint,
        ModelAlias,
        ModelVersion,
        RegisteredModel,
        VersionDataset,
        VersionMetric,
    )

    return {
        "models": RegisteredModel.objects.filter(source=source).count(),
        "versions": ModelVersion.objects.filter(model__source=source).count(),
        "metric_points": MetricPoint.objects.filter(version__model__source=source).count(),
        "version_metrics": VersionMetric.objects.filter(version__model__source=source).count(),
        "dataset_inputs": VersionDataset.objects.filter(version__model__source=source).count(),
        "aliases": ModelAlias.objects.filter(model__source=source).count(),
        "with_params": ModelVersion.objects.filter(model__source=source).exclude(hyperparameters={}).count(),
        "with_commit": ModelVersion.objects.filter(model__source=source).exclude(code_commit="").count(),
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(
    url: str,
    *,
    label: str = "",
    floor: bool = True,
    resync: bool = True,
    progress: Callable[[str], None] = print,
    profile_path: str | None = None,
) -> dict:
    """Migrate the (new, dedicated) database; read the floor; full sync into the empty catalog; then,
    if asked, a no-change re-sync. One call per round, each round in its own fresh database."""
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import RegisteredModel, RegistrySource

    from .floor import read_floor

    tag = f"round {label}" if label else "round"
    started = time.perf_counter()
    progress(f"[{tag}] migrating a new bench catalog ({connection.vendor}) ...")
    call_command("migrate", verbosity=0, interactive=False)
    if RegisteredModel.objects.exists():
        raise RuntimeError("the bench database is not empty; refusing to measure into it")
    progress(f"[{tag}] migrated in {time.perf_counter() - started:.1f} s")
    result: dict = {"vendor": connection.vendor, "database": str(connection.settings_dict["NAME"])}
    if floor:
        progress(f"[{tag}] floor: plain HTTP reads ...")
        load = _load()
        result["floor"] = read_floor(url, progress=progress).as_dict()
        result["floor"]["load"] = max(load, _load())
        progress(f"[{tag}] floor: {result['floor']['seconds']:.1f} s, {result['floor']['calls']} HTTP calls")
    # Created directly (not through registry_source_create) so no background sync is queued.
    source = RegistrySource.objects.create(name="bench-mlflow", kind="mlflow", base_url=url)
    load = _load()
    name = "profiled full sync" if profile_path else f"full sync {label}".strip()
    result["full"] = _sync(name, source, True, progress, profile_path)
    result["full"]["load"] = max(load, _load())
    result["catalog"] = catalog_counts(source)
    if resync:
        source.refresh_from_db()
        result["resync"] = _sync("re-sync", source, False, progress)
    return result
