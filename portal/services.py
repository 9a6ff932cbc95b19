"""Account services: create or update users with a role and an API token."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from .roles import Role, ensure_role_groups


@transaction.atomic
def user_upsert(
    *, username: str, role: str, password: str | None = None, email: str = "", full_name: str = ""
) -> tuple["object", bool]:
    """Create the user or, if it exists, set its role (replacing other roles) and password.

    Returns (user, created). Admins also get staff/superuser so the Django admin works for them.
    """
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    if not username or len(username) > 150:
        raise ValidationError({"username": "A user name of 1 to 150 characters is required."})
    ensure_role_groups()
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if full_name:
        first, _, last = full_name.partition(" ")
        user.first_name, user.last_name = first, last
    if email:
        user.email = email
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user, created


def user_token(*, user) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
