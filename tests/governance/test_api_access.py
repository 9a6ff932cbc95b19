"""The data-access REST API over real services: purposes, requests with owner-then-compliance approval,
grants and revocation, CSV exports, re-certification campaigns, a dataset's impact and a version's data
use. Refusals carry the policy's message (403), order conflicts are 409, bad input is a 400 with field
messages and never a 500."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from catalog.models import Dataset, ModelAlias, ModelVersion
from governance.models import AccessRequest, AccessStatus
from governance.services.data_access import (
    access_request_create,
    access_request_decide,
    model_purpose_set,
)

pytestmark = pytest.mark.django_db

PURPOSES = "/api/v1/purposes/"
REQUESTS = "/api/v1/access-requests/"
GRANTS = "/api/v1/grants/"
CAMPAIGNS = "/api/v1/campaigns/"
TODAY = timezone.localdate()


def days(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def api_as(db):
    """api_as(user) -> a new APIClient with that user's token (several people's clients at once)."""
    from rest_framework.test import APIClient

    from portal.services import user_token

    def login(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user_token(user=user)}")
        return client

    return login


def post_json(client, url, data=None):
    return client.post(url, data if data is not None else {}, format="json")


def body(purpose, datasets, /, **overrides):
    data = {
        "datasets": datasets,
        "purpose": purpose.slug,
        "legal_basis": "contract",
        "justification": "Train the home-page ranker.",
        "start_date": TODAY.isoformat(),
        "expiry_date": days(90),
    }
    data.update(overrides)
    return data


def granted(scientist, owner, compliance, purpose, datasets, **overrides):
    request = access_request_create(
        actor=scientist,
        datasets=[(d, []) for d in datasets],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the home-page ranker.",
        start_date=TODAY,
        expiry_date=TODAY + datetime.timedelta(days=90),
        **overrides,
    )
    access_request_decide(actor=owner, request=request, approve=True)
    return access_request_decide(actor=compliance, request=request, approve=True)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- authentication -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [PURPOSES, REQUESTS, GRANTS, CAMPAIGNS, GRANTS + "export.csv", "/api/v1/access-decisions/export.csv"],
)
def test_anonymous_calls_are_refused_in_json(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


# --- the whole flow -------------------------------------------------------------------------------------


def test_request_owner_then_compliance_grant_and_revoke(
    api_as, scientist, owner, compliance, purpose, clicks
):
    sara, olga, cora = api_as(scientist), api_as(owner), api_as(compliance)
    response = post_json(
        sara, REQUESTS, body(purpose, [{"dataset": "s3://lake/clicks", "columns": ["user_id", "item_id"]}])
    )
    assert response.status_code == 201, response.content
    created = response.json()
    pk = created["id"]
    assert created["status"] == "submitted" and created["requester"] == "sara"
    assert created["datasets"][0]["uri"] == "s3://lake/clicks"
    assert created["datasets"][0]["columns"] == ["item_id", "user_id"]
    assert {(s["kind"], s["approver"], s["status"]) for s in created["steps"]} == {
        ("owner", "olga", "pending"),
        ("compliance", None, "pending"),
    }
    assert created["can_decide"] is False
    assert created["decision_refusal"] == "Nobody approves their own access request."
    assert created["can_withdraw"] is True and created["work_item"]
    url = f"{REQUESTS}{pk}/"

    # Four eyes: the requester never approves; compliance waits for the data owner.
    response = post_json(sara, url + "approve/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Nobody approves their own access request."
    response = post_json(cora, url + "approve/")
    assert response.status_code == 409
    assert "after every data owner" in response.json()["detail"]
    assert cora.get(url).json()["decision_refusal"].startswith("Compliance approves after every data owner")

    assert ids(olga.get(REQUESTS + "?awaiting_me=true")) == [pk]
    assert ids(cora.get(REQUESTS + "?awaiting_me=true")) == []
    assert olga.get(url).json()["can_decide"] is True
    response = post_json(olga, url + "approve/", {"reason": "Fine for ranking."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_review"

    assert ids(cora.get(REQUESTS + "?awaiting_me=true")) == [pk]
    assert ids(olga.get(REQUESTS + "?awaiting_me=true")) == []
    response = post_json(cora, url + "approve/")
    assert response.status_code == 200, response.content
    detail = response.json()
    assert detail["status"] == "approved" and detail["decided_at"]
    assert detail["grant_url"].endswith(f"{GRANTS}{pk}/")
    assert [e["action"] for e in detail["events"]] == [
        "access.requested",
        "access.submitted",
        "access.owner_approved",
        "access.compliance_approved",
        "access.granted",
    ]
    assert {s["decided_by"] for s in detail["steps"]} == {"olga", "cora"}

    # The grant.
    assert ids(sara.get(GRANTS)) == [pk]
    assert ids(sara.get(GRANTS + "?status=approved&dataset=s3://lake/clicks")) == [pk]
    assert ids(sara.get(GRANTS + f"?dataset={clicks.pk}&purpose={purpose.slug}")) == [pk]
    assert ids(sara.get(GRANTS + "?expiring_within_days=30")) == []
    assert ids(sara.get(GRANTS + "?expiring_within_days=90")) == [pk]
    assert ids(sara.get(GRANTS + "?special_category=true")) == []
    assert ids(sara.get(GRANTS + "?special_category=false")) == [pk]
    assert ids(sara.get(REQUESTS + "?mine=true&status=approved&status=rejected")) == [pk]
    assert ids(olga.get(REQUESTS + "?mine=true")) == []
    grant = sara.get(f"{GRANTS}{pk}/").json()
    assert grant["is_active"] is True and grant["days_left"] == 90

    # Revocation: compliance only, with a reason.
    revoke = f"{GRANTS}{pk}/revoke/"
    assert post_json(sara, revoke, {"reason": "I do not need it any more."}).status_code == 403
    response = post_json(cora, revoke)
    assert response.status_code == 400 and "reason" in response.json()
    response = post_json(cora, revoke, {"reason": "short"})
    assert response.status_code == 400 and "10+ characters" in response.json()["reason"][0]
    response = post_json(cora, revoke, {"reason": "Consent withdrawn by the data subjects."})
    assert response.status_code == 200, response.content
    revoked = response.json()
    assert revoked["status"] == "revoked" and revoked["ended_by"] == "cora" and revoked["is_active"] is False
    assert revoked["events"][-1]["action"] == "access.revoked"
    response = post_json(cora, revoke, {"reason": "Consent withdrawn by the data subjects."})
    assert response.status_code == 409
    assert ids(sara.get(GRANTS + "?status=revoked")) == [pk]


def test_reject_needs_a_reason_and_rejects_the_request(api_as, scientist, owner, purpose, clicks):
    pk = post_json(api_as(scientist), REQUESTS, body(purpose, [clicks.pk])).json()["id"]
    olga = api_as(owner)
    response = post_json(olga, f"{REQUESTS}{pk}/reject/")
    assert response.status_code == 400 and "reason" in response.json()
    response = post_json(olga, f"{REQUESTS}{pk}/reject/", {"reason": "Too broad: ask for fewer columns."})
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    response = post_json(olga, f"{REQUESTS}{pk}/approve/")
    assert response.status_code == 409 and "nothing to decide" in response.json()["detail"]
    assert ids(api_as(scientist).get(GRANTS)) == []


def test_draft_submit_and_withdraw(api_as, scientist, owner, purpose, clicks, make_user):
    sara = api_as(scientist)
    response = post_json(sara, REQUESTS, body(purpose, [str(clicks.pk)], submit=False))
    assert response.status_code == 201 and response.json()["status"] == "draft"
    pk = response.json()["id"]
    assert response.json()["steps"] == [] and response.json()["can_submit"] is True
    stranger = api_as(make_user("scientist", username="stan"))
    assert post_json(stranger, f"{REQUESTS}{pk}/submit/").status_code == 403
    assert post_json(sara, f"{REQUESTS}{pk}/submit/", {"now": True}).status_code == 400
    response = post_json(sara, f"{REQUESTS}{pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert post_json(sara, f"{REQUESTS}{pk}/submit/").status_code == 409
    assert post_json(stranger, f"{REQUESTS}{pk}/withdraw/").status_code == 403
    response = post_json(sara, f"{REQUESTS}{pk}/withdraw/", {"reason": "Found another way."})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert post_json(sara, f"{REQUESTS}{pk}/withdraw/").status_code == 409
    assert post_json(api_as(owner), f"{REQUESTS}{pk}/approve/").status_code == 409


def test_unknown_requests_and_grants_are_404(api_as, compliance, scientist, purpose, clicks):
    cora = api_as(compliance)
    assert cora.get(f"{REQUESTS}999999/").status_code == 404
    assert post_json(cora, f"{REQUESTS}999999/approve/").status_code == 404
    assert cora.get(f"{GRANTS}999999/").status_code == 404
    draft = post_json(api_as(scientist), REQUESTS, body(purpose, [clicks.pk], submit=False)).json()["id"]
    # A request is a grant only once approved.
    assert cora.get(f"{GRANTS}{draft}/").status_code == 404
    assert post_json(cora, f"{GRANTS}{draft}/revoke/", {"reason": "Not a grant at all."}).status_code == 404
    assert cora.get(f"{REQUESTS}abc/").status_code == 404
    assert cora.get(f"{REQUESTS}{2**70}/").status_code == 404  # beyond a 64-bit id: unknown, not a 500
    assert post_json(cora, f"{GRANTS}{2**70}/revoke/", {"reason": "Out of range id."}).status_code == 404
    assert cora.get(f"{REQUESTS}?dataset={2**70}").status_code == 400


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"expiry_date": days(-1)}, "expiry_date", "must be in the future"),
        ({"expiry_date": days(400)}, "expiry_date", "at most"),
        ({"expiry_date": "tomorrow"}, "expiry_date", "wrong format"),
        ({"legal_basis": None}, "legal_basis", "may not be null"),
        ({"legal_basis": "vibes"}, "legal_basis", "A GDPR Art. 6 legal basis"),
        ({"legal_basis": "consent"}, "legal_basis", "may rest only on"),
        ({"justification": "pls"}, "justification", "10+ characters"),
        ({"purpose": "astrology"}, "purpose", "Unknown purpose 'astrology'."),
        ({"datasets": []}, "datasets", "may not be empty"),
        ({"datasets": ["s3://x"]}, "datasets", "Unknown dataset 's3://x'."),
        ({"datasets": [{"dataset": "s3://x"}]}, "datasets", "Unknown dataset 's3://x'."),
        ({"datasets": [99999999]}, "datasets", "Unknown dataset '99999999'."),
        ({"datasets": [2**70]}, "datasets", "Unknown dataset"),
        ({"datasets": [True]}, "datasets", "id or URI"),
        ({"datasets": ["s3://lake/clicks", "s3://lake/clicks"]}, "datasets", "once"),
        ({"datasets": [{"dataset": "s3://lake/clicks", "rows": 5}]}, "datasets", "Unknown field."),
        ({"datasets": [{"dataset": "s3://lake/clicks", "columns": ["a\x00"]}]}, "datasets", "Null"),
        ({"team": "nobody"}, "team", "Unknown team 'nobody'."),
        ({"colour": "blue"}, "colour", "Unknown field."),
    ],
)
def test_bad_requests_are_400_with_field_messages(
    api_as, scientist, purpose, clicks, overrides, field, message
):
    data = body(purpose, ["s3://lake/clicks"], **overrides)
    if overrides.get("legal_basis", "") is None:
        del data["legal_basis"]
        message = "required"
    response = post_json(api_as(scientist), REQUESTS, data)
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field]), response.json()
    assert not AccessRequest.objects.exists()


def test_special_category_data_needs_a_dpia(api_as, scientist, purpose, pharmacy):
    sara = api_as(scientist)
    response = post_json(sara, REQUESTS, body(purpose, ["s3://lake/pharmacy"]))
    assert response.status_code == 400
    assert "DPIA" in response.json()["dpia_reference"][0]
    response = post_json(sara, REQUESTS, body(purpose, ["s3://lake/pharmacy"], dpia_reference="DPIA-2026-7"))
    assert response.status_code == 201 and response.json()["dpia_reference"] == "DPIA-2026-7"


def test_malformed_bodies_are_400(api_as, scientist, purpose, clicks):
    sara = api_as(scientist)
    response = sara.post(REQUESTS, '{"datasets": [', content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    response = sara.post(REQUESTS, "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    response = sara.post(REQUESTS, '{"expiry_date": NaN}', content_type="application/json")
    assert response.status_code == 400
    assert sara.get(REQUESTS + "?status=granted").status_code == 400
    assert sara.get(REQUESTS + "?dataset=s3://nowhere").json() == {
        "dataset": ["Unknown dataset 's3://nowhere'."]
    }
    assert sara.get(GRANTS + "?expiring_within_days=-1").status_code == 400
    assert sara.get(GRANTS + "?expiring_within_days=soon").status_code == 400
    assert sara.get(REQUESTS + "?requester=%00").status_code == 400


# --- purposes -------------------------------------------------------------------------------------------


def test_purposes_are_kept_by_compliance(api_as, compliance, scientist):
    cora, sara = api_as(compliance), api_as(scientist)
    data = {
        "name": "Fraud detection",
        "description": "Stop card fraud before it happens.",
        "allowed_legal_bases": ["legal_obligation", "legitimate_interests"],
    }
    response = post_json(sara, PURPOSES, data)
    assert response.status_code == 403
    assert response.json()["detail"] == "Only compliance maintains the purpose registry."
    response = post_json(cora, PURPOSES, data)
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "fraud-detection" and response.json()["model_count"] == 0
    assert post_json(cora, PURPOSES, data).status_code == 400  # the name is taken
    bad = post_json(cora, PURPOSES, {**data, "name": "Other", "allowed_legal_bases": ["whim"]})
    assert bad.status_code == 400 and "allowed_legal_bases" in bad.json()
    bad = post_json(cora, PURPOSES, {**data, "name": "Other", "allowed_legal_bases": []})
    assert bad.status_code == 400 and "allowed_legal_bases" in bad.json()
    assert [p["slug"] for p in sara.get(PURPOSES).json()["results"]] == ["fraud-detection"]
    detail = sara.get(PURPOSES + "fraud-detection/").json()
    assert detail["allowed_legal_bases"] == ["legal_obligation", "legitimate_interests"]
    assert sara.get(PURPOSES + "astrology/").status_code == 404


# --- exports --------------------------------------------------------------------------------------------


def test_grant_and_decision_exports(api_as, scientist, owner, compliance, purpose, clicks, pharmacy):
    grant = granted(scientist, owner, compliance, purpose, [clicks])
    special = granted(scientist, owner, compliance, purpose, [pharmacy], dpia_reference="=HYPERLINK(1)")
    cora = api_as(compliance)

    rows = csv_rows(cora.get(GRANTS + "export.csv"))
    header, lines = rows[0], rows[1:]
    assert header[:7] == ["id", "status", "requester", "team", "purpose", "legal_basis", "datasets"]
    by_id = {int(line[0]): dict(zip(header, line, strict=True)) for line in lines}
    assert set(by_id) == {grant.pk, special.pk}
    assert by_id[grant.pk]["requester"] == "sara" and by_id[grant.pk]["datasets"] == "s3://lake/clicks"
    assert by_id[grant.pk]["status"] == "approved" and by_id[grant.pk]["expiry_date"] == days(90)
    assert by_id[special.pk]["dpia_reference"] == "'=HYPERLINK(1)"  # never run by a spreadsheet
    special_only = csv_rows(cora.get(GRANTS + "export.csv?special_category=true"))
    assert [int(line[0]) for line in special_only[1:]] == [special.pk]

    rows = csv_rows(cora.get("/api/v1/access-decisions/export.csv"))
    header, lines = rows[0], rows[1:]
    assert header == [
        "request_id",
        "request_status",
        "requester",
        "purpose",
        "step",
        "dataset",
        "approver",
        "decision",
        "decided_by",
        "decided_at",
        "reason",
    ]
    assert len(lines) == 4  # an owner and a compliance decision per grant
    first = dict(zip(header, lines[0], strict=True))
    assert first["request_id"] == str(grant.pk) and first["step"] == "owner"
    assert first["dataset"] == "s3://lake/clicks" and first["decided_by"] == "olga"
    assert first["decision"] == "approved" and first["decided_at"]
    assert [line[4] for line in lines] == ["owner", "compliance", "owner", "compliance"]
    only_pharmacy = csv_rows(cora.get("/api/v1/access-decisions/export.csv?dataset=s3://lake/pharmacy"))
    assert {line[0] for line in only_pharmacy[1:]} == {str(special.pk)}
    assert cora.get("/api/v1/access-decisions/export.csv?since=yesterday").status_code == 400


# --- campaigns ------------------------------------------------------------------------------------------


def test_campaign_start_and_attest(api_as, scientist, owner, compliance, purpose, clicks, pharmacy):
    keep = granted(scientist, owner, compliance, purpose, [clicks])
    drop = granted(scientist, owner, compliance, purpose, [pharmacy], dpia_reference="DPIA-7")
    cora, olga = api_as(compliance), api_as(owner)
    data = {"name": "2026 Q4", "deadline": days(30), "revoke_unattested": True}
    assert post_json(api_as(scientist), CAMPAIGNS, data).status_code == 403
    assert post_json(cora, CAMPAIGNS, {**data, "deadline": days(-1)}).status_code == 400
    assert post_json(cora, CAMPAIGNS, {**data, "deadline": "soon"}).status_code == 400
    response = post_json(cora, CAMPAIGNS, data)
    assert response.status_code == 201, response.content
    campaign = response.json()
    assert campaign["progress"] == {"total": 2, "pending": 2, "keep": 0, "revoke": 0, "unattested": 0}
    items = {item["grant"]["id"]: item for item in campaign["items"]}
    assert set(items) == {keep.pk, drop.pk} and items[keep.pk]["owner"] == "olga"

    attest = items[keep.pk]["attest_url"]
    assert post_json(cora, attest, {"keep": True}).status_code == 403  # the dataset's owner attests
    assert post_json(olga, attest, {}).status_code == 400  # keep is required
    response = post_json(olga, attest, {"keep": True, "note": "Still ranking with it."})
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "keep" and response.json()["decided_by"] == "olga"
    assert post_json(olga, attest, {"keep": True}).status_code == 409

    revoke = items[drop.pk]["attest_url"]
    assert post_json(olga, revoke, {"keep": False}).status_code == 400  # revoking needs a note
    response = post_json(olga, revoke, {"keep": False, "note": "Project ended in October."})
    assert response.status_code == 200 and response.json()["decision"] == "revoke"
    assert AccessRequest.objects.get(pk=drop.pk).status == AccessStatus.REVOKED

    detail = olga.get(f"{CAMPAIGNS}{campaign['id']}/").json()
    assert detail["progress"] == {"total": 2, "pending": 0, "keep": 1, "revoke": 1, "unattested": 0}
    assert [c["id"] for c in olga.get(CAMPAIGNS).json()["results"]] == [campaign["id"]]
    assert (
        post_json(olga, f"{CAMPAIGNS}{campaign['id']}/items/999999/attest/", {"keep": True}).status_code
        == 404
    )


# --- impact and data use --------------------------------------------------------------------------------


def test_dataset_impact_lists_versions_production_models_and_active_grants(
    api_as, scientist, owner, compliance, purpose, ready_model
):
    clicks = Dataset.objects.get(uri="s3://lake/clicks")
    Dataset.objects.filter(pk=clicks.pk).update(pii_categories=["behaviour"], owner=owner)
    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    ModelAlias.objects.create(model=ready_model, alias="production", version=v2)
    grant = granted(scientist, owner, compliance, purpose, [clicks])
    ended = granted(scientist, owner, compliance, purpose, [clicks])
    AccessRequest.objects.filter(pk=ended.pk).update(status=AccessStatus.EXPIRED)

    response = api_as(compliance).get(f"/api/v1/datasets/{clicks.pk}/impact/")
    assert response.status_code == 200, response.content
    impact = response.json()
    assert impact["dataset"]["uri"] == "s3://lake/clicks" and impact["dataset"]["owner"] == "olga"
    assert [
        (v["model"], v["version"]["version"], v["role"], v["is_production"]) for v in impact["versions"]
    ] == [
        ("recs-ranker", "2", "training", True),
        ("recs-ranker", "1", "training", False),
    ]
    (production,) = impact["production_models"]
    assert production["name"] == "recs-ranker"
    assert (
        production["production_version"]["version"] == "2" and production["production_version_uses_dataset"]
    )
    assert [g["id"] for g in impact["active_grants"]] == [grant.pk]
    assert impact["active_grants"][0]["requester"] == "sara" and impact["active_grants"][0]["columns"] == []
    assert api_as(scientist).get("/api/v1/datasets/999999/impact/").status_code == 404


def test_version_data_use_and_model_purpose(
    api_as, scientist, owner, compliance, purpose, ready_model, make_user
):
    clicks = Dataset.objects.get(uri="s3://lake/clicks")
    Dataset.objects.filter(pk=clicks.pk).update(pii_categories=["behaviour"], owner=owner)
    version = ModelVersion.objects.get(model=ready_model, version="2")
    url = f"/api/v1/versions/{version.pk}/data-use/"
    sara = api_as(scientist)

    use = sara.get(url).json()
    assert use["purpose"] is None and use["all_covered"] is False
    assert use["uses"][0]["covered"] is False and "declares no purpose" in use["uses"][0]["reason"]

    purpose_url = "/api/v1/governance/models/recs-ranker/purpose/"
    assert sara.get(purpose_url).json() == {"model": "recs-ranker", "purpose": None}
    stranger = api_as(make_user("scientist", username="stan"))
    assert stranger.put(purpose_url, {"purpose": purpose.slug}, format="json").status_code == 403
    assert sara.put(purpose_url, {"purpose": "astrology"}, format="json").status_code == 400
    response = sara.put(purpose_url, {"purpose": purpose.slug}, format="json")
    assert response.status_code == 200 and response.json()["purpose"]["slug"] == purpose.slug
    assert response.json()["purpose"]["model_count"] == 1

    use = sara.get(url).json()
    assert use["purpose"]["slug"] == purpose.slug and use["uses"][0]["needs_grant"] is True
    assert use["uses"][0]["covered"] is False and "No grant" in use["uses"][0]["reason"]

    grant = granted(scientist, owner, compliance, purpose, [clicks])
    use = sara.get(url).json()
    assert use["all_covered"] is True and use["at"] == version.created_at.date().isoformat()
    (entry,) = use["uses"]
    assert entry["dataset"]["uri"] == "s3://lake/clicks" and entry["role"] == "training"
    assert (
        entry["covered"] is True
        and entry["grant"] == grant.pk
        and entry["grant_url"].endswith(f"{GRANTS}{grant.pk}/")
    )
    # On a day the grant did not cover:
    long_ago = sara.get(url + "?at=2020-01-01").json()
    assert long_ago["at"] == "2020-01-01" and long_ago["uses"][0]["covered"] is False
    assert sara.get(url + "?at=yesterday").status_code == 400
    assert sara.get(url + "?at=2026-13-01").status_code == 400
    assert sara.get("/api/v1/versions/999999/data-use/").status_code == 404
    model_purpose_set(actor=scientist, model=ready_model, purpose=purpose)  # idempotent
