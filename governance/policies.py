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


# -- alerts -----------------------------------------------------------------------------------------------
def can_handle_alert(user, model) -> bool:
    """A model's owners and the engineers who run production act on its alerts (acknowledge, resolve)."""
    return bool(getattr(user, "pk", None)) and (
        catalog_policies.can_edit_model(user, model) or has_role(user, Role.ENGINEER)
    )


# -- audit ------------------------------------------------------------------------------------------------
def can_view_audit(user) -> bool:
    return user.is_authenticated and has_role(user, Role.COMPLIANCE)


# -- data access ------------------------------------------------------------------------------------------
def can_request_access(user) -> bool:
    return user.is_authenticated and getattr(user, "pk", None) is not None


def can_manage_purposes(user) -> bool:
    return user.is_authenticated and has_role(user, Role.COMPLIANCE)


def step_decision_refusal(user, step) -> str | None:
    """Why `user` may not decide this approval step, or None. Nobody decides on their own request; an owner
    step belongs to the dataset's owner (compliance stands in when there is none); the compliance step to
    compliance officers."""
    if not user.is_authenticated or getattr(user, "pk", None) is None:
        return "Sign in to decide on access requests."
    if user.pk == step.request.requester_id:
        return "Nobody approves their own access request."
    is_compliance = Role.COMPLIANCE.value in user_roles(user)
    if step.kind == "owner":
        if step.approver_id is None:
            return None if is_compliance else "This dataset has no owner to ask, so compliance decides."
        return None if user.pk == step.approver_id else "Only the dataset's owner decides this step."
    return None if is_compliance else "Only compliance officers give the compliance approval."


def can_revoke_grant(user) -> bool:
    return user.is_authenticated and Role.COMPLIANCE.value in user_roles(user)


def can_run_campaigns(user) -> bool:
    return user.is_authenticated and Role.COMPLIANCE.value in user_roles(user)


def can_view_compliance_dashboard(user) -> bool:
    """Compliance officers and admins."""
    return user.is_authenticated and has_role(user, Role.COMPLIANCE)


def require_compliance_dashboard(user) -> None:
    """The compliance dashboard and the parts it loads later answer 403 with this to anyone else."""
    require(
        can_view_compliance_dashboard(user), "The compliance dashboard is for compliance officers and admins."
    )


def campaign_attest_refusal(user, item) -> str | None:
    """Why `user` may not attest this campaign item, or None: the dataset's owner attests; compliance
    stands in for a dataset without an owner."""
    if item.owner_id is not None:
        return None if user.pk == item.owner_id else "Only the dataset's owner attests this grant."
    return None if can_run_campaigns(user) else "This dataset has no owner, so compliance attests."


def can_withdraw_access_request(user, request) -> bool:
    return user.is_authenticated and user.pk == request.requester_id


NOT_YOUR_TURN = "Compliance approves after every data owner has approved; owners are still deciding."


def steps_open_to_decide(request) -> list:
    """The approval chain's order: owner steps first (any order); compliance once every owner approved."""
    steps = list(request.steps.all())
    pending_owner = [s for s in steps if s.kind == "owner" and s.status == "pending"]
    if pending_owner:
        return pending_owner
    return [s for s in steps if s.kind == "compliance" and s.status == "pending"]


def access_step_to_decide(user, request) -> tuple[object | None, str | None, bool]:
    """(the step `user` may decide on `request` now or None, why not, whether it is only not their turn).

    The one answer the service (which decides), the API and the pages (which show buttons) all use."""
    open_steps = steps_open_to_decide(request)
    step = next((st for st in open_steps if step_decision_refusal(user, st) is None), None)
    if step is not None:
        return step, None, False
    later = [st for st in request.steps.all() if st.status == "pending" and st not in open_steps]
    if any(step_decision_refusal(user, st) is None for st in later):
        return None, NOT_YOUR_TURN, True
    refusal = step_decision_refusal(user, open_steps[0]) if open_steps else None
    return None, refusal or "Nothing is waiting for your decision.", False
