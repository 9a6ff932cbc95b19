"""A small, complete world for the fuzz tests: one user per role, and at least one object of every kind the
API and the forms address (domain, models, versions with metrics and datasets, registries, work items,
promotions, purposes, access requests and grants, a campaign, verification scripts and runs, alerts), so
that generated requests can name objects that exist instead of answering 404 every time.

Built through the services production uses, once per module (`fuzz_world`), inside a transaction that is
rolled back afterwards; each fuzz case runs in a savepoint inside it (`case_savepoint`), so one case's
writes never leak into the next and a database error in one case (PostgreSQL aborts the transaction) does
not poison the rest.
"""

import datetime
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from portal.roles import Role

ROLES = (Role.SCIENTIST, Role.ENGINEER, Role.MANAGER, Role.COMPLIANCE, Role.ADMIN)
REPORT_PATH = Path(os.environ.get("MODELHOUSE_FUZZ_REPORT", "test-artifacts/fuzz-report.json"))
PASSING_SCRIPT = "import json\nprint(json.dumps({'passed': True}))\n"
FUZZ_SEED = int(os.environ.get("MODELHOUSE_FUZZ_SEED", "20261124"))


@dataclass
class FuzzWorld:
    users: dict  # role -> user (the main actor of that role)
    tokens: dict  # role -> API token
    others: dict  # name -> a further user (a second scientist, a dataset owner)
    objects: dict = field(default_factory=dict)  # kind -> list of existing objects' keys


class _Rollback(Exception):
    pass


