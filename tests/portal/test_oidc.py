"""Single sign-on through OpenID Connect, against a real provider on 127.0.0.1 (oidc_provider.py here).

Each sign-in runs the whole authorization-code dance: Django's test client asks /oidc/authenticate/, the
browser's trip to the provider is made with `requests`, and the provider's redirect comes back to
/oidc/callback/, from where the portal itself calls the provider's token, JWKS and userinfo endpoints.
"""

import importlib.util
import logging
import os
import re
import socket
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

import portal.settings.sso as sso_settings_module
from portal.roles import Role, user_roles
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.portal.oidc_provider import TAMPERINGS, OIDCProvider, sso_settings

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
User = get_user_model()


@pytest.fixture(scope="module")
def provider():
    idp = OIDCProvider().start()
    yield idp
    idp.stop()


@pytest.fixture
def idp(provider):
    provider.reset()
    provider.redirect_uris = {CALLBACK}
    provider.auto_approve = None
    return provider


@pytest.fixture
def client_factory():
    """A new browser (test client with its own session) per call."""
    return Client


@pytest.fixture
def sso(settings, idp):
    for name, value in sso_settings(idp).items():
        setattr(settings, name, value)
    return idp


def provider_round_trip(client, idp, username: str | None, next_url: str | None = None):
    """/oidc/authenticate/ -> provider (signs `username` in) -> the callback URL the provider sends back."""
    response = client.get("/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response
    authorize = response["Location"]
    assert authorize.startswith(f"{idp.issuer}/authorize?")
    idp.auto_approve = username
    back = requests.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    location = back.headers["Location"]
    assert location.startswith(CALLBACK)
    return location


def sso_sign_in(client, idp, username: str, next_url: str | None = None):
    location = provider_round_trip(client, idp, username, next_url)
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def login_page_messages(client) -> str:
    return client.get("/login/").content.decode()


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- signing in ---------------------------------------------------------------------------------------------
def test_first_sign_in_creates_the_user_with_every_mapped_role(client, sso):
    sso.add_user(
        "alice",
        groups=["ds-scientists", "ml-engineers", "/unrelated/team"],
        name="Alice Liddell",
        email="alice@acme.test",
    )
    response = sso_sign_in(client, sso, "alice", next_url="/models/?q=churn")

    assert response.status_code == 302
    assert response["Location"] == "/models/?q=churn"
    user = signed_in_user(client)
    assert user.username == "alice"
    assert (user.first_name, user.last_name, user.email) == ("Alice", "Liddell", "alice@acme.test")
    assert set(user.groups.values_list("name", flat=True)) == {Role.SCIENTIST, Role.ENGINEER}
    assert not user.has_usable_password()
    assert not user.is_superuser
    page = client.get("/")
    assert page.status_code == 200
    assert "Alice Liddell" in page.content.decode()


def test_roles_follow_the_groups_at_every_sign_in(client_factory, sso, caplog):
    sso.add_user("bob", groups=["ds-scientists", "portal-admins"])
    first = client_factory()
    sso_sign_in(first, sso, "bob")
    bob = User.objects.get(username="bob")
    assert user_roles(bob) == {Role.SCIENTIST, Role.ADMIN}
    assert bob.is_superuser and bob.is_staff

    # Manager is not in OIDC_ROLE_MAP, so it is Modelhouse's to give, and SSO leaves it alone.
    bob.groups.add(bob.groups.model.objects.get(name=Role.MANAGER))
    sso.set_groups("bob", ["ml-engineers"])
    second = client_factory()
    with caplog.at_level(logging.INFO, logger="modelhouse.auth"):
        sso_sign_in(second, sso, "bob")

    bob = User.objects.get(username="bob")
    assert signed_in_user(second) == bob
    assert user_roles(bob) == {Role.ENGINEER, Role.MANAGER}
    assert not bob.is_superuser and not bob.is_staff
    assert User.objects.filter(username__iexact="bob").count() == 1
    assert any("changed the roles of bob" in r.getMessage() for r in caplog.records)


def test_next_must_stay_on_the_portal(client, sso):
    sso.add_user("olga", groups=["ds-scientists"])
    response = sso_sign_in(client, sso, "olga", next_url="https://evil.example/steal")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user(client).username == "olga"


def test_deactivating_someone_ends_their_sso_session(client, sso):
    sso.add_user("pia", groups=["ds-scientists"])
    sso_sign_in(client, sso, "pia")
    assert client.get("/").status_code == 200
    User.objects.filter(username="pia").update(is_active=False)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_admin_flags_are_left_alone_when_the_role_map_does_not_grant_admin(client, settings, sso):
    settings.OIDC_ROLE_MAP = {"ds-scientists": ["scientist"]}
    ada = UserFactory(username="ada", role=Role.ADMIN)
    sso.add_user("ada", groups=["ds-scientists"])
    sso_sign_in(client, sso, "ada")
    ada.refresh_from_db()
    assert ada.is_superuser and ada.is_staff
    assert set(ada.groups.values_list("name", flat=True)) == {Role.ADMIN, Role.SCIENTIST}


def test_a_local_account_moves_to_sso_and_keeps_its_password(client_factory, sso):
    sara = UserFactory(username="sara", role=Role.SCIENTIST, password="pw-local-Sara-1")
    sso.add_user("Sara", groups=["ml-engineers"], email="sara@acme.test")
    client = client_factory()
    sso_sign_in(client, sso, "Sara")
    assert signed_in_user(client) == sara
    sara.refresh_from_db()
    assert user_roles(sara) == {Role.ENGINEER}  # scientist is provider-managed and she left that group
    assert sara.email == "sara@acme.test"
    assert log_in(client_factory(), "sara", "pw-local-Sara-1")


def test_groups_only_in_the_id_token_and_a_nested_claim_are_read(client, settings, sso):
    sso.groups_in_id_token = True  # Azure AD puts groups in the ID token, not in userinfo
    sso.add_user("carol", groups=["risk-office"])
    sso_sign_in(client, sso, "carol")
    assert user_roles(signed_in_user(client)) == {Role.COMPLIANCE}

    settings.OIDC_GROUPS_CLAIM = "realm_access.roles"  # Keycloak realm roles
    sso.groups_in_id_token = False
    sso.add_user("dan", groups=[], realm_access={"roles": ["ds-leads", "offline_access"]})
    other = Client()
    sso_sign_in(other, sso, "dan")
    assert user_roles(signed_in_user(other)) == {Role.SCIENTIST}


def test_an_unverified_email_is_not_copied_and_username_falls_back_to_email(client, settings, sso):
    sso.add_user("erin", groups=["ds-scientists"], email="erin@elsewhere.test", email_verified=False)
    sso_sign_in(client, sso, "erin")
    erin = signed_in_user(client)
    assert erin.username == "erin" and erin.email == ""

    settings.OIDC_USERNAME_CLAIM = "upn"  # a claim this provider does not send: the verified email is used
    sso.add_user("frank", groups=["ds-scientists"], email="frank@acme.test")
    other = Client()
    sso_sign_in(other, sso, "frank")
    assert signed_in_user(other).username == "frank@acme.test"


def test_explicit_endpoints_work_without_discovery(client, settings, sso):
    settings.OIDC_OP_DISCOVERY_URL = ""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{sso.issuer}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{sso.issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{sso.issuer}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{sso.issuer}/jwks"
    sso.add_user("gina", groups=["ml-engineers"])
    sso_sign_in(client, sso, "gina")
    assert user_roles(signed_in_user(client)) == {Role.ENGINEER}


# --- refusals: always back on the login page with a reason, never a 500 -----------------------------------
def test_someone_in_no_mapped_group_is_refused_and_told_whom_to_ask(client, sso):
    sso.add_user("harry", groups=["marketing", "everyone"])
    response = sso_sign_in(client, sso, "harry")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="harry").exists()
    page = login_page_messages(client)
    assert "your account has no Modelhouse role" in page
    assert "the data platform team (#modelhouse)" in page


def test_a_deactivated_account_is_refused(client, sso):
    UserFactory(username="ivan", role=Role.SCIENTIST, is_active=False)
    sso.add_user("ivan", groups=["ds-scientists"])
    response = sso_sign_in(client, sso, "ivan")
    assert response["Location"] == "/login/" and signed_in_user(client) is None
    assert "is deactivated" in login_page_messages(client)


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_a_tampered_id_token_is_refused(client, sso, tampering):
    sso.add_user("mallory", groups=["portal-admins"])
    sso.tamper = tampering
    response = sso_sign_in(client, sso, "mallory")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="mallory").exists()
    assert "Single sign-on did not complete" in login_page_messages(client)


