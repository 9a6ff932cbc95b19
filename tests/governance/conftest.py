"""Shared by the governance tests: a domain and a model ready for promotion; for data access (services,
pages, API and their query counts) a data owner, a purpose, two datasets (behavioural and health data), the
people of a request and requests seeded with everything their rows show."""

import datetime
import itertools

import pytest
from django.utils import timezone

from governance.services.data_access import access_request_create, access_request_decide, purpose_create
from portal.roles import Role
from tests.factories import DatasetFactory, DomainFactory, TeamFactory
from tests.factories.governance import model_ready_for_promotion


@pytest.fixture
def domain(db):
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


@pytest.fixture
def ready_model(scientist, domain, engineer):
    """Definition of done complete but for verification; a champion v1 and a better v2."""
    return model_ready_for_promotion(scientist=scientist, engineer=engineer, domain=domain)


# --- data access ------------------------------------------------------------------------------------


@pytest.fixture
def owner(make_user):
    """A data owner."""
    return make_user(Role.ENGINEER, username="olga", first_name="Olga", last_name="Berg")


@pytest.fixture
def purpose(compliance):
    return purpose_create(
        actor=compliance,
        name="Personalised recommendations",
        description="Ranking products for a signed-in customer.",
        allowed_legal_bases=["contract", "legitimate_interests"],
    )


@pytest.fixture
def clicks(owner, domain):
    """Behavioural data: personal, not a special category."""
    return DatasetFactory(
        name="clicks", uri="s3://lake/clicks", owner=owner, domain=domain, pii_categories=["behaviour"]
    )


@pytest.fixture
def pharmacy(owner, domain):
    """Health data (a special category), restricted: a request needs a DPIA reference."""
    return DatasetFactory(
        name="pharmacy",
        uri="s3://lake/pharmacy",
        owner=owner,
        domain=domain,
        pii_categories=["health"],
        sensitivity="restricted",
    )


# --- data-access query counts ------------------------------------------------------------------------

TODAY = timezone.localdate()
_serial = itertools.count()


@pytest.fixture
def people(make_user, scientist, owner, compliance):
    return {
        "requester": scientist,
        "owner": owner,
        "other_owner": make_user(Role.SCIENTIST, username="otto"),
        "compliance": compliance,
    }


@pytest.fixture
def seed_requests(people, purpose, domain):
    """seed(n, upto=None): n requests, each for two datasets of different owners with named columns (two owner
    steps and a compliance step; one dataset holds health data, a special category). upto="owners" has both
    owners approve; upto="granted" compliance too."""
    team = TeamFactory(domain=domain)

    def seed(n, upto=None):
        for _ in range(n):
            i = next(_serial)
            datasets = [
                DatasetFactory(owner=people["owner"], domain=domain, pii_categories=["behaviour"]),
                DatasetFactory(owner=people["other_owner"], domain=domain, pii_categories=["health"]),
            ]
            request = access_request_create(
                actor=people["requester"],
                datasets=[(d, [f"col_{i}", "user_id"]) for d in datasets],
                purpose=purpose,
                legal_basis="contract",
                justification=f"Train ranker number {i}.",
                start_date=TODAY,
                expiry_date=TODAY + datetime.timedelta(days=10 + i % 15),
                dpia_reference=f"DPIA-{i}",
                team=team,
            )
            deciders = {"owners": ("owner", "other_owner"), "granted": ("owner", "other_owner", "compliance")}
            for actor in deciders.get(upto, ()):
                access_request_decide(
                    actor=people[actor], request=request, approve=True, reason="Fine by me."
                )

    return seed
