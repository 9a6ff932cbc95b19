from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class RegistryError(Exception):
    """The registry could not be read. `transient` errors (connection, timeout, 5xx) are retried."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass
class RemoteDataset:
    uri: str
    name: str = ""
    digest: str = ""
    role: str = "training"


@dataclass
class RemoteMetric:
    key: str
    value: float
    step: int = 0
    timestamp_ms: int | None = None


@dataclass
class RemoteVersion:
    model_name: str
    version: str
    created_ms: int
    updated_ms: int
    status: str = "ready"
    description: str = ""
    source_uri: str = ""
    run_id: str = ""
    created_by: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    # From the version's run (filled when the run was read)
    run_loaded: bool = False
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metrics: list[RemoteMetric] = field(default_factory=list)  # full history points, one per (key, step)
    code_commit: str = ""
    code_repository: str = ""
    datasets: list[RemoteDataset] = field(default_factory=list)
    parent_run_id: str = ""


@dataclass
class RemoteModel:
    name: str
    updated_ms: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version label
    # Models-as-code manifests carry catalog metadata a registry does not have.
    manifest: dict | None = None


@dataclass
class Problem:
    """One item the connector could not read; the rest of the sync goes on."""

    item: str
    reason: str
    line: int | None = None

    def as_dict(self) -> dict:
        return {"item": self.item, "reason": self.reason, "line": self.line}


@dataclass
class Snapshot:
    """What a connector read. `complete` means every model and version was listed (deletions are real)."""

    models: list[RemoteModel]
    versions: list[RemoteVersion]
    complete: bool
    watermark_ms: int | None
    lists_versions: bool = True  # manifests describe models only: their sweeps never remove versions
    http_calls: int = 0
    problems: list[Problem] = field(default_factory=list)


class Connector(Protocol):
    def fetch(
        self, *, since_ms: int | None, sweep: bool, known_versions: dict[tuple[str, str], int]
    ) -> Snapshot:
        """Read the registry.

        since_ms: the watermark of the last successful sync (None: read everything).
        sweep: list every model and version even if unchanged, so removals can be detected.
        known_versions: (model, version) -> registry update time (ms) the catalog already has; a connector
        skips re-reading run data for versions whose update time has not changed.
        """


def ms_to_datetime(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def secret_from_env(name: str) -> str:
    if not name:
        return ""
    value = os.environ.get(name)
    if value is None:
        raise RegistryError(
            f"The secret environment variable {name} is not set on this worker.", transient=False
        )
    return value


def connector_for(source) -> Connector:
    from .manifests import ManifestsConnector
    from .mlflow import MlflowConnector

    if source.kind == "mlflow":
        return MlflowConnector.for_source(source)
    if source.kind == "manifests":
        return ManifestsConnector.for_source(source)
    raise RegistryError(f"Registry kind {source.kind!r} cannot be synced.", transient=False)
