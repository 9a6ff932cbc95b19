from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from catalog.models import RegisteredModel, RegistrySource, SyncRun, SyncStatus
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"


@pytest.fixture
def demo_org():
    for key, slug in (("PERS", "personalisation"), ("MKT", "marketing"), ("SUPPLY", "supply-chain")):
        DomainFactory(name=slug.title(), slug=slug, key=key)
    for name in ("priya", "maria", "lena", "sam"):
        UserFactory(username=name)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_registry_then_update_it():
    out, _ = run(
        "add_registry", "prod", "--kind", "mlflow", "--url", "http://127.0.0.1:5000", "--poll-seconds", "60"
    )
    assert "Added registry 'prod'" in out
    assert PeriodicTask.objects.get(task="catalog.registry_sync").interval.every == 60
    out, _ = run("add_registry", "prod", "--kind", "mlflow", "--url", "http://127.0.0.1:5001", "--disabled")
    assert "Updated" in out
    source = RegistrySource.objects.get(name="prod")
    assert source.base_url == "http://127.0.0.1:5001" and not source.is_enabled
    assert RegistrySource.objects.count() == 1


def test_add_registry_rejects_bad_settings_readably():
    with pytest.raises(CommandError, match="base_url"):
        run("add_registry", "bad", "--kind", "mlflow", "--url", "not-a-url")
    with pytest.raises(CommandError, match="No domain"):
        run("add_registry", "bad", "--kind", "mlflow", "--url", "http://m:5000", "--default-domain", "nope")


def test_sync_registry_prints_counts_and_problems(demo_org):
    run("add_registry", "demo-manifests", "--kind", "manifests", "--url", str(EXAMPLES))
    out, err = run("sync_registry", "demo-manifests")
    assert "3 created, 0 updated, 0 unchanged, 0 removed" in out
    assert "promo-uplift-draft.yaml:5" in err
    out, _ = run("sync_registry", "demo-manifests")
    assert "0 created, 0 updated, 3 unchanged, 0 removed" in out
    assert RegisteredModel.objects.count() == 3


def test_sync_registry_exits_non_zero_on_failure(tmp_path):
    run("add_registry", "gone", "--kind", "manifests", "--url", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="Sync failed: .*does not exist"):
        run("sync_registry", "gone")
    assert SyncRun.objects.get().status == SyncStatus.FAILED


def test_sync_registry_unknown_name():
    with pytest.raises(CommandError, match="No registry named 'nope'"):
        run("sync_registry", "nope")


def test_sync_registry_queue_hands_the_run_to_a_worker(demo_org, django_capture_on_commit_callbacks):
    run("add_registry", "demo-manifests", "--kind", "manifests", "--url", str(EXAMPLES))
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run("sync_registry", "demo-manifests", "--queue")
    assert "Queued sync" in out
    sync = SyncRun.objects.get()
    assert sync.trigger == "manual" and sync.status == SyncStatus.SUCCEEDED  # eager in tests
