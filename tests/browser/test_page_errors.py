"""The guard every browser journey relies on: a script error or a failed subresource on a page fails the
test, while a document the test opened on purpose with an error status (a 404 page) does not."""

import pytest

from tests.browser.conftest import assert_no_js_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_script_errors_and_failed_subresources_are_caught_but_a_visited_404_is_not(new_page):
    page = new_page()
    assert page.goto("/static/no-such-file.css").status == 404  # a page the test meant to open
    page.goto("/login/")
    assert_no_js_errors(page)

    page.evaluate("setTimeout(() => { throw new Error('boom from a script') })")
    page.evaluate("""() => new Promise(done => {
        const img = document.createElement('img');
        img.onerror = done;
        img.src = '/static/missing-picture.png';
        document.body.append(img);
    })""")
    page.wait_for_timeout(200)
    with pytest.raises(AssertionError) as caught:
        assert_no_js_errors(page)
    report = str(caught.value)
    assert "boom from a script" in report
    assert "Failed to load resource" in report and "missing-picture.png" in report
    assert_no_js_errors(page)  # reported once, not again when the test ends
