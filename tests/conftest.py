import os
import shutil

import pytest
from django.db.backends.signals import connection_created
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
    from django.core.cache import cache

    cache.clear()
    yield


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
