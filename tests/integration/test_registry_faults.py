"""A misbehaving registry: 500s, hangs, bad JSON, endless pagination, refused credentials.

Every failure is recorded on the SyncRun with a readable message, transient ones are retried with
backoff by the task, and the catalog and watermark stay exactly as they were."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.models import ModelVersion, RegisteredModel, RegistrySource, SyncRun, SyncStatus
from catalog.registries import mlflow as mlflow_connector
from catalog.registries.base import RegistryError
from catalog.services.registry_sync import registry_sync
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db

GOOD_MODELS = {
    "registered_models": [
        {
            "name": "fraud-scorer",
            "last_updated_timestamp": 1_700_000_000_000,
            "description": "v1",
            "aliases": [{"alias": "champion", "version": "1"}],
        }
    ]
}
GOOD_VERSIONS = {
    "model_versions": [
        {
            "name": "fraud-scorer",
            "version": "1",
            "creation_timestamp": 1_700_000_000_000,
            "last_updated_timestamp": 1_700_000_000_000,
            "status": "READY",
            "run_id": "",
        }
    ]
}


class FakeMlflow:
    """Serves MLflow-shaped JSON; `mode` decides how it misbehaves."""

    def __init__(self):
        self.mode = "good"
        self.calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.calls += 1
                if fake.mode == "500":
                    return self._send(500, {"error_code": "INTERNAL_ERROR"})
                if fake.mode == "hang":
                    threading.Event().wait(3)
                    return self._send(200, GOOD_MODELS)
                if fake.mode == "bad-json":
                    return self._send(200, "<html>proxy error</html>", raw=True)
                if fake.mode == "401":
                    return self._send(401, {"error_code": "UNAUTHENTICATED"})
                if fake.mode == "endless" and "registered-models" in self.path:
                    return self._send(200, {**GOOD_MODELS, "next_page_token": "same-again"})
                if fake.mode == "rotating" and "registered-models" in self.path:
                    return self._send(200, {**GOOD_MODELS, "next_page_token": f"t{fake.calls}"})
                if fake.mode == "models-ok-versions-500" and "model-versions" in self.path:
                    return self._send(503, {"error_code": "TEMPORARILY_UNAVAILABLE"})
                if "registered-models/search" in self.path:
                    body = json.loads(json.dumps(GOOD_MODELS))
                    if fake.mode in ("changed", "models-ok-versions-500"):
                        body["registered_models"][0]["description"] = "v2"
                        body["registered_models"][0]["last_updated_timestamp"] += 1000
                    return self._send(200, body)
                if "model-versions/search" in self.path:
                    return self._send(200, GOOD_VERSIONS)
                return self._send(404, {"error_code": "ENDPOINT_NOT_FOUND"})

            def _send(self, status, body, raw=False):
                data = (body if raw else json.dumps(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if raw else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeMlflow()
    yield server
    server.close()


@pytest.fixture
def source(fake):
    domain = DomainFactory(name="Fraud", slug="fraud", key="RISK")
    return RegistrySource.objects.create(
        name="flaky", kind="mlflow", base_url=fake.url, default_domain=domain
    )


def catalog_state():
    return (
        list(RegisteredModel.objects.values_list("name", "description", "version_count").order_by("name")),
        list(ModelVersion.objects.values_list("model__name", "version", "status").order_by("id")),
    )


@pytest.fixture
def synced_once(source):
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    source.refresh_from_db()
    return catalog_state(), source.watermark_ms


@pytest.mark.parametrize(
    "mode, transient, message",
    [
        ("500", True, "answered 500"),
        ("hang", True, "did not answer in time"),
        ("bad-json", False, "not JSON"),
        ("401", False, "refused the credentials"),
        ("endless", False, "same page token twice"),
        ("models-ok-versions-500", True, "answered 503"),
    ],
)
def test_failures_are_recorded_and_leave_nothing_partial(
    fake, source, synced_once, monkeypatch, mode, transient, message
):
    monkeypatch.setattr(mlflow_connector, "REQUEST_TIMEOUT_SECONDS", 1.0)
    before, watermark = synced_once
    fake.mode = mode
    with pytest.raises(RegistryError) as exc:
        registry_sync(source=source)
    assert exc.value.transient is transient
    assert message in exc.value.message
    run = SyncRun.objects.filter(source=source).first()
    assert run.status == SyncStatus.FAILED
    assert message in run.error and run.finished_at is not None
    assert catalog_state() == before
    source.refresh_from_db()
    assert source.watermark_ms == watermark


def test_endless_distinct_tokens_stop_at_the_page_limit(fake, source, monkeypatch):
    monkeypatch.setattr(mlflow_connector, "MAX_PAGES", 5)

    fake.mode = "rotating"  # a new token every call: only the page limit stops it
    with pytest.raises(RegistryError) as exc:
        registry_sync(source=source)
    assert "kept paginating" in exc.value.message
    assert fake.calls == 5
    assert not RegisteredModel.objects.exists()


def test_a_good_sync_after_failures_applies_the_change(fake, source, synced_once):
    fake.mode = "changed"
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED
    assert RegisteredModel.objects.get(name="fraud-scorer").description == "v2"
    assert (run.updated, run.created) == (1, 0)


def test_task_retries_transient_errors_with_backoff_then_fails(fake, source, monkeypatch):
    from catalog import tasks
    from portal.celery import app

    delays = []
    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: delays.append(retries) or 0)
    # Eager retries re-apply the task; with propagation on, the first Retry would escape to the test.
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    fake.mode = "500"
    result = tasks.registry_sync_task.apply(args=[source.pk], kwargs={"trigger": "manual"}, throw=False)
    runs = list(SyncRun.objects.filter(source=source))
    assert len(runs) == 1, "retries continue the same SyncRun"
    run = runs[0]
    assert run.status == SyncStatus.FAILED
    assert run.attempt == tasks.SYNC_MAX_RETRIES + 1
    assert run.error.count("Retrying with backoff") == tasks.SYNC_MAX_RETRIES
    assert delays == list(range(tasks.SYNC_MAX_RETRIES))
    assert result.result == {"sync_run": run.pk, "status": "failed"}


def test_task_does_not_retry_permanent_errors(fake, source, monkeypatch):
    from catalog import tasks

    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: pytest.fail("must not retry"))
    fake.mode = "bad-json"
    tasks.registry_sync_task.apply(args=[source.pk])
    run = SyncRun.objects.get(source=source)
    assert run.status == SyncStatus.FAILED and run.attempt == 1
    assert fake.calls == 1


def test_backoff_grows_exponentially_with_jitter():
    from catalog.tasks import backoff_seconds

    for retries in range(6):
        ceiling = min(600, 15 * 2**retries)
        samples = [backoff_seconds(retries) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1


def test_one_sync_per_source_at_a_time(source):
    from catalog.tasks import SyncLocked, registry_lock

    with registry_lock(source.pk), pytest.raises(SyncLocked), registry_lock(source.pk):
        pass
    with registry_lock(source.pk):  # released after use
        pass


@pytest.mark.parametrize(
    "auth, username, expected",
    [
        ("bearer", "", "Bearer tok-123"),
        (
            "basic",
            "svc-modelhouse",
            "Basic " + __import__("base64").b64encode(b"svc-modelhouse:tok-123").decode(),
        ),
    ],
)
def test_credentials_come_from_the_named_environment_variable(fake, monkeypatch, auth, username, expected):
    seen = []
    handler = fake.server.RequestHandlerClass
    original = handler.do_GET

    def recording(self):
        seen.append(self.headers.get("Authorization"))
        return original(self)

    monkeypatch.setattr(handler, "do_GET", recording)
    monkeypatch.setenv("MLFLOW_TEST_SECRET", "tok-123")
    source = RegistrySource.objects.create(
        name="secured",
        kind="mlflow",
        base_url=fake.url,
        auth=auth,
        auth_username=username,
        secret_env="MLFLOW_TEST_SECRET",
        default_domain=DomainFactory(name="Risk", slug="risk", key="RISK"),
    )
    assert registry_sync(source=source).status == SyncStatus.SUCCEEDED
    assert seen and set(seen) == {expected}


def test_a_missing_secret_fails_readably_without_retries(fake, monkeypatch):
    monkeypatch.delenv("MLFLOW_TEST_SECRET", raising=False)
    source = RegistrySource.objects.create(
        name="secured", kind="mlflow", base_url=fake.url, auth="bearer", secret_env="MLFLOW_TEST_SECRET"
    )
    with pytest.raises(RegistryError) as exc:
        registry_sync(source=source)
    assert not exc.value.transient and "MLFLOW_TEST_SECRET is not set" in exc.value.message
    assert fake.calls == 0
