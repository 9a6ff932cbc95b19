"""A manager reads the dashboards (the charts draw), narrows them to a domain and follows the overdue work to
the board and an item; an engineer reads the queue; a compliance officer reads the audit trail.

Browser, sign-in and screenshots come from tests/browser/conftest.py.
"""

import re
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from catalog.models import Lifecycle, ModelAlias, RegisteredModel
from governance.models import (
    ApplyStatus,
    PromotionRequest,
    PromotionStatus,
    VerificationRun,
    VerificationScript,
    WorkItem,
)
from governance.services.dod import dod_attest
from governance.services.promotions import promotion_request
from governance.services.work_items import comment_add, work_item_create, work_item_link, work_item_transition
from governance.workflows import CLOSED
from portal.roles import Role
from tests.browser.conftest import PASSWORD, assert_no_js_errors, down_to
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    add_metric,
    link_dataset,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("models-domain-chart", "dod-chart", "work-chart", "promotions-chart")


def months_ago(n: int):
    return timezone.now() - timedelta(days=30 * n + 3)


def seed_organisation():
    """Three domains of models at every lifecycle stage, work in every SLA state, a year of decisions."""
    people = {
        "maria": UserFactory(role=Role.MANAGER, username="maria", first_name="Maria", last_name="Keller"),
        "sara": UserFactory(role=Role.SCIENTIST, username="sara", first_name="Sara", last_name="Okafor"),
        "lena": UserFactory(role=Role.SCIENTIST, username="lena", first_name="Lena", last_name="Vogt"),
        "eric": UserFactory(role=Role.ENGINEER, username="eric", first_name="Eric", last_name="Lindqvist"),
        "cora": UserFactory(role=Role.COMPLIANCE, username="cora", first_name="Cora", last_name="Nilsen"),
    }
    for user in people.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    sara, lena, eric = people["sara"], people["lena"], people["eric"]
    domains = {
        "PERS": DomainFactory(name="Personalisation", slug="personalisation", key="PERS"),
        "FCST": DomainFactory(name="Demand forecasting", slug="demand-forecasting", key="FCST"),
        "MKT": DomainFactory(name="Marketing", slug="marketing", key="MKT"),
    }
    specs = [
        ("recs-ranker", "PERS", Lifecycle.PRODUCTION, [sara, eric], True),
        ("churn-predictor", "PERS", Lifecycle.PRODUCTION, [sara], True),
        ("next-best-offer", "PERS", Lifecycle.STAGING, [lena], False),
        ("search-autocomplete", "PERS", Lifecycle.EXPERIMENTAL, [], False),
        ("store-demand", "FCST", Lifecycle.PRODUCTION, [lena], True),
        ("staffing-forecast", "FCST", Lifecycle.STAGING, [lena], False),
        ("legacy-demand", "FCST", Lifecycle.DEPRECATED, [lena], False),
        ("promo-uplift", "MKT", Lifecycle.EXPERIMENTAL, [sara], False),
        ("email-send-time", "MKT", Lifecycle.ARCHIVED, [], False),
    ]
    models = {}
    for name, key, lifecycle, owners, complete in specs:
        model = RegisteredModelFactory(
            name=name,
            domain=domains[key],
            owners=owners,
            lifecycle=lifecycle,
            retrain_every_days=30 if complete else None,
        )
        if complete:
            model.contract = {
                "inputs": [{"name": "id", "type": "string"}],
                "outputs": [{"name": "y", "type": "number"}],
            }
            model.save(update_fields=["contract"])
            dod_attest(actor=eric, model=model, item="scalability_reviewed", note="Reviewed in the ops sync.")
        v1 = ModelVersionFactory(model=model, version="1", training_reason="initial")
        v2 = ModelVersionFactory(model=model, version="2", training_reason="scheduled", parent=v1)
        if complete:  # the rest of the definition of done: training data (a passing verification below)
            link_dataset(v2, DatasetFactory(name=f"{name}_training", domain=domains[key]), "training")
        add_metric(v1, "auc", [0.7, 0.78])
        add_metric(v2, "auc", [0.72, 0.81])
        ModelAlias.objects.create(model=model, alias="champion", version=v1)
        models[name] = (model, v1, v2)

    # A year of decided promotions (dates moved into the past), two pending, one failed write-back.
    history = [("recs-ranker", 11, True), ("churn-predictor", 9, True), ("store-demand", 8, False)]
    history += [("recs-ranker", 6, True), ("store-demand", 5, True), ("churn-predictor", 3, False)]
    history += [("store-demand", 2, True), ("recs-ranker", 1, True)]
    for name, ago, approved in history:
        model, v1, v2 = models[name]
        owner = model.ownerships.first().user
        promotion = promotion_request(
            actor=owner, version=v2, target="staging", justification="Quarterly refresh."
        )
        PromotionRequest.objects.filter(pk=promotion.pk).update(
            status=PromotionStatus.APPROVED if approved else PromotionStatus.REJECTED,
            decided_by=eric,
            decided_at=months_ago(ago),
            requested_at=months_ago(ago),
            decision_comment="" if approved else "Holdout too small.",
            apply_status=ApplyStatus.APPLIED if approved else ApplyStatus.NOT_STARTED,
            applied_at=months_ago(ago) if approved else None,
        )
        # Its work item follows the decision, as the service would have moved it.
        work_item_transition(
            actor=eric,
            item=promotion.work_item,
            to_status="done" if approved else "cancelled",
            comment="Approved." if approved else "Holdout too small.",
            _system=True,
        )
    model, v1, v2 = models["next-best-offer"]
    promotion_request(actor=lena, version=v2, target="production", justification="Lift +4% in the A/B test.")
    model, v1, v2 = models["recs-ranker"]
    promotion_request(actor=sara, version=v2, target="production", justification="AUC up three points.")
    model, v1, v2 = models["staffing-forecast"]
    failed = promotion_request(
        actor=lena, version=v2, target="champion", justification="Better MAPE in March."
    )
    PromotionRequest.objects.filter(pk=failed.pk).update(
        status=PromotionStatus.APPROVED,
        decided_by=eric,
        decided_at=timezone.now(),
        apply_status=ApplyStatus.FAILED,
        apply_error="MLflow answered 503 Service Unavailable (3 attempts).",
        apply_attempts=3,
    )
    work_item_transition(
        actor=eric, item=failed.work_item, to_status="done", comment="Approved.", _system=True
    )

    # Verification after the promotions, so requesting them queued no script runs.
    for name, _, _, _, complete in specs:
        if complete:
            model, v1, v2 = models[name]
            script = VerificationScript.objects.create(
                model=model, name="checks", source="print('{}')", revision="r1", created_by=eric
            )
            VerificationRun.objects.create(
                version=v2, script=script, script_revision="r1", status="passed", finished_at=timezone.now()
            )

    today = timezone.localdate()
    work = [
        ("PERS", "retrain", "Retrain recs-ranker on April clicks", "high", -3, "recs-ranker", eric),
        ("PERS", "bug", "Scores are NaN for new customers", "critical", -1, "churn-predictor", sara),
        ("PERS", "task", "Write the model card limitations", "medium", 1, "next-best-offer", lena),
        ("PERS", "incident", "Latency spike after deploy", "blocker", 0, "recs-ranker", eric),
        ("FCST", "task", "Review cluster settings", "low", 10, "store-demand", lena),
        ("FCST", "verification", "Add a verification script", "medium", None, "staffing-forecast", lena),
        ("FCST", "retrain", "Retrain for the holiday season", "high", 20, "store-demand", lena),
        ("MKT", "task", "Decide whether to archive promo-uplift", "low", None, "promo-uplift", sara),
    ]
    items = []
    for key, kind, title, priority, due, model_name, assignee in work:
        items.append(
            work_item_create(
                actor=sara,
                domain=domains[key],
                type=kind,
                title=title,
                priority=priority,
                due_date=today + timedelta(days=due) if due is not None else None,
                model=models[model_name][0],
                assignee=assignee,
                labels=["q2"] + (["drift"] if kind == "retrain" else []),
                description="Seen in the **weekly review**. Owner to confirm the plan.",
            )
        )
    work_item_transition(actor=eric, item=items[0], to_status="in_progress")
    work_item_transition(actor=sara, item=items[1], to_status="in_progress")
    work_item_transition(actor=sara, item=items[1], to_status="blocked", comment="Waiting for the data team.")
    work_item_transition(actor=lena, item=items[4], to_status="in_progress")
    work_item_transition(actor=lena, item=items[4], to_status="in_review")
    comment_add(actor=eric, item=items[0], body="@sara the April clicks landed; I can start tomorrow.")
    comment_add(actor=sara, item=items[0], body="Thanks @eric, go ahead. Use `s3://lake/clicks/2024-04`.")
    work_item_link(actor=eric, source=items[3], target=items[0], kind="blocks")
    return people, items


