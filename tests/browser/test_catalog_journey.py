"""A manager signs in, searches the catalog, opens a model and its version, and follows lineage to data.

Browser, sign-in and screenshots come from tests/browser/conftest.py.
"""

import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Lifecycle, ModelAlias, PiiCategory, Sensitivity, TrainingReason
from portal.roles import Role
from tests.browser.conftest import PASSWORD, assert_no_js_errors
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    TeamFactory,
    UserFactory,
    add_metric,
    link_dataset,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed_catalog():
    """Two domains, a few models with version histories, metrics over steps, datasets and aliases."""
    manager = UserFactory(
        role=Role.MANAGER, username="maria", first_name="Maria", last_name="Keller", password=PASSWORD
    )
    sara = UserFactory(role=Role.SCIENTIST, username="sara", first_name="Sara", last_name="Okafor")
    eric = UserFactory(role=Role.ENGINEER, username="eric", first_name="Eric", last_name="Lindqvist")
    pers = DomainFactory(
        name="Personalisation",
        slug="personalisation",
        key="PERS",
        description="Recommendations and retention.",
    )
    fcst = DomainFactory(
        name="Demand forecasting", slug="demand-forecasting", key="FCST", description="Stock and staffing."
    )
    team = TeamFactory(name="Retention squad", slug="retention-squad", domain=pers)
    now = timezone.now()
    customers = DatasetFactory(
        name="customers_daily",
        uri="s3://lake/curated/customers/daily/v3",
        domain=pers,
        owner=sara,
        pii_categories=[PiiCategory.CONTACT, PiiCategory.PURCHASE_HISTORY],
        sensitivity=Sensitivity.CONFIDENTIAL,
        description="One row per customer per day: tenure, plan, usage and support contacts.",
        last_updated_at=now - timedelta(days=2),
    )
    events = DatasetFactory(
        name="app_events_30d",
        uri="s3://lake/raw/app-events/rolling-30d",
        domain=pers,
        owner=eric,
        pii_categories=[PiiCategory.BEHAVIOUR],
        sensitivity=Sensitivity.INTERNAL,
        last_updated_at=now - timedelta(days=41),
    )
    holdout = DatasetFactory(
        name="churn_holdout_2024q4",
        uri="s3://lake/eval/churn/holdout-2024q4",
        domain=pers,
        sensitivity=Sensitivity.INTERNAL,
    )
    sales = DatasetFactory(
        name="store_sales_daily",
        uri="s3://lake/curated/sales/daily",
        domain=fcst,
        sensitivity=Sensitivity.PUBLIC,
    )

    churn = RegisteredModelFactory(
        name="churn-predictor",
        domain=pers,
        team=team,
        owners=[sara, eric],
        tags=["churn", "gbm", "retention"],
        lifecycle=Lifecycle.PRODUCTION,
        description=(
            "Scores every active subscriber's probability of cancelling in the next **30 days**.\n\n"
            "Used by the retention team to target offers. See the [runbook](https://wiki.example.com/churn)."
        ),
        intended_use="Weekly ranking of subscribers for retention offers.",
        limitations="Weak for customers with under 14 days of tenure (cold start).",
        ethical_considerations="",
        retrain_every_days=30,
        source_url="http://mlflow.example.com/#/models/churn-predictor",
    )
    reasons = [
        TrainingReason.INITIAL,
        TrainingReason.SCHEDULED,
        TrainingReason.SCHEDULED,
        TrainingReason.DRIFT,
        TrainingReason.SCHEDULED,
        TrainingReason.MANUAL,
    ]
    parent = None
    for n, reason in enumerate(reasons, start=1):
        version = ModelVersionFactory(
            model=churn,
            version=str(n),
            parent=parent,
            training_reason=reason,
            created_at=now - timedelta(days=40 + (len(reasons) - n) * 28),
            artifact_digest=f"sha256:{n:02d}9f3c2a7e1b4d8c6f0a5e3b2d1c9f8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f",
            code_repository="https://git.example.com/ds/churn-predictor",
            source_uri=f"models:/churn-predictor/{n}",
            hyperparameters={
                "learning_rate": 0.05,
                "max_depth": 6 + n % 3,
                "n_estimators": 400 + 50 * n,
                "features": ["tenure", "plan", "usage"],
            },
        )
        steps = 3000 if n == len(reasons) else 60
        auc = 0.78 + 0.015 * n
        add_metric(version, "auc", [auc - 0.2 * math.exp(-i / (steps / 6)) for i in range(steps)])
        add_metric(
            version,
            "logloss",
            [0.35 + 0.4 * math.exp(-i / (steps / 8)) + 0.01 * math.sin(i) for i in range(steps)],
        )
        add_metric(version, "precision_at_10", [0.3 + 0.02 * n])
        link_dataset(version, customers, "training")
        link_dataset(version, events, "training")
        link_dataset(version, holdout, "evaluation")
        parent = version
    ModelAlias.objects.create(model=churn, alias="champion", version=parent)
    ModelAlias.objects.create(model=churn, alias="challenger", version=churn.versions.get(version="5"))

    upsell = RegisteredModelFactory(
        name="upsell-propensity",
        domain=pers,
        owners=[sara],
        tags=["gbm"],
        lifecycle=Lifecycle.STAGING,
        retrain_every_days=90,
    )
    v = ModelVersionFactory(model=upsell, version="1", training_reason=TrainingReason.INITIAL)
    add_metric(v, "auc", [0.6, 0.7, 0.74])
    link_dataset(v, customers, "training")
    RegisteredModelFactory(
        name="next-best-offer", domain=pers, owners=[eric], tags=["ranking"], lifecycle=Lifecycle.EXPERIMENTAL
    )
    demand = RegisteredModelFactory(
        name="store-demand-forecast",
        domain=fcst,
        owners=[eric],
        tags=["timeseries"],
        primary_metric="mape",
        primary_metric_goal="minimize",
        lifecycle=Lifecycle.PRODUCTION,
    )
    for n in (1, 2):
        v = ModelVersionFactory(model=demand, version=str(n), training_reason=TrainingReason.SCHEDULED)
        add_metric(v, "mape", [0.2, 0.15, 0.12 - 0.01 * n])
        link_dataset(v, sales, "training")
    RegisteredModelFactory(name="legacy-demand", domain=fcst, owners=[sara], lifecycle=Lifecycle.DEPRECATED)
    return manager, customers


