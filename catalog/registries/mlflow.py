"""MLflow connector: a thin typed HTTP client over MLflow's REST API.

Why not mlflow-skinny's MlflowClient: it retries internally with long backoffs (minutes per call), cannot
batch run reads, and hides how many HTTP calls a sync makes. Here every call has a strict timeout, errors
are classified once (transient: connection, timeout, 429, 5xx; permanent: other 4xx, bad JSON), Celery
owns retries, and reads use the largest pages MLflow allows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator

import httpx

from portal.security import FetchRefused, GuardedTransport, artifact_uri_problem

from .base import (
    Problem,
    RegistryError,
    RemoteDataset,
    RemoteMetric,
    RemoteModel,
    RemoteVersion,
    Snapshot,
    secret_from_env,
)

API = "/api/2.0/mlflow"
MODELS_PAGE_SIZE = 1000  # MLflow's maximum for registered-models/search
VERSIONS_PAGE_SIZE = 100_000
# An incremental sync usually finds its watermark in the first few versions: a small first page keeps a
# no-change re-sync at 2 calls without downloading every version.
INCREMENTAL_VERSIONS_PAGE_SIZE = 1000
RUNS_BATCH_SIZE = 100  # run ids per runs/search IN filter
HISTORY_RUNS_BATCH = 100  # MLflow's maximum run_ids per get-history-bulk-interval
HISTORY_POINTS_MAX = 2500  # MLflow's maximum points per run in get-history-bulk-interval
REQUEST_TIMEOUT_SECONDS = 15.0  # per call; a hung registry fails fast and is retried later
MAX_PAGES = 10_000  # a registry that never stops paginating is an error, not a hang
STATUS = {"READY": "ready", "PENDING_REGISTRATION": "pending", "FAILED_REGISTRATION": "failed"}
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_REPO_TAGS = ("mlflow.source.git.repoURL", "mlflow.gitRepoURL")
PARENT_RUN_TAG = "mlflow.parentRunId"


def _tags(items) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or [] if isinstance(t, dict) and "key" in t}


class MlflowConnector:
    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.calls = 0
        self.client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            headers=headers or {},
            timeout=httpx.Timeout(timeout or REQUEST_TIMEOUT_SECONDS, connect=5.0),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def for_source(cls, source) -> MlflowConnector:
        auth, headers = None, {}
        if source.auth == "basic":
            auth = httpx.BasicAuth(source.auth_username, secret_from_env(source.secret_env))
        elif source.auth == "bearer":
            headers["Authorization"] = f"Bearer {secret_from_env(source.secret_env)}"
        # Every request is checked against the address it connects to (no loopback/private/metadata
        # addresses unless MODELHOUSE_FETCH_ALLOWED_HOSTS allows the host): the URL was checked when it
        # was saved, but DNS may answer differently now.
        return cls(source.base_url, auth=auth, headers=headers, transport=GuardedTransport())

    # -- HTTP ---------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs) -> dict:
        self.calls += 1
        url = path if path.startswith("/") else f"{API}/{path}"
        try:
            response = self.client.request(method, url, **kwargs)
        except FetchRefused as exc:
            raise RegistryError(f"Refused to read MLflow at {self.base_url}: {exc}", transient=False) from exc
        except httpx.TimeoutException as exc:
            raise RegistryError(
                f"MLflow at {self.base_url} did not answer in time ({path}).", transient=True
            ) from exc
        except httpx.TransportError as exc:
            raise RegistryError(f"Cannot reach MLflow at {self.base_url}: {exc}.", transient=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise RegistryError(
                f"MLflow answered {response.status_code} for {path}; will retry.", transient=True
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise RegistryError(
                f"MLflow answered {response.status_code} for {path} with something that is not JSON.",
                transient=False,
            ) from exc
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            if response.status_code in (401, 403):
                message = f"MLflow refused the credentials ({response.status_code})."
            raise RegistryError(
                message or f"MLflow answered {response.status_code} for {path}.", transient=False
            )
        if not isinstance(body, dict):
            raise RegistryError(f"MLflow's answer to {path} is not a JSON object.", transient=False)
        return body

    def _pages(self, method: str, path: str, key: str, payload: dict) -> Iterator[list[dict]]:
        token, seen = None, set()
        for _ in range(MAX_PAGES):
            params = {**payload, **({"page_token": token} if token else {})}
            body = (
                self._request(method, path, params=params)
                if method == "GET"
                else self._request(method, path, json=params)
            )
            items = body.get(key, [])
            if not isinstance(items, list):
                raise RegistryError(f"MLflow's {path} answer has no list of {key}.", transient=False)
            yield items
            token = body.get("next_page_token")
            if not token:
                return
            if token in seen:
                raise RegistryError(f"MLflow's {path} returned the same page token twice.", transient=False)
            seen.add(token)
        raise RegistryError(f"MLflow's {path} kept paginating past {MAX_PAGES} pages.", transient=False)

    # -- writing -------------------------------------------------------------------------------------
    def set_alias(self, *, model_name: str, alias: str, version: str) -> None:
        """Point `alias` at `version` in MLflow (what an approved promotion writes back)."""
        try:
            self._request(
                "POST",
                "registered-models/alias",
                json={"name": model_name, "alias": alias, "version": str(version)},
            )
        finally:
            self.client.close()

    # -- reading -------------------------------------------------------------------------------------
    def fetch(self, *, since_ms, sweep, known_versions) -> Snapshot:
        try:
            return self._fetch(since_ms=since_ms, sweep=sweep, known_versions=known_versions)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RegistryError(
                f"MLflow's answer did not have the expected shape: {exc!r}.", transient=False
            ) from exc
        finally:
            self.client.close()

    def _fetch(self, *, since_ms, sweep, known_versions) -> Snapshot:
        incremental = since_ms is not None and not sweep
        models: dict[str, RemoteModel] = {}
        newest = since_ms or 0
        # Newest first: a model updated during the walk moves to the front, so later pages shift down
        # (a duplicate at worst, never a skip), and its new timestamp is above the next watermark.
        for page in self._pages(
            "GET",
            "registered-models/search",
            "registered_models",
            {"max_results": MODELS_PAGE_SIZE, "order_by": "last_updated_timestamp DESC"},
        ):
            for item in page:
                model = self._model(item)
                models.setdefault(model.name, model)
                newest = max(newest, model.updated_ms)
            # Aliases do not bump a model's timestamp, so a whole first page is always read; paging stops
            # at the first page that reaches below the watermark.
            if incremental and page and self._model(page[-1]).updated_ms < since_ms:
                break

        versions: dict[tuple[str, str], RemoteVersion] = {}
        problems: list[Problem] = []
        for page in self._pages(
            "GET",
            "model-versions/search",
            "model_versions",
            {
                "max_results": INCREMENTAL_VERSIONS_PAGE_SIZE if incremental else VERSIONS_PAGE_SIZE,
                "order_by": "last_updated_timestamp DESC",
            },
        ):
            stop = False
            for item in page:
                version = self._version(item)
                if incremental and version.updated_ms < since_ms:
                    stop = True
                    break
                if (version.model_name, version.version) not in versions:
                    self._neutralise_source(version, problems)
                versions.setdefault((version.model_name, version.version), version)
                newest = max(newest, version.updated_ms)
            if stop:
                break

        for name in sorted({v.model_name for v in versions.values()} - models.keys()):
            body = self._request("GET", "registered-models/get", params={"name": name})
            models[name] = self._model(body["registered_model"])

        stale = [v for key, v in versions.items() if v.run_id and known_versions.get(key) != v.updated_ms]
        self._load_runs(stale, problems)
        return Snapshot(
            models=list(models.values()),
            versions=list(versions.values()),
            complete=not incremental,
            watermark_ms=newest or None,
            http_calls=self.calls,
            problems=problems,
        )

    @staticmethod
    def _neutralise_source(version: RemoteVersion, problems: list[Problem]) -> None:
        """A source URI naming the local disk or climbing with '..' is not stored; the version still is."""
        problem = artifact_uri_problem(version.source_uri)
        if problem:
            problems.append(
                Problem(
                    f"{version.model_name} v{version.version}",
                    f"source URI {version.source_uri[:200]!r} not stored: {problem}",
                )
            )
            version.source_uri = ""

    def _model(self, item: dict) -> RemoteModel:
        return RemoteModel(
            name=item["name"],
            updated_ms=int(item.get("last_updated_timestamp") or item.get("creation_timestamp") or 0),
            description=item.get("description") or "",
            tags=_tags(item.get("tags")),
            aliases={a["alias"]: str(a["version"]) for a in item.get("aliases") or []},
        )

    def _version(self, item: dict) -> RemoteVersion:
        return RemoteVersion(
            model_name=item["name"],
            version=str(item["version"]),
            created_ms=int(item.get("creation_timestamp") or 0),
            updated_ms=int(item.get("last_updated_timestamp") or item.get("creation_timestamp") or 0),
            status=STATUS.get(item.get("status", "READY"), "ready"),
            description=item.get("description") or "",
            source_uri=item.get("source") or "",
            run_id=item.get("run_id") or "",
            created_by=item.get("user_id") or "",
            tags=_tags(item.get("tags")),
        )

    def _experiment_ids(self) -> list[str]:
        ids: list[str] = []
        for page in self._pages(
            "GET", "experiments/search", "experiments", {"max_results": 50_000, "view_type": "ALL"}
        ):
            ids.extend(str(e["experiment_id"]) for e in page)
        return ids

    def _load_runs(self, versions: list[RemoteVersion], problems: list[Problem]) -> None:
        if not versions:
            return
        experiment_ids = self._experiment_ids()
        by_run: dict[str, list[RemoteVersion]] = defaultdict(list)
        for version in versions:
            by_run[version.run_id].append(version)
        run_ids = sorted(by_run)
        runs: dict[str, dict] = {}
        for start in range(0, len(run_ids), RUNS_BATCH_SIZE):
            batch = run_ids[start : start + RUNS_BATCH_SIZE]
            quoted = ", ".join("'" + r.replace("'", "") + "'" for r in batch)
            for page in self._pages(
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
                    runs[run["info"]["run_id"]] = run
        histories = self._histories(runs)
        for run_id, targets in by_run.items():
            run = runs.get(run_id)
            if run is None:
                for v in targets:
                    problems.append(
                        Problem(f"{v.model_name} v{v.version}", f"run {run_id} not found in MLflow")
                    )
                continue
            for version in targets:
                self._apply_run(version, run, histories.get(run_id, {}))

    def _histories(self, runs: dict[str, dict]) -> dict[str, dict[str, list[RemoteMetric]]]:
        """Full history of every metric logged at more than one step, read in bulk per metric key."""
        wanted: dict[str, list[str]] = defaultdict(list)
        for run_id, run in runs.items():
            for metric in run.get("data", {}).get("metrics", []) or []:
                if int(metric.get("step") or 0) > 0:
                    wanted[metric["key"]].append(run_id)
        result: dict[str, dict[str, list[RemoteMetric]]] = defaultdict(dict)
        for key, run_ids in wanted.items():
            for start in range(0, len(run_ids), HISTORY_RUNS_BATCH):
                batch = run_ids[start : start + HISTORY_RUNS_BATCH]
                body = self._request(
                    "GET",
                    "metrics/get-history-bulk-interval",
                    params={"run_ids": batch, "metric_key": key, "max_results": HISTORY_POINTS_MAX},
                )
                points: dict[str, list[RemoteMetric]] = defaultdict(list)
                for m in body.get("metrics", []):
                    points[m["run_id"]].append(
                        RemoteMetric(key, float(m["value"]), int(m.get("step") or 0), m.get("timestamp"))
                    )
                for run_id in batch:
                    series = points.get(run_id, [])
                    if len(series) >= HISTORY_POINTS_MAX:  # sampled by MLflow: read the whole history
                        series = self._full_history(run_id, key)
                    result[run_id][key] = series
        return result

    def _full_history(self, run_id: str, key: str) -> list[RemoteMetric]:
        points = []
        for page in self._pages(
            "GET",
            "metrics/get-history",
            "metrics",
            {"run_id": run_id, "metric_key": key, "max_results": 25_000},
        ):
            points.extend(
                RemoteMetric(key, float(m["value"]), int(m.get("step") or 0), m.get("timestamp"))
                for m in page
            )
        return points

    def _apply_run(self, version: RemoteVersion, run: dict, histories: dict[str, list[RemoteMetric]]) -> None:
        data = run.get("data", {}) or {}
        tags = _tags(data.get("tags"))
        version.run_loaded = True
        version.hyperparameters = {p["key"]: p.get("value", "") for p in data.get("params", []) or []}
        metrics: list[RemoteMetric] = []
        for latest in data.get("metrics", []) or []:
            key = latest["key"]
            series = histories.get(key) or [
                RemoteMetric(
                    key, float(latest["value"]), int(latest.get("step") or 0), latest.get("timestamp")
                )
            ]
            metrics.extend(series)
        version.metrics = metrics
        version.code_commit = tags.get(GIT_COMMIT_TAG, "")
        version.code_repository = next((tags[t] for t in GIT_REPO_TAGS if tags.get(t)), "")
        version.parent_run_id = tags.get(PARENT_RUN_TAG, "")
        datasets = []
        for entry in (run.get("inputs") or {}).get("dataset_inputs", []) or []:
            ds = entry.get("dataset") or {}
            context = _tags(entry.get("tags")).get("mlflow.data.context", "training")
            uri = _dataset_uri(ds)
            if uri:
                datasets.append(
                    RemoteDataset(
                        uri=uri,
                        name=ds.get("name") or "",
                        digest=ds.get("digest") or "",
                        role="evaluation"
                        if context in ("evaluation", "eval", "validation", "test")
                        else "training",
                    )
                )
        version.datasets = datasets


def _dataset_uri(dataset: dict) -> str:
    """MLflow stores a dataset's source as JSON ({"uri": ...}, {"url": ...}, {"path": ...}, ...)."""
    raw = dataset.get("source") or ""
    try:
        source = json.loads(raw) if raw else {}
    except ValueError:
        return raw.strip()
    if isinstance(source, dict):
        for key in ("uri", "url", "path", "table_name", "location"):
            if source.get(key):
                return str(source[key])
    name = dataset.get("name") or ""
    return f"mlflow-dataset:{name}@{dataset.get('digest', '')}" if name else ""
