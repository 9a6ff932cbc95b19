import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import ModelAlias, ModelVersion
from governance.models import ApplyStatus, AuditEvent, PromotionStatus
from governance.services.audit import audit_verify
from governance.services.gates import gates_evaluate
from governance.services.promotions import (
    promotion_approve,
    promotion_reject,
    promotion_request,
    promotion_rollback,
    promotion_waive_gate,
    promotion_withdraw,
)
from governance.services.work_items import work_item_create
from portal.exceptions import DomainError
from portal.roles import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def promotion(scientist, ready_model):
    version = ModelVersion.objects.get(model=ready_model, version="2")
    return promotion_request(
        actor=scientist, version=version, target="production", justification="Better AUC on the holdout set."
    )


def gates(promotion):
    return {g.gate: g for g in gates_evaluate(promotion=promotion)}


def test_request_opens_a_promotion_item_in_review(promotion, scientist):
    item = promotion.work_item
    assert item.key == "PERS-1" and item.type == "promotion" and item.status == "in_review"
    assert item.model == promotion.model and item.version == promotion.version
    assert AuditEvent.objects.filter(action="promotion.requested", target_id=str(promotion.pk)).exists()


def test_gates_are_computed_from_real_data(promotion, engineer):
    result = gates(promotion)
    assert result["definition_of_done"].status == "fail"  # verification missing, all else done
    assert "Verification script" in result["definition_of_done"].evidence
    assert result["verification"].status == "fail"
    assert result["no_regression"].status == "pass"
    assert "0.83 vs champion v1 0.8" in result["no_regression"].evidence
    assert result["no_blocking_incident"].status == "pass"
    assert result["data_access"].status == "pass"  # s3://lake/clicks holds no personal data


def test_regression_beyond_tolerance_fails_and_tolerance_lets_it_through(scientist, ready_model):
    worse = ModelVersion.objects.get(model=ready_model, version="2")
    worse.metrics.filter(key="auc").update(value=0.79)
    promotion = promotion_request(
        actor=scientist, version=worse, target="champion", justification="Try it out."
    )
    assert gates(promotion)["no_regression"].status == "fail"
    ready_model.regression_tolerance = 0.02
    ready_model.save()
    promotion.model.refresh_from_db()
    assert gates(promotion)["no_regression"].status == "pass"


def test_open_blocking_incident_fails_the_gate(promotion, engineer):
    work_item_create(
        actor=engineer,
        domain=promotion.model.domain,
        type="incident",
        title="Scores are NaN",
        priority="blocker",
        model=promotion.model,
    )
    result = gates(promotion)["no_blocking_incident"]
    assert result.status == "fail" and "PERS-2" in result.evidence


def test_personal_training_data_without_grant_fails_data_access(promotion):
    from catalog.models import Dataset

    Dataset.objects.filter(uri="s3://lake/clicks").update(pii_categories=["behaviour"])
    assert gates(promotion)["data_access"].status == "fail"


def test_failing_gates_block_approval_until_waived_with_a_reason(promotion, engineer):
    with pytest.raises(ValidationError) as exc:
        promotion_approve(actor=engineer, promotion=promotion)
    assert any("Verification" in m for m in exc.value.message_dict["gates"])
    with pytest.raises(ValidationError, match="written reason"):
        promotion_waive_gate(actor=engineer, promotion=promotion, gate="verification", reason="ok")
    with pytest.raises(ValidationError, match="not failing"):
        promotion_waive_gate(
            actor=engineer, promotion=promotion, gate="no_regression", reason="Because I can."
        )
    for gate in ("verification", "definition_of_done"):
        promotion_waive_gate(
            actor=engineer,
            promotion=promotion,
            gate=gate,
            reason="Verified by hand in notebook 12; scripts land next sprint.",
        )
    approved = promotion_approve(actor=engineer, promotion=promotion, comment="Ship it.")
    assert approved.status == PromotionStatus.APPROVED and approved.decided_by == engineer
    waived = {g["gate"]: g for g in approved.gates_at_decision}
    assert waived["verification"]["status"] == "waived"
    assert "notebook 12" in waived["verification"]["waiver_reason"]
    assert approved.work_item.status == "done"


