"""A scientist asks for data access in the browser, the dataset's owner approves, then a compliance officer
(each in their own browser context, so three separate sessions) and the request shows Granted.

Browser, sign-in and screenshots come from tests/browser/conftest.py.
"""

import datetime
import re

import pytest
from django.utils import timezone

from catalog.models import PiiCategory, Sensitivity
from governance.models import AccessRequest, AccessStatus
from governance.services.data_access import purpose_create
from portal.roles import Role
from tests.browser.conftest import PASSWORD, assert_no_js_errors, down_to, parts_loaded
from tests.factories import DatasetFactory, DomainFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_access():
    """A domain, two datasets (one personal, one special-category), their owner, a purpose, a scientist and
    a compliance officer."""
    people = {
        "sara": UserFactory(
            role=Role.SCIENTIST, username="sara", first_name="Sara", last_name="Okafor", password=PASSWORD
        ),
        "olga": UserFactory(
            role=Role.ENGINEER, username="olga", first_name="Olga", last_name="Berg", password=PASSWORD
        ),
        "cora": UserFactory(
            role=Role.COMPLIANCE, username="cora", first_name="Cora", last_name="Lindt", password=PASSWORD
        ),
    }
    pers = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    now = timezone.now()
    DatasetFactory(
        name="customers_daily",
        uri="s3://lake/curated/customers/daily/v3",
        domain=pers,
        owner=people["olga"],
        pii_categories=[PiiCategory.CONTACT, PiiCategory.PURCHASE_HISTORY],
        sensitivity=Sensitivity.CONFIDENTIAL,
        last_updated_at=now,
    )
    DatasetFactory(
        name="pharmacy_orders",
        uri="s3://lake/curated/pharmacy/orders",
        domain=pers,
        owner=people["olga"],
        pii_categories=[PiiCategory.HEALTH],
        sensitivity=Sensitivity.RESTRICTED,
        last_updated_at=now,
    )
    DatasetFactory(name="store_calendar", uri="s3://lake/ref/calendar", domain=pers, sensitivity="public")
    purpose_create(
        actor=people["cora"],
        name="Churn prevention",
        description="Predicting which subscribers may cancel, to offer them help.",
        allowed_legal_bases=["contract", "legitimate_interests"],
    )
    return people


@pytest.fixture
def access_data(live_server):
    # Seeded before Playwright starts (see test_catalog_journey.py for why).
    return seed_access()


def status_of(pk: int) -> str:
    return AccessRequest.objects.values_list("status", flat=True).get(pk=pk)


