"""The data-access pages over real services: a scientist asks through the form, the dataset owner and then
compliance decide on the request page (nobody on their own request, compliance only after every owner),
grants are revoked with a reason, campaigns attested, and compliance has its dashboard. The dataset page
shows what a dataset touches and the version page whether its training data was covered."""

import datetime
import re

import pytest
from django.utils import timezone

from catalog.models import ModelAlias, RegisteredModel
from governance.models import AccessRequest, AccessStatus, Attestation, Campaign, CampaignItem, Purpose
from governance.services.data_access import (
    access_request_create,
    access_request_decide,
    model_purpose_set,
)
from tests.factories import ModelVersionFactory, RegisteredModelFactory, link_dataset
from tests.fragments import get_assembled

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
NEW = "/access/new/"


def days(n: int) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def html(response) -> str:
    return response.content.decode()


def detail(pk: int) -> str:
    return f"/access/{pk}/"


def form_data(purpose, chosen, **overrides):
    data = {
        "datasets": [str(d.pk) for d in chosen],
        "purpose": str(purpose.pk),
        "legal_basis": "contract",
        "justification": "Train the home-page ranker on last quarter's clicks.",
        "start_date": days(0),
        "expiry_date": days(90),
        "dpia_reference": "",
        "intent": "submit",
    }
    data.update(overrides)
    return data


def ask(actor, purpose, datasets, **overrides):
    kwargs = dict(
        actor=actor,
        datasets=[(d, []) for d in datasets],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the home-page ranker.",
        start_date=TODAY,
        expiry_date=TODAY + datetime.timedelta(days=90),
    )
    kwargs.update(overrides)
    return access_request_create(**kwargs)


@pytest.fixture
def submitted(scientist, purpose, clicks):
    return ask(scientist, purpose, [clicks])


@pytest.fixture
def granted(submitted, owner, compliance):
    access_request_decide(actor=owner, request=submitted, approve=True)
    return access_request_decide(actor=compliance, request=submitted, approve=True)


def approve_forms(page: str) -> list[str]:
    return re.findall(r'action="(/access/\d+/approve/)"', page)


# --- asking ---------------------------------------------------------------------------------------------


def test_the_form_lists_datasets_marks_dpia_and_prefills_from_the_dataset_page(
    client, scientist, purpose, clicks, pharmacy
):
    client.force_login(scientist)
    response = client.get(f"{NEW}?dataset={pharmacy.pk}")
    assert response.status_code == 200
    page = html(response)
    assert "clicks" in page and "pharmacy" in page
    assert "DPIA required" in page  # pharmacy is special-category and restricted
    assert f'value="{pharmacy.pk}" id="ds-{pharmacy.pk}" checked' in page
    assert f'value="{clicks.pk}" id="ds-{clicks.pk}">' in page
    # The purpose names the legal bases it may rest on.
    assert "Personalised recommendations — Contract (b), Legitimate interests (f)" in page


def test_scientist_submits_a_request_through_the_form(client, scientist, purpose, clicks):
    client.force_login(scientist)
    data = form_data(purpose, [clicks], **{f"columns_{clicks.pk}": "user_id, clicked_at item_id"})
    response = client.post(NEW, data)
    request = AccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(request.pk)
    assert request.status == AccessStatus.SUBMITTED and request.requester == scientist
    assert list(request.dataset_entries.values_list("columns", flat=True)) == [
        ["clicked_at", "item_id", "user_id"]
    ]
    page = html(client.get(response["Location"]))
    assert "submitted: each dataset" in page  # the flash message
    assert "clicked_at" in page and "Personalised recommendations" in page
    assert "Step 1 · Data owners" in page and "Olga Berg" in page


