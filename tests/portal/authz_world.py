"""One object of each kind, built once per test module for the authorization matrix, the CSRF tests and
the list-visibility tests, plus a signed-in session and an API token per role.

The world is built inside one transaction that is rolled back when the module ends; every request a test
sends runs in a savepoint of its own that is rolled back too (`send`), so a write that succeeds never
changes what the next check sees. Nothing scheduled with `transaction.on_commit` (Celery tasks, the
verification sandbox) ever runs, because nothing commits.

Who is who (the matrix's expectations depend on it):
- sara (scientist) owns the model `recs-ranker`, requested its promotion, reported work item PERS-1,
  asked for data access (one pending request, one draft, one grant), wrote its verification script;
- eric (engineer) owns the dataset `clicks`, so he decides the owner step of sara's requests and attests
  the campaign item of her grant; he reported PERS-2;
- maria (manager), cora (compliance) and ada (admin: staff and superuser) own nothing.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from portal.roles import Role

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, Role.SCIENTIST.value, Role.ENGINEER.value, Role.MANAGER.value, Role.COMPLIANCE.value)
ROLES = (*ROLES, Role.ADMIN.value)
SIGNED_IN = ROLES[1:]
USERNAMES = {
    "scientist": "sara",
    "engineer": "eric",
    "manager": "maria",
    "compliance": "cora",
    "admin": "ada",
}


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> user
    sessions: dict = field(default_factory=dict)  # role -> session key
    tokens: dict = field(default_factory=dict)  # role -> API token
    objects: SimpleNamespace = field(default_factory=SimpleNamespace)

    def __getattr__(self, name):  # world.model, world.promotion, ...
        try:
            return getattr(self.__dict__["objects"], name)
        except (KeyError, AttributeError):
            raise AttributeError(name) from None

    # -- clients ----------------------------------------------------------------------------------------
    def page_client(self, role: str, *, enforce_csrf_checks: bool = False) -> Client:
        """A browser: the role's session cookie (none for anonymous)."""
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if role != ANONYMOUS:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]
        return client

    def api_client(self, role: str) -> APIClient:
        """A script: `Authorization: Token <key>` (no header for anonymous), never a session."""
        client = APIClient()
        if role != ANONYMOUS:
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[role]}")
        return client