@pytest.fixture
def organisation(live_server):
    return seed_organisation()


def wait_for_charts(page) -> None:
    for chart in CHARTS:
        page.wait_for_selector(f"[data-chart='{chart}'] .js-plotly-plot .main-svg")


def drawn_bars(page, chart: str) -> dict[str, dict[str, float]]:
    """What Plotly drew for a bar chart, read back from the browser: {trace name: {x: y}}."""
    traces = page.evaluate(
        """sel => document.querySelector(sel)._fullData.map(
               t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)}))""",
        f"[data-chart='{chart}'] .js-plotly-plot",
    )
    return {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in traces}


def hint_number(page, heading_id: str) -> int:
    return int(page.locator(f"#{heading_id} ~ .card__hint strong").inner_text().replace(",", ""))


def test_manager_reads_the_dashboards(live_server, organisation, signed_in_page, screenshot):
    people, _ = organisation
    page, base = signed_in_page(people["maria"]), live_server.url

    page.click("nav.site-nav >> text=Dashboards")
    page.wait_for_url(base + "/dashboards/")
    wait_for_charts(page)
    headings = page.locator("h2.section-title").all_inner_texts()
    assert headings[0].startswith("Manager's overview") and headings[1] == "Engineer's queue"
    # Three domains stacked by lifecycle; one bar per model in the definition-of-done chart.
    assert page.locator("[data-chart='models-domain-chart'] .js-plotly-plot g.trace.bars").count() == 5
    assert page.locator("[data-chart='dod-chart'] .js-plotly-plot g.point").count() == 9
    assert "3 of 9 models complete" in page.locator("#dod-chart-heading ~ .card__hint").inner_text()
    assert "10 open items" in page.locator("#work-chart-heading ~ .card__hint").inner_text()
    assert "9 decided in 12 months" in page.locator("#promotions-chart-heading ~ .card__hint").inner_text()
    screenshot(page, "dashboard-01-manager-overview")
    screenshot(page, "journey-dashboard-manager", clip=down_to(page, "#overview"))

    # What the charts drew and the headline numbers are what the database holds.
    per_domain = (
        RegisteredModel.objects.values_list("domain__name", "lifecycle").annotate(n=Count("id")).order_by()
    )
    expected = {label: {} for _, label in Lifecycle.choices}
    for domain, lifecycle, n in per_domain:
        expected[Lifecycle(lifecycle).label][domain] = n
    drawn = drawn_bars(page, "models-domain-chart")
    assert {name: {d: n for d, n in bars.items() if n} for name, bars in drawn.items()} == expected
    assert sum(sum(bars.values()) for bars in drawn.values()) == RegisteredModel.objects.count()
    models = page.locator("section.card:has(#models-chart-heading)")
    models.locator("summary:has-text('Show the numbers')").click()
    totals = {
        row.locator("td").first.inner_text(): int(row.locator("td").last.inner_text())
        for row in models.locator("tbody tr").all()
    }
    assert totals == dict(
        RegisteredModel.objects.values_list("domain__name").annotate(n=Count("id")).order_by()
    )

    open_items = WorkItem.objects.exclude(status__in=CLOSED).count()
    assert hint_number(page, "work-chart-heading") == open_items
    assert sum(sum(bars.values()) for bars in drawn_bars(page, "work-chart").values()) == open_items

    decided = PromotionRequest.objects.filter(decided_at__gte=timezone.now() - timedelta(days=365))
    approved = decided.filter(status=PromotionStatus.APPROVED).count()
    rejected = decided.filter(status=PromotionStatus.REJECTED).count()
    assert hint_number(page, "promotions-chart-heading") == approved + rejected
    promotions = drawn_bars(page, "promotions-chart")
    assert (sum(promotions["Approved"].values()), sum(promotions["Rejected"].values())) == (
        approved,
        rejected,
    )
    assert hint_number(page, "dod-chart-heading") == 3  # recs-ranker, churn-predictor, store-demand
    assert (
        page.locator("#dod-chart-heading ~ .card__hint")
        .inner_text()
        .endswith(f"of {RegisteredModel.objects.count()} models complete")
    )

    dod = page.locator("section.card:has(#dod-chart-heading)")
    dod.locator("summary:has-text('Show the numbers')").click()
    assert "Verification script present and passing" in dod.locator("table").inner_text()

    page.select_option("#d-domain", "demand-forecasting")
    page.click(".scope-form button")
    page.wait_for_url(base + "/dashboards/?domain=demand-forecasting")
    wait_for_charts(page)
    assert "Manager's overview · Demand forecasting" in page.locator("h2.section-title").first.inner_text()
    assert page.locator("[data-chart='dod-chart'] .js-plotly-plot g.point").count() == 3
    screenshot(page, "dashboard-02-manager-one-domain")
    assert_no_js_errors(page)


