"""The Content-Security-Policy in a real browser: Chromium opens the main pages of the seeded demo, reports
not a single `securitypolicyviolation`, and the things that need JavaScript still work under the policy
(Plotly draws its charts, Swagger UI lists the operations, the admin's own scripts run)."""

import io

import pytest
from django.core.management import call_command

from catalog.demo import DEMO_PASSWORD
from catalog.models import RegisteredModel
from tests.browser.conftest import assert_no_js_errors, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push({
    directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
    sample: e.sample, page: document.location.pathname
  });
}, true);
"""


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    # A model with several versions: its page draws the metric charts.
    return RegisteredModel.objects.filter(versions__isnull=False).order_by("-version_count", "name").first()


@pytest.fixture
def admin_page(new_page):
    page = new_page()
    page.context.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, "ada", DEMO_PASSWORD)
    return page


def visit(page, path: str) -> list[dict]:
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__cspViolations")


def test_main_pages_raise_no_csp_violations_and_charts_render(live_server, demo, admin_page):
    page = admin_page
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy

    violations = visit(page, "/")
    assert page.locator("table").count() >= 1  # the catalog list

    violations += visit(page, demo.get_absolute_url())
    page.wait_for_selector(".js-plotly-plot .plot-container .main-svg")
    assert page.locator(".plot-container").count() >= 1
    assert page.locator(".js-plotly-plot svg.main-svg").count() >= 1
    # Plotly's own rules went in through CSSOM (an empty, hash-allowed <style>), not inline CSS.
    assert page.evaluate("document.getElementById('plotly.js-style-global').sheet.cssRules.length") > 0
    # A hover label: its <b>v3</b> becomes <tspan style="font-weight:bold"> (a hash-allowed attribute).
    page.evaluate(
        """() => Plotly.Fx.hover(document.querySelector("[data-chart^='metric-chart'] .js-plotly-plot"),
                                 [{curveNumber: 0, pointNumber: 0}])"""
    )
    page.wait_for_selector(".hoverlayer .hovertext")
    assert page.locator(".hoverlayer tspan[style='font-weight:bold']").count() >= 1
    assert page.evaluate(
        """getComputedStyle(document.querySelector(".hoverlayer tspan[style='font-weight:bold']"))
               .fontWeight"""
    ) in ("700", "bold")

    violations += visit(page, "/dashboards/")
    page.wait_for_selector("[data-chart] .js-plotly-plot .main-svg")
    assert page.locator("[data-chart] .plot-container").count() >= 2

    violations += visit(page, "/admin/")
    assert "Site administration" in page.title()
    # The periodic-task form's script (moved to a static file) still hides the translation field.
    violations += visit(page, "/admin/django_celery_beat/periodictask/add/")
    assert page.locator(".field-crontab_translation").count() == 1
    assert not page.locator(".field-crontab_translation").is_visible()

    violations += visit(page, "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20

    assert violations == [], violations
    # The Django admin names no icon, so Chromium asks for /favicon.ico (404): not a policy matter.
    page.js_errors.messages[:] = [m for m in page.js_errors.messages if "/favicon.ico" not in m[1]]
    assert_no_js_errors(page)


def test_an_injected_inline_script_is_blocked(live_server, demo, admin_page):
    """The policy is really enforced, not just sent: an inline script and a handler never run."""
    visit(admin_page, "/")
    ran = admin_page.evaluate(
        """() => {
            window.__ran = false;
            const s = document.createElement("script");
            s.textContent = "window.__ran = true";
            document.body.appendChild(s);
            const img = document.createElement("img");
            img.setAttribute("onerror", "window.__ran = true");
            img.src = "/no-such-image.png";
            document.body.appendChild(img);
            return new Promise(resolve => setTimeout(() => resolve(window.__ran), 500));
        }"""
    )
    assert ran is False
    directives = {v["directive"] for v in admin_page.evaluate("window.__cspViolations")}
    assert "script-src-elem" in directives or "script-src" in directives
    admin_page.js_errors.messages.clear()  # the refusals (and the missing image) were the point
