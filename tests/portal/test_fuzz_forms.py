"""Bad input, HTML forms: Hypothesis fills the main pages' forms (work items, comments, transitions, links,
promotions and their decisions, rollback, definition of done, data-access requests and their decisions,
purposes, campaigns, attestations, alerts, verification scripts and runs, registries) with arbitrary
values: text with NUL bytes, unicode, markup and huge strings, invalid choices, dates, numbers and URLs,
fields left out. Each is posted through Django's test client, signed in as the person the form is for.

Every answer must be a page (200/400/403/404/409) or a redirect (302), never a server error. A rejected
form (anything but a redirect, or a redirect carrying an error message) must show why, and must not have
written anything: the row counts of every catalog and governance table are the same before and after.
The number of cases is written to test-artifacts/fuzz-report.json ("forms") and printed in the summary.
"""

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from django import forms
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.test import Client
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.forms import RegistrySourceForm
from governance import access_forms as af
from governance import forms as gf
from tests.portal.fuzz_data import case_savepoint, report_update, world_for_module

pytestmark = pytest.mark.django_db

PROFILES = {"ci": 12, "full": 120}  # cases per form
PROFILE_NAME = os.environ.get("MODELHOUSE_FUZZ", "ci")
MAX_EXAMPLES = PROFILES[PROFILE_NAME]
ANSWERS = {200, 302, 400, 403, 404, 409}
MISSING = object()

# Text no form should choke on: NUL bytes, markup, unicode edge cases, number and date look-alikes.
NASTY = [
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "' OR 1=1 --",
    "../../etc/passwd",
    "\u202egnp.exe",
    "😀" * 20,
    "\ufeff",
    " ",
    "null",
    "-1",
    "0",
    "9" * 40,
    "1e309",
    "NaN",
    "2026-02-30",
    "0000-00-00",
    "99999-01-01",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://[::1",
    "http://127.0.0.1:22/",
    "%00",
    "@eric @@ @",
]
TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60),
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from([10, 101, 4_001, 20_001, 200_001]).map(lambda n: "x" * n),
)


def dates():
    return st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
        TEXT,
    )


def integers():
    return st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), TEXT)


@dataclass
class FormTarget:
    name: str
    url: str  # with {placeholders} filled from the world's objects
    user: str  # username of the person the form is for
    form_class: type | None
    # Field name -> strategy for values the form would accept (choices, existing objects, good dates...).
    valid: dict = field(default_factory=dict)
    # Fields posted besides the form's own (a POST may carry anything).
    extra: tuple = ()


def field_strategy(name: str, fld, valid) -> st.SearchStrategy:
    """Anything for one field: a value the form accepts, an empty one, or arbitrary text."""
    options = [TEXT, st.just("")]
    if valid is not None:
        options += [valid, valid]
    if isinstance(fld, forms.DateField):
        options.append(dates())
    elif isinstance(fld, forms.IntegerField):
        options.append(integers())
    elif isinstance(fld, forms.URLField):
        options.append(
            st.sampled_from(["https://mlflow.example.com", "ftp://x", "http://", "https://ü.example"])
        )
    elif isinstance(fld, forms.BooleanField):
        options.append(st.sampled_from(["on", "true", "false", "1", "0"]))
    elif isinstance(fld, forms.ChoiceField) and not isinstance(fld, forms.ModelChoiceField):
        choices = [str(v) for v, _ in fld.choices if v != ""]
        if choices:
            options.append(st.sampled_from(choices))
    value = st.one_of(*options)
    if isinstance(fld, forms.MultipleChoiceField):
        value = st.lists(value, max_size=4)
    return st.one_of(value, value, st.just(MISSING))


def post_data(target: FormTarget, world) -> st.SearchStrategy:
    fields = dict(target.form_class.base_fields) if target.form_class else {}
    strategies = {
        name: field_strategy(name, fld, resolve(target.valid.get(name), world))
        for name, fld in fields.items()
    }
    for name in target.extra:
        strategies[name] = field_strategy(name, forms.CharField(), resolve(target.valid.get(name), world))
    return st.fixed_dictionaries(strategies).map(
        lambda data: {k: v for k, v in data.items() if v is not MISSING}
    )


