"""Security: outbound-fetch checks (SSRF), artifact URIs, safe links, login lockout, secrets never shown,
Markdown sanitising. CSP lives in test_csp.py (pages) and tests/browser/test_csp.py (a real browser)."""

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from catalog.models import RegisteredModel, RegistrySource, SyncRun, SyncStatus
from catalog.registries.base import RegistryError
from catalog.registries.manifests import ManifestsConnector
from catalog.registries.mlflow import MlflowConnector
from catalog.services.registries import registry_source_create
from catalog.services.registry_sync import registry_sync
from portal import security
from portal.markdown import render_markdown
from portal.security import (
    FetchRefused,
    GuardedTransport,
    address_is_public,
    artifact_uri_problem,
    http_url,
    validate_fetch_url,
)
from tests.conftest import log_in
from tests.factories import DomainFactory, ModelVersionFactory, RegisteredModelFactory, UserFactory

pytestmark = pytest.mark.django_db
NO_ALLOW_LIST = override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=[])


# -- a local HTTP server that records what reaches it ------------------------------------------------------
class Recorder(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.hits.append((self.command, self.path, self.headers.get("Host"), self.rfile.read(length)))
        body = b'{"registered_models": [], "model_versions": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """Names in `answers` resolve to those addresses (a list, or a callable for changing answers)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            value = answers[host]
            addresses = value() if callable(value) else value
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(security.socket, "getaddrinfo", getaddrinfo)


# -- addresses and URLs the server fetches -----------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2001:db8::1",  # documentation
    ],
)
def test_non_public_addresses_are_not_public(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_public(address):
    assert address_is_public(address)


@NO_ALLOW_LIST
@pytest.mark.parametrize(
    "url, message",
    [
        ("file:///etc/passwd", "Only http:// and https://"),
        ("ftp://mlflow.example.com/", "Only http:// and https://"),
        ("gopher://127.0.0.1:6379/_INFO", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("http://user:secret@mlflow.example.com/", "credentials"),
        ("http://:secret@mlflow.example.com/", "credentials"),
        ("http:///nohost", "host name"),
        ("http://mlflow.example.com:99999/", "port"),
        ("http://mlflow example.com/", "spaces"),
        ("http://127.0.0.1:5000", "non-public"),
        ("http://localhost:5000", "non-public"),
        ("http://[::1]:5000/", "non-public"),
        ("http://[::ffff:127.0.0.1]/", "non-public"),
        ("http://169.254.169.254/latest/meta-data/", "non-public"),
        ("http://10.0.0.5/", "non-public"),
        ("http://192.168.0.10:8080/", "non-public"),
        ("http://[fe80::1]/", "non-public"),
        ("http://[fd12:3456::1]/", "non-public"),
        ("http://0.0.0.0:5000/", "non-public"),
        ("http://2130706433/", "non-public"),  # 127.0.0.1 as a decimal number: resolves, then refused
        ("http://0x7f.1/", "non-public"),
    ],
)
def test_urls_the_server_must_not_fetch_are_refused(url, message):
    with pytest.raises(ValidationError) as exc:
        validate_fetch_url(url)
    assert message in exc.value.messages[0]


@NO_ALLOW_LIST
def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"mlflow.corp.test": ["93.184.215.14", "10.0.0.7"]})
    with pytest.raises(ValidationError) as exc:
        validate_fetch_url("https://mlflow.corp.test/")
    assert "10.0.0.7" in exc.value.messages[0]
    assert "MODELHOUSE_FETCH_ALLOWED_HOSTS" in exc.value.messages[0]


@NO_ALLOW_LIST
def test_public_and_not_yet_resolvable_urls_are_accepted(monkeypatch):
    fake_dns(monkeypatch, {"mlflow.public.test": ["93.184.215.14"]})
    assert validate_fetch_url(" https://mlflow.public.test/ ") == "https://mlflow.public.test/"
    assert validate_fetch_url("http://93.184.215.14:5000") == "http://93.184.215.14:5000"
    # Checked again at fetch time (GuardedTransport), against the address actually used.
    assert validate_fetch_url("http://no-such-host.invalid/")


