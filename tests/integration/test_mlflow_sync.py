"""Sync against a real MLflow server: the catalog matches MLflow field by field, and follows its changes."""

import uuid

import pandas as pd
import pytest

from catalog.models import (
    CatalogEvent,
    CatalogEventKind,
    Dataset,
    MetricPoint,
    ModelVersion,
    RegisteredModel,
    RegistrySource,
    SyncStatus,
)
from catalog.services.registry_sync import registry_sync
from tests.factories import DomainFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def log_training_run(mlflow, *, auc: float, commit: str, parent_run_id: str | None = None):
    """A run as scientists log them: params, a loss curve, a final metric, git tags and dataset inputs."""
    with mlflow.start_run() as run:
        mlflow.log_params({"learning_rate": 0.05, "max_depth": 6})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metric("auc", auc)
        mlflow.set_tags(
            {
                "mlflow.source.git.commit": commit,
                "mlflow.source.git.repoURL": "https://git.example.com/ds/churn",
            }
        )
        if parent_run_id:
            mlflow.set_tag("mlflow.parentRunId", parent_run_id)
        frame = pd.DataFrame({"customer_id": [1, 2], "churned": [0, 1]})
        mlflow.log_input(
            mlflow.data.from_pandas(frame, source="s3://lake/customers", name="customers"), context="training"
        )
        mlflow.log_input(
            mlflow.data.from_pandas(frame, source="s3://lake/holdout", name="holdout"), context="evaluation"
        )
    return run


@pytest.fixture
def world(mlflow_client):
    """A fresh MLflow model (unique name) with two versions and a champion alias."""
    import mlflow

    mlflow.set_experiment(f"exp-{uuid.uuid4().hex[:6]}")
    name = f"churn-{uuid.uuid4().hex[:8]}"
    run1 = log_training_run(mlflow, auc=0.80, commit="a" * 40)
    run2 = log_training_run(mlflow, auc=0.84, commit="b" * 40, parent_run_id=run1.info.run_id)
    mlflow_client.create_registered_model(
        name, tags={"domain": "personalisation", "team": "growth"}, description="Predicts **churn**."
    )
    v1 = mlflow_client.create_model_version(name, f"runs:/{run1.info.run_id}/model", run_id=run1.info.run_id)
    v2 = mlflow_client.create_model_version(
        name, f"runs:/{run2.info.run_id}/model", run_id=run2.info.run_id, tags={"validated": "yes"}
    )
    mlflow_client.set_registered_model_alias(name, "champion", v2.version)
    return {"name": name, "runs": (run1, run2), "versions": (v1, v2), "client": mlflow_client}


@pytest.fixture
def source(mlflow_server):
    domain = DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    DomainFactory(name="Unused", slug="unused", key="UNUSED")
    return RegistrySource.objects.create(
        name="mlflow-test", kind="mlflow", base_url=mlflow_server, default_domain=domain
    )


def test_sync_brings_in_models_versions_and_lineage_field_by_field(world, source):
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED, run.error

    model = RegisteredModel.objects.get(name=world["name"])
    assert model.source == source
    assert model.domain.slug == "personalisation"
    assert model.description == "Predicts **churn**."
    assert model.registry_tags == {"domain": "personalisation", "team": "growth"}
    assert model.source_url.endswith(f"/#/models/{world['name']}")
    assert model.version_count == 2 and model.latest_version.version == "2"

    v1, v2 = (ModelVersion.objects.get(model=model, version=v) for v in ("1", "2"))
    run1, run2 = world["runs"]
    assert v2.run_id == run2.info.run_id
    assert v2.source_uri == f"runs:/{run2.info.run_id}/model"
    assert v2.status == "ready"
    assert v2.tags == {"validated": "yes"}
    assert v2.hyperparameters == {"learning_rate": "0.05", "max_depth": "6"}
    assert v2.code_commit == "b" * 40
    assert v2.code_repository == "https://git.example.com/ds/churn"
    assert v2.parent == v1 and v2.parent_run_id == run1.info.run_id
    assert {m.key: m.value for m in v2.metrics.all()} == {"auc": 0.84, "loss": 0.2}
    loss = list(
        MetricPoint.objects.filter(version=v2, key="loss").order_by("step").values_list("step", "value")
    )
    assert loss == [(0, 1.0), (1, 0.5), (2, 1 / 3), (3, 0.25), (4, 0.2)]
    links = {(link.dataset.uri, link.role) for link in v2.dataset_links.select_related("dataset")}
    assert links == {("s3://lake/customers", "training"), ("s3://lake/holdout", "evaluation")}
    assert Dataset.objects.get(uri="s3://lake/customers").name == "customers"
    assert {a.alias: a.version.version for a in model.aliases.select_related("version")} == {"champion": "2"}
    assert CatalogEvent.objects.filter(
        model=model, kind=CatalogEventKind.ALIAS_SET, alias="champion"
    ).exists()


def test_no_change_resync_reads_little_and_writes_nothing(world, source):
    registry_sync(source=source)
    before = {m.pk: m.updated_at for m in RegisteredModel.objects.all()}
    second = registry_sync(source=source)
    assert second.status == SyncStatus.SUCCEEDED
    assert (second.created, second.updated, second.removed) == (0, 0, 0)
    assert second.http_calls <= 2
    assert {m.pk: m.updated_at for m in RegisteredModel.objects.all()} == before


def test_resync_follows_changes_made_in_mlflow(world, source):
    import mlflow

    client, name = world["client"], world["name"]
    registry_sync(source=source)

    run3 = log_training_run(mlflow, auc=0.86, commit="c" * 40)
    client.create_model_version(name, f"runs:/{run3.info.run_id}/model", run_id=run3.info.run_id)
    client.set_registered_model_alias(name, "champion", "3")
    client.set_registered_model_tag(name, "team", "retention")
    client.delete_model_version(name, "1")

    incremental = registry_sync(source=source)
    assert incremental.status == SyncStatus.SUCCEEDED, incremental.error
    model = RegisteredModel.objects.get(name=name)
    assert model.latest_version.version == "3"
    assert model.registry_tags["team"] == "retention"
    assert model.aliases.get(alias="champion").version.version == "3"
    moved = CatalogEvent.objects.get(model=model, kind=CatalogEventKind.ALIAS_MOVED, alias="champion")
    assert moved.details == {"from_version": "2", "to_version": "3"}

    # Deletions are only visible to a full sweep; the version is marked removed, not deleted.
    full = registry_sync(source=source, full=True)
    assert full.removed == 1
    removed = ModelVersion.objects.get(model=model, version="1")
    assert removed.status == "removed"
    assert removed.metrics.exists()  # history stays
    assert CatalogEvent.objects.filter(
        model=model, kind=CatalogEventKind.VERSION_REMOVED, version=removed
    ).exists()
    model.refresh_from_db()
    assert model.version_count == 2


def test_name_conflict_with_hand_registered_model_is_reported_not_overwritten(world, source, scientist):
    from catalog.services import model_create

    mine = model_create(actor=scientist, name=world["name"], domain=source.default_domain, description="mine")
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED
    mine.refresh_from_db()
    assert mine.description == "mine" and mine.source is None
    assert any(world["name"] == p["item"] and "already in the catalog" in p["reason"] for p in run.problems)
