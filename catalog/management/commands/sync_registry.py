from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.models import RegistrySource
from catalog.registries.base import RegistryError
from catalog.services.registries import registry_sync_request
from catalog.services.registry_sync import sync_run_execute, sync_run_start
from catalog.tasks import SyncLocked, registry_lock
from portal.roles import SYSTEM


class Command(BaseCommand):
    help = "Sync one registry now, in this process, and print what changed. Exits non-zero on failure."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--full", action="store_true", help="Re-read everything, runs included.")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand the sync to a Celery worker.",
        )

    def handle(self, *args, name, full, queue, **opts):
        source = RegistrySource.objects.filter(name=name).first()
        if source is None:
            known = ", ".join(RegistrySource.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No registry named {name!r} (known: {known}).")
        if queue:
            with transaction.atomic():
                run = registry_sync_request(actor=SYSTEM, source=source, full=full)
            self.stdout.write(f"Queued sync #{run.pk} of {source.name}; a worker will pick it up.")
            return
        self.stdout.write(
            f"Syncing {source.name} ({source.get_kind_display()}, {source.base_url})"
            f"{' - full' if full else ''} ..."
        )
        try:
            with registry_lock(source.pk):
                run = sync_run_execute(sync_run=sync_run_start(source=source, full=full, trigger="command"))
        except SyncLocked as exc:
            raise CommandError(str(exc)) from exc
        except RegistryError as exc:
            raise CommandError(f"Sync failed: {exc.message}") from exc
        self.stdout.write(
            f"Done in {run.duration_seconds:.1f} s{' (full sweep)' if run.is_full else ''}: "
            f"{run.created} created, {run.updated} updated, {run.unchanged} unchanged, {run.removed} removed "
            f"({run.http_calls} registry calls)."
        )
        for problem in run.problems:
            line = f":{problem['line']}" if problem.get("line") else ""
            self.stderr.write(f"  problem: {problem['item']}{line}: {problem['reason']}")