def _session_for(user) -> str:
    """What client.force_login stores, without a client: the session the cookie will name."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def build_world() -> World:
    from django.contrib.auth.models import Group
    from django_celery_beat.models import ClockedSchedule, CrontabSchedule, SolarSchedule

    from catalog.services import model_create, version_create
    from catalog.services.registries import registry_source_create
    from governance.models import (
        AccessStatus,
        AlertCondition,
        ApplyStatus,
        DodItem,
        MonitoringPolicy,
        NotificationChannel,
        PromotionRequest,
        PromotionStatus,
    )
    from governance.services.data_access import (
        access_request_create,
        access_request_decide,
        campaign_start,
        model_purpose_set,
        purpose_create,
    )
    from governance.services.dod import dod_attest
    from governance.services.monitoring import alert_raise
    from governance.services.promotions import promotion_request
    from governance.services.verification import verification_queue, verification_script_save
    from governance.services.work_items import work_item_create
    from portal.roles import ensure_role_groups
    from portal.services import user_token
    from tests.factories import DatasetFactory, DomainFactory, TeamFactory, UserFactory

    ensure_role_groups()
    world = World()
    for role in SIGNED_IN:
        user = UserFactory(role=role, username=USERNAMES[role])
        world.users[role] = user
        world.sessions[role] = _session_for(user)
        world.tokens[role] = user_token(user=user)
    sara, eric, cora, ada = (world.users[r] for r in ("scientist", "engineer", "compliance", "admin"))
    o = world.objects
    today = timezone.localdate()

    o.domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    o.team = TeamFactory(name="Ranking", slug="ranking", domain=o.domain)
    o.dataset = DatasetFactory(
        name="clicks", uri="s3://lake/clicks", owner=eric, domain=o.domain, pii_categories=["behaviour"]
    )
    o.model = model_create(
        actor=sara,
        name="recs-ranker",
        domain=o.domain,
        description="Ranks items.",
        intended_use="Home page.",
        limitations="Cold start.",
        ethical_considerations="No sensitive features.",
        primary_metric="auc",
        retrain_every_days=30,
        tags=["ranking"],
    )
    common = {"code_commit": "a" * 40, "datasets": [{"uri": o.dataset.uri, "role": "training"}]}
    o.v1 = version_create(
        actor=sara,
        model=o.model,
        version="1",
        aliases=["champion"],
        metrics=[{"key": "auc", "value": 0.80}],
        **common,
    )
    o.v2 = version_create(
        actor=sara, model=o.model, version="2", metrics=[{"key": "auc", "value": 0.83}], **common
    )
    o.source = registry_source_create(
        actor=ada, name="mlflow-prod", kind="mlflow", base_url="http://127.0.0.1:5000"
    )

    o.item = work_item_create(actor=sara, domain=o.domain, type="task", title="Tune the features")
    o.other_item = work_item_create(actor=eric, domain=o.domain, type="bug", title="Fix the join")
    o.promotion = promotion_request(
        actor=sara, version=o.v2, target="staging", justification="AUC 0.83 beats the champion."
    )
    failed = promotion_request(
        actor=sara, version=o.v1, target="production", justification="The baseline for production."
    )
    PromotionRequest.objects.filter(pk=failed.pk).update(
        status=PromotionStatus.APPROVED,
        decided_by=eric,
        decided_at=timezone.now(),
        apply_status=ApplyStatus.FAILED,
    )
    o.failed_promotion = failed
    dod_attest(actor=eric, model=o.model, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas, 4 GB")

    o.purpose = purpose_create(
        actor=cora,
        name="Personalised recommendations",
        description="Ranking products for a signed-in customer.",
        allowed_legal_bases=["contract", "legitimate_interests"],
    )
    model_purpose_set(actor=sara, model=o.model, purpose=o.purpose)
    ask = dict(
        datasets=[(o.dataset, [])],
        purpose=o.purpose,
        legal_basis="contract",
        justification="Train the home-page ranker.",
        start_date=today,
        expiry_date=today + datetime.timedelta(days=90),
    )
    o.access_request = access_request_create(actor=sara, **ask)  # submitted: eric's owner step is open
    o.draft_request = access_request_create(actor=sara, submit=False, **ask)
    grant = access_request_create(actor=sara, **ask)
    access_request_decide(actor=eric, request=grant, approve=True)
    o.grant = access_request_decide(actor=cora, request=grant, approve=True)
    assert o.grant.status == AccessStatus.APPROVED
    o.campaign = campaign_start(
        actor=cora, name="Q4 re-certification", deadline=today + datetime.timedelta(30)
    )
    o.campaign_item = o.campaign.items.get()

    o.alert, _ = alert_raise(
        model=o.model, condition=AlertCondition.RETRAINING_OVERDUE, severity="warning", summary="Overdue."
    )
    o.script = verification_script_save(
        actor=sara, model=o.model, name="auc-floor", source='print(\'{"passed": true, "checks": []}\')'
    )
    (o.run,) = verification_queue(version=o.v2, trigger="manual", actor=sara, scripts=[o.script])

    # Rows only the Django admin shows, so that every admin page has an object to open.
    o.group = Group.objects.get(name=Role.SCIENTIST.value)
    o.channel = NotificationChannel.objects.create(name="ops", kind="email", target="ops@example.com")
    o.monitoring_policy = MonitoringPolicy.objects.create(domain=o.domain)
    o.crontab = CrontabSchedule.objects.create(minute="0", hour="3")
    o.solar = SolarSchedule.objects.create(event="sunrise", latitude=52.5, longitude=13.4)
    o.clocked = ClockedSchedule.objects.create(clocked_time=timezone.now())
    _axes_rows(o)
    return world


def _axes_rows(o) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    seen = {"ip_address": "10.0.0.1", "user_agent": "curl", "path_info": "/login/", "username": "mallory"}
    o.access_attempt = AccessAttempt.objects.create(get_data="", post_data="", failures_since_start=1, **seen)
    o.access_log = AccessLog.objects.create(**seen)
    o.access_failure = AccessFailureLog.objects.create(locked_out=False, **seen)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded world, shared by every test of a module and rolled back after the last one."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def in_world(world, db):
    """The world for one test, which runs in a savepoint of its own inside the world's transaction (`db`;
    it also tells pytest-django that this session needs a test database)."""
    return world


def send(client, method: str, url: str, data=None, *, json_body: bool, **extra):
    """One request in a savepoint that is rolled back: whatever it writes is undone before the next."""
    with transaction.atomic():
        if method == "GET":
            response = client.get(url, **extra)
        elif json_body:
            response = client.generic(
                method, url, json.dumps(data or {}), content_type="application/json", **extra
            )
        elif method == "POST":
            response = client.post(url, data or {}, **extra)
        else:
            response = client.generic(
                method, url, "", content_type="application/x-www-form-urlencoded", **extra
            )
        transaction.set_rollback(True)
    return response
