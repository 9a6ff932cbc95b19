"""Local development and `make run`: the embedded default (SQLite, filesystem broker) unless env says so."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# `make run` and a local `mlflow server` live on this machine: let the server fetch from it.
MODELHOUSE_FETCH_ALLOWED_HOSTS = env.list(
    "MODELHOUSE_FETCH_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "::1"]
)
