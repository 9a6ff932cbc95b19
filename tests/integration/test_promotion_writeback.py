"""Promotions against real infrastructure: concurrent approvals on PostgreSQL, write-back to real MLflow."""

import threading
import uuid

import pytest
from django.db import connection, connections

from catalog.models import ModelVersion, RegisteredModel, RegistrySource
from catalog.services.registry_sync import registry_sync
from governance.models import ApplyStatus, AuditEvent, PromotionRequest, PromotionStatus
from governance.services.promotions import (
    promotion_approve,
    promotion_request,
    promotion_retry_apply,
    promotion_waive_gate,
)
from portal.exceptions import DomainError
from tests.conftest import skip_or_fail
from tests.factories import DomainFactory

pytestmark = pytest.mark.integration


def waive(promotion, engineer):
    """Waive whatever fails (a passing gate cannot be waived)."""
    from governance.services.gates import FAIL, gates_evaluate

    for result in gates_evaluate(promotion=promotion):
        if result.status == FAIL:
            promotion_waive_gate(
                actor=engineer, promotion=promotion, gate=result.gate, reason="Checked by hand for tests."
            )


@pytest.fixture
def mlflow_model(mlflow_client, scientist):
    name = f"ranker-{uuid.uuid4().hex[:8]}"
    mlflow_client.create_registered_model(name, tags={"domain": "personalisation"})
    for _ in range(2):
        mlflow_client.create_model_version(name, "s3://models/ranker", run_id=None)
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    source = RegistrySource.objects.create(
        name=f"mlflow-{name}", kind="mlflow", base_url=mlflow_client.tracking_uri, default_domain=domain
    )
    assert registry_sync(source=source).status == "succeeded"
    model = RegisteredModel.objects.get(name=name)
    from catalog.models import ModelOwner

    ModelOwner.objects.create(model=model, user=scientist, role="technical")
    return model


@pytest.mark.django_db
def test_approval_writes_the_alias_back_to_mlflow(
    mlflow_model, mlflow_client, scientist, engineer, django_capture_on_commit_callbacks
):
    version = ModelVersion.objects.get(model=mlflow_model, version="2")
    promotion = promotion_request(
        actor=scientist,
        version=version,
        target="production",
        justification="Beats v1 on every offline metric.",
    )
    waive(promotion, engineer)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=promotion)
    promotion.refresh_from_db()
    assert promotion.apply_status == ApplyStatus.APPLIED, promotion.apply_error
    assert mlflow_client.get_model_version_by_alias(mlflow_model.name, "production").version == "2"
    # The next sync sees the alias it already knows: no "changed outside Modelhouse" event.
    from catalog.models import CatalogEvent

    source = mlflow_model.source
    registry_sync(source=source, full=True)
    assert not CatalogEvent.objects.filter(model=mlflow_model, alias="production").exists()


@pytest.mark.django_db
def test_failed_write_back_is_recorded_and_can_be_retried(
    mlflow_model, scientist, engineer, make_user, django_capture_on_commit_callbacks, monkeypatch
):
    from governance import tasks

    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: 0)
    version = ModelVersion.objects.get(model=mlflow_model, version="2")
    promotion = promotion_request(
        actor=scientist, version=version, target="champion", justification="Champion for the A/B test."
    )
    waive(promotion, engineer)
    real_url = mlflow_model.source.base_url
    RegistrySource.objects.filter(pk=mlflow_model.source_id).update(base_url="http://127.0.0.1:9")  # refused
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_approve(actor=engineer, promotion=promotion)
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.APPROVED
    assert promotion.apply_status == ApplyStatus.FAILED and "Cannot reach MLflow" in promotion.apply_error
    assert promotion.apply_attempts == tasks.APPLY_MAX_RETRIES + 1
    assert AuditEvent.objects.filter(action="promotion.apply_failed").count() == 1

    RegistrySource.objects.filter(pk=mlflow_model.source_id).update(base_url=real_url)
    with django_capture_on_commit_callbacks(execute=True):
        promotion_retry_apply(actor=make_user("engineer", username="lena"), promotion=promotion)
    promotion.refresh_from_db()
    assert promotion.apply_status == ApplyStatus.APPLIED


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_yield_exactly_one_decision(scientist, engineer, make_user, ready_model):
    if connection.vendor != "postgresql":
        skip_or_fail("row locks need PostgreSQL (set DATABASE_URL)")
    other = make_user("engineer", username="lena")
    version = ModelVersion.objects.get(model=ready_model, version="2")
    promotion = promotion_request(
        actor=scientist, version=version, target="champion", justification="Race condition test."
    )
    waive(promotion, engineer)
    barrier, outcomes = threading.Barrier(2), []

    def decide(user):
        try:
            barrier.wait()
            promotion_approve(actor=user, promotion=PromotionRequest.objects.get(pk=promotion.pk))
            outcomes.append(("approved", user.username))
        except DomainError as exc:
            outcomes.append(("refused", str(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (engineer, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(kind for kind, _ in outcomes) == ["approved", "refused"]
    assert "already approved" in next(text for kind, text in outcomes if kind == "refused")
    assert AuditEvent.objects.filter(action="promotion.approved").count() == 1
