"""HTML forms of the catalog. They check the shape of the input only; services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from .models import Domain, RegistryAuth, RegistryKind
from .services.registries import ENV_NAME_RE

# Paths under /registries/ that are pages, not registry names.
RESERVED_REGISTRY_NAMES = {"new"}
REGISTRY_KINDS = [(k.value, k.label) for k in (RegistryKind.MLFLOW, RegistryKind.MANIFESTS)]
SECRET_ENV_HELP = (
    "The name of the environment variable on the workers that holds the password or token; "
    "the value is never stored."
)


class RegistrySourceForm(forms.Form):
    """Add or change a registry source. On edit, the name and kind are fixed (the URL and the sync state
    depend on them), so they are shown but not submitted."""

    name = forms.CharField(
        max_length=100, help_text="Letters, digits, '.', '-' or '_'. Part of the page address."
    )
    kind = forms.ChoiceField(choices=REGISTRY_KINDS, initial=RegistryKind.MLFLOW)
    base_url = forms.CharField(
        label="Base URL",
        max_length=500,
        help_text="The MLflow tracking server URL (http://mlflow.internal:5000), or for manifests the "
        "absolute path of the directory (or git checkout) on the workers.",
    )
    ui_url = forms.URLField(
        label="UI URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="Where people browse this registry, if not the base URL. Links on model pages use it.",
    )
    is_enabled = forms.BooleanField(
        label="Enabled", required=False, initial=True, help_text="Poll this registry on its schedule."
    )
    poll_seconds = forms.IntegerField(
        label="Poll every (seconds)",
        min_value=1,
        max_value=7 * 24 * 3600,
        initial=300,
        help_text="How often a sync picks up what changed since the last one.",
    )
    full_sweep_hours = forms.IntegerField(
        label="Full sweep every (hours)",
        min_value=1,
        max_value=24 * 30,
        initial=24,
        help_text="A full sweep re-reads everything and notices deletions.",
    )
    default_domain = forms.ModelChoiceField(
        queryset=Domain.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="None: models need a domain tag or manifest field",
        help_text="For models that do not say which domain they belong to.",
    )
    auth = forms.ChoiceField(label="Authentication", choices=RegistryAuth.choices, initial=RegistryAuth.NONE)
    auth_username = forms.CharField(
        label="Auth user name", max_length=150, required=False, help_text="For basic authentication."
    )
    secret_env = forms.CharField(
        label="Secret environment variable NAME",
        max_length=100,
        required=False,
        validators=[
            RegexValidator(ENV_NAME_RE, "Capital letters, digits and '_' only, e.g. MLFLOW_TRACKING_TOKEN.")
        ],
        help_text=SECRET_ENV_HELP,
    )

    FIELDSETS = (
        ("Registry", ("name", "kind", "base_url", "ui_url")),
        ("Schedule", ("is_enabled", "poll_seconds", "full_sweep_hours", "default_domain")),
        ("Authentication", ("auth", "auth_username", "secret_env")),
    )

    def __init__(self, *args, source=None, **kwargs):
        self.source = source
        if source is not None:
            kwargs.setdefault("initial", self.initial_for(source))
        super().__init__(*args, **kwargs)
        if source is not None:
            for field in ("name", "kind"):
                self.fields[field].disabled = True
                self.fields[field].help_text = "Fixed once the registry exists."

    @staticmethod
    def initial_for(source) -> dict:
        return {
            "name": source.name,
            "kind": source.kind,
            "base_url": source.base_url,
            "ui_url": source.ui_url,
            "is_enabled": source.is_enabled,
            "poll_seconds": source.poll_seconds,
            "full_sweep_hours": source.full_sweep_hours,
            "default_domain": source.default_domain,
            "auth": source.auth,
            "auth_username": source.auth_username,
            "secret_env": source.secret_env,
        }

    def fieldsets(self) -> list[tuple[str, list]]:
        """(legend, bound fields) in the order the page shows them."""
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if self.source is None and name.lower() in RESERVED_REGISTRY_NAMES:
            raise ValidationError(f"{name!r} is taken by the portal's own pages; choose another name.")
        return name

    def clean_base_url(self) -> str:
        return self.cleaned_data["base_url"].strip()

    def service_fields(self) -> dict:
        """cleaned_data as keyword arguments for registry_source_create/update."""
        data = dict(self.cleaned_data)
        if self.source is not None:
            data.pop("name")
            data.pop("kind")
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names; the rest goes above the form."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, messages in exc.message_dict.items():
            if field in self.fields:
                self.add_error(field, messages)
            else:
                label = field.replace("_", " ").capitalize()
                self.add_error(None, [m if field == "__all__" else f"{label}: {m}" for m in messages])
