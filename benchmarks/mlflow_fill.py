"""Fill a fresh local MLflow with a large, realistic model registry, fast, and serve it.

Creating 10,000 versions through the REST API one call at a time takes hours. Instead MLflow creates its
own schema (its SQLAlchemy stores run MLflow's alembic migrations), then every row is bulk-inserted into
MLflow's own tables in one SQLite transaction, shaped exactly like the rows MLflow writes itself (checked
against rows written by `SqlAlchemyStore.create_run/log_batch/log_inputs/create_model_version`). A real
`mlflow server` then serves that database, and `verify` checks through the REST API that it answers the
data back (counts, one run field by field, aliases, one metric history).

Each version has its own run holding params, final metrics, one metric series over several steps,
git commit/repo tags and, for a fraction of runs, dataset inputs; models carry tags and aliases.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

API = "/api/2.0/mlflow"
WORKSPACE = "default"
PARAM_KEYS = ("learning_rate", "max_depth", "n_estimators", "subsample", "seed")
FINAL_METRICS = ("auc", "f1")
SERIES_METRIC = "loss"
DOMAINS = ("credit-risk", "fraud", "personalisation", "pricing", "supply-chain")
TEAMS = ("growth", "risk", "ops", "platform")
DATASETS_PER_EXPERIMENT = 4
MODELS_PER_EXPERIMENT = 100

Progress = Callable[[str], None]


def _print(message: str) -> None:
    print(message, flush=True)


class FillError(Exception):
    """The MLflow fixture could not be built, or the server does not answer its data back."""


@dataclass
class FillSpec:
    models: int = 2000
    versions_per_model: int = 5
    steps: int = 10  # points in the SERIES_METRIC history of every run
    dataset_fraction: float = 0.3  # runs with a training dataset input (half of them also an evaluation one)
    seed: int = 20261124

    @property
    def versions(self) -> int:
        return self.models * self.versions_per_model


@dataclass
class FillResult:
    db_path: Path
    artifact_root: Path
    models: int = 0
    versions: int = 0
    runs: int = 0
    experiments: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    dataset_inputs: int = 0
    aliases: int = 0
    seconds: float = 0.0
    # One version as written, for `verify` to compare with what the server answers.
    sample: dict = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.models} models, {self.versions} versions, {self.runs} runs in {self.experiments} "
            f"experiments, {self.params} params, {self.tags} run tags, {self.metric_points} metric points, "
            f"{self.dataset_inputs} dataset inputs, {self.aliases} aliases"
        )


# -- schema -----------------------------------------------------------------------------------------
SCHEMA_SCRIPT = """
import sys
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
SqlAlchemyStore(sys.argv[1], sys.argv[2])
RegistryStore(sys.argv[1])
"""


def _clean_env() -> dict[str, str]:
    """The environment for MLflow processes: none of the caller's Django or MLflow settings leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MLFLOW_"))}
    env["MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"] = "true"
    # No job runner and huey consumers (GenAI jobs): eight idle processes that only add noise here.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


def mlflow_executable() -> str:
    local = Path(sys.executable).with_name("mlflow")
    found = str(local) if local.exists() else shutil.which("mlflow")
    if not found:
        raise FillError("the mlflow package is not installed (pip install -e '.[test]')")
    return found


