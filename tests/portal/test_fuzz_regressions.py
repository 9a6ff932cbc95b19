"""Defects the API fuzz tests (test_fuzz_api.py) found, each pinned by a focused test."""

import pytest

from governance.models import AccessRequest, AccessStatus
from tests.factories import DomainFactory
from tests.portal.fuzz_data import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(scientist):
    from governance.services.work_items import work_item_create

    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    return work_item_create(actor=scientist, domain=domain, type="task", title="Tune the ranker")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/work-items/",
        "/api/v1/work-items/{key}/comments/",
        "/api/v1/work-items/{key}/transitions/",
        "/api/v1/access-requests/1/approve/",
        "/api/v1/models/",
    ],
)
def test_options_describes_the_endpoint_instead_of_failing(api_as, scientist, item, url):
    # OPTIONS used to be a 500: DRF's metadata looked for a `serializer_class` these views do not have.
    response = api_as(scientist).options(url.format(key=item.key))
    assert response.status_code == 200
    body = response.json()
    assert body["renders"] == ["application/json"]
    assert "application/json" in body["parses"]


def test_schema_documents_error_responses(api_as, scientist):
    schema = api_as(scientist).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    # A write with a body and a path parameter: validation, authentication, permission, absence, conflict.
    assert {"400", "401", "403", "404", "409"} <= set(
        paths["/api/v1/work-items/{key}/comments/"]["post"]["responses"]
    )
    # A read without query parameters has nothing to validate and nothing to conflict with.
    responses = set(paths["/api/v1/work-items/{key}/"]["get"]["responses"])
    assert {"200", "401", "403", "404"} <= responses and not {"400", "409"} & responses
    # Anyone may exchange a password for a token: no 401/403 documented there.
    assert not {"401", "403"} & set(paths["/api/v1/auth/token/"]["post"]["responses"])
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/campaigns/4303055596494963328159842304/items/1/attest/",
        "/api/v1/promotions/99999999999999999999/",
        "/api/v1/versions/9223372036854775808/metrics/",
    ],
)
def test_ids_beyond_64_bits_are_404_not_500(api_as, compliance, url):
    # SQLite raised OverflowError comparing such an id (a 500); no row can have it.
    client = api_as(compliance)
    response = client.post(url, {"keep": True}, format="json") if "attest" in url else client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_newline_in_an_unknown_api_path_is_a_json_404(api_as, scientist):
    # '.' did not match the newline, so the catch-all missed and Django answered with its HTML 404 page.
    client = api_as(scientist)
    response = client.get("/api/v1/access-requests/%C3%9F%0Ad/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    # The catch-all stays reversible: answers that hold links (reverse()) still work.
    assert client.get("/api/v1/work-items/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"watchers": ["sa\x00ra"]},
        {"assignee": "sa\x00ra"},
        {"model": "recs\x00"},
        {"domain": "pers\x00"},
    ],
)
def test_nul_in_a_name_that_is_looked_up_is_a_400(api_as, scientist, body):
    # Named rows (users, models, domains) were looked up with the NUL in the name: PostgreSQL refused the
    # query (DataError, a 500). CharFields already refused NUL; the lookups now do too.
    DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    data = {"type": "task", "title": "Tune", "domain": "personalisation", **body}
    response = api_as(scientist).post("/api/v1/work-items/", data, format="json")
    assert response.status_code == 400
    field = next(iter(body))
    assert response.json()[field] == (
        {"0": ["Null characters are not allowed."]}
        if field == "watchers"
        else ["Null characters are not allowed."]
    )


# --- found by the form fuzz tests (test_fuzz_forms.py) ----------------------------------------------------


@pytest.mark.parametrize("next_url", ["1", "grant-list", "", "https://evil.example/", "//evil.example/"])
def test_revoking_a_grant_with_an_odd_next_goes_back_to_the_request(client, next_url):
    # A bare word in `next` went to redirect(), which took it for a URL name: NoReverseMatch, a 500 after
    # the grant had been revoked. Now only a path on this site is followed; anything else goes to the request.
    world = build_world()
    grant = world.objects["grant"][0]
    client.force_login(world.users["compliance"])
    response = client.post(f"/access/{grant}/revoke/", {"reason": "Purpose ended.", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == f"/access/{grant}/"
    assert AccessRequest.objects.get(pk=grant).status == AccessStatus.REVOKED


def test_revoking_a_grant_follows_a_path_on_this_site(client):
    world = build_world()
    grant = world.objects["grant"][0]
    client.force_login(world.users["compliance"])
    response = client.post(
        f"/access/{grant}/revoke/", {"reason": "Purpose ended.", "next": "/access/grants/"}
    )
    assert response.status_code == 302 and response["Location"] == "/access/grants/"