def waive_all(promotion, engineer):
    for gate in ("verification", "definition_of_done"):
        promotion_waive_gate(
            actor=engineer, promotion=promotion, gate=gate, reason="Checked by hand for the demo."
        )


def test_four_eyes_requester_never_decides(promotion, scientist, make_user):
    engineer_requester = make_user("engineer", username="erin")
    from catalog.services import model_update

    model_update(
        actor=promotion.model.ownerships.first().user,
        model=promotion.model,
        owners=[(scientist, "technical"), (engineer_requester, "technical")],
    )
    promotion_withdraw(actor=scientist, promotion=promotion)
    own = promotion_request(
        actor=engineer_requester,
        version=promotion.version,
        target="production",
        justification="I built it, I ship it?",
    )
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        promotion_approve(actor=engineer_requester, promotion=own)
    with pytest.raises(PermissionDenied, match="Four-eyes"):
        promotion_waive_gate(
            actor=engineer_requester, promotion=own, gate="verification", reason="Trust me, it works."
        )


@pytest.mark.parametrize("role", ["scientist", "manager", "compliance", "admin"])
def test_only_engineers_decide(promotion, make_user, role):
    with pytest.raises(PermissionDenied, match="Only engineers"):
        promotion_reject(
            actor=make_user(role, username=f"x-{role}"), promotion=promotion, comment="Not convinced."
        )


def test_system_actor_cannot_decide(promotion):
    with pytest.raises(PermissionDenied):
        promotion_approve(actor=SYSTEM, promotion=promotion)


def test_reject_needs_a_reason_and_is_final(promotion, engineer, make_user):
    with pytest.raises(ValidationError, match="why"):
        promotion_reject(actor=engineer, promotion=promotion, comment="")
    rejected = promotion_reject(actor=engineer, promotion=promotion, comment="AUC gain is within noise.")
    assert rejected.status == PromotionStatus.REJECTED and rejected.work_item.status == "cancelled"
    with pytest.raises(DomainError, match="already rejected by eric"):
        promotion_approve(actor=make_user("engineer", username="lena"), promotion=promotion)


def test_duplicate_pending_request_is_refused(promotion, scientist):
    with pytest.raises(ValidationError, match="already has a pending promotion"):
        promotion_request(
            actor=scientist, version=promotion.version, target="production", justification="Asking twice."
        )


def test_approval_applies_to_the_catalog_and_audits(promotion, engineer, django_capture_on_commit_callbacks):
    waive_all(promotion, engineer)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=promotion)
    promotion.refresh_from_db()
    assert promotion.apply_status == ApplyStatus.APPLIED and promotion.applied_at
    assert ModelAlias.objects.get(model=promotion.model, alias="production").version == promotion.version
    promotion.model.refresh_from_db()
    assert promotion.model.lifecycle == "production"
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["work_item.transitioned", "promotion.approved", "promotion.applied"]
    assert audit_verify().ok


def test_rollback_requests_the_previous_version(
    promotion, engineer, scientist, make_user, django_capture_on_commit_callbacks
):
    v1 = ModelVersion.objects.get(model=promotion.model, version="1")
    first = promotion_request(actor=scientist, version=v1, target="staging", justification="First stage.")
    waive_all(first, engineer)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=first)
    waive_all(promotion, engineer)
    promotion_withdraw(actor=scientist, promotion=promotion)
    v2 = ModelVersion.objects.get(model=promotion.model, version="2")
    second = promotion_request(actor=scientist, version=v2, target="staging", justification="Second stage.")
    waive_all(second, engineer)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=second)
    rollback = promotion_rollback(actor=scientist, model=promotion.model, target="staging")
    assert rollback.is_rollback and rollback.version == v1 and rollback.previous_version == v2
    assert rollback.work_item.title.startswith("Roll back")
