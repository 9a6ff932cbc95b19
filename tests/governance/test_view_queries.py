"""Every governance list page and the dashboards cost the same number of queries with 3 rows as with 20.

Rows are seeded with several labels, comments, watchers, links and waivers each, and the promotions with
every kind of gate evidence (verification runs, incidents, blocking alerts, personal training data with and
without grants), so a relation or a gate that is read row by row shows up as extra queries. The queue's
batched gates must also say exactly what gates_evaluate() says.
"""

import itertools
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.models import Dataset, ModelVersion
from catalog.services import model_create, version_create
from governance.models import Alert, MonitoringPolicy, PromotionRequest, VerificationRun, VerificationScript
from governance.selectors import promotion_list
from governance.services.audit import audit_record
from governance.services.data_access import model_purpose_set
from governance.services.dod import dod_attest
from governance.services.gates import gates_evaluate, gates_evaluate_many
from governance.services.promotions import promotion_request, promotion_waive_gate
from governance.services.work_items import comment_add, work_item_create, work_item_link
from portal.roles import Role
from tests.conftest import table_rows_linking
from tests.governance.test_data_access import grant

pytestmark = pytest.mark.django_db

_numbers = itertools.count()


@pytest.fixture
def people(make_user, scientist, engineer, compliance):
    owner = make_user(Role.ENGINEER, username="olga")
    return {"scientist": scientist, "engineer": engineer, "compliance": compliance, "owner": owner}


def add_model(i, *, domain, people, purpose):
    """A model with a champion v1 and a candidate v2, and gate evidence that varies with i."""
    scientist = people["scientist"]
    model = model_create(
        actor=scientist,
        name=f"model-{i:03d}",
        domain=domain,
        description="Ranks.",
        intended_use="Home.",
        limitations="Cold start.",
        ethical_considerations="None known.",
        primary_metric="auc",
        retrain_every_days=30,
    )
    pii = ["behaviour"] if i % 2 == 0 else []
    datasets = [
        {"uri": f"s3://lake/{i}/clicks", "role": "training"},
        {"uri": f"s3://lake/{i}/views", "role": "training"},
    ]
    common = dict(code_commit="c" * 40, datasets=datasets)
    version_create(
        actor=scientist,
        model=model,
        version="1",
        training_reason="initial",
        aliases=["champion"],
        metrics=[{"key": "auc", "value": 0.8}],
        **common,
    )
    v2 = version_create(
        actor=scientist,
        model=model,
        version="2",
        training_reason="scheduled",
        metrics=[{"key": "auc", "value": 0.83 if i % 6 else 0.7}],  # every sixth regresses
        **common,
    )
    Dataset.objects.filter(uri__startswith=f"s3://lake/{i}/").update(
        pii_categories=pii, owner=people["owner"]
    )
    if pii:
        model_purpose_set(actor=scientist, model=model, purpose=purpose)
        if i % 4 == 0:
            for name in ("clicks", "views"):
                dataset = Dataset.objects.get(uri=f"s3://lake/{i}/{name}")
                grant(scientist, people["owner"], people["compliance"], purpose, [dataset])
    if i % 3 == 0:  # definition of done complete
        model.contract = {
            "inputs": [{"name": "user", "type": "string"}],
            "outputs": [{"name": "s", "type": "number"}],
        }
        model.save(update_fields=["contract"])
        dod_attest(actor=people["engineer"], model=model, item="scalability_reviewed", note="Load-tested.")
        script = VerificationScript.objects.create(
            model=model, name="checks", source="print('{}')", revision="r1", created_by=scientist
        )
        VerificationRun.objects.create(
            version=v2, script=script, script_revision="r1", status="passed", finished_at=timezone.now()
        )
    if i % 5 == 1:
        work_item_create(
            actor=people["engineer"],
            domain=domain,
            type="incident",
            title="NaNs",
            priority="blocker",
            model=model,
        )
    if i % 5 == 2:
        MonitoringPolicy.objects.create(model=model, mitigations=["block_promotions"])
        now = timezone.now()
        Alert.objects.create(
            model=model,
            condition="prediction_bias",
            severity="critical",
            summary="Scores shifted by 4 std.",
            first_seen=now,
            last_seen=now,
        )
    return model


def add_promotions(n, *, domain, people, purpose):
    for _ in range(n):
        i = next(_numbers)
        model = add_model(i, domain=domain, people=people, purpose=purpose)
        v2 = ModelVersion.objects.get(model=model, version="2")
        promotion = promotion_request(
            actor=people["scientist"], version=v2, target="production", justification="Better on holdout."
        )
        if i % 2:
            gates = {g.gate: g for g in gates_evaluate(promotion=promotion)}
            if gates["verification"].status == "fail":
                promotion_waive_gate(
                    actor=people["engineer"],
                    promotion=promotion,
                    gate="verification",
                    reason="Replayed by hand on staging.",
                )


def add_items(n, *, domain, people):
    users = list(people.values())
    previous = None
    for _ in range(n):
        i = next(_numbers)
        item = work_item_create(
            actor=users[i % len(users)],
            domain=domain,
            type=["task", "bug", "retrain", "incident"][i % 4],
            title=f"Item {i}",
            priority=["blocker", "high", "medium", "low"][i % 4],
            assignee=users[(i + 1) % len(users)],
            due_date=timezone.localdate() + timedelta(days=(i % 5) - 2),
            labels=[f"label-{i}", "shared", "q3"],
            watchers=users[:3],
        )
        for body in ("@sara have a look", "@eric and @cora too"):
            comment_add(actor=users[0], item=item, body=body)
        if previous is not None:
            work_item_link(actor=people["engineer"], source=item, target=previous, kind="blocks")
        previous = item


