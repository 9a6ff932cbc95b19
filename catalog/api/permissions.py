"""DRF permission classes of the catalog API. They only ask catalog.policies, so the API refuses early
(403 before looking at the body) with the same answer the services would give; services still check."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import policies
from ..models import ModelVersion


class CanRegisterModel(BasePermission):
    """POST registers a model: scientists, engineers and admins."""

    message = "Only scientists, engineers and admins register models."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or policies.can_register_model(request.user)


class CanEditModel(BasePermission):
    """Writes to a model, or to one of its versions: the model's owners and admins."""

    message = "Only the model's owners or an admin may change it."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        model = obj.model if isinstance(obj, ModelVersion) else obj
        return policies.can_edit_model(request.user, model)


class CanManageDatasets(BasePermission):
    """POST registers a dataset (writers, compliance); edits need the dataset's owner or compliance."""

    message = "You may not change datasets here."

    def has_permission(self, request, view) -> bool:
        return request.method != "POST" or policies.can_manage_dataset(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or policies.can_manage_dataset(request.user, obj)


class CanManageRegistries(BasePermission):
    """Reading registry sources: everyone signed in; configuring them: admins."""

    message = "Only admins configure registries."

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or policies.can_manage_registries(request.user)


class CanTriggerSync(BasePermission):
    message = "Only engineers and admins start a sync."

    def has_permission(self, request, view) -> bool:
        return policies.can_trigger_sync(request.user)
