"""Every data-access, verification and monitoring list costs the same number of queries with 3 rows as
with 20 (no N+1).

Rows are seeded with several related rows each (datasets with owners, approval steps decided by different
people, campaign items, alert owners and incidents, run scripts and versions), so a serializer field that
reads a relation the selector did not load shows up as extra queries on the larger page.
"""

import datetime
import itertools

import pytest
from django.utils import timezone

from catalog.models import RegisteredModel
from governance.models import Alert, AlertState, VerificationRun
from governance.services.data_access import (
    access_request_decide,
    campaign_start,
    model_purpose_set,
    purpose_create,
)
from governance.services.monitoring import alert_raise, prediction_stats_record
from governance.services.verification import verification_script_save
from governance.services.work_items import work_item_create
from tests.conftest import api_rows, csv_rows
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 20
TODAY = timezone.localdate()
_serial = itertools.count()


@pytest.fixture
def api_as(db):
    from rest_framework.test import APIClient

    from portal.services import user_token

    def login(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user_token(user=user)}")
        return client

    return login


@pytest.mark.parametrize(
    "query, who",
    [
        ("", "requester"),
        ("?mine=true&status=submitted&status=in_review", "requester"),
        ("?awaiting_me=true", "owner"),
        ("?awaiting_me=true&purpose=personalised-recommendations&requester=sara", "compliance"),
    ],
)
def test_access_request_list(api_as, people, seed_requests, assert_flat_queries, query, who):
    if who == "compliance":
        # Compliance decides once every owner has approved.
        def seed(n):
            seed_requests(n)
            from governance.models import AccessRequest

            for request in AccessRequest.objects.filter(status="submitted"):
                for actor in ("owner", "other_owner"):
                    access_request_decide(actor=people[actor], request=request, approve=True)

    else:
        seed = seed_requests
    seed(SMALL)
    url = "/api/v1/access-requests/?page_size=50&" + query.lstrip("?")
    assert_flat_queries(
        api_as(people[who]), url, grow=lambda: seed(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/grants/?page_size=50",
        "/api/v1/grants/?page_size=50&status=approved&expiring_within_days=365&special_category=true",
    ],
)
def test_grant_list(api_as, people, seed_requests, assert_flat_queries, url):
    seed_requests(SMALL, upto="granted")
    assert_flat_queries(
        api_as(people["requester"]),
        url,
        grow=lambda: seed_requests(LARGE - SMALL, upto="granted"),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


def test_grant_and_decision_exports(api_as, people, seed_requests, assert_flat_queries):
    """The CSV exports stream in batches: the query count does not grow with the rows either."""
    client = api_as(people["compliance"])
    seed_requests(SMALL, upto="granted")
    assert_flat_queries(
        client,
        "/api/v1/grants/export.csv",
        grow=lambda: seed_requests(LARGE - SMALL, upto="granted"),
        rows=csv_rows,
        expect=(SMALL, LARGE),
    )
    assert_flat_queries(
        client,
        "/api/v1/access-decisions/export.csv",
        grow=lambda: seed_requests(LARGE, upto="granted"),
        rows=csv_rows,
        expect=(3 * LARGE, 3 * 2 * LARGE),
    )


def test_purpose_list(api_as, people, assert_flat_queries, domain):
    def seed(n):
        for _ in range(n):
            i = next(_serial)
            purpose = purpose_create(
                actor=people["compliance"],
                name=f"Purpose {i}",
                description="Something lawful.",
                allowed_legal_bases=["contract", "consent"],
            )
            model = RegisteredModelFactory(domain=domain, owners=[people["requester"]])
            model_purpose_set(actor=people["requester"], model=model, purpose=purpose)

    seed(SMALL)
    assert_flat_queries(
        api_as(people["requester"]),
        "/api/v1/purposes/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


def campaign_items(response) -> int:
    return len(response.json()["items"])


def test_campaign_list_and_detail(api_as, people, seed_requests, assert_flat_queries):
    seed_requests(2, upto="granted")

    def seed(n):
        for _ in range(n):
            campaign_start(
                actor=people["compliance"],
                name=f"Round {next(_serial)}",
                deadline=TODAY + datetime.timedelta(days=30),
            )

    seed(SMALL)
    client = api_as(people["owner"])
    assert_flat_queries(
        client,
        "/api/v1/campaigns/?page_size=50",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )

    # One campaign's page: fixed whatever the number of items it holds.
    def start_campaign() -> str:
        campaign = campaign_start(
            actor=people["compliance"], name="Big round", deadline=TODAY + datetime.timedelta(days=30)
        )
        return f"/api/v1/campaigns/{campaign.pk}/"

    campaigns = [start_campaign()]

    def grow():
        seed_requests(LARGE, upto="granted")
        campaigns.append(start_campaign())  # a campaign covers the grants there are when it starts

    # Two datasets, so two items, per grant.
    assert_flat_queries(
        fetch=lambda: client.get(campaigns[-1]),
        grow=grow,
        rows=campaign_items,
        expect=(2 * 2, 2 * (2 + LARGE)),
    )


def test_alert_list(api_as, people, domain, assert_flat_queries):
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
    assert_flat_queries(
        api_as(people["requester"]),
        f"/api/v1/alerts/?page_size=50&state=acknowledged&domain={domain.slug}",
        grow=lambda: seed(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


@pytest.fixture
def scripted_model(people, domain):
    model = RegisteredModelFactory(name="recs-ranker", domain=domain, owners=[people["requester"]])
    return model


def test_verification_script_and_run_lists(api_as, people, scripted_model, assert_flat_queries):
    client = api_as(people["owner"])

    def seed_scripts(n):
        for _ in range(n):
            verification_script_save(
                actor=people["requester"],
                model=scripted_model,
                name=f"check-{next(_serial)}",
                source="print('{\"passed\": true}')\n",
            )

    seed_scripts(SMALL)
    url = "/api/v1/governance/models/recs-ranker/verification-scripts/?page_size=50"
    assert_flat_queries(
        client, url, grow=lambda: seed_scripts(LARGE - SMALL), rows=api_rows, expect=(SMALL, LARGE)
    )

    script = scripted_model.verification_scripts.first()

    def seed_runs(n):
        for _ in range(n):
            model = RegisteredModelFactory(owners=[people["requester"]])
            own = verification_script_save(
                actor=people["requester"], model=model, name="auc", source="print('{\"passed\": true}')\n"
            )
            version = ModelVersionFactory(model=model, version="1")
            for s in (own, script):
                VerificationRun.objects.create(
                    version=version,
                    script=s,
                    script_revision=s.revision,
                    status="passed",
                    checks=[{"name": "a"}],
                )

    seed_runs(SMALL)
    assert_flat_queries(
        client,
        f"/api/v1/verification-runs/?page_size=50&script={script.pk}",
        grow=lambda: seed_runs(LARGE - SMALL),
        rows=api_rows,
        expect=(SMALL, LARGE),
    )


def stats_series(response) -> int:
    return len(response.json()["series"])


def test_prediction_stats_series(api_as, people, scripted_model, assert_flat_queries):
    client = api_as(people["requester"])
    version = ModelVersionFactory(model=scripted_model, version="1")
    prediction_stats_record(
        actor=people["requester"],
        model=scripted_model,
        day=TODAY,
        count=1,
        mean=0.2,
        std=0.1,
        is_baseline=True,
    )
    posted = itertools.count(1)

    def seed(n):
        for _ in range(n):
            prediction_stats_record(
                actor=people["requester"],
                model=scripted_model,
                day=TODAY - datetime.timedelta(days=next(posted)),
                count=100,
                mean=0.2,
                std=0.1,
                quantiles={"p50": 0.2},
                version=version,
            )

    seed(SMALL)
    assert_flat_queries(
        client,
        "/api/v1/models/recs-ranker/prediction-stats/",
        grow=lambda: seed(LARGE - SMALL),
        rows=stats_series,
        expect=(SMALL, LARGE),
    )
    assert RegisteredModel.objects.count() == 1
