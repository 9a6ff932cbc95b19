import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.models import ModelVersion
from governance.models import AccessStatus, Attestation, AuditEvent, CampaignItem, WorkItem
from governance.services.data_access import (
    access_request_create,
    access_request_decide,
    access_request_withdraw,
    campaign_attest,
    campaign_start,
    campaigns_close_due,
    grant_revoke,
    grants_expire,
    grants_remind,
    model_purpose_set,
    purpose_create,
    version_data_uses,
)
from portal.exceptions import DomainError
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def days(n):
    return TODAY + datetime.timedelta(days=n)


def ask(actor, purpose, datasets, **overrides):
    kwargs = dict(
        actor=actor,
        datasets=[(d, []) for d in datasets],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the home-page ranker.",
        start_date=TODAY,
        expiry_date=days(90),
    )
    kwargs.update(overrides)
    return access_request_create(**kwargs)


def grant(scientist, owner, compliance, purpose, datasets, **overrides):
    request = ask(scientist, purpose, datasets, **overrides)
    access_request_decide(actor=owner, request=request, approve=True)
    return access_request_decide(actor=compliance, request=request, approve=True)


def test_owner_then_compliance_grants_and_audits(scientist, owner, compliance, purpose, clicks):
    request = ask(scientist, purpose, [clicks])
    assert request.status == AccessStatus.SUBMITTED
    assert sorted(s.kind for s in request.steps.all()) == ["compliance", "owner"]
    with pytest.raises(DomainError, match="after every data owner"):
        access_request_decide(actor=compliance, request=request, approve=True)
    request = access_request_decide(actor=owner, request=request, approve=True)
    assert request.status == AccessStatus.IN_REVIEW
    request = access_request_decide(actor=compliance, request=request, approve=True)
    assert request.status == AccessStatus.APPROVED and request.decided_at
    actions = list(
        AuditEvent.objects.filter(action__startswith="access.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "access.requested",
        "access.submitted",
        "access.owner_approved",
        "access.compliance_approved",
        "access.granted",
    ]
    assert request.work_item.type == "data_access" and request.work_item.status == "done"


def test_nobody_approves_their_own_request(owner, compliance, purpose, clicks, make_user):
    own = ask(owner, purpose, [clicks])  # the owner asks for their own dataset
    step = own.steps.get(kind="owner")
    assert step.approver is None  # compliance stands in for the owner
    with pytest.raises(PermissionDenied, match="own access request"):
        access_request_decide(actor=owner, request=own, approve=True)
    officer = make_user("compliance", username="cleo")
    cora_is_requester = ask(compliance, purpose, [clicks])
    access_request_decide(actor=owner, request=cora_is_requester, approve=True)
    with pytest.raises(PermissionDenied, match="own access request"):
        access_request_decide(actor=compliance, request=cora_is_requester, approve=True)
    assert access_request_decide(actor=officer, request=cora_is_requester, approve=True).status == "approved"


def test_only_the_owner_decides_the_owner_step(scientist, purpose, clicks, make_user):
    request = ask(scientist, purpose, [clicks])
    with pytest.raises(PermissionDenied, match="dataset's owner"):
        access_request_decide(actor=make_user("engineer", username="ed"), request=request, approve=True)


def test_non_personal_data_needs_no_compliance_step(scientist, owner, purpose, domain):
    weather = DatasetFactory(name="weather", owner=owner, domain=domain, pii_categories=[])
    request = ask(scientist, purpose, [weather])
    assert [s.kind for s in request.steps.all()] == ["owner"]
    assert access_request_decide(actor=owner, request=request, approve=True).status == AccessStatus.APPROVED


def test_any_rejection_rejects_with_a_reason(scientist, owner, purpose, clicks, pharmacy):
    request = ask(scientist, purpose, [clicks, pharmacy], dpia_reference="DPIA-2026-07")
    with pytest.raises(ValidationError, match="reason"):
        access_request_decide(actor=owner, request=request, approve=False)
    request = access_request_decide(
        actor=owner, request=request, approve=False, reason="Pharmacy data is out of scope."
    )
    assert request.status == AccessStatus.REJECTED
    assert request.work_item.status == "cancelled"
    with pytest.raises(DomainError):
        access_request_decide(actor=owner, request=request, approve=True)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"expiry_date": days(-1)}, "expiry_date"),
        ({"expiry_date": days(400)}, "expiry_date"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"legal_basis": "consent"}, "legal_basis"),  # not allowed for this purpose
        ({"justification": "pls"}, "justification"),
        ({"datasets": []}, "datasets"),
    ],
)
def test_bad_requests_are_refused_with_field_messages(scientist, purpose, clicks, overrides, field):
    datasets = overrides.pop("datasets", [clicks])
    with pytest.raises(ValidationError) as exc:
        ask(scientist, purpose, datasets, **overrides)
    assert field in exc.value.message_dict


