from pathlib import Path

import pytest

from catalog.models import CatalogEvent, CatalogEventKind, RegisteredModel, RegistrySource, SyncStatus
from catalog.registries.manifests import parse_manifest
from catalog.services.registry_sync import registry_sync
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"

GOOD = """\
name: churn-predictor
domain: MKT
description: Who is about to leave.
owners:
  - username: sam
    role: technical
tags: [churn]
model_card:
  intended_use: Retention campaigns.
retraining: {every_days: 30}
datasets:
  - uri: s3://lake/customers
contract:
  outputs: [{name: p_churn, type: number}]
"""


@pytest.fixture
def org():
    DomainFactory(name="Marketing", slug="marketing", key="MKT")
    DomainFactory(name="Personalisation", slug="personalisation", key="PERS")
    DomainFactory(name="Supply chain", slug="supply-chain", key="SUPPLY")
    for name in ("sam", "maria", "priya", "lena"):
        UserFactory(username=name)


def source_for(path: Path) -> RegistrySource:
    return RegistrySource.objects.create(name="manifests", kind="manifests", base_url=str(path))


def test_invalid_file_is_reported_with_line_and_reason():
    data, problems = parse_manifest(
        (EXAMPLES / "marketing" / "promo-uplift-draft.yaml").read_text(), "draft.yaml"
    )
    assert data is None
    reasons = {(p.line, p.reason.split(":")[0]) for p in problems}
    assert (5, "owners.0.role") in reasons  # role: analyst
    assert (7, "retraining.every_days") in reasons  # every_days: weekly


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("name: [unclosed", 1, "not valid YAML"),
        ("- just\n- a list\n", 1, "mapping"),
        ("name: x\ndomain: MKT\n", 1, "'owners' is a required property"),
        ("name: x\ndomain: MKT\nowners: [{username: a}]\ncolour: blue\n", 1, "colour"),
    ],
)
def test_parse_errors(text, line, fragment):
    data, problems = parse_manifest(text, "f.yaml")
    assert data is None
    assert problems[0].line == line
    assert fragment in problems[0].reason


def test_example_folder_syncs_valid_files_and_reports_the_invalid_one(org):
    run = registry_sync(source=source_for(EXAMPLES))
    assert run.status == SyncStatus.SUCCEEDED
    assert set(RegisteredModel.objects.values_list("name", flat=True)) == {
        "search-query-autocomplete",
        "warehouse-labour-planner",
        "promo-uplift-estimator",
    }
    assert run.created == 3
    assert {p["item"] for p in run.problems} == {"marketing/promo-uplift-draft.yaml"}
    model = RegisteredModel.objects.get(name="search-query-autocomplete")
    assert model.domain.key == "PERS" and model.lifecycle == "production"
    assert {(o.user.username, o.role) for o in model.ownerships.select_related("user")} == {
        ("priya", "technical"),
        ("maria", "business"),
    }
    assert sorted(model.tags.values_list("name", flat=True)) == ["ranking", "realtime", "search"]
    assert model.retrain_every_days == 7 and model.primary_metric == "mrr_at_5"
    assert model.contract["inputs"][0] == {"name": "prefix", "type": "string", "required": True}
    assert set(model.input_datasets.values_list("uri", flat=True)) == {
        "s3://lake/events/web/search_queries",
        "s3://lake/curated/product/catalog",
    }
    assert "blocklist" in model.ethical_considerations


def test_resync_is_a_no_op_then_follows_edits_and_deletions(org, tmp_path):
    (tmp_path / "churn.yaml").write_text(GOOD)
    (tmp_path / "other.yml").write_text(GOOD.replace("churn-predictor", "ltv-estimator"))
    source = source_for(tmp_path)
    registry_sync(source=source)
    again = registry_sync(source=source)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)

    (tmp_path / "churn.yaml").write_text(
        GOOD.replace("tags: [churn]", "tags: [churn, retention]").replace("every_days: 30", "every_days: 14")
    )
    (tmp_path / "other.yml").unlink()
    edited = registry_sync(source=source)
    model = RegisteredModel.objects.get(name="churn-predictor")
    assert sorted(model.tags.values_list("name", flat=True)) == ["churn", "retention"]
    assert model.retrain_every_days == 14
    assert edited.updated == 1
    gone = RegisteredModel.objects.get(name="ltv-estimator")
    assert CatalogEvent.objects.filter(model=gone, kind=CatalogEventKind.MODEL_REMOVED).count() == 1


def test_manifest_enriches_a_model_synced_from_another_registry(org, tmp_path):
    mlflow = RegistrySource.objects.create(name="mlflow", kind="mlflow", base_url="http://127.0.0.1:5000")
    model = RegisteredModel.objects.create(
        name="churn-predictor", domain_id=1, source=mlflow, description="from mlflow"
    )
    (tmp_path / "churn.yaml").write_text(GOOD)
    run = registry_sync(source=source_for(tmp_path))
    assert run.status == SyncStatus.SUCCEEDED and not run.problems
    model.refresh_from_db()
    assert model.source == mlflow  # still synced from MLflow
    assert model.manifest_source.name == "manifests"
    assert model.description == "Who is about to leave."
    assert model.ownerships.get().user.username == "sam"


def test_unknown_owner_is_a_problem_not_a_failure(org, tmp_path):
    (tmp_path / "m.yaml").write_text(GOOD.replace("username: sam", "username: nobody"))
    run = registry_sync(source=source_for(tmp_path))
    assert run.status == SyncStatus.SUCCEEDED
    assert any("nobody" in p["reason"] for p in run.problems)


def test_missing_directory_fails_the_sync_readably(tmp_path):
    run_source = source_for(tmp_path / "nope")
    from catalog.registries.base import RegistryError

    with pytest.raises(RegistryError, match="does not exist"):
        registry_sync(source=run_source)
