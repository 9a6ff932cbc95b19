"""HTML forms of the governance pages. They check the shape of the input only; services decide what is
allowed (workflow moves, comment rules, the four-eyes rule, minimum reasons) and their ValidationErrors are
put back on the form's fields."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from catalog.models import Dataset, Domain, ModelVersion, RegisteredModel

from .models import DodItem, Gate, LinkKind, NotificationChannel, Priority, WorkItemType
from .workflows import STATUS_LABELS, SYSTEM_DRIVEN_TYPES

TEXT_MAX = settings.MODELHOUSE_MAX_DESCRIPTION_CHARS
LABEL_SPLIT = re.compile(r"[\s,]+")
PEOPLE_TYPES = [(value, label) for value, label in WorkItemType.choices if value not in SYSTEM_DRIVEN_TYPES]
STAGE_TARGETS = (("production", "Production"), ("staging", "Staging"), ("alias", "Another alias"))


def textarea(rows: int = 4, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class ServiceErrorsMixin:
    """Puts a service's ValidationError on the fields it names; the rest goes above the form."""

    # Service field name -> form field name, where they differ.
    service_fields: dict[str, str] = {}
    # Several forms share a page (approve and reject both have a comment): distinct element ids.
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


class WorkItemForm(ServiceErrorsMixin, forms.Form):
    """A new work item. Promotion and data-access items are opened by their requests: not offered here."""

    type = forms.ChoiceField(choices=PEOPLE_TYPES, initial=WorkItemType.TASK)
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        widget=textarea(8),
        help_text="Markdown. Mention people with @username.",
    )
    domain = forms.ModelChoiceField(
        queryset=Domain.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="The model's domain",
        help_text="The project the key comes from (PERS-42). Leave it to use the linked model's domain.",
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        required=False,
        empty_label="Nobody yet",
    )
    due_date = forms.DateField(
        label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Sets the SLA."
    )
    labels = forms.CharField(
        required=False, max_length=500, help_text="Separated by spaces or commas, e.g. drift q3."
    )
    model = forms.ModelChoiceField(
        queryset=RegisteredModel.objects.defer("search_document", "search_vector"),
        to_field_name="name",
        required=False,
        widget=forms.TextInput(attrs={"list": "model-names", "autocomplete": "off"}),
        help_text="The model's name.",
        error_messages={"invalid_choice": "No model is called that."},
    )
    version = forms.CharField(
        required=False, max_length=50, help_text="A version of that model, e.g. 3.", label="Version"
    )
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.order_by("name", "id"),
        to_field_name="uri",
        required=False,
        empty_label="None",
    )

    FIELDSETS = (
        ("What", ("type", "title", "description")),
        ("Who and when", ("domain", "priority", "assignee", "due_date", "labels")),
        ("About", ("model", "version", "dataset")),
    )
    WIDE = ("title", "description", "labels")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].label_from_instance = lambda d: f"{d.name} ({d.uri})"

    def fieldsets(self) -> list[tuple[str, list]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean_labels(self) -> list[str]:
        return [label for label in LABEL_SPLIT.split(self.cleaned_data["labels"]) if label]

    def clean(self):
        data = super().clean()
        model, label = data.get("model"), (data.get("version") or "").strip()
        data["version"] = None
        if label:
            if model is None:
                self.add_error("version", "Name the model this version belongs to.")
            else:
                label = label.removeprefix("v")
                data["version"] = ModelVersion.objects.filter(model=model, version=label).first()
                if data["version"] is None:
                    self.add_error("version", f"{model.name} has no version {label!r}.")
        if data.get("domain") is None:
            if model is not None:
                data["domain"] = model.domain
            elif "domain" not in self.errors:
                self.add_error("domain", "Choose a domain, or link a model to use its domain.")
        return data


class TransitionForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "move"
    service_fields = {"status": "to_status"}
    to_status = forms.ChoiceField(choices=list(STATUS_LABELS.items()))
    comment = forms.CharField(required=False, max_length=TEXT_MAX, widget=textarea(3))


class LinkForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "link"
    kind = forms.ChoiceField(label="This item", choices=LinkKind.choices, initial=LinkKind.RELATES)
    target = forms.CharField(
        label="Item",
        max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "PERS-12", "autocomplete": "off"}),
    )

    def clean_target(self) -> str:
        return self.cleaned_data["target"].strip().upper()


class CommentForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "comment"
    body = forms.CharField(
        label="Comment",
        max_length=TEXT_MAX,
        widget=textarea(4, placeholder="Markdown; @username mentions notify and make them watch."),
        error_messages={"required": "Write something to comment."},
    )


class PromotionRequestForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "promote"
    target_kind = forms.ChoiceField(
        label="Promote to", choices=STAGE_TARGETS, initial="production", widget=forms.RadioSelect
    )
    alias = forms.CharField(
        label="Alias name",
        required=False,
        max_length=100,
        help_text="Only for “Another alias”: letters, digits, '-' and '_', e.g. champion.",
    )
    justification = forms.CharField(
        max_length=TEXT_MAX,
        widget=textarea(5),
        help_text="Why this version should be promoted: the evidence the deciding engineer reads first.",
    )
    service_fields = {"target": "alias"}

    def clean(self):
        data = super().clean()
        kind = data.get("target_kind")
        if kind == "alias":
            if not (data.get("alias") or "").strip():
                self.add_error("alias", "Name the alias to point at this version.")
            data["target"] = (data.get("alias") or "").strip()
        else:
            data["target"] = kind
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        # A target error belongs next to the alias box only when an alias was typed.
        self.service_fields = {
            "target": "alias" if self.cleaned_data.get("target_kind") == "alias" else "target_kind"
        }
        super().add_service_errors(exc)


class ApproveForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "approve"
    comment = forms.CharField(
        label="Comment with your approval (optional)", required=False, max_length=TEXT_MAX, widget=textarea(2)
    )


class RejectForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "reject"
    # Not required here: the service says how long a reason must be, and its message is shown on the field.
    comment = forms.CharField(label="Reason", required=False, max_length=TEXT_MAX, widget=textarea(2))


class WaiverForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "waive"
    gate = forms.ChoiceField(choices=Gate.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label="Reason", required=False, max_length=TEXT_MAX, widget=textarea(2))


class WithdrawForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "withdraw"
    reason = forms.CharField(
        label="Why withdraw? (optional)", required=False, max_length=TEXT_MAX, widget=textarea(2)
    )


class RollbackForm(ServiceErrorsMixin, forms.Form):
    auto_id_prefix = "rollback"
    reason = forms.CharField(label="Why roll back?", required=False, max_length=TEXT_MAX, widget=textarea(3))


class AttestForm(forms.Form):
    item = forms.ChoiceField(choices=DodItem.choices)
    note = forms.CharField(required=False, max_length=2000)


class RevokeForm(forms.Form):
    item = forms.ChoiceField(choices=DodItem.choices)
    reason = forms.CharField(required=False, max_length=2000)


class ProductionAtForm(forms.Form):
    production_on = forms.DateField(
        label="What was in production on", widget=forms.DateInput(attrs={"type": "date"})
    )


class NotificationChannelForm(forms.ModelForm):
    """Admin form for alert destinations: a webhook URL is one the workers will POST to, so it is checked
    like every URL the server fetches (portal.security.validate_fetch_url); secrets are named, not stored."""

    class Meta:
        model = NotificationChannel
        fields = ["name", "kind", "target", "secret_env", "min_severity", "domain", "is_enabled"]

    def clean(self):
        from django.core.validators import validate_email

        from catalog.services.registries import ENV_NAME_RE
        from portal.security import validate_fetch_url

        data = super().clean()
        kind, target = data.get("kind"), (data.get("target") or "").strip()
        if kind == "webhook" and target:
            try:
                data["target"] = validate_fetch_url(target)
            except ValidationError as exc:
                self.add_error("target", exc)
        elif kind == "email" and target:
            for address in [a.strip() for a in target.split(",") if a.strip()]:
                try:
                    validate_email(address)
                except ValidationError:
                    self.add_error("target", f"{address!r} is not an e-mail address.")
                    break
        secret_env = data.get("secret_env") or ""
        if secret_env and not ENV_NAME_RE.match(secret_env):
            self.add_error(
                "secret_env", "The NAME of an environment variable (A-Z, 0-9, _) holding the signing secret."
            )
        return data
