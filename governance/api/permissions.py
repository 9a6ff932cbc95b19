"""DRF permission classes for the governance API. They only ask governance.policies; services ask again
(and the four-eyes refusals, which name their reason, come from the services)."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import policies
from ..selectors.audit import AUDIT_READ_REFUSAL


class CanCreateWorkItem(BasePermission):
    message = "Sign in to create work items."

    def has_permission(self, request, view) -> bool:
        return request.method != "POST" or policies.can_create_work_item(request.user)


class CanEditWorkItem(BasePermission):
    """Reading an item: everyone signed in; changing it: its reporter, assignee, engineers and managers."""

    message = "Only the reporter, the assignee, engineers and managers edit this item."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or policies.can_edit_work_item(request.user, obj)


class CanViewAudit(BasePermission):
    message = AUDIT_READ_REFUSAL

    def has_permission(self, request, view) -> bool:
        return policies.can_view_audit(request.user)


class CanRetryApply(BasePermission):
    message = "Only engineers retry a write-back."

    def has_permission(self, request, view) -> bool:
        return policies.can_retry_apply(request.user)


class CanAttestDod(BasePermission):
    message = "Only the model's owners and engineers attest."

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or policies.can_attest_dod(request.user, obj)
