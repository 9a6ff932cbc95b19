import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.models import AuditEvent, WorkItem
from governance.services.work_items import (
    comment_add,
    work_item_create,
    work_item_link,
    work_item_transition,
    work_item_update,
)
from governance.workflows import WORKFLOWS
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def new(actor, domain, type="task", **kw):
    return work_item_create(
        actor=actor, domain=domain, type=type, title=kw.pop("title", "Fix the pipeline"), **kw
    )


def test_keys_count_per_domain(scientist, domain):
    other = DomainFactory(name="Risk", slug="risk", key="RISK")
    keys = [new(scientist, d).key for d in (domain, domain, other, domain)]
    assert keys == ["PERS-1", "PERS-2", "RISK-1", "PERS-3"]


def test_create_audits_and_watches(scientist, engineer, domain):
    item = new(scientist, domain, assignee=engineer, labels=["Data", "urgent"])
    assert set(item.watchers.values_list("username", flat=True)) == {"sara", "eric"}
    assert sorted(item.labels.values_list("name", flat=True)) == ["data", "urgent"]
    event = AuditEvent.objects.get(action="work_item.created")
    assert event.target_label == item.key and event.after["assignee"] == str(engineer)


@pytest.mark.parametrize("type", ["promotion", "data_access"])
def test_request_driven_types_are_not_created_by_hand(scientist, domain, type):
    with pytest.raises(ValidationError, match="created by their requests"):
        new(scientist, domain, type=type)


def every_transition():
    for type, workflow in WORKFLOWS.items():
        if type in ("promotion", "data_access"):
            continue
        statuses = sorted(workflow.transitions)  # sorted: the same test ids in every process (xdist)
        for current in statuses:
            for target in (s for s in statuses if s != current):
                yield (
                    type,
                    current,
                    target,
                    target in workflow.allowed(current),
                    workflow.requires_comment(current, target),
                )


@pytest.mark.parametrize("type, current, target, allowed, needs_comment", list(every_transition()))
def test_every_transition_rule(engineer, domain, type, current, target, allowed, needs_comment):
    item = new(engineer, domain, type=type)
    WorkItem.objects.filter(pk=item.pk).update(status=current)
    item.refresh_from_db()
    if not allowed:
        with pytest.raises(ValidationError) as exc:
            work_item_transition(actor=engineer, item=item, to_status=target, comment="because reasons")
        assert "cannot move" in str(exc.value) and "Allowed:" in str(exc.value)
        return
    if needs_comment:
        with pytest.raises(ValidationError, match="needs a comment"):
            work_item_transition(actor=engineer, item=item, to_status=target)
    moved = work_item_transition(actor=engineer, item=item, to_status=target, comment="because reasons")
    assert moved.status == target
    assert (moved.resolved_at is not None) == (target in ("done", "cancelled"))
    event = AuditEvent.objects.filter(action="work_item.transitioned").latest("seq")
    assert (event.before, event.after) == ({"status": current}, {"status": target})


def test_people_cannot_move_promotion_items(scientist, engineer, ready_model):
    from catalog.models import ModelVersion
    from governance.services.promotions import promotion_request

    version = ModelVersion.objects.get(model=ready_model, version="2")
    promotion = promotion_request(
        actor=scientist, version=version, target="production", justification="Better AUC on the holdout."
    )
    with pytest.raises(PermissionDenied, match="move with their request"):
        work_item_transition(actor=engineer, item=promotion.work_item, to_status="cancelled", comment="no")


def test_only_involved_people_or_engineers_and_managers_edit(scientist, make_user, domain, manager):
    item = new(scientist, domain)
    stranger = make_user("scientist", username="stranger")
    with pytest.raises(PermissionDenied):
        work_item_update(actor=stranger, item=item, title="Mine now")
    updated = work_item_update(actor=manager, item=item, priority="critical", title="Pipeline down")
    assert (updated.priority, updated.priority_rank) == ("critical", 1)
    event = AuditEvent.objects.get(action="work_item.updated")
    assert event.before == {"priority": "medium", "title": "Fix the pipeline"}


def test_bad_input_is_a_validation_error(scientist, domain):
    with pytest.raises(ValidationError) as exc:
        new(scientist, domain, title="  ")
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError):
        new(scientist, domain, priority="whenever")
    with pytest.raises(ValidationError):
        new(scientist, domain, labels=["has space"])
    assert not WorkItem.objects.exists()


def test_sla_states(scientist, domain):
    today = timezone.localdate()
    cases = {
        None: "none",
        today + datetime.timedelta(days=10): "on_track",
        today + datetime.timedelta(days=1): "due_soon",
        today - datetime.timedelta(days=1): "breached",
    }
    for due, state in cases.items():
        assert new(scientist, domain, due_date=due).sla_state == state


def test_comments_mention_and_watch(scientist, engineer, make_user, domain):
    lena = make_user("engineer", username="lena")
    item = new(scientist, domain)
    comment = comment_add(actor=engineer, item=item, body="Can you look, @lena? cc @nobody, mail me@x.com")
    assert list(comment.mentions.values_list("username", flat=True)) == ["lena"]
    assert list(comment_add(actor=engineer, item=item, body="Thanks @lena.").mentions.all()) == [lena]
    assert item.watchers.filter(pk=lena.pk).exists()
    with pytest.raises(ValidationError):
        comment_add(actor=engineer, item=item, body="   ")


def test_links(scientist, domain):
    a, b = new(scientist, domain), new(scientist, domain)
    work_item_link(actor=scientist, source=a, target=b, kind="blocks")
    work_item_link(actor=scientist, source=a, target=b, kind="blocks")
    assert a.outgoing_links.count() == 1
    with pytest.raises(ValidationError):
        work_item_link(actor=scientist, source=a, target=a, kind="relates")