def test_save_as_draft_then_submit(client, scientist, purpose, clicks):
    client.force_login(scientist)
    response = client.post(NEW, form_data(purpose, [clicks], intent="draft"))
    request = AccessRequest.objects.get()
    assert response.status_code == 302 and request.status == AccessStatus.DRAFT
    page = html(client.get(detail(request.pk)))
    assert f'action="/access/{request.pk}/submit/"' in page
    assert client.post(f"/access/{request.pk}/submit/").status_code == 302
    request.refresh_from_db()
    assert request.status == AccessStatus.SUBMITTED


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"expiry_date": days(-1)}, "expiry_date", "The expiry date must be in the future."),
        ({"legal_basis": ""}, "legal_basis", "Choose the legal basis (GDPR Art. 6) the use rests on."),
        ({"legal_basis": "consent"}, "legal_basis", "Personalised recommendations may rest only on"),
        ({"datasets": []}, "datasets", "Choose at least one dataset."),
        ({"justification": "short"}, "justification", "Say why you need this data (10+ characters)."),
    ],
)
def test_bad_input_re_renders_with_400_and_field_messages(
    client, scientist, purpose, clicks, overrides, field, message
):
    client.force_login(scientist)
    response = client.post(NEW, form_data(purpose, [clicks], **overrides))
    assert response.status_code == 400
    page = html(response)
    assert message in page
    assert f'{field}_errors"' in page
    assert "The request was not saved" in page
    assert not AccessRequest.objects.exists()


def test_dpia_is_required_for_special_category_data(client, scientist, purpose, clicks, pharmacy):
    client.force_login(scientist)
    response = client.post(NEW, form_data(purpose, [clicks, pharmacy]))
    assert response.status_code == 400
    page = html(response)
    assert "pharmacy is special-category or restricted: give the DPIA reference." in page
    # The choices survive the round trip.
    assert f'value="{pharmacy.pk}" id="ds-{pharmacy.pk}" checked' in page
    # With a DPIA but another problem, the note next to the field names the dataset that needs it.
    response = client.post(NEW, form_data(purpose, [pharmacy], dpia_reference="DPIA-1", justification=""))
    assert response.status_code == 400
    assert "<strong>A DPIA is required:</strong> pharmacy is special-category" in html(response)
    response = client.post(NEW, form_data(purpose, [clicks, pharmacy], dpia_reference="DPIA-2026-07"))
    assert response.status_code == 302
    assert AccessRequest.objects.get().dpia_reference == "DPIA-2026-07"


# --- deciding -------------------------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(client, scientist, submitted):
    client.force_login(scientist)
    page = html(client.get(detail(submitted.pk)))
    assert approve_forms(page) == [] and ">Approve</button>" not in page
    assert "Nobody approves their own access request." in page
    assert f'action="/access/{submitted.pk}/withdraw/"' in page  # the requester may withdraw
    response = client.post(f"/access/{submitted.pk}/approve/", {"reason": ""})
    assert response.status_code == 403
    assert "Nobody approves their own access request." in html(response)
    submitted.refresh_from_db()
    assert submitted.status == AccessStatus.SUBMITTED


def test_compliance_waits_for_every_data_owner(client, compliance, submitted):
    client.force_login(compliance)
    page = html(client.get(detail(submitted.pk)))
    assert approve_forms(page) == []
    assert "Compliance approves after every data owner has approved" in page
    response = client.post(f"/access/{submitted.pk}/approve/")
    assert response.status_code == 409
    assert "Compliance approves after every data owner has approved" in html(response)


def test_owner_approves_then_compliance_approves_and_access_is_granted(client, owner, compliance, submitted):
    client.force_login(owner)
    page = html(client.get(detail(submitted.pk)))
    assert approve_forms(page) == [f"/access/{submitted.pk}/approve/"]
    assert "data owner step" in page and "Yours to decide" in page
    response = client.post(f"/access/{submitted.pk}/approve/", {"reason": "Fine for ranking."})
    assert response.status_code == 302 and response["Location"] == detail(submitted.pk)
    submitted.refresh_from_db()
    assert submitted.status == AccessStatus.IN_REVIEW

    client.force_login(compliance)
    page = html(client.get(detail(submitted.pk)))
    assert approve_forms(page) == [f"/access/{submitted.pk}/approve/"]
    response = client.post(f"/access/{submitted.pk}/approve/", {"reason": ""})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == AccessStatus.APPROVED
    page = html(client.get(detail(submitted.pk)))
    assert "Granted" in page and "Fine for ranking." in page
    assert "approved for compliance" in page and "granted access" in page  # the audit trail
    assert approve_forms(page) == []


