"""Registry pages: the list, a registry's settings and sync history, Sync now, the admin form, and the
registry part of the model page."""

import html as html_lib
import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import (
    CatalogEvent,
    CatalogEventKind,
    RegistryAuth,
    RegistryKind,
    RegistrySource,
    SyncRun,
    SyncStatus,
)
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RegistrySourceFactory,
    UserFactory,
)
from tests.fragments import get_assembled

pytestmark = pytest.mark.django_db

SECRET_NAME = "MH_TEST_REGISTRY_TOKEN"
SECRET_VALUE = "s3cr3t-token-value-8f2a"
VALID = """name: promo-uplift-estimator
domain: MKT
owners: [{username: sam}]
contract:
  inputs:
    - {name: product_id, type: string, required: true}
  outputs:
    - {name: uplift, type: number}
"""
INVALID = """name: promo-uplift-v2
domain: MKT
owners:
  - username: sam
retraining:
  every_days: weekly
"""
_seq = itertools.count()


def content(response) -> str:
    return response.content.decode().replace("\xa0", " ")  # timesince() puts a no-break space in "3 minutes"


@pytest.fixture
def marketing():
    UserFactory(username="sam")
    return DomainFactory(name="Marketing", slug="marketing", key="MKT")


@pytest.fixture
def manifests_dir(tmp_path, marketing):
    (tmp_path / "marketing").mkdir()
    (tmp_path / "marketing" / "promo.yaml").write_text(VALID)
    (tmp_path / "marketing" / "draft.yaml").write_text(INVALID)
    return tmp_path


@pytest.fixture
def source(manifests_dir, marketing):
    return RegistrySourceFactory(
        name="team-manifests",
        kind=RegistryKind.MANIFESTS,
        base_url=str(manifests_dir),
        default_domain=marketing,
    )


@pytest.fixture
def mlflow_source(monkeypatch):
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    return RegistrySourceFactory(
        name="prod-mlflow",
        kind=RegistryKind.MLFLOW,
        base_url="http://mlflow.internal:5000",
        ui_url="https://mlflow.example.com",
        auth=RegistryAuth.BEARER,
        secret_env=SECRET_NAME,
        poll_seconds=600,
        full_sweep_hours=12,
    )


def add_run(source, *, minutes_ago=3, **fields) -> SyncRun:
    fields.setdefault("status", SyncStatus.SUCCEEDED)
    run = SyncRun.objects.create(source=source, **fields)
    started = timezone.now() - timedelta(minutes=minutes_ago)
    finished = started + timedelta(seconds=4) if run.status != SyncStatus.RUNNING else None
    SyncRun.objects.filter(pk=run.pk).update(started_at=started, finished_at=finished)
    run.refresh_from_db()
    return run


# --- List -----------------------------------------------------------------------------------------------


def test_list_shows_each_registry_with_its_last_sync(client, scientist, source, mlflow_source):
    add_run(mlflow_source, minutes_ago=10, status=SyncStatus.FAILED)
    add_run(source, minutes_ago=3, created=3)
    client.force_login(scientist)
    response = client.get("/registries/")
    assert response.status_code == 200
    html = content(response)
    assert 'href="/registries/team-manifests/"' in html and 'href="/registries/prod-mlflow/"' in html
    assert "Models-as-code manifests" in html and "MLflow" in html
    assert "http://mlflow.internal:5000" in html and str(source.base_url) in html
    assert "every 5 min" in html and "every 10 min" in html
    assert "badge--sync-succeeded" in html and "badge--sync-failed" in html
    assert "2 minutes ago" in html  # finished 4 s after it started, 3 minutes ago
    assert 'aria-current="page">Registries</a>' in html
    assert "Add registry" not in html  # not an admin
    assert SECRET_VALUE not in html


def test_empty_list_tells_admins_and_others_how_to_add_one(client, scientist, admin_user):
    client.force_login(scientist)
    html = content(client.get("/registries/"))
    assert "No registries yet" in html and "add_registry" in html
    assert 'href="/registries/new/"' not in html
    client.force_login(admin_user)
    html = content(client.get("/registries/"))
    assert "No registries yet" in html and 'href="/registries/new/"' in html


