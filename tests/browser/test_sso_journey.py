"""A person signs in through single sign-on: the SSO button on the login page, the provider's own sign-in
form, and back in the catalog as themselves with the role their groups map to.

Drives Debian's /usr/bin/chromium through Playwright against pytest-django's live server and the test OIDC
provider (tests/portal/oidc_provider.py); saves sso-login.png, sso-signed-in.png and sso-refused.png under
test-artifacts/screenshots/.
"""

import pytest
from django.contrib.auth import get_user_model

from portal.roles import Role, user_roles
from tests.factories import DomainFactory, RegisteredModelFactory, UserFactory
from tests.portal.oidc_provider import OIDCProvider, sso_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp(live_server, settings):
    provider = OIDCProvider().start()
    provider.redirect_uris = {f"{live_server.url}/oidc/callback/"}
    for name, value in sso_settings(provider).items():
        setattr(settings, name, value)
    yield provider
    provider.stop()


@pytest.fixture
def seeded(live_server):
    owner = UserFactory(username="eric", role=Role.ENGINEER)
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    RegisteredModelFactory(name="churn-predictor", domain=domain, owners=[owner])


@pytest.fixture
def page(seeded, idp, new_page):
    return new_page()


def test_person_signs_in_through_sso_and_lands_in_the_catalog_with_their_role(
    live_server, idp, page, screenshot
):
    idp.add_user(
        "priya",
        password="idp-Priya-pw-1",
        groups=["ds-scientists", "everyone"],
        name="Priya Raman",
        email="priya@acme.test",
    )
    base = live_server.url

    page.goto(base + "/")
    assert "/login/" in page.url
    sso_button = page.get_by_role("link", name="Sign in with Acme SSO")
    assert sso_button.is_visible()
    assert page.locator("input[name=password]").is_visible()  # local accounts stay
    screenshot(page, "sso-login")

    sso_button.click()
    page.wait_for_url(f"{idp.issuer}/authorize?*")
    page.fill("input[name=username]", "priya")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    page.fill("input[name=username]", "priya")
    page.fill("input[name=password]", "idp-Priya-pw-1")
    page.click("button[type=submit]")

    page.wait_for_url(base + "/")
    header = page.locator(".site-user")
    assert header.get_by_text("Priya Raman").is_visible()
    assert header.locator(".badge--role").all_inner_texts() == ["Scientist"]
    assert page.get_by_role("link", name="churn-predictor").is_visible()
    screenshot(page, "sso-signed-in")

    priya = get_user_model().objects.get(username="priya")
    assert user_roles(priya) == {Role.SCIENTIST}
    assert priya.email == "priya@acme.test"


def test_someone_without_a_mapped_group_sees_why_on_the_login_page(live_server, idp, page, screenshot):
    idp.add_user("victor", password="idp-Victor-pw-1", groups=["marketing"])
    base = live_server.url
    page.goto(base + "/login/")
    page.get_by_role("link", name="Sign in with Acme SSO").click()
    page.wait_for_url(f"{idp.issuer}/authorize?*")
    page.fill("input[name=username]", "victor")
    page.fill("input[name=password]", "idp-Victor-pw-1")
    page.click("button[type=submit]")

    page.wait_for_url(base + "/login/")
    message = page.locator(".messages .alert--error").inner_text()
    assert "your account has no Modelhouse role" in message
    assert "the data platform team (#modelhouse)" in message
    screenshot(page, "sso-refused")
    page.goto(base + "/")
    assert "/login/" in page.url  # still signed out
    assert not get_user_model().objects.filter(username="victor").exists()