def init_schema(db_path: Path, artifact_root: Path) -> None:
    """Let MLflow create its own tables (all alembic migrations) in a fresh SQLite file."""
    mlflow_executable()
    done = subprocess.run(
        [sys.executable, "-c", SCHEMA_SCRIPT, f"sqlite:///{db_path}", str(artifact_root)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise FillError(f"MLflow could not create its schema:\n{done.stderr[-3000:]}")


# -- fill -------------------------------------------------------------------------------------------
def fill(
    db_path: Path, artifact_root: Path, spec: FillSpec | None = None, progress: Progress = _print
) -> FillResult:
    """Create a fresh MLflow SQLite database at `db_path` holding `spec`'s registry."""
    spec = spec or FillSpec()
    started = time.monotonic()
    db_path, artifact_root = Path(db_path), Path(artifact_root)
    if db_path.exists():
        raise FillError(f"{db_path} already exists; the fill needs a fresh database")
    artifact_root.mkdir(parents=True, exist_ok=True)
    progress(f"[fill] creating MLflow's schema in {db_path} ...")
    init_schema(db_path, artifact_root)
    progress(f"[fill] schema ready ({time.monotonic() - started:.1f} s); generating rows ...")

    rng = random.Random(spec.seed)
    result = FillResult(db_path=db_path, artifact_root=artifact_root)
    rows: dict[str, list[tuple]] = {
        t: []
        for t in (
            "experiments",
            "runs",
            "params",
            "tags",
            "metrics",
            "latest_metrics",
            "datasets",
            "inputs",
            "input_tags",
            "registered_models",
            "registered_model_tags",
            "model_versions",
            "model_version_tags",
            "registered_model_aliases",
        )
    }

    def uid() -> str:
        return f"{rng.getrandbits(128):032x}"

    experiments = max(1, -(-spec.models // MODELS_PER_EXPERIMENT))
    # Every version is one second newer than the previous one: distinct, increasing registry timestamps.
    base_ms = int(time.time() * 1000) - (spec.versions + 10) * 1000
    datasets: dict[int, list[tuple[str, str]]] = {}  # experiment id -> [(dataset uuid, name)]
    for e in range(1, experiments + 1):
        rows["experiments"].append(
            (e, f"bench-exp-{e:03d}", str(artifact_root / str(e)), "active", base_ms, base_ms, WORKSPACE)
        )
        datasets[e] = []
        for d in range(DATASETS_PER_EXPERIMENT):
            ds_uuid, name = uid(), f"table_{d}"
            source = json.dumps({"uri": f"s3://lake/exp{e:03d}/{name}"})
            rows["datasets"].append((ds_uuid, e, name, uid()[:8], "s3", source, None, None))
            datasets[e].append((ds_uuid, name))

    index = 0
    report_every = max(1, spec.models // 10)
    for m in range(1, spec.models + 1):
        name = f"bench-model-{m:05d}"
        experiment = (m - 1) // MODELS_PER_EXPERIMENT + 1
        model_created = base_ms + index * 1000
        repo = f"https://git.example.com/ds/{name}"
        for v in range(1, spec.versions_per_model + 1):
            at = base_ms + index * 1000
            index += 1
            run = uid()
            start, end = at - 600_000, at - 1000
            commit = f"{rng.getrandbits(160):040x}"
            user = f"user{rng.randrange(50):02d}@example.com"
            rows["runs"].append(
                (
                    run,
                    f"{name}-train-{v}",
                    "UNKNOWN",
                    "",
                    "",
                    user,
                    "FINISHED",
                    start,
                    end,
                    "",
                    "active",
                    f"{artifact_root}/{experiment}/{run}/artifacts",
                    experiment,
                    None,
                )
            )
            params = {
                "learning_rate": f"{rng.choice((0.01, 0.03, 0.05, 0.1)):g}",
                "max_depth": str(rng.randrange(3, 12)),
                "n_estimators": str(rng.choice((100, 200, 500))),
                "subsample": f"{rng.uniform(0.5, 1.0):.2f}",
                "seed": str(rng.randrange(10_000)),
            }
            rows["params"].extend((k, params[k], run) for k in PARAM_KEYS)
            tags = {
                "mlflow.runName": f"{name}-train-{v}",
                "mlflow.user": user,
                "mlflow.source.type": "LOCAL",
                "mlflow.source.git.commit": commit,
                "mlflow.source.git.repoURL": repo,
            }
            rows["tags"].extend((k, val, run) for k, val in tags.items())
            finals = {"auc": round(rng.uniform(0.6, 0.95), 4), "f1": round(rng.uniform(0.4, 0.9), 4)}
            for key, value in finals.items():
                rows["metrics"].append((key, value, end, run, 0, 0))
                rows["latest_metrics"].append((key, value, end, 0, 0, run))
            loss = [round(1.0 / (s + 1) + rng.uniform(0, 0.05), 5) for s in range(spec.steps)]
            for step, value in enumerate(loss):
                rows["metrics"].append((SERIES_METRIC, value, start + step * 10_000, run, step, 0))
            last = spec.steps - 1
            rows["latest_metrics"].append((SERIES_METRIC, loss[last], start + last * 10_000, last, 0, run))
            inputs = []
            if rng.random() < spec.dataset_fraction:
                picked = rng.sample(datasets[experiment], 2)
                inputs.append((picked[0][0], "training"))
                if rng.random() < 0.5:
                    inputs.append((picked[1][0], "evaluation"))
            for ds_uuid, context in inputs:
                input_uuid = uid()
                rows["inputs"].append((input_uuid, "DATASET", ds_uuid, "RUN", run, 0))
                rows["input_tags"].append((input_uuid, "mlflow.data.context", context))
            source = f"runs:/{run}/model"
            rows["model_versions"].append(
                (
                    name,
                    v,
                    at,
                    at,
                    f"Version {v} of {name}.",
                    user,
                    "None",
                    source,
                    run,
                    "READY",
                    "",
                    "",
                    source,
                    WORKSPACE,
                )
            )
            if v % 2 == 0:
                rows["model_version_tags"].append(("validation_status", "approved", name, v, WORKSPACE))
            if m == 1 and v == spec.versions_per_model:
                result.sample = {
                    "model": name,
                    "version": str(v),
                    "run_id": run,
                    "params": params,
                    "tags": {k: tags[k] for k in ("mlflow.source.git.commit", "mlflow.source.git.repoURL")},
                    "metrics": {**finals, SERIES_METRIC: loss[last]},
                    "loss": loss,
                    "inputs": len(inputs),
                }
        last_version_at = base_ms + (index - 1) * 1000
        rows["registered_models"].append(
            (name, model_created, last_version_at, f"Predicts **{name}** outcomes.", WORKSPACE)
        )
        rows["registered_model_tags"].extend(
            [
                ("domain", DOMAINS[m % len(DOMAINS)], name, WORKSPACE),
                ("team", TEAMS[m % len(TEAMS)], name, WORKSPACE),
            ]
        )
        aliases = {"champion": spec.versions_per_model}
        if spec.versions_per_model > 1 and m % 2 == 0:
            aliases["challenger"] = spec.versions_per_model - 1
        rows["registered_model_aliases"].extend((a, ver, name, WORKSPACE) for a, ver in aliases.items())
        if m == 1:
            result.sample["aliases"] = {a: str(ver) for a, ver in aliases.items()}
        if m % report_every == 0 or m == spec.models:
            progress(f"[fill] generated {m}/{spec.models} models ({index} versions)")

    progress(f"[fill] inserting {sum(len(r) for r in rows.values())} rows in one transaction ...")
    _insert(db_path, rows, progress)
    result.models = len(rows["registered_models"])
    result.versions = len(rows["model_versions"])
    result.runs = len(rows["runs"])
    result.experiments = experiments
    result.params = len(rows["params"])
    result.tags = len(rows["tags"])
    result.metric_points = len(rows["metrics"])
    result.dataset_inputs = len(rows["inputs"])
    result.aliases = len(rows["registered_model_aliases"])
    result.seconds = time.monotonic() - started
    progress(f"[fill] done in {result.seconds:.1f} s: {result.summary()}")
    return result


INSERTS = {
    "experiments": "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
    "creation_time, last_update_time, workspace) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "runs": "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
    "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "params": "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
    "tags": "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
    "metrics": "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "latest_metrics": "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "datasets": "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, "
    "dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "inputs": "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id, "
    "step) VALUES (?, ?, ?, ?, ?, ?)",
    "input_tags": "INSERT INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)",
    "registered_models": "INSERT INTO registered_models (name, creation_time, last_updated_time, "
    "description, workspace) VALUES (?, ?, ?, ?, ?)",
    "registered_model_tags": "INSERT INTO registered_model_tags (key, value, name, workspace) "
    "VALUES (?, ?, ?, ?)",
    "model_versions": "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
    "description, user_id, current_stage, source, run_id, status, status_message, run_link, "
    "storage_location, workspace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "model_version_tags": "INSERT INTO model_version_tags (key, value, name, version, workspace) "
    "VALUES (?, ?, ?, ?, ?)",
    "registered_model_aliases": "INSERT INTO registered_model_aliases (alias, version, name, workspace) "
    "VALUES (?, ?, ?, ?)",
}


def _insert(db_path: Path, rows: dict[str, list[tuple]], progress: Progress) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("BEGIN")
        for table, sql in INSERTS.items():  # parents before children (foreign keys are enforced)
            started = time.monotonic()
            connection.executemany(sql, rows[table])
            progress(f"[fill]   {table}: {len(rows[table])} rows ({time.monotonic() - started:.1f} s)")
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    except sqlite3.Error as exc:
        raise FillError(f"bulk insert into MLflow's tables failed: {exc}") from exc
    finally:
        connection.close()


# -- server -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """`mlflow server` on a free 127.0.0.1 port over an existing SQLite database; a context manager."""

    def __init__(self, db_path: Path, artifact_root: Path, log_path: Path, *, workers: int = 1) -> None:
        self.db_path, self.artifact_root, self.log_path = Path(db_path), Path(artifact_root), Path(log_path)
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, progress: Progress = _print, timeout: float = 120) -> MlflowServer:
        progress(f"[server] starting mlflow server on {self.url} ...")
        started = time.monotonic()
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                mlflow_executable(),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--backend-store-uri",
                f"sqlite:///{self.db_path}",
                "--default-artifact-root",
                str(self.artifact_root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            cwd=self.log_path.parent,
            start_new_session=True,
        )
        log.close()
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() - started > timeout:
                self.stop()
                raise FillError(f"mlflow server did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        progress(f"[server] ready in {time.monotonic() - started:.1f} s (log: {self.log_path})")
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, 15)  # the server's own process group (uvicorn workers included)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=5)

    def __enter__(self) -> MlflowServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- verification -----------------------------------------------------------------------------------
def _get(client: httpx.Client, path: str, **params) -> dict:
    response = client.get(f"{API}/{path}", params=params)
    if response.status_code != 200:
        raise FillError(f"{path} answered {response.status_code}: {response.text[:500]}")
    return response.json()


def verify(url: str, result: FillResult, progress: Progress = _print) -> None:
    """Check through the REST API that the server answers the filled data back. Raises FillError."""
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=120) as client:
        models, token = 0, None
        while True:
            body = _get(
                client,
                "registered-models/search",
                max_results=1000,
                **({"page_token": token} if token else {}),
            )
            models += len(body.get("registered_models", []))
            token = body.get("next_page_token")
            if not token:
                break
        versions = len(_get(client, "model-versions/search", max_results=200_000).get("model_versions", []))
        problems = []
        if models != result.models:
            problems.append(f"registered-models/search lists {models} models, {result.models} were written")
        if versions != result.versions:
            problems.append(
                f"model-versions/search lists {versions} versions, {result.versions} were written"
            )
        sample = result.sample
        run = _get(client, "runs/get", run_id=sample["run_id"])["run"]
        data = run.get("data", {})
        params = {p["key"]: p["value"] for p in data.get("params", [])}
        metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
        tags = {t["key"]: t["value"] for t in data.get("tags", [])}
        inputs = len((run.get("inputs") or {}).get("dataset_inputs", []) or [])
        if params != sample["params"]:
            problems.append(f"runs/get params {params} != written {sample['params']}")
        if metrics != sample["metrics"]:
            problems.append(f"runs/get metrics {metrics} != written {sample['metrics']}")
        if any(tags.get(k) != v for k, v in sample["tags"].items()):
            problems.append(f"runs/get tags {tags} lack written {sample['tags']}")
        if inputs != sample["inputs"]:
            problems.append(f"runs/get has {inputs} dataset inputs, {sample['inputs']} were written")
        model = _get(client, "registered-models/get", name=sample["model"])["registered_model"]
        aliases = {a["alias"]: a["version"] for a in model.get("aliases", [])}
        if aliases != sample["aliases"]:
            problems.append(f"{sample['model']} aliases {aliases} != written {sample['aliases']}")
        history = _get(client, "metrics/get-history", run_id=sample["run_id"], metric_key=SERIES_METRIC)
        loss = [m["value"] for m in sorted(history.get("metrics", []), key=lambda m: m["step"])]
        if loss != sample["loss"]:
            problems.append(f"{SERIES_METRIC} history {loss} != written {sample['loss']}")
    if problems:
        raise FillError("MLflow does not answer the filled data back:\n  " + "\n  ".join(problems))
    progress(
        f"[verify] server answers {models} models, {versions} versions; run {sample['run_id'][:8]} "
        f"params/metrics/tags/inputs/history and aliases match ({time.monotonic() - started:.1f} s)"
    )
