"""Every data-access and alert list page costs the same number of queries with 3 rows as with 20 (no N+1 in
views or templates).

Rows are seeded with several related rows each (two datasets of different owners with named columns, a
team, approval steps decided by different people, campaign items, alert owners, acknowledgers and
incidents), so a relation a template reads that its selector did not load shows up as extra queries.
"""

import datetime
import itertools
import re

import pytest
from django.utils import timezone

from catalog.models import ModelAlias
from governance.models import AccessRequest, Alert, AlertState
from governance.services.data_access import (
    access_request_create,
    access_request_decide,
    campaign_start,
    model_purpose_set,
    purpose_create,
    version_data_uses,
)
from governance.services.monitoring import alert_raise
from governance.services.work_items import work_item_create
from tests.factories import (
    DatasetFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    TeamFactory,
    link_dataset,
)

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 20
TODAY = timezone.localdate()
_serial = itertools.count()


def counter(pattern: str):
    """Rows of a page: the distinct matches of `pattern` in its HTML."""

    def count(response) -> int:
        return len(set(re.findall(pattern, response.content.decode())))

    return count


REQUEST_ROW = r'href="/access/(\d+)/">Access #'


@pytest.mark.parametrize(
    "url, who, upto",
    [
        ("/access/?page_size=50", "requester", None),
        (
            "/access/?tab=all&page_size=50&status=submitted&purpose=personalised-recommendations",
            "owner",
            None,
        ),
        ("/access/?tab=awaiting&page_size=50", "owner", None),
        ("/access/?tab=awaiting&page_size=50", "compliance", "owners"),
        ("/access/?tab=all&page_size=50", "compliance", "granted"),
    ],
)
def test_access_request_list(client, people, seed_requests, assert_flat_queries, url, who, upto):
    seed_requests(SMALL, upto=upto)
    client.force_login(people[who])
    assert_flat_queries(
        client,
        url,
        grow=lambda: seed_requests(LARGE - SMALL, upto=upto),
        rows=counter(REQUEST_ROW),
        expect=(SMALL, LARGE),
    )


@pytest.mark.parametrize(
    "url, who",
    [
        ("/access/grants/?page_size=50", "compliance"),
        ("/access/grants/?page_size=50&status=approved&expiring_within_days=30", "requester"),
        ("/access/grants/?page_size=50&special_category=true", "compliance"),
    ],
)
def test_grant_list(client, people, seed_requests, assert_flat_queries, url, who):
    seed_requests(SMALL, upto="granted")
    client.force_login(people[who])
    assert_flat_queries(
        client,
        url,
        grow=lambda: seed_requests(LARGE - SMALL, upto="granted"),
        rows=counter(r'<tr id="grant-(\d+)"'),
        expect=(SMALL, LARGE),
    )


def test_purpose_list(client, people, domain, assert_flat_queries):
    def seed(n):
        for _ in range(n):
            purpose = purpose_create(
                actor=people["compliance"],
                name=f"Purpose {next(_serial)}",
                description="Something lawful.",
                allowed_legal_bases=["contract", "consent"],
            )
            model = RegisteredModelFactory(domain=domain, owners=[people["requester"]])
            model_purpose_set(actor=people["requester"], model=model, purpose=purpose)

    seed(SMALL)
    client.force_login(people["compliance"])
    assert_flat_queries(
        client,
        "/access/purposes/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=counter(r'cell-name">(Purpose \d+)'),
        expect=(SMALL, LARGE),
    )


def test_campaign_list(client, people, seed_requests, assert_flat_queries):
    seed_requests(2, upto="granted")

    def seed(n):
        for _ in range(n):
            campaign_start(
                actor=people["compliance"],
                name=f"Round {next(_serial)}",
                deadline=TODAY + datetime.timedelta(days=30),
                revoke_unattested=True,
            )

    seed(SMALL)
    client.force_login(people["owner"])
    assert_flat_queries(
        client,
        "/access/campaigns/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=counter(r'href="/access/campaigns/(\d+)/"'),
        expect=(SMALL, LARGE),
    )


def campaign_items(response) -> int:
    return response.content.decode().count('<tr id="item-')


def test_campaign_detail_costs_the_same_whatever_its_items(
    client, people, seed_requests, assert_flat_queries
):
    """One campaign's page: fixed however many grants (items) it covers."""

    def start_campaign() -> str:
        campaign = campaign_start(
            actor=people["compliance"],
            name=f"Round {next(_serial)}",
            deadline=TODAY + datetime.timedelta(days=9),
        )
        return f"/access/campaigns/{campaign.pk}/"

    seed_requests(SMALL, upto="granted")
    client.force_login(people["owner"])
    campaigns = [start_campaign()]

    def grow():
        seed_requests(LARGE - SMALL, upto="granted")
        campaigns.append(start_campaign())  # a campaign covers the grants there are when it starts

    assert_flat_queries(
        fetch=lambda: client.get(campaigns[-1]),
        grow=grow,
        rows=campaign_items,
        expect=(2 * SMALL, 2 * LARGE),
    )


