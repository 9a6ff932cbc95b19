import pytest
from django_celery_beat.models import PeriodicTask

from catalog.models import RegisteredModel, RegistrySource, SyncRun, SyncStatus
from tests.conftest import api_rows
from tests.factories import DomainFactory, UserFactory

pytestmark = pytest.mark.django_db
REGISTRIES = "/api/v1/registries/"
MANIFEST = """name: churn-predictor
domain: MKT
owners: [{username: sam}]
"""


@pytest.fixture
def manifests_dir(tmp_path):
    DomainFactory(name="Marketing", slug="marketing", key="MKT")
    UserFactory(username="sam")
    (tmp_path / "churn.yaml").write_text(MANIFEST)
    return tmp_path


def create(client, **body):
    return client.post(REGISTRIES, body, format="json")


def test_admin_adds_a_registry_and_it_is_scheduled(api_as, admin_user, manifests_dir):
    response = create(
        api_as(admin_user),
        name="team-manifests",
        kind="manifests",
        base_url=str(manifests_dir),
        poll_seconds=120,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["poll_seconds"] == 120
    task = PeriodicTask.objects.get(task="catalog.registry_sync")
    source = RegistrySource.objects.get(name="team-manifests")
    assert task.args == f"[{source.pk}]" and task.enabled and task.interval.every == 120

    response = api_as(admin_user).patch(f"{REGISTRIES}team-manifests/", {"is_enabled": False}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert not task.enabled


@pytest.mark.parametrize("role_fixture", ["scientist", "engineer", "manager", "compliance"])
def test_only_admins_configure_registries(request, api_as, role_fixture, manifests_dir):
    user = request.getfixturevalue(role_fixture)
    response = create(api_as(user), name="x", kind="manifests", base_url=str(manifests_dir))
    assert response.status_code == 403
    assert api_as(user).get(REGISTRIES).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "mlflow", "base_url": "ftp://registry"}, "base_url"),
        ({"kind": "mlflow", "base_url": "http://m:5000", "poll_seconds": 5}, "poll_seconds"),
        (
            {"kind": "mlflow", "base_url": "http://m:5000", "auth": "bearer", "secret_env": "my token"},
            "secret_env",
        ),
        (
            {"kind": "mlflow", "base_url": "http://m:5000", "auth": "basic", "secret_env": "PW"},
            "auth_username",
        ),
        ({"kind": "manifests", "base_url": "relative/dir"}, "base_url"),
        ({"kind": "nexus", "base_url": "http://m"}, "kind"),
        ({"kind": "mlflow", "base_url": "http://m:5000", "password": "hunter2"}, "password"),
    ],
)
def test_bad_registry_settings_are_400_with_field_messages(api_as, admin_user, body, field):
    response = create(api_as(admin_user), name="bad", **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not RegistrySource.objects.exists()


def test_secret_values_are_never_shown(api_as, admin_user, monkeypatch):
    monkeypatch.setenv("MLFLOW_PROD_TOKEN", "s3cr3t-token-value")
    response = create(
        api_as(admin_user),
        name="prod",
        kind="mlflow",
        base_url="http://127.0.0.1:5000",
        auth="bearer",
        secret_env="MLFLOW_PROD_TOKEN",
    )
    assert response.status_code == 201
    body = api_as(admin_user).get(f"{REGISTRIES}prod/").content.decode()
    assert "MLFLOW_PROD_TOKEN" in body and "s3cr3t-token-value" not in body


def test_sync_now_runs_and_shows_in_the_history(
    api_as, engineer, manifests_dir, django_capture_on_commit_callbacks
):
    RegistrySource.objects.create(name="team", kind="manifests", base_url=str(manifests_dir))
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(engineer).post(f"{REGISTRIES}team/sync-runs/", {}, format="json")
    assert response.status_code == 202
    run = SyncRun.objects.get(pk=response.json()["id"])
    assert run.status == SyncStatus.SUCCEEDED and run.trigger == "manual"
    assert RegisteredModel.objects.filter(name="churn-predictor").exists()
    history = api_as(engineer).get(f"{REGISTRIES}team/sync-runs/").json()["results"]
    assert [r["id"] for r in history] == [run.pk]
    assert history[0]["created"] == 1
    listed = api_as(engineer).get(REGISTRIES).json()["results"][0]
    assert listed["last_sync_status"] == "succeeded"


def test_scientists_cannot_start_a_sync(api_as, scientist, manifests_dir):
    RegistrySource.objects.create(name="team", kind="manifests", base_url=str(manifests_dir))
    assert api_as(scientist).post(f"{REGISTRIES}team/sync-runs/", {}, format="json").status_code == 403
    assert not SyncRun.objects.exists()


def test_unknown_registry_is_404(api_as, scientist):
    assert api_as(scientist).get(f"{REGISTRIES}nope/").status_code == 404


def test_manifest_schema_is_published(api_as, scientist):
    response = api_as(scientist).get("/api/v1/schemas/model-manifest.json")
    assert response.status_code == 200
    assert response.json()["title"] == "Modelhouse model manifest"
    assert set(response.json()["required"]) == {"name", "domain", "owners"}


@pytest.mark.parametrize(
    "path, expect",
    [
        (REGISTRIES, (3 + 1, 20 + 1)),  # the team registry besides those added
        (f"{REGISTRIES}team/sync-runs/", (3, 20)),
    ],
)
def test_registry_lists_cost_the_same_for_3_or_20_rows(
    api_as, scientist, manifests_dir, assert_flat_queries, path, expect
):
    def add(n):
        for i in range(n):
            source = RegistrySource.objects.create(
                name=f"r{RegistrySource.objects.count()}-{i}", kind="manifests", base_url=str(manifests_dir)
            )
            SyncRun.objects.create(source=source, status="succeeded")
        team, _ = RegistrySource.objects.get_or_create(
            name="team", kind="manifests", base_url=str(manifests_dir)
        )
        SyncRun.objects.bulk_create([SyncRun(source=team, status="failed", error="x") for _ in range(n)])

    add(3)
    assert_flat_queries(
        api_as(scientist), f"{path}?page_size=50", grow=lambda: add(17), rows=api_rows, expect=expect
    )
