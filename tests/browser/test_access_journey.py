"""A scientist asks for data access in the browser, the dataset's owner approves, then a compliance officer
(each in their own browser context, so three separate sessions) and the request shows Granted.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server and saves a
full-page screenshot of every page into test-artifacts/screenshots/.
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from catalog.models import PiiCategory, Sensitivity
from governance.models import AccessRequest, AccessStatus
from governance.services.data_access import purpose_create
from portal.roles import Role
from tests.conftest import skip_or_fail
from tests.factories import DatasetFactory, DomainFactory, UserFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls made here are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pw-Browser-Access-1"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


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


@pytest.fixture
def browser(access_data, chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def session(browser, base: str, username: str):
    """A browser context of its own (cookies apart from the others), signed in as `username`."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def status_of(pk: int) -> str:
    """The request's status as stored. ORM calls made while Playwright runs use a connection of their own
    (its sync API switches context), so it is closed at once: left open, it would block dropping the
    PostgreSQL test database."""
    try:
        return AccessRequest.objects.values_list("status", flat=True).get(pk=pk)
    finally:
        connection.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_request_owner_then_compliance_grant(live_server, access_data, browser):
    base = live_server.url
    expiry = (timezone.localdate() + datetime.timedelta(days=120)).isoformat()

    # 1. The scientist asks.
    sara_context, sara = session(browser, base, "sara")
    sara.click("nav.site-nav >> text=Data access")
    sara.wait_for_url(base + "/access/")
    assert sara.get_by_text("You have not asked for data access yet").is_visible()
    shot(sara, "access-01-my-requests-empty")
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
    shot(sara, "access-02-request-form")
    sara.click("button:has-text('Submit for approval')")
    sara.wait_for_url(re.compile(r".*/access/\d+/$"))
    pk = int(sara.url.rstrip("/").rsplit("/", 1)[1])
    assert status_of(pk) == AccessStatus.SUBMITTED
    assert "submitted" in sara.locator(".messages").inner_text()
    assert sara.locator(".page-head .badge").first.inner_text() == "Submitted"
    assert sara.locator("#decision-refusal").inner_text() == "Nobody approves their own access request."
    assert sara.locator("form[action$='/approve/']").count() == 0
    shot(sara, "access-03-submitted")

    # 2. Compliance cannot decide before the owner has.
    cora_context, cora = session(browser, base, "cora")
    cora.goto(f"{base}/access/{pk}/")
    assert "after every data owner has approved" in cora.locator("#decision-refusal").inner_text()
    shot(cora, "access-04-compliance-waits")

    # 3. The dataset's owner finds it waiting and approves.
    olga_context, olga = session(browser, base, "olga")
    olga.goto(base + "/access/?tab=awaiting")
    assert olga.locator(".tab[aria-current=page] .tab__count").inner_text() == "1"
    assert olga.locator("table.access-table tbody tr").count() == 1
    shot(olga, "access-05-owner-awaiting")
    olga.click(f"a:has-text('Access #{pk}')")
    olga.wait_for_url(f"{base}/access/{pk}/")
    olga.fill("textarea[name=reason] >> nth=0", "Fine for churn modelling; no contact columns.")
    shot(olga, "access-06-owner-decides")
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
    shot(cora, "access-07-granted")
    assert status_of(pk) == AccessStatus.APPROVED

    # The requester sees the grant; compliance finds it on the grant list and the dashboard.
    sara.reload()
    assert sara.locator(".page-head .badge").first.inner_text() == "Granted"
    assert sara.get_by_text("granted access").is_visible()
    cora.click("nav.site-nav >> text=Compliance")
    cora.wait_for_url(base + "/compliance/")
    assert cora.locator(".stat-tile--ok dd").inner_text() == "1"
    shot(cora, "access-08-compliance-dashboard")
    cora.goto(base + "/access/grants/")
    assert cora.locator("table.grant-table tbody tr").count() == 1
    shot(cora, "access-09-grants")
    for page in (sara, olga, cora):
        assert page.js_errors == []
    for context in (sara_context, olga_context, cora_context):
        context.close()
