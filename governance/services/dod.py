"""Definition of done per model: computed from catalog facts where it can be, attested where it cannot."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, prefetch_related_objects

from catalog.models import ModelVersion, RegisteredModel, VersionDataset

from .. import policies
from ..models import (
    ATTESTED_ITEMS,
    FINAL_STATUSES,
    DodAttestation,
    DodItem,
    VerificationRun,
    VerificationScript,
)
from .audit import audit_record


@dataclass(frozen=True)
class DodCheck:
    item: str
    label: str
    passed: bool
    evidence: str
    attested: bool = False


@dataclass(frozen=True)
class DodReport:
    checks: list[DodCheck]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def complete(self) -> bool:
        return self.passed == self.total

    @property
    def missing(self) -> list[DodCheck]:
        return [c for c in self.checks if not c.passed]


def _dod_lookups(*, skip_loaded: RegisteredModel | None = None) -> list:
    """The prefetches dod_evaluate reads. With `skip_loaded`, leave out the relations already loaded on
    that instance (the catalog's model page loads its input datasets and owners)."""
    lookups = [
        "input_datasets",
        "ownerships",
        Prefetch("dod_attestations", queryset=DodAttestation.objects.select_related("attested_by")),
        Prefetch(
            "latest_version__dataset_links",
            queryset=VersionDataset.objects.filter(role="training"),
            to_attr="training_dataset_links",
        ),
        Prefetch(
            "verification_scripts",
            queryset=VerificationScript.objects.filter(is_active=True),
            to_attr="active_verification_scripts",
        ),
        Prefetch(
            "latest_version__verification_runs",
            queryset=VerificationRun.objects.filter(status__in=FINAL_STATUSES).order_by(
                "-finished_at", "-id"
            ),
            to_attr="finished_verification_runs",
        ),
    ]
    if skip_loaded is not None:
        loaded = getattr(skip_loaded, "_prefetched_objects_cache", {})
        lookups = [lk for lk in lookups if not (isinstance(lk, str) and lk in loaded)]
    return lookups


def dod_queryset(queryset: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    """Load what dod_evaluate reads, for any number of models, in a fixed number of queries."""
    scheduled = ModelVersion.objects.filter(model=OuterRef("pk"), training_reason="scheduled")
    return (
        queryset.select_related("latest_version")
        .annotate(_has_scheduled_retrain=Exists(scheduled))
        .prefetch_related(*_dod_lookups())
    )


def dod_load(model: RegisteredModel) -> RegisteredModel:
    """Load what dod_evaluate reads onto an already loaded `model` (its latest_version selected), reusing
    the relations it already has: one query per missing relation and one for the scheduled-retrain check,
    with no second read of the model row."""
    if not hasattr(model, "_has_scheduled_retrain"):
        model._has_scheduled_retrain = ModelVersion.objects.filter(
            model=model, training_reason="scheduled"
        ).exists()
    prefetch_related_objects([model], *_dod_lookups(skip_loaded=model))
    return model


def verification_evidence(model: RegisteredModel) -> tuple[bool, str]:
    """Whether the model has verification scripts and their latest runs on the latest version passed."""
    from .verification import verification_verdict

    version = model.latest_version
    return verification_verdict(
        version=version,
        scripts=getattr(model, "active_verification_scripts", None),
        runs=getattr(version, "finished_verification_runs", None) if version else None,
    )


def dod_evaluate(*, model: RegisteredModel) -> DodReport:
    """The checklist for one model. Pass a model loaded through dod_queryset to avoid extra queries."""
    if not hasattr(model, "_has_scheduled_retrain"):
        model = dod_queryset(RegisteredModel.objects.filter(pk=model.pk)).get()
    attestations = {a.item: a for a in model.dod_attestations.all()}
    latest = model.latest_version
    declared = [d.name for d in model.input_datasets.all()]
    trained_on = len(latest.training_dataset_links) if latest else 0
    contract = model.contract or {}
    owners = len(model.ownerships.all())
    verified, verification_note = verification_evidence(model)

    def fact(item, passed, yes, no) -> DodCheck:
        return DodCheck(item, DodItem(item).label, passed, yes if passed else no)

    checks = [
        fact(
            DodItem.DATASETS_LINKED,
            bool(declared or trained_on),
            f"{len(declared) or trained_on} input dataset(s) linked.",
            "No input datasets: declare them in the manifest or link them to a version.",
        ),
        fact(
            DodItem.CONTRACT_DEFINED,
            bool(contract.get("inputs") and contract.get("outputs")),
            f"{len(contract.get('inputs', []))} inputs, {len(contract.get('outputs', []))} outputs defined.",
            "No input and output schema (contract).",
        ),
        fact(
            DodItem.RETRAINING_REPEATABLE,
            bool(model.retrain_every_days and model._has_scheduled_retrain),
            f"Retrained every {model.retrain_every_days} days; scheduled retrains on record.",
            "Needs a retraining schedule and at least one scheduled retrain."
            if not model.retrain_every_days
            else "Scheduled, but no scheduled retrain has happened yet.",
        ),
    ]
    for item in ATTESTED_ITEMS:
        attestation = attestations.get(item)
        checks.append(
            DodCheck(
                item,
                DodItem(item).label,
                attestation is not None,
                f"Attested by {attestation.attested_by} on {attestation.attested_at:%Y-%m-%d}"
                + (f": {attestation.note}" if attestation and attestation.note else ".")
                if attestation
                else "Not attested yet: an owner or engineer confirms it was reviewed.",
                attested=True,
            )
        )
    checks += [
        fact(
            DodItem.CONFIG_IN_CODE,
            bool(latest and latest.code_commit),
            f"Latest version built from commit {latest.code_commit[:10]}."
            if latest and latest.code_commit
            else "",
            "The latest version records no code commit.",
        ),
        fact(DodItem.OWNERS_NAMED, owners > 0, f"{owners} owner(s).", "No owners."),
        fact(
            DodItem.MODEL_CARD_COMPLETE,
            model.model_card_complete,
            "Description, intended use, limitations and ethical considerations written.",
            "The model card has empty sections.",
        ),
        DodCheck(
            DodItem.VERIFICATION_PASSING, DodItem.VERIFICATION_PASSING.label, verified, verification_note
        ),
    ]
    order = list(DodItem.values)
    return DodReport(sorted(checks, key=lambda c: order.index(c.item)))


@transaction.atomic
def dod_attest(*, actor, model: RegisteredModel, item: str, note: str = "") -> DodAttestation:
    policies.require(policies.can_attest_dod(actor, model), "Only the model's owners and engineers attest.")
    if item not in ATTESTED_ITEMS:
        raise ValidationError({"item": "This item is computed from the catalog; it cannot be attested."})
    attestation, created = DodAttestation.objects.get_or_create(
        model=model, item=item, defaults={"attested_by": actor, "note": note[:2000]}
    )
    if created:
        audit_record(actor=actor, action="dod.attested", target=model, after={"item": item, "note": note})
    return attestation


@transaction.atomic
def dod_attestation_revoke(*, actor, model: RegisteredModel, item: str, reason: str) -> None:
    policies.require(policies.can_attest_dod(actor, model), "Only the model's owners and engineers attest.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the attestation no longer holds."})
    deleted, _ = DodAttestation.objects.filter(model=model, item=item).delete()
    if deleted:
        audit_record(
            actor=actor, action="dod.attestation_revoked", target=model, before={"item": item}, reason=reason
        )