@pytest.mark.parametrize(
    "allowed, url",
    [
        (["mlflow.internal"], "http://mlflow.internal:5000"),
        (["MLflow.Internal."], "http://mlflow.internal:5000"),
        ([".corp.test"], "http://mlflow.eu.corp.test"),
        (["10.0.0.0/8"], "http://10.20.30.40:5000"),
        (["127.0.0.1"], "http://127.0.0.1:5000"),
        (["::1"], "http://[::1]:5000"),
    ],
)
def test_the_allow_list_lets_named_hosts_and_networks_through(monkeypatch, allowed, url):
    fake_dns(monkeypatch, {"mlflow.internal": ["10.0.0.7"], "mlflow.eu.corp.test": ["192.168.4.4"]})
    with override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=allowed):
        assert validate_fetch_url(url) == url
    with NO_ALLOW_LIST, pytest.raises(ValidationError):
        validate_fetch_url(url)


def test_the_allow_list_does_not_match_look_alike_hosts(monkeypatch):
    fake_dns(
        monkeypatch,
        {
            "evilmlflow.internal": ["10.0.0.7"],
            "mlflow.internal.evil.test": ["10.0.0.8"],
            "corp.test.x": ["10.9.9.9"],
        },
    )
    with override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=["mlflow.internal", ".corp.test"]):
        for url in (
            "http://evilmlflow.internal/",
            "http://mlflow.internal.evil.test/",
            "http://corp.test.x/",
        ):
            with pytest.raises(ValidationError):
                validate_fetch_url(url)


# -- fetch time: the address actually connected to ---------------------------------------------------------
@NO_ALLOW_LIST
def test_fetching_a_loopback_address_is_refused_before_connecting(local_server):
    port = local_server.server_address[1]
    with httpx.Client(transport=GuardedTransport()) as client, pytest.raises(FetchRefused):
        client.get(f"http://127.0.0.1:{port}/api")
    assert local_server.hits == []


@NO_ALLOW_LIST
def test_dns_rebinding_after_the_save_check_is_refused_at_fetch_time(monkeypatch, local_server):
    port = local_server.server_address[1]
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    fake_dns(monkeypatch, {"rebind.test": lambda: next(answers)})
    url = f"http://rebind.test:{port}/"
    assert validate_fetch_url(url) == url  # saved: resolved to a public address then
    with httpx.Client(transport=GuardedTransport()) as client, pytest.raises(FetchRefused) as exc:
        client.get(url)
    assert "127.0.0.1" in str(exc.value)
    assert local_server.hits == []


def test_the_connection_goes_to_the_checked_address_with_the_original_host_header(monkeypatch, local_server):
    port = local_server.server_address[1]
    fake_dns(monkeypatch, {"svc.corp.test": ["127.0.0.1"]})
    # Only the network is allowed, not the name: the transport resolves, checks and pins the address.
    with (
        override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=["127.0.0.0/8"]),
        httpx.Client(transport=GuardedTransport()) as client,
    ):
        response = client.post(f"http://svc.corp.test:{port}/hook", content=b"payload")
    assert response.status_code == 200
    assert local_server.hits == [("POST", "/hook", f"svc.corp.test:{port}", b"payload")]


def test_allow_listed_hosts_are_fetched(local_server):
    port = local_server.server_address[1]
    with (
        override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=["127.0.0.1"]),
        httpx.Client(transport=GuardedTransport()) as client,
    ):
        assert client.get(f"http://127.0.0.1:{port}/ok").status_code == 200
    assert [h[1] for h in local_server.hits] == ["/ok"]


