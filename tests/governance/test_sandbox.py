"""Escape attempts against the verification sandbox: each is contained, and the run still ends."""

import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from governance.sandbox import Limits, namespaces_available, run_script
from tests.conftest import skip_or_fail

FAST = Limits(wall_seconds=10, cpu_seconds=3, memory_bytes=512 * 1024 * 1024, processes=32)


def run(code: str, limits: Limits = FAST, payload=None):
    return run_script(source=textwrap.dedent(code), payload=payload or {"version": "1"}, limits=limits)


@pytest.fixture
def isolated():
    if not namespaces_available():
        skip_or_fail("namespaces need root and util-linux unshare/setpriv (CI runs as root)")


def test_reads_its_input_and_reports_json():
    result = run("""
        import json, sys
        data = json.load(sys.stdin)
        print("warming up")
        print(json.dumps({"passed": True, "checks": [{"name": "echo", "value": data["version"]}]}))
    """)
    assert result.exit_code == 0 and not result.timed_out
    assert result.json_output() == {"passed": True, "checks": [{"name": "echo", "value": "1"}]}


def test_cpu_spin_is_stopped_by_the_cpu_limit():
    result = run("while True: pass", Limits(wall_seconds=20, cpu_seconds=1))
    assert result.exit_code is not None and result.exit_code != 0
    assert not result.timed_out and result.duration_seconds < 15


def test_memory_bomb_fails_inside_the_limit():
    result = run("""
        blocks = []
        while True:
            blocks.append(bytearray(50 * 1024 * 1024))
    """)
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr


def test_fork_bomb_is_contained(isolated):
    result = run(
        """
        import os, time
        children = 0
        try:
            for _ in range(10_000):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError as exc:
            print("stopped after", children, exc)
            raise SystemExit(3)
    """,
        Limits(wall_seconds=20, processes=20),
    )
    assert result.exit_code == 3
    assert "stopped after" in result.stdout
    assert result.duration_seconds < 15


def test_wall_clock_timeout_kills_the_whole_group_including_grandchildren(isolated):
    result = run(
        """
        import os, subprocess, sys, time
        # A grandchild that leaves the session and keeps stdout open, then the script hangs.
        subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(60)"],
                         stdout=sys.stdout, stderr=sys.stderr)
        time.sleep(60)
    """,
        Limits(wall_seconds=2),
    )
    assert result.timed_out
    assert result.duration_seconds < 10
    time.sleep(0.5)
    leftovers = [
        p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).endswith("time.sleep(60)")
    ]
    assert leftovers == []


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def test_no_network(isolated):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    result = run(f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2)
            print("connected")
        except OSError as exc:
            print("blocked", exc)
    """)
    server.close()
    assert "blocked" in result.stdout and not accepted


def test_environment_and_app_secrets_are_out_of_reach(isolated, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "super-secret-value")
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db/prod")
    secret_file = Path(settings.VAR_DIR) / "sandbox-secret-probe.txt"
    secret_file.write_text("db password")
    try:
        result = run(f"""
            import json, os
            seen = {{"env": dict(os.environ)}}
            for path in ["{secret_file}", "/proc/{os.getpid()}/environ"]:
                try:
                    seen[path] = open(path, "rb").read()[:50].decode(errors="replace")
                except OSError as exc:
                    seen[path] = type(exc).__name__
            print(json.dumps(seen))
        """)
    finally:
        secret_file.unlink()
    seen = result.json_output()
    assert "SECRET_KEY" not in seen["env"] and "DATABASE_URL" not in seen["env"]
    assert seen[str(secret_file)] == "FileNotFoundError"  # the app's data directory is hidden
    assert seen[f"/proc/{os.getpid()}/environ"] in ("PermissionError", "FileNotFoundError")
    assert "super-secret-value" not in result.stdout


def test_writes_outside_the_work_directory_do_not_reach_the_host(isolated):
    host_probe = Path("/tmp") / f"sandbox-escape-{os.getpid()}"
    project_probe = Path(settings.BASE_DIR) / f"sandbox-escape-{os.getpid()}"
    result = run(f"""
        import json
        outcome = {{}}
        for path in ["{host_probe}", "{project_probe}", "/etc/escape", "inside.txt"]:
            try:
                open(path, "w").write("x")
                outcome[path] = "written"
            except OSError as exc:
                outcome[path] = type(exc).__name__
        print(json.dumps(outcome))
    """)
    outcome = result.json_output()
    assert outcome["inside.txt"] == "written"
    assert outcome[str(project_probe)] == "PermissionError" and outcome["/etc/escape"] == "PermissionError"
    assert not host_probe.exists() and not project_probe.exists()  # /tmp was a private tmpfs


def test_large_output_is_kept_as_a_tail():
    result = run("print('x' * 200_000); print('{\"passed\": false}')")
    assert len(result.stdout) <= 16 * 1024
    assert result.json_output() == {"passed": False}


def test_work_directory_is_removed():
    base = Path(settings.MODELHOUSE_SANDBOX_DIR or "/tmp") / "modelhouse-sandbox"
    before = set(base.iterdir()) if base.exists() else set()
    run("print(1)")
    assert set(base.iterdir()) == before
