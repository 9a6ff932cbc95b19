"""Verification runs on a real Celery worker (prefork, Redis broker): a killed pool process does not lose
its run, and a hundred queued runs each finish exactly once."""

import os
import signal
import subprocess

import pytest
from django.db.models import Max

from governance.models import RunStatus, VerificationRun
from governance.services.verification import verification_queue, verification_script_save

from .conftest import wait_until

pytestmark = pytest.mark.integration

SLOW_PASS = "import time, json\ntime.sleep(4)\nprint(json.dumps({'passed': True, 'checks': []}))\n"
FAST_PASS = "import json\nprint(json.dumps({'passed': True, 'checks': []}))\n"


def pool_children(worker_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(worker_pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def busy_child(worker_pid: int) -> int | None:
    """The pool process running the sandbox: its child is the sandbox's `unshare` (or python) process."""
    for child in pool_children(worker_pid):
        if pool_children(child):
            return child
    return None


def test_the_worker_really_is_prefork(prefork_worker):
    _, worker, _ = prefork_worker
    assert len(pool_children(worker.pid)) == 2


def test_a_killed_pool_process_does_not_lose_the_run(prefork_worker, scientist, ready_model):
    from catalog.models import ModelVersion

    queue, worker, log = prefork_worker
    version = ModelVersion.objects.get(model=ready_model, version="2")
    verification_script_save(
        actor=scientist, model=ready_model, name="slow", source=SLOW_PASS, timeout_seconds=30
    )
    (run,) = verification_queue(version=version, trigger="manual")

    wait_until(
        lambda: busy_child(worker.pid) is not None, timeout=30, message="the run to start in a pool process"
    )
    os.kill(busy_child(worker.pid), signal.SIGKILL)

    wait_until(
        lambda: VerificationRun.objects.get(pk=run.pk).status in (RunStatus.PASSED, RunStatus.ERROR),
        timeout=60,
        message=f"the redelivered run to finish\n{log.read_text()[-3000:]}",
    )
    run.refresh_from_db()
    assert run.status == RunStatus.PASSED
    assert run.attempts == 2  # the killed attempt, then the redelivery
    assert VerificationRun.objects.filter(version=version).count() == 1


def test_a_hundred_queued_runs_all_finish_exactly_once(prefork_worker, scientist, ready_model):
    from catalog.models import ModelVersion

    version = ModelVersion.objects.get(model=ready_model, version="2")
    scripts = [
        verification_script_save(actor=scientist, model=ready_model, name=f"check-{i:03d}", source=FAST_PASS)
        for i in range(100)
    ]
    runs = verification_queue(version=version, trigger="manual", scripts=scripts)
    assert len(runs) == 100

    def all_done() -> bool:
        return not VerificationRun.objects.exclude(status__in=(RunStatus.PASSED,)).exists()

    wait_until(all_done, timeout=240, interval=1, message="100 runs to finish")
    assert VerificationRun.objects.filter(status=RunStatus.PASSED).count() == 100
    assert VerificationRun.objects.aggregate(m=Max("attempts"))["m"] == 1
