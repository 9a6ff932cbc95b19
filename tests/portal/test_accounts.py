import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from portal.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def sign_in(username: str, password: str):
    """authenticate() as the login page calls it: with the request (django-axes needs it)."""
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


def run_add_user(*args) -> list[str]:
    from io import StringIO

    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_add_user_creates_user_with_role_and_prints_token_last():
    lines = run_add_user("sara", "--role", "scientist", "--password", "pw-one-1234", "--print-token")
    user = get_user_model().objects.get(username="sara")
    assert user_roles(user) == {"scientist"}
    assert lines[-1] == Token.objects.get(user=user).key
    assert sign_in("sara", "pw-one-1234") == user


def test_add_user_again_updates_role_and_password_and_keeps_token():
    first = run_add_user("sam", "--role", "scientist", "--password", "old-pass-123", "--print-token")[-1]
    lines = run_add_user("sam", "--role", "engineer", "--password", "new-pass-456", "--print-token")
    user = get_user_model().objects.get(username="sam")
    assert "Updated" in lines[0]
    assert user_roles(user) == {"engineer"}
    assert sign_in("sam", "new-pass-456") == user
    assert sign_in("sam", "old-pass-123") is None
    assert lines[-1] == first
    assert get_user_model().objects.filter(username="sam").count() == 1


def test_add_user_admin_gets_admin_site_access():
    run_add_user("ada", "--role", "admin", "--password", "pw-admin-123")
    user = get_user_model().objects.get(username="ada")
    assert user.is_staff and user.is_superuser


def test_add_user_rejects_unknown_role():
    with pytest.raises(CommandError):
        call_command("add_user", "x", "--role", "overlord")


def test_role_groups_exist_after_migrate():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_every_page_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/datasets/").status_code == 302


def test_health_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_login_page_and_logout(client, scientist):
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "sara", "password": "pw-Modelhouse-1"})
    assert response.status_code == 302
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
