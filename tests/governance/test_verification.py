import textwrap

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import ModelVersion
from governance.models import RunStatus, VerificationRun
from governance.services.dod import dod_evaluate
from governance.services.gates import gates_evaluate
from governance.services.verification import (
    verification_execute,
    verification_queue,
    verification_queue_for_versions,
    verification_script_save,
)

pytestmark = pytest.mark.django_db

AUC_CHECK = textwrap.dedent("""
    import json, sys
    data = json.load(sys.stdin)
    auc = data["metrics"]["auc"]
    ok = auc >= 0.80
    print(json.dumps({"passed": ok, "checks": [
        {"name": "auc >= 0.80", "passed": ok, "value": auc, "threshold": 0.80},
        {"name": "trained on data", "passed": bool(data["datasets"]), "value": len(data["datasets"])},
    ]}))
""")


@pytest.fixture
def version(ready_model):
    return ModelVersion.objects.get(model=ready_model, version="2")


def save(actor, model, source=AUC_CHECK, **kw):
    return verification_script_save(
        actor=actor, model=model, name=kw.pop("name", "auc-floor"), source=source, **kw
    )


def execute_all(runs, **kw):
    return [verification_execute(run_id=r.pk, **kw) for r in runs]


def test_a_passing_script_is_evidence_for_dod_and_the_gate(
    scientist, engineer, ready_model, version, django_capture_on_commit_callbacks
):
    save(scientist, ready_model, checks_description="auc >= 0.80 on the holdout")
    with django_capture_on_commit_callbacks(execute=True):  # tasks run eagerly in tests
        (run,) = verification_queue(version=version, trigger="manual", actor=scientist)
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED and run.attempts == 1
    assert [c["name"] for c in run.checks] == ["auc >= 0.80", "trained on data"]
    assert run.checks[0]["value"] == 0.83 and run.duration_seconds > 0 and run.worker
    assert "empty environment" in run.isolation
    report = dod_evaluate(model=ready_model)
    assert report.complete, [c.evidence for c in report.missing]
    from governance.services.promotions import promotion_request

    promotion = promotion_request(
        actor=scientist, version=version, target="production", justification="Verified on the holdout set."
    )
    gates = {g.gate: g for g in gates_evaluate(promotion=promotion)}
    assert gates["verification"].status == "pass" and gates["definition_of_done"].status == "pass"


def test_a_failing_check_fails_the_run_and_the_gate(scientist, ready_model, version):
    ModelVersion.objects.get(pk=version.pk).metrics.filter(key="auc").update(value=0.7)
    save(scientist, ready_model)
    (run,) = execute_all(verification_queue(version=version, trigger="manual", actor=scientist))
    assert run.status == RunStatus.FAILED and run.summary == "Failed: auc >= 0.80."
    from governance.services.verification import verification_verdict

    assert verification_verdict(version=version) == (False, "Not passing on v2: auc-floor (failed).")


def test_a_hanging_script_times_out(scientist, ready_model, version):
    save(scientist, ready_model, source="import time\ntime.sleep(60)\n", timeout_seconds=5)
    (run,) = execute_all(verification_queue(version=version, trigger="manual", actor=scientist))
    assert run.status == RunStatus.TIMED_OUT and run.duration_seconds < 15


def test_a_crashing_script_is_retried_then_ends_as_error(scientist, ready_model, version, monkeypatch):
    from governance import tasks
    from portal.celery import app

    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: 0)
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    save(scientist, ready_model, source="raise SystemExit('boom')\n")
    (run,) = verification_queue(version=version, trigger="manual", actor=scientist)
    tasks.verification_run_task.apply(args=[run.pk], throw=False)
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR
    assert run.attempts == tasks.VERIFICATION_MAX_RETRIES + 1
    assert "without a JSON verdict" in run.summary and "boom" in run.stderr_tail


def test_a_run_is_recorded_once_even_if_delivered_twice(scientist, ready_model, version):
    save(scientist, ready_model)
    (run,) = verification_queue(version=version, trigger="manual", actor=scientist)
    first = verification_execute(run_id=run.pk)
    again = verification_execute(run_id=run.pk)  # a redelivery after the run ended
    assert first.status == again.status == RunStatus.PASSED
    assert VerificationRun.objects.get(pk=run.pk).attempts == 1


