"""Models-as-code: a directory (or git checkout) of YAML manifests, one per model.

Each file is validated against schemas/model-manifest.schema.json; an invalid file is reported with its
path, line and reason, and the other files still sync.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

from portal.security import http_url

from .base import Problem, RegistryError, RemoteModel, Snapshot

SCHEMA_PATH = Path(settings.BASE_DIR) / "schemas" / "model-manifest.schema.json"
MAX_FILE_BYTES = 256 * 1024
MAX_FILES = 20_000


@cache
def manifest_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(manifest_schema())


def _line_of(node: yaml.Node, path) -> int:
    """1-based line of the YAML node at `path` (keys and indexes), or of its nearest existing parent."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            match = node.value[part]
        else:
            match = None
        if match is None:
            break
        node = match
    return node.start_mark.line + 1


def parse_manifest(text: str, name: str) -> tuple[dict | None, list[Problem]]:
    """The manifest as a dict, or None with the problems (file, line, reason)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(name, f"not valid YAML: {reason}", mark.line + 1 if mark else None)]
    if node is None or not isinstance(data, dict):
        return None, [Problem(name, "a manifest must be a mapping of fields (name, domain, owners, ...)", 1)]
    errors = sorted(_validator().iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        problems = []
        for error in errors[:10]:
            where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            problems.append(Problem(name, f"{where}: {error.message}", _line_of(node, error.absolute_path)))
        return None, problems
    return data, []


MAX_SCRIPT_BYTES = 200 * 1024


def read_scripts(data: dict, manifest_path: Path, root: Path, rel: str) -> tuple[list[dict], list[Problem]]:
    """The verification scripts a manifest names, read from files beside it (never outside the root)."""
    scripts, problems = [], []
    for entry in data.get("verification", []):
        target = (manifest_path.parent / entry["path"]).resolve()
        if not target.is_relative_to(root.resolve()):
            problems.append(
                Problem(rel, f"verification script {entry['path']!r} is outside the manifest folder")
            )
            continue
        if not target.is_file():
            problems.append(Problem(rel, f"verification script {entry['path']!r} does not exist"))
            continue
        if target.stat().st_size > MAX_SCRIPT_BYTES:
            problems.append(Problem(rel, f"verification script {entry['path']!r} is larger than 200 KiB"))
            continue
        try:
            source = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, f"verification script {entry['path']!r} cannot be read: {exc}"))
            continue
        scripts.append(
            {
                "name": entry["name"],
                "source": source,
                "timeout_seconds": entry.get("timeout_seconds", 120),
                "checks_description": entry.get("checks", ""),
                "path": entry["path"],
            }
        )
    return scripts, problems


def manifest_to_remote(data: dict, updated_ms: int) -> RemoteModel:
    card = data.get("model_card", {})
    metric = data.get("primary_metric", {})
    manifest = {
        "domain": data["domain"],
        "owners": [{"username": o["username"], "role": o.get("role", "technical")} for o in data["owners"]],
        "tags": [t.lower() for t in data.get("tags", [])],
        "datasets": data.get("datasets", []),
        "contract": data.get("contract", {}),
    }
    for key in ("intended_use", "limitations", "ethical_considerations"):
        if key in card:
            manifest[key] = card[key]
    if "lifecycle" in data:
        manifest["lifecycle"] = data["lifecycle"]
    if metric:
        manifest["primary_metric"] = metric["name"]
        manifest["primary_metric_goal"] = metric.get("goal", "maximize")
    if "retraining" in data:
        manifest["retrain_every_days"] = data["retraining"]["every_days"]
    if "source_url" in data:
        # Rendered as a link on the model page: only http(s) (never javascript:, data:, file:).
        manifest["source_url"] = http_url(data["source_url"])
    return RemoteModel(
        name=data["name"], updated_ms=updated_ms, description=data.get("description", ""), manifest=manifest
    )


class ManifestsConnector:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    @classmethod
    def for_source(cls, source) -> ManifestsConnector:
        return cls(source.base_url)

    def fetch(self, *, since_ms, sweep, known_versions) -> Snapshot:
        if not self.root.is_absolute() or ".." in self.root.parts:
            raise RegistryError(
                f"Manifest directory {self.root} must be an absolute path without '..' segments.",
                transient=False,
            )
        if not self.root.is_dir():
            raise RegistryError(
                f"Manifest directory {self.root} does not exist or is not a directory.", transient=False
            )
        real_root = self.root.resolve()
        files = sorted(p for p in self.root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        if len(files) > MAX_FILES:
            raise RegistryError(f"More than {MAX_FILES} manifest files under {self.root}.", transient=False)
        models: dict[str, RemoteModel] = {}
        problems: list[Problem] = []
        newest = 0
        for path in files:
            rel = str(path.relative_to(self.root))
            if not path.resolve().is_relative_to(real_root):
                # A symlink out of the checkout (to /etc/..., another repo): never read.
                problems.append(Problem(rel, "links outside the manifest directory; not read", None))
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                problems.append(Problem(rel, f"larger than {MAX_FILE_BYTES // 1024} KiB", None))
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(rel, f"cannot be read: {exc}", None))
                continue
            data, found = parse_manifest(text, rel)
            if data is None:
                problems.extend(found)
                continue
            if data["name"] in models:
                problems.append(
                    Problem(rel, f"model {data['name']!r} is described by another manifest too", 1)
                )
                continue
            updated_ms = int(path.stat().st_mtime * 1000)
            newest = max(newest, updated_ms)
            remote = manifest_to_remote(data, updated_ms)
            if data.get("source_url") and not remote.manifest.get("source_url"):
                problems.append(
                    Problem(rel, "source_url: only http:// and https:// links are kept; ignored", None)
                )
            if "verification" in data:
                remote.manifest["verification"], found = read_scripts(data, path, self.root, rel)
                problems.extend(found)
            models[data["name"]] = remote
        return Snapshot(
            models=list(models.values()),
            versions=[],
            complete=True,
            watermark_ms=newest or None,
            problems=problems,
        )
