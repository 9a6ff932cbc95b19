"""Someone mistypes a password five times: the sixth attempt, even with the right password, shows the
lockout page (429) saying when to try again; a colleague signing in from the same address is unaffected."""

import pytest

from portal.roles import Role
from tests.browser.conftest import PASSWORD, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def attempt(page, username: str, password: str):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as navigation:
        page.click("form:has(input[name=password]) button[type=submit]")
    return navigation.value


def test_five_wrong_passwords_pause_that_username_with_a_readable_page(new_page, screenshot, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="sara", role=Role.SCIENTIST, password=PASSWORD)
    UserFactory(username="eric", role=Role.ENGINEER, password=PASSWORD)
    page = new_page()

    for _ in range(4):
        response = attempt(page, "sara", "not-my-password")
        assert response.status == 200
        assert page.get_by_role("alert").is_visible()  # "Please enter a correct username and password"
    response = attempt(page, "sara", "not-my-password")
    assert response.status == 429

    response = attempt(page, "sara", PASSWORD)
    assert response.status == 429
    heading = page.get_by_role("heading", name="Too many sign-in attempts")
    assert heading.is_visible()
    assert "failed 5 times in a row" in page.get_by_role("alert").inner_text()
    assert page.locator("time[datetime]").count() == 1
    screenshot(page, "security-lockout", full_page=False)

    colleague = new_page()
    sign_in(colleague, "eric")
    assert "/login/" not in colleague.url
