"""GDPR data access: purposes, requests and their approval chain, grants, expiry, revocation, campaigns,
and the check of a model version's training data against grants. Every decision is audited."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Dataset, ModelVersion, Sensitivity
from portal.exceptions import DomainError
from portal.roles import SYSTEM
from portal.text import contains_nul

from .. import policies
from ..models import (
    OPEN_STATUSES,
    AccessRequest,
    AccessRequestDataset,
    AccessStatus,
    ApprovalStep,
    Attestation,
    Campaign,
    CampaignItem,
    LegalBasis,
    ModelPurpose,
    Purpose,
    StepKind,
    StepStatus,
)
from ..workflows import CANCELLED, DONE, IN_REVIEW, WORKFLOWS
from .audit import audit_record
from .work_items import work_item_create, work_item_transition

MAX_GRANT_DAYS = getattr(settings, "MODELHOUSE_MAX_GRANT_DAYS", 365)
REMINDER_DAYS = 14
MIN_REASON = 10


def needs_dpia(dataset: Dataset) -> bool:
    return dataset.is_special_category or dataset.sensitivity == Sensitivity.RESTRICTED


def _label(request: AccessRequest) -> str:
    return f"Access #{request.pk} ({request.requester})"


# -- purposes ---------------------------------------------------------------------------------------------
@transaction.atomic
def purpose_create(*, actor, name: str, description: str, allowed_legal_bases: list[str]) -> Purpose:
    policies.require(policies.can_manage_purposes(actor), "Only compliance maintains the purpose registry.")
    bad = sorted(set(allowed_legal_bases or []) - set(LegalBasis.values))
    if not allowed_legal_bases or bad:
        raise ValidationError({"allowed_legal_bases": f"Choose from {', '.join(LegalBasis.values)}."})
    purpose = Purpose(
        name=name.strip(),
        slug=slugify(name),
        description=description.strip(),
        allowed_legal_bases=sorted(set(allowed_legal_bases)),
    )
    purpose.full_clean()
    purpose.save()
    audit_record(
        actor=actor,
        action="purpose.created",
        target=purpose,
        after={"name": purpose.name, "allowed_legal_bases": purpose.allowed_legal_bases},
    )
    return purpose


@transaction.atomic
def model_purpose_set(*, actor, model, purpose: Purpose) -> ModelPurpose:
    from catalog import policies as catalog_policies

    policies.require(
        catalog_policies.can_edit_model(actor, model), "Only the model's owners declare its purpose."
    )
    link, _ = ModelPurpose.objects.update_or_create(model=model, defaults={"purpose": purpose})
    audit_record(actor=actor, action="model.purpose_set", target=model, after={"purpose": purpose.name})
    return link


# -- requests ---------------------------------------------------------------------------------------------
def _validate(*, datasets, purpose, legal_basis, justification, start_date, expiry_date, dpia_reference):
    errors = {}
    today = timezone.localdate()
    if not datasets:
        errors["datasets"] = "Ask for at least one dataset."
    if not purpose.is_active:
        errors["purpose"] = f"{purpose.name} is no longer an active purpose."
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = f"A GDPR Art. 6 legal basis: {', '.join(LegalBasis.values)}."
    elif legal_basis not in purpose.allowed_legal_bases:
        allowed = ", ".join(LegalBasis(b).label for b in purpose.allowed_legal_bases)
        errors["legal_basis"] = f"{purpose.name} may rest only on: {allowed}."
    if len((justification or "").strip()) < MIN_REASON:
        errors["justification"] = "Say why you need this data (10+ characters)."
    if expiry_date is None:
        errors["expiry_date"] = "An expiry date is required."
    elif expiry_date <= today:
        errors["expiry_date"] = "The expiry date must be in the future."
    elif start_date and expiry_date <= start_date:
        errors["expiry_date"] = "The expiry date must be after the start date."
    elif start_date and (expiry_date - start_date).days > MAX_GRANT_DAYS:
        errors["expiry_date"] = f"Access is granted for at most {MAX_GRANT_DAYS} days; ask again to renew."
    if start_date is None:
        errors["start_date"] = "A start date is required."
    if any(needs_dpia(d) for d, _ in datasets) and not (dpia_reference or "").strip():
        names = ", ".join(d.name for d, _ in datasets if needs_dpia(d))
        errors["dpia_reference"] = f"{names} is special-category or restricted: give the DPIA reference."
    if contains_nul([justification, dpia_reference, [c for _, cols in datasets for c in cols]]):
        errors["justification"] = "Null characters are not allowed."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def access_request_create(
    *,
    actor,
    datasets: list[tuple[Dataset, list[str]]],
    purpose: Purpose,
    legal_basis: str,
    justification: str,
    start_date: datetime.date,
    expiry_date: datetime.date,
    dpia_reference: str = "",
    team=None,
    submit: bool = True,
) -> AccessRequest:
    """Ask for datasets (optionally named columns) for a purpose until a date. Submitted at once unless
    `submit=False` (a draft)."""
    policies.require(policies.can_request_access(actor), "Sign in to request data access.")
    _validate(
        datasets=datasets,
        purpose=purpose,
        legal_basis=legal_basis,
        justification=justification,
        start_date=start_date,
        expiry_date=expiry_date,
        dpia_reference=dpia_reference,
    )
    request = AccessRequest.objects.create(
        requester=actor,
        team=team,
        purpose=purpose,
        legal_basis=legal_basis,
        justification=justification.strip(),
        start_date=start_date,
        expiry_date=expiry_date,
        dpia_reference=(dpia_reference or "").strip(),
    )
    AccessRequestDataset.objects.bulk_create(
        [
            AccessRequestDataset(request=request, dataset=d, columns=sorted(set(cols or [])))
            for d, cols in datasets
        ]
    )
    audit_record(
        actor=actor,
        action="access.requested",
        target=request,
        target_label=_label(request),
        after={
            "datasets": [d.uri for d, _ in datasets],
            "purpose": purpose.name,
            "legal_basis": legal_basis,
            "start_date": start_date,
            "expiry_date": expiry_date,
        },
    )
    if submit:
        request = access_request_submit(actor=actor, request=request)
    return request


@transaction.atomic
def access_request_submit(*, actor, request: AccessRequest) -> AccessRequest:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    policies.require(actor.pk == request.requester_id, "Only the requester submits the request.")
    if request.status != AccessStatus.DRAFT:
        raise DomainError(f"This request is already {request.get_status_display().lower()}.")
    entries = list(request.dataset_entries.select_related("dataset", "dataset__owner", "dataset__domain"))
    steps = []
    for entry in entries:
        owner = entry.dataset.owner
        # The requester never approves their own request: compliance stands in for such an owner.
        approver = owner if owner is not None and owner.pk != request.requester_id else None
        steps.append(
            ApprovalStep(request=request, kind=StepKind.OWNER, dataset=entry.dataset, approver=approver)
        )
    if any(e.dataset.has_pii for e in entries):
        steps.append(ApprovalStep(request=request, kind=StepKind.COMPLIANCE))
    ApprovalStep.objects.bulk_create(steps)
    domain = next((e.dataset.domain for e in entries if e.dataset.domain_id), None)
    if domain is None:
        from catalog.models import Domain

        domain = Domain.objects.order_by("name").first()
    if domain is not None:
        request.work_item = work_item_create(
            actor=actor,
            domain=domain,
            type="data_access",
            priority="medium",
            _system=True,
            title=_item_title(request, entries),
            description=request.justification,
            dataset=entries[0].dataset,
            due_date=request.start_date,
        )
    request.status, request.submitted_at = AccessStatus.SUBMITTED, timezone.now()
    request.save(update_fields=["status", "submitted_at", "work_item"])
    audit_record(
        actor=actor,
        action="access.submitted",
        target=request,
        target_label=_label(request),
        before={"status": AccessStatus.DRAFT},
        after={"status": AccessStatus.SUBMITTED, "steps": [s.get_kind_display() for s in steps]},
    )
    return request


def _item_title(request: AccessRequest, entries) -> str:
    names = ", ".join(e.dataset.name for e in entries)[:150]
    return f"Data access: {names} for {request.purpose.name}"[:200]


steps_open_to_decide = policies.steps_open_to_decide  # kept for callers of the service module


@transaction.atomic
def access_request_decide(*, actor, request: AccessRequest, approve: bool, reason: str = "") -> AccessRequest:
    """Record `actor`'s decision on the step they may decide now. A rejection (with a reason) rejects the
    whole request; the last approval grants it."""
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if request.status not in OPEN_STATUSES:
        raise DomainError(
            f"This request is {request.get_status_display().lower()}; there is nothing to decide."
        )
    step, refusal, not_your_turn = policies.access_step_to_decide(actor, request)
    if step is None:
        raise DomainError(refusal) if not_your_turn else PermissionDenied(refusal)
    reason = (reason or "").strip()
    if not approve and len(reason) < MIN_REASON:
        raise ValidationError({"reason": "A rejection needs a reason (10+ characters)."})
    step.status = StepStatus.APPROVED if approve else StepStatus.REJECTED
    step.decided_by, step.decided_at, step.reason = actor, timezone.now(), reason
    step.save()
    before = request.status
    if not approve:
        request.status = AccessStatus.REJECTED
    elif not steps_open_to_decide(request):
        request.status = AccessStatus.APPROVED
    else:
        request.status = AccessStatus.IN_REVIEW
    if request.status in (AccessStatus.APPROVED, AccessStatus.REJECTED):
        request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        action=f"access.{step.kind}_{'approved' if approve else 'rejected'}",
        target=request,
        target_label=_label(request),
        before={"status": before},
        after={
            "status": request.status,
            "step": step.get_kind_display(),
            "dataset": step.dataset.uri if step.dataset_id else None,
        },
        reason=reason,
    )
    if request.status == AccessStatus.APPROVED:
        audit_record(
            actor=actor,
            action="access.granted",
            target=request,
            target_label=_label(request),
            after={"valid_from": request.start_date, "valid_until": request.expiry_date},
        )
    _move_item(actor, request, reason)
    return request


def _move_item(actor, request: AccessRequest, reason: str) -> None:
    """Keep the request's work item in step with the request (in review, done, or cancelled)."""
    item = request.work_item
    if item is None:
        return
    target = {AccessStatus.IN_REVIEW: IN_REVIEW, AccessStatus.APPROVED: DONE}.get(request.status, CANCELLED)
    if target == DONE and item.status == "open":
        item = work_item_transition(actor=actor, item=item, to_status=IN_REVIEW, _system=True)
    if item.status != target and target in WORKFLOWS["data_access"].allowed(item.status):
        item = work_item_transition(
            actor=actor,
            item=item,
            to_status=target,
            _system=True,
            comment=reason or request.get_status_display(),
        )
    request.work_item = item


