"""Governance pages: each renders what its readers need, forms call the services, and the services' refusals
come back as pages (400 with the field's message, 403 with the policy's sentence, 409 for a conflict)."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import ModelAlias, ModelOwner, ModelVersion, OwnerRole
from governance.models import ApplyStatus, AuditEvent, PromotionRequest, PromotionStatus, WorkItem
from governance.services.promotions import (
    promotion_approve,
    promotion_reject,
    promotion_request,
    promotion_waive_gate,
)
from governance.services.work_items import comment_add, work_item_create, work_item_transition
from portal.roles import Role
from tests.fragments import get_assembled

pytestmark = pytest.mark.django_db


def content(response) -> str:
    return response.content.decode()


def figures(html: str) -> dict[str, dict]:
    return {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    }


@pytest.fixture
def item(scientist, domain, ready_model):
    return work_item_create(
        actor=scientist,
        domain=domain,
        type="task",
        title="Recalibrate the ranker",
        description="Scores drift **upwards** after the holiday.",
        priority="high",
        due_date=timezone.localdate() - timedelta(days=1),
        labels=["drift"],
        model=ready_model,
    )


@pytest.fixture
def v2(ready_model):
    return ModelVersion.objects.get(model=ready_model, version="2")


@pytest.fixture
def promotion(scientist, v2):
    return promotion_request(
        actor=scientist, version=v2, target="production", justification="Better AUC on the holdout set."
    )


# --- access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/work/",
        "/work/board/",
        "/work/new/",
        "/work/PERS-1/",
        "/promotions/",
        "/promotions/new/?version=1",
        "/promotions/1/",
        "/dashboards/",
        "/audit/",
        "/governance/models/x/rollback/",
    ],
)
def test_anonymous_user_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_nav_links_audit_only_for_compliance_and_admins(client, scientist, compliance, admin_user):
    client.force_login(scientist)
    html = content(client.get("/work/"))
    for link in ('href="/work/"', 'href="/promotions/"', 'href="/dashboards/"'):
        assert link in html
    assert 'href="/audit/"' not in html
    for user in (compliance, admin_user):
        client.force_login(user)
        assert 'href="/audit/"' in content(client.get("/work/"))


# --- work list and board -----------------------------------------------------------------------------------


def test_work_list_shows_items_with_sla_and_saved_views(client, scientist, engineer, item, domain):
    work_item_create(actor=engineer, domain=domain, type="bug", title="Fix the loader", assignee=scientist)
    client.force_login(scientist)
    response = client.get("/work/")
    assert response.status_code == 200
    html = content(response)
    assert "PERS-1" in html and "Recalibrate the ranker" in html and "PERS-2" in html
    assert "badge--sla-breached" in html and "Breached" in html
    for tab in ("Assigned to me", "Reported by me", "My team", "Overdue", "Watching"):
        assert tab in html
    mine = content(client.get("/work/", {"view": "assigned_to_me"}))
    assert "Fix the loader" in mine and "Recalibrate the ranker" not in mine
    overdue = content(client.get("/work/", {"view": "overdue"}))
    assert "Recalibrate the ranker" in overdue and "Fix the loader" not in overdue
    filtered = content(client.get("/work/", {"type": "bug", "assignee": "sara"}))
    assert "Fix the loader" in filtered and "Recalibrate the ranker" not in filtered
    assert "Recalibrate" in content(client.get("/work/", {"label": "drift", "model": "recs-ranker"}))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"status": "closed"}, "Status:"),
        ({"sla": "late"}, "SLA:"),
        ({"assignee": "nobody-here"}, "Assignee:"),
        ({"sort": "fun"}, "Unknown sort"),
        ({"cursor": "nonsense"}, "cursor is not valid"),
    ],
)
def test_bad_work_filters_are_a_400_with_a_message(client, manager, item, params, message):
    client.force_login(manager)
    response = client.get("/work/", params)
    assert response.status_code == 400
    assert message in content(response)


def test_work_list_keyset_pages(client, manager, domain, scientist):
    for i in range(5):
        work_item_create(actor=scientist, domain=domain, type="task", title=f"Task number {i}")
    client.force_login(manager)
    html = content(client.get("/work/", {"page_size": 2}))
    assert "Task number 4" in html and "Task number 2" not in html
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = content(client.get("/work/" + next_url))
    assert "Task number 2" in second and "Task number 4" not in second


def test_empty_work_list_explains_itself(client, manager):
    client.force_login(manager)
    assert "No work items yet" in content(client.get("/work/"))
    html = content(client.get("/work/", {"view": "watching"}))
    assert "Watch an item from its page" in html


def test_board_has_a_column_per_status(client, scientist, item, engineer):
    work_item_transition(actor=scientist, item=item, to_status="in_progress")
    client.force_login(engineer)
    response = client.get("/work/board/")
    assert response.status_code == 200
    html = content(response)
    for label in ("Open", "In progress", "Blocked", "In review", "Done"):
        assert f">{label}</h2>" in html
    column = html[html.index('id="col-in_progress"') : html.index('id="col-blocked"')]
    assert "PERS-1" in column


# --- create ---------------------------------------------------------------------------------------------


def test_create_work_item_through_the_form(client, scientist, ready_model, domain, engineer):
    client.force_login(scientist)
    page = content(client.get("/work/new/", {"model": "recs-ranker"}))
    assert 'value="recs-ranker"' in page and "csrfmiddlewaretoken" in page
    assert 'value="promotion"' not in page  # opened by requests, not people
    response = client.post(
        "/work/new/",
        {
            "type": "retrain",
            "title": "Retrain on March data",
            "priority": "medium",
            "assignee": "eric",
            "labels": "q1, drift",
            "model": "recs-ranker",
            "version": "v2",
        },
    )
    assert response.status_code == 302
    created = WorkItem.objects.get(title="Retrain on March data")
    assert response["Location"] == f"/work/{created.key}/"
    assert created.domain == domain and created.version.version == "2" and created.assignee == engineer
    assert sorted(t.name for t in created.labels.all()) == ["drift", "q1"]


def test_create_form_errors_are_a_400_on_the_fields(client, scientist, ready_model):
    client.force_login(scientist)
    response = client.post(
        "/work/new/", {"type": "task", "title": "", "model": "recs-ranker", "version": "9"}
    )
    assert response.status_code == 400
    html = content(response)
    assert "The work item was not created" in html
    assert "recs-ranker has no version &#x27;9&#x27;" in html
    response = client.post("/work/new/", {"type": "task", "title": "No domain"})
    assert response.status_code == 400 and "Choose a domain" in content(response)
    assert not WorkItem.objects.exists()


# --- the item page ------------------------------------------------------------------------------------


def test_item_page_shows_everything_and_only_allowed_moves(client, scientist, item, engineer):
    comment_add(actor=engineer, item=item, body="@sara can you check `@eric` in code? Thanks @nobody")
    client.force_login(scientist)
    response = client.get("/work/PERS-1/")
    assert response.status_code == 200
    html = content(response)
    assert "<strong>upwards</strong>" in html  # description rendered as Markdown
    assert "Breached" in html and "High priority" in html and "drift" in html
    assert 'href="/models/recs-ranker/"' in html
    # Open allows In progress (no comment) and Cancelled (comment required).
    workflow = html[html.index('id="workflow"') : html.index('id="comments"')]
    assert 'name="to_status" value="in_progress"' in workflow
    assert 'name="to_status" value="cancelled"' in workflow and "needs a comment" in workflow
    assert 'value="done"' not in workflow and 'value="in_review"' not in workflow
    # Mentions of real people are highlighted, not inside code, not unknown names.
    assert '<span class="mention" title="Mentioned">@sara</span>' in html
    assert "<code>@eric</code>" in html and ">@nobody<" not in html
    assert "created this item" in html  # activity from the audit trail


def test_transition_through_the_page(client, scientist, item):
    client.force_login(scientist)
    response = client.post("/work/PERS-1/transition/", {"to_status": "in_progress"})
    assert response.status_code == 302 and response["Location"] == "/work/PERS-1/"
    item.refresh_from_db()
    assert item.status == "in_progress"
    html = content(client.get("/work/PERS-1/"))
    assert "moved it from Open to In progress" in html


def test_refused_transition_shows_the_workflow_message(client, scientist, item):
    client.force_login(scientist)
    response = client.post("/work/PERS-1/transition/", {"to_status": "done"})
    assert response.status_code == 400
    assert "PERS-1 cannot move from Open to Done. Allowed: In progress, Cancelled." in content(response)
    item.refresh_from_db()
    assert item.status == "open"


def test_transition_that_needs_a_comment(client, scientist, item):
    client.force_login(scientist)
    response = client.post("/work/PERS-1/transition/", {"to_status": "cancelled", "comment": "  "})
    assert response.status_code == 400
    html = content(response)
    assert "Moving PERS-1 to Cancelled needs a comment saying why." in html
    assert re.search(r'<details class="transition transition--comment" open>\s*<summary[^>]*>Cancelled', html)
    response = client.post(
        "/work/PERS-1/transition/", {"to_status": "cancelled", "comment": "Duplicate of PERS-9."}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "cancelled" and item.comments.get().body == "Duplicate of PERS-9."


def test_someone_else_cannot_move_the_item(client, make_user, item):
    outsider = make_user(Role.SCIENTIST, username="otto")
    client.force_login(outsider)
    html = content(client.get("/work/PERS-1/"))
    assert "Only the reporter, the assignee, engineers and managers move this item." in html
    assert 'name="to_status"' not in html
    response = client.post("/work/PERS-1/transition/", {"to_status": "in_progress"})
    assert response.status_code == 403
    assert "Only the reporter, the assignee, engineers and managers move this item." in content(response)


def test_comment_and_watch(client, make_user, item, engineer):
    outsider = make_user(Role.SCIENTIST, username="otto")
    client.force_login(outsider)
    assert client.post("/work/PERS-1/comments/", {"body": ""}).status_code == 400
    response = client.post("/work/PERS-1/comments/", {"body": "Looping in @eric for the loader part."})
    assert response.status_code == 302 and response["Location"].endswith("#comments")
    assert engineer in item.watchers.all()
    assert ">Watch<" in content(client.get("/work/PERS-1/"))
    client.post("/work/PERS-1/watch/", {"watching": "1"})
    assert outsider in item.watchers.all()
    assert "Stop watching" in content(client.get("/work/PERS-1/"))
    client.post("/work/PERS-1/watch/", {"watching": "0"})
    assert outsider not in item.watchers.all()


def test_link_items_from_the_page(client, scientist, item, domain):
    other = work_item_create(actor=scientist, domain=domain, type="bug", title="Loader drops rows")
    client.force_login(scientist)
    response = client.post("/work/PERS-1/links/", {"kind": "blocks", "target": "pers-99"})
    assert response.status_code == 400 and "There is no work item PERS-99." in content(response)
    response = client.post("/work/PERS-1/links/", {"kind": "blocks", "target": other.key.lower()})
    assert response.status_code == 302 and response["Location"].endswith("#links")
    html = content(client.get("/work/PERS-1/"))
    assert "This blocks" in html and "Loader drops rows" in html
    assert "Recalibrate the ranker" in content(client.get(f"/work/{other.key}/"))  # "... blocks this"
    response = client.post("/work/PERS-1/links/", {"kind": "relates", "target": "PERS-1"})
    assert response.status_code == 400 and "cannot link to itself" in content(response)


def test_promotion_item_moves_with_its_request(client, scientist, promotion):
    client.force_login(scientist)
    html = content(client.get(f"/work/{promotion.work_item.key}/"))
    assert "it moves when the request is decided" in html and f'href="/promotions/{promotion.pk}/"' in html
    response = client.post(f"/work/{promotion.work_item.key}/transition/", {"to_status": "done"})
    assert response.status_code == 403


def test_unknown_item_is_404(client, manager):
    client.force_login(manager)
    assert client.get("/work/NOPE-1/").status_code == 404


# --- promotions -----------------------------------------------------------------------------------------


def test_version_page_offers_request_promotion_to_owners_only(client, scientist, manager, v2):
    client.force_login(scientist)
    html = content(client.get("/models/recs-ranker/versions/2/"))
    assert f'href="/promotions/new/?version={v2.pk}"' in html
    client.force_login(manager)
    assert "Request promotion" not in content(client.get("/models/recs-ranker/versions/2/"))


def test_scientist_requests_and_cannot_approve_own_promotion(client, scientist, v2):
    client.force_login(scientist)
    page = client.get("/promotions/new/", {"version": v2.pk})
    assert page.status_code == 200
    html = content(page)
    assert "@champion" in html and "Justification" in html
    response = client.post(
        f"/promotions/new/?version={v2.pk}",
        {"target_kind": "production", "justification": "AUC up three points on the holdout."},
    )
    assert response.status_code == 302
    promotion = PromotionRequest.objects.get()
    assert response["Location"] == f"/promotions/{promotion.pk}/"
    assert promotion.target == "production" and promotion.requested_by == scientist

    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert "Awaiting decision" in html and "AUC up three points" in html
    assert ">Approve</button>" not in html and "Waive this gate" not in html
    assert "Withdraw my request" in html
    assert "Latest verification passed" in html and "✗ Fail" in html

    response = client.post(f"/promotions/{promotion.pk}/approve/", {"comment": ""})
    assert response.status_code == 403
    assert "Only engineers approve or reject promotions." in content(response)
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.PENDING


def test_four_eyes_an_engineer_never_decides_own_request(client, make_user, ready_model, v2):
    """The owner who asked may be an engineer: still not the one who decides."""
    owner = make_user(Role.ENGINEER, username="enzo")
    ModelOwner.objects.create(model=ready_model, user=owner, role=OwnerRole.TECHNICAL)
    promotion = promotion_request(
        actor=owner, version=v2, target="staging", justification="Ready for the staging soak test."
    )
    client.force_login(owner)
    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert ">Approve</button>" not in html and ">Reject</button>" not in html
    assert "Four-eyes rule: you requested this promotion, so someone else must decide on it." in html
    for action in ("approve", "reject", "waive"):
        response = client.post(
            f"/promotions/{promotion.pk}/{action}/",
            {"comment": "Self-approval attempt.", "gate": "verification", "reason": "I say it is fine."},
        )
        assert response.status_code == 403, action
        assert "Four-eyes rule: you requested this promotion" in content(response)
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.PENDING and not promotion.waivers.exists()


def test_promotion_form_errors(client, scientist, v2, promotion, manager):
    client.force_login(scientist)
    response = client.post(
        f"/promotions/new/?version={v2.pk}", {"target_kind": "alias", "alias": "", "justification": "short"}
    )
    assert response.status_code == 400
    assert "Name the alias" in content(response)
    response = client.post(
        f"/promotions/new/?version={v2.pk}",
        {"target_kind": "production", "justification": "Again, because it is better."},
    )
    assert response.status_code == 400
    assert "already has a pending promotion to production" in content(response)
    response = client.post(
        f"/promotions/new/?version={v2.pk}", {"target_kind": "staging", "justification": "x"}
    )
    assert response.status_code == 400 and "10+ characters" in content(response)
    assert client.get("/promotions/new/").status_code == 400
    client.force_login(manager)
    html = content(client.get("/promotions/new/", {"version": v2.pk}))
    assert "Only the owners of recs-ranker request its promotions" in html
    response = client.post(
        f"/promotions/new/?version={v2.pk}",
        {"target_kind": "staging", "justification": "Managers cannot ask."},
    )
    assert response.status_code == 403


def test_engineer_waives_failing_gates_and_approves(
    client, engineer, promotion, django_capture_on_commit_callbacks
):
    client.force_login(engineer)
    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert ">Approve</button>" in html and ">Reject</button>" in html
    assert html.count("Waive this gate") == 2  # definition of done and verification fail

    response = client.post(f"/promotions/{promotion.pk}/approve/", {"comment": ""})
    assert response.status_code == 400
    assert "Latest verification passed:" in content(response)

    response = client.post(f"/promotions/{promotion.pk}/waive/", {"gate": "verification", "reason": "ok"})
    assert response.status_code == 400 and "written reason" in content(response)
    for gate in ("verification", "definition_of_done"):
        response = client.post(
            f"/promotions/{promotion.pk}/waive/",
            {"gate": gate, "reason": "Verified by hand on the staging replay."},
        )
        assert response.status_code == 302
    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert html.count("⚑ Waived") == 2 and "Waived by eric:" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/promotions/{promotion.pk}/approve/", {"comment": "Looks good."})
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.APPROVED and promotion.apply_status == ApplyStatus.APPLIED
    assert ModelAlias.objects.get(model=promotion.model, alias="production").version == promotion.version
    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert "Applied" in html and f"As they stood when {engineer.get_full_name()} decided" in html
    assert "Verified by hand on the staging replay." in html and "Waivers on record" in html  # forever

    response = client.post(f"/promotions/{promotion.pk}/approve/", {"comment": ""})
    assert response.status_code == 409  # deciding twice
    assert "already approved by eric" in content(response)
    # The model page shows the new alias and the timeline entry.
    model_html = content(get_assembled(client, "/models/recs-ranker/"))
    assert "@production → v2" in model_html
    timeline = model_html[model_html.index('id="timeline-heading"') :]
    assert "v2" in timeline and "Better AUC on the holdout set." in timeline


def test_deciding_twice_is_a_409(client, engineer, make_user, promotion):
    for gate in ("verification", "definition_of_done"):
        promotion_waive_gate(actor=engineer, promotion=promotion, gate=gate, reason="Checked by hand, fine.")
    other = make_user(Role.ENGINEER, username="erin")
    promotion_approve(actor=other, promotion=promotion)
    client.force_login(engineer)
    response = client.post(f"/promotions/{promotion.pk}/reject/", {"comment": "Too late but I disagree."})
    assert response.status_code == 409
    assert "already approved by erin" in content(response)


def test_reject_needs_a_reason(client, engineer, promotion, scientist):
    client.force_login(engineer)
    response = client.post(f"/promotions/{promotion.pk}/reject/", {"comment": ""})
    assert response.status_code == 400
    assert "Say why the promotion is rejected (10+ characters)." in content(response)
    response = client.post(f"/promotions/{promotion.pk}/reject/", {"comment": "Holdout set is stale."})
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.REJECTED
    client.force_login(scientist)
    html = content(client.get("/promotions/", {"tab": "rejected"}))
    assert "Holdout set is stale." in html


def test_requester_withdraws(client, scientist, promotion):
    client.force_login(scientist)
    response = client.post(f"/promotions/{promotion.pk}/withdraw/", {"reason": ""})
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.WITHDRAWN
    assert "withdrawn before anyone decided" in content(client.get(f"/promotions/{promotion.pk}/"))


def test_failed_write_back_offers_retry_to_engineers(client, engineer, scientist, promotion):
    PromotionRequest.objects.filter(pk=promotion.pk).update(
        status=PromotionStatus.APPROVED, apply_status=ApplyStatus.FAILED, apply_error="MLflow said 503"
    )
    client.force_login(scientist)
    html = content(client.get(f"/promotions/{promotion.pk}/"))
    assert "MLflow said 503" in html and "Retry the write-back" not in html
    client.force_login(engineer)
    assert "Retry the write-back" in content(client.get(f"/promotions/{promotion.pk}/"))
    dashboard = content(client.get("/dashboards/"))
    assert "Failed write-backs" in dashboard and "MLflow said 503" in dashboard
    response = client.post(f"/promotions/{promotion.pk}/retry/")
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.apply_status in (ApplyStatus.PENDING, ApplyStatus.APPLIED)


def test_promotion_list_tabs_and_gate_summary(client, engineer, promotion):
    client.force_login(engineer)
    response = client.get("/promotions/")
    assert response.status_code == 200
    html = content(response)
    assert "recs-ranker v2" in html and "3/5 pass" in html
    assert "Failing: Definition of done complete; Latest verification passed" in html
    for tab in ("Awaiting decision", "Approved", "Rejected", "All"):
        assert f">{tab}</a>" in html
    assert "Nothing awaits" not in html
    assert "recs-ranker v2" not in content(client.get("/promotions/", {"tab": "approved"}))
    assert "recs-ranker v2" in content(client.get("/promotions/", {"tab": "all"}))
    assert client.get("/promotions/", {"tab": "later"}).status_code == 400
    assert client.get("/promotions/", {"model": "no-such-model"}).status_code == 400


# --- the model page -----------------------------------------------------------------------------------------


def test_model_page_governance_card(client, scientist, item, ready_model, promotion):
    client.force_login(scientist)
    response = get_assembled(client, "/models/recs-ranker/")
    assert response.status_code == 200
    html = content(response)
    card = html[html.index('id="governance"') :]
    assert "Definition of done" in card and "7/8" in card
    assert "Attested by eric" in card and "Revoke…" in card  # the owner may revoke the attested item
    assert "PERS-1" in card and "Recalibrate the ranker" in card  # open work
    assert "v2 → production" in card  # awaiting decision
    assert "No promotion of this model has been applied yet" in card
    assert "Roll back production" not in card


def test_attest_and_revoke_from_the_model_page(client, scientist, ready_model):
    client.force_login(scientist)
    response = client.post(
        "/governance/models/recs-ranker/definition-of-done/revoke/",
        {"item": "scalability_reviewed", "reason": ""},
    )
    assert response.status_code == 302 and response["Location"] == "/models/recs-ranker/#governance"
    assert ready_model.dod_attestations.count() == 1  # a reason is required
    client.post(
        "/governance/models/recs-ranker/definition-of-done/revoke/",
        {"item": "scalability_reviewed", "reason": "Traffic doubled since."},
    )
    assert ready_model.dod_attestations.count() == 0
    assert AuditEvent.objects.filter(action="dod.attestation_revoked").exists()
    html = content(get_assembled(client, "/models/recs-ranker/"))
    assert (
        "Attestation revoked" in html
        and 'action="/governance/models/recs-ranker/definition-of-done/attest/"' in html
    )
    client.post(
        "/governance/models/recs-ranker/definition-of-done/attest/",
        {"item": "scalability_reviewed", "note": "Load-tested at 2x."},
    )
    assert ready_model.dod_attestations.get().note == "Load-tested at 2x."


def test_attest_is_refused_to_non_owners(client, manager, ready_model):
    client.force_login(manager)
    assert "Revoke…" not in content(client.get("/models/recs-ranker/"))
    response = client.post(
        "/governance/models/recs-ranker/definition-of-done/attest/", {"item": "scalability_reviewed"}
    )
    assert response.status_code == 403


def _applied(promotion, when):
    PromotionRequest.objects.filter(pk=promotion.pk).update(
        status=PromotionStatus.APPROVED, apply_status=ApplyStatus.APPLIED, applied_at=when
    )


def test_production_on_a_date_and_rollback(client, scientist, engineer, ready_model):
    v1 = ModelVersion.objects.get(model=ready_model, version="1")
    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    first = promotion_request(
        actor=scientist, version=v1, target="production", justification="First release."
    )
    _applied(first, timezone.now() - timedelta(days=10))
    ModelAlias.objects.create(model=ready_model, alias="production", version=v1)
    second = promotion_request(
        actor=scientist, version=v2, target="production", justification="Better AUC now."
    )
    _applied(second, timezone.now() - timedelta(days=2))
    ModelAlias.objects.filter(model=ready_model, alias="production").update(version=v2)

    client.force_login(scientist)
    day = (timezone.now() - timedelta(days=5)).date().isoformat()
    html = content(get_assembled(client, f"/models/recs-ranker/?production_on={day}"))
    assert re.search(r"production was <a [^>]+><strong>v1</strong>", html)
    html = content(get_assembled(client, "/models/recs-ranker/?production_on=2001-01-01"))
    assert "Nothing of recs-ranker was in production on 1 Jan 2001" in html
    assert "Give a date" in content(get_assembled(client, "/models/recs-ranker/?production_on=soon"))
    assert "First release." in html and "Better AUC now." in html
    assert 'href="/governance/models/recs-ranker/rollback/"' in html

    page = content(client.get("/governance/models/recs-ranker/rollback/"))
    assert "Production is <strong>v2</strong>" in page and "it was <strong>v1</strong>" in page
    response = client.post("/governance/models/recs-ranker/rollback/", {"reason": "v2 doubles latency."})
    assert response.status_code == 302
    rollback = PromotionRequest.objects.get(is_rollback=True)
    assert rollback.version == v1 and response["Location"] == f"/promotions/{rollback.pk}/"
    assert "Rollback" in content(client.get(rollback.get_absolute_url()))
    # A second rollback while one is pending: the service's message on the page, 400.
    response = client.post("/governance/models/recs-ranker/rollback/", {"reason": ""})
    assert response.status_code == 400 and "already has a pending promotion" in content(response)


# --- dashboards -----------------------------------------------------------------------------------------


def test_dashboards_for_a_manager(client, manager, engineer, item, promotion):
    promotion_waive_gate(
        actor=engineer, promotion=promotion, gate="verification", reason="Replay checked by hand."
    )
    promotion_waive_gate(
        actor=engineer, promotion=promotion, gate="definition_of_done", reason="Only verification is missing."
    )
    promotion_approve(actor=engineer, promotion=promotion)
    client.force_login(manager)
    response = client.get("/dashboards/")
    assert response.status_code == 200
    html = content(response)
    assert html.index("Manager's overview") < html.index(
        "Engineer's queue"
    )  # a manager reads the overview first
    charts = figures(html)
    assert set(charts) == {"models-domain-chart", "dod-chart", "work-chart", "promotions-chart"}
    assert [t["name"] for t in charts["models-domain-chart"]["data"]][:3] == [
        "Experimental",
        "Staging",
        "Production",
    ]
    dod = charts["dod-chart"]["data"][0]
    assert dod["y"] == [["Personalisation"], ["recs-ranker"]] and dod["x"] == [88]
    assert (
        sum(sum(t["y"]) for t in charts["work-chart"]["data"]) == 1
    )  # the task (the promotion item is done)
    approved = next(t for t in charts["promotions-chart"]["data"] if t["name"] == "Approved")
    assert approved["y"][-1] == 1
    assert 'src="/static/vendor/plotly/plotly.min.js"' in html and "<script>" not in html

    scoped = client.get("/dashboards/", {"domain": "personalisation"})
    assert scoped.status_code == 200 and "Definition of done in Personalisation" in content(scoped)
    bad = client.get("/dashboards/", {"domain": "nowhere"})
    assert bad.status_code == 400 and "No domain" in content(bad)


def test_engineer_queue_on_the_dashboard(client, engineer, promotion):
    client.force_login(engineer)
    html = content(client.get("/dashboards/"))
    assert html.index("Engineer's queue") < html.index("Manager's overview")
    queue = html[html.index('id="queue"') : html.index('id="overview"')]
    assert f'href="/promotions/{promotion.pk}/"' in queue and "No failed write-backs" in queue
    # The gates come after the first paint: a slot per row, filled from the URL the table names.
    assert f'data-gates-slot="{promotion.pk}"' in queue and "Checking gates…" in queue
    assert "pass" not in re.sub(r"<[^>]+>", "", queue).split("Checking gates…")[0][-40:]
    src = re.search(r'data-gates-src="([^"]+)"', queue).group(1).replace("&amp;", "&")
    assert src == f"/promotions/gates/?id={promotion.pk}"
    fragment = client.get(src)
    assert fragment.status_code == 200
    assert f'<div data-gates-for="{promotion.pk}">' in content(fragment) and "3/5 pass" in content(fragment)
    assert 'src="/static/js/gate_slots.js"' in html


def test_gates_fragment_answers_pending_promotions_only(client, scientist, engineer, promotion, v2):
    other = promotion_request(actor=scientist, version=v2, target="staging", justification="Shadow traffic.")
    client.force_login(engineer)
    url = f"/promotions/gates/?id={promotion.pk}&id={other.pk}&id=999999"
    html = content(client.get(url))
    assert html.count("data-gates-for=") == 2 and "/5 pass" in html
    promotion_reject(
        actor=engineer, promotion=promotion, comment="Holdout set too small."
    )  # decided meanwhile: left out
    html = content(client.get(url))
    assert f'data-gates-for="{promotion.pk}"' not in html and f'data-gates-for="{other.pk}"' in html


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?id=",
        "?id=abc",
        "?id=-1",
        "?id=1.5",
        "?id=%C2%B2",
        "?id=1" + "1" * 18,
        "?" + "&".join(["id=1"] * 51),
    ],
)
def test_gates_fragment_refuses_bad_ids(client, engineer, query):
    client.force_login(engineer)
    response = client.get("/promotions/gates/" + query)
    assert response.status_code == 400
    assert "Give 1 to 50 promotion ids" in content(response) and "data-gates-error" in content(response)


def test_empty_dashboards_say_so(client, manager):
    client.force_login(manager)
    html = content(client.get("/dashboards/"))
    assert "Nothing awaits a decision" in html and "No models registered yet" in html
    assert "No open work" in html and "No promotion was decided" in html


# --- audit ----------------------------------------------------------------------------------------------


def test_audit_is_for_compliance_and_admins(client, scientist, compliance, admin_user, item):
    client.force_login(scientist)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "Only compliance and admins read the audit trail." in content(response)
    for user in (compliance, admin_user):
        client.force_login(user)
        assert client.get("/audit/").status_code == 200


def test_audit_page_lists_filters_verifies_and_exports(client, compliance, item, scientist):
    work_item_transition(actor=scientist, item=item, to_status="in_progress")
    client.force_login(compliance)
    html = content(client.get("/audit/"))
    count = AuditEvent.objects.count()
    assert f"Chain verified: {count} events." in html
    assert "work_item.transitioned" in html and "work_item.created" in html
    assert 'class="change-before"' in html and ">open<" in html and ">in_progress<" in html
    assert 'href="/api/v1/audit-events/export.csv"' in html

    html = content(client.get("/audit/", {"action": "work_item.trans", "actor": "sara"}))
    assert "work_item.transitioned" in html and "<code>work_item.created</code>" not in html
    assert 'href="/api/v1/audit-events/export.csv?action=work_item.trans&amp;actor=sara"' in html
    export = client.get("/api/v1/audit-events/export.csv?action=work_item.trans&actor=sara")
    assert export.status_code == 200 and b"work_item.transitioned" in b"".join(export.streaming_content)

    bad = client.get("/audit/", {"since": "yesterday"})
    assert bad.status_code == 400 and "From:" in content(bad)


def test_audit_page_names_a_broken_chain(client, compliance, item):
    from tests.governance.test_audit import tamper

    tamper("UPDATE governance_auditevent SET reason = 'nothing to see' WHERE seq = 1")
    client.force_login(compliance)
    html = content(client.get("/audit/"))
    assert "Broken at #1:" in html and "event #1 was changed after it was written" in html


def test_audit_pages_with_keyset_cursor(client, compliance, scientist, domain):
    for i in range(4):
        work_item_create(actor=scientist, domain=domain, type="task", title=f"T{i}")
    client.force_login(compliance)
    html = content(client.get("/audit/", {"page_size": 2}))
    assert html.count("<code>work_item.created</code>") == 2
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = content(client.get("/audit/" + next_url))
    assert second.count("<code>work_item.created</code>") == 2 and 'rel="prev"' in second


def test_the_dashboard_shows_open_alerts(client, engineer, ready_model):
    from governance.services.monitoring import alert_raise

    alert_raise(
        model=ready_model, condition="data_stale", severity="warning", summary="Clicks are two days old."
    )
    client.force_login(engineer)
    html = client.get("/dashboards/").content.decode()
    assert "Open alerts" in html and "recs-ranker: Upstream data stale" in html
