"""A scientist asks for a promotion from the version page; an engineer, in a second browser, finds it in the
queue, waives the failing gates with reasons, approves it and sees it applied on the model page.

Tasks run eagerly in tests, so the write-back has finished when the approval's page comes back. The first
journey's model lives in no registry, so it is written to the catalog only; the second's is synced from a
real `mlflow server`, and the approval moves the alias there. Browser, sign-in and screenshots come from
tests/browser/conftest.py.
"""

import re

import httpx
import pytest

from catalog.models import CatalogEvent, RegisteredModel, RegistrySource, SyncStatus
from catalog.services.models import model_update
from catalog.services.registry_sync import registry_sync
from governance.models import ApplyStatus, AuditEvent, DodItem, PromotionRequest
from governance.services.dod import dod_attest
from governance.services.work_items import work_item_create
from portal.roles import Role
from tests.browser.conftest import PASSWORD, assert_no_js_errors, down_to, parts_loaded
from tests.factories import DomainFactory, UserFactory
from tests.factories.governance import CONTRACT, model_ready_for_promotion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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
    model = model_ready_for_promotion(
        scientist=sara, engineer=eric, domain=domain, dataset_uri="s3://lake/clicks/daily"
    )
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


def test_scientist_requests_and_engineer_waives_approves_and_sees_it_applied(
    live_server, promotion_data, signed_in_page, screenshot
):
    sara, eric = promotion_data
    base = live_server.url

    # --- the scientist asks -------------------------------------------------------------------------
    scientist = signed_in_page(sara)
    scientist.goto(base + "/models/recs-ranker/versions/2/")
    scientist.click(".page-head a:has-text('Request promotion')")
    scientist.wait_for_url(re.compile(r".*/promotions/new/\?version=\d+$"))
    assert "@champion" in scientist.locator("aside").inner_text()
    screenshot(scientist, "promotion-01-request-form")

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
    screenshot(scientist, "promotion-02-requested-scientist-view")

    # --- the engineer decides, in a second browser ------------------------------------------------------
    engineer = signed_in_page(eric)
    engineer.click("nav.site-nav >> text=Promotions")
    engineer.wait_for_url(base + "/promotions/")
    row = engineer.locator("table.data tbody tr").first
    assert "recs-ranker v2" in row.inner_text() and "3/5 pass" in row.inner_text()
    assert "Failing: Definition of done complete; Latest verification passed" in row.inner_text()
    screenshot(engineer, "promotion-03-queue")

    row.locator("a:has-text('recs-ranker v2')").click()
    engineer.wait_for_url(promotion_url)
    assert engineer.locator("button:has-text('Approve')").is_visible()
    screenshot(engineer, "promotion-04-engineer-view")

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
    screenshot(engineer, "promotion-05-gates-waived")

    engineer.fill("#decision textarea[name=comment] >> nth=0", "Waivers noted; ship it.")
    engineer.click("#decision button:has-text('Approve')")
    engineer.wait_for_selector(".messages >> text=Approved")
    assert "Approved" in engineer.locator(".page-head").inner_text()
    assert "Applied" in engineer.locator("#apply").inner_text()
    assert "Waived by eric" in engineer.locator("#gates").inner_text()  # shown for good
    screenshot(engineer, "promotion-06-approved-applied")

    engineer.click("#apply a:has-text('now points at v2')")
    engineer.wait_for_url(re.compile(r".*/models/recs-ranker/#governance$"))
    parts_loaded(engineer)
    assert "@production → v2" in engineer.locator("aside").inner_text()
    timeline = engineer.locator("table.promotion-timeline tbody tr")
    assert timeline.count() == 1
    entry = timeline.first.inner_text()
    assert "v2" in entry and "@production" in entry and "Sara Okafor" in entry and "Eric Lindqvist" in entry
    assert JUSTIFICATION[:40] in entry
    assert "Production" in engineer.locator(".page-head").inner_text()  # lifecycle moved with the target
    engineer.locator("#governance").scroll_into_view_if_needed()
    screenshot(engineer, "promotion-07-model-page-after")

    # The scientist sees the outcome too, and the promotion's work item is done.
    scientist.goto(promotion_url)
    assert "Applied" in scientist.locator("#apply").inner_text()
    scientist.click(".page-head a[href^='/work/']")
    scientist.wait_for_url(re.compile(r".*/work/PERS-\d+/$"))
    assert "Done" in scientist.locator(".page-head").inner_text()
    assert "it moves when the request is decided" in scientist.locator("#workflow").inner_text()
    screenshot(scientist, "promotion-08-work-item-done")
    assert_no_js_errors(scientist, engineer)


