"""Single sign-on through OpenID Connect, on top of mozilla-django-oidc.

The library runs the authorization-code flow (state, nonce, PKCE, token exchange, JWKS); this module adds
what Modelhouse needs around it:

- the provider's endpoints may come from its discovery document (OIDC_OP_DISCOVERY_URL), fetched at the
  first sign-in and cached, so the portal starts while the provider is down;
- the ID token is checked for audience, issuer and expiry as well as signature and nonce;
- the person becomes a user through `portal.services.user_sso_sync`: username from OIDC_USERNAME_CLAIM
  (then a verified email, then `sub`), name and email from the claims, roles from the group claim through
  OIDC_ROLE_MAP, re-synced at every sign-in; someone whose groups map to no role is refused, and told whom
  to ask, instead of getting a role-less session;
- every failure (wrong state, tampered token, provider down, refused account) ends on the login page
  with a readable message, never a 500; sign-ins and refusals go to the `modelhouse.auth` log.

The views answer 404 while SSO is off (no OIDC_RP_CLIENT_ID), so the routes can stay mounted.
"""

import logging
import time

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .services import SsoAccountRefused, user_sso_sync

logger = logging.getLogger("modelhouse.auth")

# mozilla-django-oidc setting -> key in the provider's discovery document.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_ISSUER": "issuer",
}
DISCOVERY_TTL_SECONDS = 3600
_discovery_cache: dict[str, tuple[float, dict]] = {}

GENERIC_FAILURE = "Single sign-on did not complete, so you are not signed in. Please try again."
EXPIRED_STATE = "That single sign-on link has expired or was started in another browser. Please try again."


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered nonsense."""


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def provider_discovery(url: str) -> dict:
    """The provider's discovery document (`url` may be the issuer), cached per URL for an hour."""
    if "/.well-known/" not in url:
        url = url.rstrip("/") + "/.well-known/openid-configuration"
    cached = _discovery_cache.get(url)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(
            url,
            timeout=import_from_settings("OIDC_TIMEOUT", 10),
            verify=import_from_settings("OIDC_VERIFY_SSL", True),
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery document {url}: {exc}") from exc
    if not isinstance(document, dict) or not document.get("authorization_endpoint"):
        raise ProviderUnavailable(f"discovery document {url} names no authorization_endpoint")
    _discovery_cache[url] = (time.monotonic() + DISCOVERY_TTL_SECONDS, document)
    return document


def oidc_setting(attr: str, *default):
    """A mozilla-django-oidc setting; provider endpoints left empty come from the discovery document."""
    if attr in DISCOVERED:
        value = getattr(settings, attr, "")
        discovery_url = getattr(settings, "OIDC_OP_DISCOVERY_URL", "")
        if not value and discovery_url:
            value = provider_discovery(discovery_url).get(DISCOVERED[attr], "")
        if value:
            return value
        if default:
            return default[0]
        raise ImproperlyConfigured(f"{attr} is not set and no OIDC_OP_DISCOVERY_URL names it.")
    return import_from_settings(attr, *default)


def claim(claims: dict, dotted: str):
    """claims["a"]["b"] for "a.b"; None when any step is missing."""
    value = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def roles_from_claims(claims: dict) -> set[str]:
    """The Modelhouse roles that the groups in OIDC_GROUPS_CLAIM map to (a user gets all of them)."""
    groups = claim(claims, settings.OIDC_GROUPS_CLAIM)
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list | tuple):
        return set()
    role_map = settings.OIDC_ROLE_MAP
    return {role for group in groups if isinstance(group, str) for role in role_map.get(group, ())}


def managed_roles() -> set[str]:
    """The roles the provider decides: every role OIDC_ROLE_MAP can grant."""
    return {role for roles in settings.OIDC_ROLE_MAP.values() for role in roles}


def no_role_message(username: str) -> str:
    return (
        f"You signed in as {username}, but your account has no Modelhouse role: none of your groups at "
        f"{settings.OIDC_PROVIDER_NAME} is mapped to one. Ask {settings.OIDC_ROLE_CONTACT} to add you to a "
        f"Modelhouse group."
    )


class SignInRefused(Exception):
    """Ends one SSO attempt with a message for the person."""


class ModelhouseOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, with Modelhouse's user and role rules (see the module docstring)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Endpoints are read lazily (discovery may be needed); the library's __init__ reads them eagerly.
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = getattr(settings, "OIDC_RP_CLIENT_ID", "")
        self.OIDC_RP_CLIENT_SECRET = getattr(settings, "OIDC_RP_CLIENT_SECRET", "")
        self.OIDC_RP_SIGN_ALGO = getattr(settings, "OIDC_RP_SIGN_ALGO", "RS256")
        self.OIDC_RP_IDP_SIGN_KEY = getattr(settings, "OIDC_RP_IDP_SIGN_KEY", None)

    def _load_provider(self):
        super().__init__()
        self.OIDC_OP_ISSUER = self.get_settings("OIDC_OP_ISSUER", "")

    def authenticate(self, request, **kwargs):
        # Only the callback view's call (it passes the nonce) is ours; password sign-ins pass through.
        if request is None or "nonce" not in kwargs or "password" in kwargs or not sso_enabled():
            return None
        try:
            self._load_provider()
            return super().authenticate(request, **kwargs)
        except SignInRefused as exc:
            request.oidc_failure = str(exc)
        except ProviderUnavailable as exc:
            logger.error("SSO provider unavailable: %s", exc)
            request.oidc_failure = (
                f"{settings.OIDC_PROVIDER_NAME} could not be reached, so you are not signed in. "
                "Try again in a moment."
            )
        except (
            SuspiciousOperation,
            jwt.PyJWTError,
            requests.RequestException,
            ValueError,
            KeyError,
            IntegrityError,  # the same person's first sign-in, twice at once
        ) as exc:
            # A bad or replayed code, a token that fails verification, a provider error: no session.
            logger.warning("SSO sign-in failed: %s: %s", type(exc).__name__, exc)
            request.oidc_failure = GENERIC_FAILURE
        return None

    # Django's own (checks is_active on every request), not the library's: deactivating someone ends their
    # SSO sessions at once.
    get_user = ModelBackend.get_user

    def get_payload_data(self, token, key):
        """Verify signature, algorithm, audience (our client id), issuer when known, expiry and iat."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                f"ID token algorithm {header.get('alg')!r} is not OIDC_RP_SIGN_ALGO={self.OIDC_RP_SIGN_ALGO}."
            )
        required = ["exp", "iat", "aud"] + (["iss"] if self.OIDC_OP_ISSUER else [])
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.OIDC_OP_ISSUER or None,
                leeway=60,
                options={"require": required},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token rejected: {exc}") from exc

    def get_userinfo(self, access_token, id_token, payload):
        """The userinfo claims over the ID token's: some providers (Azure AD) put groups only in the token."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict):
            raise SuspiciousOperation("The userinfo endpoint did not answer with a JSON object.")
        # OpenID Connect Core 5.3.2: userinfo must be about the ID token's subject.
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo sub does not match the ID token's sub.")
        return {**payload, **userinfo}

    def get_username(self, claims):
        username = claim(claims, settings.OIDC_USERNAME_CLAIM)
        if not username and claims.get("email") and claims.get("email_verified") is not False:
            username = claims["email"]
        username = username or claims.get("sub")
        if not isinstance(username, str) or not username.strip():
            raise SignInRefused(GENERIC_FAILURE)
        return username.strip()

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        username = self.get_username(claims)
        # An email the provider says is unverified is not copied: notifications would go to a stranger.
        email = claims.get("email") if claims.get("email_verified") is not False else ""
        if not isinstance(email, str) or len(email) > 254:
            email = ""
        full_name = claims.get("name") or " ".join(
            part for part in (claims.get("given_name"), claims.get("family_name")) if isinstance(part, str)
        )
        roles = roles_from_claims(claims)
        groups = claim(claims, settings.OIDC_GROUPS_CLAIM)
        try:
            result = user_sso_sync(
                username=username,
                roles=roles,
                managed_roles=managed_roles(),
                email=email,
                full_name=full_name if isinstance(full_name, str) else "",
            )
        except SsoAccountRefused as exc:
            logger.warning("SSO sign-in refused for %r (%s; groups %s)", username, exc.reason, groups)
            if exc.reason == "no_role":
                raise SignInRefused(no_role_message(username)) from exc
            raise SignInRefused(f"{exc} Ask {settings.OIDC_ROLE_CONTACT} for help.") from exc
        except ValidationError as exc:
            logger.warning("SSO sign-in refused for %r: %s", username, exc)
            raise SignInRefused(GENERIC_FAILURE) from exc
        user = result.user
        if result.created:
            logger.info("SSO sign-in created %s with roles %s", user.username, sorted(result.roles_after))
        elif result.roles_before != result.roles_after:
            logger.info(
                "SSO sign-in changed the roles of %s from %s to %s",
                user.username,
                sorted(result.roles_before),
                sorted(result.roles_after),
            )
        else:
            logger.info("SSO sign-in by %s", user.username)
        return user


@method_decorator(login_not_required, name="dispatch")
class SsoLoginView(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/?next=...: sends the browser to the provider."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the library reads the endpoint here; we read it per request

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable as exc:
            logger.error("SSO provider unavailable: %s", exc)
            messages.error(
                request,
                f"{settings.OIDC_PROVIDER_NAME} could not be reached, so you are not signed in. "
                "Try again in a moment.",
            )
            return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL_FAILURE))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class SsoCallbackView(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/?code=...&state=...: the provider sends the browser back here."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        state = request.GET.get("state")
        if request.GET.get("error") and state not in request.session.get("oidc_states", {}):
            # Not an answer to a sign-in this browser started: the library would sign the person out, and
            # the error text would be whatever the link's author wrote.
            logger.warning("SSO callback with an error for an unknown state refused")
            request.oidc_failure = EXPIRED_STATE
            return self.login_failure()
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            # An unknown state: a replayed or forged callback, or a sign-in started in another browser.
            logger.warning("SSO callback refused: %s", exc)
            request.oidc_failure = EXPIRED_STATE
            return self.login_failure()

    @property
    def failure_url(self):
        return resolve_url(self.get_settings("LOGIN_REDIRECT_URL_FAILURE", "login"))

    def login_failure(self):
        reason = getattr(self.request, "oidc_failure", None)
        if reason is None and self.request.GET.get("error"):
            error = self.request.GET.get("error", "")[:100]
            reason = f"{settings.OIDC_PROVIDER_NAME} did not sign you in ({error})."
        messages.error(self.request, reason or GENERIC_FAILURE)
        return super().login_failure()


# Mounted at /oidc/ by portal.urls (always; the views 404 while SSO is off).
urlpatterns = [
    path("authenticate/", SsoLoginView.as_view(), name="oidc_authentication_init"),
    path("callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
]
