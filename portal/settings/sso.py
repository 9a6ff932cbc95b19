"""OpenID Connect single sign-on (mozilla-django-oidc), configured by environment variables.

SSO is off unless OIDC_RP_CLIENT_ID is set. With it, the provider is described either by
OIDC_OP_DISCOVERY_URL (the issuer's /.well-known/openid-configuration, read lazily at the first sign-in,
so the portal starts even when the provider is down) or by the explicit endpoint variables. Group claims
become Modelhouse roles through OIDC_ROLE_MAP; see portal/oidc.py for how a sign-in is turned into a user.
Everything here is plain data, so tests flip SSO on with override_settings (tests/portal/oidc_provider.py).
"""

import json

from django.core.exceptions import ImproperlyConfigured

from .base import AUTHENTICATION_BACKENDS as _BASE_BACKENDS
from .base import env

# portal.roles.Role, which settings cannot import (it imports models).
_ROLES = ("scientist", "engineer", "manager", "compliance", "admin")


def parse_role_map(raw: str) -> dict[str, list[str]]:
    """OIDC_ROLE_MAP -> {group: [role, ...]}.

    Accepts `group=role,group=role` (commas or newlines; the last `=` splits, so `cn=x,...` style names need
    the JSON form) or a JSON object `{"group": "role"}` / `{"group": ["role", "role"]}`. Several groups may
    name the same role; one group may grant several roles by repeating it.
    """
    raw = (raw or "").strip()
    if not raw:
        return {}
    pairs: list[tuple[str, str]] = []
    if raw.startswith("{"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"OIDC_ROLE_MAP is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ImproperlyConfigured("OIDC_ROLE_MAP as JSON must be an object of group -> role(s).")
        for group, roles in data.items():
            for role in [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else [None]:
                if not isinstance(role, str):
                    raise ImproperlyConfigured(
                        f"OIDC_ROLE_MAP: group {group!r} must map to a role name or a list of role names."
                    )
                pairs.append((group, role))
    else:
        separator = "\n" if "\n" in raw else ","
        for entry in raw.split(separator):
            entry = entry.strip()
            if not entry:
                continue
            group, eq, role = entry.rpartition("=")
            if not eq or not group.strip():
                raise ImproperlyConfigured(
                    f"OIDC_ROLE_MAP entry {entry!r} is not group=role "
                    f"(e.g. OIDC_ROLE_MAP=ds-scientists=scientist,ml-engineers=engineer)."
                )
            pairs.append((group.strip(), role))
    mapping: dict[str, list[str]] = {}
    for group, role in pairs:
        role = role.strip().lower()
        if role not in _ROLES:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_MAP maps group {group!r} to unknown role {role!r}; roles are {', '.join(_ROLES)}."
            )
        if not group:
            raise ImproperlyConfigured("OIDC_ROLE_MAP has an empty group name.")
        mapping.setdefault(group, [])
        if role not in mapping[group]:
            mapping[group].append(role)
    return mapping


OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
# The issuer's discovery document; explicit endpoint variables below win over what it says.
OIDC_OP_DISCOVERY_URL = env.str("OIDC_OP_DISCOVERY_URL", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")  # checked against the ID token's `iss` when known
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=False)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_VERIFY_SSL = env.bool("OIDC_VERIFY_SSL", default=True)

OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")
# A dotted path reaches nested claims, e.g. Keycloak's realm roles: OIDC_GROUPS_CLAIM=realm_access.roles
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ROLE_MAP = parse_role_map(env.str("OIDC_ROLE_MAP", default=""))
# Who to ask when an account has no mapped group; shown on the login page.
OIDC_ROLE_CONTACT = env.str("OIDC_ROLE_CONTACT", default="your Modelhouse administrator")
# Keep the username/password form (and Django's password backend) next to SSO.
OIDC_LOCAL_LOGIN = env.bool("OIDC_LOCAL_LOGIN", default=True)

# Our views (portal.oidc) wrap mozilla-django-oidc's: 404 while SSO is off, readable errors on the login page.
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "login"

OIDC_BACKEND = "portal.oidc.ModelhouseOIDCBackend"
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)

if OIDC_ENABLED:
    _missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name] and not OIDC_OP_DISCOVERY_URL
    ]
    if _missing:
        raise ImproperlyConfigured(
            "OIDC_RP_CLIENT_ID is set, so single sign-on is on, but the provider is not described: set "
            "OIDC_OP_DISCOVERY_URL (the issuer's /.well-known/openid-configuration) or "
            f"{', '.join(_missing)}."
        )
    if not OIDC_ROLE_MAP:
        raise ImproperlyConfigured(
            "OIDC_ROLE_MAP is empty, so nobody signing in through SSO would get a role. "
            "Set it, e.g. OIDC_ROLE_MAP=ds-scientists=scientist,ml-engineers=engineer."
        )
    if OIDC_RP_SIGN_ALGO.startswith("HS") and not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured(f"OIDC_RP_SIGN_ALGO={OIDC_RP_SIGN_ALGO} needs OIDC_RP_CLIENT_SECRET.")
    # After django-axes, so a locked-out client is stopped before the provider is asked anything.
    AUTHENTICATION_BACKENDS = [
        b for b in _BASE_BACKENDS if OIDC_LOCAL_LOGIN or b != "django.contrib.auth.backends.ModelBackend"
    ] + [OIDC_BACKEND]