def test_anonymous_user_is_sent_to_login(client, source):
    for url in ("/registries/", "/registries/team-manifests/", "/registries/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Detail ---------------------------------------------------------------------------------------------


def test_detail_shows_settings_but_never_the_secret_value(client, admin_user, mlflow_source, marketing):
    mlflow_source.default_domain = marketing
    mlflow_source.save()
    client.force_login(admin_user)
    response = client.get("/registries/prod-mlflow/")
    assert response.status_code == 200
    html = content(response)
    for text in (
        "http://mlflow.internal:5000",
        'href="https://mlflow.example.com"',
        "Every 10 min",
        "Every 12 hours",
        "Marketing",
        "Bearer token",
        f"${SECRET_NAME}",
        "Never synced",
        "No syncs yet",
    ):
        assert text in html, text
    assert SECRET_VALUE not in html
    assert "manifest schema" not in html  # only for manifests sources
    # The edit form shows the variable's name, never its value, either.
    edit = content(client.get("/registries/prod-mlflow/edit/"))
    assert f'value="{SECRET_NAME}"' in edit and SECRET_VALUE not in edit


def test_manifests_source_links_the_published_schema(client, scientist, source):
    client.force_login(scientist)
    html = content(client.get("/registries/team-manifests/"))
    assert 'href="/api/v1/schemas/model-manifest.json"' in html
    assert client.get("/api/v1/schemas/model-manifest.json").status_code == 200


def test_unknown_registry_is_404(client, scientist):
    client.force_login(scientist)
    assert client.get("/registries/nowhere/").status_code == 404


def test_sync_history_shows_counts_errors_and_problems_with_file_and_line(client, scientist, source):
    add_run(source, minutes_ago=60, status=SyncStatus.FAILED, error="Attempt 1: Manifest directory gone.")
    add_run(
        source,
        minutes_ago=5,
        created=3,
        updated=2,
        unchanged=7,
        removed=1,
        http_calls=0,
        problems=[
            {"item": "marketing/draft.yaml", "reason": "retraining.every_days: not an integer", "line": 6},
            {"item": "churn", "reason": "owner nobody is not a user", "line": None},
        ],
    )
    add_run(source, minutes_ago=1, status=SyncStatus.RUNNING)  # still going: nothing to show yet
    client.force_login(scientist)
    html = content(client.get("/registries/team-manifests/"))
    assert "2 problems that did not stop the sync" in html
    assert "marketing/draft.yaml:6</code>" in html and "retraining.every_days: not an integer" in html
    assert "churn</code>" in html and "churn:" not in html  # no line, no colon
    assert "Attempt 1: Manifest directory gone." in html
    # The newest finished run unfolded, the older one folded.
    assert html.count("<details open>") == 1
    assert "2 problems" in html.split("<details open>")[1].split("</summary>")[0]
    assert "badge--sync-failed" in html and "4.0 s" in html
    assert 'data-chart="sync-chart"' in html  # two runs: enough for a chart
    row = html[html.index('data-run="') : html.index("sync-run__details")]
    for number in (">3<", ">2<", ">7<", ">1<"):
        assert number in row


def test_sync_history_is_keyset_paginated(client, scientist, source):
    for i in range(30):
        add_run(source, minutes_ago=100 - i)
    client.force_login(scientist)
    html = content(client.get("/registries/team-manifests/"))
    assert html.count('data-run="') == 25 and 'rel="next"' in html
    next_url = html_lib.unescape(html.split('rel="next" href="')[1].split('"')[0])
    page2 = content(client.get("/registries/team-manifests/" + next_url))
    assert page2.count('data-run="') == 5
    response = client.get("/registries/team-manifests/?cursor=garbage")
    assert response.status_code == 400 and "alert--error" in content(response)


def test_registry_events_link_to_their_models(client, scientist, source):
    model = RegisteredModelFactory(name="promo-uplift-estimator", source=source)
    v2 = ModelVersionFactory(model=model, version="2")
    v3 = ModelVersionFactory(model=model, version="3")
    CatalogEvent.objects.create(
        model=model,
        version=v3,
        source=source,
        kind=CatalogEventKind.ALIAS_MOVED,
        alias="champion",
        details={"from_version": "2", "to_version": "3"},
    )
    CatalogEvent.objects.create(
        model=model,
        version=v2,
        source=source,
        kind=CatalogEventKind.VERSION_REMOVED,
        details={"version": "2"},
    )
    client.force_login(scientist)
    html = content(client.get("/registries/team-manifests/"))
    assert 'href="/models/promo-uplift-estimator/"' in html
    assert "@champion moved v2 → v3" in html and "v2 removed from the registry" in html


# --- Sync now -------------------------------------------------------------------------------------------


def test_engineer_syncs_now_and_sees_the_run(client, engineer, source, django_capture_on_commit_callbacks):
    client.force_login(engineer)
    html = content(client.get("/registries/team-manifests/"))
    assert "Sync now" in html and "Full sync" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/registries/team-manifests/sync/")
    assert response.status_code == 302
    assert response["Location"] == "/registries/team-manifests/#history"
    run = SyncRun.objects.get(source=source)
    assert run.trigger == "manual"
    assert run.status == SyncStatus.SUCCEEDED and run.created == 1  # tasks run eagerly in tests
    html = content(client.get(response["Location"]))
    assert f"Sync #{run.pk} queued" in html
    assert "marketing/draft.yaml:6</code>" in html  # the invalid manifest, with its line
    assert "1 problem that did not stop the sync" in html


def test_full_sync(client, admin_user, source, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/registries/team-manifests/sync/", {"full": "1"})
    assert response.status_code == 302
    run = SyncRun.objects.get(source=source)
    assert run.is_full and run.trigger == "manual"
    assert "Full sync #" in content(client.get(response["Location"]))


@pytest.mark.parametrize("role_fixture", ["scientist", "manager", "compliance"])
def test_only_engineers_and_admins_sync(request, client, role_fixture, source):
    client.force_login(request.getfixturevalue(role_fixture))
    html = content(client.get("/registries/team-manifests/"))
    assert "Sync now" not in html and "Engineers and admins can start a sync" in html
    assert client.post("/registries/team-manifests/sync/").status_code == 403
    assert not SyncRun.objects.exists()


def test_sync_is_post_only(client, engineer, source):
    client.force_login(engineer)
    assert client.get("/registries/team-manifests/sync/").status_code == 405
    assert client.post("/registries/nowhere/sync/").status_code == 404


# --- Admin form -----------------------------------------------------------------------------------------

FORM = {
    "name": "ds-mlflow",
    "kind": "mlflow",
    "base_url": "http://mlflow.internal:5000",
    "ui_url": "",
    "is_enabled": "on",
    "poll_seconds": "120",
    "full_sweep_hours": "24",
    "default_domain": "",
    "auth": "none",
    "auth_username": "",
    "secret_env": "",
}


def test_admin_adds_a_registry(client, admin_user, marketing):
    client.force_login(admin_user)
    page = content(client.get("/registries/new/"))
    assert "Add a registry" in page
    assert "the value is never stored" in page  # the secret env var's help text
    response = client.post(
        "/registries/new/",
        {**FORM, "default_domain": "marketing", "auth": "bearer", "secret_env": "MLFLOW_TOKEN"},
    )
    assert response.status_code == 302 and response["Location"] == "/registries/ds-mlflow/"
    source = RegistrySource.objects.get(name="ds-mlflow")
    assert source.poll_seconds == 120 and source.default_domain == marketing
    assert source.secret_env == "MLFLOW_TOKEN" and source.is_enabled
    assert "Registry ds-mlflow added" in content(client.get(response["Location"]))


def test_admin_edits_a_registry(client, admin_user, mlflow_source):
    client.force_login(admin_user)
    page = content(client.get("/registries/prod-mlflow/edit/"))
    assert 'value="prod-mlflow"' in page and "disabled" in page  # the name is fixed
    data = {**FORM, "name": "renamed", "poll_seconds": "900", "auth": "bearer", "secret_env": SECRET_NAME}
    data.pop("is_enabled")
    response = client.post("/registries/prod-mlflow/edit/", data)
    assert response.status_code == 302 and response["Location"] == "/registries/prod-mlflow/"
    mlflow_source.refresh_from_db()
    assert mlflow_source.name == "prod-mlflow"  # a disabled field ignores what was posted
    assert mlflow_source.poll_seconds == 900 and not mlflow_source.is_enabled


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"base_url": "ftp://registry"}, "base_url", "An MLflow tracking server URL"),
        ({"kind": "manifests", "base_url": "relative/dir"}, "base_url", "An absolute path"),
        ({"auth": "bearer", "secret_env": "my token"}, "secret_env", "Capital letters, digits"),
        ({"auth": "bearer", "secret_env": ""}, "secret_env", "The NAME of an environment variable"),
        ({"auth": "basic", "secret_env": "PW"}, "auth_username", "Basic auth needs a user name"),
        ({"poll_seconds": "5"}, "poll_seconds", "Poll at most every 30 seconds"),
        ({"ui_url": "not a url"}, "ui_url", "Enter a valid URL"),
        ({"name": "new"}, "name", "taken by the portal"),
        ({"name": "has space"}, "name", "letters, digits"),
    ],
)
def test_bad_settings_are_400_with_the_message_on_the_field(client, admin_user, changes, field, message):
    client.force_login(admin_user)
    response = client.post("/registries/new/", {**FORM, **changes})
    assert response.status_code == 400
    html = content(response)
    errors = html[html.index(f'id="id_{field}_errors"') :].split("</ul>")[0]
    assert message in html_lib.unescape(errors)
    assert "The registry was not saved" in html
    assert not RegistrySource.objects.exists()


