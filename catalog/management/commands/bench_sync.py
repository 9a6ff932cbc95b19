"""Benchmark a registry sync against a large local MLflow. See benchmarks/README.md.

    manage.py bench_sync [--models 2000] [--versions-per-model 5] [--rounds 2] [--keep DIR]
                         [--database auto|sqlite|postgres] [--profile] [--json PATH]

1. Fills a fresh MLflow (temp dir, SQLite backend, `mlflow server` on a free 127.0.0.1 port) and checks
   it answers its data back.
2. Rounds, each in a new, empty catalog database and its own child process: the floor (plain HTTP reads
   of the same data), then a full sync. The last round then runs a no-change re-sync. Prints a table with
   PASS/FAIL per target (fastest floor vs fastest full sync); exits non-zero if a target fails.

The catalog side runs in child processes whose DATABASE_URL is a dedicated database (a temp SQLite file,
or a `modelhouse_bench` PostgreSQL database created and dropped on the configured server): the user's
catalog is never touched. This process opens no connection to the configured database.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

RATIO_TARGET = 1.5
RESYNC_CALLS_TARGET = 2
PG_BENCH_DATABASE = "modelhouse_bench"


class BenchDatabase:
    """A dedicated catalog database for the child processes: `fresh()` (re)creates it empty."""

    def __init__(self, choice: str, pg_name: str, workdir: Path, say) -> None:
        configured = settings.DATABASES["default"]
        is_pg = "postgresql" in configured["ENGINE"]
        self.say = say
        self.vendor = "postgresql" if choice == "postgres" or (choice == "auto" and is_pg) else "sqlite"
        if self.vendor == "sqlite":
            self.path = workdir / "catalog-bench.sqlite3"
            return
        if not is_pg:
            raise CommandError("--database postgres needs DATABASE_URL to point at a PostgreSQL server.")
        if pg_name == configured["NAME"] and "bench" not in pg_name:
            raise CommandError(f"Refusing to use the configured catalog database {pg_name!r} for benchmarks.")
        self.name = pg_name
        self.params = {
            "host": configured.get("HOST") or "127.0.0.1",
            "port": configured.get("PORT") or 5432,
            "user": configured.get("USER") or None,
            "password": configured.get("PASSWORD") or None,
        }
        self.created = False

    def _admin(self, template: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as conn:
            conn.execute(sql.SQL(template).format(sql.Identifier(self.name)))

    def fresh(self) -> str:
        """An empty database; returns its DATABASE_URL."""
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return f"sqlite:///{self.path}"
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin("CREATE DATABASE {}")
        self.created = True
        p = self.params
        self.say(f"[catalog] created empty PostgreSQL database {self.name!r} on {p['host']}:{p['port']}")
        auth = quote(p["user"] or "", safe="")
        if p["password"]:
            auth += ":" + quote(p["password"], safe="")
        return f"postgres://{auth}@{p['host']}:{p['port']}/{quote(self.name, safe='')}"

    def cleanup(self, keep: bool) -> None:
        if self.vendor != "postgresql" or not self.created:
            return
        if keep:
            self.say(f"[catalog] kept PostgreSQL database {self.name!r} (last round)")
        else:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self.say(f"[catalog] dropped PostgreSQL database {self.name!r}")


class Command(BaseCommand):
    help = (
        "Fill a large local MLflow, then time floor / full sync / no-change re-sync. Non-zero exit on a miss."
    )

    def add_arguments(self, parser):
        parser.add_argument("--models", type=int, default=2000)
        parser.add_argument("--versions-per-model", type=int, default=5)
        parser.add_argument("--steps", type=int, default=10, help="Points in each run's loss series.")
        parser.add_argument(
            "--rounds",
            type=int,
            default=2,
            help="Rounds of (floor, full sync into a new empty catalog); the fastest of each counts.",
        )
        parser.add_argument(
            "--keep",
            metavar="DIR",
            help="Work in DIR and keep it (MLflow database, logs, catalog database, report, profile). "
            "A DIR filled earlier with the same sizes is reused.",
        )
        parser.add_argument(
            "--database",
            choices=["auto", "sqlite", "postgres"],
            default="auto",
            help="Catalog database to sync into: a temp SQLite file, or a dedicated PostgreSQL database "
            "on the server of the configured DATABASE_URL (auto: PostgreSQL if that is PostgreSQL).",
        )
        parser.add_argument(
            "--pg-database", default=PG_BENCH_DATABASE, help="Name of the dedicated database."
        )
        parser.add_argument(
            "--profile", action="store_true", help="Also cProfile one extra (uncounted) full sync."
        )
        parser.add_argument("--json", metavar="PATH", help="Also write the report as JSON to PATH.")
        # Internal: a child process that measures one round in the dedicated database.
        parser.add_argument("--child-url", help=argparse.SUPPRESS)
        parser.add_argument("--child-out", help=argparse.SUPPRESS)
        parser.add_argument("--child-label", default="", help=argparse.SUPPRESS)
        parser.add_argument("--child-no-floor", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--child-resync", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--child-profile", help=argparse.SUPPRESS)

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    # -- child ----------------------------------------------------------------------------------------
    def child(self, opts) -> None:
        from benchmarks.sync_measure import measure

        result = measure(
            opts["child_url"],
            label=opts["child_label"],
            floor=not opts["child_no_floor"],
            resync=opts["child_resync"],
            progress=self.say,
            profile_path=opts["child_profile"],
        )
        Path(opts["child_out"]).write_text(json.dumps(result, indent=2, default=str))

    # -- parent ---------------------------------------------------------------------------------------
    def handle(self, *args, **opts):
        if opts["child_url"]:
            return self.child(opts)
        from benchmarks.mlflow_fill import FillError, FillSpec, MlflowServer, verify

        if opts["models"] < 1 or opts["versions_per_model"] < 1 or opts["rounds"] < 1:
            raise CommandError("--models, --versions-per-model and --rounds must be at least 1.")
        spec = FillSpec(
            models=opts["models"], versions_per_model=opts["versions_per_model"], steps=opts["steps"]
        )
        keep, rounds = opts["keep"], opts["rounds"]
        workdir = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="bench-sync-"))
        workdir.mkdir(parents=True, exist_ok=True)
        database = BenchDatabase(opts["database"], opts["pg_database"], workdir, self.say)
        server = None
        results = []
        try:
            self.say(f"Work dir: {workdir}; catalog database: {database.vendor}")
            fill_result = self.filled(workdir, spec)
            server = MlflowServer(workdir / "mlflow.db", workdir / "artifacts", workdir / "mlflow-server.log")
            try:
                server.start(progress=self.say)
                verify(server.url, fill_result, progress=self.say)
            except FillError as exc:
                raise CommandError(str(exc)) from exc
            for n in range(1, rounds + 1):
                results.append(
                    self.run_child(
                        server.url, database.fresh(), workdir, label=f"{n}/{rounds}", resync=n == rounds
                    )
                )
            if opts["profile"]:
                profile = workdir / "full-sync.prof"
                self.run_child(server.url, database.fresh(), workdir, profile=profile, floor=False)
                self.show_profile(profile, bool(keep))
        finally:
            if server is not None:
                server.stop()
            database.cleanup(bool(keep))
            if not keep:
                shutil.rmtree(workdir, ignore_errors=True)
        report = self.report(spec, fill_result, results, database.vendor)
        self.print_table(report)
        if opts["json"]:
            Path(opts["json"]).write_text(json.dumps(report, indent=2, default=str))
        if keep:
            (workdir / "report.json").write_text(json.dumps(report, indent=2, default=str))
        failed = [t["name"] for t in report["targets"] if not t["passed"]]
        if failed:
            raise CommandError(f"{len(failed)} target(s) missed: {', '.join(failed)}")

    def filled(self, workdir: Path, spec):
        """Fill MLflow in workdir, or reuse a fill made there earlier with the same spec (--keep)."""
        from benchmarks.mlflow_fill import FillError, FillResult, fill

        marker, db = workdir / "fill.json", workdir / "mlflow.db"
        wanted = {"models": spec.models, "versions_per_model": spec.versions_per_model, "steps": spec.steps}
        if marker.exists() and db.exists():
            saved = json.loads(marker.read_text())
            if saved.get("spec") == wanted:
                self.say(f"[fill] reusing {db} (filled earlier with the same sizes)")
                result = FillResult(db_path=db, artifact_root=workdir / "artifacts")
                for k, v in saved["result"].items():
                    setattr(result, k, v)
                return result
        marker.unlink(missing_ok=True)
        db.unlink(missing_ok=True)
        shutil.rmtree(workdir / "artifacts", ignore_errors=True)
        try:
            result = fill(db, workdir / "artifacts", spec, progress=self.say)
        except FillError as exc:
            raise CommandError(str(exc)) from exc
        saved_result = {k: v for k, v in vars(result).items() if k not in ("db_path", "artifact_root")}
        marker.write_text(json.dumps({"spec": wanted, "result": saved_result}))
        return result

    def run_child(
        self,
        mlflow_url: str,
        database_url: str,
        workdir: Path,
        *,
        label: str = "",
        floor: bool = True,
        resync: bool = False,
        profile: Path | None = None,
    ) -> dict:
        out = workdir / "round-result.json"
        out.unlink(missing_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings.local"),
            "DEBUG": "false",  # DEBUG keeps every SQL statement in memory: not what production runs
            "MODELHOUSE_VAR_DIR": str(workdir / "var"),
        }
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_sync"]
        command += ["--child-url", mlflow_url, "--child-out", str(out), "--child-label", label]
        command += ["--child-no-floor"] if not floor else []
        command += ["--child-resync"] if resync else []
        command += ["--child-profile", str(profile)] if profile else []
        started = time.monotonic()
        done = subprocess.run(command, env=env, cwd=settings.BASE_DIR)
        if done.returncode != 0 or not out.exists():
            raise CommandError(
                f"The sync child process failed (exit {done.returncode}); see its output above."
            )
        self.say(f"[catalog] child process finished in {time.monotonic() - started:.1f} s")
        return json.loads(out.read_text())

    def show_profile(self, path: Path, keep: bool) -> None:
        if not path.exists():
            return
        buffer = io.StringIO()
        stats = pstats.Stats(str(path), stream=buffer)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
        self.say(buffer.getvalue())
        if keep:
            self.say(f"Profile saved to {path} (python -m pstats {path}).")

    # -- report ---------------------------------------------------------------------------------------
    def report(self, spec, fill_result, results: list[dict], vendor: str) -> dict:
        from benchmarks.mlflow_fill import FINAL_METRICS

        floor = min((r["floor"] for r in results), key=lambda f: f["seconds"])
        full = min((r["full"] for r in results), key=lambda f: f["seconds"])
        resync, catalog = results[-1]["resync"], results[-1]["catalog"]
        ratio = full["seconds"] / floor["seconds"] if floor["seconds"] else float("inf")
        expected = {
            "models": fill_result.models,
            "versions": fill_result.versions,
            "metric_points": fill_result.metric_points,
            "version_metrics": fill_result.versions * (len(FINAL_METRICS) + 1),
            "dataset_inputs": fill_result.dataset_inputs,
            "aliases": fill_result.aliases,
            "with_params": fill_result.versions,
            "with_commit": fill_result.versions,
        }
        mismatches = {
            f"round {n}: {k}": (r["catalog"].get(k), v)
            for n, r in enumerate(results, 1)
            for k, v in expected.items()
            if r["catalog"].get(k) != v
        }
        succeeded = (
            all(r["full"]["status"] == "succeeded" for r in results) and resync["status"] == "succeeded"
        )
        targets = [
            {
                "name": "full_sync_ratio",
                "label": f"full sync / floor <= {RATIO_TARGET}x",
                "value": f"{ratio:.2f}x",
                "passed": ratio <= RATIO_TARGET,
            },
            {
                "name": "resync_calls",
                "label": f"no-change re-sync <= {RESYNC_CALLS_TARGET} HTTP calls",
                "value": str(resync["http_calls"]),
                "passed": resync["http_calls"] <= RESYNC_CALLS_TARGET,
            },
            {
                "name": "resync_writes",
                "label": "no-change re-sync: 0 created, 0 updated",
                "value": f"{resync['created']} created, {resync['updated']} updated",
                "passed": resync["created"] == 0 and resync["updated"] == 0,
            },
            {
                "name": "catalog_matches",
                "label": "full sync: catalog holds what MLflow holds",
                "value": "all counts match"
                if not mismatches
                else "; ".join(f"{k} {got} != {want}" for k, (got, want) in mismatches.items()),
                "passed": not mismatches and succeeded,
            },
        ]
        return {
            "date": time.strftime("%Y-%m-%d"),
            "cpus": os.cpu_count(),
            "database": vendor,
            "spec": {
                "models": spec.models,
                "versions_per_model": spec.versions_per_model,
                "steps": spec.steps,
            },
            "fill": {"seconds": fill_result.seconds, "summary": fill_result.summary()},
            "floor": floor,
            "full": full,
            "resync": resync,
            "catalog": catalog,
            "rounds": [
                {
                    "floor_seconds": r["floor"]["seconds"],
                    "full_seconds": r["full"]["seconds"],
                    "load": max(r["floor"]["load"], r["full"]["load"]),
                }
                for r in results
            ],
            "ratio": ratio,
            "targets": targets,
        }

    def print_table(self, r: dict) -> None:
        full, resync, floor, spec = r["full"], r["resync"], r["floor"], r["spec"]
        w = self.say
        w("")
        w(
            f"Registry sync benchmark: {spec['models']} models x {spec['versions_per_model']} versions "
            f"({floor['versions']} versions, {floor['runs']} runs, {floor['history_points']} history "
            f"points); catalog on {r['database']}; {r['cpus']} CPUs; {r['date']}"
        )
        rows = [
            ("", "time", "HTTP calls", "created", "updated", "unchanged"),
            ("floor (plain HTTP reads)", f"{floor['seconds']:.1f} s", floor["calls"], "-", "-", "-"),
            (
                "full sync",
                f"{full['seconds']:.1f} s",
                full["http_calls"],
                full["created"],
                full["updated"],
                full["unchanged"],
            ),
            ("  fetching (connector.fetch)", f"{full['fetch_seconds']:.1f} s", "", "", "", ""),
            ("  applying (one transaction)", f"{full['apply_seconds']:.1f} s", "", "", "", ""),
            ("  other (start, known versions, save)", f"{full['other_seconds']:.1f} s", "", "", "", ""),
            (
                "no-change re-sync",
                f"{resync['seconds']:.2f} s",
                resync["http_calls"],
                resync["created"],
                resync["updated"],
                resync["unchanged"],
            ),
        ]
        widths = [max(len(str(row[i])) for row in rows) for i in range(6)]
        for row in rows:
            w(
                "  ".join(
                    str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)
                )
            )
        rounds = "; ".join(
            f"{x['floor_seconds']:.1f} s / {x['full_seconds']:.1f} s (load {x['load']:.1f})"
            for x in r["rounds"]
        )
        many = "; fastest of each counts" if len(r["rounds"]) > 1 else ""
        w(f"rounds (floor / full sync, 1-min load average): {rounds}{many}")
        busiest = max(x["load"] for x in r["rounds"])
        if busiest > (r["cpus"] or 1):
            w(f"warning: load average reached {busiest:.1f} on {r['cpus']} CPUs: others competed for them")
        phases = full["phases"]
        names = (
            "_apply_models",
            "_apply_versions",
            "_apply_run_data",
            "_apply_aliases",
            "_apply_removals",
            "models_refresh_version_stats",
            "model_search_refresh",
        )
        w("apply breakdown: " + ", ".join(f"{n.lstrip('_')} {phases[n]:.1f} s" for n in names if n in phases))
        writes = ", ".join(f"{k} x{v}" for k, v in resync["db_writes"].items()) or "none"
        w(
            f"database: {full['db_seconds']:.1f} s in {full['db_statements']} statements during the full "
            f"sync; {resync['db_statements']} statements during the re-sync (writes: {writes})"
        )
        w("")
        for t in r["targets"]:
            w(f"{'PASS' if t['passed'] else 'FAIL'}  {t['label']}: {t['value']}")
