"""An engineer syncs the example manifests from the Registries page and finds the broken manifest; an admin
adds a registry through the form.

Tasks run eagerly in tests, so "Sync now" has finished by the time the page comes back. Browser, sign-in
and screenshots come from tests/browser/conftest.py.
"""

import re

import pytest

from catalog.models import RegistryKind
from portal.roles import Role
from tests.browser.conftest import PASSWORD, ROOT, assert_no_js_errors, parts_loaded
from tests.factories import DomainFactory, RegistrySourceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXAMPLES = ROOT / "examples" / "manifests"


def seed_registry():
    """The domains and people the example manifests name, an engineer, an admin and the manifests source."""
    DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    DomainFactory(name="Marketing", slug="marketing", key="MKT")
    DomainFactory(name="Supply chain", slug="supply-chain", key="SUPPLY")
    for username, first, last in (
        ("priya", "Priya", "Raman"),
        ("maria", "Maria", "Keller"),
        ("lena", "Lena", "Vogt"),
        ("sam", "Sam", "Osei"),
    ):
        UserFactory(role=Role.SCIENTIST, username=username, first_name=first, last_name=last)
    engineer = UserFactory(
        role=Role.ENGINEER, username="eric", first_name="Eric", last_name="Lindqvist", password=PASSWORD
    )
    admin = UserFactory(
        role=Role.ADMIN, username="ada", first_name="Ada", last_name="Byron", password=PASSWORD
    )
    RegistrySourceFactory(
        name="example-manifests", kind=RegistryKind.MANIFESTS, base_url=str(EXAMPLES), poll_seconds=300
    )
    RegistrySourceFactory(
        name="prod-mlflow",
        kind=RegistryKind.MLFLOW,
        base_url="http://mlflow.internal:5000",
        ui_url="https://mlflow.example.com",
        auth="bearer",
        secret_env="MLFLOW_TRACKING_TOKEN",
        is_enabled=False,
    )
    return engineer, admin


@pytest.fixture
def registry_data(live_server):
    return seed_registry()


def test_engineer_syncs_manifests_and_finds_the_broken_one(
    live_server, registry_data, signed_in_page, screenshot
):
    engineer, _ = registry_data
    page = signed_in_page(engineer)
    base = live_server.url

    page.click("nav.site-nav >> text=Registries")
    page.wait_for_url(base + "/registries/")
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 2
    assert "Never synced" in rows.first.inner_text()
    screenshot(page, "registry-01-list")

    page.click("table.data a:has-text('example-manifests')")
    page.wait_for_url(base + "/registries/example-manifests/")
    assert page.locator("#history").get_by_text("No syncs yet").is_visible()
    assert page.locator("a[href='/api/v1/schemas/model-manifest.json']").is_visible()
    screenshot(page, "registry-02-detail-before-sync")

    page.click("form.sync-form button:has-text('Sync now')")
    page.wait_for_url(re.compile(r".*/registries/example-manifests/#history$"))
    assert re.search(r"Sync #\d+ queued", page.locator(".messages").inner_text())
    run = page.locator("#history tr.sync-run").first
    cells = run.locator("td")
    assert "Succeeded" in cells.nth(1).inner_text() and cells.nth(2).inner_text() == "manual"
    assert cells.nth(5).inner_text() == "3"  # created: the three valid manifests
    problems = page.locator("#history details[open] .problems")
    assert problems.is_visible()
    assert "marketing/promo-uplift-draft.yaml:" in problems.inner_text()
    assert "every_days" in problems.inner_text()
    screenshot(page, "registry-03-detail-after-sync")

    # A full sync re-reads every file: nothing new, and a second run draws the history chart.
    page.click("form.sync-form button:has-text('Full sync')")
    page.wait_for_selector(".messages >> text=/Full sync #\\d+ queued/")
    assert page.locator("#history tr.sync-run").count() == 2
    newest = page.locator("#history tr.sync-run").first.locator("td")
    assert "full" in newest.nth(0).inner_text() and newest.nth(5).inner_text() == "0"
    page.wait_for_selector("[data-chart='sync-chart'] .js-plotly-plot .main-svg")
    screenshot(page, "registry-04-detail-two-syncs")

    page.click("nav.site-nav >> text=Registries")
    page.wait_for_url(base + "/registries/")
    assert "Succeeded" in page.locator("table.data tbody tr").first.inner_text()
    screenshot(page, "registry-05-list-after-sync")

    page.click("table.data a:has-text('example-manifests')")
    page.click("a:has-text('models from this registry')")
    page.wait_for_url(re.compile(r".*/\?registry=example-manifests$"))
    assert page.locator("table.data tbody tr").count() == 3
    page.click("table.data tbody a:has-text('search-query-autocomplete')")
    page.wait_for_url(base + "/models/search-query-autocomplete/")
    parts_loaded(page)
    registry = page.locator("#registry")
    assert registry.locator("a:has-text('example-manifests')").first.is_visible()
    contract = registry.locator(".contract")
    assert "prefix" in contract.inner_text() and "suggestions" in contract.inner_text()
    assert "s3://lake/events/web/search_queries" in registry.inner_text()
    screenshot(page, "registry-06-model-contract")

    # Engineers start syncs but do not configure registries.
    assert page.goto(base + "/registries/new/").status == 403
    assert_no_js_errors(page)


def test_admin_adds_a_registry_and_fixes_a_mistake(live_server, registry_data, signed_in_page, screenshot):
    _, admin = registry_data
    page = signed_in_page(admin)
    base = live_server.url

    page.goto(base + "/registries/")
    page.click(".page-head a:has-text('Add registry')")
    page.wait_for_url(base + "/registries/new/")
    screenshot(page, "registry-07-form")

    page.fill("input[name=name]", "ds-mlflow")
    page.select_option("select[name=kind]", "mlflow")
    page.fill("input[name=base_url]", "mlflow.internal:5000")
    page.select_option("select[name=auth]", "bearer")
    page.fill("input[name=secret_env]", "mlflow token")
    page.click("form.registry-form button[type=submit]")
    page.wait_for_selector(".alert--error")
    assert "Capital letters, digits" in page.locator("#id_secret_env_errors").inner_text()
    screenshot(page, "registry-08-form-errors")

    page.fill("input[name=secret_env]", "MLFLOW_TRACKING_TOKEN")
    page.click("form.registry-form button[type=submit]")
    page.wait_for_selector("#id_base_url_errors")
    assert "An MLflow tracking server URL" in page.locator("#id_base_url_errors").inner_text()
    page.fill("input[name=base_url]", "http://mlflow.internal:5000")
    page.click("form.registry-form button[type=submit]")
    page.wait_for_url(base + "/registries/ds-mlflow/")
    assert "Registry ds-mlflow added" in page.locator(".messages").inner_text()
    assert "$MLFLOW_TRACKING_TOKEN" in page.locator("dl.facts").first.inner_text()
    screenshot(page, "registry-09-added")

    page.click("a:has-text('Edit settings')")
    page.wait_for_url(base + "/registries/ds-mlflow/edit/")
    screenshot(page, "registry-10-edit")
    assert_no_js_errors(page)
