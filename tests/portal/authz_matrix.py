"""The authorization matrix: for every URL the portal serves, what each role gets for each method.

tests/portal/test_authz_matrix.py walks the URL resolver and sends every method in METHODS as every role in
ROLES to every route; tests/portal/test_csrf.py reuses the write entries. Read a line as:

    # CanRegisterModel lets only safe methods through for managers and compliance: 403 before 405.
    "catalog-api:model-list": api(GET=everyone(200), POST=only(S, E, A, ok=400), other=only(S, E, A, ok=405)),

"signed-in users all get 200 for GET; a POST with an empty body is a 400 (the body was looked at, so the
permission check passed) for scientists, engineers and admins, a 403 for the others". Conventions:

- Roles: S scientist, E engineer, M manager, C compliance, A admin (see authz_world.py for who owns what:
  sara (S) owns the model and asked for everything, eric (E) owns the dataset).
- `page(...)` is an HTML route: anonymous gets LOGIN (302 to /login/?next=...) for every method, signed-in
  people use their session. `api(...)` is under /api/: anonymous gets 401, signed-in people use their token
  (and safe methods are checked again with the session). `public(...)` names anonymous explicitly.
- A method a route does not list is expected to be refused: 405 for signed-in users (anonymous as above).
  Some API views refuse a role before they look at the method (a DRF permission class that only lets
  safe methods through, or only one role in); `other=only(A, ok=405)` says "403 for everyone but admins"
  for the methods not listed.
- A POST to a page that has no form action of its own (lists, dashboards, detail pages whose forms post to
  their own .../<action>/ URLs) answers 405 like any other method the page does not take.
- Writes are sent with `data` (a form for pages, JSON for the API), each in a savepoint rolled back at once.
  Where a view validates the body before asking the policy, `data` is a valid body, so that the 403s show the
  policy at work rather than a form error. 409 means "allowed, but not in this state" (e.g. approving before
  the owner did); it still proves the permission check passed.
- Everything under admin/ follows one rule, `admin_expectations()`: staff only (anonymous visitors go to
  the portal's login, the four non-admin roles to the admin login, for every method), and the admin gets
  the page (or 403 where the model is read-only in the admin).

To add a route: add its name (namespace:name) here with what each role should get, and seed any object it
needs in authz_world.py. The test fails for a resolver route missing here, for an entry here that names no
route, and lists every status that differs from this table.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from .authz_world import ANONYMOUS, SIGNED_IN

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
S, E, M, C, A = SIGNED_IN
LOGIN = "302→login"  # 302 to /login/?next=<this path>
ADMIN_LOGIN = "302→admin login"  # 302 to /admin/login/?next=<this path>

PAGE, API, PUBLIC, ADMIN = "page", "api", "public", "admin"


def everyone(status) -> dict:
    return dict.fromkeys(SIGNED_IN, status)


def only(*roles, ok, no=403) -> dict:
    unknown = set(roles) - set(SIGNED_IN)
    assert not unknown, unknown
    return {role: ok if role in roles else no for role in SIGNED_IN}


def each(**statuses) -> dict:
    """Every signed-in role named: each(scientist=302, engineer=403, ...)."""
    assert set(statuses) == set(SIGNED_IN), sorted(statuses)
    return statuses


@dataclass(frozen=True)
class Route:
    kind: str
    expect: dict  # method -> {role: status}; anonymous too for PUBLIC routes
    at: Callable | None = None  # world -> reverse() kwargs
    query: str | Callable = ""  # "?..." appended (or world -> "?...")
    data: dict = field(default_factory=dict)  # method -> body (or world -> body)
    path: str = ""  # a concrete path for routes that cannot be reversed (regular expressions)
    other: dict = field(default_factory=dict)  # {role: status} for the methods not listed (default 405)
    methods: tuple = METHODS  # the methods the test sends

    def expected(self, method: str, role: str):
        if role == ANONYMOUS and self.kind != PUBLIC:
            return LOGIN if self.kind == PAGE else 401
        if method in self.expect:
            return self.expect[method].get(role, 405)
        return self.other.get(role, 405)

    def body(self, method: str, world):
        data = self.data.get(method)
        return data(world) if callable(data) else data

    @property
    def writes(self) -> list[str]:
        return [m for m in UNSAFE if m in self.expect]


def page(at=None, query="", data=None, other=None, **expect) -> Route:
    return Route(PAGE, expect, at=at, query=query, data=data or {}, other=other or {})


def api(at=None, query="", data=None, path="", other=None, **expect) -> Route:
    return Route(API, expect, at=at, query=query, data=data or {}, path=path, other=other or {})


def public(at=None, data=None, **expect) -> Route:
    return Route(PUBLIC, expect, at=at, data=data or {})


# kwargs for reverse(), by the object the route is about
MODEL = lambda w: {"name": w.model.name}  # noqa: E731
# The governance part: the one whose content depends most on who asks (attest, rollback).
MODEL_PANEL = lambda w: {"name": w.model.name, "panel": "governance"}  # noqa: E731
VERSION_PAGE = lambda w: {"name": w.model.name, "version": w.v2.version}  # noqa: E731
VERSION = lambda w: {"pk": w.v2.pk}  # noqa: E731
DATASET = lambda w: {"pk": w.dataset.pk}  # noqa: E731
DOMAIN = lambda w: {"slug": w.domain.slug}  # noqa: E731
REGISTRY = lambda w: {"name": w.source.name}  # noqa: E731
ITEM = lambda w: {"key": w.item.key}  # noqa: E731
PROMOTION = lambda w: {"pk": w.promotion.pk}  # noqa: E731
FAILED_PROMOTION = lambda w: {"pk": w.failed_promotion.pk}  # noqa: E731
REQUEST = lambda w: {"pk": w.access_request.pk}  # noqa: E731
DRAFT = lambda w: {"pk": w.draft_request.pk}  # noqa: E731
GRANT = lambda w: {"pk": w.grant.pk}  # noqa: E731
PURPOSE = lambda w: {"slug": w.purpose.slug}  # noqa: E731
CAMPAIGN = lambda w: {"pk": w.campaign.pk}  # noqa: E731
CAMPAIGN_ITEM = lambda w: {"pk": w.campaign.pk, "item_id": w.campaign_item.pk}  # noqa: E731
ALERT = lambda w: {"pk": w.alert.pk}  # noqa: E731
SCRIPT = lambda w: {"pk": w.script.pk}  # noqa: E731
RUN = lambda w: {"pk": w.run.pk}  # noqa: E731


def _in_days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


# ---------------------------------------------------------------------------------------------------------
MATRIX: dict[str, Route] = {
    # --- sign-in, health ---------------------------------------------------------------------------------
    # A signed-in visitor of /login/ is sent on to the catalog (302); an empty form re-renders (200).
    "login": public(
        GET={ANONYMOUS: 200, **everyone(302)},
        POST={ANONYMOUS: 200, **everyone(302)},
        PUT={ANONYMOUS: 200, **everyone(302)},  # FormView treats PUT as POST
        PATCH={ANONYMOUS: 405, **everyone(302)},
        DELETE={ANONYMOUS: 405, **everyone(302)},
    ),
    "logout": public(
        **{m: {ANONYMOUS: LOGIN} for m in METHODS} | {"POST": {ANONYMOUS: LOGIN, **everyone(302)}}
    ),
    "health": public(GET={ANONYMOUS: 200, **everyone(200)}, **{m: {ANONYMOUS: 405} for m in UNSAFE}),
    # Single sign-on is off in the tests (no OIDC_RP_CLIENT_ID): its views answer 404 to everyone.
    "oidc_authentication_init": public(
        GET={ANONYMOUS: 404, **everyone(404)}, **{m: {ANONYMOUS: 405} for m in UNSAFE}
    ),
    "oidc_authentication_callback": public(
        GET={ANONYMOUS: 404, **everyone(404)}, **{m: {ANONYMOUS: 405} for m in UNSAFE}
    ),
    # --- catalog pages ------------------------------------------------------------------------------------
    "catalog:model-list": page(GET=everyone(200)),
    "catalog:model-count": page(GET=everyone(200)),
    "catalog:model-detail": page(MODEL, GET=everyone(200)),
    "catalog:model-panel": page(MODEL_PANEL, GET=everyone(200)),
    "catalog:version-detail": page(VERSION_PAGE, GET=everyone(200)),
    "catalog:version-history": page(VERSION_PAGE, GET=everyone(200)),
    "catalog:dataset-list": page(GET=everyone(200)),
    "catalog:dataset-detail": page(DATASET, GET=everyone(200)),
    "catalog:domain-list": page(GET=everyone(200)),
    "catalog:domain-detail": page(DOMAIN, GET=everyone(200)),
    "catalog:registry-list": page(GET=everyone(200)),
    "catalog:registry-detail": page(REGISTRY, GET=everyone(200)),
    # Admins configure registries; an empty form is a 400 with field messages. The view refuses everyone
    # else in dispatch(), before it looks at the method.
    "catalog:registry-create": page(GET=only(A, ok=200), POST=only(A, ok=400), other=only(A, ok=405)),
    "catalog:registry-edit": page(REGISTRY, GET=only(A, ok=200), POST=only(A, ok=400), other=only(A, ok=405)),
    # Engineers and admins start a sync (302 back to the registry with a message).
    "catalog:registry-sync": page(REGISTRY, POST=only(E, A, ok=302)),
    # --- work items ---------------------------------------------------------------------------------------
    "governance:work-item-list": page(GET=everyone(200)),
    "governance:work-item-board": page(GET=everyone(200)),
    "governance:work-item-create": page(GET=everyone(200), POST=everyone(400)),
    "governance:work-item-detail": page(ITEM, GET=everyone(200)),
    # sara reported PERS-1; engineers, managers (and admins) edit any item; compliance does not.
    "governance:work-item-transition": page(
        ITEM, data={"POST": {"to_status": "in_progress"}}, POST=only(S, E, M, A, ok=302)
    ),
    "governance:work-item-comment": page(ITEM, data={"POST": {"body": "Looks good."}}, POST=everyone(302)),
    "governance:work-item-link": page(
        ITEM,
        data={"POST": lambda w: {"target": w.other_item.key, "kind": "relates"}},
        POST=only(S, E, M, A, ok=302),
    ),
    "governance:work-item-watch": page(ITEM, data={"POST": {"watching": "1"}}, POST=everyone(302)),
    # --- promotions ---------------------------------------------------------------------------------------
    "governance:promotion-list": page(GET=everyone(200)),
    "governance:promotion-gates": page(GET=everyone(400)),  # the matrix gives no ?id=: refused, 400
    # The model's owner (sara) and admins ask for a promotion.
    "governance:promotion-create": page(
        query=lambda w: f"?version={w.v2.pk}",
        data={"POST": {"target_kind": "production", "justification": "AUC 0.83 beats the champion."}},
        GET=everyone(200),
        POST=only(S, A, ok=302),
    ),
    "governance:promotion-detail": page(PROMOTION, GET=everyone(200)),
    # Four eyes: only an engineer who did not ask decides (admin rights do not stand in). The gates of
    # sara's promotion are not all passing, so eric's approval is refused with 400 (the gate list).
    "governance:promotion-approve": page(PROMOTION, data={"POST": {"comment": ""}}, POST=only(E, ok=400)),
    "governance:promotion-reject": page(
        PROMOTION, data={"POST": {"comment": "Not yet: the metrics are unclear."}}, POST=only(E, ok=302)
    ),
    "governance:promotion-waive": page(
        PROMOTION,
        data={"POST": {"gate": "verification", "reason": "Verified by hand on a holdout set."}},
        POST=only(E, ok=302),
    ),
    "governance:promotion-withdraw": page(
        PROMOTION, data={"POST": {"reason": "Changed my mind."}}, POST=only(S, ok=302)
    ),
    # Retrying a failed write-back: engineers (has_role: admins too).
    "governance:promotion-retry": page(FAILED_PROMOTION, POST=only(E, A, ok=302)),
    # Owners and admins ask for a rollback; there is no earlier production version here, hence 400.
    "governance:model-rollback": page(
        MODEL,
        data={"POST": {"reason": "Production regressed badly."}},
        GET=everyone(200),
        POST=only(S, A, ok=400),
    ),
    # Owners, engineers and admins attest the definition of done; back to the model page either way.
    "governance:model-dod-attest": page(
        MODEL,
        data={"POST": {"item": "config_in_code", "note": "All of it is in the repo."}},
        POST=only(S, E, A, ok=302),
    ),
    "governance:model-dod-revoke": page(
        MODEL,
        data={"POST": {"item": "scalability_reviewed", "reason": "The cluster changed a lot."}},
        POST=only(S, E, A, ok=302),
    ),
    "governance:dashboard": page(GET=everyone(200)),
    "governance:audit-list": page(GET=only(C, A, ok=200)),
    # --- data access --------------------------------------------------------------------------------------
    "governance-access:access-request-list": page(GET=everyone(200)),
    "governance-access:access-request-create": page(GET=everyone(200), POST=everyone(400)),
    "governance-access:access-request-detail": page(REQUEST, GET=everyone(200)),
    # eric owns the dataset: his step comes first. Compliance decides after the owners (409 before),
    # the requester never decides, admin rights do not stand in.
    "governance-access:access-request-approve": page(
        REQUEST,
        data={"POST": {"reason": ""}},
        POST=each(scientist=403, engineer=302, manager=403, compliance=409, admin=403),
    ),
    "governance-access:access-request-reject": page(
        REQUEST,
        data={"POST": {"reason": "Not for this purpose."}},
        POST=each(scientist=403, engineer=302, manager=403, compliance=409, admin=403),
    ),
    "governance-access:access-request-withdraw": page(
        REQUEST, data={"POST": {"reason": "No longer needed."}}, POST=only(S, ok=302)
    ),
    "governance-access:access-request-submit": page(DRAFT, POST=only(S, ok=302)),
    "governance-access:access-request-revoke": page(
        GRANT, data={"POST": {"reason": "The purpose ended early."}}, POST=only(C, ok=302)
    ),
    "governance-access:grant-list": page(GET=everyone(200)),
    "governance-access:purpose-list": page(
        data={
            "POST": {
                "name": "Fraud detection",
                "description": "Spotting card fraud.",
                "allowed_legal_bases": ["legal_obligation"],
            }
        },
        GET=everyone(200),
        POST=only(C, A, ok=302),
    ),
    # Campaigns are compliance's (the admin role does not stand in); the dataset's owner attests.
    "governance-access:campaign-list": page(
        data={"POST": lambda w: {"name": "Q1 re-certification", "deadline": _in_days(30)}},
        GET=everyone(200),
        POST=only(C, ok=302),
    ),
    "governance-access:campaign-detail": page(CAMPAIGN, GET=everyone(200)),
    "governance-access:campaign-item-attest": page(
        CAMPAIGN_ITEM, data={"POST": {"decision": "keep", "note": ""}}, POST=only(E, ok=302)
    ),
    "governance-access:compliance-dashboard": page(GET=only(C, A, ok=200)),
    "governance-access:compliance-production": page(GET=only(C, A, ok=200)),
    # --- monitoring and verification ----------------------------------------------------------------------
    "governance-access:alert-list": page(GET=everyone(200)),
    "governance-access:alert-detail": page(ALERT, GET=everyone(200)),
    # The model's owners (the scientist owns it here), engineers and admins act on alerts.
    "governance-access:alert-acknowledge": page(ALERT, POST=only(S, E, A, ok=302)),
    "governance-access:alert-resolve": page(
        ALERT, data={"POST": {"resolution": "Retrained the model today."}}, POST=only(S, E, A, ok=302)
    ),
    # Only the model's owners and admins reach the form; the view refuses others before the method.
    "governance-access:verification-script-create": page(
        MODEL, GET=only(S, A, ok=200), POST=only(S, A, ok=400), other=only(S, A, ok=405)
    ),
    "governance-access:verification-script-run": page(
        SCRIPT, data={"POST": lambda w: {"version": w.v2.pk}}, POST=only(S, E, A, ok=302)
    ),
    "governance-access:verification-run-detail": page(RUN, GET=everyone(200)),
    # --- API: auth, schema, docs --------------------------------------------------------------------------
    "api-token": public(
        POST={ANONYMOUS: 400, **everyone(400)},
        **{m: {ANONYMOUS: 405} for m in ("GET", "PUT", "PATCH", "DELETE")},
    ),
    "api-not-found": api(path="/api/v1/no-such-thing/", **{m: everyone(404) for m in METHODS}),
    "api-schema": api(GET=everyone(200)),
    # The docs page is a DRF view (it serves its start-up script from ?script): 401 JSON for anonymous.
    "api-docs": api(GET=everyone(200)),
    # --- API: catalog -------------------------------------------------------------------------------------
    # CanRegisterModel lets only safe methods through for managers and compliance: 403 before 405.
    "catalog-api:model-list": api(GET=everyone(200), POST=only(S, E, A, ok=400), other=only(S, E, A, ok=405)),
    "catalog-api:model-detail": api(MODEL, GET=everyone(200), PATCH=only(S, A, ok=200)),
    "catalog-api:model-versions": api(MODEL, GET=everyone(200), POST=only(S, A, ok=400)),
    "catalog-api:version-detail": api(VERSION, GET=everyone(200)),
    "catalog-api:version-metrics": api(VERSION, GET=everyone(200), POST=only(S, A, ok=400)),
    "catalog-api:version-datasets": api(VERSION, POST=only(S, A, ok=400)),
    # Writers and compliance register datasets; the dataset's owner (eric), compliance and admins edit it.
    "catalog-api:dataset-list": api(GET=everyone(200), POST=only(S, E, C, A, ok=400)),
    "catalog-api:dataset-detail": api(
        DATASET,
        GET=everyone(200),
        PATCH=only(E, C, A, ok=200),
        POST=only(M, ok=403, no=405),  # CanManageDatasets asks about POST before the method is looked up
    ),
    "catalog-api:domain-list": api(GET=everyone(200)),
    "catalog-api:domain-detail": api(DOMAIN, GET=everyone(200)),
    # CanManageRegistries lets only safe methods through for non-admins: 403 before 405.
    "catalog-api:registry-list": api(GET=everyone(200), POST=only(A, ok=400), other=only(A, ok=405)),
    "catalog-api:registry-detail": api(
        REGISTRY, GET=everyone(200), PATCH=only(A, ok=200), other=only(A, ok=405)
    ),
    "catalog-api:registry-sync-runs": api(REGISTRY, GET=everyone(200), POST=only(E, A, ok=202)),
    "catalog-api:manifest-schema": api(GET=everyone(200)),
    # --- API: work items ----------------------------------------------------------------------------------
    "governance-api:work-item-list": api(GET=everyone(200), POST=everyone(400)),
    "governance-api:work-item-board": api(GET=everyone(200)),
    "governance-api:work-item-detail": api(ITEM, GET=everyone(200), PATCH=only(S, E, M, A, ok=200)),
    "governance-api:work-item-transitions": api(
        ITEM, data={"POST": {"to_status": "in_progress"}}, POST=only(S, E, M, A, ok=200)
    ),
    "governance-api:work-item-comments": api(ITEM, GET=everyone(200), POST=everyone(400)),
    "governance-api:work-item-links": api(ITEM, POST=only(S, E, M, A, ok=400)),
    "governance-api:work-item-watch": api(ITEM, POST=everyone(200), DELETE=everyone(200)),
    # --- API: promotions ----------------------------------------------------------------------------------
    "governance-api:promotion-list": api(
        data={
            "POST": lambda w: {
                "version": w.v2.pk,
                "target": "production",
                "justification": "AUC 0.83, better.",
            }
        },
        GET=everyone(200),
        POST=only(S, A, ok=201),
    ),
    "governance-api:promotion-detail": api(PROMOTION, GET=everyone(200)),
    "governance-api:promotion-approve": api(PROMOTION, POST=only(E, ok=400)),
    "governance-api:promotion-reject": api(
        PROMOTION, data={"POST": {"comment": "Not yet: the metrics are unclear."}}, POST=only(E, ok=200)
    ),
    "governance-api:promotion-withdraw": api(PROMOTION, POST=only(S, ok=200)),
    "governance-api:promotion-waivers": api(
        PROMOTION,
        data={"POST": {"gate": "verification", "reason": "Verified by hand on a holdout set."}},
        POST=only(E, ok=201),
    ),
    "governance-api:promotion-retry-apply": api(
        FAILED_PROMOTION, POST=only(E, A, ok=200), other=only(E, A, ok=405)
    ),
    "governance-api:model-promotion-timeline": api(MODEL, GET=everyone(200)),
    "governance-api:model-production-at": api(
        MODEL, query=lambda w: f"?date={_in_days(0)}", GET=everyone(200)
    ),
    "governance-api:model-rollback": api(
        MODEL, data={"POST": {"reason": "Production regressed badly."}}, POST=only(S, A, ok=400)
    ),
    "governance-api:model-definition-of-done": api(MODEL, GET=everyone(200)),
    "governance-api:model-dod-attestations": api(MODEL, POST=only(S, E, A, ok=400)),
    # DELETE without ?reason= is a 400 for those who may revoke.
    "governance-api:model-dod-attestation-detail": api(
        lambda w: {"name": w.model.name, "item": "scalability_reviewed"}, DELETE=only(S, E, A, ok=400)
    ),
    "governance-api:definition-of-done-list": api(GET=everyone(200)),
    "governance-api:audit-event-list": api(GET=only(C, A, ok=200), other=only(C, A, ok=405)),
    "governance-api:audit-event-export": api(GET=only(C, A, ok=200), other=only(C, A, ok=405)),
    # --- API: data access ---------------------------------------------------------------------------------
    "governance-access-api:purpose-list": api(
        GET=everyone(200), POST=only(C, A, ok=400), other=only(C, A, ok=405)
    ),
    "governance-access-api:purpose-detail": api(PURPOSE, GET=everyone(200)),
    "governance-access-api:access-request-list": api(GET=everyone(200), POST=everyone(400)),
    "governance-access-api:access-request-detail": api(REQUEST, GET=everyone(200)),
    "governance-access-api:access-request-approve": api(
        REQUEST, POST=each(scientist=403, engineer=200, manager=403, compliance=409, admin=403)
    ),
    "governance-access-api:access-request-reject": api(
        REQUEST,
        data={"POST": {"reason": "Not for this purpose."}},
        POST=each(scientist=403, engineer=200, manager=403, compliance=409, admin=403),
    ),
    "governance-access-api:access-request-submit": api(DRAFT, POST=only(S, ok=200)),
    "governance-access-api:access-request-withdraw": api(REQUEST, POST=only(S, ok=200)),
    "governance-access-api:access-decision-export": api(GET=everyone(200)),
    "governance-access-api:grant-list": api(GET=everyone(200)),
    "governance-access-api:grant-export": api(GET=everyone(200)),
    "governance-access-api:grant-detail": api(GRANT, GET=everyone(200)),
    "governance-access-api:grant-revoke": api(GRANT, POST=only(C, ok=400), other=only(C, ok=405)),
    "governance-access-api:campaign-list": api(
        GET=everyone(200), POST=only(C, ok=400), other=only(C, ok=405)
    ),
    "governance-access-api:campaign-detail": api(CAMPAIGN, GET=everyone(200)),
    "governance-access-api:campaign-item-attest": api(
        CAMPAIGN_ITEM, data={"POST": {"keep": True}}, POST=only(E, ok=200)
    ),
    "governance-access-api:dataset-impact": api(DATASET, GET=everyone(200)),
    "governance-access-api:version-data-use": api(VERSION, GET=everyone(200)),
    "governance-access-api:model-purpose": api(MODEL, GET=everyone(200), PUT=only(S, A, ok=400)),
    # --- API: verification and monitoring -----------------------------------------------------------------
    "governance-access-api:model-verification-scripts": api(
        MODEL, GET=everyone(200), POST=only(S, A, ok=400)
    ),
    "governance-access-api:verification-script-detail": api(SCRIPT, GET=everyone(200)),
    "governance-access-api:verification-script-run": api(SCRIPT, POST=only(S, E, A, ok=400)),
    "governance-access-api:verification-run-list": api(GET=everyone(200)),
    "governance-access-api:verification-run-detail": api(RUN, GET=everyone(200)),
    "governance-access-api:model-prediction-stats": api(MODEL, GET=everyone(200), POST=only(S, E, A, ok=400)),
    "governance-access-api:alert-list": api(GET=everyone(200)),
    "governance-access-api:alert-detail": api(ALERT, GET=everyone(200)),
    "governance-access-api:alert-acknowledge": api(ALERT, POST=only(S, E, A, ok=200)),
    "governance-access-api:alert-resolve": api(
        ALERT, data={"POST": {"resolution": "Retrained the model today."}}, POST=only(S, E, A, ok=200)
    ),
}


# --- admin/ -----------------------------------------------------------------------------------------------
# Every route under admin/ is for staff: signed-in non-staff roles go to the admin login for every method;
# anonymous visitors go to a login too (the admin's own for the site's pages, the portal's for the model
# pages, which LoginRequiredMiddleware guards first). What the admin (staff, superuser) gets depends on the
# kind of admin page. Django's admin answers PUT, PATCH and DELETE to its model pages like GET, so only GET
# and POST are named; the test sends all five methods to the site's own pages and to one model's pages
# (ADMIN_ALL_METHODS) and GET and POST to every other admin page, which keeps the run short.
ADMIN_PAGE_STATUS = {
    # suffix of the route name -> (GET, POST) for the admin
    "changelist": (200, 200),
    "add": (200, 200),  # an empty form re-renders with its errors
    "change": (200, 200),
    "history": (200, 200),
    "delete": (200, 200),  # the confirmation page; deleting needs post=yes
    "object": (302, 302),  # admin/<app>/<model>/<id>/ redirects to .../change/
    "password": (200, 200),  # admin:auth_user_password_change
}
# Records the workflows own are read-only in the admin (governance/admin.py ReadOnlyAdmin): no add, change
# (the change page only shows them) or delete.
ADMIN_READ_ONLY = {"governance_auditevent", "governance_alert", "governance_verificationscript"}
ADMIN_READ_ONLY_STATUS = {**ADMIN_PAGE_STATUS, "add": (403, 403), "change": (200, 403), "delete": (403, 403)}
# django-axes' records: no add or change (a POST to the change page goes back to the list), but an admin may
# delete one (that is how a locked-out account is unlocked).
ADMIN_AXES = {"axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}
ADMIN_AXES_STATUS = {**ADMIN_PAGE_STATUS, "add": (403, 403), "change": (200, 302)}
# The admin site's own pages answer each method as their views do (methods not named: 405).
_ALL = dict.fromkeys(METHODS, 200)
ADMIN_SITE_STATUS = {
    "admin:index": _ALL,
    "admin:app_list": _ALL,
    # Signed in already: on to the index; a POST (or PUT, as POST) with an empty form: its errors.
    "admin:login": {"GET": 302, "POST": 200, "PUT": 200},
    "admin:logout": {"POST": 302},
    "admin:password_change": {"GET": 200, "POST": 200, "PUT": 200},
    "admin:password_change_done": {"GET": 200},
    "admin:autocomplete": {"GET": 403},  # no field named: refused
    "admin:jsi18n": {"GET": 200},
    "admin:view_on_site": dict.fromkeys(METHODS, 302),  # to the object's page in the portal
    "admin/(?P<url>.*)$": dict.fromkeys(METHODS, 404),  # unknown admin pages
}
# The admin login page is the one admin page anyone may open; it shows non-staff users a "not authorised"
# form. Logging out of the admin sends non-staff users back to the admin index (and so to its login).
ADMIN_LOGIN_PAGE = {"GET": 200, "POST": 200, "PUT": 200, "PATCH": 405, "DELETE": 405}
ADMIN_NON_STAFF = {"admin:login": ADMIN_LOGIN_PAGE, "admin:logout": dict.fromkeys(METHODS, 302)}


ADMIN_ALL_METHODS = ("admin:catalog_domain_", "admin/catalog/domain/")


def admin_expectations(key: str) -> Route:
    """The Route for one admin/ route (key: its name, or its pattern when it has none)."""
    site_page = key in ADMIN_SITE_STATUS
    if site_page:
        statuses = ADMIN_SITE_STATUS[key]
    else:
        if key.startswith("admin/"):
            model_key, kind = key.split("/")[1] + "_" + key.split("/")[2], "object"
        elif key.endswith("_password_change"):
            model_key, kind = key.removeprefix("admin:").removesuffix("_password_change"), "password"
        else:
            model_key, kind = key.removeprefix("admin:").rsplit("_", 1)
        table = ADMIN_PAGE_STATUS
        if model_key in ADMIN_READ_ONLY:
            table = ADMIN_READ_ONLY_STATUS
        elif model_key in ADMIN_AXES:
            table = ADMIN_AXES_STATUS
        get, post = table[kind]
        statuses = {"GET": get, "POST": post, "PUT": get, "PATCH": get, "DELETE": get}
    expect = {}
    for method in METHODS:
        admin = statuses.get(method, 405)
        anonymous = ADMIN_LOGIN if site_page else LOGIN
        if key == "admin:login":
            anonymous = ADMIN_LOGIN_PAGE[method]
        non_staff = ADMIN_NON_STAFF.get(key, {}).get(method, ADMIN_LOGIN)
        expect[method] = {ANONYMOUS: anonymous, **{role: non_staff for role in (S, E, M, C)}, A: admin}
    every_method = site_page or key.startswith(ADMIN_ALL_METHODS)
    return Route(PUBLIC, expect, methods=METHODS if every_method else ("GET", "POST"))