def test_userinfo_about_someone_else_is_refused(client, sso):
    sso.add_user("nina", groups=["ds-scientists"])
    sso.userinfo_sub = "sub-somebody-else"
    sso_sign_in(client, sso, "nina")
    assert signed_in_user(client) is None


def test_a_wrong_state_or_a_replayed_callback_is_refused(client_factory, sso):
    sso.add_user("oscar", groups=["ds-scientists"])
    client = client_factory()
    location = provider_round_trip(client, sso, "oscar")
    parts = urlsplit(location)
    forged = parts.query.replace("state=", "state=x")
    response = client.get(f"{parts.path}?{forged}")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user(client) is None
    assert "expired or was started in another browser" in login_page_messages(client)

    # The genuine callback still works once; replayed in another browser, it does not.
    assert client.get(f"{parts.path}?{parts.query}").status_code == 302
    assert signed_in_user(client).username == "oscar"
    thief = client_factory()
    response = thief.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user(thief) is None


def test_a_used_code_is_refused_by_the_provider_and_the_portal(client_factory, sso):
    sso.add_user("peggy", groups=["ds-scientists"])
    first = client_factory()
    used = urlsplit(provider_round_trip(first, sso, "peggy"))
    assert first.get(f"{used.path}?{used.query}")["Location"] == "/"
    code = dict(p.split("=", 1) for p in used.query.split("&"))["code"]

    # Someone holding the used code, with a state of their own: the provider refuses the exchange.
    other = client_factory()
    own = urlsplit(provider_round_trip(other, sso, "peggy"))
    own_state = dict(p.split("=", 1) for p in own.query.split("&"))["state"]
    response = other.get("/oidc/callback/", {"code": code, "state": own_state})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user(other) is None
    assert "Single sign-on did not complete" in login_page_messages(other)