# -- registries: save time (service, API, form, command) and sync time -------------------------------------
@NO_ALLOW_LIST
def test_registry_api_refuses_private_and_credentialled_urls_with_field_messages(api_as, admin_user):
    for url in ("http://127.0.0.1:5000", "http://169.254.169.254/", "http://bob:pw@mlflow.example.com"):
        response = api_as(admin_user).post(
            "/api/v1/registries/", {"name": "r", "kind": "mlflow", "base_url": url}, format="json"
        )
        assert response.status_code == 400, (url, response.content)
        assert "base_url" in response.json()
    assert not RegistrySource.objects.exists()


@NO_ALLOW_LIST
def test_registry_form_refuses_a_private_url_on_the_field(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/registries/new/",
        {
            "name": "meta",
            "kind": "mlflow",
            "base_url": "http://169.254.169.254/latest",
            "is_enabled": "on",
            "poll_seconds": "300",
            "full_sweep_hours": "24",
            "auth": "none",
        },
    )
    assert response.status_code == 400
    assert "base_url" in response.context["form"].errors
    assert "non-public" in response.context["form"].errors["base_url"][0]
    assert not RegistrySource.objects.exists()


@NO_ALLOW_LIST
def test_add_registry_command_refuses_a_loopback_url():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="non-public"):
        call_command("add_registry", "local", "--kind", "mlflow", "--url", "http://localhost:5000")


def test_local_and_test_settings_allow_the_local_mlflow(admin_user):
    source = registry_source_create(
        actor=admin_user, name="local", kind="mlflow", base_url="http://127.0.0.1:5000"
    )
    assert source.pk


def test_a_registry_saved_before_the_rules_is_refused_at_sync_without_a_retry(local_server):
    port = local_server.server_address[1]
    source = RegistrySource.objects.create(name="old", kind="mlflow", base_url=f"http://127.0.0.1:{port}")
    with NO_ALLOW_LIST:
        with pytest.raises(RegistryError) as exc:
            MlflowConnector.for_source(source).fetch(since_ms=None, sweep=True, known_versions={})
        assert not exc.value.transient and "non-public" in exc.value.message
        with pytest.raises(RegistryError):
            registry_sync(source=source)
    run = SyncRun.objects.get(source=source)
    assert run.status == SyncStatus.FAILED and "non-public" in run.error
    assert local_server.hits == []
    # With the host allowed (the test settings' default), the same registry is read.
    assert registry_sync(source=source).status == SyncStatus.SUCCEEDED
    assert local_server.hits


@pytest.mark.parametrize("path", ["/srv/manifests/../../etc", "/srv/../etc/manifests"])
def test_manifest_directories_with_dot_dot_are_refused(admin_user, path):
    with pytest.raises(ValidationError) as exc:
        registry_source_create(actor=admin_user, name="m", kind="manifests", base_url=path)
    assert "'..'" in exc.value.message_dict["base_url"][0]
    with pytest.raises(RegistryError, match=r"'\.\.'"):
        ManifestsConnector(path).fetch(since_ms=None, sweep=True, known_versions={})


MANIFEST = "name: {name}\ndomain: MKT\nowners: [{{username: sam}}]\n"


def test_manifest_reads_stay_inside_the_directory(tmp_path):
    root, outside = tmp_path / "repo", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "good.yaml").write_text(MANIFEST.format(name="good"))
    (outside / "secret.yaml").write_text(MANIFEST.format(name="stolen"))
    (root / "link.yaml").symlink_to(outside / "secret.yaml")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    snapshot = ManifestsConnector(str(root)).fetch(since_ms=None, sweep=True, known_versions={})
    assert [m.name for m in snapshot.models] == ["good"]
    assert {p.item for p in snapshot.problems} >= {"link.yaml"}
    assert all("outside the manifest directory" in p.reason for p in snapshot.problems)


