"""Governance starting points that several test suites (services, pages, API, browser journeys) share."""

from catalog.models import RegisteredModel
from catalog.services import model_create, version_create
from governance.models import DodItem
from governance.services.dod import dod_attest

CONTRACT = {
    "inputs": [{"name": "customer_id", "type": "string"}],
    "outputs": [{"name": "score", "type": "number"}],
}


def model_ready_for_promotion(
    *, scientist, engineer, domain, dataset_uri="s3://lake/clicks"
) -> RegisteredModel:
    """recs-ranker, owned by `scientist`: its definition of done is complete but for verification (card,
    contract, retraining schedule, scalability attested by `engineer`); v1 (AUC 0.80) is the champion and
    v2 (AUC 0.83) is better, both trained on `dataset_uri`."""
    model = model_create(
        actor=scientist,
        name="recs-ranker",
        domain=domain,
        description="Ranks the products on the home page for a signed-in customer.",
        intended_use="Home page recommendations.",
        limitations="Weak for customers without history.",
        ethical_considerations="No sensitive attributes are used.",
        primary_metric="auc",
        retrain_every_days=30,
    )
    model.contract = CONTRACT
    model.save(update_fields=["contract"])
    common = dict(code_commit="a" * 40, datasets=[{"uri": dataset_uri, "role": "training"}])
    for label, reason, auc, aliases in (("1", "initial", 0.80, ["champion"]), ("2", "scheduled", 0.83, [])):
        version_create(
            actor=scientist,
            model=model,
            version=label,
            training_reason=reason,
            aliases=aliases,
            metrics=[{"key": "auc", "value": auc}],
            **common,
        )
    dod_attest(actor=engineer, model=model, item=DodItem.SCALABILITY_REVIEWED, note="2 replicas, 4 GB")
    model.refresh_from_db()
    return model
