"""Promotion requests: ask, waive, decide (four eyes), write back to the registry, roll back."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Lifecycle, ModelAlias, ModelVersion, RegisteredModel
from catalog.registries.base import RegistryError
from catalog.services import version_alias_set
from portal.exceptions import DomainError
from portal.roles import SYSTEM

from .. import policies
from ..models import ApplyStatus, Gate, GateWaiver, PromotionRequest, PromotionStatus
from ..workflows import CANCELLED, DONE, IN_REVIEW
from .audit import audit_record
from .gates import FAIL, gates_evaluate
from .work_items import work_item_create, work_item_transition

TARGET_RE = re.compile(r"^[A-Za-z][\w\-]{0,99}$")
STAGE_TARGETS = {"staging": Lifecycle.STAGING, "production": Lifecycle.PRODUCTION}
MIN_REASON = 10


def _label(p: PromotionRequest) -> str:
    return f"{p.model.name} v{p.version.version} -> {p.target}"


def _locked(promotion: PromotionRequest) -> PromotionRequest:
    return (
        PromotionRequest.objects.select_for_update(of=("self",))
        .select_related("model", "version", "work_item")
        .get(pk=promotion.pk)
    )


@transaction.atomic
def promotion_request(
    *,
    actor,
    version: ModelVersion,
    target: str,
    justification: str,
    is_rollback: bool = False,
    is_automatic: bool = False,
) -> PromotionRequest:
    """Ask for `version` to become `target`. Opens a promotion work item in the model's domain."""
    model = version.model
    if not is_automatic:
        policies.require(
            policies.can_request_promotion(actor, model), "Only the model's owners request promotions."
        )
    target = (target or "").strip()
    if not TARGET_RE.match(target):
        raise ValidationError({"target": "staging, production, or an alias of letters, digits, '-' and '_'."})
    justification = (justification or "").strip()
    if len(justification) < MIN_REASON:
        raise ValidationError({"justification": "Say why this version should be promoted (10+ characters)."})
    if version.status != "ready":
        raise ValidationError({"version": f"v{version.version} is {version.get_status_display().lower()}."})
    if PromotionRequest.objects.filter(model=model, target=target, status=PromotionStatus.PENDING).exists():
        raise ValidationError(
            {
                "target": f"{model.name} already has a pending promotion to {target}; decide or "
                "withdraw it first."
            }
        )
    current = ModelAlias.objects.filter(model=model, alias=target).select_related("version").first()
    if current and current.version_id == version.pk:
        raise ValidationError({"version": f"v{version.version} already is {target}."})
    if getattr(actor, "pk", None) is None:
        raise ValidationError("A promotion is requested in a person's name (automatic ones name the owner).")
    promotion = PromotionRequest.objects.create(
        model=model,
        version=version,
        target=target,
        justification=justification,
        requested_by=actor,
        previous_version=current.version if current else None,
        is_rollback=is_rollback,
        is_automatic=is_automatic,
    )
    item = work_item_create(
        actor=actor,
        domain=model.domain,
        type="promotion",
        priority="high",
        title=f"{'Roll back' if is_rollback else 'Promote'} {model.name} v{version.version} to {target}",
        description=justification,
        model=model,
        version=version,
        _system=True,
    )
    item = work_item_transition(actor=actor, item=item, to_status=IN_REVIEW, _system=True)
    promotion.work_item = item
    promotion.save(update_fields=["work_item"])
    from .verification import verification_queue

    verification_queue(version=version, trigger="promotion")  # fresh evidence for the decision
    audit_record(
        actor=actor,
        action="promotion.requested",
        target=promotion,
        target_label=_label(promotion),
        after={
            "version": version.version,
            "target": target,
            "previous_version": current.version.version if current else None,
            "is_rollback": is_rollback,
        },
        reason=justification,
    )
    return promotion


@transaction.atomic
def promotion_waive_gate(*, actor, promotion: PromotionRequest, gate: str, reason: str) -> GateWaiver:
    """Let a failing gate through. Needs decision rights and a written reason; shown forever after."""
    promotion = _locked(promotion)
    policies.require_decision_rights(actor, promotion)
    if promotion.status != PromotionStatus.PENDING:
        raise DomainError(f"This promotion is already {promotion.get_status_display().lower()}.")
    if gate not in Gate.values:
        raise ValidationError({"gate": f"One of {', '.join(Gate.values)}."})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": "A waiver needs a written reason (10+ characters)."})
    result = next(r for r in gates_evaluate(promotion=promotion) if r.gate == gate)
    if result.status != FAIL:
        raise ValidationError({"gate": f"{result.label} is not failing ({result.status}); nothing to waive."})
    waiver = GateWaiver.objects.create(promotion=promotion, gate=gate, reason=reason, waived_by=actor)
    audit_record(
        actor=actor,
        action="promotion.gate_waived",
        target=promotion,
        target_label=_label(promotion),
        before={"gate": gate, "status": FAIL, "evidence": result.evidence},
        after={"status": "waived"},
        reason=reason,
    )
    return waiver


def _decide(actor, promotion, *, approve: bool, comment: str) -> PromotionRequest:
    promotion = _locked(promotion)  # concurrent deciders queue here; the second sees the first's decision
    policies.require_decision_rights(actor, promotion)
    if promotion.status != PromotionStatus.PENDING:
        who = f" by {promotion.decided_by}" if promotion.decided_by_id else ""
        raise DomainError(f"This promotion was already {promotion.get_status_display().lower()}{who}.")
    gates = gates_evaluate(promotion=promotion)  # re-evaluated now, not trusted from request time
    if approve:
        failing = [g for g in gates if g.status == FAIL]
        if failing:
            raise ValidationError({"gates": [f"{g.label}: {g.evidence}" for g in failing]})
    elif len((comment or "").strip()) < MIN_REASON:
        raise ValidationError({"comment": "Say why the promotion is rejected (10+ characters)."})
    promotion.status = PromotionStatus.APPROVED if approve else PromotionStatus.REJECTED
    promotion.decided_by, promotion.decided_at = actor, timezone.now()
    promotion.decision_comment = (comment or "").strip()
    promotion.gates_at_decision = [g.as_dict() for g in gates]
    if approve:
        promotion.apply_status = ApplyStatus.PENDING
    promotion.save()
    if promotion.work_item_id:
        promotion.work_item = work_item_transition(
            actor=actor,
            item=promotion.work_item,
            to_status=DONE if approve else CANCELLED,
            comment=promotion.decision_comment or "Approved.",
            _system=True,
        )
    audit_record(
        actor=actor,
        action="promotion.approved" if approve else "promotion.rejected",
        target=promotion,
        target_label=_label(promotion),
        before={"status": PromotionStatus.PENDING},
        after={"status": promotion.status, "gates": promotion.gates_at_decision},
        reason=promotion.decision_comment,
    )
    if approve:
        from ..tasks import promotion_apply_task

        transaction.on_commit(lambda: promotion_apply_task.delay(promotion.pk))
    return promotion


@transaction.atomic
def promotion_approve(*, actor, promotion: PromotionRequest, comment: str = "") -> PromotionRequest:
    """Approve (engineers only, never the requester; every gate passing or waived). Exactly one decision
    wins when two engineers click at once. The write-back to the registry follows in a worker."""
    return _decide(actor, promotion, approve=True, comment=comment)


@transaction.atomic
def promotion_reject(*, actor, promotion: PromotionRequest, comment: str) -> PromotionRequest:
    return _decide(actor, promotion, approve=False, comment=comment)


@transaction.atomic
def promotion_withdraw(*, actor, promotion: PromotionRequest, reason: str = "") -> PromotionRequest:
    promotion = _locked(promotion)
    policies.require(policies.can_withdraw_promotion(actor, promotion), "Only the requester withdraws it.")
    if promotion.status != PromotionStatus.PENDING:
        raise DomainError(f"This promotion is already {promotion.get_status_display().lower()}.")
    promotion.status = PromotionStatus.WITHDRAWN
    promotion.save(update_fields=["status"])
    if promotion.work_item_id:
        promotion.work_item = work_item_transition(
            actor=actor,
            item=promotion.work_item,
            to_status=CANCELLED,
            comment=reason or "Withdrawn by the requester.",
            _system=True,
        )
    audit_record(
        actor=actor,
        action="promotion.withdrawn",
        target=promotion,
        target_label=_label(promotion),
        before={"status": PromotionStatus.PENDING},
        after={"status": PromotionStatus.WITHDRAWN},
        reason=reason,
    )
    return promotion


def _write_to_registry(promotion: PromotionRequest) -> str:
    source = promotion.model.source
    if source is None or source.kind != "mlflow":
        return "catalog only (the model lives in no writable registry)"
    from catalog.registries.mlflow import MlflowConnector

    MlflowConnector.for_source(source).set_alias(
        model_name=promotion.model.name, alias=promotion.target, version=promotion.version.version
    )
    return f"MLflow alias {promotion.target!r} set on {source.name}"