def resolve(valid, world):
    return valid(world) if callable(valid) else valid


def pick(kind: str, *, convert=str):
    return lambda world: st.sampled_from([convert(v) for v in world.objects[kind]])


TARGETS = [
    FormTarget(
        "work item: create",
        "/work/new/",
        "sara",
        gf.WorkItemForm,
        valid={
            "title": st.just("Retrain on fresh clicks"),
            "domain": pick("domain"),
            "assignee": pick("user"),
            "model": pick("model"),
            "version": st.sampled_from(["1", "v2", "7"]),
            "dataset": st.sampled_from(["s3://lake/clicks", "s3://lake/orders"]),
            "due_date": st.dates().map(str),
            "labels": st.just("drift q3"),
        },
    ),
    FormTarget("work item: comment", "/work/PERS-1/comments/", "sara", gf.CommentForm),
    FormTarget("work item: transition", "/work/PERS-1/transition/", "sara", gf.TransitionForm),
    FormTarget(
        "work item: link",
        "/work/PERS-1/links/",
        "sara",
        gf.LinkForm,
        valid={"target": st.sampled_from(["RISK-1", "pers-1", "NOPE-9"])},
    ),
    FormTarget(
        "promotion: request",
        "/promotions/new/?version={version}",
        "sara",
        gf.PromotionRequestForm,
        valid={
            "alias": st.sampled_from(["champion", "canary_2", "bad alias!"]),
            "justification": st.just("Beats the champion on holdout AUC."),
        },
    ),
    FormTarget("promotion: approve", "/promotions/{promotion}/approve/", "eric", gf.ApproveForm),
    FormTarget("promotion: reject", "/promotions/{promotion}/reject/", "eric", gf.RejectForm),
    FormTarget(
        "promotion: waive gate",
        "/promotions/{promotion}/waive/",
        "eric",
        gf.WaiverForm,
        valid={"reason": st.just("Accepted by the model risk board.")},
    ),
    FormTarget("promotion: withdraw", "/promotions/{promotion}/withdraw/", "sara", gf.WithdrawForm),
    FormTarget("model: rollback", "/governance/models/recs-ranker/rollback/", "sara", gf.RollbackForm),
    FormTarget(
        "model: attest definition of done",
        "/governance/models/recs-ranker/definition-of-done/attest/",
        "eric",
        gf.AttestForm,
    ),
    FormTarget(
        "model: revoke attestation",
        "/governance/models/recs-ranker/definition-of-done/revoke/",
        "eric",
        gf.RevokeForm,
    ),
    FormTarget(
        "data access: request",
        "/access/new/",
        "sara",
        af.AccessRequestForm,
        valid={
            "datasets": pick("dataset"),
            "purpose": lambda world: st.just(str(world.purpose_pk)),
            "justification": st.just("Train the ranker on last quarter's clicks."),
            "start_date": st.dates().map(str),
            "expiry_date": st.dates().map(str),
            "columns_1": st.just("user_id, ts"),
        },
        extra=("columns_1", "columns_2", "intent"),
    ),
    FormTarget("data access: approve", "/access/{access_submitted}/approve/", "olga", af.ApproveForm),
    FormTarget("data access: reject", "/access/{access_submitted}/reject/", "olga", af.RejectForm),
    FormTarget("data access: withdraw", "/access/{access_submitted}/withdraw/", "sara", af.WithdrawForm),
    FormTarget(
        "data access: submit draft", "/access/{access_draft}/submit/", "sara", af.EmptyForm, extra=("x",)
    ),
    FormTarget("data access: revoke grant", "/access/{grant}/revoke/", "cora", af.RevokeForm),
    FormTarget(
        "purpose: create",
        "/access/purposes/",
        "cora",
        af.PurposeForm,
        valid={"name": st.just("Fraud detection"), "description": st.just("Scoring card payments.")},
    ),
    FormTarget(
        "campaign: start",
        "/access/campaigns/",
        "cora",
        af.CampaignForm,
        valid={"name": st.just("2027 Q1"), "deadline": st.dates().map(str)},
    ),
    FormTarget(
        "campaign: attest",
        "/access/campaigns/{campaign}/items/{campaign_item}/attest/",
        "olga",
        af.AttestForm,
    ),
    FormTarget("alert: acknowledge", "/alerts/{alert}/acknowledge/", "sara", af.EmptyForm, extra=("x",)),
    FormTarget("alert: resolve", "/alerts/{alert}/resolve/", "sara", af.ResolveForm),
    FormTarget(
        "verification: upload script",
        "/verification/models/recs-ranker/scripts/new/",
        "sara",
        af.VerificationScriptForm,
        valid={
            "name": st.sampled_from(["auc-floor", "latency"]),
            "source": st.just("import json\nprint(json.dumps({'passed': True}))\n"),
            "timeout_seconds": st.sampled_from(["5", "120", "1800", "4"]),
        },
    ),
    FormTarget(
        "verification: run now",
        "/verification/scripts/{verification_script}/run/",
        "sara",
        af.RunNowForm,
        valid={"version": pick("version")},
    ),
    FormTarget(
        "registry: add",
        "/registries/new/",
        "ada",
        RegistrySourceForm,
        valid={
            "name": st.sampled_from(["mlflow-dev", "new", "mlflow-prod", "a b"]),
            "base_url": st.sampled_from(["https://mlflow.example.com", "/srv/manifests", "http://10.0.0.1"]),
            "default_domain": pick("domain"),
            "secret_env": st.sampled_from(["MLFLOW_TOKEN", "lower"]),
            "poll_seconds": st.sampled_from(["300", "0", "604801"]),
            "full_sweep_hours": st.sampled_from(["24", "721"]),
        },
    ),
    FormTarget(
        "registry: edit",
        "/registries/mlflow-prod/edit/",
        "ada",
        RegistrySourceForm,
        valid={
            "base_url": st.sampled_from(["https://mlflow.example.com", "http://10.0.0.1"]),
            "poll_seconds": st.sampled_from(["300", "0"]),
            "full_sweep_hours": st.just("24"),
        },
    ),
    FormTarget("registry: sync now", "/registries/mlflow-prod/sync/", "ada", None, extra=("full",)),
]


