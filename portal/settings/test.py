"""Test settings: PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set (CI), SQLite otherwise."""

import os

# Single sign-on stays off in tests whatever a developer's .env or shell says; the SSO tests switch it on
# against their own provider (tests/portal/oidc_provider.py).
os.environ["OIDC_RP_CLIENT_ID"] = ""

from .base import *  # noqa: E402,F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks inline; tests under tests/integration start a real worker instead.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
WHITENOISE_AUTOREFRESH = True
# The integration tests run a real `mlflow server` and webhook receivers on 127.0.0.1; the tests that
# prove private addresses are refused empty this list with override_settings.
MODELHOUSE_FETCH_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "::1"]