def request_datasets(response) -> int:
    return len(set(re.findall(r'href="/datasets/(\d+)/"', response.content.decode())))


def test_access_request_detail_costs_the_same_whatever_its_datasets(
    client, people, purpose, domain, assert_flat_queries
):
    def ask(n):
        datasets = [
            DatasetFactory(owner=people["owner"], domain=domain, pii_categories=["contact"]) for _ in range(n)
        ]
        request = access_request_create(
            actor=people["requester"],
            datasets=[(d, ["a", "b"]) for d in datasets],
            purpose=purpose,
            legal_basis="contract",
            justification="Train the ranker again.",
            start_date=TODAY,
            expiry_date=TODAY + datetime.timedelta(days=60),
        )
        access_request_decide(actor=people["owner"], request=request, approve=True)
        return f"/access/{request.pk}/"

    client.force_login(people["compliance"])
    requests = [ask(SMALL)]
    assert_flat_queries(
        fetch=lambda: client.get(requests[-1]),
        grow=lambda: requests.append(ask(LARGE)),
        rows=request_datasets,
        expect=(SMALL, LARGE),
    )
    assert AccessRequest.objects.count() == 2


def test_alert_list(client, people, domain, assert_flat_queries):
    def seed(n):
        for _ in range(n):
            i = next(_serial)
            model = RegisteredModelFactory(domain=domain, owners=[people["requester"]])
            alert, _ = alert_raise(
                model=model, condition="prediction_bias", severity="critical", summary=f"Drift {i}."
            )
            incident = work_item_create(
                actor=people["owner"], domain=domain, type="incident", title=f"Drift {i}", model=model
            )
            Alert.objects.filter(pk=alert.pk).update(
                state=AlertState.ACKNOWLEDGED,
                acknowledged_by=people["owner"],
                acknowledged_at=timezone.now(),
                incident=incident,
            )

    seed(SMALL)
    client.force_login(people["requester"])
    assert_flat_queries(
        client,
        f"/alerts/?page_size=50&severity=critical&domain={domain.slug}",
        grow=lambda: seed(LARGE - SMALL),
        rows=counter(r'href="/alerts/(\d+)/"'),
        expect=(SMALL, LARGE),
    )


# --- compliance dashboard -------------------------------------------------------------------------------


def test_compliance_dashboard_costs_the_same_whatever_its_production_models(
    client, people, purpose, domain, assert_flat_queries
):
    """The production models trained on personal data are checked against grants all at once: the same
    number of queries for 3 such models as for 20, each with two personal and one other training dataset,
    two owners, a team and a grant that covers one dataset (so both verdicts and all reasons show)."""
    team = TeamFactory(domain=domain)

    def seed(n):
        for _ in range(n):
            i = next(_serial)
            model = RegisteredModelFactory(
                name=f"prod-ranker-{i:03d}",
                domain=domain,
                team=team,
                owners=[people["requester"], people["other_owner"]],
            )
            version = ModelVersionFactory(model=model, version="3")
            personal = [
                DatasetFactory(owner=people["owner"], domain=domain, pii_categories=["behaviour"]),
                DatasetFactory(owner=people["owner"], domain=domain, pii_categories=["health"]),
            ]
            for dataset in [*personal, DatasetFactory(owner=people["owner"], domain=domain)]:
                link_dataset(version, dataset, "training")
            ModelAlias.objects.create(model=model, alias="production", version=version)
            if i % 3:  # some models declare no purpose: "no grant can be checked"
                model_purpose_set(actor=people["requester"], model=model, purpose=purpose)
            request = access_request_create(
                actor=people["requester"],
                datasets=[(personal[0], ["user_id"])],
                purpose=purpose,
                legal_basis="contract",
                justification=f"Train prod ranker {i}.",
                start_date=TODAY,
                expiry_date=TODAY + datetime.timedelta(days=60),
                dpia_reference=f"DPIA-P{i}",
            )
            for actor in ("owner", "compliance"):
                access_request_decide(actor=people[actor], request=request, approve=True, reason="Fine.")

    client.force_login(people["compliance"])
    rows = counter(r'href="/models/(prod-ranker-\d+)/versions/')
    # The card loads after the dashboard's first paint, from its own URL.
    assert 'data-fragment-src="/compliance/production/"' in client.get("/compliance/").content.decode()
    seed(SMALL)
    assert_flat_queries(
        client, "/compliance/production/", grow=lambda: seed(LARGE - SMALL), rows=rows, expect=(SMALL, LARGE)
    )
    page = client.get("/compliance/production/", headers={"X-Fragment": "1"}).content.decode()
    assert "✓ Covered" not in page  # one of two personal datasets is granted: never covered
    assert "Grant #" in page and "No grant to the model" in page and "declares no purpose" in page