def promotion_apply(*, promotion_id: int, final_attempt: bool = True) -> PromotionRequest:
    """Write an approved promotion to the source registry and the catalog. Idempotent: an applied promotion
    is left alone. Raises RegistryError for a transient failure that should be retried."""
    with transaction.atomic():
        promotion = (
            PromotionRequest.objects.select_for_update(of=("self",))
            .select_related("model", "model__source", "version")
            .get(pk=promotion_id)
        )
        if promotion.status != PromotionStatus.APPROVED or promotion.apply_status == ApplyStatus.APPLIED:
            return promotion
        promotion.apply_attempts += 1
        promotion.save(update_fields=["apply_attempts"])
    try:
        where = _write_to_registry(promotion)  # outside the transaction: no row lock held over HTTP
    except RegistryError as exc:
        if exc.transient and not final_attempt:
            PromotionRequest.objects.filter(pk=promotion.pk).update(apply_error=exc.message)
            raise
        with transaction.atomic():
            promotion = PromotionRequest.objects.select_for_update().get(pk=promotion_id)
            promotion.apply_status, promotion.apply_error = ApplyStatus.FAILED, exc.message
            promotion.save(update_fields=["apply_status", "apply_error"])
            audit_record(
                actor=SYSTEM,
                action="promotion.apply_failed",
                target=promotion,
                target_label=_label(promotion),
                after={"apply_status": ApplyStatus.FAILED},
                reason=exc.message,
            )
        return promotion
    with transaction.atomic():
        promotion = (
            PromotionRequest.objects.select_for_update(of=("self",))
            .select_related("model", "version")
            .get(pk=promotion_id)
        )
        version_alias_set(model=promotion.model, alias=promotion.target, version=promotion.version)
        if promotion.target in STAGE_TARGETS:
            RegisteredModel.objects.filter(pk=promotion.model_id).update(
                lifecycle=STAGE_TARGETS[promotion.target], updated_at=timezone.now()
            )
        promotion.apply_status, promotion.apply_error = ApplyStatus.APPLIED, ""
        promotion.applied_at = timezone.now()
        promotion.save(update_fields=["apply_status", "apply_error", "applied_at"])
        audit_record(
            actor=SYSTEM,
            action="promotion.applied",
            target=promotion,
            target_label=_label(promotion),
            before={"apply_status": ApplyStatus.PENDING},
            after={"apply_status": ApplyStatus.APPLIED, "where": where},
        )
    return promotion


@transaction.atomic
def promotion_retry_apply(*, actor, promotion: PromotionRequest) -> PromotionRequest:
    policies.require(policies.can_retry_apply(actor), "Only engineers retry a write-back.")
    promotion = _locked(promotion)
    if promotion.apply_status != ApplyStatus.FAILED:
        raise DomainError("Only a failed write-back can be retried.")
    promotion.apply_status = ApplyStatus.PENDING
    promotion.save(update_fields=["apply_status"])
    audit_record(
        actor=actor,
        action="promotion.apply_retried",
        target=promotion,
        target_label=_label(promotion),
        before={"apply_status": ApplyStatus.FAILED},
        after={"apply_status": ApplyStatus.PENDING},
    )
    from ..tasks import promotion_apply_task

    transaction.on_commit(lambda: promotion_apply_task.delay(promotion.pk))
    return promotion


@transaction.atomic
def promotion_rollback(
    *, actor, model: RegisteredModel, target: str = "production", reason: str = "", automatic: bool = False
) -> PromotionRequest:
    """One action: request promotion of the version that held `target` before the current one."""
    if not automatic:  # asked first, so nobody else learns whether there is anything to roll back to
        policies.require(
            policies.can_request_promotion(actor, model), "Only the model's owners request promotions."
        )
    history = list(
        PromotionRequest.objects.filter(model=model, target=target, apply_status=ApplyStatus.APPLIED)
        .select_related("version")
        .order_by("-applied_at", "-id")[:2]
    )
    current = ModelAlias.objects.filter(model=model, alias=target).first()
    previous = next((p.version for p in history if not current or p.version_id != current.version_id), None)
    if previous is None and history and history[0].previous_version_id:
        previous = history[0].previous_version
    if previous is None:
        raise ValidationError(
            {"target": f"No earlier approved version of {model.name} at {target} to roll back to."}
        )
    return promotion_request(
        actor=actor,
        version=previous,
        target=target,
        is_rollback=True,
        justification=reason.strip() or f"Roll back {target} to the previously approved v{previous.version}.",
        is_automatic=automatic,
    )