def test_request_owner_then_compliance_grant(live_server, access_data, signed_in_page, screenshot):
    base = live_server.url
    expiry = (timezone.localdate() + datetime.timedelta(days=120)).isoformat()

    # 1. The scientist asks.
    sara = signed_in_page("sara")
    sara.click("nav.site-nav >> text=Data access")
    sara.wait_for_url(base + "/access/")
    assert sara.get_by_text("You have not asked for data access yet").is_visible()
    screenshot(sara, "access-01-my-requests-empty")
    sara.click("main >> text=Request access")
    sara.wait_for_url(base + "/access/new/")
    row = sara.locator(".dataset-picker tr", has_text="customers_daily")
    row.locator("input[type=checkbox]").check()
    row.locator("input[type=text]").fill("customer_id, plan, tenure_days")
    sara.select_option(
        "select[name=purpose]", label="Churn prevention — Contract (b), Legitimate interests (f)"
    )
    sara.select_option("select[name=legal_basis]", "contract")
    sara.fill("textarea[name=justification]", "Retrain the churn model on this quarter's subscribers.")
    sara.fill("input[name=expiry_date]", expiry)
    sara.locator("input[name=expiry_date]").blur()
    screenshot(sara, "access-02-request-form")
    screenshot(sara, "journey-access-1-request", clip=down_to(sara, "input[name=expiry_date]"))
    sara.click("button:has-text('Submit for approval')")
    sara.wait_for_url(re.compile(r".*/access/\d+/$"))
    pk = int(sara.url.rstrip("/").rsplit("/", 1)[1])
    assert status_of(pk) == AccessStatus.SUBMITTED
    assert "submitted" in sara.locator(".messages").inner_text()
    assert sara.locator(".page-head .badge").first.inner_text() == "Submitted"
    assert sara.locator("#decision-refusal").inner_text() == "Nobody approves their own access request."
    assert sara.locator("form[action$='/approve/']").count() == 0
    screenshot(sara, "access-03-submitted")

    # 2. Compliance cannot decide before the owner has.
    cora = signed_in_page("cora")
    cora.goto(f"{base}/access/{pk}/")
    assert "after every data owner has approved" in cora.locator("#decision-refusal").inner_text()
    screenshot(cora, "access-04-compliance-waits")

    # 3. The dataset's owner finds it waiting and approves.
    olga = signed_in_page("olga")
    olga.goto(base + "/access/?tab=awaiting")
    assert olga.locator(".tab[aria-current=page] .tab__count").inner_text() == "1"
    assert olga.locator("table.access-table tbody tr").count() == 1
    screenshot(olga, "access-05-owner-awaiting")
    olga.click(f"a:has-text('Access #{pk}')")
    olga.wait_for_url(f"{base}/access/{pk}/")
    olga.fill("textarea[name=reason] >> nth=0", "Fine for churn modelling; no contact columns.")
    screenshot(olga, "access-06-owner-decides")
    screenshot(olga, "journey-access-2-owner-decides", full_page=False)
    olga.click("button:has-text('Approve')")
    olga.wait_for_selector(".messages >> text=waits for the remaining approvals")
    assert olga.locator(".page-head .badge").first.inner_text() == "In review"
    assert status_of(pk) == AccessStatus.IN_REVIEW

    # 4. Compliance approves: the request is granted.
    cora.goto(f"{base}/access/?tab=awaiting")
    cora.click(f"a:has-text('Access #{pk}')")
    cora.wait_for_url(f"{base}/access/{pk}/")
    assert cora.locator(".step--approved").get_by_text("Fine for churn modelling").is_visible()
    cora.click("button:has-text('Approve')")
    cora.wait_for_selector(".messages >> text=is granted until")
    assert cora.locator(".page-head .badge").first.inner_text() == "Granted"
    assert cora.locator("form[action$='/revoke/']").is_visible()
    screenshot(cora, "access-07-granted")
    assert status_of(pk) == AccessStatus.APPROVED

    # The requester sees the grant; compliance finds it on the grant list and the dashboard.
    sara.reload()
    assert sara.locator(".page-head .badge").first.inner_text() == "Granted"
    assert sara.get_by_text("granted access").is_visible()
    chain = sara.locator("#approvals").inner_text()
    assert "Approved by Olga Berg" in chain and "Approved by Cora Lindt" in chain
    screenshot(sara, "access-08-requester-sees-grant")
    screenshot(sara, "journey-access-3-granted", clip=down_to(sara, "#approvals"))
    sara.click("nav.site-nav >> text=Data access")
    sara.wait_for_url(base + "/access/")
    mine = sara.locator("table.access-table tbody tr")
    assert mine.count() == 1 and "Granted" in mine.first.inner_text()
    cora.click("nav.site-nav >> text=Compliance")
    cora.wait_for_url(base + "/compliance/")
    assert cora.locator(".stat-tile--ok dd").inner_text() == "1"
    parts_loaded(cora)  # the production models card arrives after the first paint
    assert cora.locator("#production h2").inner_text() == "Production models trained on personal data"
    screenshot(cora, "access-09-compliance-dashboard")
    cora.goto(base + "/access/grants/")
    assert cora.locator("table.grant-table tbody tr").count() == 1
    screenshot(cora, "access-10-grants")
    assert_no_js_errors(sara, olga, cora)