def add_events(n, *, people):
    target = people["scientist"]
    with transaction.atomic():
        for _ in range(n):
            i = next(_numbers)
            audit_record(
                actor=people["engineer"],
                action=f"test.event_{i % 3}",
                target=target,
                before={"status": "open", "n": i},
                after={"status": "done", "n": i + 1, "nested": {"a": [1, 2]}},
                reason="because" if i % 2 else "",
            )


def test_work_list(client, manager, domain, people, assert_flat_queries):
    add_items(3, domain=domain, people=people)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/work/?page_size=50&label=shared",
        grow=lambda: add_items(17, domain=domain, people=people),
        rows=table_rows_linking("/work/"),
        expect=(3, 20),
    )


def test_work_list_saved_view(client, domain, people, assert_flat_queries):
    add_items(3, domain=domain, people=people)
    client.force_login(people["engineer"])
    assert_flat_queries(
        client,
        "/work/?page_size=50&view=watching&sort=priority",
        grow=lambda: add_items(17, domain=domain, people=people),
        rows=table_rows_linking("/work/"),
        expect=(3, 20),
    )


def board_cards(response) -> int:
    return response.content.decode().count('class="board-card ')


def test_board(client, manager, domain, people, assert_flat_queries):
    add_items(3, domain=domain, people=people)
    client.force_login(manager)
    assert_flat_queries(
        client,
        "/work/board/?label=shared",
        grow=lambda: add_items(17, domain=domain, people=people),
        rows=board_cards,
        expect=(3, 20),
    )


@pytest.mark.parametrize("tab", ["awaiting", "all"])
def test_promotion_list(client, domain, people, purpose, tab, assert_flat_queries):
    add_promotions(3, domain=domain, people=people, purpose=purpose)
    client.force_login(people["engineer"])
    assert_flat_queries(
        client,
        f"/promotions/?tab={tab}&page_size=50",
        grow=lambda: add_promotions(17, domain=domain, people=people, purpose=purpose),
        rows=table_rows_linking("/promotions/"),
        expect=(3, 20),
    )


def audit_rows(response) -> int:
    return len(re.findall(r"<code>test\.event_\d</code>", response.content.decode()))


def test_audit_list(client, compliance, people, assert_flat_queries):
    add_events(3, people=people)
    client.force_login(compliance)
    assert_flat_queries(
        client,
        "/audit/?action=test.&page_size=50",
        grow=lambda: add_events(17, people=people),
        rows=audit_rows,
        expect=(3, 20),
    )


@pytest.mark.parametrize("url", ["/dashboards/", "/dashboards/?domain=personalisation"])
def test_dashboards(client, manager, domain, people, purpose, url, assert_flat_queries):
    def add_rows(n):
        add_promotions(n, domain=domain, people=people, purpose=purpose)
        add_items(n, domain=domain, people=people)

    add_rows(3)
    client.force_login(manager)

    def models_scored(response) -> int:
        return len(re.findall(r'<td><a href="/models/model-\d+/#governance">', response.content.decode()))

    assert_flat_queries(
        client,
        url,
        grow=lambda: add_rows(17),
        rows=models_scored,
        expect=(3, 20),
    )


def gates_shown(response) -> int:
    return response.content.decode().count("data-gates-for=")


def test_gates_fragment(client, manager, domain, people, purpose, assert_flat_queries):
    """The dashboard queue's gates (PromotionGatesView) cost the same with 3 promotions as with 20."""
    client.force_login(manager)

    def gates_url() -> str:
        pending = PromotionRequest.objects.filter(status="pending").order_by("pk")
        return "/promotions/gates/?" + "&".join(f"id={pk}" for pk in pending.values_list("pk", flat=True))

    add_promotions(3, domain=domain, people=people, purpose=purpose)
    assert_flat_queries(
        fetch=lambda: client.get(gates_url()),
        grow=lambda: add_promotions(17, domain=domain, people=people, purpose=purpose),
        rows=gates_shown,
        expect=(3, 20),
    )


def test_batched_gates_match_gates_evaluate(domain, people, purpose):
    add_promotions(12, domain=domain, people=people, purpose=purpose)
    promotions = list(promotion_list(user=people["engineer"], filters={"status": "pending"}))
    batched = gates_evaluate_many(promotions=promotions)
    statuses = set()
    for promotion in PromotionRequest.objects.filter(pk__in=[p.pk for p in promotions]):
        expected = [g.as_dict() for g in gates_evaluate(promotion=promotion)]
        assert [g.as_dict() for g in batched[promotion.pk]] == expected, promotion.model.name
        statuses |= {(g["gate"], g["status"]) for g in expected}
    # The seed covers every gate both ways (and waivers), so the comparison means something.
    for gate in (
        "definition_of_done",
        "verification",
        "no_regression",
        "no_blocking_incident",
        "data_access",
    ):
        assert (gate, "pass") in statuses and (gate, "fail") in statuses, gate
    assert ("verification", "waived") in statuses
