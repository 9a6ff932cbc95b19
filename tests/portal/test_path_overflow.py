"""Every page and endpoint with an integer in its path answers an id beyond 64 bits with a 4xx, never a 500
(SQLite raises OverflowError for such a number; PostgreSQL refuses it as out of range)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

HUGE = "9" * 25  # far beyond a signed 64-bit integer


def int_routes(resolver=None, prefix: str = "") -> list[str]:
    """Concrete paths for every route with an <int:...> parameter, the number replaced by HUGE and any
    other parameter by a plausible word."""
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths += int_routes(entry, prefix + pattern)
        elif isinstance(entry, URLPattern) and "<int:" in prefix + pattern:
            route = prefix + pattern
            if route.startswith("admin/") or "(?P" in route or "^" in route:
                continue
            route = re.sub(r"<int:\w+>", HUGE, route)
            route = re.sub(r"<(?:str|slug|path):?\w*>", "x", route)
            paths.append("/" + route)
    return sorted(set(paths))


def test_there_are_integer_routes_to_check():
    assert len(int_routes()) >= 20


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_id_beyond_64_bits_is_not_a_server_error(client, admin_user, api_as, method):
    client.force_login(admin_user)
    api = api_as(admin_user)
    failures = []
    for path in int_routes():
        response = getattr(api if path.startswith("/api/") else client, method)(path)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path} -> {response.status_code}")
    assert not failures, "\n".join(failures)
