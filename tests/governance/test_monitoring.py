import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from catalog.models import Dataset, ModelAlias, ModelVersion, RegisteredModel
from governance.models import (
    Alert,
    AuditEvent,
    Delivery,
    MonitoringPolicy,
    NotificationChannel,
    PromotionRequest,
    WorkItem,
)
from governance.services.monitoring import (
    alert_acknowledge,
    alert_raise,
    alert_resolve,
    monitoring_run,
    prediction_stats_record,
    webhook_signature,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def production(ready_model):
    RegisteredModel.objects.filter(pk=ready_model.pk).update(lifecycle="production")
    ready_model.refresh_from_db()
    return ready_model


def active(model, condition):
    return Alert.objects.filter(model=model, condition=condition, state__in=("open", "acknowledged")).first()


def test_retraining_overdue_fires_and_resolves(production):
    RegisteredModel.objects.filter(pk=production.pk).update(
        next_retrain_due=timezone.now() - datetime.timedelta(days=3)
    )
    assert monitoring_run(condition="retraining_overdue")["raised"] == 1
    alert = active(production, "retraining_overdue")
    assert "3 day(s) overdue" in alert.summary and alert.owner.username == "sara"
    RegisteredModel.objects.filter(pk=production.pk).update(
        next_retrain_due=timezone.now() + datetime.timedelta(days=3)
    )
    assert monitoring_run(condition="retraining_overdue")["resolved"] == 1
    assert active(production, "retraining_overdue") is None


def test_data_stale(production):
    Dataset.objects.filter(uri="s3://lake/clicks").update(
        last_updated_at=timezone.now() - datetime.timedelta(days=5)
    )
    monitoring_run(condition="data_stale")
    assert "clicks" in active(production, "data_stale").summary
    Dataset.objects.filter(uri="s3://lake/clicks").update(last_updated_at=timezone.now())
    monitoring_run(condition="data_stale")
    assert active(production, "data_stale") is None


def test_retraining_variance(production):
    v2 = ModelVersion.objects.get(model=production, version="2")
    v2.metrics.filter(key="auc").update(value=0.60)  # from 0.80: -25 %
    monitoring_run(condition="retraining_variance")
    assert "25.0%" in active(production, "retraining_variance").summary
    v2.metrics.filter(key="auc").update(value=0.81)
    monitoring_run(condition="retraining_variance")
    assert active(production, "retraining_variance") is None


def test_prediction_bias_and_variance_from_posted_stats(production, scientist):
    prediction_stats_record(
        actor=scientist,
        model=production,
        day=TODAY,
        count=10_000,
        mean=0.20,
        std=0.05,
        is_baseline=True,
        segment_means={"new": 0.2, "returning": 0.2},
    )
    prediction_stats_record(
        actor=scientist,
        model=production,
        day=TODAY,
        count=9_000,
        mean=0.21,
        std=0.05,
        segment_means={"new": 0.21, "returning": 0.2},
    )
    monitoring_run(condition="prediction_bias")
    assert active(production, "prediction_bias") is None and active(production, "prediction_variance") is None
    # A segment drifts and the spread triples.
    prediction_stats_record(
        actor=scientist,
        model=production,
        day=TODAY,
        count=9_000,
        mean=0.22,
        std=0.16,
        segment_means={"new": 0.45, "returning": 0.2},
    )
    monitoring_run(condition="prediction_bias")
    bias = active(production, "prediction_bias")
    assert bias.severity == "critical" and "new" in bias.summary
    assert "3.2x" in active(production, "prediction_variance").summary


def test_unapproved_production_alias(production):
    from catalog.models import CatalogEvent

    v1 = ModelVersion.objects.get(model=production, version="1")
    ModelAlias.objects.create(model=production, alias="production", version=v1)
    CatalogEvent.objects.create(model=production, version=v1, kind="alias_set", alias="production")
    monitoring_run(condition="unapproved_alias")
    assert active(production, "unapproved_alias").severity == "critical"


def test_verification_failing_in_production(production, scientist):
    from governance.services.verification import (
        verification_execute,
        verification_queue,
        verification_script_save,
    )

    v2 = ModelVersion.objects.get(model=production, version="2")
    ModelAlias.objects.create(model=production, alias="production", version=v2)
    verification_script_save(
        actor=scientist, model=production, name="fails", source='print(\'{"passed": false, "checks": []}\')'
    )
    (run,) = verification_queue(version=v2, trigger="manual")
    verification_execute(run_id=run.pk)
    monitoring_run(condition="verification_failing")
    assert "fails (failed)" in active(production, "verification_failing").summary


def test_one_active_alert_per_model_and_condition(production):
    first, new = alert_raise(model=production, condition="data_stale", severity="warning", summary="old data")
    again, new_again = alert_raise(
        model=production, condition="data_stale", severity="critical", summary="older"
    )
    assert new and not new_again and first.pk == again.pk
    again.refresh_from_db()
    assert again.occurrences == 2 and again.severity == "critical"
    assert AuditEvent.objects.filter(action="alert.escalated").count() == 1


def test_acknowledge_and_resolve_by_hand(production, engineer):
    alert, _ = alert_raise(model=production, condition="data_stale", severity="warning", summary="old data")
    alert_acknowledge(actor=engineer, alert=alert)
    resolved = alert_resolve(actor=engineer, alert=alert, resolution="Backfilled the clicks table.")
    assert resolved.state == "resolved"
    # A new occurrence opens a fresh alert.
    fresh, is_new = alert_raise(
        model=production, condition="data_stale", severity="warning", summary="old again"
    )
    assert is_new and fresh.pk != alert.pk


def test_mitigations_open_an_incident_block_promotions_and_roll_back(
    production, scientist, engineer, django_capture_on_commit_callbacks
):
    from governance.services.gates import gates_evaluate
    from governance.services.promotions import promotion_approve, promotion_request, promotion_waive_gate

    v1, v2 = (ModelVersion.objects.get(model=production, version=v) for v in ("1", "2"))
    for version in (v1, v2):  # two approved production promotions, so there is something to roll back to
        promotion = promotion_request(
            actor=scientist,
            version=version,
            target="production",
            justification="Release for the spring campaign.",
        )
        for gate in gates_evaluate(promotion=promotion):
            if gate.status == "fail":
                promotion_waive_gate(
                    actor=engineer, promotion=promotion, gate=gate.gate, reason="Accepted for test."
                )
        with django_capture_on_commit_callbacks(execute=True):
            promotion_approve(actor=engineer, promotion=promotion)
    MonitoringPolicy.objects.create(
        model=production, mitigations=["incident", "block_promotions", "rollback"]
    )

    alert, _ = alert_raise(
        model=production, condition="prediction_bias", severity="critical", summary="Drifted."
    )
    alert.refresh_from_db()
    incident = WorkItem.objects.get(pk=alert.incident_id)
    assert (
        incident.type == "incident"
        and incident.assignee.username == "sara"
        and incident.priority == "critical"
    )
    rollback = PromotionRequest.objects.get(is_rollback=True)
    assert rollback.is_automatic and rollback.version == v1 and rollback.status == "pending"
    assert [m["mitigation"] for m in alert.mitigations] == ["incident", "block_promotions", "rollback"]
    assert AuditEvent.objects.filter(action="alert.mitigated", target_id=str(alert.pk)).exists()
    gate = {g.gate: g for g in gates_evaluate(promotion=rollback)}["no_blocking_incident"]
    assert gate.status == "fail" and "critical alert" in gate.evidence


class Hook(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        Hook.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def hook_server():
    Hook.received, Hook.fail_first = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def test_notifications_email_and_signed_webhook_with_retries(
    production, hook_server, monkeypatch, django_capture_on_commit_callbacks
):
    from governance import tasks
    from portal.celery import app

    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: 0)
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    NotificationChannel.objects.create(name="ops mail", kind="email", target="ops@example.com")
    NotificationChannel.objects.create(
        name="pager", kind="webhook", target=hook_server, secret_env="HOOK_SECRET", min_severity="critical"
    )
    Hook.fail_first = 2
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(model=production, condition="prediction_bias", severity="critical", summary="Drifted.")
    assert mail.outbox and "recs-ranker" in mail.outbox[0].subject
    (headers, body) = Hook.received[0]
    assert headers["X-Modelhouse-Signature"] == webhook_signature("s3cret", body)
    assert json.loads(body)["alert"]["condition"] == "prediction_bias"
    webhook = Delivery.objects.get(channel__kind="webhook")
    assert webhook.status == "sent" and webhook.attempts == 3


def test_warning_alerts_skip_critical_only_channels(production, django_capture_on_commit_callbacks):
    NotificationChannel.objects.create(
        name="pager", kind="webhook", target="http://127.0.0.1:9/x", min_severity="critical"
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert_raise(model=production, condition="data_stale", severity="warning", summary="old data")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"mean": float("nan")}, "mean"),
        ({"std": -1.0}, "std"),
        ({"count": -5}, "count"),
        ({"segment_means": {"a": "x"}}, "segment_means"),
        ({"day": TODAY + datetime.timedelta(days=2)}, "day"),
    ],
)
def test_bad_prediction_stats_are_refused(production, scientist, kwargs, field):
    from django.core.exceptions import ValidationError

    base = dict(actor=scientist, model=production, day=TODAY, count=10, mean=0.1, std=0.1)
    with pytest.raises(ValidationError) as exc:
        prediction_stats_record(**{**base, **kwargs})
    assert field in exc.value.message_dict


