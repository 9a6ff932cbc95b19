"""The audit trail: `audit_record` is called by every governance service inside its transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from ..models import AuditEvent

GENESIS = "0" * 64
# Any constant: serialises writers of the chain on PostgreSQL (SQLite serialises writes itself).
AUDIT_LOCK_ID = 0x4D48_4155  # "MHAU"


def _canonical(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    occurred_at,
    actor_name: str,
    actor_id,
    action: str,
    target_type: str,
    target_id: str,
    target_label: str,
    before,
    after,
    reason: str,
) -> str:
    payload = _canonical(
        {
            "seq": seq,
            "occurred_at": occurred_at.isoformat(),
            "actor": actor_name,
            "actor_id": actor_id,
            "action": action,
            "target": [target_type, str(target_id), target_label],
            "before": before,
            "after": after,
            "reason": reason,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def _jsonable(value):
    return json.loads(_canonical(value or {}))


def audit_record(
    *,
    actor,
    action: str,
    target,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    target_type: str | None = None,
    target_label: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction of the change it records."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_ID])
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["hash"] if last else GENESIS
    occurred_at = timezone.now()
    actor_id = getattr(actor, "pk", None)
    actor_name = getattr(actor, "username", None) or str(actor)
    target_type = target_type or target._meta.label_lower
    target_id = str(target.pk)
    target_label = (target_label or str(target))[:300]
    before, after = _jsonable(before), _jsonable(after)
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before,
        after=after,
        reason=reason,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash=prev_hash,
            seq=seq,
            occurred_at=occurred_at,
            actor_name=actor_name,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            before=before,
            after=after,
            reason=reason,
        ),
    )
    event.save()
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_seq: int | None
    problem: str

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def audit_verify(*, batch_size: int = 2000) -> ChainReport:
    """Walk the chain in order; name the first event whose hash, link or sequence is wrong."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not rows:
            return ChainReport(checked, None, "")
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(
                    checked, expected_seq, f"event #{expected_seq} is missing (next is #{event.seq})"
                )
            if event.prev_hash != prev_hash:
                return ChainReport(
                    checked, event.seq, f"event #{event.seq} does not link to the event before it"
                )
            recomputed = event_hash(
                prev_hash=event.prev_hash,
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor_name=event.actor_name,
                actor_id=event.actor_id,
                action=event.action,
                target_type=event.target_type,
                target_id=event.target_id,
                target_label=event.target_label,
                before=event.before,
                after=event.after,
                reason=event.reason,
            )
            if recomputed != event.hash:
                return ChainReport(checked, event.seq, f"event #{event.seq} was changed after it was written")
            prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        last_seq = rows[-1].seq
