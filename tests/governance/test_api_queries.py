"""Every governance API list costs the same number of queries with 3 rows as with 20 (no N+1).

Each row is seeded with several comments (with mentions), labels, watchers, links and waivers, so a
serializer field that reads a relation the selector did not load shows up as extra queries on the larger
page.
"""

import itertools

import pytest
from django.utils import timezone

from governance.models import ApplyStatus, GateWaiver, PromotionRequest, PromotionStatus
from governance.services.dod import dod_attest
from governance.services.promotions import promotion_request, promotion_waive_gate
from governance.services.work_items import (
    comment_add,
    work_item_create,
    work_item_link,
    work_item_transition,
)
from portal.roles import Role
from tests.conftest import api_rows, csv_rows
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    link_dataset,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 20
_serial = itertools.count()


def board_items(response) -> int:
    return sum(len(column["items"]) for column in response.json()["columns"])


@pytest.fixture
def people(make_user):
    return [
        make_user(role, username=f"{role}-{i}")
        for i, role in enumerate([Role.SCIENTIST, Role.ENGINEER, Role.MANAGER, Role.SCIENTIST])
    ]


@pytest.fixture
def domain():
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


@pytest.fixture
def seed_items(people, domain):
    """seed(n): n items, each with 3 labels, 4 watchers, 2 comments mentioning people, links both ways,
    a model, version and dataset, moved once (so each has several audit events)."""
    model = RegisteredModelFactory(domain=domain, owners=people[:2])
    version = ModelVersionFactory(model=model, version="1")
    dataset = DatasetFactory()
    made = []

    def seed(n):
        for _ in range(n):
            i = next(_serial)
            item = work_item_create(
                actor=people[0],
                domain=domain,
                type="task",
                title=f"Task {i}",
                priority=["low", "high", "blocker"][i % 3],
                assignee=people[1],
                due_date=timezone.localdate(),
                labels=[f"label-{i}", "shared", "ops"],
                model=model,
                version=version,
                dataset=dataset,
                watchers=people[2:],
            )
            for body in (f"@{people[2].username} look", f"@{people[3].username} and @{people[1].username}"):
                comment_add(actor=people[0], item=item, body=body)
            if made:
                work_item_link(actor=people[0], source=item, target=made[-1], kind="blocks")
                work_item_link(actor=people[0], source=made[0], target=item, kind="relates")
            work_item_transition(actor=people[1], item=item, to_status="in_progress")
            made.append(item)

    return seed


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?sort=priority&label=shared&status=in_progress&status=open",
        "?sort=due&sla=due_soon&model={model}",
        "?sort=updated&view=watching&q=task",
        "?view=my_team",
    ],
)
def test_work_item_list(api_as, people, seed_items, assert_flat_queries, query):
    from catalog.models import Team

    team = Team.objects.create(name="Recs", slug="recs")
    team.members.add(*people)
    seed_items(SMALL)
    model = people[0].model_ownerships.get().model.name
    url = "/api/v1/work-items/?page_size=50&" + query.lstrip("?").format(model=model)
    assert_flat_queries(
        api_as(people[2]), url, grow=lambda: seed_items(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )


def test_work_item_board(api_as, people, seed_items, assert_flat_queries):
    seed_items(SMALL)
    assert_flat_queries(
        api_as(people[0]),
        "/api/v1/work-items/board/?label=shared",
        grow=lambda: seed_items(LARGE - SMALL),
        rows=board_items,
        expect=(SMALL, LARGE),
    )


def item_comments(response) -> int:
    return len(response.json()["comments"])


def test_work_item_detail_and_comments(api_as, people, domain, assert_flat_queries):
    """One item's page and comment list: fixed whatever the number of comments, links and events."""
    item = work_item_create(actor=people[0], domain=domain, type="task", title="Busy")
    others = [work_item_create(actor=people[0], domain=domain, type="bug", title="Other") for _ in range(20)]

    def grow(n):
        for other in others[:n]:
            comment_add(actor=people[1], item=item, body=f"@{people[2].username} @{people[3].username}")
            work_item_link(actor=people[0], source=item, target=other, kind="blocks")
            work_item_link(actor=people[0], source=other, target=item, kind="relates")

    client = api_as(people[0])
    for url, rows in (
        (f"/api/v1/work-items/{item.key}/", item_comments),
        (f"/api/v1/work-items/{item.key}/comments/?page_size=50", api_rows),
    ):
        item.comments.all().delete()
        item.outgoing_links.all().delete()
        item.incoming_links.all().delete()
        grow(SMALL)
        assert_flat_queries(client, url, grow=lambda: grow(LARGE), rows=rows, expect=(SMALL, SMALL + LARGE))


@pytest.fixture
def seed_promotions(people, domain, make_user):
    """seed(n): n promotions on models of their own, each with 2 waivers; every other one approved."""
    requester, decider = people[1], make_user(Role.ENGINEER, username="decider")
    dataset = DatasetFactory()

    def seed(n):
        for _ in range(n):
            i = next(_serial)
            model = RegisteredModelFactory(domain=domain, owners=[requester, people[0]])
            previous = ModelVersionFactory(model=model, version="1")
            link_dataset(previous, dataset)
            version = ModelVersionFactory(model=model, version="2", parent=previous)
            model.aliases.create(alias="production", version=previous)
            promotion = promotion_request(
                actor=requester, version=version, target="production", justification=f"Better, run {i}."
            )
            for gate in ("definition_of_done", "verification"):
                promotion_waive_gate(
                    actor=decider, promotion=promotion, gate=gate, reason="Checked by hand this time."
                )
            if i % 2:
                PromotionRequest.objects.filter(pk=promotion.pk).update(
                    status=PromotionStatus.APPROVED, decided_by=decider, decided_at=timezone.now()
                )

    return seed


@pytest.mark.parametrize("query", ["", "?status=pending", "?target=production&requested_by=engineer-1"])
def test_promotion_list(api_as, people, seed_promotions, assert_flat_queries, query):
    def seed(n):
        seed_promotions(n)
        if (
            query == "?status=pending"
        ):  # every seeded request must stay pending for the filter to list them all
            PromotionRequest.objects.update(status=PromotionStatus.PENDING)

    seed(SMALL)
    assert_flat_queries(
        api_as(people[0]),
        f"/api/v1/promotions/{query}",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )
    assert GateWaiver.objects.count() == 2 * LARGE


def test_promotion_timeline(api_as, people, domain, make_user, assert_flat_queries):
    requester, decider = people[1], make_user(Role.ENGINEER, username="decider")
    model = RegisteredModelFactory(name="timeline-model", domain=domain, owners=[requester])
    versions = []

    def seed(n):
        for _ in range(n):
            version = ModelVersionFactory(model=model, version=str(next(_serial) + 1000))
            PromotionRequest.objects.create(
                model=model,
                version=version,
                previous_version=versions[-1] if versions else None,
                target="production",
                justification="Scheduled retrain is better.",
                requested_by=requester,
                status=PromotionStatus.APPROVED,
                decided_by=decider,
                decided_at=timezone.now(),
                decision_comment="Fine.",
                apply_status=ApplyStatus.APPLIED,
                applied_at=timezone.now(),
            )
            versions.append(version)

    seed(SMALL)
    url = "/api/v1/governance/models/timeline-model/timeline/?page_size=50"
    assert_flat_queries(
        api_as(people[0]), url, grow=lambda: seed(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )


def test_audit_event_list(api_as, people, domain, compliance, assert_flat_queries):
    def seed(n):
        for i in range(n):
            work_item_create(actor=people[i % 2], domain=domain, type="task", title=f"Audited {i}")

    seed(SMALL)
    url = "/api/v1/audit-events/?page_size=50&action=work_item.created"
    assert_flat_queries(
        api_as(compliance), url, grow=lambda: seed(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )


def test_audit_event_export(api_as, people, domain, compliance, assert_flat_queries):
    def seed(n):
        for i in range(n):
            work_item_create(actor=people[0], domain=domain, type="task", title=f"Audited {i}")

    seed(SMALL)
    assert_flat_queries(
        api_as(compliance),
        "/api/v1/audit-events/export.csv",
        grow=lambda: seed(LARGE - SMALL),
        rows=csv_rows,
        expect=(SMALL, LARGE),
    )


def test_definition_of_done_scores(api_as, people, domain, assert_flat_queries):
    dataset = DatasetFactory()

    def seed(n):
        for _ in range(n):
            model = RegisteredModelFactory(domain=domain, owners=people[:3], retrain_every_days=30)
            model.input_datasets.add(dataset)
            version = ModelVersionFactory(model=model, version="1", training_reason="scheduled")
            link_dataset(version, dataset)
            dod_attest(actor=people[1], model=model, item="scalability_reviewed", note="Reviewed.")

    seed(SMALL)
    url = "/api/v1/governance/definition-of-done/?page_size=50&domain=personalisation"
    assert_flat_queries(
        api_as(people[0]), url, grow=lambda: seed(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )
