"""Lists show each role exactly what the policies let it see.

What the policies say (catalog/policies.py, governance/policies.py, governance/selectors/audit.py):
- the catalog (models, datasets, domains, registries) and governance's records (work items, promotions,
  access requests and grants in every status, campaigns, purposes, alerts, verification runs) are open to
  everyone signed in: transparency is the point; anonymous callers get 401 and no rows;
- the audit trail (list and CSV export, API and page) is for compliance officers and admins only;
- the compliance dashboard is for compliance officers and admins only;
- personal views narrow a list to the person: `mine` (my access requests), `awaiting_me` (a step I may
  decide now: the dataset's owner first, compliance after every owner, never the requester), the work-item
  saved views `reported_by_me` / `assigned_to_me`.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction

from . import authz_world
from .authz_world import ANONYMOUS, SIGNED_IN, World

pytestmark = pytest.mark.django_db
world, in_world = authz_world.world, authz_world.in_world  # the fixtures: built once per module


def _all(model_path: str, field: str = "pk"):
    def rows(w: World) -> set:
        from django.apps import apps

        return set(apps.get_model(model_path).objects.values_list(field, flat=True))

    return rows


def _grants(w: World) -> set:
    from governance.models import GRANT_STATUSES, AccessRequest

    return set(AccessRequest.objects.filter(status__in=GRANT_STATUSES).values_list("pk", flat=True))


# list endpoint -> (the field naming a row, every row in the database)
SHARED_LISTS = {
    "/api/v1/models/": ("name", _all("catalog.RegisteredModel", "name")),
    "/api/v1/datasets/": ("id", _all("catalog.Dataset")),
    "/api/v1/domains/": ("slug", _all("catalog.Domain", "slug")),
    "/api/v1/registries/": ("name", _all("catalog.RegistrySource", "name")),
    "/api/v1/work-items/": ("key", _all("governance.WorkItem", "key")),
    "/api/v1/promotions/": ("id", _all("governance.PromotionRequest")),
    "/api/v1/access-requests/": ("id", _all("governance.AccessRequest")),
    "/api/v1/grants/": ("id", _grants),
    "/api/v1/campaigns/": ("id", _all("governance.Campaign")),
    "/api/v1/purposes/": ("slug", _all("governance.Purpose", "slug")),
    "/api/v1/alerts/": ("id", _all("governance.Alert")),
    "/api/v1/verification-runs/": ("id", _all("governance.VerificationRun")),
}


def rows_of(response, field: str) -> set:
    assert response.status_code == 200, response.content[:300]
    rows = response.json()["results"]
    assert all(field in row for row in rows), (field, rows[:1])
    return {row[field] for row in rows}


def get(w: World, role: str, url: str):
    return w.api_client(role).get(url + ("&" if "?" in url else "?") + "page_size=200")


@pytest.mark.parametrize("url", SHARED_LISTS)
def test_shared_lists_show_every_row_to_every_signed_in_role_and_none_to_anonymous(in_world, url):
    field, every_row = SHARED_LISTS[url]
    expected = every_row(in_world)
    assert expected, f"the world seeds nothing for {url}, so the test would prove nothing"
    for role in SIGNED_IN:
        assert rows_of(get(in_world, role, url), field) == expected, role
    response = get(in_world, ANONYMOUS, url)
    assert response.status_code == 401 and "results" not in response.json()


def test_the_audit_trail_is_for_compliance_and_admins_only(in_world):
    from governance.models import AuditEvent

    every_event = set(AuditEvent.objects.values_list("seq", flat=True))
    assert len(every_event) > 10
    for role in ("compliance", "admin"):
        assert rows_of(get(in_world, role, "/api/v1/audit-events/"), "seq") == every_event
        export = in_world.api_client(role).get("/api/v1/audit-events/export.csv")
        assert export.status_code == 200
        lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
        assert len(lines) == len(every_event) + 1  # the header
        page = in_world.page_client(role).get("/audit/")
        assert page.status_code == 200
    for role in ("scientist", "engineer", "manager"):
        for url in ("/api/v1/audit-events/", "/api/v1/audit-events/export.csv"):
            response = in_world.api_client(role).get(url)
            assert response.status_code == 403, (role, url)
            assert "results" not in response.json()
        page = in_world.page_client(role).get("/audit/")
        assert page.status_code == 403
        assert "Only compliance and admins read the audit trail." in page.content.decode()
        assert b"access_request.submitted" not in page.content  # no event rendered


def test_the_compliance_dashboard_is_for_compliance_and_admins_only(in_world):
    for role in SIGNED_IN:
        response = in_world.page_client(role).get("/compliance/")
        if role in ("compliance", "admin"):
            assert response.status_code == 200, role
            assert "kpis" in response.context
        else:
            assert response.status_code == 403, role
            assert b"compliance officers and admins" in response.content


def test_my_access_requests_are_mine_only(in_world):
    sara = in_world.users["scientist"]
    hers = {in_world.access_request.pk, in_world.draft_request.pk, in_world.grant.pk}
    for role in SIGNED_IN:
        mine = rows_of(get(in_world, role, "/api/v1/access-requests/?mine=true"), "id")
        assert mine == (hers if in_world.users[role] == sara else set()), role
        page = in_world.page_client(role).get("/access/?tab=mine")
        assert page.status_code == 200
        shown = {row["request"].pk for row in page.context["rows"]}
        assert shown == (hers if role == "scientist" else set()), role


def awaiting(w: World, role: str) -> set:
    return rows_of(get(w, role, "/api/v1/access-requests/?awaiting_me=true"), "id")


def test_awaiting_me_follows_the_approval_chain(in_world):
    """The dataset's owner first; compliance once every owner approved; never the requester or others."""
    from governance.services.data_access import access_request_decide

    pending = in_world.access_request.pk
    assert {role: awaiting(in_world, role) for role in SIGNED_IN} == {
        "scientist": set(),  # her own request
        "engineer": {pending},  # eric owns the dataset
        "manager": set(),
        "compliance": set(),  # not her turn yet
        "admin": set(),  # admin rights do not stand in for the owner or compliance
    }
    page = in_world.page_client("engineer").get("/access/?tab=awaiting")
    assert {row["request"].pk for row in page.context["rows"]} == {pending}
    with transaction.atomic():
        access_request_decide(actor=in_world.users["engineer"], request=in_world.access_request, approve=True)
        assert awaiting(in_world, "engineer") == set()
        assert awaiting(in_world, "compliance") == {pending}
        assert awaiting(in_world, "admin") == set()
        transaction.set_rollback(True)


def test_work_item_saved_views_are_personal(in_world):
    from governance.models import WorkItem

    for role in SIGNED_IN:
        user = in_world.users[role]
        reported = set(WorkItem.objects.filter(reporter=user).values_list("key", flat=True))
        assigned = set(WorkItem.objects.filter(assignee=user).values_list("key", flat=True))
        url = "/api/v1/work-items/?view="
        assert rows_of(get(in_world, role, url + "reported_by_me"), "key") == reported, role
        assert rows_of(get(in_world, role, url + "assigned_to_me"), "key") == assigned, role
    assert in_world.item.key in set(
        WorkItem.objects.filter(reporter=in_world.users["scientist"]).values_list("key", flat=True)
    )
