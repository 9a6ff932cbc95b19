from .audit import AuditEvent
from .dod import ATTESTED_ITEMS, DodAttestation, DodItem
from .promotions import ApplyStatus, Gate, GateWaiver, PromotionRequest, PromotionStatus
from .work_items import (
    PRIORITY_RANK,
    Comment,
    LinkKind,
    Priority,
    SlaState,
    Status,
    WorkItem,
    WorkItemCounter,
    WorkItemLink,
    WorkItemType,
)

__all__ = [
    "PRIORITY_RANK",
    "PRIORITY_RANK_MAP",
    "ATTESTED_ITEMS",
    "ApplyStatus",
    "AuditEvent",
    "Comment",
    "DodAttestation",
    "DodItem",
    "Gate",
    "GateWaiver",
    "LinkKind",
    "Priority",
    "PromotionRequest",
    "PromotionStatus",
    "SlaState",
    "Status",
    "WorkItem",
    "WorkItemCounter",
    "WorkItemLink",
    "WorkItemType",
]
