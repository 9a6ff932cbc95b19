from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Domain, RegistryAuth, RegistryKind, RegistrySource
from catalog.services.registries import registry_source_create, registry_source_update
from portal.roles import SYSTEM


class Command(BaseCommand):
    help = "Register a model registry to poll (or update the one with this name)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=[RegistryKind.MLFLOW, RegistryKind.MANIFESTS])
        parser.add_argument("--url", required=True, help="MLflow tracking URL, or manifests directory.")
        parser.add_argument("--poll-seconds", type=int, default=300)
        parser.add_argument("--default-domain", help="Domain slug for models without a 'domain' tag.")
        parser.add_argument("--ui-url", default="", help="Where people browse the registry, if not --url.")
        parser.add_argument("--auth", choices=RegistryAuth.values, default=RegistryAuth.NONE)
        parser.add_argument("--username", default="", help="User name for basic auth.")
        parser.add_argument("--secret-env", default="", help="NAME of the env var holding password/token.")
        parser.add_argument("--disabled", action="store_true")

    def handle(
        self,
        *args,
        name,
        kind,
        url,
        poll_seconds,
        default_domain,
        ui_url,
        auth,
        username,
        secret_env,
        disabled,
        **opts,
    ):
        domain = None
        if default_domain:
            domain = Domain.objects.filter(slug=default_domain).first()
            if domain is None:
                raise CommandError(f"No domain with slug {default_domain!r}.")
        fields = dict(
            kind=kind,
            base_url=url,
            poll_seconds=poll_seconds,
            default_domain=domain,
            ui_url=ui_url,
            auth=auth,
            auth_username=username,
            secret_env=secret_env,
            is_enabled=not disabled,
        )
        try:
            existing = RegistrySource.objects.filter(name=name).first()
            if existing:
                registry_source_update(actor=SYSTEM, source=existing, **fields)
                self.stdout.write(f"Updated registry {name!r}.")
            else:
                fields.pop("kind")
                registry_source_create(actor=SYSTEM, name=name, kind=kind, **fields)
                self.stdout.write(f"Added registry {name!r} ({kind}), polled every {poll_seconds} s.")
        except ValidationError as exc:
            messages = (
                [f"{k}: {'; '.join(v)}" for k, v in exc.message_dict.items()]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise CommandError("\n".join(messages)) from exc
