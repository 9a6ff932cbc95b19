import time

from django.core.management.base import BaseCommand, CommandError

from catalog.demo import (
    DEMO_PASSWORD,
    DEMO_URL,
    USERS,
    ScaleShape,
    demo_catalog_seed,
    demo_scale_generate,
    progress_silent,
)
from catalog.demo.bulk import POINTS_PER_VERSION, VERSIONS_PER_MODEL, scale_analyze
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
            help="Add N synthetic models (scale-model-NNNNNN), numbered on from the last, through COPY on "
            "PostgreSQL. --scale 100000 gives 1M versions and 10M metric points.",
        )
        shape = parser.add_argument_group("--scale shape")
        shape.add_argument("--versions-per-model", type=int, default=VERSIONS_PER_MODEL, metavar="V")
        shape.add_argument(
            "--points-per-version",
            type=int,
            default=POINTS_PER_VERSION,
            metavar="P",
            help="Metric points per version: a primary curve of P-1 steps and one secondary point.",
        )
        shape.add_argument(
            "--long-models",
            type=int,
            default=0,
            metavar="K",
            help="The first K models get --long-versions versions, the newest with a --long-points curve.",
        )
        shape.add_argument("--long-versions", type=int, default=1_000, metavar="V")
        shape.add_argument("--long-points", type=int, default=20_000, metavar="P")
        shape.add_argument(
            "--governance",
            action="store_true",
            help="Also add governance rows in proportion (work items, promotions, alerts, access requests).",
        )

    def handle(self, *args, scale: int, verbosity: int, **options):
        if scale < 0:
            raise CommandError("--scale takes a number of models, 0 or more.")
        progress = self._progress(verbosity)
        if scale:
            try:
                shape = ScaleShape(
                    versions_per_model=options["versions_per_model"],
                    points_per_version=options["points_per_version"],
                    long_models=options["long_models"],
                    long_versions=options["long_versions"],
                    long_points=options["long_points"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            result = demo_scale_generate(count=scale, shape=shape, progress=progress)
            if result.stage_seconds:
                stages = ", ".join(f"{k} {v:.1f}s" for k, v in result.stage_seconds.items())
                progress(f"Stages ({result.writer}): {stages}")
            if options["governance"] and result.models:
                from governance.demo_scale import demo_scale_governance

                demo_scale_governance(progress=progress)
            started = time.monotonic()
            scale_analyze()
            progress(f"Analyze ...... {time.monotonic() - started:.1f}s", detail=True)
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
