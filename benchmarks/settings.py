"""Settings for `manage.py bench_portal`: the portal as it runs in production (DEBUG off, persistent
database connections), plus a timing middleware and the floor view, which are never part of the product.

The base settings are used rather than production's because production insists on HTTPS-only cookies
(the benchmark client talks plain HTTP to 127.0.0.1) and on collected static files (not measured here).
"""

from portal.settings.base import *  # noqa: F403
from portal.settings.base import BASE_DIR, DATABASES, MIDDLEWARE, TEMPLATES

DEBUG = False
ROOT_URLCONF = "benchmarks.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# As production: one connection per worker, kept between requests.
DATABASES["default"]["CONN_MAX_AGE"] = 60
# First, so its time covers every other middleware, the view and the template.
MIDDLEWARE = ["benchmarks.middleware.ServerTimingMiddleware", *MIDDLEWARE]
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "benchmarks" / "templates"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The client signs in once per role with a prepared session; nothing here may lock it out.
AXES_ENABLED = False
