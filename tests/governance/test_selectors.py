"""Governance selectors: SQL filters agree with the model's Python properties; history questions."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from catalog.models import ModelVersion
from governance import selectors
from governance.filters import sla_q
from governance.models import ApplyStatus, PromotionRequest, PromotionStatus, SlaState, WorkItem
from governance.services.work_items import work_item_create, work_item_transition
from portal.roles import Role
from tests.factories import DomainFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db


def new_item(actor, domain, **kwargs):
    kwargs.setdefault("type", "task")
    return work_item_create(actor=actor, domain=domain, title="Item", **kwargs)


def test_sla_filter_agrees_with_the_model_property(scientist, domain):
    today = timezone.localdate()
    for offset in (None, -3, -1, 0, 1, 2, 3, 10):
        for status in ("open", "in_progress", "blocked", "done", "cancelled"):
            item = new_item(
                scientist, domain, due_date=None if offset is None else today + datetime.timedelta(offset)
            )
            WorkItem.objects.filter(pk=item.pk).update(status=status, resolved_at=timezone.now())
    items = list(WorkItem.objects.all())
    for state in (SlaState.NONE, SlaState.ON_TRACK, SlaState.DUE_SOON, SlaState.BREACHED):
        in_sql = set(WorkItem.objects.filter(sla_q(state)).values_list("pk", flat=True))
        in_python = {item.pk for item in items if item.sla_state == state}
        assert in_sql == in_python, state
        assert in_sql, state


def test_board_is_bounded_per_column_and_counts_everything(scientist, engineer, domain):
    for priority in ("low", "blocker", "medium"):
        new_item(scientist, domain, priority=priority)
    moving = new_item(scientist, domain)
    work_item_transition(actor=scientist, item=moving, to_status="in_progress")
    columns = {c.status: c for c in selectors.work_item_board(user=engineer, limit=2)}
    assert [i.key for i in columns["open"].items] == ["PERS-2", "PERS-3"]  # blocker, then medium
    assert columns["open"].count == 3 and columns["open"].has_more
    assert [i.key for i in columns["in_progress"].items] == ["PERS-4"] and not columns["in_progress"].has_more
    assert columns["done"].count == 0 and columns["done"].items == []


def test_work_item_list_refuses_bad_filters_and_hides_from_anonymous(scientist, domain):
    from django.contrib.auth.models import AnonymousUser

    new_item(scientist, domain)
    with pytest.raises(ValidationError) as exc:
        selectors.work_item_list(user=scientist, filters={"priority": "urgent"})
    assert "priority" in exc.value.message_dict
    assert list(selectors.work_item_list(user=AnonymousUser())) == []
    assert list(selectors.work_item_list(user=AnonymousUser(), filters={"view": "watching"})) == []


def test_work_item_detail_loads_activity_in_order(scientist, domain):
    item = new_item(scientist, domain)
    work_item_transition(actor=scientist, item=item, to_status="in_progress")
    detail = selectors.work_item_detail(user=scientist, key=item.key)
    assert [e.action for e in detail.activity] == ["work_item.created", "work_item.transitioned"]


def _applied(model, version, *, target="production", at, actor):
    return PromotionRequest.objects.create(
        model=model,
        version=version,
        target=target,
        justification="Because it is better.",
        requested_by=actor,
        status=PromotionStatus.APPROVED,
        apply_status=ApplyStatus.APPLIED,
        applied_at=at,
    )


def test_production_at_and_timeline(scientist, ready_model):
    v1, v2 = (ModelVersion.objects.get(model=ready_model, version=v) for v in ("1", "2"))
    jan = timezone.make_aware(datetime.datetime(2025, 1, 10, 15, 0))
    _applied(ready_model, v1, at=jan, actor=scientist)
    _applied(ready_model, v2, at=jan + datetime.timedelta(days=30), actor=scientist)
    _applied(ready_model, v2, target="staging", at=jan + datetime.timedelta(days=60), actor=scientist)
    _applied(ready_model, v1, at=jan + datetime.timedelta(days=90), actor=scientist)  # rolled back

    def at(when):
        return selectors.production_at(model=ready_model, when=when)

    assert at(datetime.date(2025, 1, 9)) is None
    assert at(datetime.date(2025, 1, 10)) == v1  # a date means the end of that day
    assert at(jan - datetime.timedelta(seconds=1)) is None and at(jan) == v1
    assert at(datetime.date(2025, 2, 9)) == v2
    assert at(datetime.date(2025, 3, 11)) == v2  # the staging promotion does not count
    assert at(datetime.date(2025, 4, 10)) == v1
    assert at(datetime.date.max) == v1 and at(datetime.date.min) is None
    timeline = list(selectors.promotion_timeline(model=ready_model))
    assert [(p.version.version, p.target) for p in timeline] == [
        ("1", "production"),
        ("2", "production"),
        ("2", "staging"),
        ("1", "production"),
    ]


def test_pending_promotions_are_a_queue(scientist, ready_model):
    other = RegisteredModelFactory(owners=[scientist])
    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    old = PromotionRequest.objects.create(
        model=ready_model, version=v2, target="staging", justification="x" * 12, requested_by=scientist
    )
    new = PromotionRequest.objects.create(
        model=ready_model, version=v2, target="production", justification="x" * 12, requested_by=scientist
    )
    PromotionRequest.objects.filter(pk=old.pk).update(
        requested_at=timezone.now() - datetime.timedelta(days=1)
    )
    assert [p.pk for p in selectors.promotion_list(user=scientist, filters={"status": "pending"})] == [
        old.pk,
        new.pk,
    ]
    assert [p.pk for p in selectors.promotion_list(user=scientist)] == [new.pk, old.pk]
    assert list(selectors.promotion_list(user=scientist, filters={"model": other.name})) == []


@pytest.mark.parametrize("role", [Role.SCIENTIST, Role.ENGINEER, Role.MANAGER])
def test_audit_events_need_compliance(make_user, role):
    with pytest.raises(PermissionDenied, match="compliance"):
        selectors.audit_event_list(user=make_user(role, username=f"u-{role}"))


def test_audit_events_filters(compliance, scientist, domain):
    new_item(scientist, domain)
    events = selectors.audit_event_list(user=compliance, filters={"action": "work_item", "actor": "sara"})
    assert [e.action for e in events] == ["work_item.created"]
    with pytest.raises(ValidationError):
        selectors.audit_event_list(user=compliance, filters={"since": "soon"})


def test_dod_scores_per_domain(ready_model, domain):
    RegisteredModelFactory(name="other-domain-model")
    scores = selectors.dod_scores(domain=domain)
    assert [(s.model.name, s.report.passed, s.report.total) for s in scores] == [("recs-ranker", 7, 8)]
    assert {s.model.name for s in selectors.dod_scores()} == {"recs-ranker", "other-domain-model"}


def test_dod_scores_up_to_a_limit(ready_model, domain, django_assert_max_num_queries):
    RegisteredModelFactory(name="other-domain-model")
    assert [s.model.name for s in selectors.dod_scores_up_to(domain=domain, limit=1)] == ["recs-ranker"]
    assert {s.model.name for s in selectors.dod_scores_up_to(limit=2)} == {
        "recs-ranker",
        "other-domain-model",
    }
    with django_assert_max_num_queries(1):  # too many: counted, nothing loaded
        assert selectors.dod_scores_up_to(limit=1) is None
    assert selectors.dod_scores_up_to(domain=DomainFactory(slug="empty"), limit=5) == []


def test_pending_promotions_by_id(ready_model, scientist, engineer):
    from governance.services.promotions import promotion_reject, promotion_request

    v2 = ready_model.versions.get(version="2")
    first = promotion_request(
        actor=scientist, version=v2, target="production", justification="Better AUC here."
    )
    second = promotion_request(actor=scientist, version=v2, target="staging", justification="Shadow traffic.")
    promotion_reject(actor=engineer, promotion=first, comment="Holdout set too small.")
    found = selectors.pending_promotions(user=engineer, ids=[first.pk, second.pk, 10**9])
    assert [p.pk for p in found] == [second.pk]