def test_engineer_reads_the_queue(live_server, organisation, signed_in_page, screenshot):
    people, _ = organisation
    page, base = signed_in_page(people["eric"]), live_server.url
    page.goto(base + "/dashboards/")
    wait_for_charts(page)
    assert page.locator("h2.section-title").first.inner_text() == "Engineer's queue"
    queue = page.locator("#queue")
    assert queue.locator("table tbody tr").count() == 2
    assert "next-best-offer v2 → production" in queue.inner_text()
    assert "MLflow answered 503" in queue.locator("section.card:has(#failures-heading)").inner_text()
    # The gates arrive after the first paint and replace each row's "Checking gates…" link.
    # Locator waits, not wait_for_function: its polling evaluates a string, which the page's CSP refuses.
    page.locator("#queue tbody[aria-busy]").wait_for(state="detached", timeout=10_000)
    assert queue.locator("[data-gates-slot] .gate-summary").count() == 2
    assert "Checking gates" not in queue.inner_text()
    summaries = queue.locator("[data-gates-slot] .gate-summary")
    assert all(re.search(r"\d/5 pass", t) for t in summaries.all_inner_texts())
    assert queue.locator("tbody[aria-busy]").count() == 0
    screenshot(page, "dashboard-03-engineer-queue")
    queue.locator("a:has-text('staffing-forecast v2 → champion')").click()
    page.wait_for_url(re.compile(r".*/promotions/\d+/$"))
    assert page.locator("button:has-text('Retry the write-back')").is_visible()
    screenshot(page, "dashboard-04-failed-write-back")
    assert_no_js_errors(page)


