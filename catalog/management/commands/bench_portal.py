"""Benchmark the portal at the size of a large company. See benchmarks/README.md.

    manage.py bench_portal [--scale 100000] [--requests 30] [--skip-seed] [--keep] [--json PATH]
                           [--database-url postgres://...] [shape options as seed_demo --scale]

1. (Re)creates a dedicated PostgreSQL database (default `modelhouse_bench` on the server of DATABASE_URL,
   or postgres://postgres@127.0.0.1:5432/modelhouse_bench), migrates it and seeds it in child processes:
   the demo organisation with its governance, then `seed_demo --scale N --governance` (timed).
2. A child process prepares the run in that database: sessions for the demo manager, engineer and
   compliance officer, an API token, a cursor deep in the catalog, and the search queries' plans.
3. Starts gunicorn on a free 127.0.0.1 port with benchmarks.settings (DEBUG off, the portal's URLs plus
   the floor view, a middleware returning server time and SQL count in headers) and requests every
   endpoint in interleaved rounds over keep-alive connections (httpx).
4. Prints p50/p95 server time, queries and bytes per endpoint and PASS/FAIL per target; exits non-zero
   when a target is missed. This process never opens a connection to the configured database.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from benchmarks import portal_measure as pm
from catalog.demo.bulk import POINTS_PER_VERSION, VERSIONS_PER_MODEL

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/modelhouse_bench"
BENCH_SETTINGS = "benchmarks.settings"
MANAGER, ENGINEER, COMPLIANCE = "maria", "eric", "cora"
DEEP_SHARE = 0.9  # the deep page starts this far into the catalog


class Command(BaseCommand):
    help = (
        "Seed a large catalog on PostgreSQL and time the portal's pages through gunicorn. Non-zero on a miss."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=100_000, help="Synthetic models to seed.")
        parser.add_argument("--versions-per-model", type=int, default=VERSIONS_PER_MODEL)
        parser.add_argument("--points-per-version", type=int, default=POINTS_PER_VERSION)
        parser.add_argument(
            "--long-models", type=int, default=2, help="Models with --long-versions versions."
        )
        parser.add_argument("--long-versions", type=int, default=1_000)
        parser.add_argument("--long-points", type=int, default=20_000)
        parser.add_argument(
            "--requests",
            type=int,
            default=100,
            help="Measured requests per endpoint (at 100, five lie above the p95).",
        )
        parser.add_argument("--warmup", type=int, default=3, help="Unmeasured rounds first.")
        parser.add_argument("--search-word", default="priya", help="A word to search (an owner's name).")
        parser.add_argument("--search-tag", default="ranking", help="A tag to search for.")
        parser.add_argument(
            "--database-url",
            default="",
            help="The benchmark database (dropped and created unless --skip-seed). Default: "
            "modelhouse_bench on the PostgreSQL server of DATABASE_URL, else " + DEFAULT_URL,
        )
        parser.add_argument("--skip-seed", action="store_true", help="Reuse a database seeded earlier.")
        parser.add_argument(
            "--skip-demo",
            action="store_true",
            help="Seed only the scale models, not the demo organisation and its governance first (faster).",
        )
        parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
        parser.add_argument("--json", metavar="PATH", help="Also write the report as JSON to PATH.")
        parser.add_argument("--child-prepare", help=argparse.SUPPRESS)

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args, **options):
        if options["child_prepare"]:
            self.stdout.write(json.dumps(_prepare(options)))
            return
        for name in ("scale", "requests"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be 1 or more.")
        url = self._database_url(options["database_url"])
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": BENCH_SETTINGS}
        env.pop("DEBUG", None)
        database = _Database(url)
        seed_seconds = None
        server = None
        started = time.monotonic()
        try:
            if options["skip_seed"]:
                self.say(f"[db] reusing {database.label}")
            else:
                database.recreate()
                self.say(f"[db] created empty database {database.label}")
                seed_seconds = self._seed(env, options)
            prepared = json.loads(
                self._manage(
                    env,
                    "bench_portal",
                    "--child-prepare",
                    "1",
                    "--search-word",
                    options["search_word"],
                    "--search-tag",
                    options["search_tag"],
                    capture=True,
                ).splitlines()[-1]
            )
            self.say(
                f"[prepare] {prepared['models']:,} models; long model {prepared['long_model']} "
                f"({prepared['long_versions']:,} versions); deep cursor at row {prepared['deep_row']:,}"
            )
            for name, plan in prepared["plans"].items():
                self.say(f"[plan] {name} ({prepared['matches'][name]:,} matches):\n{_indent(plan)}")
            server = _Gunicorn(env, self.say)
            rows, page_size_queries = self._measure(server.base_url, prepared, options)
            targets = pm.evaluate(
                rows,
                page_size_queries=page_size_queries,
                plans=prepared["plans"],
                model_table=prepared["model_table"],
                seed_seconds=seed_seconds,
            )
        finally:
            if server:
                server.stop()
            if not (options["keep"] or options["skip_seed"]) and database.created:
                database.drop()
                self.say(f"[db] dropped {database.label}")
        self.say("")
        self.say(pm.format_table(rows))
        self.say("")
        self.say(pm.format_targets(targets))
        passed = all(t.passed for t in targets)
        if options["json"]:
            report = pm.report_dict(
                rows,
                targets,
                seed_seconds=seed_seconds,
                scale=options["scale"],
                requests=options["requests"],
                prepared={k: v for k, v in prepared.items() if k not in ("sessions", "token")},
                page_size_queries=page_size_queries,
                seconds=round(time.monotonic() - started, 1),
            )
            Path(options["json"]).write_text(json.dumps(report, indent=2, default=str))
            self.say(f"Report written to {options['json']}")
        if not passed:
            failed = [t.name for t in targets if not t.passed]
            raise CommandError(f"{len(failed)} target(s) missed: " + "; ".join(failed))
        self.say(self.style.SUCCESS("All targets met."))

    # -- steps -------------------------------------------------------------------------------------------

    def _database_url(self, given: str) -> str:
        if given:
            url = given
        else:
            configured = settings.DATABASES["default"]
            if "postgresql" in configured["ENGINE"]:
                auth = quote(configured.get("USER") or "", safe="")
                if configured.get("PASSWORD"):
                    auth += ":" + quote(configured["PASSWORD"], safe="")
                host, port = configured.get("HOST") or "127.0.0.1", configured.get("PORT") or 5432
                url = f"postgres://{auth}@{host}:{port}/modelhouse_bench"
            else:
                url = DEFAULT_URL
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise CommandError(
                "The benchmark needs PostgreSQL (COPY, full-text search): give a postgres:// URL."
            )
        name = parts.path.lstrip("/")
        configured_name = settings.DATABASES["default"].get("NAME")
        if not name or (str(configured_name) == name and "bench" not in name):
            raise CommandError(f"Refusing to use {name!r}: the benchmark drops and recreates its database.")
        return url

    def _manage(self, env, *args, capture: bool = False) -> str:
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
        if capture:
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            if done.returncode:
                raise CommandError(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
            return done.stdout
        done = subprocess.run(command, env=env, stdout=sys.stdout, stderr=sys.stderr)
        if done.returncode:
            raise CommandError(f"manage.py {' '.join(args)} failed (exit {done.returncode}).")
        return ""

    def _seed(self, env, options) -> float:
        step = time.monotonic()
        self._manage(env, "migrate", "--noinput", "-v0")
        self.say(f"[seed] migrated in {time.monotonic() - step:.1f}s")
        if not options["skip_demo"]:
            step = time.monotonic()
            self._manage(env, "seed_demo", "-v0")
            self.say(f"[seed] demo organisation and its governance in {time.monotonic() - step:.1f}s")
        step = time.monotonic()
        self._manage(
            env,
            "seed_demo",
            "--scale",
            str(options["scale"]),
            "--versions-per-model",
            str(options["versions_per_model"]),
            "--points-per-version",
            str(options["points_per_version"]),
            "--long-models",
            str(options["long_models"]),
            "--long-versions",
            str(options["long_versions"]),
            "--long-points",
            str(options["long_points"]),
            "--governance",
            "-v2",
        )
        seconds = time.monotonic() - step
        self.say(f"[seed] seed_demo --scale {options['scale']:,} in {seconds:.1f}s")
        return seconds

    def _endpoints(self, p: dict, search_word: str, search_tag: str) -> list[pm.Endpoint]:
        long_model = quote(p["long_model"], safe="")
        deep = urlencode({"cursor": p["deep_cursor"]})
        return [
            pm.Endpoint(
                pm.FLOOR,
                "floor: one indexed query",
                f"/bench/floor/?name={p['floor_model']}",
                MANAGER,
                pm.FLOOR,
            ),
            pm.Endpoint("catalog", "catalog page 1", "/", MANAGER),
            pm.Endpoint("catalog_deep", "catalog deep page", f"/?{deep}", MANAGER, page_one="catalog"),
            pm.Endpoint("search_word", f"search {search_word!r}", f"/?q={quote(search_word)}", MANAGER),
            pm.Endpoint("search_tag", f"search tag {search_tag!r}", f"/?q={quote(search_tag)}", MANAGER),
            pm.Endpoint(
                "model",
                f"model page ({p['long_versions']:,} versions)",
                f"/models/{long_model}/",
                MANAGER,
            ),
            pm.Endpoint(
                "version",
                f"version page ({p['long_points']:,}-point curve)",
                f"/models/{long_model}/versions/{quote(p['long_latest'], safe='')}/",
                MANAGER,
            ),
            pm.Endpoint("api", "API models page 1", "/api/v1/models/", MANAGER, api=True),
            pm.Endpoint(
                "api_deep",
                "API models deep page",
                f"/api/v1/models/?{deep}",
                MANAGER,
                api=True,
                page_one="api",
            ),
            pm.Endpoint("dash_manager", "manager dashboard", "/dashboards/", MANAGER, pm.DASHBOARD),
            pm.Endpoint("dash_engineer", "engineer dashboard", "/dashboards/", ENGINEER, pm.DASHBOARD),
            pm.Endpoint("dash_compliance", "compliance dashboard", "/compliance/", COMPLIANCE, pm.DASHBOARD),
        ]

    def _measure(self, base_url: str, p: dict, options) -> tuple[dict[str, pm.Row], dict]:
        import httpx

        endpoints = self._endpoints(p, options["search_word"], options["search_tag"])
        clients = {}
        for user, session in p["sessions"].items():
            clients[user] = httpx.Client(
                base_url=base_url, cookies={p["session_cookie"]: session}, timeout=300, follow_redirects=False
            )
        api_client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Token {p['token']}"}, timeout=300
        )

        def get(endpoint: pm.Endpoint, path: str | None = None):
            client = api_client if endpoint.api else clients[endpoint.user]
            return client.get(
                path or endpoint.path, headers={"X-Fragment": "1"} if endpoint.fragment else None
            )

        # The model page's parts (charts, lineage, governance, monitoring, registry), the version page's
        # metric history, the catalog's count of matches and the compliance dashboard's production card load
        # after the first paint from the URLs the page names (static/js/fragments.js): each measured as the
        # browser fetches it, and held to its page's target.
        later = ("catalog", "search_word", "search_tag", "model", "version", "dash_compliance")
        for page in [e for e in endpoints if e.key in later]:
            for src in re.findall(r'data-fragment-src="([^"]+)"', clients[page.user].get(page.path).text):
                part = urlsplit(html.unescape(src)).path.rstrip("/").rsplit("/", 1)[-1]
                endpoints.append(
                    pm.Endpoint(
                        f"{page.key}_{part}",
                        f"{page.label}: {part} (after first paint)",
                        html.unescape(src),
                        page.user,
                        page.kind,
                        charts=True,
                        fragment=True,
                    )
                )

        # The dashboard's queue fills its gates after the first paint from the URL the page names: measured
        # as the browser fetches it, and held to the dashboards' target.
        found = re.search(r'data-gates-src="([^"]+)"', clients[ENGINEER].get("/dashboards/").text)
        if found:
            endpoints.append(
                pm.Endpoint(
                    "dash_gates",
                    "queue gates (after first paint)",
                    html.unescape(found[1]),
                    ENGINEER,
                    pm.DASHBOARD,
                )
            )

        rows = {e.key: pm.Row(e.key, e.label, e.path, e.user, e.kind, page_one=e.page_one) for e in endpoints}
        try:
            for e in endpoints:  # every page answers before anything is timed
                response = get(e)
                if response.status_code != 200:
                    raise CommandError(f"{e.label} ({e.path}) answered {response.status_code}.")
                if e.charts:
                    points = pm.chart_trace_points(response.text)
                    rows[e.key].chart_traces, rows[e.key].chart_max_points = (
                        len(points),
                        max(points, default=0),
                    )
            for _ in range(options["warmup"]):
                for e in endpoints:
                    get(e)
            rounds = options["requests"]
            self.say(f"[measure] {len(endpoints)} endpoints x {rounds} rounds, interleaved")
            for n in range(rounds):
                for e in endpoints:
                    pm.record(rows[e.key], get(e))
                if (n + 1) % max(rounds // 5, 1) == 0:
                    self.say(f"[measure] round {n + 1}/{rounds}")
            for row in rows.values():
                pm.summarise(row)
            page_size_queries = {}
            checks = {
                "catalog page": (endpoints[1], "/?page_size={}"),
                f"search {options['search_word']!r}": (
                    endpoints[3],
                    f"/?q={quote(options['search_word'])}&page_size={{}}",
                ),
                "API models": (endpoints[7], "/api/v1/models/?page_size={}"),
                "model page versions": (endpoints[5], endpoints[5].path + "?versions_page_size={}"),
            }
            for name, (endpoint, template) in checks.items():
                counts = []
                for size in (10, 100):
                    seen = []
                    # Twice each, the fewer counts: a cached value (filter options) expiring between the two
                    # sizes adds its queries to one request; that is not the page growing with its size.
                    for _ in range(2):
                        response = get(endpoint, template.format(size))
                        if response.status_code != 200:
                            raise CommandError(f"{name} at page size {size} answered {response.status_code}.")
                        seen.append(int(response.headers["x-bench-queries"]))
                    counts.append(min(seen))
                page_size_queries[name] = tuple(counts)
        finally:
            for client in [*clients.values(), api_client]:
                client.close()
        return rows, page_size_queries


class _Database:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.name = parts.path.lstrip("/")
        self.admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        self.label = f"{self.name!r} on {parts.hostname}:{parts.port or 5432}"
        self.created = False

    def _admin(self, template: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL(template).format(sql.Identifier(self.name)))

    def recreate(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin("CREATE DATABASE {}")
        self.created = True

    def drop(self) -> None:
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


class _Gunicorn:
    """gunicorn serving the portal with benchmarks.settings on a free 127.0.0.1 port: one worker, one
    thread (requests come one at a time), gthread so that the client's connections are kept alive."""

    def __init__(self, env: dict, say):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        log, self.log_name = tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "python:portal.gunicorn",  # as production runs it: GC between requests
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--worker-class",
                "gthread",
                "--threads",
                "1",
                "--keep-alive",
                "60",
                "--timeout",
                "300",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        os.close(log)  # the child has its own copy
        self._wait()
        say(f"[server] gunicorn (pid {self.process.pid}) on {self.base_url}, log {self.log_name}")

    def _wait(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"gunicorn exited; see {self.log_name}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise CommandError(f"gunicorn did not answer within 60 s; see {self.log_name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _prepare(options) -> dict:
    """Runs in the benchmark database (child process): sessions, token, names, cursors, plans."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.db import connection
    from django.http import QueryDict
    from rest_framework.authtoken.models import Token

    from catalog.models import RegisteredModel
    from catalog.selectors import model_list
    from catalog.selectors.models import DEFAULT_MODEL_SORT, MODEL_SORTS
    from catalog.views import LIST_PAGE_SIZE, MODEL_COUNT_LIMIT
    from portal.pagination import encode_cursor

    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=[MANAGER, ENGINEER, COMPLIANCE])
    }
    missing = {MANAGER, ENGINEER, COMPLIANCE} - set(users)
    if missing:
        raise CommandError(f"The benchmark database has no demo user {', '.join(sorted(missing))}: seed it.")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = {}
    for name, user in users.items():
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions[name] = session.session_key
    token = Token.objects.get_or_create(user=users[MANAGER])[0].key

    manager = users[MANAGER]
    ordering = MODEL_SORTS[DEFAULT_MODEL_SORT].ordering
    catalog = model_list(user=manager, filters=QueryDict()).order_by(*ordering)
    total = catalog.count()
    deep_row = int(total * DEEP_SHARE)
    # One OFFSET, here and once, to find the row where the deep page starts; the pages seek past it.
    values = list(catalog.values_list(*ordering)[deep_row])
    long_model = (
        RegisteredModel.objects.order_by("-version_count", "name").select_related("latest_version").first()
    )
    long_points = long_model.latest_version.metric_points.count() if long_model.latest_version else 0
    plans, matches = {}, {}
    for label, text in (
        (f"search {options['search_word']!r}", options["search_word"]),
        (f"search tag {options['search_tag']!r}", options["search_tag"]),
    ):
        found = model_list(user=manager, filters=QueryDict(urlencode({"q": text})))
        matches[label] = found.count()
        page = found.order_by(*ordering)[: LIST_PAGE_SIZE + 1]
        plans[label] = page.explain(analyze=True)
        # The page's total (counted up to MODEL_COUNT_LIMIT): where the GIN index has to carry the search.
        sql, params = found.order_by().values("pk")[: MODEL_COUNT_LIMIT + 1].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) matches", params)
            plans[f"{label} (count)"] = "\n".join(r[0] for r in cursor.fetchall())
            matches[f"{label} (count)"] = matches[label]
    return {
        "sessions": sessions,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "token": token,
        "models": total,
        "deep_row": deep_row,
        "deep_cursor": encode_cursor(values, backwards=False),
        "floor_model": RegisteredModel.objects.order_by("id").values_list("name", flat=True).first(),
        "long_model": long_model.name,
        "long_versions": long_model.version_count,
        "long_latest": long_model.latest_version.version if long_model.latest_version else "",
        "long_points": long_points,
        "plans": plans,
        "matches": matches,
        "model_table": RegisteredModel._meta.db_table,
        "server": connection.pg_version,
    }
