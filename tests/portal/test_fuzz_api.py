"""Bad input, API: Schemathesis generates requests for every operation of the schema the app serves at
/api/schema/ and sends each one as every role (token) and anonymously, through Django's own test handler
(in-process, in the test database). Every answer must be a documented status code other than 5xx, with the
documented content type and a body that validates against the documented schema; anonymous calls must be
401 (except the token endpoint).

Generation covers the schema's examples, Schemathesis' coverage phase (boundary and invalid values for
every parameter and property, missing required ones) and random positive and negative data. A share of the
cases name objects that exist (a seeded world, tests/portal/fuzz_data.py), or every path would 404.
Deterministic: a fixed seed, derandomised, no example database. The number of cases run is written to
test-artifacts/fuzz-report.json and printed in the terminal summary.
"""

import json
import os
import sys
import time
from collections import Counter, defaultdict

import pytest
import schemathesis
from django.core.signals import got_request_exception
from django.test.client import ClientHandler
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.portal.fuzz_data import FUZZ_SEED, ROLES, case_savepoint, report_update, world_for_module

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
# Two depths. "ci" (the default) keeps the module near a minute and a half on SQLite: a few random cases per
# operation, each sent as every role and anonymously, plus every second coverage case, each sent as one
# role in turn. "full" (MODELHOUSE_FUZZ=full) sends every coverage case and more random ones as every role.
PROFILES = {
    "ci": {"max_examples": 5, "coverage_every": 2, "coverage_as_every_role": False},
    "full": {"max_examples": 25, "coverage_every": 1, "coverage_as_every_role": True},
}
PROFILE_NAME = os.environ.get("MODELHOUSE_FUZZ", "ci")
PROFILE = PROFILES[PROFILE_NAME]
MAX_EXAMPLES = PROFILE["max_examples"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Paths anonymous callers may use (everything else must answer 401).
PUBLIC_PATHS = {"/api/v1/auth/token/"}

# Which seeded objects a path parameter names, by the path segment before it (and the parameter's name).
POOLS = {
    ("models", "name"): "model",
    ("registries", "name"): "registry",
    ("versions", "id"): "version",
    ("datasets", "id"): "dataset",
    ("domains", "slug"): "domain",
    ("work-items", "key"): "work_item",
    ("promotions", "id"): "promotion",
    ("purposes", "slug"): "purpose",
    ("access-requests", "id"): "access_request",
    ("grants", "id"): "grant",
    ("campaigns", "id"): "campaign",
    ("items", "item_id"): "campaign_item",
    ("verification-scripts", "id"): "verification_script",
    ("verification-runs", "id"): "verification_run",
    ("alerts", "id"): "alert",
    ("attestations", "item"): "dod_item",
}


class DjangoTestApp:
    """A WSGI app over Django's test handler, which (unlike portal.wsgi) leaves the test transaction's
    connection open between requests and lets a server error surface as its exception."""

    def __init__(self):
        self.handler = ClientHandler(enforce_csrf_checks=True)
        self.last_exception = None
        got_request_exception.connect(self._store_exception, dispatch_uid="fuzz-api-exceptions")

    def _store_exception(self, **kwargs):
        self.last_exception = sys.exc_info()[1]

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        headers = [(k, v) for k, v in response.items()]
        headers += [("Set-Cookie", c.output(header="").strip()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        if response.streaming:
            return [b"".join(response.streaming_content)]
        return [response.content]


class Tally:
    """Cases run and failures per operation and role, for the report."""

    def __init__(self):
        self.cases = Counter()
        self.failures = defaultdict(list)
        self.statuses = defaultdict(Counter)
        self.phases = Counter()
        self.coverage_seen = Counter()
        self.started = time.monotonic()

    def as_report(self, operations: list[str]) -> dict:
        per_role = Counter()
        for (_, role), n in self.cases.items():
            per_role[role] += n
        return {
            "operations": len(operations),
            "roles": [*ROLES, ANONYMOUS],
            "operation_role_pairs": len(operations) * (len(ROLES) + 1),
            "cases": sum(self.cases.values()),
            "cases_per_role": dict(per_role),
            "cases_per_phase": dict(self.phases),
            "cases_per_operation": {
                op: sum(n for (o, _), n in self.cases.items() if o == op) for op in operations
            },
            "statuses": {str(k): v for k, v in sum(self.statuses.values(), Counter()).items()},
            "failures": sum(len(v) for v in self.failures.values()),
            "failing_operations": sorted({op for op, _ in self.failures}),
            "failure_examples": {f"{op} as {role}": msgs[:3] for (op, role), msgs in self.failures.items()},
            "seconds": round(time.monotonic() - self.started, 1),
            "seed": FUZZ_SEED,
            "profile": PROFILE_NAME,
            "max_examples": MAX_EXAMPLES,
        }


TALLY = Tally()


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker):
    with world_for_module(django_db_blocker) as world:
        EXISTING.update(world.objects)
        yield world


def schema_document() -> dict:
    """The document /api/schema/ serves, built the way its view builds it (public, so not per user)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


# Loaded when the module is collected (Schemathesis makes one test per operation from it); the first test
# checks that it is exactly what the app serves at /api/schema/ to a signed-in caller.
DOCUMENT = schema_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "no-shrink": True,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)
EXISTING: dict = {}  # kind -> keys of seeded objects, filled by `fuzz_world`


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, name objects that exist (chosen by the path segment before each parameter)."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    segments = context.operation.path.strip("/").split("/")
    real = {}
    for name in path_parameters:
        if "{" + name + "}" not in segments:
            continue
        index = segments.index("{" + name + "}")
        pool = POOLS.get((segments[index - 1], name))
        if pool:
            real[name] = st.sampled_from(EXISTING[pool])
    if not real:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries({**path_parameters, **real}))


APP = DjangoTestApp()


def test_the_fuzzed_schema_is_the_served_one(fuzz_world):
    client = APIClient()
    assert client.get("/api/schema/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {fuzz_world.tokens['scientist']}")
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200, response.content[:500]
    assert json.loads(response.content) == DOCUMENT
    assert len(list(schema.get_all_operations())) >= 80


def roles_for(case) -> tuple[str, ...]:
    """Every role and anonymous; in the "ci" profile a coverage case goes to one role in turn (or none)."""
    label = case.operation.label
    if case.meta is None or case.meta.phase.name.value != "coverage" or PROFILE["coverage_as_every_role"]:
        return (*ROLES, ANONYMOUS)
    n = TALLY.coverage_seen[label]
    TALLY.coverage_seen[label] += 1
    if n % PROFILE["coverage_every"]:
        return ()
    return (ROLES[(n // PROFILE["coverage_every"]) % len(ROLES)],)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation_as_every_role(case, fuzz_world, db):
    label = case.operation.label
    problems = []
    for role in roles_for(case):
        headers = {"Authorization": f"Token {fuzz_world.tokens[role]}"} if role != ANONYMOUS else {}
        if role == ANONYMOUS:
            # Generated security parameters could carry a (random) token: anonymous means none at all.
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        with case_savepoint():
            APP.last_exception = None
            response = case.call(app=APP, headers=headers)
            TALLY.cases[(label, role)] += 1
            TALLY.phases[case.meta.phase.name.value if case.meta else "explicit"] += 1
            TALLY.statuses[(label, role)][response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
                if role == ANONYMOUS and case.operation.path not in PUBLIC_PATHS:
                    assert response.status_code == 401, f"anonymous got {response.status_code}, not 401"
            except (AssertionError, FailureGroup) as exc:
                message = f"[{role}] {exc}"
                if APP.last_exception is not None:
                    message += f"\n  server exception: {APP.last_exception!r}"
                TALLY.failures[(label, role)].append(message[:2000])
                problems.append(message)
    if problems:
        raise AssertionError("\n".join(problems))


@pytest.fixture(scope="module", autouse=True)
def fuzz_report(request):
    TALLY.started = time.monotonic()
    yield
    operations = sorted({op for op, _ in TALLY.cases})
    data = TALLY.as_report(operations)
    report_update("api", data)
    line = (
        f"API fuzz: {data['operations']} operations x {len(data['roles'])} roles, {data['cases']} cases, "
        f"{data['failures']} failures in {data['seconds']} s"
    )
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        request.config.pluginmanager.register(_SummaryLine(line), f"fuzz-api-summary-{id(line)}")


class _SummaryLine:
    def __init__(self, line):
        self.line = line

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(self.line)
