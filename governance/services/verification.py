"""Verification scripts and their runs. Runs execute in the sandbox on a worker; each run's outcome is
recorded exactly once, whatever retries or redeliveries happen on the way."""

from __future__ import annotations

import socket

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog import policies as catalog_policies
from catalog.models import ModelVersion
from portal.text import contains_nul

from .. import policies
from ..models import FINAL_STATUSES, RunStatus, VerificationRun, VerificationScript
from ..sandbox import Limits, run_script
from .audit import audit_record

MAX_SOURCE_CHARS = 200_000
MIN_TIMEOUT, MAX_TIMEOUT = 5, 1800


class ScriptCrashed(Exception):
    """The script ended without a verdict (crash, no JSON); retried a bounded number of times."""


@transaction.atomic
def verification_script_save(
    *,
    actor,
    model,
    name: str,
    source: str,
    checks_description: str = "",
    timeout_seconds: int = 120,
    is_active: bool = True,
) -> VerificationScript:
    """Add a script to a model or replace the one with this name (a new revision)."""
    policies.require(
        catalog_policies.can_edit_model(actor, model), "Only the model's owners manage its scripts."
    )
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = "1-100 characters."
    if not (source or "").strip():
        errors["source"] = "The script is empty."
    elif len(source) > MAX_SOURCE_CHARS:
        errors["source"] = f"At most {MAX_SOURCE_CHARS:,} characters."
    elif contains_nul(source):
        errors["source"] = "Null characters are not allowed."
    else:
        try:
            compile(source, f"{name}.py", "exec")
        except SyntaxError as exc:
            errors["source"] = f"Not valid Python: line {exc.lineno}: {exc.msg}."
    if not MIN_TIMEOUT <= int(timeout_seconds or 0) <= MAX_TIMEOUT:
        errors["timeout_seconds"] = f"Between {MIN_TIMEOUT} and {MAX_TIMEOUT} seconds."
    if errors:
        raise ValidationError(errors)
    revision = VerificationScript.hash_source(source)
    script, created = VerificationScript.objects.update_or_create(
        model=model,
        name=name,
        defaults={
            "source": source,
            "revision": revision,
            "checks_description": checks_description.strip(),
            "timeout_seconds": timeout_seconds,
            "is_active": is_active,
            "created_by": actor,
        },
    )
    audit_record(
        actor=actor,
        action="verification.script_saved",
        target=model,
        after={
            "script": name,
            "revision": revision,
            "timeout_seconds": timeout_seconds,
            "is_active": is_active,
            "new": created,
        },
    )
    return script


def version_payload(version: ModelVersion) -> dict:
    """What a script receives: the version's metadata, lineage and metrics."""
    model = version.model
    return {
        "model": {
            "name": model.name,
            "domain": model.domain.name,
            "primary_metric": model.primary_metric,
            "primary_metric_goal": model.primary_metric_goal,
            "contract": model.contract,
        },
        "version": {
            "version": version.version,
            "status": version.status,
            "source_uri": version.source_uri,
            "run_id": version.run_id,
            "artifact_digest": version.artifact_digest,
            "created_at": version.created_at.isoformat(),
            "code_commit": version.code_commit,
            "code_repository": version.code_repository,
        },
        "params": version.hyperparameters,
        "metrics": {m.key: m.value for m in version.metrics.all()},
        "datasets": [
            {"uri": link.dataset.uri, "name": link.dataset.name, "role": link.role, "digest": link.digest}
            for link in version.dataset_links.select_related("dataset")
        ],
    }


