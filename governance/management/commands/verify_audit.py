from django.core.management.base import BaseCommand, CommandError

from governance.services.audit import audit_verify


class Command(BaseCommand):
    help = "Walk the audit trail's hash chain and name the first broken event. Exits non-zero if broken."

    def handle(self, *args, **options):
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"Audit trail broken at event #{report.first_broken_seq}: {report.problem} "
                f"({report.checked} events before it verified)."
            )
        self.stdout.write(f"Audit trail intact: {report.checked} events verified.")
