import pytest

from catalog.models import RegisteredModel
from catalog.selectors import model_list
from catalog.services import domain_update
from tests.factories import DomainFactory, RegisteredModelFactory

from .conftest import wait_until

pytestmark = pytest.mark.integration


def test_domain_rename_reindexes_models_through_a_real_worker(celery_worker_process, admin_user):
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    models = [RegisteredModelFactory(domain=domain) for _ in range(3)]
    assert not list(model_list(user=admin_user, filters={"q": "recommendations"}))

    # The service schedules the task on commit; the worker process picks it up from Redis.
    domain_update(actor=admin_user, domain=domain, name="Recommendations")

    def reindexed() -> bool:
        return RegisteredModel.objects.filter(search_document__contains="Recommendations").count() == 3

    wait_until(reindexed, message="the worker to refresh the search documents")
    found = {m.pk for m in model_list(user=admin_user, filters={"q": "recommendations"})}
    assert found == {m.pk for m in models}


def test_sync_now_runs_through_a_real_worker_against_real_mlflow(
    celery_worker_process, mlflow_client, admin_user
):
    import uuid

    from catalog.models import RegistrySource, SyncRun, SyncStatus
    from catalog.services.registries import registry_sync_request

    name = f"worker-model-{uuid.uuid4().hex[:8]}"
    mlflow_client.create_registered_model(name, description="synced by the worker")
    source = RegistrySource.objects.create(
        name="mlflow-worker",
        kind="mlflow",
        base_url=mlflow_client.tracking_uri,
        default_domain=DomainFactory(name="Risk", slug="risk", key="RISK"),
    )
    run = registry_sync_request(actor=admin_user, source=source)
    assert run.status == SyncStatus.RUNNING and run.trigger == "manual"

    def finished() -> bool:
        return SyncRun.objects.get(pk=run.pk).status != SyncStatus.RUNNING

    wait_until(finished, timeout=60, message="the worker to finish the sync")
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert RegisteredModel.objects.get(name=name).description == "synced by the worker"
    assert SyncRun.objects.filter(source=source).count() == 1  # the requested run, not a second one
