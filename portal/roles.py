"""Roles are Django groups. One user normally has one role; admins hold every permission."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import models


class Role(models.TextChoices):
    SCIENTIST = "scientist", "Scientist"
    ENGINEER = "engineer", "Engineer"
    MANAGER = "manager", "Manager"
    COMPLIANCE = "compliance", "Compliance"
    ADMIN = "admin", "Admin"


class SystemActor:
    """The actor for work no person started: management commands, scheduled jobs. Holds the admin role."""

    pk = None
    id = None
    username = "system"
    is_authenticated = True
    is_active = True
    is_superuser = True
    _modelhouse_roles = frozenset({Role.ADMIN.value})

    def __str__(self) -> str:
        return "system"

    def get_full_name(self) -> str:
        return "Modelhouse (automatic)"


SYSTEM = SystemActor()


def ensure_role_groups() -> None:
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_modelhouse_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached = cached | {Role.ADMIN.value}
        user._modelhouse_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    held = user_roles(user)
    return Role.ADMIN.value in held or any(r in held for r in roles)
