import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.models import Dataset, MetricPoint, ModelAlias, RegisteredModel, VersionMetric
from catalog.selectors import dataset_usage, model_list
from catalog.services import (
    model_create,
    model_update,
    version_create,
    version_datasets_link,
    version_metrics_log,
)
from portal.roles import Role
from tests.factories import DomainFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain():
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


def test_model_create_makes_actor_owner_and_indexes_for_search(scientist, domain):
    model = model_create(
        actor=scientist,
        name="churn-predictor",
        domain=domain,
        description="Who leaves",
        tags=["Churn", "gbm"],
    )
    assert list(model.owners.all()) == [scientist]
    assert sorted(model.tags.values_list("name", flat=True)) == ["churn", "gbm"]
    assert [m.name for m in model_list(user=scientist, filters={"q": "personalis"})] == ["churn-predictor"]
    assert [m.name for m in model_list(user=scientist, filters={"q": "sara"})] == ["churn-predictor"]
    assert list(model_list(user=scientist, filters={"q": "nothing-like-this"})) == []


def test_model_create_refuses_duplicates_bad_names_and_oversized_text(scientist, domain):
    model_create(actor=scientist, name="m1", domain=domain)
    with pytest.raises(ValidationError) as exc:
        model_create(actor=scientist, name="m1", domain=domain)
    assert "already registered" in exc.value.message_dict["name"][0]
    with pytest.raises(ValidationError) as exc:
        model_create(actor=scientist, name="a/b", domain=domain)
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        model_create(actor=scientist, name="m2", domain=domain, description="x" * 20_001)
    assert "description" in exc.value.message_dict
    assert RegisteredModel.objects.count() == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COMPLIANCE])
def test_only_writers_register_models(make_user, domain, role):
    with pytest.raises(PermissionDenied):
        model_create(actor=make_user(role), name="m", domain=domain)


def test_only_owners_and_admins_edit(scientist, make_user, domain, admin_user):
    model = model_create(actor=scientist, name="m", domain=domain)
    other = make_user(Role.SCIENTIST, username="other")
    with pytest.raises(PermissionDenied):
        model_update(actor=other, model=model, description="mine now")
    model_update(actor=admin_user, model=model, description="curated")
    model.refresh_from_db()
    assert model.description == "curated"


def test_version_create_records_full_lineage_in_one_go(scientist, domain):
    model = model_create(actor=scientist, name="m", domain=domain, retrain_every_days=30)
    v1 = version_create(actor=scientist, model=model, version="1")
    v2 = version_create(
        actor=scientist,
        model=model,
        version="2",
        parent_version="1",
        code_commit="abc123",
        hyperparameters={"lr": 0.1},
        metrics=[{"key": "auc", "value": 0.7, "step": 0}, {"key": "auc", "value": 0.8, "step": 1}],
        datasets=[
            {"uri": "s3://lake/orders", "role": "training", "digest": "d1"},
            {"uri": "s3://lake/holdout", "role": "evaluation"},
        ],
        aliases=["champion"],
    )
    model.refresh_from_db()
    assert model.latest_version == v2 and model.version_count == 2
    assert model.next_retrain_due is not None
    assert v2.parent == v1
    assert VersionMetric.objects.get(version=v2, key="auc").value == 0.8
    assert MetricPoint.objects.filter(version=v2).count() == 2
    assert ModelAlias.objects.get(model=model, alias="champion").version == v2
    orders = Dataset.objects.get(uri="s3://lake/orders")
    assert [u["model"].name for u in dataset_usage(dataset=orders)] == ["m"]


def test_version_create_is_all_or_nothing(scientist, domain):
    model = model_create(actor=scientist, name="m", domain=domain)
    with pytest.raises(ValidationError):
        version_create(
            actor=scientist,
            model=model,
            version="1",
            metrics=[{"key": "auc", "value": "not a number"}],
            datasets=[{"uri": "s3://x"}],
        )
    assert model.versions.count() == 0
    assert not Dataset.objects.exists()