@transaction.atomic
def access_request_withdraw(*, actor, request: AccessRequest, reason: str = "") -> AccessRequest:
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    policies.require(policies.can_withdraw_access_request(actor, request), "Only the requester withdraws it.")
    if request.status not in (AccessStatus.DRAFT, *OPEN_STATUSES):
        raise DomainError(f"This request is already {request.get_status_display().lower()}.")
    before, request.status = request.status, AccessStatus.WITHDRAWN
    request.save(update_fields=["status"])
    _move_item(actor, request, reason or "Withdrawn by the requester.")
    audit_record(
        actor=actor,
        action="access.withdrawn",
        target=request,
        target_label=_label(request),
        before={"status": before},
        after={"status": request.status},
        reason=reason,
    )
    return request


# -- grants -----------------------------------------------------------------------------------------------
def _end_grant(actor, request: AccessRequest, *, status: str, reason: str, action: str) -> AccessRequest:
    request.status, request.ended_at, request.end_reason = status, timezone.now(), reason
    request.ended_by = actor if getattr(actor, "pk", None) else None
    request.save(update_fields=["status", "ended_at", "end_reason", "ended_by"])
    audit_record(
        actor=actor,
        action=action,
        target=request,
        target_label=_label(request),
        before={"status": AccessStatus.APPROVED},
        after={"status": status},
        reason=reason,
    )
    grant_lapsed(request=request)
    return request