def test_manager_follows_overdue_work_to_the_board_and_an_item(
    live_server, organisation, signed_in_page, screenshot
):
    people, items = organisation
    page, base = signed_in_page(people["maria"]), live_server.url
    page.click("nav.site-nav >> text=Work")
    page.wait_for_url(base + "/work/")
    assert page.locator("table.data tbody tr").count() == 19  # 8 items and the 11 promotions' items
    screenshot(page, "work-01-list")

    page.click(".tabs >> text=Overdue")
    page.wait_for_url(base + "/work/?view=overdue")
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 2
    assert "Breached" in rows.first.inner_text()
    screenshot(page, "work-02-overdue")

    page.click(".tabs >> text=All items")
    page.select_option("#f-domain", "personalisation")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*/work/\?.*domain=personalisation"))
    page.click(".page-actions a:has-text('Board')")
    page.wait_for_url(re.compile(r".*/work/board/\?.*domain=personalisation"))
    assert "Scores are NaN" in page.locator(".board__column--blocked").inner_text()
    screenshot(page, "work-03-board")

    page.click(".board__column--in_progress a:has-text('Retrain recs-ranker')")
    page.wait_for_url(re.compile(r".*/work/PERS-\d+/$"))
    assert page.locator(".comment .mention").count() == 2
    assert "Latency spike after deploy" in page.locator(".link-list").inner_text()
    assert "blocks this" in page.locator(".link-list").inner_text()
    screenshot(page, "work-04-item")

    page.click("#workflow summary:has-text('Blocked')")
    page.fill("#move-blocked-comment", "Waiting for the latency incident to close.")
    page.click("#workflow button:has-text('Move to Blocked')")
    page.wait_for_selector(".messages >> text=/PERS-\\d+ moved to Blocked/")
    assert "moved it from In progress to Blocked" in page.locator("#activity").inner_text()
    assert "Waiting for the latency incident to close." in page.locator("#comments").inner_text()
    screenshot(page, "work-05-item-blocked")

    page.goto(base + "/work/new/?model=store-demand")
    page.select_option("select[name=type]", "bug")
    page.fill("input[name=title]", "Forecast ignores the Easter holiday")
    page.click("form.work-item-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/work/FCST-\d+/$"))
    assert "Forecast ignores the Easter holiday" in page.locator("h1").inner_text()
    page.goto(base + "/work/new/")
    page.click("form.work-item-form button[type=submit]")
    page.wait_for_selector(".alert--error")
    screenshot(page, "work-06-new-item-errors")
    assert_no_js_errors(page)