def test_a_rejection_needs_a_reason(client, owner, submitted):
    client.force_login(owner)
    response = client.post(f"/access/{submitted.pk}/reject/", {"reason": ""})
    assert response.status_code == 400
    assert "A rejection needs a reason (10+ characters)." in html(response)
    assert 'id="reject-errors"' in html(response)
    response = client.post(f"/access/{submitted.pk}/reject/", {"reason": "Clicks are out of scope."})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == AccessStatus.REJECTED


def test_only_the_dataset_owner_decides_the_owner_step(client, make_user, submitted):
    client.force_login(make_user("engineer", username="ed"))
    page = html(client.get(detail(submitted.pk)))
    assert "Only the dataset&#x27;s owner decides this step." in page
    assert client.post(f"/access/{submitted.pk}/approve/").status_code == 403


def test_request_lists_by_tab_and_filter(client, scientist, owner, submitted, purpose, clicks):
    client.force_login(owner)
    page = html(client.get("/access/?tab=awaiting"))
    assert f'href="{detail(submitted.pk)}"' in page and "Your decision" in page
    assert "No request matches" not in page
    page = html(client.get("/access/"))  # owner's own requests: none
    assert "You have not asked for data access yet" in page
    client.force_login(scientist)
    page = html(client.get(f"/access/?tab=all&status=submitted&dataset={clicks.pk}&purpose={purpose.slug}"))
    assert f'href="{detail(submitted.pk)}"' in page
    page = html(client.get("/access/?tab=all&status=approved"))
    assert "No request matches these filters" in page
    response = client.get("/access/?tab=nope")
    assert response.status_code == 400 and "Unknown tab" in html(response)
    response = client.get("/access/?tab=all&dataset=s3://nowhere")
    assert response.status_code == 400 and "Unknown dataset" in html(response)


