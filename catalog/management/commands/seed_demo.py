from django.core.management.base import BaseCommand, CommandError

from catalog.demo import (
    DEMO_PASSWORD,
    DEMO_URL,
    USERS,
    demo_catalog_seed,
    demo_scale_generate,
    progress_silent,
)
from governance.demo import demo_governance_seed


class Command(BaseCommand):
    help = (
        "Fill the catalog with a demo organisation: users of every role, domains, teams, datasets and "
        "~30 models with versions, metrics and lineage, then its governance: work items, promotions, data "
        "access, verification runs and alerts. Safe to run again. With --scale N, add N synthetic models "
        "through bulk inserts instead (for performance work)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Add N synthetic models (scale-model-NNNNNN, ~10 versions each), numbered on from the last.",
        )

    def handle(self, *args, scale: int, verbosity: int, **options):
        if scale < 0:
            raise CommandError("--scale takes a number of models, 0 or more.")
        progress = self._progress(verbosity)
        if scale:
            result = demo_scale_generate(count=scale, progress=progress)
            progress(
                f"Done: {result.models:,} models ({result.first} .. {result.last}), {result.versions:,} "
                f"versions, {result.metrics:,} metrics, {result.metric_points:,} metric points, "
                f"{result.dataset_links:,} dataset links in {result.seconds:.1f}s."
                if result.models
                else "Done: no models added."
            )
        else:
            result = demo_catalog_seed(progress=progress)
            if not result.already_present:
                made = result.created
                progress(
                    f"Done: {made['models']} models, {made['versions']} versions, "
                    f"{made['metric_points']:,} metric points, {made['aliases']} aliases, "
                    f"{made['datasets']} datasets, {made['users']} new users."
                )
            demo_governance_seed(progress=progress)
        if verbosity:
            self._print_logins()

    def _progress(self, verbosity: int):
        if verbosity == 0:
            return progress_silent

        def progress(message: str, *, detail: bool = False) -> None:
            if verbosity >= 2 or not detail:
                self.stdout.write(message)

        return progress

    def _print_logins(self) -> None:
        width = max(len("username"), *(len(u.username) for u in USERS)) + 2
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins"))
        self.stdout.write(f"  {'username':<{width}}{'role':<12}{'password':<12}name")
        for user in USERS:
            self.stdout.write(f"  {user.username:<{width}}{user.role:<12}{DEMO_PASSWORD:<12}{user.full_name}")
        self.stdout.write(f"\nOpen {DEMO_URL} and sign in as any of them.")