def test_a_manifest_source_url_that_is_not_http_is_dropped_with_a_problem(tmp_path):
    DomainFactory(name="Marketing", slug="marketing", key="MKT")
    UserFactory(username="sam")
    (tmp_path / "m.yaml").write_text(MANIFEST.format(name="xss") + "source_url: 'javascript:alert(1)'\n")
    source = RegistrySource.objects.create(name="mf", kind="manifests", base_url=str(tmp_path))
    run = registry_sync(source=source)
    assert run.status == SyncStatus.SUCCEEDED
    assert RegisteredModel.objects.get(name="xss").source_url == ""
    assert any("source_url" in p["reason"] for p in run.problems)


# -- artifact / source URIs --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "uri",
    [
        "file:///etc/passwd",
        "FILE:/etc/passwd",
        "file://host/share/model",
        "%66ile:///etc/passwd",
        "/var/lib/mlflow/artifacts/model",
        "\\\\server\\share\\model",
        "C:\\models\\m",
        "~/models/m",
        "s3://bucket/models/../../other-team/model",
        "runs:/abc/../../etc",
        "mlflow-artifacts:/1/abc/artifacts/%2e%2e/%2e%2e/x",
        "s3://bucket/a/%252e%252e/b",
        "s3://bucket/a\nb",
    ],
)
def test_artifact_uris_naming_the_disk_or_climbing_are_refused(uri):
    assert artifact_uri_problem(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "runs:/0123abcd/model",
        "models:/churn/3",
        "mlflow-artifacts:/1/0123/artifacts/model",
        "s3://models/churn/2",
        "gs://bucket/a..b/model",
        "https://artifacts.example.com/m/1.tar.gz",
        "dbfs:/databricks/mlflow/1/model",
    ],
)
def test_ordinary_artifact_uris_are_accepted(uri):
    assert artifact_uri_problem(uri) is None


def test_api_refuses_a_file_source_uri_with_a_field_message(api_as, scientist):
    RegisteredModelFactory(name="churn", owners=[scientist])
    client = api_as(scientist)
    url = "/api/v1/models/churn/versions/"
    response = client.post(url, {"version": "1", "source_uri": "file:///etc/passwd"}, format="json")
    assert response.status_code == 400
    assert "file:" in " ".join(response.json()["source_uri"])
    response = client.post(url, {"version": "1", "source_uri": "s3://m/a/../../b"}, format="json")
    assert response.status_code == 400 and "source_uri" in response.json()
    response = client.post(url, {"version": "1", "source_uri": "s3://m/churn/1"}, format="json")
    assert response.status_code == 201


def mlflow_transport(source_uri: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("registered-models/search"):
            return httpx.Response(
                200, json={"registered_models": [{"name": "m", "last_updated_timestamp": 2}]}
            )
        if path.endswith("model-versions/search"):
            return httpx.Response(
                200,
                json={
                    "model_versions": [
                        {"name": "m", "version": "1", "last_updated_timestamp": 2, "source": source_uri},
                        {"name": "m", "version": "2", "last_updated_timestamp": 2, "source": "runs:/r/m"},
                    ]
                },
            )
        return httpx.Response(404, json={"message": "no"})

    return httpx.MockTransport(handler)


def test_sync_stores_the_version_without_a_refused_source_uri_and_records_a_problem():
    connector = MlflowConnector("http://mlflow.test", transport=mlflow_transport("file:///etc/shadow"))
    snapshot = connector.fetch(since_ms=None, sweep=True, known_versions={})
    sources = {v.version: v.source_uri for v in snapshot.versions}
    assert sources == {"1": "", "2": "runs:/r/m"}
    assert [p.item for p in snapshot.problems] == ["m v1"]
    assert "file:///etc/shadow" in snapshot.problems[0].reason


# -- links on pages ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://mlflow.example.com/#/models/m", "https://mlflow.example.com/#/models/m"),
        ("http://git.example.com/r", "http://git.example.com/r"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("file:///etc/passwd", ""),
        ("//evil.example.com/x", ""),
        ("httpx://evil", ""),
        ("git@github.com:org/repo.git", ""),
        (None, ""),
    ],
)
def test_only_http_urls_become_links(value, expected):
    assert http_url(value) == expected