def test_withdraw(client, scientist, submitted):
    client.force_login(scientist)
    assert client.post(f"/access/{submitted.pk}/withdraw/", {"reason": "Not needed."}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == AccessStatus.WITHDRAWN


# --- grants, purposes, campaigns ------------------------------------------------------------------------


def test_grant_list_filters_and_revoke_needs_a_reason(client, scientist, compliance, granted, pharmacy):
    client.force_login(compliance)
    page = html(client.get("/access/grants/"))
    assert f'action="/access/{granted.pk}/revoke/"' in page and "Ends in" not in page
    page = html(client.get("/access/grants/?expiring_within_days=30"))
    assert "No grant matches these filters" in page
    page = html(client.get("/access/grants/?special_category=true"))
    assert "No grant matches these filters" in page
    page = html(client.get("/access/grants/?special_category=false&status=approved"))
    assert f'href="{detail(granted.pk)}"' in page
    assert '/api/v1/grants/export.csv?special_category=false&amp;status=approved"' in page

    response = client.post(f"/access/{granted.pk}/revoke/", {"reason": "", "next": "/access/grants/"})
    assert response.status_code == 400
    assert "A revocation needs a reason (10+ characters)." in html(response)
    response = client.post(
        f"/access/{granted.pk}/revoke/", {"reason": "The project was stopped.", "next": "/access/grants/"}
    )
    assert response.status_code == 302 and response["Location"] == "/access/grants/"
    granted.refresh_from_db()
    assert granted.status == AccessStatus.REVOKED and granted.end_reason == "The project was stopped."
    # An outside address is never followed.
    assert "Revoked" in html(client.get("/access/grants/"))


def test_only_compliance_revokes(client, scientist, granted):
    client.force_login(scientist)
    assert "/revoke/" not in html(client.get("/access/grants/"))
    response = client.post(f"/access/{granted.pk}/revoke/", {"reason": "I want it gone now."})
    assert response.status_code == 403 and "Only compliance revokes grants." in html(response)


def test_revoke_never_redirects_off_site(client, compliance, granted):
    client.force_login(compliance)
    response = client.post(
        f"/access/{granted.pk}/revoke/",
        {"reason": "The project was stopped.", "next": "https://evil.example"},
    )
    assert response.status_code == 302 and response["Location"] == detail(granted.pk)


def test_purposes_are_listed_and_compliance_adds_them(client, scientist, compliance, purpose):
    client.force_login(scientist)
    page = html(client.get("/access/purposes/"))
    assert "Personalised recommendations" in page and "Add a purpose" not in page
    response = client.post(
        "/access/purposes/", {"name": "Fraud", "description": "x", "allowed_legal_bases": []}
    )
    assert response.status_code in (400, 403)
    client.force_login(compliance)
    response = client.post("/access/purposes/", {"name": "Fraud detection", "description": "Stop fraud."})
    assert response.status_code == 400 and "Choose at least one legal basis." in html(response)
    response = client.post(
        "/access/purposes/",
        {
            "name": "Fraud detection",
            "description": "Stop fraud.",
            "allowed_legal_bases": ["legal_obligation"],
        },
    )
    assert response.status_code == 302
    assert Purpose.objects.get(slug="fraud-detection").allowed_legal_bases == ["legal_obligation"]


def test_a_scientist_cannot_add_a_purpose(client, scientist):
    client.force_login(scientist)
    data = {"name": "Fraud detection", "description": "Stop fraud.", "allowed_legal_bases": ["consent"]}
    response = client.post("/access/purposes/", data)
    assert response.status_code == 403
    assert "Only compliance maintains the purpose registry." in html(response)


def test_campaign_start_and_owner_attests(client, owner, compliance, scientist, granted):
    client.force_login(scientist)
    assert "Start a campaign" not in html(client.get("/access/campaigns/"))
    client.force_login(compliance)
    response = client.post("/access/campaigns/", {"name": "2026 Q3", "deadline": days(-1)})
    assert response.status_code == 400 and "The deadline must be in the future." in html(response)
    response = client.post("/access/campaigns/", {"name": "2026 Q3", "deadline": days(14)})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/access/campaigns/{campaign.pk}/"
    item = CampaignItem.objects.get()
    page = html(client.get(f"/access/campaigns/{campaign.pk}/"))
    assert "0/1 attested" in page and f'action="/access/campaigns/{campaign.pk}/items/' not in page

    client.force_login(owner)
    page = html(client.get(f"/access/campaigns/{campaign.pk}/"))
    attest = f"/access/campaigns/{campaign.pk}/items/{item.pk}/attest/"
    assert f'action="{attest}"' in page and "1 waiting for you" in page
    response = client.post(attest, {"decision": "revoke", "note": ""})
    assert response.status_code == 400 and "Say why the grant should end" in html(response)
    response = client.post(attest, {"decision": "keep", "note": "Still ranking."})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.decision == Attestation.KEEP and item.decided_by == owner
    page = html(client.get(f"/access/campaigns/{campaign.pk}/"))
    assert "1/1 attested" in page and "Still ranking." in page
    assert client.post(attest, {"decision": "keep"}).status_code == 409  # already attested

    client.force_login(scientist)
    assert client.post(attest, {"decision": "keep"}).status_code == 403
    assert "100%" in html(client.get("/access/campaigns/"))


# --- compliance dashboard -------------------------------------------------------------------------------


def test_compliance_dashboard_is_for_compliance(client, scientist, compliance, admin_user, purpose, clicks):
    ask(scientist, purpose, [clicks])
    client.force_login(scientist)
    response = client.get("/compliance/")
    assert response.status_code == 403
    assert "for compliance officers and admins" in html(response)
    assert 'href="/compliance/"' not in html(client.get("/access/"))  # no nav link either
    part = client.get("/compliance/production/", headers={"X-Fragment": "1"})  # its card, loaded later
    assert part.status_code == 403 and "for compliance officers and admins" in html(part)

    client.force_login(compliance)
    response = client.get("/compliance/")
    assert response.status_code == 200
    page = html(response)
    assert 'href="/compliance/"' in page
    for heading in (
        "Pending requests by age",
        "Grants ending within 30 days",
        "Active special-category grants",
        "Re-certification",
        "Production models trained on personal data",
    ):
        assert heading in page
    assert "/api/v1/grants/export.csv" in page and "/api/v1/access-decisions/export.csv" in page
    assert 'data-chart="pending-age-chart"' in page  # the submitted request is pending
    client.force_login(admin_user)
    assert client.get("/compliance/").status_code == 200


def test_dashboard_shows_production_models_and_their_coverage(
    client, scientist, owner, compliance, purpose, clicks, domain
):
    model = RegisteredModelFactory(name="home-ranker", domain=domain, owners=[scientist])
    version = ModelVersionFactory(model=model, version="1")
    link_dataset(version, clicks, "training")
    ModelAlias.objects.create(model=model, alias="production", version=version)
    RegisteredModel.objects.filter(pk=model.pk).update(lifecycle="production")
    model_purpose_set(actor=scientist, model=model, purpose=purpose)
    client.force_login(compliance)
    page = html(get_assembled(client, "/compliance/"))
    assert "home-ranker" in page and "✗ Not covered" in page
    request = ask(scientist, purpose, [clicks], start_date=TODAY - datetime.timedelta(days=1))
    access_request_decide(actor=owner, request=request, approve=True)
    access_request_decide(actor=compliance, request=request, approve=True)
    page = html(get_assembled(client, "/compliance/"))
    assert "✓ Covered" in page and "✗ Not covered" not in page


# --- dataset and version pages --------------------------------------------------------------------------


def test_dataset_page_shows_the_impact_and_version_page_the_data_use(
    client, manager, scientist, owner, compliance, purpose, clicks, domain
):
    model = RegisteredModelFactory(name="home-ranker", domain=domain, owners=[scientist])
    version = ModelVersionFactory(model=model, version="1", created_at=timezone.now())
    link_dataset(version, clicks, "training")
    ModelAlias.objects.create(model=model, alias="production", version=version)
    client.force_login(manager)
    page = html(client.get(f"/datasets/{clicks.pk}/"))
    assert "Impact: erasure and breach" in page
    assert "Nobody holds an active grant to this dataset." in page
    assert "Serving a version trained on it" in page
    assert f'href="/access/new/?dataset={clicks.pk}"' in page
    page = html(client.get("/models/home-ranker/versions/1/"))
    assert "Training data use" in page and "the model declares no purpose" in page
    assert "✗ Not covered" in page

    model_purpose_set(actor=scientist, model=model, purpose=purpose)
    request = ask(scientist, purpose, [clicks], start_date=TODAY - datetime.timedelta(days=1))
    access_request_decide(actor=owner, request=request, approve=True)
    access_request_decide(actor=compliance, request=request, approve=True)
    page = html(client.get(f"/datasets/{clicks.pk}/"))
    assert f'href="/access/{request.pk}/"' in page and "Personalised recommendations" in page
    page = html(client.get("/models/home-ranker/versions/1/"))
    assert "✓ Every training dataset covered" in page and f'href="/access/{request.pk}/"' in page


def test_unknown_objects_are_404(client, scientist):
    client.force_login(scientist)
    for url in ("/access/999/", "/access/campaigns/999/", "/alerts/999/", "/verification/runs/999/"):
        assert client.get(url).status_code == 404, url


def test_every_problem_is_reported_at_once(client, scientist, purpose, pharmacy):
    client.force_login(scientist)
    data = form_data(purpose, [pharmacy], legal_basis="consent", expiry_date=days(-3), justification="")
    response = client.post(NEW, data)
    assert response.status_code == 400
    page = html(response)
    for message in (
        "Personalised recommendations may rest only on: Contract (b), Legitimate interests (f).",
        "The expiry date must be in the future.",
        "give the DPIA reference",
        "Say why you need this data (10+ characters).",
    ):
        assert message in page
    response = client.post(NEW, {**form_data(purpose, [pharmacy]), "purpose": ""})
    assert response.status_code == 400 and "Choose the purpose." in html(response)