@transaction.atomic
def grant_revoke(*, actor, request: AccessRequest, reason: str) -> AccessRequest:
    """Compliance ends a grant at once, with a reason."""
    policies.require(policies.can_revoke_grant(actor), "Only compliance revokes grants.")
    request = AccessRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != AccessStatus.APPROVED:
        raise DomainError(
            f"Only an active grant can be revoked; this one is {request.get_status_display().lower()}."
        )
    if len((reason or "").strip()) < MIN_REASON:
        raise ValidationError({"reason": "A revocation needs a reason (10+ characters)."})
    return _end_grant(
        actor, request, status=AccessStatus.REVOKED, reason=reason.strip(), action="access.revoked"
    )


def grants_expire(*, today: datetime.date | None = None) -> list[int]:
    """Expire every active grant whose expiry date has passed. Returns their ids. Safe to run any time."""
    today = today or timezone.localdate()
    expired = []
    for pk in AccessRequest.objects.filter(status=AccessStatus.APPROVED, expiry_date__lt=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            request = AccessRequest.objects.select_for_update().get(pk=pk)
            if request.status == AccessStatus.APPROVED and request.expiry_date < today:
                _end_grant(
                    SYSTEM,
                    request,
                    status=AccessStatus.EXPIRED,
                    action="access.expired",
                    reason=f"Expired on {request.expiry_date:%Y-%m-%d}.",
                )
                expired.append(pk)
    return expired


def grants_remind(*, today: datetime.date | None = None, days: int = REMINDER_DAYS) -> int:
    """E-mail requester and data owners once about grants ending within `days`. Returns e-mails sent."""
    today = today or timezone.localdate()
    due = (
        AccessRequest.objects.filter(
            status=AccessStatus.APPROVED,
            reminder_sent_at__isnull=True,
            expiry_date__gte=today,
            expiry_date__lte=today + datetime.timedelta(days=days),
        )
        .select_related("requester", "purpose")
        .prefetch_related("dataset_entries__dataset__owner")
    )
    sent = 0
    for request in due:
        owners = {e.dataset.owner for e in request.dataset_entries.all() if e.dataset.owner}
        recipients = sorted({u.email for u in {request.requester, *owners} if u.email})
        datasets = ", ".join(e.dataset.name for e in request.dataset_entries.all())
        if recipients:
            send_mail(
                subject=f"Data access ends on {request.expiry_date:%d %b %Y}: {datasets}",
                message=(
                    f"Access #{request.pk} of {request.requester} to {datasets} for "
                    f"'{request.purpose.name}' expires on {request.expiry_date:%Y-%m-%d}. "
                    "Ask again before then if the data is still needed."
                ),
                from_email=None,
                recipient_list=recipients,
            )
            sent += 1
        AccessRequest.objects.filter(pk=request.pk).update(reminder_sent_at=timezone.now())
    return sent


def grant_lapsed(*, request: AccessRequest) -> None:
    """A revoked or expired grant that leaves a production model's training data uncovered opens a critical
    incident on that model (once). Models covered by another grant are left alone."""
    from catalog.models import ModelAlias

    from ..models import WorkItem

    dataset_ids = list(request.dataset_entries.values_list("dataset_id", flat=True))
    today = timezone.localdate()
    aliases = (
        ModelAlias.objects.filter(
            alias="production",
            version__dataset_links__dataset_id__in=dataset_ids,
            version__dataset_links__role="training",
        )
        .select_related("model", "model__domain", "version")
        .distinct()
    )
    for alias in aliases:
        model = alias.model
        uncovered = [
            u
            for u in version_data_uses(version=alias.version, at=today)
            if u.needs_grant and not u.covered and u.dataset.pk in dataset_ids
        ]
        if not uncovered:
            continue
        title = f"Training data access lapsed: grant #{request.pk} ({request.get_status_display().lower()})"
        if WorkItem.objects.filter(model=model, type="incident", title=title).exists():
            continue
        owner = model.ownerships.select_related("user").order_by("role").first()
        work_item_create(
            actor=SYSTEM if owner is None else owner.user,
            domain=model.domain,
            type="incident",
            priority="critical",
            title=title,
            model=model,
            assignee=owner.user if owner else None,
            _system=True,
            description=(
                f"{model.name} v{alias.version.version} is in production and was trained on "
                f"{', '.join(u.dataset.name for u in uncovered)}, whose access grant #{request.pk} is now "
                f"{request.get_status_display().lower()}: {request.end_reason}"
            ),
        )


# -- the check models rely on ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DataUse:
    dataset: Dataset
    role: str
    covered: bool
    needs_grant: bool
    grant: AccessRequest | None
    reason: str


def _grantee_filter(model) -> Q:
    owners = list(model.ownerships.values_list("user_id", flat=True))
    condition = Q(requester_id__in=owners)
    if model.team_id:
        condition |= Q(team_id=model.team_id)
    return condition


def version_data_uses(*, version: ModelVersion, at: datetime.date | None = None) -> list[DataUse]:
    """For each training dataset of `version`: did a grant cover its use?

    A grant covers a dataset when it names it, was given to one of the model's owners or its team, for the
    model's declared purpose, and was valid on `at` (default: the day the version was trained). Datasets
    without personal data need no grant.
    """
    model = version.model
    day = at or version.created_at.date()
    purpose = ModelPurpose.objects.filter(model=model).select_related("purpose").first()
    links = list(version.dataset_links.select_related("dataset").filter(role="training"))
    grants = list(
        AccessRequest.objects.filter(
            _grantee_filter(model),
            dataset_entries__dataset__in=[ln.dataset for ln in links],
            status__in=(AccessStatus.APPROVED, AccessStatus.REVOKED, AccessStatus.EXPIRED),
            start_date__lte=day,
            expiry_date__gte=day,
        )
        .select_related("purpose")
        .prefetch_related("dataset_entries")
        .distinct()
    )
    return data_uses_evaluate(links=links, grants=grants, purpose=purpose, day=day)


def data_uses_evaluate(
    *, links, grants, purpose, day: datetime.date, grant_datasets: Mapping[int, Collection[int]] | None = None
) -> list[DataUse]:
    """version_data_uses() on rows already loaded, for callers that check many versions at once (the
    compliance dashboard, the promotion queue's gates): `links` are the version's training links with their
    datasets, `grants` the grants to the model's owners or team valid on `day` in AccessRequest's ordering
    (purpose loaded; grants of other datasets may be among them), `purpose` the model's ModelPurpose (with
    its purpose) or None. `grant_datasets`, grant id -> the ids of the datasets it names (at least those of
    the links with personal data), says what each grant names; without it the grants' dataset entries are
    read (prefetch them). Of a grant only pk, status, ended_at, expiry_date, purpose_id and purpose.name are
    read, so a batch may pass lighter rows and swap in the grants the uses report (DataUse.grant is the
    object passed)."""
    if grant_datasets is None:
        grant_datasets = {g.pk: {e.dataset_id for e in g.dataset_entries.all()} for g in grants}
    uses = []
    for link in links:
        dataset = link.dataset
        if not dataset.has_pii:
            uses.append(DataUse(dataset, link.role, True, False, None, "No personal data."))
            continue
        candidates = [
            g
            for g in grants
            if dataset.pk in grant_datasets[g.pk]
            and (g.status == AccessStatus.APPROVED or (g.ended_at is not None and g.ended_at.date() > day))
        ]
        if purpose is None:
            uses.append(
                DataUse(
                    dataset,
                    link.role,
                    False,
                    True,
                    candidates[0] if candidates else None,
                    "The model declares no purpose, so no grant can be checked against it.",
                )
            )
            continue
        matching = [g for g in candidates if g.purpose_id == purpose.purpose_id]
        if matching:
            grant = matching[0]
            uses.append(
                DataUse(
                    dataset,
                    link.role,
                    True,
                    True,
                    grant,
                    f"Grant #{grant.pk} for '{grant.purpose.name}' until {grant.expiry_date:%Y-%m-%d}.",
                )
            )
        elif candidates:
            uses.append(
                DataUse(
                    dataset,
                    link.role,
                    False,
                    True,
                    candidates[0],
                    f"Granted only for '{candidates[0].purpose.name}', not '{purpose.purpose.name}'.",
                )
            )
        else:
            uses.append(
                DataUse(
                    dataset,
                    link.role,
                    False,
                    True,
                    None,
                    f"No grant to the model's owners or team valid on {day:%Y-%m-%d}.",
                )
            )
    return uses


# -- re-certification -------------------------------------------------------------------------------------
@transaction.atomic
def campaign_start(*, actor, name: str, deadline: datetime.date, revoke_unattested: bool = False) -> Campaign:
    """Ask every data owner to attest keep or revoke for each active grant on their datasets by `deadline`."""
    policies.require(policies.can_run_campaigns(actor), "Only compliance runs re-certification campaigns.")
    if not (name or "").strip():
        raise ValidationError({"name": "Name the campaign (e.g. 2026 Q4)."})
    if deadline <= timezone.localdate():
        raise ValidationError({"deadline": "The deadline must be in the future."})
    campaign = Campaign.objects.create(
        name=name.strip(), started_by=actor, deadline=deadline, revoke_unattested=revoke_unattested
    )
    entries = AccessRequestDataset.objects.filter(request__status=AccessStatus.APPROVED).select_related(
        "dataset", "request"
    )
    CampaignItem.objects.bulk_create(
        [
            CampaignItem(campaign=campaign, grant_id=e.request_id, dataset=e.dataset, owner=e.dataset.owner)
            for e in entries
        ]
    )
    audit_record(
        actor=actor,
        action="campaign.started",
        target=campaign,
        after={"deadline": deadline, "items": campaign.items.count(), "revoke_unattested": revoke_unattested},
    )
    return campaign


@transaction.atomic
def campaign_attest(*, actor, item: CampaignItem, keep: bool, note: str = "") -> CampaignItem:
    """The owner keeps or revokes one grant; revoking ends the grant at once."""
    item = CampaignItem.objects.select_for_update().select_related("campaign", "grant").get(pk=item.pk)
    refusal = policies.campaign_attest_refusal(actor, item)
    if refusal:
        raise PermissionDenied(refusal)
    if item.campaign.closed_at is not None:
        raise DomainError("This campaign is closed.")
    if item.decision != Attestation.PENDING:
        raise DomainError(f"Already attested: {item.get_decision_display().lower()}.")
    if not keep and len((note or "").strip()) < MIN_REASON:
        raise ValidationError({"note": "Say why the grant should end (10+ characters)."})
    item.decision = Attestation.KEEP if keep else Attestation.REVOKE
    item.decided_by, item.decided_at, item.note = actor, timezone.now(), (note or "").strip()
    item.save()
    audit_record(
        actor=actor,
        action=f"campaign.{item.decision}",
        target=item.grant,
        target_label=_label(item.grant),
        after={"campaign": item.campaign.name, "dataset": item.dataset_id},
        reason=item.note,
    )
    if not keep:
        grant = AccessRequest.objects.select_for_update().get(pk=item.grant_id)
        if grant.status == AccessStatus.APPROVED:
            _end_grant(
                actor,
                grant,
                status=AccessStatus.REVOKED,
                action="access.revoked",
                reason=f"Not re-certified in {item.campaign.name}: {item.note}",
            )
    return item


def campaigns_close_due(*, today: datetime.date | None = None) -> list[int]:
    """Close campaigns past their deadline: unattested items are flagged and, if the campaign says so,
    their grants revoked. Returns the closed campaigns' ids."""
    today = today or timezone.localdate()
    closed = []
    for campaign_id in Campaign.objects.filter(closed_at__isnull=True, deadline__lt=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.closed_at is not None:
                continue
            missed = list(campaign.items.filter(decision=Attestation.PENDING).select_related("grant"))
            CampaignItem.objects.filter(pk__in=[i.pk for i in missed]).update(decision=Attestation.UNATTESTED)
            revoked = 0
            if campaign.revoke_unattested:
                for grant_id in sorted({i.grant_id for i in missed}):
                    grant = AccessRequest.objects.select_for_update().get(pk=grant_id)
                    if grant.status == AccessStatus.APPROVED:
                        _end_grant(
                            SYSTEM,
                            grant,
                            status=AccessStatus.REVOKED,
                            action="access.revoked",
                            reason=f"Not re-certified by the {campaign.name} deadline ({campaign.deadline}).",
                        )
                        revoked += 1
            campaign.closed_at = timezone.now()
            campaign.save(update_fields=["closed_at"])
            audit_record(
                actor=SYSTEM,
                action="campaign.closed",
                target=campaign,
                after={"unattested": len(missed), "revoked": revoked},
            )
            closed.append(campaign_id)
    return closed