def test_the_provider_saying_no_is_shown(client, sso):
    response = client.get("/oidc/authenticate/")
    state = dict(p.split("=", 1) for p in urlsplit(response["Location"]).query.split("&"))["state"]
    response = client.get("/oidc/callback/", {"error": "access_denied", "state": state})
    assert response["Location"] == "/login/"
    assert "Acme SSO did not sign you in (access_denied)" in login_page_messages(client)


def test_an_error_link_for_a_sign_in_this_browser_never_started_neither_signs_out_nor_speaks(client, sso):
    UserFactory(username="rosa", role=Role.MANAGER, password="pw-local-Rosa-1")
    assert log_in(client, "rosa", "pw-local-Rosa-1")
    forged = {"error": "Your account is suspended, call +1 555", "state": "x"}
    response = client.get("/oidc/callback/", forged)
    assert response.status_code == 302
    assert signed_in_user(client).username == "rosa"
    page = client.get("/", follow=True).content.decode()
    assert "call +1 555" not in page and "expired or was started in another browser" in page


def test_an_unreachable_provider_gives_a_message_not_an_error(client, settings, sso):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.OIDC_OP_DISCOVERY_URL = f"http://127.0.0.1:{closed_port}/.well-known/openid-configuration"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "Acme SSO could not be reached" in login_page_messages(client)


def test_a_callback_without_code_or_session_is_refused(client, sso):
    response = client.get("/oidc/callback/", {"code": "abc", "state": "def"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/oidc/callback/").status_code == 302


# --- the login page and the local accounts ----------------------------------------------------------------
def test_login_page_offers_sso_and_the_local_form_and_local_login_still_works(client, sso):
    UserFactory(username="quinn", role=Role.MANAGER, password="pw-local-Quinn-1")
    page = client.get("/login/?next=/dashboards/").content.decode()
    assert "Sign in with Acme SSO" in page
    assert 'href="/oidc/authenticate/?next=%2Fdashboards%2F"' in page
    assert 'name="password"' in page
    assert log_in(client, "quinn", "pw-local-Quinn-1")


def test_without_local_login_only_sso_is_offered_and_passwords_do_not_work(client, settings, sso):
    UserFactory(username="rita", role=Role.MANAGER, password="pw-local-Rita-1")
    settings.OIDC_LOCAL_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [
        b for b in settings.AUTHENTICATION_BACKENDS if b != "django.contrib.auth.backends.ModelBackend"
    ]
    page = client.get("/login/").content.decode()
    assert "Sign in with Acme SSO" in page
    assert 'name="password"' not in page
    assert not log_in(client, "rita", "pw-local-Rita-1")


def test_with_sso_off_there_is_no_button_and_the_routes_are_404(client, settings):
    assert not settings.OIDC_RP_CLIENT_ID
    page = client.get("/login/").content.decode()
    assert "Sign in with" not in page and 'name="password"' in page
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "a", "state": "b"}).status_code == 404
    assert "portal.oidc.ModelhouseOIDCBackend" not in settings.AUTHENTICATION_BACKENDS