def test_pages_link_only_http_urls(client, scientist):
    model = RegisteredModelFactory(name="linky", owners=[scientist])
    version = ModelVersionFactory(model=model, version="1", source_uri="https://artifacts.example.com/m/1")
    RegisteredModel.objects.filter(pk=model.pk).update(source_url="javascript:alert(document.cookie)")
    ModelVersionFactory(model=model, version="2", code_repository="javascript:alert(2)")
    client.force_login(scientist)
    page = client.get("/models/linky/").content.decode()
    assert 'href="javascript:' not in page and "open ↗" not in page
    page = client.get(version.get_absolute_url()).content.decode()
    assert '<a href="https://artifacts.example.com/m/1"' in page
    page = client.get("/models/linky/versions/2/").content.decode()
    assert 'href="javascript:' not in page and "<code>javascript:alert(2)</code>" in page


# -- webhooks --------------------------------------------------------------------------------------------
@NO_ALLOW_LIST
def test_webhook_destinations_are_checked_in_the_admin(client, admin_user):
    from governance.models import NotificationChannel

    client.force_login(admin_user)
    data = {"name": "pager", "kind": "webhook", "min_severity": "warning", "is_enabled": "on"}
    for target in ("http://169.254.169.254/hook", "file:///tmp/x", "http://u:p@hooks.example.com/"):
        response = client.post("/admin/governance/notificationchannel/add/", {**data, "target": target})
        assert response.status_code == 200, target
        assert response.context["adminform"].form.errors["target"], target
    response = client.post(
        "/admin/governance/notificationchannel/add/",
        {**data, "target": "https://93.184.215.14/hook", "secret_env": "not a name"},
    )
    assert "secret_env" in response.context["adminform"].form.errors
    assert not NotificationChannel.objects.exists()
    response = client.post(
        "/admin/governance/notificationchannel/add/",
        {**data, "target": "https://93.184.215.14/hook", "secret_env": "HOOK_SECRET"},
    )
    assert response.status_code == 302
    assert NotificationChannel.objects.get().target == "https://93.184.215.14/hook"


def test_webhook_delivery_to_a_private_address_is_refused_not_retried(local_server):
    from governance.models import Alert, Delivery, NotificationChannel
    from governance.services.monitoring import delivery_send

    port = local_server.server_address[1]
    model = RegisteredModelFactory(name="m")
    channel = NotificationChannel.objects.create(
        name="hook", kind="webhook", target=f"http://127.0.0.1:{port}/hook"
    )
    now = timezone.now()
    alert = Alert.objects.create(
        model=model, condition="data_stale", summary="old", first_seen=now, last_seen=now
    )
    delivery = Delivery.objects.create(alert=alert, channel=channel, event="opened")
    with NO_ALLOW_LIST:
        result = delivery_send(delivery_id=delivery.pk, final_attempt=False)  # no DeliveryFailed: no retry
    assert result.status == "failed" and result.last_error.startswith("Refused:")
    assert local_server.hits == []
    Delivery.objects.filter(pk=delivery.pk).update(status="pending")
    assert delivery_send(delivery_id=delivery.pk).status == "sent"  # allowed host (test settings)
    assert [h[1] for h in local_server.hits] == ["/hook"]


# -- secrets are named, never shown -----------------------------------------------------------------------
SECRET_VALUE = "s3cr3t-Value-that-must-never-render-9f8e7d"