@pytest.fixture
def catalog_data(live_server):
    return seed_catalog()


def test_manager_searches_opens_model_and_sees_charts_and_lineage(
    live_server, catalog_data, new_page, screenshot
):
    manager, customers = catalog_data
    page = new_page()
    base = live_server.url

    # Signing in through the form.
    page.goto(base + "/")
    assert "/login/" in page.url
    screenshot(page, "catalog-01-login")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    assert page.locator(".site-user").get_by_text("Manager").is_visible()
    assert page.locator("table.data tbody tr").count() == 5
    screenshot(page, "catalog-02-catalog")

    # Searching narrows the list.
    page.fill("input[name=q]", "churn")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r".*\?.*q=churn.*"))
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1
    assert "churn-predictor" in rows.first.inner_text()
    screenshot(page, "catalog-03-catalog-search")

    # The model page: its parts arrive after the first paint (fragments.js): metric charts drawn by Plotly,
    # the lineage SVG drawn by the server, governance and monitoring.
    page.click("table.data tbody a:has-text('churn-predictor')")
    page.wait_for_url(base + "/models/churn-predictor/")
    page.wait_for_selector("[data-chart='metric-chart-1'] .js-plotly-plot .main-svg")
    page.wait_for_selector("[data-chart='retraining-chart'] .js-plotly-plot .main-svg")
    assert page.locator("[data-chart='metric-chart-1'] .gtitle").text_content().startswith("auc")
    lineage = page.locator("#lineage svg.lineage-svg")
    lineage.wait_for()
    assert "customers_daily" in lineage.inner_html()
    page.locator("#governance .checklist").wait_for()
    page.locator("#monitoring h3#mon-alerts-heading").wait_for()
    assert page.locator("[data-fragment-src]").count() == 0  # every placeholder was replaced
    screenshot(page, "catalog-04-model")

    # The lineage picker is a field with every version as a suggestion; a label that is no version is
    # refused in the lineage part, with the page around it intact.
    page.fill("#lineage-version", "5")
    page.click("#lineage button:has-text('Show')")
    page.wait_for_url(re.compile(r".*/models/churn-predictor/\?version=5#lineage$"))
    page.locator("#lineage-heading", has_text="Lineage of v5").wait_for()
    page.fill("#lineage-version", "v-nope")
    page.click("#lineage button:has-text('Show')")
    page.locator("#lineage-errors", has_text="churn-predictor has no version 'v-nope'.").wait_for()
    assert page.locator("h1", has_text="churn-predictor").is_visible()
    page.locator("[data-chart='metric-chart-1'] .js-plotly-plot .main-svg").first.wait_for()
    screenshot(page, "catalog-04b-model-lineage-error")
    page.goto(base + "/models/churn-predictor/")

    # A version page: metric histories (downsampled) and the same lineage.
    page.click("#versions a:has-text('v6')")
    page.wait_for_url(base + "/models/churn-predictor/versions/6/")
    page.wait_for_selector("[data-chart='history-chart-1'] .js-plotly-plot .main-svg")
    assert page.locator("#lineage svg.lineage-svg").is_visible()
    history_title = page.locator("[data-chart='history-chart-1'] .gtitle").text_content()
    assert "2,000 of 3,000 points shown" in history_title
    screenshot(page, "catalog-05-version")

    # Lineage links to the dataset, which lists the models that use it.
    page.locator("#lineage svg a", has_text="customers_daily").first.click()
    page.wait_for_url(base + f"/datasets/{customers.pk}/")
    usage = page.locator("#usage")
    assert "churn-predictor" in usage.inner_text() and "upsell-propensity" in usage.inner_text()
    screenshot(page, "catalog-06-dataset")

    page.click("nav.site-nav >> text=Datasets")
    page.wait_for_url(base + "/datasets/")
    assert page.locator("table.data tbody tr").count() == 4
    screenshot(page, "catalog-07-datasets")

    page.click("nav.site-nav >> text=Domains")
    page.wait_for_url(base + "/domains/")
    assert page.locator(".domain-card").count() == 2
    screenshot(page, "catalog-08-domains")

    page.click(".domain-card h2 a:has-text('Personalisation')")
    page.wait_for_url(base + "/domains/personalisation/")
    page.wait_for_selector("[data-chart='lifecycle-chart'] .js-plotly-plot .main-svg")
    screenshot(page, "catalog-09-domain")

    # Bad input is a readable 400, unknown things a friendly 404.
    response = page.goto(base + "/?domain=nowhere")
    assert response.status == 400
    assert page.locator(".alert--error").is_visible()
    screenshot(page, "catalog-10-catalog-error")
    response = page.goto(base + "/models/no-such-model/")
    assert response.status == 404
    screenshot(page, "catalog-11-not-found")

    # Nothing on the pages threw in the browser.
    assert_no_js_errors(page)

    # Signing out is a POST with the CSRF token.
    page.goto(base + "/")
    page.click("form.logout-form button")
    page.wait_for_url(re.compile(r".*/login/.*"))