def test_compliance_reads_the_audit_trail(live_server, organisation, signed_in_page, screenshot):
    people, _ = organisation
    page, base = signed_in_page(people["cora"]), live_server.url
    page.click("nav.site-nav >> text=Audit")
    page.wait_for_url(base + "/audit/")
    assert re.match(r"Chain verified: \d+ events\.", page.locator(".chain-banner").inner_text())
    screenshot(page, "audit-01-trail")
    page.fill("#a-action", "work_item.transitioned")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*/audit/\?action=work_item.transitioned.*"))
    rows = page.locator("table.audit-table tbody tr")
    assert rows.count() == 25  # 5 moves by people, 11 promotion items into review and 9 out of it
    assert page.locator("a:has-text('Export CSV')").get_attribute("href") == (
        "/api/v1/audit-events/export.csv?action=work_item.transitioned"
    )
    screenshot(page, "audit-02-filtered")
    assert_no_js_errors(page)


def test_queue_rows_keep_their_links_when_the_gates_do_not_come(live_server, organisation, signed_in_page):
    """The gates fragment answers without a row (decided meanwhile) or fails: each slot keeps its link to the
    request's own gates and says why."""
    people, _ = organisation
    page, base = signed_in_page(people["eric"]), live_server.url
    slots = page.locator("#queue [data-gates-slot] a")

    page.route("**/promotions/gates/**", lambda route: route.fulfill(status=200, body=""))
    page.goto(base + "/dashboards/")
    page.locator("#queue tbody[aria-busy]").wait_for(state="detached", timeout=10_000)
    assert slots.all_inner_texts() == ["Decided meanwhile: open the request"] * 2
    assert all(
        re.search(r"/promotions/\d+/#gates$", h) for h in slots.evaluate_all("a => a.map(x => x.href)")
    )

    page.unroute("**/promotions/gates/**")
    page.route("**/promotions/gates/**", lambda route: route.fulfill(status=500, body="boom"))
    page.goto(base + "/dashboards/")
    page.locator("#queue tbody[aria-busy]").wait_for(state="detached", timeout=10_000)
    assert slots.all_inner_texts() == ["Gates could not be loaded: open the request"] * 2
    page.js_errors.messages.clear()  # the browser logs the refused fetch; that is this test's point
