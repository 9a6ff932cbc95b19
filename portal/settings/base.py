"""Settings shared by every environment. Everything comes from the environment with safe local defaults."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
import plotly
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("MODELHOUSE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-only-key-do-not-use-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "portal.apps.PortalConfig",
    "catalog.apps.CatalogConfig",
    "governance.apps.GovernanceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (policy below, after the SSO settings it reads).
    "csp.middleware.CSPMiddleware",
    "portal.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.roles",
            ],
        },
    },
]

# The embedded default is a SQLite file under var/, so `make run` needs nothing installed.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'modelhouse.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the embedded worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes) checks first; SSO (portal/settings/sso.py) appends its backend when enabled.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:model-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.min.js ships inside the plotly wheel: served locally, so the portal works offline.
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------------------------------
# With REDIS_URL, Redis is broker and lock store. Without it, the embedded default uses kombu's
# filesystem transport under var/, so `make run` has a real worker and beat with nothing to install.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Below the broker's visibility timeout, so a task is never redelivered while still running.
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "portal.api.ApiAutoSchema",  # documents the error responses too
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.pagination.KeysetApiPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Modelhouse API",
    "DESCRIPTION": "Model catalog and governance portal. Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Limits on what users may send: a clear 400 beats a slow page.
MODELHOUSE_MAX_DESCRIPTION_CHARS = 20_000
MODELHOUSE_PAGE_SIZE_MAX = 200
# Filter-bar choices (domains, owners, tags, ...) are cached this long: the catalog reads them on every page.
MODELHOUSE_FILTER_OPTIONS_SECONDS = env.int("MODELHOUSE_FILTER_OPTIONS_SECONDS", default=60)

# Verification sandbox: the interpreter scientists' scripts run with (readable by the sandbox user).
MODELHOUSE_SANDBOX_PYTHON = env.str("MODELHOUSE_SANDBOX_PYTHON", default="")
MODELHOUSE_SANDBOX_DIR = env.str("MODELHOUSE_SANDBOX_DIR", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# --- Single sign-on (OpenID Connect), configured by environment variables ----------------------------
from .sso import *  # noqa: E402,F403

# --- Security: CSP, login throttling, outbound fetches ----------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


# Pages carry no inline script, no on*= handler and no javascript: URL: everything runs from static files
# (charts read their figure from <script type="application/json">, which is data, not script).
# Plotly's default bundle needs no eval for the SVG traces we draw (scatter, bar); only its WebGL traces
# would (the plotly wheel ships no "strict" bundle). Styles, without 'unsafe-inline' (which would let any
# injected <style> or style= through):
# - Plotly adds its CSS rules by creating an EMPTY <style> element and calling sheet.insertRule() on it.
#   CSSOM calls are not governed by CSP, but the empty element is: the hash of "" allows exactly that.
# - Plotly turns <b>, <i>, <sup>... in chart and hover text into <tspan style="font-weight:bold">, set as
#   attributes: 'unsafe-hashes' with the hashes of exactly those fixed declarations allows them and nothing
#   else (a <span style="..."> smuggled into a model name stays blocked).
# - Styles set through element.style (Plotly, Swagger UI) are CSSOM too: allowed.
def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_PLOTLY_TEXT_STYLES = (
    "font-weight:bold",
    "font-style:italic",
    "font-style:italic;font-weight:bold",
    "font-size:70%",
    "text-decoration:underline",
    "text-decoration:line-through",
    "cursor:pointer",
)
_CSP_STYLES = [_csp_hash(""), "'unsafe-hashes'", *(_csp_hash(s) for s in _PLOTLY_TEXT_STYLES)]
# Extra origins, e.g. an SSO provider a form posts or redirects to (the OIDC authorization endpoint is added
# by itself), or a browser-side telemetry endpoint.
_CSP_FORM_ACTION_EXTRA = env.list("MODELHOUSE_CSP_FORM_ACTION", default=[])
_CSP_CONNECT_EXTRA = env.list("MODELHOUSE_CSP_CONNECT_SRC", default=[])
_sso_origins = sorted(
    {_origin(globals().get(name, "")) for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_DISCOVERY_URL")}
    - {""}
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, *_CSP_STYLES],
        # data: for Swagger UI's and Plotly's built-in SVG icons and Plotly's "download as PNG".
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, *_CSP_CONNECT_EXTRA],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *_sso_origins, *_CSP_FORM_ACTION_EXTRA],
    },
}
if env.str("MODELHOUSE_CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env.str("MODELHOUSE_CSP_REPORT_URI")]

# The portal uses no camera, microphone, location, payment or other powerful browser features: say so, so
# that nothing running in a page (or a page framed elsewhere) can ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=()"
)

# django-axes: after AXES_FAILURE_LIMIT failed sign-ins, the pair (username, client IP) is locked for the
# cool-off. Never the IP alone: colleagues behind one NAT must not lock each other out, and never the user
# alone: a stranger must not be able to lock someone out from anywhere. A success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
# Client IP behind reverse proxies, as django-axes documents it (django-ipware): name the header your proxy
# sets and how many proxies stand in front. Default: REMOTE_ADDR only, which a client cannot forge.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("AXES_IPWARE_META_PRECEDENCE_ORDER", default=["REMOTE_ADDR"])
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=None)
AXES_IPWARE_PROXY_ORDER = env.str("AXES_IPWARE_PROXY_ORDER", default="left-most")
AXES_IPWARE_PROXY_TRUSTED_IPS = env.list("AXES_IPWARE_PROXY_TRUSTED_IPS", default=[]) or None

# URLs the server itself fetches (MLflow registries, alert webhooks) must not reach loopback, private,
# link-local or other non-public addresses, unless the host is listed here: host names, ".suffix" domains
# or CIDR networks (e.g. "mlflow.internal,10.20.0.0/16"). See portal/security.py.
MODELHOUSE_FETCH_ALLOWED_HOSTS = env.list("MODELHOUSE_FETCH_ALLOWED_HOSTS", default=[])