def row_counts() -> dict[str, int]:
    models = [*apps.get_app_config("catalog").get_models(), *apps.get_app_config("governance").get_models()]
    return {m._meta.label: m._default_manager.count() for m in models}


def rejection(response) -> tuple[list[str], list[str]]:
    """Why a request was refused: (what the page must show, error flash messages). The page shows a bound
    form's messages next to its fields (and those of the whole form above it); without form errors, the
    banner's messages (a refusal: 403, 404, 409)."""
    context = response.context
    on_page, banner = [], []
    if context is not None:
        for key in context.keys():  # noqa: SIM118 (a ContextList iterates over its contexts)
            value = context.get(key)
            if isinstance(value, forms.BaseForm) and value.is_bound and value.errors:
                on_page += [str(m) for messages in value.errors.values() for m in messages]
        for key in ("errors", "message"):
            value = context.get(key)
            if isinstance(value, str) and value:
                banner.append(value)
            elif isinstance(value, list | tuple):
                banner += [str(v) for v in value if v]
    storage = getattr(response.wsgi_request, "_messages", None)
    flashed = [str(m) for m in getattr(storage, "_queued_messages", []) if m.level >= message_levels.ERROR]
    return (on_page or banner), flashed


class Tally:
    def __init__(self):
        self.cases = Counter()
        self.statuses = defaultdict(Counter)
        self.failures = defaultdict(list)
        self.started = time.monotonic()


