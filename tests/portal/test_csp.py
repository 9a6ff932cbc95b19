"""Content-Security-Policy: every page of the seeded demo carries a strict policy, and no page needs the
policy to be loosened (no inline script, no on*= handler, no javascript: URL, no inline style).

tests/browser/test_csp.py checks the same in Chromium (zero violation reports, charts drawn)."""

import io
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import plotly
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db

UNSAFE = (
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "'wasm-unsafe-eval'",
    "data:",
    "*",
    "http:",
    "https:",
)
REQUIRED = ("script-src", "default-src", "object-src", "base-uri", "frame-ancestors", "form-action")
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}
SKIP = ("/logout/", "/static/", "/admin/logout/", "/api/v1/", "/api/schema/", "/oidc/")
PER_ROUTE = 2  # pages visited per URL pattern: the same template with other rows adds nothing
MAX_PAGES = 400


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


def policy_problems(response) -> list[str]:
    directives = policy(response)
    if not directives:
        return ["no Content-Security-Policy header"]
    problems = []
    for directive in REQUIRED:
        if directive not in directives:
            problems.append(f"{directive} missing")
    for directive in ("script-src", "default-src", "style-src", "object-src"):
        loose = [v for v in directives.get(directive, []) if v in UNSAFE or v.endswith(":")]
        if directive == "style-src":
            # Style attributes matching listed hashes only (Plotly's <b>/<i> text): no 'unsafe-inline'.
            loose = [v for v in loose if v != "'unsafe-hashes'"]
        if loose:
            problems.append(f"{directive} allows {loose}")
    if directives.get("object-src") != ["'none'"] or directives.get("frame-ancestors") != ["'none'"]:
        problems.append("object-src and frame-ancestors must be 'none'")
    return problems


class PageScan(HTMLParser):
    """What in a page a strict CSP would block, and the same-origin links to crawl on."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []
        self._script_inline = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event-handler attribute")
            if name == "style":
                self.problems.append(f"<{tag} style=...> inline style attribute")
            if name in URL_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value[:40]!r}> script URL")
        if tag == "script":
            kind = (attributes.get("type") or "").strip().lower()
            self._script_inline = not attributes.get("src") and kind not in DATA_SCRIPT_TYPES
            self._script_text = []
        if tag == "style":
            self.problems.append("<style> element (inline styles are refused)")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_data(self, data):
        if self._script_inline:
            self._script_text.append(data)

    def handle_endtag(self, tag):
        if tag == "script":
            if self._script_inline:
                self.problems.append(f"inline <script>: {''.join(self._script_text).strip()[:60]!r}")
            self._script_inline = False


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route or match.view_name


def crawl(client, start: list[str]) -> tuple[dict[str, list[str]], int]:
    """Visit same-origin pages breadth-first; {url: problems} for every page with a problem."""
    queue, seen, per_route, failures, visited = list(start), set(), Counter(), {}, 0
    while queue and visited < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in seen or path.startswith(SKIP) or path.endswith((".csv", ".json", ".svg", ".png")):
            continue
        seen.add(path)
        route = route_of(path)
        if route is None or per_route[route] >= PER_ROUTE:
            continue
        per_route[route] += 1
        response = client.get(path)
        visited += 1
        problems = policy_problems(response)
        if response.status_code >= 500:
            problems.append(f"status {response.status_code}")
        if "text/html" in response.headers.get("Content-Type", "") and response.status_code < 300:
            scan = PageScan()
            scan.feed(response.content.decode())
            problems += scan.problems
            for link in scan.links:
                parts = urlsplit(link)
                if not parts.scheme and not parts.netloc and parts.path.startswith("/"):
                    queue.append(parts.path)
        if problems:
            failures[path] = sorted(set(problems))
    return failures, visited


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


def test_every_page_of_the_demo_has_a_strict_policy_and_needs_no_inline_script(client, demo):
    client.force_login(demo["ada"])  # admin: sees every page, including the Django admin
    from catalog.models import ModelVersion, RegisteredModel

    model = RegisteredModel.objects.filter(versions__isnull=False).first()
    version = ModelVersion.objects.filter(model=model).first()
    start = [
        "/",
        model.get_absolute_url(),
        version.get_absolute_url(),
        "/dashboards/",
        "/compliance/",
        "/audit/",
        "/alerts/",
        "/access/",
        "/work/",
        "/work/board/",
        "/promotions/",
        "/registries/",
        "/datasets/",
        "/domains/",
        "/api/docs/",
        "/admin/",
        "/no-such-page/",
    ]
    failures, visited = crawl(client, start)
    assert visited > 60, f"the crawl reached only {visited} pages"
    assert not failures, "\n".join(f"{url}: {problems}" for url, problems in failures.items())


def test_pages_for_anonymous_visitors_have_the_policy_too(client, make_user):
    for url in ("/login/", "/", "/healthz", "/api/v1/models/", "/no-such-page/"):
        response = client.get(url)
        assert not policy_problems(response), (url, response.headers.get("Content-Security-Policy"))
    page = PageScan()
    page.feed(client.get("/login/").content.decode())
    assert not page.problems
    make_user(username="locked")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/login/", {"username": "locked", "password": "wrong"})
    assert response.status_code == 429 and not policy_problems(response)
    page = PageScan()
    page.feed(response.content.decode())
    assert not page.problems


def test_the_policy_is_strict():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"][0] == "'self'"
    assert "'unsafe-inline'" not in directives["style-src"]
    # Beyond 'self', style-src holds hashes (and 'unsafe-hashes', which lets only those hashes match).
    allowed = ("'self'", "'unsafe-hashes'")
    assert all(v in allowed or v.startswith("'sha256-") for v in directives["style-src"])


def test_the_style_hashes_are_plotlys_text_styles():
    """Each hashed style is one Plotly really sets on text (<b>, <i>, ...): a plotly.js upgrade that changes
    them fails here, not only as a violation in a browser."""
    bundle = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    table = re.search(r'\{sup:"font-size:70%",sub:"font-size:70%",[^}]*\}', bundle).group(0)
    declared = set(re.findall(r':"([^"]+)"', table))
    from portal.settings import base

    assert set(base._PLOTLY_TEXT_STYLES) == declared
    hashed = {base._csp_hash(text) for text in ("", *declared)}
    assert hashed <= set(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"])


def test_swagger_ui_runs_from_a_script_url_behind_login(client, scientist):
    response = client.get("/api/docs/")
    assert response.status_code in (302, 401, 403)  # people sign in first
    client.force_login(scientist)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    scan = PageScan()
    scan.feed(response.content.decode())
    assert not scan.problems
    script = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', response.content.decode())
    assert script, "the split view names its start-up script by URL"
    js = client.get(script.group(1).replace("&amp;", "&"))
    assert js.status_code == 200 and js["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in js.content.decode() and "/api/schema/" in js.content.decode()


def test_the_plotly_style_placeholder_matches_the_bundled_plotly():
    """charts' placeholder id stops plotly.js injecting MapLibre's inline <style>; an upgraded bundle with
    another id would bring the CSP violation back, so this fails first."""
    template = (Path(settings.BASE_DIR) / "templates" / "components" / "chart_scripts.html").read_text()
    placeholder = re.search(r'<span id="([0-9a-f]{64})" hidden>', template).group(1)
    bundle = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    assert f'document.getElementById("{placeholder}")' in bundle
