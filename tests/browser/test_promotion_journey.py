"""A scientist asks for a promotion from the version page; an engineer, in a second browser, finds it in the
queue, waives the failing gates with reasons, approves it and sees it applied on the model page.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server. Tasks run eagerly
in tests, so the write-back has finished when the approval's page comes back; the model has no registry
source, so it is written to the catalog only (a real MLflow write-back is covered in tests/integration).
Full-page screenshots of every step go to test-artifacts/screenshots/.
"""

import os
import re
from pathlib import Path

import pytest

from catalog.services import model_create, version_create
from governance.models import DodItem
from governance.services.dod import dod_attest
from governance.services.work_items import work_item_create
from portal.roles import Role
from tests.conftest import skip_or_fail
from tests.factories import DomainFactory, UserFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls made here are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "pw-Browser-Promotion-1"
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
JUSTIFICATION = "AUC 0.83 vs 0.80 on the March holdout; latency unchanged in the shadow run."


def seed_promotion():
    """A model whose definition of done lacks only verification: v1 is champion, v2 is better."""
    sara = UserFactory(
        role=Role.SCIENTIST, username="sara", first_name="Sara", last_name="Okafor", password=PASSWORD
    )
    eric = UserFactory(
        role=Role.ENGINEER, username="eric", first_name="Eric", last_name="Lindqvist", password=PASSWORD
    )
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    model = model_create(
        actor=sara,
        name="recs-ranker",
        domain=domain,
        description="Ranks the products on the home page for a signed-in customer.",
        intended_use="Home page recommendations.",
        limitations="Weak for customers without history.",
        ethical_considerations="No sensitive attributes are used.",
        primary_metric="auc",
        retrain_every_days=30,
    )
    model.contract = {
        "inputs": [{"name": "customer_id", "type": "string"}],
        "outputs": [{"name": "score", "type": "number"}],
    }
    model.save(update_fields=["contract"])
    common = dict(code_commit="a" * 40, datasets=[{"uri": "s3://lake/clicks/daily", "role": "training"}])
    version_create(
        actor=sara,
        model=model,
        version="1",
        training_reason="initial",
        aliases=["champion"],
        metrics=[{"key": "auc", "value": 0.80}],
        **common,
    )
    version_create(
        actor=sara,
        model=model,
        version="2",
        training_reason="scheduled",
        metrics=[{"key": "auc", "value": 0.83}],
        **common,
    )
    dod_attest(actor=eric, model=model, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas, 4 GB each")
    work_item_create(
        actor=sara,
        domain=domain,
        type="retrain",
        title="Retrain on the April clicks",
        priority="medium",
        model=model,
        assignee=sara,
    )
    return sara, eric


@pytest.fixture
def promotion_data(live_server):
    # Seeded before Playwright starts (see test_catalog_journey.py for why).
    return seed_promotion()


@pytest.fixture
def browser(promotion_data, chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, user) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_scientist_requests_and_engineer_waives_approves_and_sees_it_applied(
    live_server, promotion_data, browser
):
    sara, eric = promotion_data
    base = live_server.url

    # --- the scientist asks -------------------------------------------------------------------------
    scientist = new_page(browser)
    sign_in(scientist, base, sara)
    scientist.goto(base + "/models/recs-ranker/versions/2/")
    scientist.click(".page-head a:has-text('Request promotion')")
    scientist.wait_for_url(re.compile(r".*/promotions/new/\?version=\d+$"))
    assert "@champion" in scientist.locator("aside").inner_text()
    shot(scientist, "promotion-01-request-form")

    scientist.check("input[name=target_kind][value=production]")
    scientist.fill("textarea[name=justification]", JUSTIFICATION)
    scientist.click("form.promotion-form button[type=submit]")
    scientist.wait_for_url(re.compile(r".*/promotions/\d+/$"))
    promotion_url = scientist.url
    assert "requested; an engineer decides on it" in scientist.locator(".messages").inner_text()
    assert "Awaiting decision" in scientist.locator(".page-head").inner_text()
    # The requester never decides: no Approve, a Withdraw instead.
    assert scientist.locator("button:has-text('Approve')").count() == 0
    assert scientist.locator("button:has-text('Withdraw my request')").is_visible()
    gates = scientist.locator("#gates .gate")
    assert gates.count() == 5
    assert scientist.locator("#gates .gate--fail").count() == 2
    shot(scientist, "promotion-02-requested-scientist-view")

    # --- the engineer decides, in a second browser ------------------------------------------------------
    engineer = new_page(browser)
    sign_in(engineer, base, eric)
    engineer.click("nav.site-nav >> text=Promotions")
    engineer.wait_for_url(base + "/promotions/")
    row = engineer.locator("table.data tbody tr").first
    assert "recs-ranker v2" in row.inner_text() and "3/5 pass" in row.inner_text()
    assert "Failing: Definition of done complete; Latest verification passed" in row.inner_text()
    shot(engineer, "promotion-03-queue")

    row.locator("a:has-text('recs-ranker v2')").click()
    engineer.wait_for_url(promotion_url)
    assert engineer.locator("button:has-text('Approve')").is_visible()
    shot(engineer, "promotion-04-engineer-view")

    reasons = {
        "definition_of_done": "Only the verification item is missing; it is waived below.",
        "verification": "No script yet; replayed March traffic by hand, scores match within 0.001.",
    }
    for gate, reason in reasons.items():
        item = engineer.locator(f"#gate-{gate}")
        item.locator("summary:has-text('Waive this gate')").click()
        item.locator("textarea[name=reason]").fill(reason)
        item.locator("button:has-text('Waive')").click()
        engineer.wait_for_selector(".messages >> text=Gate waived")
    assert engineer.locator("#gates .gate--waived").count() == 2
    assert engineer.locator("#gates .gate--fail").count() == 0
    assert reasons["verification"] in engineer.locator("#gate-verification").inner_text()
    shot(engineer, "promotion-05-gates-waived")

    engineer.fill("#decision textarea[name=comment] >> nth=0", "Waivers noted; ship it.")
    engineer.click("#decision button:has-text('Approve')")
    engineer.wait_for_selector(".messages >> text=Approved")
    assert "Approved" in engineer.locator(".page-head").inner_text()
    assert "Applied" in engineer.locator("#apply").inner_text()
    assert "Waived by eric" in engineer.locator("#gates").inner_text()  # shown for good
    shot(engineer, "promotion-06-approved-applied")

    engineer.click("#apply a:has-text('now points at v2')")
    engineer.wait_for_url(re.compile(r".*/models/recs-ranker/#governance$"))
    assert "@production → v2" in engineer.locator("aside").inner_text()
    timeline = engineer.locator("table.promotion-timeline tbody tr")
    assert timeline.count() == 1
    entry = timeline.first.inner_text()
    assert "v2" in entry and "@production" in entry and "Sara Okafor" in entry and "Eric Lindqvist" in entry
    assert JUSTIFICATION[:40] in entry
    assert "Production" in engineer.locator(".page-head").inner_text()  # lifecycle moved with the target
    engineer.locator("#governance").scroll_into_view_if_needed()
    shot(engineer, "promotion-07-model-page-after")

    # The scientist sees the outcome too, and the promotion's work item is done.
    scientist.goto(promotion_url)
    assert "Applied" in scientist.locator("#apply").inner_text()
    scientist.click(".page-head a[href^='/work/']")
    scientist.wait_for_url(re.compile(r".*/work/PERS-\d+/$"))
    assert "Done" in scientist.locator(".page-head").inner_text()
    assert "it moves when the request is decided" in scientist.locator("#workflow").inner_text()
    shot(scientist, "promotion-08-work-item-done")
    assert scientist.js_errors == [] and engineer.js_errors == []