def test_special_category_needs_a_dpia(scientist, purpose, pharmacy):
    with pytest.raises(ValidationError) as exc:
        ask(scientist, purpose, [pharmacy])
    assert "DPIA" in exc.value.message_dict["dpia_reference"][0]


def test_withdraw(scientist, purpose, clicks):
    request = access_request_withdraw(actor=scientist, request=ask(scientist, purpose, [clicks]))
    assert request.status == AccessStatus.WITHDRAWN


def test_expiry_job_expires_exactly_the_lapsed_grants(scientist, owner, compliance, purpose, clicks):
    lapsed = grant(scientist, owner, compliance, purpose, [clicks], expiry_date=days(5))
    lasting = grant(scientist, owner, compliance, purpose, [clicks], expiry_date=days(30))
    assert grants_expire(today=days(5)) == []  # the expiry day itself is still covered
    assert grants_expire(today=days(6)) == [lapsed.pk]
    lapsed.refresh_from_db()
    lasting.refresh_from_db()
    assert (lapsed.status, lasting.status) == (AccessStatus.EXPIRED, AccessStatus.APPROVED)
    assert grants_expire(today=days(6)) == []
    assert AuditEvent.objects.filter(action="access.expired", target_id=str(lapsed.pk)).count() == 1


def test_reminders_go_once_to_requester_and_owner(scientist, owner, compliance, purpose, clicks):
    grant(scientist, owner, compliance, purpose, [clicks], expiry_date=days(10))
    grant(scientist, owner, compliance, purpose, [clicks], expiry_date=days(60))
    assert grants_remind(today=TODAY) == 1
    assert sorted(mail.outbox[0].to) == sorted([scientist.email, owner.email])
    assert grants_remind(today=TODAY) == 0


def test_compliance_revokes_with_a_reason(scientist, owner, compliance, purpose, clicks):
    granted = grant(scientist, owner, compliance, purpose, [clicks])
    with pytest.raises(PermissionDenied):
        grant_revoke(actor=owner, request=granted, reason="Not needed any more.")
    with pytest.raises(ValidationError):
        grant_revoke(actor=compliance, request=granted, reason="")
    revoked = grant_revoke(
        actor=compliance, request=granted, reason="Consent withdrawn by the data subjects."
    )
    assert revoked.status == AccessStatus.REVOKED and revoked.ended_by == compliance


def test_campaign_deadline_flags_and_revokes_unattested(
    scientist, owner, compliance, purpose, clicks, domain
):
    kept = grant(scientist, owner, compliance, purpose, [clicks])
    missed = grant(scientist, owner, compliance, purpose, [clicks])
    campaign = campaign_start(actor=compliance, name="2026 Q4", deadline=days(7), revoke_unattested=True)
    assert campaign.items.count() == 2
    item = CampaignItem.objects.get(campaign=campaign, grant=kept)
    with pytest.raises(PermissionDenied):
        campaign_attest(actor=scientist, item=item, keep=True)
    campaign_attest(actor=owner, item=item, keep=True)
    assert campaigns_close_due(today=days(7)) == []
    assert campaigns_close_due(today=days(8)) == [campaign.pk]
    kept.refresh_from_db()
    missed.refresh_from_db()
    assert kept.status == AccessStatus.APPROVED and missed.status == AccessStatus.REVOKED
    assert CampaignItem.objects.get(campaign=campaign, grant=missed).decision == Attestation.UNATTESTED


