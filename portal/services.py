"""Account services: create or update users with a role and an API token."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
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


class SsoAccountRefused(PermissionDenied):
    """A single sign-on that must not become a session; `reason` is no_role, inactive or ambiguous."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SsoSignIn:
    user: object
    created: bool
    roles_before: frozenset[str]
    roles_after: frozenset[str]


@transaction.atomic
def user_sso_sync(
    *, username: str, roles: Iterable[str], managed_roles: Iterable[str], email: str = "", full_name: str = ""
) -> SsoSignIn:
    """Create or update the account of someone signing in through single sign-on (OpenID Connect).

    The provider owns `managed_roles` (every role its group mapping can grant): afterwards the user holds
    exactly `roles` among them, so leaving a group at the provider takes the role away at the next sign-in.
    Roles outside `managed_roles`, given in Modelhouse, are kept. The admin role carries is_staff and
    is_superuser as in user_upsert; when admin is not managed those flags are left as an admin set them.
    An existing account is matched by username, ignoring case, so a local account moves to SSO (and keeps
    its password). Raises SsoAccountRefused, changing nothing, when the account would hold no role, is
    deactivated or the username matches several accounts; ValidationError for an unusable username.
    """
    roles, managed = set(roles), set(managed_roles) | set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError({"role": f"Unknown role(s) {', '.join(sorted(unknown))}."})
    if not username or len(username) > 150:
        raise ValidationError({"username": "A user name of 1 to 150 characters is required."})
    ensure_role_groups()
    User = get_user_model()
    matches = list(User.objects.select_for_update().filter(username__iexact=username)[:2])
    if len(matches) > 1:
        raise SsoAccountRefused("ambiguous", f"Several Modelhouse accounts are called {username!r}.")
    user = matches[0] if matches else None
    if user is not None and not user.is_active:
        raise SsoAccountRefused("inactive", f"The Modelhouse account {user.username!r} is deactivated.")
    before = frozenset(user.groups.values_list("name", flat=True)) if user else frozenset()
    after = frozenset((before - managed) | roles)
    is_admin = Role.ADMIN in roles if Role.ADMIN in managed else bool(user and user.is_superuser)
    if not (after & set(Role.values)) and not is_admin:
        raise SsoAccountRefused("no_role", f"The account {username!r} has no Modelhouse role.")
    created = user is None
    if created:
        user = User(username=username)
        user.set_unusable_password()
    if email:
        user.email = email
    if full_name:
        first, _, last = full_name.partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
    if Role.ADMIN in managed:
        user.is_staff = user.is_superuser = is_admin
    user.save()
    if created or before != after:
        user.groups.set(Group.objects.filter(name__in=after))
    return SsoSignIn(user=user, created=created, roles_before=before, roles_after=after)