def test_prediction_alerts_resolve_when_the_day_is_back_to_normal(production, scientist):
    prediction_stats_record(
        actor=scientist, model=production, day=TODAY, count=10, mean=0.2, std=0.05, is_baseline=True
    )
    prediction_stats_record(actor=scientist, model=production, day=TODAY, count=10, mean=0.5, std=0.2)
    monitoring_run(condition="prediction_bias")
    assert active(production, "prediction_bias") and active(production, "prediction_variance")
    prediction_stats_record(actor=scientist, model=production, day=TODAY, count=10, mean=0.21, std=0.05)
    assert monitoring_run(condition="prediction_bias")["resolved"] == 2


def test_unapproved_alias_resolves_once_an_approved_promotion_holds_it(
    production, scientist, engineer, django_capture_on_commit_callbacks
):
    from catalog.models import CatalogEvent
    from governance.services.gates import gates_evaluate
    from governance.services.promotions import promotion_approve, promotion_request, promotion_waive_gate

    v1, v2 = (ModelVersion.objects.get(model=production, version=v) for v in ("1", "2"))
    ModelAlias.objects.create(model=production, alias="production", version=v1)
    CatalogEvent.objects.create(model=production, version=v1, kind="alias_set", alias="production")
    monitoring_run(condition="unapproved_alias")
    assert active(production, "unapproved_alias")
    promotion = promotion_request(
        actor=scientist, version=v2, target="production", justification="Approved path."
    )
    for gate in gates_evaluate(promotion=promotion):
        if gate.status == "fail":
            promotion_waive_gate(
                actor=engineer, promotion=promotion, gate=gate.gate, reason="Accepted for test."
            )
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=promotion)
    monitoring_run(condition="unapproved_alias")
    assert active(production, "unapproved_alias") is None


