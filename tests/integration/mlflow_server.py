"""A real `mlflow server` on 127.0.0.1 (SQLite backend in a temp dir), started once per test session.

tests/integration/conftest.py and tests/browser/conftest.py both import these fixtures. pytest keeps one
fixture instance per conftest, so the server process itself is shared: the first to ask starts it, the
last to finish stops it.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import skip_or_fail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_shared: dict = {"url": None, "proc": None, "users": 0}


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    if _shared["users"] == 0:
        _shared["url"], _shared["proc"] = _start(tmp_path_factory)
    _shared["users"] += 1
    try:
        yield _shared["url"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _stop(_shared["proc"])
            _shared["proc"] = _shared["url"] = None


def _start(tmp_path_factory):
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    if not mlflow_bin.exists() and not shutil.which("mlflow"):
        skip_or_fail("the mlflow package is not installed (pip install -e '.[test]')")
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MLFLOW_"))}
    env["MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"] = "true"
    proc = subprocess.Popen(
        [
            str(mlflow_bin if mlflow_bin.exists() else shutil.which("mlflow")),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root",
            str(root / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"mlflow server did not start:\n{(root / 'server.log').read_text()[-3000:]}")
        time.sleep(0.3)
    return url, proc


def _stop(proc) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


@pytest.fixture(scope="session")
def mlflow_client(mlflow_server):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(mlflow_server)
    os.environ["MLFLOW_TRACKING_URI"] = mlflow_server
    return MlflowClient(tracking_uri=mlflow_server)