def test_owner_revoking_in_a_campaign_ends_the_grant(scientist, owner, compliance, purpose, clicks):
    granted = grant(scientist, owner, compliance, purpose, [clicks])
    campaign = campaign_start(actor=compliance, name="2026 Q4", deadline=days(7))
    item = campaign.items.get()
    campaign_attest(actor=owner, item=item, keep=False, note="The project ended in October.")
    granted.refresh_from_db()
    assert granted.status == AccessStatus.REVOKED


def test_version_check_and_promotion_gate_use_grants(
    scientist, owner, compliance, purpose, ready_model, engineer
):
    from catalog.models import Dataset
    from governance.services.gates import data_access_evidence
    from governance.services.promotions import promotion_request

    clicks = Dataset.objects.get(uri="s3://lake/clicks")
    Dataset.objects.filter(pk=clicks.pk).update(pii_categories=["behaviour"], owner=owner)
    version = ModelVersion.objects.get(model=ready_model, version="2")
    ModelVersion.objects.filter(pk=version.pk).update(created_at=timezone.now())
    version.refresh_from_db()
    promotion = promotion_request(
        actor=scientist, version=version, target="production", justification="Ready for production traffic."
    )

    use = version_data_uses(version=version)[0]
    assert not use.covered and "declares no purpose" in use.reason
    model_purpose_set(actor=scientist, model=ready_model, purpose=purpose)
    use = version_data_uses(version=version)[0]
    assert not use.covered and "No grant" in use.reason
    assert data_access_evidence(promotion)[0] is False

    other = purpose_create(
        actor=compliance,
        name="Fraud detection",
        description="Stop card fraud.",
        allowed_legal_bases=["legal_obligation"],
    )
    grant(scientist, owner, compliance, other, [clicks], legal_basis="legal_obligation")
    assert "not 'Personalised recommendations'" in version_data_uses(version=version)[0].reason

    granted = grant(scientist, owner, compliance, purpose, [clicks])
    use = version_data_uses(version=version)[0]
    assert use.covered and use.grant == granted
    assert data_access_evidence(promotion)[0] is True

    grant_revoke(actor=compliance, request=granted, reason="Legal asked us to stop using clicks.")
    assert data_access_evidence(promotion)[0] is False
    # At training time the grant was valid: the version page still shows the use as covered then.
    assert version_data_uses(version=version, at=TODAY - datetime.timedelta(days=0))[0].covered is False


def test_lapsed_grant_behind_a_production_model_opens_an_incident(
    scientist, owner, compliance, purpose, ready_model
):
    from catalog.models import Dataset, RegisteredModel

    clicks = Dataset.objects.get(uri="s3://lake/clicks")
    Dataset.objects.filter(pk=clicks.pk).update(pii_categories=["behaviour"], owner=owner)
    from catalog.models import ModelAlias, ModelVersion

    RegisteredModel.objects.filter(pk=ready_model.pk).update(lifecycle="production")
    ModelAlias.objects.create(
        model=ready_model,
        alias="production",
        version=ModelVersion.objects.get(model=ready_model, version="2"),
    )
    granted = grant(scientist, owner, compliance, purpose, [clicks])
    grant_revoke(actor=compliance, request=granted, reason="Consent withdrawn by the data subjects.")
    incident = WorkItem.objects.get(model=ready_model, type="incident")
    assert incident.priority == "critical" and f"#{granted.pk}" in incident.title
    assert incident.assignee is not None