def test_duplicate_name_is_a_field_error(client, admin_user, mlflow_source):
    client.force_login(admin_user)
    response = client.post("/registries/new/", {**FORM, "name": "prod-mlflow"})
    assert response.status_code == 400
    assert 'id="id_name_errors"' in content(response) and "already exists" in content(response)


def test_bad_edit_is_400_and_changes_nothing(client, admin_user, mlflow_source):
    client.force_login(admin_user)
    response = client.post("/registries/prod-mlflow/edit/", {**FORM, "base_url": "mlflow:5000"})
    assert response.status_code == 400 and 'id="id_base_url_errors"' in content(response)
    mlflow_source.refresh_from_db()
    assert mlflow_source.base_url == "http://mlflow.internal:5000"


@pytest.mark.parametrize("role_fixture", ["scientist", "engineer", "manager", "compliance"])
def test_only_admins_open_the_form(request, client, role_fixture, mlflow_source):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get("/registries/new/").status_code == 403
    assert client.post("/registries/new/", FORM).status_code == 403
    assert client.get("/registries/prod-mlflow/edit/").status_code == 403
    assert client.post("/registries/prod-mlflow/edit/", FORM).status_code == 403
    assert "Edit settings" not in content(client.get("/registries/prod-mlflow/"))
    assert not RegistrySource.objects.filter(name="ds-mlflow").exists()


