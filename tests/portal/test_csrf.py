"""CSRF is enforced on every session-authenticated write.

The writes come from the authorization matrix (tests/portal/authz_matrix.py): for every route and unsafe
method, the first role the matrix lets through (any answer but 401/403/404/405 or a login redirect) sends
it from a browser-like client that enforces CSRF, signed in by session:

- without a CSRF token the middleware (pages) or DRF's SessionAuthentication (API) refuses it with 403;
- with the token a browser would have (the cookie plus the form's csrfmiddlewaretoken, sent as the
  X-CSRFToken header) it gets exactly what the matrix says;
- API writes authenticated with a token (`Authorization: Token ...`) need no CSRF token (no cookie is
  involved, so no other site can make a browser send them) and also get what the matrix says.

A new write route in the matrix is covered here without further work. Structurally, no view may be
`csrf_exempt` except those listed in CSRF_EXEMPT (with the reason), and DRF views, which Django sees as
exempt, may only authenticate by session with DRF's CSRF-enforcing SessionAuthentication or by token.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.test import APIClient
from rest_framework.views import APIView

from . import authz_world
from .authz_matrix import ADMIN_ALL_METHODS, ADMIN_LOGIN, ADMIN_SITE_STATUS, LOGIN, MATRIX, METHODS
from .authz_world import ANONYMOUS, ROLES, World, send
from .test_authz_matrix import ROUTES, is_admin, outcome, route_for, url_for, uses_token

pytestmark = pytest.mark.django_db
world, in_world = authz_world.world, authz_world.in_world  # the fixtures: built once per module

REFUSED = {401, 403, 404, 405, LOGIN, ADMIN_LOGIN}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# Views Django sees as csrf_exempt that are not DRF views, and why that is safe. (None today.)
CSRF_EXEMPT: dict[str, str] = {}
# Token-only DRF views: nothing a browser sends by itself (cookies) authenticates them.
TOKEN_ONLY_OK = {
    "api-token": "exchanges a username and password for a token; no session or cookie is read",
}


def write_checks() -> list[tuple[str, str, str]]:
    """(route, method, role): every write the matrix allows someone to make, with the first such role."""
    checks = []
    for key in sorted(ROUTES):
        if not is_admin(key) and key not in MATRIX:
            continue
        if is_admin(key) and not (key in ADMIN_SITE_STATUS or key.startswith(ADMIN_ALL_METHODS)):
            continue  # one model's admin pages stand for all (they share Django's ModelAdmin views)
        route = route_for(key)
        for method in (m for m in UNSAFE if m in route.methods and m in route.expect):
            role = next((r for r in ROLES if route.expected(method, r) not in REFUSED), None)
            if role is not None:
                checks.append((key, method, role))
    return checks


WRITES = write_checks()


def csrf_token_for(w: World, role: str) -> tuple[str, str]:
    """(cookie, form token) as a browser gets them: by opening a page with a form."""
    client = w.page_client(role, enforce_csrf_checks=True)
    page = "/login/" if role == ANONYMOUS else "/work/new/"
    response = send(client, "GET", page, json_body=False)
    assert response.status_code == 200, (page, response.status_code)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    assert match, f"{page} renders no CSRF token"
    return client.cookies[settings.CSRF_COOKIE_NAME].value, match.group(1).decode()


def session_client(w: World, role: str, cookie: str | None = None):
    client = w.page_client(role, enforce_csrf_checks=True)
    if cookie:
        client.cookies[settings.CSRF_COOKIE_NAME] = cookie
    return client


def test_the_matrix_has_writes_for_every_kind_of_route():
    """Guards the enumeration itself: pages, API, admin and the login form are all in it."""
    keys = {key for key, _, _ in WRITES}
    assert "login" in keys and "logout" in keys
    assert any(k.startswith("catalog:") for k in keys) and any(
        k.startswith("governance-access:") for k in keys
    )
    assert any(k.startswith("catalog-api:") for k in keys) and any(
        k.startswith("governance-api:") for k in keys
    )
    assert any(is_admin(k) for k in keys)
    assert len(WRITES) > 80, len(WRITES)


SESSION_WRITES = [(key, method, role) for key, method, role in WRITES if key not in TOKEN_ONLY_OK]


def test_session_writes_without_a_csrf_token_are_refused(in_world):
    wrong = []
    for key, method, role in SESSION_WRITES:
        route = route_for(key)
        url = url_for(key, in_world)
        json_body = url.startswith("/api/")
        response = send(
            session_client(in_world, role), method, url, route.body(method, in_world), json_body=json_body
        )
        if response.status_code != 403 or b"CSRF" not in response.content:
            wrong.append(f"{method} {url} as {role}: {response.status_code} {response.content[:100]!r}")
    assert not wrong, (
        f"{len(wrong)} of {len(SESSION_WRITES)} session writes went through without a CSRF token:\n"
        + "\n".join(wrong)
    )


def test_session_writes_with_the_csrf_token_get_what_the_matrix_says(in_world):
    tokens = {role: csrf_token_for(in_world, role) for role in {role for _, _, role in SESSION_WRITES}}
    wrong = []
    for key, method, role in SESSION_WRITES:
        route = route_for(key)
        url = url_for(key, in_world)
        cookie, token = tokens[role]
        client = session_client(in_world, role, cookie)
        response = send(
            client,
            method,
            url,
            route.body(method, in_world),
            json_body=url.startswith("/api/"),
            HTTP_X_CSRFTOKEN=token,
        )
        got, expected = outcome(response, url), route.expected(method, role)
        if got != expected:
            wrong.append(
                f"{method} {url} as {role}: expected {expected}, got {got} {response.content[:100]!r}"
            )
    assert not wrong, "\n".join(wrong)


def test_token_authenticated_api_writes_need_no_csrf_token(in_world):
    wrong, checked = [], 0
    for key, method, role in WRITES:
        route = route_for(key)
        url = url_for(key, in_world)
        if not uses_token(route, url) or role == ANONYMOUS:
            continue
        client = APIClient(enforce_csrf_checks=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {in_world.tokens[role]}")
        response = send(client, method, url, route.body(method, in_world), json_body=True)
        checked += 1
        if outcome(response, url) != route.expected(method, role):
            wrong.append(f"{method} {url} as {role}: {response.status_code} {response.content[:100]!r}")
    assert checked > 40, checked
    assert not wrong, "\n".join(wrong)


def _views():
    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                yield (f"{namespace}{pattern.name}" if pattern.name else route), pattern.callback

    yield from walk(get_resolver().url_patterns, "", "")


def test_csrf_middleware_is_on():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


def test_no_view_is_csrf_exempt_unless_listed():
    exempt = []
    for key, callback in _views():
        view_class = getattr(callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            continue  # DRF: checked below
        if getattr(callback, "csrf_exempt", False) and key not in CSRF_EXEMPT:
            exempt.append(key)
    assert not exempt, f"csrf_exempt views not listed in CSRF_EXEMPT (with a reason): {exempt}"


def test_api_views_authenticate_by_csrf_checked_session_or_by_token_only():
    """DRF marks its views csrf_exempt and checks CSRF itself in SessionAuthentication.enforce_csrf: an
    authentication class that reads a cookie without that check (or HTTP Basic, which browsers replay by
    themselves) would open every API write to cross-site requests."""
    wrong, token_only = [], []
    for key, callback in _views():
        view_class = getattr(callback, "cls", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            continue
        classes = list(view_class.authentication_classes)
        for auth in classes:
            csrf_checked = (
                issubclass(auth, SessionAuthentication)
                and auth.enforce_csrf is SessionAuthentication.enforce_csrf
            )
            if not (csrf_checked or issubclass(auth, TokenAuthentication)):
                wrong.append(f"{key}: {auth.__module__}.{auth.__qualname__}")
        if not any(issubclass(a, SessionAuthentication) for a in classes):
            token_only.append(key)
    assert not wrong, wrong
    assert set(token_only) <= set(TOKEN_ONLY_OK), sorted(set(token_only) - set(TOKEN_ONLY_OK))


def test_methods_the_writes_use_are_the_unsafe_ones():
    assert {method for _, method, _ in WRITES} <= set(UNSAFE) <= set(METHODS)
