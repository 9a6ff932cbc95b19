import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 20 + "-production-grade-secret-key-for-tests-0123456789",
    "ALLOWED_HOSTS": "modelhouse.example.com",
    "DATABASE_URL": "postgres://modelhouse@db.example.com:5432/modelhouse",
}


def manage(*args, env_overrides=None):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"} and not k.startswith("DJANGO_")
    }
    env.update(env_overrides or {})
    env["MODELHOUSE_VAR_DIR"] = str(ROOT / "var" / "test-settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_environment():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        "--settings=portal.settings.production",
        env_overrides=PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", "--settings=portal.settings.production", env_overrides=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_weak_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": "short"}
    result = manage("check", "--settings=portal.settings.production", env_overrides=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