# --- Model page -----------------------------------------------------------------------------------------


def test_model_page_shows_registry_tags_contract_and_events(client, scientist, source, mlflow_source):
    model = RegisteredModelFactory(
        name="search-query-autocomplete",
        source=mlflow_source,
        manifest_source=source,
        registry_tags={"team": "search", "domain": "PERS"},
        contract={
            "inputs": [{"name": "prefix", "type": "string", "required": True}],
            "outputs": [{"name": "suggestions", "type": "array", "description": "Up to 8 completions"}],
        },
    )
    dataset = DatasetFactory(name="search_queries", uri="s3://lake/events/web/search_queries")
    model.input_datasets.add(dataset)
    version = ModelVersionFactory(model=model, version="3")
    CatalogEvent.objects.create(
        model=model,
        version=version,
        source=mlflow_source,
        kind=CatalogEventKind.ALIAS_MOVED,
        alias="champion",
        details={"from_version": "2", "to_version": "3"},
    )
    client.force_login(scientist)
    html = content(get_assembled(client, "/models/search-query-autocomplete/"))
    section = html[html.index('id="registry"') : html.index('id="governance"')]
    assert 'href="/registries/prod-mlflow/"' in section and 'href="/registries/team-manifests/"' in section
    assert "team</span>=search" in section and "domain</span>=PERS" in section
    assert "<code>prefix</code>" in section and "required" in section
    assert "<code>suggestions</code>" in section and "Up to 8 completions" in section
    assert f'href="/datasets/{dataset.pk}/"' in section and "search_queries" in section
    assert "@champion moved v2 → v3" in section and "MLflow, outside Modelhouse" in section
    assert "just now" in section


def test_model_page_without_a_registry_says_so_in_its_registry_card(client, scientist):
    RegisteredModelFactory(name="hand-made")
    client.force_login(scientist)
    html = content(get_assembled(client, "/models/hand-made/"))
    section = html[html.index('id="registry"') : html.index('id="governance"')]
    assert "Registered in Modelhouse by hand" in section and "Contract" not in section


# --- Query counts ---------------------------------------------------------------------------------------


def rows_showing(marker: str):
    def count(response) -> int:
        return content(response).count(marker)

    return count


def test_registry_list_queries(client, scientist, marketing, assert_flat_queries):
    def add_sources(n):
        for _ in range(n):
            i = next(_seq)
            source = RegistrySourceFactory(name=f"reg-{i:03d}", default_domain=marketing)
            add_run(source, minutes_ago=5)
            add_run(source, minutes_ago=2, status=SyncStatus.FAILED)

    add_sources(3)
    client.force_login(scientist)
    assert_flat_queries(
        client,
        "/registries/",
        grow=lambda: add_sources(17),
        rows=rows_showing('<td class="cell-name"><a href="/registries/'),
        expect=(3, 20),
    )


def test_sync_history_queries(client, scientist, source, assert_flat_queries):
    model = RegisteredModelFactory(name="promo", source=source)

    def add_runs(n):
        for _ in range(n):
            run = add_run(
                source,
                minutes_ago=1000 - next(_seq),
                created=2,
                problems=[{"item": "a.yaml", "reason": "bad", "line": 3}],
                error="Attempt 1: timeout.",
            )
            CatalogEvent.objects.create(
                model=model,
                source=source,
                sync_run=run,
                kind=CatalogEventKind.ALIAS_SET,
                alias="champion",
                details={"version": "1"},
            )

    add_runs(3)
    client.force_login(scientist)
    assert_flat_queries(
        client,
        "/registries/team-manifests/",
        grow=lambda: add_runs(17),
        rows=rows_showing('data-run="'),
        expect=(3, 20),
    )
