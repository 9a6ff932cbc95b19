"""The dashboards' aggregates come from the cache for at most AGGREGATE_SECONDS, keyed on what they count
(domain, day, user), and the pages say when they were counted. The lists next to them stay live."""

import datetime
import re

import pytest
from django.core.cache.backends import locmem
from django.utils import timezone

from catalog.models import ModelAlias
from governance.models import PromotionRequest, PromotionStatus
from governance.selectors.pages import (
    AGGREGATE_SECONDS,
    dashboard_decisions_by_month,
    dashboard_domains,
    dashboard_open_work,
)
from governance.selectors.pages_access import compliance_counts, version_data_uses_many
from governance.services.data_access import (
    access_request_create,
    access_request_decide,
    grant_revoke,
    model_purpose_set,
    purpose_create,
    version_data_uses,
)
from governance.services.work_items import work_item_create
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    link_dataset,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
AS_OF = re.compile(r'as of <time datetime="([^"]+)">(\d\d:\d\d)</time>')


class Clock:
    """The test cache's clock (what it compares expiry times with), moved on by hand."""

    def __init__(self, real):
        self.real, self.offset = real, 0.0

    def time(self) -> float:
        return self.real.time() + self.offset

    def move(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(locmem.time)
    monkeypatch.setattr(locmem, "time", clock)
    return clock


def task(actor, domain, title="Review the ranker"):
    return work_item_create(actor=actor, domain=domain, type="task", title=title)


def decided(actor, domain, status=PromotionStatus.APPROVED):
    model = RegisteredModelFactory(domain=domain)
    return PromotionRequest.objects.create(
        model=model,
        version=ModelVersionFactory(model=model),
        target="production",
        justification="Better.",
        requested_by=actor,
        status=status,
        decided_by=actor,
        decided_at=timezone.now(),
    )


def test_model_counts_are_a_minute_old_at_most(domain, clock):
    RegisteredModelFactory(domain=domain)
    domains, counted_at = dashboard_domains()
    assert [(d.slug, d.model_count, d.experimental_count) for d in domains] == [("personalisation", 1, 1)]

    RegisteredModelFactory(domain=domain)
    other = DomainFactory(name="Risk", slug="risk", key="RISK")
    clock.move(AGGREGATE_SECONDS - 1)
    domains, again = dashboard_domains()
    # The domains are read live (a new one counts none yet); the counts are the cached ones.
    assert [(d.slug, d.model_count) for d in domains] == [("personalisation", 1), ("risk", 0)]
    assert again == counted_at

    RegisteredModelFactory(domain=other)
    clock.move(2)
    domains, fresh = dashboard_domains()
    assert [(d.slug, d.model_count) for d in domains] == [("personalisation", 2), ("risk", 1)]
    assert fresh > counted_at


def test_open_work_is_counted_per_domain(manager, domain, clock):
    other = DomainFactory(name="Risk", slug="risk", key="RISK")
    task(manager, domain)
    everywhere, _ = dashboard_open_work()
    assert [(r["type"], r["total"]) for r in everywhere] == [("task", 1)]

    task(manager, other)
    # Another domain is another key: counted now, while the count over all domains stays cached.
    assert [r["total"] for r in dashboard_open_work(domain=other)[0]] == [1]
    assert [r["total"] for r in dashboard_open_work()[0]] == [1]
    clock.move(AGGREGATE_SECONDS + 1)
    assert [r["total"] for r in dashboard_open_work()[0]] == [2]


def test_decisions_are_counted_again_on_a_new_day(manager, domain, monkeypatch):
    decided(manager, domain)
    assert sum(r["approved"] for r in dashboard_decisions_by_month()[0]) == 1
    decided(manager, domain, status=PromotionStatus.REJECTED)
    assert sum(r["rejected"] for r in dashboard_decisions_by_month()[0]) == 0  # cached

    tomorrow = TODAY + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    months = dashboard_decisions_by_month()[0]
    assert sum(r["rejected"] for r in months) == 1 and months[-1]["month"] == tomorrow.replace(day=1)


def test_dashboard_says_when_its_counts_were_taken(client, manager, domain, clock):
    RegisteredModelFactory(domain=domain)
    task(manager, domain)
    client.force_login(manager)
    page = client.get("/dashboards/").content.decode()
    stamps = AS_OF.findall(page)
    assert len(stamps) == 3  # models per domain, open work, promotions per month
    taken = datetime.datetime.fromisoformat(stamps[0][0])
    assert stamps[0][1] == f"{timezone.localtime(taken):%H:%M}"
    assert "<strong>1</strong> open item ·" in page

    task(manager, domain, title="Another review")
    clock.move(AGGREGATE_SECONDS - 1)
    page = client.get("/dashboards/").content.decode()
    assert AS_OF.findall(page) == stamps and "<strong>1</strong> open item ·" in page

    clock.move(2)
    page = client.get("/dashboards/").content.decode()
    assert AS_OF.findall(page)[1][0] > stamps[1][0] and "<strong>2</strong> open items ·" in page


def test_dashboard_lists_stay_live(client, engineer, domain, clock):
    client.force_login(engineer)
    assert "Nothing awaits a decision" in client.get("/dashboards/").content.decode()
    model = RegisteredModelFactory(domain=domain)
    promotion = PromotionRequest.objects.create(
        model=model,
        version=ModelVersionFactory(model=model),
        target="staging",
        justification="Ready.",
        requested_by=engineer,
    )
    assert f'href="/promotions/{promotion.pk}/"' in client.get("/dashboards/").content.decode()


def test_too_many_models_to_chart_are_not_scored(client, manager, domain, monkeypatch):
    monkeypatch.setattr("governance.views.DOD_CHART_MAX_MODELS", 2)
    for _ in range(2):
        RegisteredModelFactory(domain=domain)
    client.force_login(manager)
    page = client.get("/dashboards/").content.decode()
    assert page.count('#governance">') == 2 and "Too many models to chart" not in page
    RegisteredModelFactory(domain=domain)
    page = client.get("/dashboards/").content.decode()
    assert '#governance">' not in page and "Too many models to chart" in page


# --- compliance ------------------------------------------------------------------------------------------


def open_request(requester, purpose, dataset):
    return access_request_create(
        actor=requester,
        datasets=[(dataset, ["user_id"])],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the ranker.",
        start_date=TODAY,
        expiry_date=TODAY + datetime.timedelta(days=20),
    )


def test_compliance_counts_are_a_minute_old_at_most_and_per_user(
    client, scientist, engineer, compliance, admin_user, purpose, domain, clock
):
    clicks = DatasetFactory(owner=engineer, domain=domain, pii_categories=["behaviour"])
    open_request(scientist, purpose, clicks)
    counts, counted_at = compliance_counts(user=compliance)
    assert counts["kpis"]["open"] == 1 and sum(b["count"] for b in counts["ages"]) == 1

    open_request(scientist, purpose, clicks)
    assert compliance_counts(user=compliance) == (counts, counted_at)
    assert compliance_counts(user=admin_user)[0]["kpis"]["open"] == 2  # another user, another key

    client.force_login(compliance)
    page = client.get("/compliance/").content.decode()
    assert f'Counts as of <time datetime="{timezone.localtime(counted_at).isoformat()}">' in page
    assert "Since submission · as of" in page
    assert re.search(r"<dt>Open requests</dt><dd><a [^>]+>1</a>", page)

    clock.move(AGGREGATE_SECONDS + 1)
    page = client.get("/compliance/").content.decode()
    assert re.search(r"<dt>Open requests</dt><dd><a [^>]+>2</a>", page)


def test_batched_data_uses_report_the_grant_the_single_check_reports(
    scientist, engineer, compliance, purpose, domain
):
    """Several grants name the same datasets: the newest matching one, one for another purpose, a revoked
    one. The batch weighs grants as plain rows and loads only those it reports: the same answers, with the
    grants as full rows."""
    other_purpose = purpose_create(
        actor=compliance,
        name="Fraud checks",
        description="Scoring payments.",
        allowed_legal_bases=["contract"],
    )
    clicks = DatasetFactory(owner=engineer, domain=domain, pii_categories=["behaviour"])
    views = DatasetFactory(owner=engineer, domain=domain, pii_categories=["behaviour"])

    def granted(purpose, datasets):
        request = access_request_create(
            actor=scientist,
            datasets=[(d, ["user_id"]) for d in datasets],
            purpose=purpose,
            legal_basis="contract",
            justification="Train the ranker.",
            start_date=TODAY,
            expiry_date=TODAY + datetime.timedelta(days=60),
        )
        for _ in datasets:  # one owner step per dataset
            access_request_decide(actor=engineer, request=request, approve=True)
        return access_request_decide(actor=compliance, request=request, approve=True)

    granted(purpose, [clicks, views])
    newest = granted(purpose, [clicks])
    granted(other_purpose, [views])
    revoked = granted(other_purpose, [clicks])
    grant_revoke(actor=compliance, request=revoked, reason="The project ended early.")

    versions = []
    for name, purposed, datasets in [
        ("ranker", purpose, [clicks, views]),
        ("scorer", other_purpose, [clicks, views]),
        ("unpurposed", None, [views]),
    ]:
        model = RegisteredModelFactory(name=name, domain=domain, owners=[scientist])
        version = ModelVersionFactory(model=model, version="1")
        for dataset in [*datasets, DatasetFactory(owner=engineer, domain=domain)]:
            link_dataset(version, dataset, "training")
        ModelAlias.objects.create(model=model, alias="production", version=version)
        if purposed:
            model_purpose_set(actor=scientist, model=model, purpose=purposed)
        versions.append(version)

    batched = version_data_uses_many(versions=versions, at=TODAY)
    reasons = set()
    for version in versions:
        single = version_data_uses(version=version, at=TODAY)
        assert batched[version.pk] == single, version.model.name
        assert [type(u.grant).__name__ for u in batched[version.pk] if u.grant] == [
            "AccessRequest" for u in single if u.grant
        ]
        reasons |= {u.reason.split(" ")[0] for u in single}
    assert reasons == {"Grant", "Granted", "The", "No"}  # covered, other purpose, no purpose, not personal
    ranker = {u.dataset.pk: u.grant for u in batched[versions[0].pk] if u.grant}
    assert ranker[clicks.pk] == newest