def test_verification_failing_resolves_when_the_script_passes(production, scientist):
    from governance.services.verification import (
        verification_execute,
        verification_queue,
        verification_script_save,
    )

    v2 = ModelVersion.objects.get(model=production, version="2")
    ModelAlias.objects.create(model=production, alias="production", version=v2)
    verification_script_save(
        actor=scientist, model=production, name="gate", source='print(\'{"passed": false, "checks": []}\')'
    )
    verification_execute(run_id=verification_queue(version=v2, trigger="manual")[0].pk)
    monitoring_run(condition="verification_failing")
    assert active(production, "verification_failing")
    verification_script_save(
        actor=scientist, model=production, name="gate", source='print(\'{"passed": true, "checks": []}\')'
    )
    verification_execute(run_id=verification_queue(version=v2, trigger="manual")[0].pk)
    monitoring_run(condition="verification_failing")
    assert active(production, "verification_failing") is None


def test_data_access_lapsed_fires_and_resolves(production, scientist, compliance, make_user):
    from governance.services.data_access import (
        access_request_create,
        access_request_decide,
        grant_revoke,
        model_purpose_set,
        purpose_create,
    )

    owner = make_user("engineer", username="olga")
    Dataset.objects.filter(uri="s3://lake/clicks").update(pii_categories=["behaviour"], owner=owner)
    clicks = Dataset.objects.get(uri="s3://lake/clicks")
    v2 = ModelVersion.objects.get(model=production, version="2")
    ModelAlias.objects.create(model=production, alias="production", version=v2)
    purpose = purpose_create(
        actor=compliance, name="Recommendations", description="Ranking.", allowed_legal_bases=["contract"]
    )
    model_purpose_set(actor=scientist, model=production, purpose=purpose)
    monitoring_run(condition="data_access_lapsed")
    assert active(production, "data_access_lapsed")  # personal data, no grant
    request = access_request_create(
        actor=scientist,
        datasets=[(clicks, [])],
        purpose=purpose,
        legal_basis="contract",
        justification="Train the ranker.",
        start_date=TODAY,
        expiry_date=TODAY + datetime.timedelta(days=90),
    )
    access_request_decide(actor=owner, request=request, approve=True)
    access_request_decide(actor=compliance, request=request, approve=True)
    monitoring_run(condition="data_access_lapsed")
    assert active(production, "data_access_lapsed") is None
    grant_revoke(actor=compliance, request=request, reason="Consent withdrawn by the data subjects.")
    monitoring_run(condition="data_access_lapsed")
    assert active(production, "data_access_lapsed").severity == "critical"
