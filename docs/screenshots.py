"""Capture the README's overview pictures (catalog, model, dashboards, ...) from a running portal with the
demo data: start it with `make run`, then

    .venv/bin/python docs/screenshots.py [--url http://127.0.0.1:8000]

The journey pictures (docs/images/journey-*.png) are not made here: the browser tests save them and
`make screenshots` copies them, so they show what the tests saw. Uses Debian's headless Chromium through
Playwright (never downloads a browser).
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PAGES = [
    ("maria", "catalog", "/"),
    ("maria", "model", "/models/churn-predictor/"),
    ("maria", "dashboard", "/dashboards/"),
    ("eric", "promotion-queue", "/promotions/"),
    ("cora", "compliance", "/compliance/"),
    ("sara", "work-board", "/work/board/"),
    ("eric", "registry", "/registries/demo-manifests/"),
    ("cora", "alerts", "/alerts/"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(Path(__file__).parent / "images"))
    options = parser.parse_args()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for user, name, path in PAGES:
            context = browser.new_context(viewport={"width": 1366, "height": 860})
            page = context.new_page()
            page.goto(f"{options.url}/login/")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", "modelhouse")
            page.click("button[type=submit]")
            page.goto(f"{options.url}{path}")
            page.wait_for_load_state("networkidle")
            # Parts loaded after the first paint (static/js/fragments.js) are in place. A locator wait: the
            # pages' CSP refuses wait_for_function's evaluated strings.
            page.locator("[data-fragment-src]").first.wait_for(state="detached", timeout=15000)
            if page.locator("[data-chart]").count():
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15000)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            print(f"{name}: {path} as {user}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
