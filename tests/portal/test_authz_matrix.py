"""Every route × every role × every method answers what tests/portal/authz_matrix.py says.

The routes come from the URL resolver itself, so a new route that nobody put in the matrix fails
`test_every_route_is_in_the_matrix`, and a route that went away fails
`test_no_matrix_entry_names_a_missing_route`.
Each status test sends every method to every route as one role and reports all differences in one table.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from . import authz_world
from .authz_matrix import ADMIN_LOGIN, API, LOGIN, MATRIX, PAGE, PUBLIC, Route, admin_expectations
from .authz_world import ANONYMOUS, ROLES, SIGNED_IN, World, send

pytestmark = pytest.mark.django_db
world, in_world = authz_world.world, authz_world.in_world  # the fixtures: built once per module


# --- the resolver ----------------------------------------------------------------------------------------
def resolver_routes() -> dict[str, str]:
    """key -> route pattern for every URL pattern; key is namespace:name, or the pattern if unnamed."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                key = f"{namespace}{pattern.name}" if pattern.name else route
                assert key not in found, f"two routes share the name {key}: {found[key]} and {route}"
                found[key] = route

    walk(get_resolver().url_patterns, "", "")
    return found


ROUTES = resolver_routes()


def is_admin(key: str) -> bool:
    return key.startswith("admin:") or key.startswith("admin/")


def route_for(key: str) -> Route:
    return admin_expectations(key) if is_admin(key) else MATRIX[key]


# --- URLs --------------------------------------------------------------------------------------------------
def _admin_object(model_key: str):
    app_label, model_name = model_key.split("_", 1) if "_" in model_key else (model_key, "")
    for candidate in apps.get_models():
        meta = candidate._meta
        if f"{meta.app_label}_{meta.model_name}" == model_key:
            obj = candidate._default_manager.order_by("pk").first()
            assert obj is not None, (
                f"authz_world.py seeds no {meta.label}, so its admin pages cannot be opened"
            )
            return obj
    raise AssertionError(f"no model for admin route prefix {model_key} ({app_label}, {model_name})")


def admin_url(key: str, w: World) -> str:
    if key == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if key.startswith("admin/"):  # admin/<app>/<model>/<path:object_id>/
        _, app_label, model_name = key.split("/")[:3]
        obj = _admin_object(f"{app_label}_{model_name}")
        return f"/admin/{app_label}/{model_name}/{obj.pk}/"
    name = key.removeprefix("admin:")
    if name == "app_list":
        return reverse(key, kwargs={"app_label": "catalog"})
    if name == "view_on_site":
        ct = ContentType.objects.get_for_model(w.model)
        return reverse(key, kwargs={"content_type_id": ct.pk, "object_id": w.model.pk})
    if name == "auth_user_password_change":
        return reverse(key, kwargs={"id": w.users["scientist"].pk})
    pattern = ROUTES[key]
    if "<path:object_id>" in pattern:
        return reverse(key, kwargs={"object_id": _admin_object(name.rsplit("_", 1)[0]).pk})
    return reverse(key)


def url_for(key: str, w: World) -> str:
    if is_admin(key):
        return admin_url(key, w)
    route = MATRIX[key]
    if route.path:
        return route.path
    url = reverse(key, kwargs=route.at(w) if route.at else None)
    query = route.query(w) if callable(route.query) else route.query
    return url + query


# --- sending -----------------------------------------------------------------------------------------------
def uses_token(route: Route, url: str) -> bool:
    """API routes are called as scripts do (token); pages and the admin as browsers do (session)."""
    return route.kind == API or (route.kind == PUBLIC and url.startswith("/api/"))


def outcome(response, url: str):
    """The status, with redirects to a login page named as such (the next= must be this very URL)."""
    if response.status_code == 302:
        location = response["Location"]
        parts = urlsplit(location)
        nxt = parse_qs(parts.query).get("next", [None])[0]
        if parts.path == resolve_url(settings.LOGIN_URL) and nxt == url:
            return LOGIN
        if parts.path == reverse("admin:login") and nxt == url:
            return ADMIN_LOGIN
    return response.status_code