@transaction.atomic
def verification_queue(
    *, version: ModelVersion, trigger: str, actor=None, scripts: list[VerificationScript] | None = None
) -> list[VerificationRun]:
    """Queue a run of each active script (or the given ones) on `version`. A script already queued or
    running on this version at the same revision is not queued twice."""
    if actor is not None and trigger == "manual":
        policies.require(
            catalog_policies.can_edit_model(actor, version.model) or policies.can_retry_apply(actor),
            "Only the model's owners and engineers run verifications.",
        )
    if scripts is not None and any(s.model_id != version.model_id for s in scripts):
        raise ValidationError({"scripts": "A script only verifies versions of its own model."})
    scripts = (
        scripts if scripts is not None else list(version.model.verification_scripts.filter(is_active=True))
    )
    busy = set(
        VerificationRun.objects.filter(
            version=version, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
        ).values_list("script_id", "script_revision")
    )
    runs = [
        VerificationRun.objects.create(version=version, script=s, script_revision=s.revision, trigger=trigger)
        for s in scripts
        if (s.pk, s.revision) not in busy
    ]
    if runs:
        from ..tasks import verification_run_task

        ids = [r.pk for r in runs]
        transaction.on_commit(lambda: [verification_run_task.delay(pk) for pk in ids])
    return runs


def verification_queue_for_versions(version_ids: list[int], trigger: str = "new_version") -> int:
    """Queue the active scripts of each version's model (registry sync calls this for new versions)."""
    queued = 0
    versions = ModelVersion.objects.filter(pk__in=version_ids, model__verification_scripts__is_active=True)
    for version in versions.select_related("model").distinct():
        with transaction.atomic():
            queued += len(verification_queue(version=version, trigger=trigger))
    return queued


def verification_queue_scheduled() -> int:
    """The daily run: re-verify what is in production (the version behind the production alias)."""
    from catalog.models import ModelAlias

    ids = list(
        ModelAlias.objects.filter(alias="production", model__verification_scripts__is_active=True)
        .values_list("version_id", flat=True)
        .distinct()
    )
    return verification_queue_for_versions(ids, trigger="schedule")


def _claim(run_id: int) -> VerificationRun | None:
    """Mark the run running for this attempt; None if it already ended (a duplicate delivery)."""
    worker = f"{socket.gethostname()}"
    claimed = VerificationRun.objects.filter(
        pk=run_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)
    ).update(
        status=RunStatus.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), worker=worker[:200]
    )
    if not claimed:
        return None
    return VerificationRun.objects.select_related(
        "script", "version", "version__model", "version__model__domain"
    ).get(pk=run_id)


def _finish(run: VerificationRun, **fields) -> bool:
    """Record the outcome once: only the attempt that holds the run may write it."""
    fields.setdefault("finished_at", timezone.now())
    written = VerificationRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts
    ).update(**fields)
    return bool(written)


def _checks(output: dict) -> list[dict]:
    checks = output.get("checks", [])
    if not isinstance(checks, list):
        return []
    cleaned = []
    for check in checks[:100]:
        if isinstance(check, dict):
            cleaned.append(
                {k: check.get(k) for k in ("name", "passed", "value", "threshold", "message") if k in check}
            )
    return cleaned


