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


# The login page, rendered under production settings (static files from the finders: no collectstatic here).
HEADERS_SCRIPT = """
import json
from django.test import Client, override_settings
storage = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
with override_settings(STORAGES={"default": storage, "staticfiles": storage}):
    response = Client().get("/login/", secure=True, HTTP_HOST="modelhouse.example.com")
cookies = {name: {k: morsel[k] for k in ("secure", "httponly", "samesite", "path", "domain")}
           for name, morsel in response.cookies.items()}
print(json.dumps({"status": response.status_code, "headers": dict(response.headers), "cookies": cookies}))
"""


def production_shell(script: str):
    settings_flag = "--settings=portal.settings.production"
    return manage("shell", "-c", script, settings_flag, env_overrides=PRODUCTION_ENV)


def test_production_responses_carry_the_security_headers_and_cookie_flags():
    import json

    result = production_shell(HEADERS_SCRIPT)
    assert result.returncode == 0, result.stdout + result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"] and "geolocation=()" in headers["permissions-policy"]
    csp = {d.split()[0]: d.split()[1:] for d in headers["content-security-policy"].split("; ")}
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert not [v for values in csp.values() for v in values if "unsafe" in v and v != "'unsafe-hashes'"]
    assert "'unsafe-hashes'" not in csp["script-src"] + csp["default-src"]
    csrf = answer["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax" and csrf["path"] == "/"
    assert not csrf["domain"]  # __Host- cookies must not name a domain


def test_production_redirects_plain_http_to_https():
    script = (
        "from django.test import Client; "
        "r = Client().get('/login/', HTTP_HOST='modelhouse.example.com'); print(r.status_code, r['Location'])"
    )
    result = production_shell(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "301 https://modelhouse.example.com/login/"


def test_production_session_cookie_settings():
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE)"
    )
    result = production_shell(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "__Host-sessionid True True Lax"