TALLY = Tally()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    from governance.models import AccessStatus, PromotionRequest, PromotionStatus

    with world_for_module(django_db_blocker) as built:
        from governance.models import AccessRequest, Purpose

        built.purpose_pk = Purpose.objects.get().pk
        requests = AccessRequest.objects.order_by("pk")
        built.urls = {
            "version": built.objects["version"][1],
            "promotion": PromotionRequest.objects.filter(status=PromotionStatus.PENDING).order_by("pk")[0].pk,
            "access_submitted": requests.filter(status=AccessStatus.SUBMITTED).first().pk,
            "access_draft": requests.filter(status=AccessStatus.DRAFT).first().pk,
            "grant": built.objects["grant"][0],
            "campaign": built.objects["campaign"][0],
            "campaign_item": built.objects["campaign_item"][0],
            "alert": built.objects["alert"][0],
            "verification_script": built.objects["verification_script"][0],
        }
        built.clients = {}
        from django.contrib.auth import get_user_model

        for username in built.objects["user"]:
            client = Client()
            client.force_login(get_user_model().objects.get(username=username))
            built.clients[username] = client
        yield built


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_form_survives_arbitrary_input(target, world, db):
    url = target.url.format(**world.urls)
    client = world.clients[target.user]
    # The page itself first: the form is there to fill.
    assert client.get(url.replace("/approve/", "/").split("?")[0]).status_code < 500

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=post_data(target, world))
    def run(data):
        with case_savepoint():
            before = row_counts()
            try:
                response = client.post(url, data)
            except Exception as exc:  # the test client re-raises what would have been a 500
                TALLY.cases[target.name] += 1
                TALLY.statuses[target.name][500] += 1
                TALLY.failures[target.name].append(
                    f"{target.name}: POST {url} {sorted(data)} -> {exc!r}"[:1500]
                )
                raise
            TALLY.cases[target.name] += 1
            TALLY.statuses[target.name][response.status_code] += 1
            problems = []
            if response.status_code not in ANSWERS:
                problems.append(f"answered {response.status_code}")
            on_page, flashed = rejection(response)
            rejected = response.status_code != 302 or bool(flashed)
            if rejected:
                after = row_counts()
                changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                if changed:
                    problems.append(f"rejected ({response.status_code}) but wrote rows: {changed}")
                if response.status_code != 302:
                    content = response.content.decode()
                    missing = [m for m in on_page if escape(m) not in content]
                    if not on_page:
                        problems.append(f"rejected ({response.status_code}) without saying why")
                    elif missing:
                        problems.append(f"messages not on the page: {missing[:3]}")
            if problems:
                message = f"{target.name}: POST {url} {sorted(data)} -> " + "; ".join(problems)
                TALLY.failures[target.name].append(message[:1500])
                raise AssertionError(f"{message}\ndata: { ({k: v[:200] for k, v in data.items()})!r}")

    run()


@pytest.fixture(scope="module", autouse=True)
def fuzz_report(request):
    TALLY.started = time.monotonic()
    yield
    cases = sum(TALLY.cases.values())
    data = {
        "forms": len(TALLY.cases),
        "cases": cases,
        "cases_per_form": dict(TALLY.cases),
        "statuses": {str(k): v for k, v in sum(TALLY.statuses.values(), Counter()).items()},
        "failures": sum(len(v) for v in TALLY.failures.values()),
        "failure_examples": {k: v[:3] for k, v in TALLY.failures.items()},
        "seconds": round(time.monotonic() - TALLY.started, 1),
        "profile": PROFILE_NAME,
        "max_examples": MAX_EXAMPLES,
    }
    report_update("forms", data)
    line = (
        f"Form fuzz: {data['forms']} forms, {cases} cases, {data['failures']} failures in {data['seconds']} s"
    )
    request.config.pluginmanager.register(SummaryLine(line), f"fuzz-forms-summary-{id(line)}")


class SummaryLine:
    def __init__(self, line):
        self.line = line

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(self.line)
