"""`manage.py seed_demo` also seeds governance: what a new user sees on the governance pages."""

import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import ModelAlias, RegisteredModel
from governance.models import (
    AccessRequest,
    AccessStatus,
    Alert,
    AlertCondition,
    AlertState,
    AuditEvent,
    Campaign,
    Comment,
    DodAttestation,
    GateWaiver,
    LinkKind,
    ModelPurpose,
    PromotionRequest,
    PromotionStatus,
    RunStatus,
    StepKind,
    StepStatus,
    VerificationRun,
    WorkItem,
    WorkItemLink,
    WorkItemType,
)
from governance.services.audit import audit_verify
from governance.services.data_access import version_data_uses
from governance.services.dod import dod_evaluate, dod_queryset
from governance.workflows import CLOSED
from portal.roles import Role, user_roles

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err, **options)
    assert err.getvalue() == ""
    return out.getvalue()


def governance_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_app_config("governance").get_models()}


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """Seeded once per class (catalog and governance, ~20 s), rolled back after it; each test runs in a
    savepoint inside (pytest-django's `db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


class TestGovernanceDemo:
    def test_progress_names_each_stage_with_counts(self, seeded):
        for stage in (
            "Purposes ..... 6",
            "Data access .. 16 requests",
            "re-certification: 6/18 grants re-certified",
            "Verification . 6 scripts",
            "Promotions ... 6: 2 awaiting decision, 2 approved, 1 rejected, 1 withdrawn; 1 gate waived",
            "Work items ... 15 by hand",
            "Monitoring ...",
            "Governance done:",
        ):
            assert stage in seeded, stage

    def test_work_items_of_every_type_in_several_states(self, seeded):
        today = timezone.localdate()
        items = WorkItem.objects.all()
        assert set(items.values_list("type", flat=True)) == set(WorkItemType.values)
        assert {"open", "in_progress", "blocked", "in_review", "done", "cancelled"} <= set(
            items.values_list("status", flat=True)
        )
        assert set(items.values_list("domain__key", flat=True)) == {"PERS", "DEMAND", "RISK", "MKT", "SUPPLY"}
        overdue = items.filter(due_date__lt=today).exclude(status__in=CLOSED)
        assert overdue.count() >= 3 and all(i.sla_state == "breached" for i in overdue)
        assert items.filter(assignee__isnull=False).count() >= 10
        assert items.filter(labels__isnull=False).distinct().count() >= 10
        mentioned = Comment.objects.filter(mentions__isnull=False).distinct()
        assert mentioned.count() >= 5
        for comment in mentioned:
            for user in comment.mentions.all():
                assert f"@{user.username}" in comment.body
                assert comment.item.watchers.filter(pk=user.pk).exists()
        blocks = WorkItemLink.objects.filter(kind=LinkKind.BLOCKS).select_related("source", "target")
        assert any(link.source.type == "incident" and link.target.status == "blocked" for link in blocks), (
            "the lapsed-data incident blocks the retrain"
        )
        # Items of requests follow their request.
        assert WorkItem.objects.filter(
            type="promotion", promotion__status="pending", status="in_review"
        ).exists()
        assert WorkItem.objects.filter(
            type="data_access", access_request__status="approved", status="done"
        ).exists()

    def test_definition_of_done_ranges_from_complete_to_poor(self, seeded):
        reports = {m.name: dod_evaluate(model=m) for m in dod_queryset(RegisteredModel.objects.all())}
        assert sum(r.complete for r in reports.values()) >= 3
        assert sum(r.score < 0.5 for r in reports.values()) >= 3
        assert len({r.passed for r in reports.values()}) >= 4
        assert reports["churn-predictor"].complete
        assert DodAttestation.objects.filter(item="scalability_reviewed").count() >= 5

    def test_promotions_in_every_outcome_decided_by_another_engineer(self, seeded):
        promotions = PromotionRequest.objects.select_related("model", "version", "requested_by", "decided_by")
        by_status = {s: [p for p in promotions if p.status == s] for s in PromotionStatus.values}
        assert len(by_status["pending"]) >= 2
        assert by_status["rejected"] and all(len(p.decision_comment) >= 10 for p in by_status["rejected"])
        assert by_status["withdrawn"]
        approved = by_status["approved"]
        assert len(approved) >= 2 and all(p.apply_status == "applied" and p.applied_at for p in approved)
        for promotion in approved:
            production = ModelAlias.objects.get(model=promotion.model, alias="production")
            assert production.version_id == promotion.version_id
            assert RegisteredModel.objects.get(pk=promotion.model_id).lifecycle == "production"
        for promotion in promotions:
            assert promotion.model.ownerships.filter(user=promotion.requested_by).exists()
            if promotion.decided_by_id:
                assert promotion.decided_by_id != promotion.requested_by_id
                assert Role.ENGINEER in user_roles(promotion.decided_by)
        waiver = GateWaiver.objects.select_related("promotion").get()
        assert len(waiver.reason) >= 10 and waiver.promotion.status == "approved"
        gates = {g["gate"]: g for g in waiver.promotion.gates_at_decision}
        assert (
            gates[waiver.gate]["status"] == "waived" and gates[waiver.gate]["waiver_reason"] == waiver.reason
        )

    def test_access_requests_in_every_state_and_a_running_campaign(self, seeded):
        today = timezone.localdate()
        requests = AccessRequest.objects.all()
        assert set(AccessStatus.values) <= set(requests.values_list("status", flat=True))
        in_review = requests.get(status=AccessStatus.IN_REVIEW)
        steps = {s.kind: s for s in in_review.steps.all()}
        assert steps[StepKind.OWNER].status == StepStatus.APPROVED
        assert steps[StepKind.COMPLIANCE].status == StepStatus.PENDING
        assert requests.filter(
            status=AccessStatus.APPROVED, expiry_date__lte=today + timedelta(days=30)
        ).exists(), "a grant expiring within 30 days"
        assert requests.get(status=AccessStatus.REVOKED).end_reason
        assert requests.get(status=AccessStatus.EXPIRED).ended_at
        assert len(requests.get(status=AccessStatus.REJECTED).steps.get(status="rejected").reason) >= 10
        # Four eyes: no requester decided a step of their own request.
        for request in requests.prefetch_related("steps"):
            assert all(s.decided_by_id != request.requester_id for s in request.steps.all())
        assert ModelPurpose.objects.count() >= 20
        campaign = Campaign.objects.get()
        assert campaign.closed_at is None and campaign.deadline > today
        decisions = list(campaign.items.values_list("decision", flat=True))
        assert "keep" in decisions and "pending" in decisions

    def test_a_production_model_lost_access_to_its_training_data(self, seeded):
        today = timezone.localdate()
        uncovered = {}
        for alias in ModelAlias.objects.filter(alias="production").select_related("model", "version"):
            uses = [
                u
                for u in version_data_uses(version=alias.version, at=today)
                if u.needs_grant and not u.covered
            ]
            if uses:
                uncovered[alias.model] = (alias.version, uses)
        assert len(uncovered) == 1, "every other production model's personal training data is granted"
        model, (version, uses) = next(iter(uncovered.items()))
        # Covered on the day it was trained; not any more, because the grant ended.
        assert all(u.covered for u in version_data_uses(version=version) if u.needs_grant)
        owners = list(model.ownerships.values_list("user_id", flat=True))
        ended = AccessRequest.objects.filter(
            Q(requester_id__in=owners) | Q(team_id=model.team_id),
            status__in=(AccessStatus.REVOKED, AccessStatus.EXPIRED),
            purpose=model.data_purpose.purpose,
            dataset_entries__dataset__in=[u.dataset for u in uses],
        )
        assert ended.exists()
        assert WorkItem.objects.filter(model=model, type="incident", title__contains="access lapsed").exists()
        assert Alert.objects.filter(
            model=model, condition=AlertCondition.DATA_ACCESS_LAPSED, state=AlertState.OPEN
        ).exists()

    def test_verification_runs_passed_failed_and_timed_out_in_the_sandbox(self, seeded):
        runs = VerificationRun.objects.select_related("script")
        assert {RunStatus.PASSED, RunStatus.FAILED, RunStatus.TIMED_OUT} <= set(
            runs.values_list("status", flat=True)
        )
        assert not runs.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists()
        for run in runs:
            assert run.finished_at and run.duration_seconds is not None and run.isolation
        timed_out = runs.get(status=RunStatus.TIMED_OUT)
        assert timed_out.script.timeout_seconds == 5
        failed = runs.filter(status=RunStatus.FAILED).first()
        assert any(c["passed"] is False for c in failed.checks)

    def test_alerts_open_acknowledged_resolved_and_one_mitigated(self, seeded):
        alerts = Alert.objects.select_related("incident", "acknowledged_by")
        assert {AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.RESOLVED} <= set(
            alerts.values_list("state", flat=True)
        )
        acknowledged = alerts.get(state=AlertState.ACKNOWLEDGED)
        assert acknowledged.acknowledged_by is not None
        resolved = alerts.get(state=AlertState.RESOLVED)
        assert resolved.resolution != "The condition cleared."  # resolved by a person
        mitigated = alerts.get(incident__isnull=False)
        assert mitigated.condition == AlertCondition.PREDICTION_BIAS and mitigated.severity == "critical"
        assert mitigated.mitigations[0]["mitigation"] == "incident"
        assert mitigated.incident.type == "incident" and mitigated.incident.assignee is not None
        assert mitigated.model.prediction_stats.filter(is_baseline=False).count() >= 14

    def test_audit_trail_is_intact_and_records_every_request(self, seeded):
        assert audit_verify().ok
        actions = set(AuditEvent.objects.values_list("action", "target_id"))
        for pk in PromotionRequest.objects.values_list("pk", flat=True):
            assert ("promotion.requested", str(pk)) in actions
        for pk in AccessRequest.objects.values_list("pk", flat=True):
            assert ("access.requested", str(pk)) in actions
        for pk in WorkItem.objects.values_list("pk", flat=True):
            assert ("work_item.created", str(pk)) in actions

    def test_second_run_adds_no_governance_rows(self, seeded):
        before = governance_counts()
        output = seed()
        assert governance_counts() == before
        assert "Governance demo already present" in output and "Purposes ....." not in output