def detail(response) -> str:
    return f" → {response['Location']}" if response.status_code in (301, 302) else ""


def check(w: World, key: str, role: str, method: str, *, session: bool | None = None):
    """(expected, got) for one request."""
    route = route_for(key)
    url = url_for(key, w)
    token = uses_token(route, url) if session is None else not session
    client = w.api_client(role) if token else w.page_client(role)
    try:
        response = send(client, method, url, route.body(method, w), json_body=url.startswith("/api/"))
        got, more = outcome(response, url), detail(response)
    except Exception as exc:  # a crash is a finding like any other status
        got, more = "raised", f" {type(exc).__name__}: {exc}"[:120]
    return route.expected(method, role), got, url, more


def mismatch_table(rows) -> str:
    lines = [f"{'route':55} {'method':6} {'role':10} {'expected':16} got"]
    lines += [
        f"{key:55} {method:6} {role:10} {expected!s:16} {got}" for key, method, role, expected, got in rows
    ]
    return "\n".join(lines)


# --- tests -------------------------------------------------------------------------------------------------
def test_every_route_is_in_the_matrix():
    missing = sorted(key for key in ROUTES if not is_admin(key) and key not in MATRIX)
    assert not missing, "Routes with no entry in tests/portal/authz_matrix.py:\n" + "\n".join(
        f"  {key}  ({ROUTES[key]})" for key in missing
    )


def test_no_matrix_entry_names_a_missing_route():
    stale = sorted(key for key in MATRIX if key not in ROUTES)
    assert not stale, f"authz_matrix.py names routes the resolver does not have: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_matrix_says(in_world, role):
    rows = []
    for key in sorted(ROUTES):
        if not is_admin(key) and key not in MATRIX:
            continue  # reported by test_every_route_is_in_the_matrix
        for method in route_for(key).methods:
            expected, got, url, more = check(in_world, key, role, method)
            if got != expected:
                rows.append((f"{key} {url}", method, role, expected, f"{got}{more}"))
    assert not rows, f"{len(rows)} statuses differ from tests/portal/authz_matrix.py:\n" + mismatch_table(
        rows
    )


@pytest.mark.parametrize("role", [SIGNED_IN[0], "manager"])
def test_the_api_reads_with_a_session_as_with_a_token(in_world, role):
    """The API accepts the portal's session for safe methods (the browser's fetches), with the same answers:
    all of them for a scientist, and the refusals (audit trail) too for a manager. Sessions and tokens only
    differ in who the user is, never in what the policies decide, so two roles show it."""
    rows = []
    for key, route in MATRIX.items():
        if route.kind != API or key not in ROUTES or "GET" not in route.expect:
            continue
        expected, got, url, more = check(in_world, key, role, "GET", session=True)
        if got != expected:
            rows.append((f"{key} {url}", "GET", role, expected, f"{got}{more}"))
    assert not rows, "Session reads differ from token reads:\n" + mismatch_table(rows)


def test_the_anonymous_page_redirect_keeps_the_query_string(in_world):
    """Signing in brings the visitor back to the very page, filters included."""
    response = in_world.page_client(ANONYMOUS).get("/work/?status=open&sort=-updated")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == ["/work/?status=open&sort=-updated"]


def test_page_and_api_kinds_match_where_the_route_lives():
    """A PAGE entry under /api/v1/ (or an API entry outside it) would check the wrong login behaviour."""
    wrong = []
    for key, route in MATRIX.items():
        pattern = ROUTES.get(key, "")
        if route.kind == API and not pattern.startswith("api/"):
            wrong.append(key)
        if route.kind == PAGE and pattern.startswith("api/v1/"):
            wrong.append(key)
    assert not wrong, wrong


def test_the_api_docs_script_is_served_like_the_page(in_world):
    """SpectacularSwaggerSplitView serves its start-up script from the same URL with ?script."""
    assert in_world.page_client(ANONYMOUS).get("/api/docs/?script").status_code == 401
    for role in SIGNED_IN:
        response = in_world.page_client(role).get("/api/docs/?script")
        assert response.status_code == 200, role
        assert "javascript" in response["Content-Type"]