@contextmanager
def case_savepoint():
    """Run one case in a savepoint that is always rolled back."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def build_world() -> FuzzWorld:
    from catalog.models import RegistryKind
    from catalog.services import dataset_create, model_create, version_create
    from catalog.services.registries import registry_source_create, sync_run_start
    from governance.models import AlertCondition, DodItem, PromotionRequest, Severity
    from governance.services.data_access import (
        access_request_create,
        access_request_decide,
        campaign_start,
        model_purpose_set,
        purpose_create,
    )
    from governance.services.dod import dod_attest
    from governance.services.monitoring import alert_acknowledge, alert_raise, prediction_stats_record
    from governance.services.promotions import promotion_request
    from governance.services.verification import verification_queue, verification_script_save
    from governance.services.work_items import comment_add, work_item_create
    from portal.services import user_token
    from tests.factories import DomainFactory, TeamFactory, UserFactory

    today = timezone.localdate()
    users = {
        Role.SCIENTIST: UserFactory(username="sara", role=Role.SCIENTIST),
        Role.ENGINEER: UserFactory(username="eric", role=Role.ENGINEER),
        Role.MANAGER: UserFactory(username="maria", role=Role.MANAGER),
        Role.COMPLIANCE: UserFactory(username="cora", role=Role.COMPLIANCE),
        Role.ADMIN: UserFactory(username="ada", role=Role.ADMIN),
    }
    sara, eric, cora, ada = (users[r] for r in (Role.SCIENTIST, Role.ENGINEER, Role.COMPLIANCE, Role.ADMIN))
    others = {
        "sam": UserFactory(username="sam", role=Role.SCIENTIST),
        "olga": UserFactory(username="olga", role=Role.ENGINEER),
    }
    pers = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    risk = DomainFactory(name="Risk", slug="risk", key="RISK")
    TeamFactory(name="Recs", slug="recs", domain=pers)

    clicks = dataset_create(
        actor=ada,
        uri="s3://lake/clicks",
        name="clicks",
        domain=pers,
        owner=others["olga"],
        pii_categories=["behaviour"],
    )
    orders = dataset_create(actor=ada, uri="s3://lake/orders", name="orders", domain=risk, owner=eric)

    card = dict(
        description="Ranks items.",
        intended_use="Home page.",
        limitations="Cold start.",
        ethical_considerations="None known.",
        primary_metric="auc",
    )
    ranker = model_create(actor=sara, name="recs-ranker", domain=pers, tags=["ranking"], **card)
    scorer = model_create(actor=others["sam"], name="risk.scorer v2", domain=risk, **card)
    versions = []
    for model, owner in ((ranker, sara), (scorer, others["sam"])):
        for number, auc in (("1", 0.80), ("2", 0.83)):
            versions.append(
                version_create(
                    actor=owner,
                    model=model,
                    version=number,
                    code_commit="a" * 40,
                    hyperparameters={"learning_rate": 0.05},
                    metrics=[{"key": "auc", "value": auc}, {"key": "loss", "value": 1 - auc, "step": 3}],
                    datasets=[
                        {"uri": clicks.uri, "role": "training"},
                        {"uri": orders.uri, "role": "evaluation"},
                    ],
                    aliases=["champion"] if number == "1" else [],
                )
            )
    dod_attest(actor=eric, model=ranker, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas")

    mlflow = registry_source_create(
        actor=ada, name="mlflow-prod", kind=RegistryKind.MLFLOW, base_url="http://127.0.0.1:9"
    )
    registry_source_create(
        actor=ada, name="demo-manifests", kind=RegistryKind.MANIFESTS, base_url="/tmp/none"
    )
    sync_run_start(source=mlflow)

    task = work_item_create(actor=sara, domain=pers, type="task", title="Tune the ranker", model=ranker)
    bug = work_item_create(actor=eric, domain=risk, type="bug", title="Scores drift", assignee=others["sam"])
    comment_add(actor=sara, item=task, body="Looking at it, @eric.")

    pending = promotion_request(
        actor=sara, version=versions[1], target="production", justification="Better AUC on holdout."
    )
    withdrawn_target = promotion_request(
        actor=others["sam"], version=versions[3], target="staging", justification="Try it on staging first."
    )

    purpose = purpose_create(
        actor=cora,
        name="Personalised recommendations",
        description="Ranking products for a signed-in customer.",
        allowed_legal_bases=["contract", "legitimate_interests"],
    )
    model_purpose_set(actor=sara, model=ranker, purpose=purpose)
    access = dict(
        purpose=purpose,
        legal_basis="contract",
        justification="Train the home-page ranker.",
        start_date=today,
        expiry_date=today + datetime.timedelta(days=90),
    )
    submitted = access_request_create(actor=sara, datasets=[(clicks, [])], **access)
    draft = access_request_create(actor=sara, datasets=[(orders, [])], submit=False, **access)
    granted = access_request_create(actor=others["sam"], datasets=[(clicks, []), (orders, [])], **access)
    access_request_decide(actor=others["olga"], request=granted, approve=True)
    access_request_decide(actor=eric, request=granted, approve=True)
    access_request_decide(actor=cora, request=granted, approve=True)
    campaign = campaign_start(actor=cora, name="2026 Q4", deadline=today + datetime.timedelta(days=30))

    script = verification_script_save(
        actor=sara,
        model=ranker,
        name="auc-floor",
        source="import json\nprint(json.dumps({'passed': True}))\n",
    )
    runs = verification_queue(version=versions[1], trigger="manual", actor=sara)

    overdue, _ = alert_raise(
        model=ranker, condition=AlertCondition.RETRAINING_OVERDUE, severity=Severity.WARNING, summary="Late."
    )
    bias, _ = alert_raise(
        model=scorer, condition=AlertCondition.PREDICTION_BIAS, severity=Severity.CRITICAL, summary="Biased."
    )
    alert_acknowledge(actor=ada, alert=bias)
    prediction_stats_record(
        actor=sara, model=ranker, day=today, count=100, mean=0.4, std=0.1, quantiles={"p50": 0.4}
    )

    objects = {
        "model": [ranker.name, scorer.name],
        "registry": ["mlflow-prod", "demo-manifests"],
        "version": [v.pk for v in versions],
        "dataset": [clicks.pk, orders.pk],
        "domain": [pers.slug, risk.slug],
        "work_item": [task.key, bug.key],
        "promotion": [p.pk for p in PromotionRequest.objects.order_by("pk")] or [pending.pk],
        "purpose": [purpose.slug],
        "access_request": [submitted.pk, draft.pk, granted.pk],
        "grant": [granted.pk],
        "campaign": [campaign.pk],
        "campaign_item": list(campaign.items.values_list("pk", flat=True)),
        "verification_script": [script.pk],
        "verification_run": [r.pk for r in runs],
        "alert": [overdue.pk, bias.pk],
        "dod_item": [DodItem.SCALABILITY_REVIEWED.value, DodItem.OWNERS_NAMED.value],
        "user": [u.username for u in (*users.values(), *others.values())],
    }
    assert withdrawn_target.pk in objects["promotion"]
    tokens = {role: user_token(user=user) for role, user in users.items()}
    return FuzzWorld(users=users, tokens=tokens, others=others, objects=objects)


@contextmanager
def world_for_module(django_db_blocker):
    """Build the world in a transaction kept open for the module and rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def report_update(section: str, data: dict) -> None:
    """Write one section (api, forms) of the fuzz report, keeping the other's last numbers."""
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT_PATH.read_text())
    except (OSError, ValueError):
        report = {}
    report[section] = data
    REPORT_PATH.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