def test_secret_values_never_reach_pages_admin_or_api(client, api_as, admin_user, monkeypatch):
    from governance.models import NotificationChannel

    monkeypatch.setenv("MLFLOW_PROD_TOKEN", SECRET_VALUE)
    monkeypatch.setenv("HOOK_SIGNING_SECRET", SECRET_VALUE)
    RegistrySource.objects.create(
        name="prod",
        kind="mlflow",
        base_url="http://127.0.0.1:5000",
        auth="bearer",
        secret_env="MLFLOW_PROD_TOKEN",
    )
    channel = NotificationChannel.objects.create(
        name="pager", kind="webhook", target="https://93.184.215.14/h", secret_env="HOOK_SIGNING_SECRET"
    )
    client.force_login(admin_user)
    pages = {
        "/registries/": "prod",
        "/registries/prod/": "MLFLOW_PROD_TOKEN",
        "/registries/prod/edit/": "MLFLOW_PROD_TOKEN",
        "/admin/catalog/registrysource/": "prod",
        f"/admin/catalog/registrysource/{RegistrySource.objects.get().pk}/change/": "MLFLOW_PROD_TOKEN",
        "/admin/governance/notificationchannel/": "pager",
        f"/admin/governance/notificationchannel/{channel.pk}/change/": "HOOK_SIGNING_SECRET",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert expected in body and SECRET_VALUE not in body, url
    api = api_as(admin_user)
    for url in ("/api/v1/registries/", "/api/v1/registries/prod/"):
        body = api.get(url).content.decode()
        assert "MLFLOW_PROD_TOKEN" in body and SECRET_VALUE not in body, url
    with pytest.raises(RegistryError):  # nothing listens on :5000
        registry_sync(source=RegistrySource.objects.get())
    sync = SyncRun.objects.get()
    assert sync.status == SyncStatus.FAILED and SECRET_VALUE not in sync.error
    body = client.get("/registries/prod/").content.decode()
    assert SECRET_VALUE not in body


# -- login throttling (django-axes) ------------------------------------------------------------------------
PASSWORD = "pw-Modelhouse-1"  # UserFactory's


def fail(client, username, times, **extra):
    for _ in range(times):
        response = client.post("/login/", {"username": username, "password": "wrong"}, **extra)
    return response


def test_five_failures_lock_that_username_from_that_address(client, make_user):
    make_user(username="victim")
    make_user(username="colleague")
    assert fail(client, "victim", 4).status_code == 200  # the form again, with its error
    response = fail(client, "victim", 1)
    assert response.status_code == 429
    response = client.post("/login/", {"username": "victim", "password": PASSWORD})
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "Too many sign-in attempts" in page and "Try again in <strong>15 minutes</strong>" in page
    assert int(response["Retry-After"]) == 15 * 60
    # Someone else behind the same address is not locked out, nor is the victim from another address.
    assert log_in(client, "colleague", PASSWORD)
    assert log_in(type(client)(REMOTE_ADDR="198.51.100.7"), "victim", PASSWORD)


def test_a_success_resets_the_count(client, make_user):
    make_user(username="forgetful")
    fail(client, "forgetful", 4)
    assert log_in(client, "forgetful", PASSWORD)
    client.logout()
    assert fail(client, "forgetful", 4).status_code == 200
    assert log_in(client, "forgetful", PASSWORD)


def test_the_lock_lifts_after_the_cool_off(client, make_user):
    make_user(username="patient")
    assert fail(client, "patient", 5).status_code == 429
    assert client.post("/login/", {"username": "patient", "password": PASSWORD}).status_code == 429
    AccessAttempt.objects.filter(username="patient").update(
        attempt_time=AccessAttempt.objects.get(username="patient").attempt_time - timedelta(minutes=16)
    )
    assert log_in(client, "patient", PASSWORD)


@override_settings(AXES_COOLOFF_TIME=timedelta(minutes=2))
def test_the_cool_off_is_configurable_and_shown(client, make_user):
    make_user(username="brief")
    response = fail(client, "brief", 5)
    assert response.status_code == 429
    assert "Try again in <strong>2 minutes</strong>" in response.content.decode()
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=3))
    assert log_in(client, "brief", PASSWORD)


@override_settings(AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])
def test_behind_a_proxy_the_forwarded_client_address_is_what_is_locked(client, make_user):
    make_user(username="remote")
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    assert fail(client, "remote", 5, **first).status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"
    other = {"HTTP_X_FORWARDED_FOR": "203.0.113.99"}
    response = client.post("/login/", {"username": "remote", "password": PASSWORD}, **other)
    assert response.status_code == 302