def test_queueing_twice_does_not_duplicate(scientist, ready_model, version):
    save(scientist, ready_model)
    assert len(verification_queue(version=version, trigger="manual", actor=scientist)) == 1
    assert verification_queue(version=version, trigger="manual", actor=scientist) == []


def test_new_versions_and_promotion_requests_queue_runs(scientist, ready_model, version):
    save(scientist, ready_model)
    assert verification_queue_for_versions([version.pk]) == 1
    assert VerificationRun.objects.get().trigger == "new_version"


def test_bad_scripts_are_refused(scientist, ready_model, make_user):
    with pytest.raises(ValidationError) as exc:
        save(scientist, ready_model, source="def broken(:\n")
    assert "line 1" in exc.value.message_dict["source"][0]
    with pytest.raises(ValidationError):
        save(scientist, ready_model, timeout_seconds=1)
    with pytest.raises(PermissionDenied):
        save(make_user("scientist", username="stranger"), ready_model)


def test_a_changed_script_invalidates_queued_runs(scientist, ready_model, version):
    save(scientist, ready_model)
    (run,) = verification_queue(version=version, trigger="manual", actor=scientist)
    save(scientist, ready_model, source=AUC_CHECK + "\n# v2\n")
    assert verification_execute(run_id=run.pk).status == RunStatus.ERROR


def test_a_script_only_verifies_its_own_models_versions(scientist, ready_model, version, domain):
    from catalog.services import model_create

    other = model_create(actor=scientist, name="other-model", domain=domain)
    foreign = save(scientist, other, name="foreign")
    with pytest.raises(ValidationError, match="own model"):
        verification_queue(version=version, trigger="manual", scripts=[foreign])


MANIFEST = """\
name: ranker
domain: PERS
owners: [{username: sara}]
verification:
  - {name: floor, path: checks/floor.py, timeout_seconds: 30, checks: "auc >= 0.8"}
"""


@pytest.fixture
def manifests(tmp_path, scientist, domain):
    from catalog.models import RegistrySource

    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "floor.py").write_text(AUC_CHECK)
    (tmp_path / "ranker.yaml").write_text(MANIFEST)
    return tmp_path, RegistrySource.objects.create(name="team", kind="manifests", base_url=str(tmp_path))


def test_scripts_named_in_a_manifest_are_stored_for_the_model(manifests):
    from catalog.services.registry_sync import registry_sync
    from governance.models import AuditEvent, VerificationScript

    folder, source = manifests
    run = registry_sync(source=source)
    assert run.status == "succeeded" and not run.problems
    script = VerificationScript.objects.get(model__name="ranker", name="floor")
    assert (
        script.source == AUC_CHECK
        and script.timeout_seconds == 30
        and script.checks_description == "auc >= 0.8"
    )
    assert script.created_by.username == "sara"
    registry_sync(source=source)  # unchanged: no new revision, no new audit event
    assert AuditEvent.objects.filter(action="verification.script_saved").count() == 1
    (folder / "checks" / "floor.py").write_text(AUC_CHECK + "\n# stricter next quarter\n")
    registry_sync(source=source)
    script.refresh_from_db()
    assert script.revision == VerificationScript.hash_source(AUC_CHECK + "\n# stricter next quarter\n")


@pytest.mark.parametrize(
    "path, reason",
    [("checks/missing.py", "does not exist"), ("../outside.py", "path"), ("/etc/passwd.py", "path")],
)
def test_bad_script_paths_are_reported_and_the_model_still_syncs(manifests, path, reason):
    from catalog.models import RegisteredModel
    from catalog.services.registry_sync import registry_sync

    folder, source = manifests
    (folder / "ranker.yaml").write_text(MANIFEST.replace("checks/floor.py", path))
    run = registry_sync(source=source)
    assert any(reason in p["reason"] for p in run.problems), run.problems
    assert RegisteredModel.objects.filter(name="ranker").exists() != (reason == "path")


def test_a_symlink_out_of_the_folder_is_refused(manifests, tmp_path_factory):
    from catalog.services.registry_sync import registry_sync

    folder, source = manifests
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.py"
    secret.write_text("print('{}')")
    (folder / "checks" / "floor.py").unlink()
    (folder / "checks" / "floor.py").symlink_to(secret)
    run = registry_sync(source=source)
    assert any("outside the manifest folder" in p["reason"] for p in run.problems)
