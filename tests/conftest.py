import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.roles import Role
from tests.factories import UserFactory


def _mark_test_database(sender, connection, **kwargs):
    """Lets the test runner TRUNCATE the audit table between transactional tests (PostgreSQL trigger)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET modelhouse.test_database = 'on'")


connection_created.connect(_mark_test_database)

# CI sets this: a missing service or browser is then a failure, never a silent skip.
REQUIRE_SERVICES = os.environ.get("MODELHOUSE_REQUIRE_SERVICES") == "1"


def log_in(client, username: str, password: str) -> bool:
    """Signs in through the login page, as a person does (throttling and all); True when it worked."""
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session


def skip_or_fail(reason: str):
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MODELHOUSE_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: what one test's page cached must not answer another's."""
    cache.clear()
    yield


def table_rows_linking(prefix: str):
    """rows(response) of an HTML list: the rows of its table body that link to a path starting with prefix."""

    def count(response) -> int:
        html = response.content.decode()
        body = html[html.index("<tbody>") : html.rindex("</tbody>")] if "<tbody>" in html else ""
        return sum(1 for row in body.split("<tr>")[1:] if f'href="{prefix}' in row)

    return count


def api_rows(response) -> int:
    """rows(response) of a paged API list: the entries of its `results`."""
    return len(response.json()["results"])


def csv_rows(response) -> int:
    """rows(response) of a CSV export: its lines but the header."""
    return len(response.content.decode().splitlines()) - 1


def _numbered_sql(title: str, captured: CaptureQueriesContext) -> str:
    lines = (f"  {n}. {query['sql']}" for n, query in enumerate(captured.captured_queries, 1))
    return f"{title}:\n" + "\n".join(lines) + "\n"


@pytest.fixture
def assert_flat_queries():
    """assert_flat_queries(client, url, *, grow, rows=None, expect=None, headers=None, status=200)
    or assert_flat_queries(fetch=..., grow=..., ...) -> (response before growing, response after).

    Checks that a page or endpoint costs the same number of queries with a few rows as with many: a relation
    that its selector does not load, read row by row by a serializer or template (an N+1), adds queries
    only on the larger answer, so equal counts are what "no N+1" looks like from the outside. It
    - GETs the URL once, uncounted, to warm what is cached per process (content types, the session's user);
    - empties the Django cache and counts the queries of one GET;
    - calls grow() to add rows, empties the cache again and requires exactly as many queries of the next
      GET (a failure lists both GETs' SQL, numbered, so the extra queries stand out);
    - requires both answers to have `status` and, given rows(response) -> int, to show expect[0] rows
      before growing and expect[1] after.
    The cache is emptied because pages cache data derived from their rows (the model page's charts are
    keyed on the metric values): growing would turn a cached answer into a computed one and differ for that
    reason alone. Both measured requests are then cold, the path where a query per row would show.

    fetch() -> response replaces client and url where the request is not one fixed GET (its URL depends on
    rows that grow() adds). A streamed answer (a CSV export) runs its queries while it is read, so it is
    read inside the count and handed to rows() as a plain response.
    """

    def check(client=None, url=None, *, grow, rows=None, expect=None, headers=None, status=200, fetch=None):
        if (fetch is None) == (url is None):
            raise TypeError("assert_flat_queries takes a client and a URL, or fetch")

        def answer():
            response = client.get(url, headers=headers) if fetch is None else fetch()
            if response.streaming:
                return HttpResponse(b"".join(response.streaming_content), status=response.status_code)
            return response

        def require(response, grown: bool):
            assert response.status_code == status, response.content.decode()[:2000]
            if rows is not None:
                shown, expected = rows(response), expect[1] if grown else expect[0]
                when = "after" if grown else "before"
                assert shown == expected, f"{shown} rows shown {when} growing, {expected} expected"

        answer()
        cache.clear()
        with CaptureQueriesContext(connection) as few:
            before = answer()
        require(before, grown=False)
        grow()
        cache.clear()
        with CaptureQueriesContext(connection) as many:
            after = answer()
        assert len(many) == len(few), (
            f"{len(many)} queries with more rows, {len(few)} with few:\n"
            + _numbered_sql("with more rows", many)
            + _numbered_sql("with few rows", few)
        )
        require(after, grown=True)
        return before, after

    return check


@pytest.fixture
def make_user(db):
    def make(role: str = Role.SCIENTIST, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def scientist(make_user):
    return make_user(Role.SCIENTIST, username="sara")


@pytest.fixture
def engineer(make_user):
    return make_user(Role.ENGINEER, username="eric")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, username="maria")


@pytest.fixture
def compliance(make_user):
    return make_user(Role.COMPLIANCE, username="cora")


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="ada")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(db):
    """api_as(user) -> a new APIClient authenticated with that user's token (one per call, so a test can
    hold several people's clients at once)."""
    from portal.services import user_token

    def login(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user_token(user=user)}")
        return client

    return login


@pytest.fixture
def chromium_path():
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if not path:
        skip_or_fail("Debian's chromium is not installed (apt-get install -y chromium)")
    return path