def test_compliance_dashboard_lists_cost_the_same_whatever_their_rows(
    client, people, seed_requests, assert_flat_queries
):
    """The grants ending soon and the special-category grants (each with a health dataset) grow from 3 to 20
    rows and the requests waiting longest from 3 to 10: the rows load only the columns they show, so a
    column the page reads that was not loaded shows up as extra queries."""

    def seed(n):
        seed_requests(n, upto="granted")
        seed_requests(n)

    def rows(response) -> int:
        page = response.content.decode()
        expiring = page[page.index('id="expiring"') : page.index('id="production"')]
        special = page[page.index('id="special"') :]
        grants = set(re.findall(r'href="/access/(\d+)/">#', expiring))
        assert grants == set(re.findall(r'href="/access/(\d+)/">#', special))
        assert "Art. 9" in special and "Personalised recommendations" in special and "DPIA-" in special
        waiting = page[: page.index('id="expiring"')]
        oldest = re.findall(r'<td class="cell-name"><a href="/access/(\d+)/">#', waiting)
        assert len(oldest) == min(len(grants), 10) and "Data owner of" in waiting and "olga" in waiting
        return len(grants)

    seed(SMALL)
    client.force_login(people["compliance"])
    assert_flat_queries(
        client, "/compliance/", grow=lambda: seed(LARGE - SMALL), rows=rows, expect=(SMALL, LARGE)
    )


def test_compliance_grant_cards_link_to_all_when_cut(client, people, seed_requests, monkeypatch):
    seed_requests(3, upto="granted")
    client.force_login(people["compliance"])
    page = client.get("/compliance/").content.decode()
    assert "all 3</a>" not in page
    monkeypatch.setattr("governance.access_views.GRANT_CARD_ROWS", 2)
    page = client.get("/compliance/").content.decode()
    expiring = page[page.index('id="expiring"') : page.index('id="production"')]
    special = page[page.index('id="special"') :]
    assert len(set(re.findall(r'href="/access/(\d+)/">#', expiring))) == 2
    assert 'expiring_within_days=30">all 3</a>' in expiring
    assert 'special_category=true">all 3</a>' in special


def test_compliance_dashboard_answers_what_each_version_page_answers(
    people, purpose, domain, client, monkeypatch
):
    """The batched check (version_data_uses_many) gives, per version, exactly version_data_uses()."""
    from governance.selectors.pages_access import production_personal_data

    team = TeamFactory(domain=domain)
    other_team = TeamFactory(domain=domain)
    shared = DatasetFactory(owner=people["owner"], domain=domain, pii_categories=["behaviour"])
    for i, (owners, model_team, purposed) in enumerate(
        [
            ([people["requester"]], team, True),  # granted to the requester, for the purpose
            ([people["other_owner"]], team, True),  # granted to the team only
            ([people["other_owner"]], other_team, True),  # the grant is neither theirs nor their team's
            ([people["requester"]], None, False),  # no purpose declared
        ]
    ):
        model = RegisteredModelFactory(name=f"batch-{i}", domain=domain, team=model_team, owners=owners)
        version = ModelVersionFactory(model=model, version="1")
        link_dataset(version, shared, "training")
        link_dataset(version, DatasetFactory(owner=people["owner"], domain=domain), "training")
        ModelAlias.objects.create(model=model, alias="production", version=version)
        if purposed:
            model_purpose_set(actor=owners[0], model=model, purpose=purpose)
    request = access_request_create(
        actor=people["requester"],
        datasets=[(shared, ["user_id"])],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the rankers.",
        start_date=TODAY,
        expiry_date=TODAY + datetime.timedelta(days=30),
        dpia_reference="DPIA-B",
        team=team,
    )
    for actor in ("owner", "compliance"):
        access_request_decide(actor=people[actor], request=request, approve=True, reason="Fine.")

    rows, more = production_personal_data(user=people["compliance"])
    assert [r.model.name for r in rows] == ["batch-2", "batch-3", "batch-0", "batch-1"]  # uncovered first
    assert more is False
    first, more = production_personal_data(user=people["compliance"], limit=3)
    assert more is True and sorted(r.model.name for r in first) == ["batch-0", "batch-1", "batch-2"]
    for row in rows:
        assert row.uses == version_data_uses(version=row.version, at=TODAY)
    assert [r.covered for r in rows] == [False, False, True, True]

    client.force_login(people["compliance"])
    assert "more are in production" not in client.get("/compliance/production/").content.decode()
    monkeypatch.setattr("governance.access_views.PRODUCTION_ROWS", 3)
    html = client.get("/compliance/production/").content.decode()
    assert "The first 3 such models by name" in html and "batch-3" not in html.split('id="production"')[1]