def verification_execute(*, run_id: int, final_attempt: bool = True) -> VerificationRun | None:
    """Run one queued verification in the sandbox and record its outcome. Raises ScriptCrashed when the
    script ended without a verdict and another attempt is allowed."""
    run = _claim(run_id)
    if run is None:
        return VerificationRun.objects.filter(pk=run_id).first()
    if run.script_revision != run.script.revision:
        _finish(run, status=RunStatus.ERROR, summary="The script changed after this run was queued.")
        return VerificationRun.objects.get(pk=run_id)
    limits = Limits(
        wall_seconds=run.script.timeout_seconds,
        cpu_seconds=run.script.timeout_seconds,
        memory_bytes=getattr(settings, "MODELHOUSE_SANDBOX_MEMORY", 1024 * 1024 * 1024),
    )
    result = run_script(source=run.script.source, payload=version_payload(run.version), limits=limits)
    common = dict(
        duration_seconds=result.duration_seconds,
        exit_code=result.exit_code,
        stdout_tail=result.stdout[-8000:],
        stderr_tail=result.stderr[-8000:],
        isolation=result.isolation,
    )
    output = result.json_output()
    if result.timed_out:
        _finish(
            run,
            status=RunStatus.TIMED_OUT,
            summary=f"Stopped after {run.script.timeout_seconds} s.",
            **common,
        )
    elif output is not None and isinstance(output.get("passed"), bool):
        checks = _checks(output)
        failed = [c.get("name", "?") for c in checks if c.get("passed") is False]
        summary = (
            "All checks passed."
            if output["passed"]
            else f"Failed: {', '.join(map(str, failed))}."
            if failed
            else "The script reported a failure."
        )
        _finish(
            run,
            status=RunStatus.PASSED if output["passed"] else RunStatus.FAILED,
            checks=checks,
            summary=summary,
            **common,
        )
    else:
        reason = (
            f"Exited with {result.signal or result.exit_code} without a JSON verdict"
            f' ({{"passed": true|false, "checks": [...]}} on stdout).'
        )
        if not final_attempt:
            VerificationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
                status=RunStatus.QUEUED, summary=f"Attempt {run.attempts}: {reason} Retrying.", **common
            )
            raise ScriptCrashed(reason)
        _finish(run, status=RunStatus.ERROR, summary=f"Attempt {run.attempts}: {reason}", **common)
    return VerificationRun.objects.get(pk=run_id)


def latest_runs(*, version: ModelVersion, scripts=None, runs=None) -> list[tuple]:
    """(script, latest finished run or None) for each active script on `version`, at the script's current
    revision. Pass `scripts` and `runs` (finished runs, newest first) when they are already loaded."""
    if scripts is None:
        scripts = list(version.model.verification_scripts.filter(is_active=True))
    if runs is None:
        runs = list(
            VerificationRun.objects.filter(version=version, status__in=FINAL_STATUSES).order_by(
                "-finished_at", "-id"
            )
        )
    latest = []
    for script in scripts:
        run = next(
            (r for r in runs if r.script_id == script.pk and r.script_revision == script.revision), None
        )
        latest.append((script, run))
    return latest


def verification_verdict(*, version: ModelVersion | None, scripts=None, runs=None) -> tuple[bool, str]:
    """Whether every active script's latest run on `version` passed, with evidence."""
    if version is None:
        return False, "The model has no version to verify."
    results = latest_runs(version=version, scripts=scripts, runs=runs)
    if not results:
        return False, "No verification script for this model yet."
    missing = [s.name for s, r in results if r is None]
    failing = [
        f"{s.name} ({r.get_status_display().lower()})" for s, r in results if r and r.status != "passed"
    ]
    if missing:
        return False, f"Not yet run on v{version.version}: {', '.join(missing)}."
    if failing:
        return False, f"Not passing on v{version.version}: {', '.join(failing)}."
    return True, f"{len(results)} script(s) passed on v{version.version}."


def verification_scripts_from_manifest(*, model, scripts: list[dict]) -> list[str]:
    """Store the scripts a models-as-code manifest names (registry sync calls this). Unchanged scripts are
    left alone; a changed one becomes a new revision in its technical owner's name. Returns problems."""
    owner = model.ownerships.select_related("user").order_by("role", "user__username").first()
    if owner is None:
        return ["verification scripts need an owner to be recorded under"]
    existing = {s.name: s for s in VerificationScript.objects.filter(model=model)}
    problems = []
    for script in scripts:
        current = existing.get(script["name"])
        if current is not None and current.revision == VerificationScript.hash_source(script["source"]):
            continue
        try:
            with transaction.atomic():
                verification_script_save(
                    actor=owner.user,
                    model=model,
                    name=script["name"],
                    source=script["source"],
                    checks_description=script.get("checks_description", ""),
                    timeout_seconds=script.get("timeout_seconds", 120),
                )
        except ValidationError as exc:
            problems.append(f"verification script {script['path']!r}: {' '.join(exc.messages)}")
    return problems