# --- the same journey against a real MLflow registry -----------------------------------------------------

MLFLOW_MODEL = "recs-ranker"


def log_run(mlflow, *, auc: float, commit: str):
    with mlflow.start_run() as run:
        mlflow.log_params({"learning_rate": 0.05, "max_depth": 6})
        for step in range(8):
            mlflow.log_metric("auc", auc - 0.1 / (step + 1), step=step)
        mlflow.log_metric("auc", auc, step=8)
        mlflow.set_tags(
            {
                "mlflow.source.git.commit": commit,
                "mlflow.source.git.repoURL": "https://git.example.com/ds/recs-ranker",
            }
        )
    return run


def mlflow_aliases(server: str) -> dict[str, str]:
    """{alias: version} for the model, as MLflow's REST API tells it."""
    response = httpx.get(
        f"{server}/api/2.0/mlflow/registered-models/get", params={"name": MLFLOW_MODEL}, timeout=10
    )
    response.raise_for_status()
    return {a["alias"]: a["version"] for a in response.json()["registered_model"].get("aliases", [])}


@pytest.fixture
def mlflow_promotion(live_server, mlflow_server, mlflow_client):
    """recs-ranker registered in a real MLflow (v1 @champion, v2 better), synced into the catalog, owned by
    sara; its definition of done lacks only a verification script."""
    import mlflow

    mlflow.set_experiment("recs-ranker-training")
    runs = [log_run(mlflow, auc=0.80, commit="a" * 40), log_run(mlflow, auc=0.83, commit="b" * 40)]
    if mlflow_client.search_registered_models(filter_string=f"name = '{MLFLOW_MODEL}'"):
        mlflow_client.delete_registered_model(MLFLOW_MODEL)  # left by an earlier test in this session
    mlflow_client.create_registered_model(
        MLFLOW_MODEL,
        tags={"domain": "personalisation"},
        description="Ranks the products on the home page for a signed-in customer.",
    )
    for run in runs:
        mlflow_client.create_model_version(
            MLFLOW_MODEL, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
        )
    mlflow_client.set_registered_model_alias(MLFLOW_MODEL, "champion", "1")

    sara = UserFactory(
        role=Role.SCIENTIST, username="sara", first_name="Sara", last_name="Okafor", password=PASSWORD
    )
    eric = UserFactory(
        role=Role.ENGINEER, username="eric", first_name="Eric", last_name="Lindqvist", password=PASSWORD
    )
    ada = UserFactory(role=Role.ADMIN, username="ada", first_name="Ada", last_name="Byron")
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    source = RegistrySource.objects.create(
        name="ds-mlflow", kind="mlflow", base_url=mlflow_server, default_domain=domain
    )
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    model = RegisteredModel.objects.get(name=MLFLOW_MODEL, source=source)
    # Who owns it and its model card are kept in Modelhouse (a manifest could declare them too).
    model_update(
        actor=ada,
        model=model,
        owners=[(sara, "technical")],
        intended_use="Home page recommendations.",
        limitations="Weak for customers without history.",
        ethical_considerations="No sensitive attributes are used.",
        primary_metric="auc",
        retrain_every_days=30,
        contract=CONTRACT,
    )
    dod_attest(actor=eric, model=model, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas, 4 GB each")
    return sara, eric, source


@pytest.mark.integration
def test_approval_moves_the_alias_in_a_real_mlflow_registry(
    live_server, mlflow_server, mlflow_promotion, signed_in_page, screenshot
):
    sara, eric, source = mlflow_promotion
    base = live_server.url
    assert mlflow_aliases(mlflow_server) == {"champion": "1"}

    # --- the scientist finds the synced model and asks ------------------------------------------------
    scientist = signed_in_page(sara)
    scientist.goto(f"{base}/models/{MLFLOW_MODEL}/")
    parts_loaded(scientist)
    assert "ds-mlflow" in scientist.locator("#registry dl.facts").inner_text()
    assert scientist.locator("aside").get_by_text("@champion → v1").is_visible()
    screenshot(scientist, "promotion-mlflow-01-model-synced")
    scientist.goto(f"{base}/models/{MLFLOW_MODEL}/versions/2/")
    scientist.click(".page-head a:has-text('Request promotion')")
    scientist.wait_for_url(re.compile(r".*/promotions/new/\?version=\d+$"))
    scientist.check("input[name=target_kind][value=production]")
    scientist.fill("textarea[name=justification]", JUSTIFICATION)
    screenshot(scientist, "journey-promotion-1-request", full_page=False)
    scientist.click("form.promotion-form button[type=submit]")
    scientist.wait_for_url(re.compile(r".*/promotions/\d+/$"))
    promotion_url = scientist.url
    assert "Awaiting decision" in scientist.locator(".page-head").inner_text()
    assert scientist.locator("button:has-text('Approve')").count() == 0

    # --- the engineer, in a browser of their own, waives what fails and approves ------------------------
    engineer = signed_in_page(eric)
    engineer.click("nav.site-nav >> text=Promotions")
    engineer.click(f"table.data a:has-text('{MLFLOW_MODEL} v2')")
    engineer.wait_for_url(promotion_url)
    reasons = {
        "gate-definition_of_done": "Only the verification item is missing; it is waived below.",
        "gate-verification": "No script yet; replayed March traffic by hand, scores match within 0.001.",
    }
    failing = engineer.locator("#gates .gate--fail")
    assert sorted(failing.evaluate_all("gates => gates.map(g => g.id)")) == sorted(reasons)
    for gate_id, reason in reasons.items():
        gate = engineer.locator(f"#{gate_id}")
        gate.locator("summary:has-text('Waive this gate')").click()
        gate.locator("textarea[name=reason]").fill(reason)
        gate.locator("button:has-text('Waive')").click()
        engineer.wait_for_selector(".messages >> text=Gate waived")
    assert failing.count() == 0
    engineer.fill("#decision textarea[name=comment] >> nth=0", "Waivers noted; ship it.")
    engineer.locator("#decision").scroll_into_view_if_needed()
    screenshot(engineer, "journey-promotion-2-gates", full_page=False)
    engineer.click("#decision button:has-text('Approve')")
    engineer.wait_for_selector(".messages >> text=Approved")
    assert "Applied" in engineer.locator("#apply").inner_text()
    screenshot(engineer, "promotion-mlflow-02-approved-applied")

    # The write-back reached MLflow: its REST API says so, and the champion stayed where it was.
    assert mlflow_aliases(mlflow_server) == {"champion": "1", "production": "2"}
    promotion = PromotionRequest.objects.get(model__name=MLFLOW_MODEL)
    assert promotion.apply_status == ApplyStatus.APPLIED, promotion.apply_error
    applied = AuditEvent.objects.get(action="promotion.applied", target_id=str(promotion.pk))
    assert applied.after["where"] == "MLflow alias 'production' set on ds-mlflow"

    # --- the engineer syncs the registry and sees MLflow agree ------------------------------------------
    # A sync reads MLflow's aliases: had the write-back not reached MLflow, it would report @production
    # removed outside Modelhouse and drop it from the catalog.
    engineer.goto(f"{base}/registries/ds-mlflow/")
    engineer.click("form.sync-form button:has-text('Full sync')")
    engineer.wait_for_selector(".messages >> text=/Full sync #\\d+ queued/")
    assert "Succeeded" in engineer.locator("#history tr.sync-run").first.inner_text()
    engineer.click("a:has-text('models from this registry')")
    engineer.click(f"table.data tbody a:has-text('{MLFLOW_MODEL}')")
    engineer.wait_for_url(f"{base}/models/{MLFLOW_MODEL}/")
    parts_loaded(engineer)
    aliases = engineer.locator("aside").inner_text()
    assert "@production → v2" in aliases and "@champion → v1" in aliases
    assert "Production" in engineer.locator(".page-head").inner_text()
    registry = engineer.locator("#registry")
    assert "ds-mlflow" in registry.locator("dl.facts").inner_text()
    # The syncs reported what changed in MLflow outside Modelhouse (the champion alias, first seen by
    # the initial sync) and nothing about @production: MLflow holds what Modelhouse wrote.
    seen_outside = registry.locator(".event-list").inner_text()
    assert "@champion set to v1" in seen_outside and "@production" not in seen_outside
    timeline = engineer.locator("table.promotion-timeline tbody tr")
    assert "@production" in timeline.first.inner_text() and "Eric Lindqvist" in timeline.first.inner_text()
    screenshot(engineer, "promotion-mlflow-03-model-after-sync")
    # README picture: the page down to the end of the registry card (aliases, registry, what syncs saw).
    screenshot(engineer, "journey-promotion-3-registry-updated", clip=down_to(engineer, "#registry"))
    assert not CatalogEvent.objects.filter(model__name=MLFLOW_MODEL, alias="production").exists()
    assert_no_js_errors(scientist, engineer)
