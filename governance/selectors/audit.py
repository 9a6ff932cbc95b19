"""Audit-trail reads: compliance and admins only."""

from __future__ import annotations

from django.db.models import QuerySet

from .. import policies
from ..filters import AuditEventFilter
from ..models import AuditEvent
from ._filtering import apply_filterset

AUDIT_ORDERING = ("-seq",)
AUDIT_READ_REFUSAL = "Only compliance and admins read the audit trail."


def audit_event_list(*, user, filters=None, oldest_first: bool = False) -> QuerySet[AuditEvent]:
    """Audit events filtered by action prefix, actor username, target type/id and date range (since/until,
    inclusive days), newest first unless `oldest_first`.

    Raises PermissionDenied unless policies.can_view_audit(user); ValidationError for a bad filter value.
    """
    policies.require(policies.can_view_audit(user), AUDIT_READ_REFUSAL)
    qs = apply_filterset(AuditEventFilter, filters, AuditEvent.objects.all())
    return qs.order_by("seq") if oldest_first else qs.order_by(*AUDIT_ORDERING)