def test_the_token_endpoint_locks_too_with_json(api_client, make_user):
    make_user(username="bot")
    url = "/api/v1/auth/token/"
    for _ in range(4):
        assert api_client.post(url, {"username": "bot", "password": "x"}, format="json").status_code == 400
    response = api_client.post(url, {"username": "bot", "password": "x"}, format="json")
    assert response.status_code == 429
    response = api_client.post(url, {"username": "bot", "password": PASSWORD}, format="json")
    assert response.status_code == 429 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["retry_after_seconds"] == 15 * 60 and "Try again in 15 minutes" in body["detail"]
    assert "token" not in body
    # The lock is per username: another account from the same client still gets its token.
    make_user(username="other-bot")
    ok = api_client.post(url, {"username": "other-bot", "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and ok.json()["token"]


# -- Markdown is sanitised ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "source, forbidden",
    [
        ('<script>alert("x")</script>', "<script"),
        ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "<script"),
        ("[click](javascript:alert(1))", "javascript:"),
        ("[click](JAVASCRIPT:alert(1))", "javascript:"),
        ("[click](&#106;avascript:alert(1))", "avascript:"),
        ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "data:"),
        ("[x](vbscript:msgbox(1))", "vbscript:"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="https://example.com" onclick="alert(1)">x</a>', "onclick"),
        ('<p onmouseover="alert(1)">hover</p>', "onmouseover"),
        ('<svg onload="alert(1)"><circle/></svg>', "onload"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<p style="background:url(javascript:alert(1))">x</p>', "style="),
        ('<form action="https://evil.example"><input name=x></form>', "<form"),
        ('<object data="x.swf"></object>', "<object"),
        ('<a href="https://example.com" target="_top">x</a>', "target="),
    ],
)
def test_markdown_strips_scripts_handlers_and_dangerous_urls(source, forbidden):
    html = render_markdown(source).lower()
    assert forbidden.lower() not in html


def test_markdown_keeps_formatting_and_safe_links():
    html = render_markdown("**bold** and [the wiki](https://wiki.example.com/x)\n\n| a |\n|---|\n| 1 |")
    assert "<strong>bold</strong>" in html and "<table>" in html
    assert 'href="https://wiki.example.com/x"' in html and 'rel="noopener noreferrer nofollow"' in html


# -- HTTPS through a pinned address: the certificate is still checked against the host name ----------------
def _certificate_for(names: list[str], tmp_path):
    """A throw-away CA and a server certificate for `names`: (server cert path, key path, CA PEM)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, ca.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def tls_server(tmp_path):
    import ssl

    cert, key, ca_pem = _certificate_for(["svc.corp.test"], tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.hits = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, ca_pem
    server.shutdown()
    server.server_close()


def test_https_to_a_pinned_address_verifies_the_certificate_for_the_host_name(monkeypatch, tls_server):
    import ssl

    server, ca_pem = tls_server
    port = server.server_address[1]
    trust = ssl.create_default_context(cadata=ca_pem)
    fake_dns(monkeypatch, {"svc.corp.test": ["127.0.0.1"], "other.corp.test": ["127.0.0.1"]})
    with override_settings(MODELHOUSE_FETCH_ALLOWED_HOSTS=["127.0.0.0/8"]):
        with httpx.Client(transport=GuardedTransport(verify=trust)) as client:
            assert client.get(f"https://svc.corp.test:{port}/tls").status_code == 200
        # The same address under a name the certificate does not carry is refused by TLS verification.
        with (
            httpx.Client(transport=GuardedTransport(verify=trust)) as client,
            pytest.raises(httpx.ConnectError, match="certificate|hostname"),
        ):
            client.get(f"https://other.corp.test:{port}/tls")
    assert [(h[1], h[2]) for h in server.hits] == [("/tls", f"svc.corp.test:{port}")]
