"""Who may do what in the catalog. Views, API and tasks ask here; nothing else decides."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from portal.roles import Role, has_role

WRITER_ROLES = (Role.SCIENTIST, Role.ENGINEER)


def scope(queryset: QuerySet, user) -> QuerySet:
    """Rows of the catalog the user may see. The catalog is open to every signed-in role."""
    if not user.is_authenticated:
        return queryset.none()
    return queryset


def can_register_model(user) -> bool:
    return user.is_authenticated and has_role(user, *WRITER_ROLES)


def is_model_owner(user, model) -> bool:
    if not user.is_authenticated:
        return False
    # Uses the prefetched owners when the selector loaded them.
    cache = getattr(model, "_prefetched_objects_cache", {})
    if "ownerships" in cache:
        return any(o.user_id == user.pk for o in model.ownerships.all())
    return model.ownerships.filter(user=user).exists()


def can_edit_model(user, model) -> bool:
    """Owners change their model (metadata, versions, metrics, lineage); admins change any."""
    return user.is_authenticated and (
        has_role(user, Role.ADMIN) or (is_model_owner(user, model) and has_role(user, *WRITER_ROLES))
    )


def can_manage_dataset(user, dataset=None) -> bool:
    if not user.is_authenticated:
        return False
    if dataset is None:
        return has_role(user, *WRITER_ROLES, Role.COMPLIANCE)
    return has_role(user, Role.COMPLIANCE) or (dataset.owner_id == user.pk and has_role(user, *WRITER_ROLES))


def can_manage_domains(user) -> bool:
    return user.is_authenticated and has_role(user, Role.ADMIN)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def can_manage_registries(user) -> bool:
    """Registry sources hold connection settings: admins configure them; anyone signed in may look."""
    return user.is_authenticated and has_role(user, Role.ADMIN)


def can_trigger_sync(user) -> bool:
    return user.is_authenticated and has_role(user, Role.ADMIN, Role.ENGINEER)