def test_metrics_log_keeps_summary_at_latest_step(scientist, domain):
    model = model_create(actor=scientist, name="m", domain=domain)
    version = version_create(
        actor=scientist, model=model, version="1", metrics=[{"key": "loss", "value": 0.5, "step": 10}]
    )
    version_metrics_log(actor=scientist, version=version, points=[{"key": "loss", "value": 0.9, "step": 3}])
    summary = VersionMetric.objects.get(version=version, key="loss")
    assert (summary.value, summary.step, summary.point_count) == (0.5, 10, 2)
    version_metrics_log(actor=scientist, version=version, points=[{"key": "loss", "value": 0.4, "step": 11}])
    summary.refresh_from_db()
    assert (summary.value, summary.step, summary.point_count) == (0.4, 11, 3)


@pytest.mark.parametrize(
    "points, message",
    [
        ([], "non-empty"),
        ([{"key": "", "value": 1}], "key"),
        ([{"key": "auc", "value": float("nan")}], "finite"),
        ([{"key": "auc", "value": 1, "step": -1}], "step"),
        ([{"key": "auc", "value": 1, "step": 1.5}], "step"),
    ],
)
def test_metrics_log_rejects_bad_points(scientist, domain, points, message):
    model = model_create(actor=scientist, name="m", domain=domain)
    version = version_create(actor=scientist, model=model, version="1")
    with pytest.raises(ValidationError) as exc:
        version_metrics_log(actor=scientist, version=version, points=points)
    assert message in str(exc.value)


def test_datasets_link_reuses_catalog_entries(scientist, domain):
    model = model_create(actor=scientist, name="m", domain=domain)
    version = version_create(actor=scientist, model=model, version="1")
    version_datasets_link(actor=scientist, version=version, datasets=[{"uri": "s3://lake/a", "name": "A"}])
    version_datasets_link(
        actor=scientist, version=version, datasets=[{"uri": "s3://lake/a", "digest": "new"}]
    )
    assert Dataset.objects.count() == 1
    assert version.dataset_links.get().digest == "new"


def test_filters_reject_unknown_values(scientist):
    RegisteredModelFactory()
    with pytest.raises(ValidationError) as exc:
        list(model_list(user=scientist, filters={"domain": "no-such-domain"}))
    assert "domain" in exc.value.message_dict
    with pytest.raises(ValidationError):
        list(model_list(user=scientist, filters={"lifecycle": "bogus"}))


def test_owners_set_the_contract_and_bad_contracts_are_refused(scientist, domain):
    model = model_create(actor=scientist, name="m", domain=domain)
    contract = {
        "inputs": [{"name": "user_id", "type": "string"}],
        "outputs": [{"name": "p", "type": "number"}],
    }
    model_update(actor=scientist, model=model, contract=contract, regression_tolerance=0.01)
    model.refresh_from_db()
    assert model.contract == contract and model.regression_tolerance == 0.01
    for bad in ({"inputs": "x"}, {"inputs": [{"name": "a", "type": "blob"}]}, {"extra": []}, []):
        with pytest.raises(ValidationError) as exc:
            model_update(actor=scientist, model=model, contract=bad)
        assert "contract" in exc.value.message_dict


def test_compliance_classifies_a_dataset_with_retention(scientist, compliance, domain):
    from catalog.services import dataset_create, dataset_update

    dataset = dataset_create(actor=scientist, uri="s3://lake/orders", name="orders")
    assert dataset.owner == scientist
    dataset_update(
        actor=compliance,
        dataset=dataset,
        pii_categories=["purchase_history"],
        retention_days=730,
        sensitivity="confidential",
    )
    dataset.refresh_from_db()
    assert (dataset.retention_days, dataset.pii_categories, dataset.sensitivity) == (
        730,
        ["purchase_history"],
        "confidential",
    )
