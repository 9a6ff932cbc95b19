import pytest

from catalog.services import model_create, version_create
from governance.models import DodItem
from governance.services.dod import dod_attest
from tests.factories import DomainFactory


@pytest.fixture
def domain(db):
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


@pytest.fixture
def ready_model(scientist, domain, engineer):
    """Definition of done complete but for verification; a champion v1 and a better v2."""
    model = model_create(
        actor=scientist,
        name="recs-ranker",
        domain=domain,
        description="Ranks items.",
        intended_use="Home page.",
        limitations="Cold start.",
        ethical_considerations="No sensitive features.",
        primary_metric="auc",
        retrain_every_days=30,
    )
    model.contract = {
        "inputs": [{"name": "user_id", "type": "string"}],
        "outputs": [{"name": "s", "type": "number"}],
    }
    model.save(update_fields=["contract"])
    common = dict(code_commit="a" * 40, datasets=[{"uri": "s3://lake/clicks", "role": "training"}])
    version_create(
        actor=scientist,
        model=model,
        version="1",
        training_reason="initial",
        aliases=["champion"],
        metrics=[{"key": "auc", "value": 0.80}],
        **common,
    )
    version_create(
        actor=scientist,
        model=model,
        version="2",
        training_reason="scheduled",
        metrics=[{"key": "auc", "value": 0.83}],
        **common,
    )
    dod_attest(actor=engineer, model=model, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas, 4 GB")
    model.refresh_from_db()
    return model
