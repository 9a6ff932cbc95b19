"""Admin for what admins configure by hand: notification destinations, monitoring policies, purposes.
Workflow objects are changed through the services (pages, API), so they are read-only here."""

from django.contrib import admin

from .forms import NotificationChannelForm
from .models import (
    Alert,
    AuditEvent,
    MonitoringPolicy,
    NotificationChannel,
    Purpose,
    VerificationScript,
)


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = NotificationChannelForm  # webhook URLs checked like every URL the server fetches
    list_display = ["name", "kind", "target", "min_severity", "domain", "is_enabled"]
    list_filter = ["kind", "min_severity", "is_enabled"]
    search_fields = ["name", "target"]


@admin.register(MonitoringPolicy)
class MonitoringPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "domain", "model", "max_data_age_hours", "bias_tolerance_std", "mitigations"]
    list_select_related = ["domain", "model"]
    raw_id_fields = ["model"]


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["name", "allowed_legal_bases", "is_active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "actor_name", "action", "target_label"]
    list_filter = ["action"]
    search_fields = ["target_label", "actor_name"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["model", "condition", "severity", "state", "last_seen"]
    list_filter = ["condition", "severity", "state"]
    list_select_related = ["model"]


@admin.register(VerificationScript)
class VerificationScriptAdmin(ReadOnlyAdmin):
    list_display = ["model", "name", "revision", "is_active", "updated_at"]
    list_select_related = ["model"]
