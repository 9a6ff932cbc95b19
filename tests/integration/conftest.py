"""A real Celery worker process on the real Redis broker, against the test database.

Needs PostgreSQL (the worker is another process, so SQLite's in-memory test database cannot be shared)
and REDIS_URL. Skipped otherwise, except in CI (MODELHOUSE_REQUIRE_SERVICES=1), where it fails.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from portal.celery import app as celery_app
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Start `celery worker` on a private queue; tasks sent from the test go to it. Yields the queue name."""
    yield from _worker(tmp_path, pool="solo")


@pytest.fixture
def prefork_worker(transactional_db, tmp_path):
    """A prefork worker with two pool processes. Yields (queue, worker process, log path)."""
    yield from _worker(tmp_path, pool="prefork", concurrency=2, details=True)


def _worker(tmp_path, *, pool: str, concurrency: int = 1, details: bool = False):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (set DATABASE_URL)")
    if not settings.REDIS_URL:
        skip_or_fail("needs Redis (set REDIS_URL)")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
    }
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Celery worker did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield (queue, proc, log) if details else queue
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {message}")


from tests.governance.conftest import domain, ready_model  # noqa: E402,F401  (fixtures)

from .mlflow_server import mlflow_client, mlflow_server  # noqa: E402,F401  (fixtures)
