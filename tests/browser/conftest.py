"""What every browser journey shares: one headless Chromium per test session, people signed in through the
login form (each in a browser context of their own), full-page screenshots, and a check that no page threw.

Playwright drives Debian's /usr/bin/chromium (never a downloaded browser) against pytest-django's live
server. Screenshots go to test-artifacts/screenshots/ (MODELHOUSE_SCREENSHOTS_DIR overrides it); the ones
named `journey-*` are the README's pictures (`make screenshots` copies them to docs/images/).
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import skip_or_fail
from tests.integration.mlflow_server import mlflow_client, mlflow_server  # noqa: F401  (fixtures)

# Playwright's sync API keeps an asyncio loop running in this thread, so Django believes it is in async
# code; the ORM calls the tests make are still plain synchronous calls, made one at a time.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("MODELHOUSE_SCREENSHOTS_DIR") or ROOT / "test-artifacts" / "screenshots")
PASSWORD = "pw-Browser-Journey-1"  # give seeded people this password; signed_in_page uses it
VIEWPORT = {"width": 1366, "height": 860}  # a laptop screen: README pictures are taken at this size
TIMEOUT_MS = 15_000


def chromium_executable() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        skip_or_fail("Debian's chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="session")
def browser(django_db_setup, django_db_blocker):
    """One Chromium for the whole session; tests open contexts of their own (separate cookies)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, asgiref keys Django's connections by context rather than by
            # thread, so the ORM calls tests made opened connections of their own. Close them before the
            # loop stops: left open they would block dropping the PostgreSQL test database.
            with django_db_blocker.unblock():
                connections.close_all()


class PageErrors:
    """Uncaught exceptions and console errors on one page. A deliberate visit to a 4xx/5xx page logs
    "Failed to load resource" for that document; the test asserts those statuses itself, so they do not
    count. Nor does a part of a page (fragments.js) answering 400: that answer is a field message the page
    shows. Anything else (a script that throws, a CSP refusal, a missing static file) does."""

    def __init__(self, page):
        self.page = page
        self.messages: list[tuple[str, str]] = []
        self.failed_documents: set[str] = set()
        page.on("pageerror", lambda exc: self.messages.append((f"uncaught: {exc} on {page.url}", "")))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.messages.append((f"{message.text} on {self.page.url}", url))

    def _response(self, response) -> None:
        request = response.request
        document = response.status >= 400 and request.resource_type == "document"
        part = response.status == 400 and request.headers.get("x-fragment") == "1"
        if document or part:
            self.failed_documents.add(response.url)

    def errors(self) -> list[str]:
        return [
            f"{text} (from {url})" if url else text
            for text, url in self.messages
            if not (text.startswith("Failed to load resource") and url in self.failed_documents)
        ]


def parts_loaded(page) -> None:
    """Waits until static/js/fragments.js has put every part of the page in its placeholder's place."""
    from playwright.sync_api import expect

    expect(page.locator("[data-fragment-src]")).to_have_count(0)


def assert_no_js_errors(*pages) -> None:
    """Fail with what the browser reported if any of these pages threw or logged a console error. What it
    reports is not reported again when the test ends."""
    problems = [error for page in pages for error in page.js_errors.errors()]
    for page in pages:
        page.js_errors.messages.clear()
    assert not problems, "JavaScript errors in the browser:\n" + "\n".join(problems)


@pytest.fixture
def new_page(browser, live_server):
    """new_page() -> a page in a fresh browser context, signed out. Every page it made is checked for
    JavaScript errors when the test ends, and its context closed."""
    contexts, pages = [], []

    def make():
        context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.js_errors = PageErrors(page)
        contexts.append(context)
        pages.append(page)
        return page

    yield make
    try:
        assert_no_js_errors(*pages)
    finally:
        for context in contexts:
            context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person does. django-axes locks a username after repeated failures, so
    a wrong password fails the test at once rather than retrying."""
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    if "/login/" in page.url:
        pytest.fail(f"could not sign in as {username}: {page.locator('main').inner_text()[:300]}")


@pytest.fixture
def signed_in_page(new_page):
    """signed_in_page(user_or_username, password=PASSWORD) -> a page in its own browser context (its own
    session), signed in through the login form and left on the page the login leads to."""

    def make(user, password: str = PASSWORD):
        page = new_page()
        sign_in(page, getattr(user, "username", user), password)
        return page

    return make


def save_screenshot(page, name: str, *, full_page: bool = True, **options) -> Path:
    """Other Playwright screenshot options (clip=...) pass through."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, **options)
    return path


def down_to(page, selector: str, *, margin: int = 16) -> dict:
    """A clip of the page from its top to the bottom of `selector`: a README picture that ends where the
    interesting part does."""
    bottom = page.locator(selector).first.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    return {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": bottom + margin}


@pytest.fixture
def screenshot():
    """screenshot(page, name, full_page=True, **playwright_options) -> the PNG's path under
    test-artifacts/screenshots/. README pictures (`journey-*`) show one laptop screen (full_page=False) or
    a clip of the page, which keeps them readable and small."""
    return save_screenshot
