"""HTML forms of the data-access, verification and alert pages. They check the shape of the input only;
services decide what is allowed (legal bases per purpose, DPIA, minimum reasons, who decides which step)
and their ValidationErrors are put back on the fields they name."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import LegalBasis
from .services.data_access import needs_dpia

TEXT_MAX = getattr(settings, "MODELHOUSE_MAX_DESCRIPTION_CHARS", 20_000)
REASON_MAX = 2000
COLUMN_SPLIT = re.compile(r"[\s,;]+")
MAX_COLUMNS = 200


def textarea(rows: int = 4, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the fields it names; the rest goes above the form."""

    service_fields: dict[str, str] = {}
    auto_id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.auto_id_prefix:
            kwargs.setdefault("auto_id", f"{self.auto_id_prefix}_%s")
        super().__init__(*args, **kwargs)

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for field, messages in exc.message_dict.items():
            name = self.service_fields.get(field, field)
            if name in self.fields:
                self.add_error(name, messages)
            else:
                label = field.replace("_", " ").capitalize()
                self.add_error(None, [m if field == "__all__" else f"{label}: {m}" for m in messages])


# --- access requests ------------------------------------------------------------------------------------


class AccessRequestForm(ServiceErrorsMixin, forms.Form):
    """Datasets (each optionally narrowed to named columns), purpose, legal basis, dates and DPIA.

    The datasets and purposes come from the view (selector output), so the form runs no queries of its own.
    """

    # Only the purpose is required here: the service checks everything else in one go, so a request with
    # several problems shows them all at once.
    datasets = forms.MultipleChoiceField(
        label="Datasets", required=False, widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.ChoiceField(label="Purpose", error_messages={"required": "Choose the purpose."})
    legal_basis = forms.ChoiceField(
        label="Legal basis",
        required=False,
        choices=[("", "Choose the GDPR Art. 6 basis…"), *LegalBasis.choices],
    )
    justification = forms.CharField(
        label="Justification",
        required=False,
        max_length=TEXT_MAX,
        widget=textarea(4),
        help_text="What the data is for and why this much of it: owners and compliance read this.",
    )
    start_date = forms.DateField(label="Start", required=False, widget=date_input())
    expiry_date = forms.DateField(
        label="Expiry",
        required=False,
        widget=date_input(),
        help_text="Access ends on this day; ask again to renew.",
    )
    dpia_reference = forms.CharField(
        label="DPIA reference",
        max_length=100,
        required=False,
        help_text="Required when a dataset is special-category (GDPR Art. 9) or restricted.",
    )
    REQUIRED = ("datasets", "purpose", "legal_basis", "justification", "start_date", "expiry_date")
    MISSING = {
        "datasets": "Choose at least one dataset.",
        "legal_basis": "Choose the legal basis (GDPR Art. 6) the use rests on.",
    }

    def __init__(self, *args, datasets=(), purposes=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("start_date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.dataset_objects = {str(d.pk): d for d in datasets}
        self.purpose_objects = {str(p.pk): p for p in purposes}
        self.fields["datasets"].choices = [(key, d.name) for key, d in self.dataset_objects.items()]
        self.fields["purpose"].choices = [("", "Choose a purpose…")] + [
            (key, f"{p.name} — {', '.join(LegalBasis(b).label for b in p.allowed_legal_bases)}")
            for key, p in self.purpose_objects.items()
        ]
        for key in self.dataset_objects:
            self.fields[f"columns_{key}"] = forms.CharField(label="Columns", required=False, max_length=4000)

    def chosen_keys(self) -> set[str]:
        if self.is_bound:
            return set(self.data.getlist("datasets") if hasattr(self.data, "getlist") else [])
        return {str(v) for v in (self.initial.get("datasets") or [])}

    def dataset_rows(self) -> list[dict]:
        """One row per dataset for the template: the dataset, whether it is ticked, its columns field."""
        chosen = self.chosen_keys()
        return [
            {
                "dataset": d,
                "key": key,
                "checked": key in chosen,
                "columns": self[f"columns_{key}"],
                "needs_dpia": needs_dpia(d),
            }
            for key, d in self.dataset_objects.items()
        ]

    def dpia_datasets(self) -> list:
        """The chosen datasets that need a DPIA (shown next to the DPIA field)."""
        chosen = self.chosen_keys()
        return [r["dataset"] for r in self.dataset_rows() if r["needs_dpia"] and r["key"] in chosen]

    def clean(self):
        data = super().clean()
        chosen = data.get("datasets") or []
        entries = []
        for key in chosen:
            raw = data.get(f"columns_{key}") or ""
            columns = [c for c in COLUMN_SPLIT.split(raw) if c]
            if len(columns) > MAX_COLUMNS:
                self.add_error(f"columns_{key}", f"At most {MAX_COLUMNS} columns.")
            entries.append((self.dataset_objects[key], columns))
        data["dataset_entries"] = entries
        if data.get("purpose"):
            data["purpose_object"] = self.purpose_objects[data["purpose"]]
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        # The service names the valid values; for a field left empty, ask for it in words.
        if hasattr(exc, "error_dict"):
            for field, message in self.MISSING.items():
                if field in exc.error_dict and not self.cleaned_data.get(field):
                    exc.error_dict[field] = [ValidationError(message)]
        super().add_service_errors(exc)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "datasets": data["dataset_entries"],
            "purpose": data["purpose_object"],
            "legal_basis": data["legal_basis"],
            "justification": data["justification"],
            "start_date": data["start_date"],
            "expiry_date": data["expiry_date"],
            "dpia_reference": data["dpia_reference"],
        }


class ApproveForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "approve"
    reason = forms.CharField(
        label="Comment", required=False, max_length=REASON_MAX, widget=textarea(2), help_text="Optional."
    )


class RejectForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "reject"
    # Not required here: the service says how long a rejection's reason must be.
    reason = forms.CharField(
        label="Reason", required=False, max_length=REASON_MAX, widget=textarea(2), help_text="Required."
    )


class WithdrawForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "withdraw"
    reason = forms.CharField(label="Why (optional)", required=False, max_length=REASON_MAX)


class EmptyForm(ServiceErrorsMixin, forms.Form):
    """Actions without fields (submit a draft, acknowledge an alert)."""


class RevokeForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "revoke"
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


# --- purposes and campaigns -----------------------------------------------------------------------------


class PurposeForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=150)
    description = forms.CharField(label="Description", max_length=TEXT_MAX, widget=textarea(3))
    allowed_legal_bases = forms.MultipleChoiceField(
        label="Legal bases it may rest on",
        choices=LegalBasis.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one legal basis."},
    )


class CampaignForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=150, help_text="e.g. 2026 Q3 re-certification")
    deadline = forms.DateField(label="Deadline", widget=date_input())
    revoke_unattested = forms.BooleanField(
        label="Revoke grants nobody attested by the deadline", required=False
    )


class AttestForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(choices=(("keep", "Keep"), ("revoke", "Revoke")))
    note = forms.CharField(label="Note", required=False, max_length=REASON_MAX)


# --- alerts and verification ----------------------------------------------------------------------------


class ResolveForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "resolve"
    resolution = forms.CharField(
        label="Resolution",
        required=False,
        max_length=REASON_MAX,
        widget=textarea(3),
        help_text="What was done, for whoever meets this alert next.",
    )


class VerificationScriptForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="Saving a name the model already has makes a new revision."
    )
    source = forms.CharField(
        label="Script (Python)",
        max_length=200_000,
        strip=False,
        widget=textarea(16, spellcheck="false", **{"class": "code-input"}),
        help_text="Reads the version's metadata, parameters, metrics and datasets as JSON on stdin and "
        'prints {"passed": true|false, "checks": [...]}.',
    )
    checks_description = forms.CharField(
        label="What it checks",
        required=False,
        max_length=TEXT_MAX,
        widget=textarea(2),
        help_text="e.g. auc >= 0.80 on the holdout set.",
    )
    timeout_seconds = forms.IntegerField(
        label="Timeout (seconds)", initial=120, help_text="Between 5 and 1800 seconds."
    )


class RunNowForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(min_value=1, error_messages={"required": "Choose a version."})
