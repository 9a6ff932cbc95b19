"""Run an untrusted Python script (a scientist's verification script) with as much isolation as the
machine allows, and report exactly which isolation applied.

Always: its own process group and session, a fresh temporary working directory removed afterwards, an
empty environment (no secrets, no DATABASE_URL), Python's isolated mode, resource limits (CPU time,
address space, open files, processes, file size) and a wall-clock timeout that kills the whole group.

When the worker runs as root (containers, CI): new PID, network and mount namespaces via util-linux
`unshare`, so the script has no network, cannot outlive its run (when PID 1 of the namespace exits the
kernel kills every process in it, even ones that called setsid), sees empty private /tmp, /var/tmp and
/dev/shm, cannot see the app's data directory, and runs as `nobody` with no_new_privs.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

NOBODY_UID = NOBODY_GID = 65534
TAIL_BYTES = 16 * 1024
WORKDIR_IN_SANDBOX = "/mnt"


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 60
    cpu_seconds: int = 60
    memory_bytes: int = 1024 * 1024 * 1024
    open_files: int = 64
    processes: int = 64
    file_size_bytes: int = 16 * 1024 * 1024


@dataclass
class SandboxResult:
    exit_code: int | None
    timed_out: bool
    duration_seconds: float
    stdout: str
    stderr: str
    isolation: list[str] = field(default_factory=list)

    @property
    def signal(self) -> str | None:
        if self.exit_code is not None and self.exit_code < 0:
            return signal.Signals(-self.exit_code).name
        return None

    def json_output(self) -> dict | None:
        """The last line of stdout that parses as a JSON object (scripts may print progress before it)."""
        for line in reversed(self.stdout.strip().splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    return value
        try:
            value = json.loads(self.stdout)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


@functools.cache
def namespaces_available() -> bool:
    """Whether this worker can give scripts their own PID, network and mount namespaces and drop to nobody."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    probe = subprocess.run(
        [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--net",
            "--mount",
            "--",
            "setpriv",
            f"--reuid={NOBODY_UID}",
            f"--regid={NOBODY_GID}",
            "--clear-groups",
            "--no-new-privs",
            "--",
            "true",
        ],
        capture_output=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0


def sandbox_python() -> str:
    """The interpreter scripts run with. It must be readable by the sandbox user (`nobody`): a virtualenv
    under a private home directory is not. MODELHOUSE_SANDBOX_PYTHON names one with the packages scripts
    need; by default the system's python3, else the worker's own."""
    configured = getattr(settings, "MODELHOUSE_SANDBOX_PYTHON", "")
    if configured:
        return configured
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """If the worker process dies, the kernel kills the sandbox too (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _limit(limits: Limits):
    def apply() -> None:
        _die_with_parent()
        for name, value in (
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_NOFILE, limits.open_files),
            (resource.RLIMIT_NPROC, limits.processes),
            (resource.RLIMIT_FSIZE, limits.file_size_bytes),
            (resource.RLIMIT_CORE, 0),
        ):
            resource.setrlimit(name, (value, value))

    return apply


def _hidden_paths() -> list[str]:
    """Host paths the script must not see: the app's data directory (database file, broker, cache)."""
    paths = [str(Path(settings.VAR_DIR).resolve())]
    return [p for p in paths if os.path.isdir(p)]


def _command(python: str, workdir: Path) -> tuple[list[str], list[str]]:
    script = [python, "-I", "-B", "script.py"]
    if not namespaces_available():
        return script, [
            "process group",
            "empty environment",
            "resource limits",
            "wall-clock timeout",
            "temporary directory",
        ]
    hide = " ".join(f"'{p}'" for p in _hidden_paths())
    setup = (
        "set -e; mount --make-rprivate /; "
        f"mount --bind '{workdir}' {WORKDIR_IN_SANDBOX}; "
        f'for d in /tmp /var/tmp /dev/shm {hide}; do [ -d "$d" ] && mount -t tmpfs -o size=16m,mode=1777 '
        'tmpfs "$d"; done; '
        f"cd {WORKDIR_IN_SANDBOX}; "
        f'exec setpriv --reuid={NOBODY_UID} --regid={NOBODY_GID} --clear-groups --no-new-privs -- "$@"'
    )
    command = [
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        "--net",
        "--mount",
        "--",
        "/bin/sh",
        "-c",
        setup,
        "sandbox",
        *script,
    ]
    return command, [
        "process group",
        "empty environment",
        "resource limits",
        "wall-clock timeout",
        "temporary directory",
        "pid namespace",
        "no network",
        "private /tmp",
        "app data hidden",
        "runs as nobody",
    ]


def _tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        return handle.read().decode("utf-8", errors="replace")


def run_script(*, source: str, payload: dict, limits: Limits | None = None) -> SandboxResult:
    """Run `source` as script.py with `payload` as JSON on stdin (and in input.json). Never raises for
    anything the script does; the result says how it ended."""
    limits = limits or Limits()
    base = Path(settings.MODELHOUSE_SANDBOX_DIR or tempfile.gettempdir()) / "modelhouse-sandbox"
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=base))
    logs = Path(tempfile.mkdtemp(prefix="logs-", dir=base))  # outside the script's reach
    try:
        data = json.dumps(payload, default=str)
        (workdir / "script.py").write_text(source)
        (workdir / "input.json").write_text(data)
        command, isolation = _command(sandbox_python(), workdir)
        if "runs as nobody" in isolation:
            for path in (workdir, workdir / "script.py", workdir / "input.json"):
                os.chown(path, NOBODY_UID, NOBODY_GID)
        stdout_path, stderr_path = logs / "stdout", logs / "stderr"
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "TMPDIR": str(workdir),
            "MODELHOUSE_INPUT": "input.json",
            "PYTHONHASHSEED": "0",
        }
        started = time.monotonic()
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(  # noqa: S603 - the command is built here, not from input
                command,
                cwd=workdir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                start_new_session=True,
                preexec_fn=_limit(limits),  # noqa: PLW1509
            )
            timed_out = False
            try:
                process.communicate(input=data.encode(), timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process)
        return SandboxResult(
            exit_code=process.returncode,
            timed_out=timed_out,
            duration_seconds=time.monotonic() - started,
            stdout=_tail(stdout_path),
            stderr=_tail(stderr_path),
            isolation=isolation,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the whole process group (grandchildren too), then reap the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