# --- configuration from the environment -------------------------------------------------------------------
def load_sso_settings(monkeypatch, **env) -> dict:
    for name in list(os.environ):
        if name.startswith("OIDC_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # A fresh copy of the module, executed against this environment; the loaded settings stay untouched.
    spec = importlib.util.spec_from_file_location("portal.settings.sso_copy", sso_settings_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.test/auth",
    "OIDC_OP_TOKEN_ENDPOINT": "https://idp.test/token",
    "OIDC_OP_USER_ENDPOINT": "https://idp.test/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://idp.test/jwks",
}


def test_sso_is_off_without_a_client_id(monkeypatch):
    values = load_sso_settings(monkeypatch, OIDC_ROLE_MAP="a=scientist")
    assert values["OIDC_ENABLED"] is False
    assert "AUTHENTICATION_BACKENDS" not in values


def test_settings_from_the_environment(monkeypatch):
    values = load_sso_settings(
        monkeypatch,
        OIDC_RP_CLIENT_ID="modelhouse",
        OIDC_RP_CLIENT_SECRET="s3cret",
        OIDC_OP_DISCOVERY_URL="https://idp.test/realms/acme",
        OIDC_ROLE_MAP="ds-scientists=scientist, ds-leads=scientist,mle=Engineer,mle=manager",
        OIDC_GROUPS_CLAIM="realm_access.roles",
        OIDC_PROVIDER_NAME="Acme Keycloak",
    )
    assert values["OIDC_ENABLED"] is True
    assert values["OIDC_ROLE_MAP"] == {
        "ds-scientists": ["scientist"],
        "ds-leads": ["scientist"],
        "mle": ["engineer", "manager"],
    }
    assert values["OIDC_GROUPS_CLAIM"] == "realm_access.roles"
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256" and values["OIDC_USE_PKCE"] is True
    backends = values["AUTHENTICATION_BACKENDS"]
    assert backends[0] == "axes.backends.AxesStandaloneBackend"
    assert backends[-1] == "portal.oidc.ModelhouseOIDCBackend"
    assert "django.contrib.auth.backends.ModelBackend" in backends


def test_role_map_as_json_or_lines_and_local_login_off(monkeypatch):
    values = load_sso_settings(
        monkeypatch,
        OIDC_RP_CLIENT_ID="modelhouse",
        OIDC_ROLE_MAP='{"CN=DS,OU=Groups,DC=acme": "scientist", "9f1c-guid": ["compliance", "manager"]}',
        OIDC_LOCAL_LOGIN="false",
        **ENDPOINTS,
    )
    assert values["OIDC_ROLE_MAP"] == {
        "CN=DS,OU=Groups,DC=acme": ["scientist"],
        "9f1c-guid": ["compliance", "manager"],
    }
    assert "django.contrib.auth.backends.ModelBackend" not in values["AUTHENTICATION_BACKENDS"]
    assert values["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    lines = load_sso_settings(
        monkeypatch, OIDC_RP_CLIENT_ID="x", OIDC_ROLE_MAP="\nds=scientist\nrisk=compliance\n", **ENDPOINTS
    )
    assert lines["OIDC_ROLE_MAP"] == {"ds": ["scientist"], "risk": ["compliance"]}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_ROLE_MAP": "ds-scientists=wizard", **ENDPOINTS}, "unknown role 'wizard'"),
        ({"OIDC_ROLE_MAP": "ds-scientists", **ENDPOINTS}, "is not group=role"),
        ({"OIDC_ROLE_MAP": "=scientist", **ENDPOINTS}, "is not group=role"),
        ({"OIDC_ROLE_MAP": '{"ds": 3}', **ENDPOINTS}, "must map to a role name"),
        ({"OIDC_ROLE_MAP": "{not json", **ENDPOINTS}, "not valid JSON"),
        ({"OIDC_ROLE_MAP": "", **ENDPOINTS}, "OIDC_ROLE_MAP is empty"),
        ({"OIDC_ROLE_MAP": "a=scientist"}, "set OIDC_OP_DISCOVERY_URL"),
        (
            {"OIDC_ROLE_MAP": "a=scientist", "OIDC_OP_TOKEN_ENDPOINT": "https://idp.test/token"},
            "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT",
        ),
        (
            {"OIDC_ROLE_MAP": "a=scientist", "OIDC_RP_SIGN_ALGO": "HS256", **ENDPOINTS},
            "needs OIDC_RP_CLIENT_SECRET",
        ),
    ],
)
def test_configuration_mistakes_are_explained(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        load_sso_settings(monkeypatch, OIDC_RP_CLIENT_ID="modelhouse", **env)
