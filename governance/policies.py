"""Who may do what in governance. UI, API and tasks all ask here; the four-eyes rule lives here only."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from catalog import policies as catalog_policies
from portal.roles import Role, has_role, user_roles

from .workflows import SYSTEM_DRIVEN_TYPES


def scope(queryset: QuerySet, user) -> QuerySet:
    """Work items and promotions are visible to everyone signed in (transparency is the point)."""
    return queryset if user.is_authenticated else queryset.none()


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# -- work items -------------------------------------------------------------------------------------------
def can_create_work_item(user) -> bool:
    return user.is_authenticated


def can_edit_work_item(user, item) -> bool:
    if not user.is_authenticated:
        return False
    return user.pk in (item.reporter_id, item.assignee_id) or has_role(user, Role.ENGINEER, Role.MANAGER)


def can_transition_work_item(user, item) -> bool:
    """People move ordinary items; promotion and data-access items follow their request's decision."""
    return item.type not in SYSTEM_DRIVEN_TYPES and can_edit_work_item(user, item)


def can_comment(user, item) -> bool:
    return user.is_authenticated


# -- definition of done -----------------------------------------------------------------------------------
def can_attest_dod(user, model) -> bool:
    return catalog_policies.can_edit_model(user, model) or has_role(user, Role.ENGINEER)


# -- promotions -------------------------------------------------------------------------------------------
def can_request_promotion(user, model) -> bool:
    """A model's owners (scientists, engineers) ask for promotions; admins may for any model."""
    return catalog_policies.can_edit_model(user, model)


def promotion_decision_refusal(user, promotion) -> str | None:
    """Why `user` may not approve, reject or waive on `promotion`, or None if they may.

    Four eyes: only a member of the engineer role decides (admin rights do not stand in for it), and
    never the person who asked.
    """
    if not user.is_authenticated:
        return "Sign in to decide on promotions."
    if Role.ENGINEER.value not in user_roles(user) or getattr(user, "pk", None) is None:
        return "Only engineers approve or reject promotions."
    if user.pk == promotion.requested_by_id:
        return "Four-eyes rule: you requested this promotion, so someone else must decide on it."
    return None


def can_decide_promotion(user, promotion) -> bool:
    return promotion_decision_refusal(user, promotion) is None


def require_decision_rights(user, promotion) -> None:
    refusal = promotion_decision_refusal(user, promotion)
    if refusal:
        raise PermissionDenied(refusal)


def can_withdraw_promotion(user, promotion) -> bool:
    return user.is_authenticated and user.pk == promotion.requested_by_id


def can_retry_apply(user) -> bool:
    return user.is_authenticated and has_role(user, Role.ENGINEER)


# -- audit ------------------------------------------------------------------------------------------------
def can_view_audit(user) -> bool:
    return user.is_authenticated and has_role(user, Role.COMPLIANCE)
