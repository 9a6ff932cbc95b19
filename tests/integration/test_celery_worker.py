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
