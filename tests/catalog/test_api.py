import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from catalog.models import (
    Dataset,
    Lifecycle,
    MetricPoint,
    ModelAlias,
    ModelVersion,
    OwnerRole,
    RegisteredModel,
    Sensitivity,
)
from catalog.selectors import MODEL_SORTS
from portal.pagination import encode_cursor
from portal.roles import Role
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RegistrySourceFactory,
    TeamFactory,
    add_metric,
    link_dataset,
)

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"
PASSWORD = "pw-Modelhouse-1"  # tests.factories.UserFactory's password


@pytest.fixture
def domain():
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


@pytest.fixture
def forecasting():
    return DomainFactory(name="Demand forecasting", slug="demand-forecasting", key="FCST")


@pytest.fixture
def team(domain):
    return TeamFactory(name="Recs", slug="recs", domain=domain)


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def _nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def post_json(client, url, data):
    return client.post(url, data, format="json")


def patch_json(client, url, data):
    return client.patch(url, data, format="json")


# --- authentication -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", MODELS),
        ("post", MODELS),
        ("get", "/api/v1/models/anything/"),
        ("get", "/api/v1/versions/1/"),
        ("get", "/api/v1/datasets/"),
        ("get", "/api/v1/domains/"),
        ("get", "/api/v1/no-such-endpoint/"),
    ],
)
def test_anonymous_gets_401_json_not_a_login_redirect(api_client, method, url):
    response = getattr(api_client, method)(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Token"


def test_token_from_username_and_password_authenticates_api_calls(api_client, scientist, domain):
    RegisteredModelFactory(name="churn", domain=domain)
    response = post_json(api_client, "/api/v1/auth/token/", {"username": "sara", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert names(api_client.get(MODELS)) == ["churn"]

    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get(MODELS)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_token_refused_for_a_wrong_password(api_client, scientist):
    response = post_json(api_client, "/api/v1/auth/token/", {"username": "sara", "password": "wrong"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_session_login_works_for_the_browser(api_client, scientist, domain):
    RegisteredModelFactory(name="churn", domain=domain)
    api_client.force_login(scientist)
    assert names(api_client.get(MODELS)) == ["churn"]


def test_unknown_api_paths_are_json_404s(api_as, scientist):
    client = api_as(scientist)
    for url in ("/api/v1/versions/abc/", "/api/v1/no-such-endpoint/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


# --- model list: filters, sorts, rows ------------------------------------------------------------------


def test_list_filters_like_the_html_list(api_as, scientist, engineer, domain, forecasting, team):
    registry = RegistrySourceFactory(name="mlflow-prod")
    RegisteredModelFactory(
        name="churn-predictor",
        domain=domain,
        team=team,
        owners=[scientist],
        tags=["churn", "gbm"],
        lifecycle=Lifecycle.PRODUCTION,
        source=registry,
        description="Who is about to leave",
    )
    RegisteredModelFactory(name="basket-recs", domain=domain, owners=[engineer], tags=["recs"])
    RegisteredModelFactory(name="demand-daily", domain=forecasting, owners=[engineer], tags=["gbm"])
    client = api_as(scientist)

    assert names(client.get(MODELS)) == ["basket-recs", "churn-predictor", "demand-daily"]
    assert names(client.get(MODELS, {"domain": "demand-forecasting"})) == ["demand-daily"]
    assert names(client.get(MODELS, {"team": "recs"})) == ["churn-predictor"]
    assert names(client.get(MODELS, {"owner": "eric"})) == ["basket-recs", "demand-daily"]
    assert names(client.get(MODELS, {"lifecycle": "production"})) == ["churn-predictor"]
    assert names(client.get(MODELS, {"tag": "gbm"})) == ["churn-predictor", "demand-daily"]
    assert names(client.get(MODELS, {"registry": "mlflow-prod"})) == ["churn-predictor"]
    assert names(client.get(MODELS, {"q": "leave"})) == ["churn-predictor"]
    assert names(client.get(MODELS, {"q": "forecast"})) == ["demand-daily"]
    assert names(client.get(MODELS, {"tag": "gbm", "domain": "personalisation"})) == ["churn-predictor"]
    assert names(client.get(MODELS, {"q": "nothing-like-this"})) == []


def test_list_row_shows_owners_tags_latest_version_and_primary_metric(api_as, scientist, domain, team):
    model = RegisteredModelFactory(
        name="churn",
        domain=domain,
        team=team,
        owners=[scientist],
        tags=["gbm", "churn"],
        primary_metric="auc",
    )
    ModelVersionFactory(model=model, version="1")
    v2 = ModelVersionFactory(model=model, version="2")
    add_metric(v2, "auc", [0.7, 0.81])
    add_metric(v2, "loss", [0.5])

    row = api_as(scientist).get(MODELS).json()["results"][0]

    assert row["name"] == "churn"
    assert row["url"] == "http://testserver/api/v1/models/churn/"
    assert row["html_url"] == "http://testserver/models/churn/"
    assert row["domain"] == {"slug": "personalisation", "name": "Personalisation"}
    assert row["team"] == {"slug": "recs", "name": "Recs"}
    assert row["owners"] == [
        {"username": "sara", "full_name": scientist.get_full_name(), "role": OwnerRole.TECHNICAL}
    ]
    assert row["tags"] == ["churn", "gbm"]
    assert row["latest_version"] == "2"
    assert row["version_count"] == 2
    assert row["primary_metric"] == "auc"
    assert row["primary_metric_value"] == 0.81
    assert row["lifecycle"] == "experimental"
    assert row["registry"] is None
    assert row["model_card_complete"] is True
    assert "aliases" not in row  # detail only


def test_list_sorts(api_as, scientist, domain, forecasting):
    a = RegisteredModelFactory(name="alpha", domain=forecasting, lifecycle=Lifecycle.STAGING)
    b = RegisteredModelFactory(name="bravo", domain=domain, lifecycle=Lifecycle.PRODUCTION)
    c = RegisteredModelFactory(name="charlie", domain=domain, lifecycle=Lifecycle.ARCHIVED)
    for i in range(3):
        ModelVersionFactory(model=c, version=str(i + 1))
    ModelVersionFactory(model=a, version="1")
    now = timezone.now()
    for offset, model in enumerate([b, c, a]):
        RegisteredModel.objects.filter(pk=model.pk).update(updated_at=now - timedelta(days=offset))
    client = api_as(scientist)

    assert names(client.get(MODELS, {"sort": "name"})) == ["alpha", "bravo", "charlie"]
    assert names(client.get(MODELS, {"sort": "-name"})) == ["charlie", "bravo", "alpha"]
    assert names(client.get(MODELS, {"sort": "-updated"})) == ["bravo", "charlie", "alpha"]
    assert names(client.get(MODELS, {"sort": "updated"})) == ["alpha", "charlie", "bravo"]
    assert names(client.get(MODELS, {"sort": "domain"})) == ["alpha", "bravo", "charlie"]
    assert names(client.get(MODELS, {"sort": "lifecycle"})) == ["charlie", "bravo", "alpha"]
    assert names(client.get(MODELS, {"sort": "-versions"})) == ["charlie", "alpha", "bravo"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "popularity"}, "sort"),
        ({"domain": "no-such-domain"}, "domain"),
        ({"lifecycle": "bogus"}, "lifecycle"),
        ({"owner": "nobody"}, "owner"),
        ({"registry": "nowhere"}, "registry"),
        ({"q": "x" * 201}, "q"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "10000"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
    ],
)
def test_invalid_list_parameters_are_400_with_field_messages(api_as, scientist, domain, params, field):
    RegisteredModelFactory(domain=domain)
    response = api_as(scientist).get(MODELS, params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field] and all(isinstance(message, str) for message in body[field])


# --- keyset pagination ---------------------------------------------------------------------------------


def _walk(client, url, params=None):
    """Follow `next` links from the first page; returns the pages (lists of names) and the last body."""
    pages = []
    body = client.get(url, params).json()
    pages.append([row["name"] for row in body["results"]])
    while body["next"]:
        body = client.get(body["next"]).json()
        pages.append([row["name"] for row in body["results"]])
    return pages, body


@pytest.fixture
def many_models(domain, forecasting):
    models = []
    for i in range(25):
        model = RegisteredModelFactory(
            name=f"model-{i:02d}",
            domain=domain if i % 3 else forecasting,
            lifecycle=[Lifecycle.EXPERIMENTAL, Lifecycle.PRODUCTION][i % 2],
        )
        models.append(model)
    # Ties on every sort key except the id, so the id really decides.
    RegisteredModel.objects.update(updated_at=timezone.now())
    return models


@pytest.mark.parametrize("sort", list(MODEL_SORTS))
def test_cursor_pagination_walks_every_row_once_forwards_and_back(api_as, scientist, many_models, sort):
    client = api_as(scientist)
    expected = list(
        RegisteredModel.objects.order_by(*MODEL_SORTS[sort].ordering).values_list("name", flat=True)
    )

    pages, last = _walk(client, MODELS, {"sort": sort, "page_size": 10})

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [name for page in pages for name in page] == expected
    assert last["next"] is None

    backwards = [[row["name"] for row in last["results"]]]
    body = last
    while body["previous"]:
        body = client.get(body["previous"]).json()
        backwards.append([row["name"] for row in body["results"]])
    assert backwards == list(reversed(pages))
    assert body["previous"] is None


def test_a_deep_cursor_and_filters_survive_in_the_links(api_as, scientist, many_models):
    client = api_as(scientist)
    ordered = list(RegisteredModel.objects.order_by("name", "id"))
    twentieth = ordered[19]

    cursor = encode_cursor([twentieth.name, twentieth.pk], backwards=False)
    response = client.get(MODELS, {"cursor": cursor, "page_size": 10})
    assert names(response) == [m.name for m in ordered[20:]]
    assert response.json()["next"] is None

    pages, _ = _walk(client, MODELS, {"domain": "personalisation", "page_size": 4})
    expected = [m.name for m in ordered if m.domain.slug == "personalisation"]
    assert [name for page in pages for name in page] == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!!",
        "eyJ2IjpbXX0",  # {"v":[]}: valid base64 and JSON, wrong shape
        encode_cursor(["model-01"], backwards=False),  # too few values for ("name", "id")
        encode_cursor(["model-01", "not-an-id"], backwards=False),
        encode_cursor([None, 1], backwards=False),
    ],
)
def test_tampered_cursor_is_a_400(api_as, scientist, many_models, cursor):
    response = api_as(scientist).get(MODELS, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


# --- register a model and a version, read them back ------------------------------------------------------


def test_register_model_and_version_then_read_everything_back(api_as, scientist, engineer, domain, team):
    client = api_as(scientist)
    response = post_json(
        client,
        MODELS,
        {
            "name": "churn-predictor",
            "domain": "personalisation",
            "team": "recs",
            "description": "Predicts **churn**.<script>alert(1)</script>",
            "tags": ["Churn", "gbm"],
            "owners": [{"username": "sara", "role": "technical"}, {"username": "eric", "role": "business"}],
            "lifecycle": "staging",
            "intended_use": "Retention campaigns.",
            "limitations": "New customers.",
            "ethical_considerations": "No protected attributes.",
            "primary_metric": "auc",
            "primary_metric_goal": "maximize",
            "retrain_every_days": 30,
            "source_url": "https://mlflow.example.com/#/models/churn-predictor",
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "churn-predictor"
    assert created["url"] == "http://testserver/api/v1/models/churn-predictor/"
    assert created["versions_url"] == "http://testserver/api/v1/models/churn-predictor/versions/"
    assert created["domain"] == {"slug": "personalisation", "name": "Personalisation"}
    assert created["team"] == {"slug": "recs", "name": "Recs"}
    assert created["tags"] == ["churn", "gbm"]
    assert sorted((o["username"], o["role"]) for o in created["owners"]) == [
        ("eric", "business"),
        ("sara", "technical"),
    ]
    assert created["description"] == "Predicts **churn**.<script>alert(1)</script>"
    assert "<strong>churn</strong>" in created["description_html"]
    assert "<script" not in created["description_html"]
    assert created["lifecycle"] == "staging"
    assert created["intended_use"] == "Retention campaigns."
    assert created["limitations"] == "New customers."
    assert created["ethical_considerations"] == "No protected attributes."
    assert created["model_card_complete"] is True
    assert created["primary_metric"] == "auc"
    assert created["primary_metric_goal"] == "maximize"
    assert created["retrain_every_days"] == 30
    assert created["next_retrain_due"] is None
    assert created["is_retrain_overdue"] is False
    assert created["source_url"] == "https://mlflow.example.com/#/models/churn-predictor"
    assert created["latest_version"] is None
    assert created["version_count"] == 0
    assert created["aliases"] == {}

    versions_url = created["versions_url"]
    first_trained_at = timezone.now() - timedelta(days=50)
    response = post_json(client, versions_url, {"version": "1", "created_at": first_trained_at.isoformat()})
    assert response.status_code == 201
    trained_at = timezone.now() - timedelta(days=40)
    response = post_json(
        client,
        versions_url,
        {
            "version": "2",
            "created_at": trained_at.isoformat(),
            "created_by": "pipeline",
            "status": "ready",
            "source_uri": "s3://models/churn/2",
            "run_id": "run-abc",
            "code_commit": "0123abcd",
            "code_repository": "https://git.example.com/ds/churn",
            "hyperparameters": {"learning_rate": 0.05, "max_depth": 6, "features": ["a", "b"]},
            "parent_version": "1",
            "artifact_digest": "sha256:feed",
            "training_reason": "drift",
            "description": "Retrained after drift.",
            "metrics": [
                {"key": "auc", "value": 0.70, "step": 0},
                {"key": "auc", "value": 0.82, "step": 1, "timestamp": trained_at.isoformat()},
                {"key": "loss", "value": 0.4},
            ],
            "datasets": [
                {"uri": "s3://lake/orders", "name": "orders", "digest": "d1", "role": "training"},
                {"uri": "s3://lake/holdout", "role": "evaluation"},
            ],
            "aliases": ["champion"],
        },
    )
    assert response.status_code == 201, response.content
    version = response.json()
    v2 = ModelVersion.objects.get(model__name="churn-predictor", version="2")
    assert version["id"] == v2.pk
    assert version["url"] == f"http://testserver/api/v1/versions/{v2.pk}/"

    detail = client.get(version["url"]).json()
    assert detail == version
    assert detail["model"] == "churn-predictor"
    assert detail["model_url"] == "http://testserver/api/v1/models/churn-predictor/"
    assert detail["version"] == "2"
    assert detail["status"] == "ready"
    assert detail["created_by"] == "pipeline"
    assert detail["created_at"].startswith(trained_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert detail["source_uri"] == "s3://models/churn/2"
    assert detail["run_id"] == "run-abc"
    assert detail["artifact_digest"] == "sha256:feed"
    assert detail["training_reason"] == "drift"
    assert detail["description"] == "Retrained after drift."
    assert detail["code_version"] == {"commit": "0123abcd", "repository": "https://git.example.com/ds/churn"}
    assert detail["params"] == {"learning_rate": 0.05, "max_depth": 6, "features": ["a", "b"]}
    assert detail["metrics"] == [
        {"key": "auc", "value": 0.82, "step": 1, "point_count": 2},
        {"key": "loss", "value": 0.4, "step": 0, "point_count": 1},
    ]
    orders = Dataset.objects.get(uri="s3://lake/orders")
    holdout = Dataset.objects.get(uri="s3://lake/holdout")
    assert detail["datasets"] == [
        {"id": holdout.pk, "uri": "s3://lake/holdout", "name": "holdout", "role": "evaluation", "digest": ""},
        {"id": orders.pk, "uri": "s3://lake/orders", "name": "orders", "role": "training", "digest": "d1"},
    ]
    assert detail["aliases"] == ["champion"]
    v1 = ModelVersion.objects.get(model__name="churn-predictor", version="1")
    assert detail["parent"] == {
        "id": v1.pk,
        "version": "1",
        "model": "churn-predictor",
        "url": f"http://testserver/api/v1/versions/{v1.pk}/",
    }
    assert detail["children"] == []

    model = client.get(created["url"]).json()
    assert model["latest_version"] == "2"
    assert model["version_count"] == 2
    assert model["aliases"] == {"champion": "2"}
    # Trained 40 days ago, retrained every 30 days: overdue.
    assert model["next_retrain_due"] is not None
    assert model["is_retrain_overdue"] is True

    versions = client.get(versions_url).json()
    assert [v["version"] for v in versions["results"]] == ["2", "1"]
    assert versions["results"][0]["aliases"] == ["champion"]
    assert versions["results"][0]["parent"]["version"] == "1"
    assert versions["results"][1]["metrics"] == []

    history = client.get(f"{version['url']}metrics/", {"key": "auc"}).json()
    assert history == [{"key": "auc", "points": [{"step": 0, "value": 0.7}, {"step": 1, "value": 0.82}]}]
    all_series = client.get(f"{version['url']}metrics/").json()
    assert [series["key"] for series in all_series] == ["auc", "loss"]

    usage = client.get(f"/api/v1/datasets/{orders.pk}/").json()
    assert usage["models"] == [
        {
            "name": "churn-predictor",
            "url": "http://testserver/api/v1/models/churn-predictor/",
            "domain": {"slug": "personalisation", "name": "Personalisation"},
            "versions": [{"id": v2.pk, "version": "2", "role": "training", "digest": "d1"}],
        }
    ]


def test_log_metrics_and_link_datasets_to_a_version(api_as, scientist, domain):
    model = RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    version = ModelVersionFactory(model=model, version="1")
    client = api_as(scientist)
    url = f"/api/v1/versions/{version.pk}/"

    response = post_json(
        client,
        f"{url}metrics/",
        {"metrics": [{"key": "loss", "value": 0.9, "step": 0}, {"key": "loss", "value": 0.3, "step": 5}]},
    )
    assert response.status_code == 201, response.content
    assert response.json()["metrics"] == [{"key": "loss", "value": 0.3, "step": 5, "point_count": 2}]
    assert client.get(f"{url}metrics/", {"key": "loss"}).json() == [
        {"key": "loss", "points": [{"step": 0, "value": 0.9}, {"step": 5, "value": 0.3}]}
    ]
    response = client.get(f"{url}metrics/", {"key": "auc"})
    assert response.status_code == 404
    assert "auc" in response.json()["detail"]

    response = post_json(
        client, f"{url}datasets/", {"datasets": [{"uri": "s3://lake/a", "name": "A", "role": "evaluation"}]}
    )
    assert response.status_code == 201, response.content
    assert [(d["uri"], d["name"], d["role"]) for d in response.json()["datasets"]] == [
        ("s3://lake/a", "A", "evaluation")
    ]


def test_owner_patches_only_the_fields_sent(api_as, scientist, domain, forecasting, engineer):
    model = RegisteredModelFactory(
        name="m", domain=domain, owners=[scientist], tags=["old"], description="keep me", primary_metric="auc"
    )
    client = api_as(scientist)

    response = patch_json(
        client,
        "/api/v1/models/m/",
        {
            "domain": "demand-forecasting",
            "tags": ["new", "Shiny"],
            "lifecycle": "production",
            "owners": [{"username": "sara"}, {"username": "eric", "role": "steward"}],
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["domain"]["slug"] == "demand-forecasting"
    assert body["tags"] == ["new", "shiny"]
    assert body["lifecycle"] == "production"
    assert sorted((o["username"], o["role"]) for o in body["owners"]) == [
        ("eric", "steward"),
        ("sara", "technical"),
    ]
    model.refresh_from_db()
    assert model.description == "keep me"
    assert model.primary_metric == "auc"


def test_model_names_with_dots_and_spaces_are_addressable(api_as, scientist, domain):
    post_json(api_as(scientist), MODELS, {"name": "churn v2.1 (eu)", "domain": "personalisation"})
    response = api_as(scientist).get(MODELS).json()["results"][0]
    assert response["url"] == "http://testserver/api/v1/models/churn%20v2.1%20(eu)/"
    assert api_as(scientist).get(response["url"]).json()["name"] == "churn v2.1 (eu)"


# --- roles ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.COMPLIANCE])
def test_only_writers_register_models(api_as, make_user, domain, role):
    response = post_json(api_as(make_user(role)), MODELS, {"name": "m", "domain": "personalisation"})
    assert response.status_code == 403
    assert "register models" in response.json()["detail"]
    assert not RegisteredModel.objects.exists()


def test_manager_gets_403_before_any_input_check(api_as, manager):
    response = post_json(api_as(manager), MODELS, {"name": "", "domain": "nope"})
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.SCIENTIST, Role.ENGINEER, Role.ADMIN])
def test_writers_register_models_and_become_owners(api_as, make_user, domain, role):
    user = make_user(role)
    response = post_json(api_as(user), MODELS, {"name": "m", "domain": "personalisation"})
    assert response.status_code == 201
    assert [o["username"] for o in response.json()["owners"]] == [user.username]


def test_only_owners_and_admins_change_a_model(api_as, scientist, make_user, admin_user, domain):
    model = RegisteredModelFactory(name="m", domain=domain, owners=[scientist], description="original")
    version = ModelVersionFactory(model=model, version="1")
    other = make_user(Role.SCIENTIST, username="other")
    client = api_as(other)

    assert patch_json(client, "/api/v1/models/m/", {"description": "mine"}).status_code == 403
    assert post_json(client, "/api/v1/models/m/versions/", {"version": "2"}).status_code == 403
    metrics = {"metrics": [{"key": "auc", "value": 1}]}
    assert post_json(client, f"/api/v1/versions/{version.pk}/metrics/", metrics).status_code == 403
    datasets = {"datasets": [{"uri": "s3://x"}]}
    assert post_json(client, f"/api/v1/versions/{version.pk}/datasets/", datasets).status_code == 403
    model.refresh_from_db()
    assert model.description == "original"
    assert model.versions.count() == 1
    assert not MetricPoint.objects.exists()
    assert not Dataset.objects.exists()

    # Reading stays open to every signed-in role.
    assert client.get("/api/v1/models/m/").status_code == 200
    assert client.get(f"/api/v1/versions/{version.pk}/").status_code == 200

    response = patch_json(api_as(admin_user), "/api/v1/models/m/", {"description": "curated"})
    assert response.status_code == 200
    assert response.json()["description"] == "curated"


def test_owner_cannot_remove_every_owner(api_as, scientist, domain):
    RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    response = patch_json(api_as(scientist), "/api/v1/models/m/", {"owners": []})
    assert response.status_code == 400
    assert "owners" in response.json()


# --- bad input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"name": "m", "domain": "nope"}, "domain", "Unknown domain 'nope'."),
        ({"name": "m"}, "domain", "This field is required."),
        ({"domain": "personalisation"}, "name", "This field is required."),
        ({"name": "x" * 201, "domain": "personalisation"}, "name", "200"),
        ({"name": "a/b", "domain": "personalisation"}, "name", "'/'"),
        ({"name": "m", "domain": "personalisation", "team": "nope"}, "team", "Unknown team 'nope'."),
        ({"name": "m", "domain": "personalisation", "lifecycle": "retired"}, "lifecycle", "valid choice"),
        ({"name": "m", "domain": "personalisation", "tags": "gbm"}, "tags", "list"),
        ({"name": "m", "domain": "personalisation", "tags": ["bad tag!"]}, "tags", "bad tag!"),
        ({"name": "m", "domain": "personalisation", "retrain_every_days": 0}, "retrain_every_days", "1"),
        ({"name": "m", "domain": "personalisation", "source_url": "not a url"}, "source_url", "URL"),
        ({"name": "m", "domain": "personalisation", "colour": "red"}, "colour", "Unknown field."),
        ({"name": "m", "domain": ["personalisation"]}, "domain", "string"),
        ({"name": "m", "domain": "personalisation", "owners": []}, "owners", "empty"),
        ({"name": "m", "domain": "personalisation", "owners": ["sara"]}, "owners", "dictionary"),
    ],
)
def test_register_model_rejects_bad_input(api_as, scientist, domain, body, field, message):
    response = post_json(api_as(scientist), MODELS, body)
    assert response.status_code == 400
    errors = response.json()
    assert field in errors
    assert message in json.dumps(errors[field])
    assert not RegisteredModel.objects.exists()


def test_unknown_owner_username_is_a_400(api_as, scientist, domain):
    response = post_json(
        api_as(scientist),
        MODELS,
        {"name": "m", "domain": "personalisation", "owners": [{"username": "ghost", "role": "technical"}]},
    )
    assert response.status_code == 400
    # DRF reports list items by index.
    assert response.json() == {"owners": {"0": {"username": ["Unknown user 'ghost'."]}}}


def test_duplicate_model_name_is_a_400(api_as, scientist, domain):
    RegisteredModelFactory(name="m", domain=domain)
    response = post_json(api_as(scientist), MODELS, {"name": "m", "domain": "personalisation"})
    assert response.status_code == 400
    assert "already registered" in response.json()["name"][0]


@override_settings(MODELHOUSE_MAX_DESCRIPTION_CHARS=100)
def test_oversized_description_is_a_clear_400(api_as, scientist, domain):
    response = post_json(
        api_as(scientist), MODELS, {"name": "m", "domain": "personalisation", "description": "x" * 101}
    )
    assert response.status_code == 400
    assert response.json() == {"description": ["At most 100 characters."]}


def test_oversized_description_at_the_default_limit(api_as, scientist, domain):
    response = post_json(
        api_as(scientist), MODELS, {"name": "m", "domain": "personalisation", "description": "x" * 20_001}
    )
    assert response.status_code == 400
    assert response.json() == {"description": ["At most 20,000 characters."]}


@pytest.mark.parametrize(
    "raw",
    ['{"name": "m", "domain": ', "not json at all", '{"name": "m", "domain": "personalisation",}'],
)
def test_malformed_json_is_a_400(api_as, scientist, domain, raw):
    response = api_as(scientist).post(MODELS, raw, content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_absurdly_nested_json_is_a_400_not_a_500(api_as, scientist, domain):
    response = api_as(scientist).post(MODELS, "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_null_characters_in_the_path_or_query_are_refused(api_as, scientist, domain):
    RegisteredModelFactory(name="m", domain=domain)
    client = api_as(scientist)
    assert client.get("/api/v1/models/m%00/").status_code == 404
    response = client.get(MODELS, {"page_size": "5\x00"})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["Null characters are not allowed."]}


def test_a_cursor_holding_a_null_character_is_a_400(api_as, scientist, many_models):
    response = api_as(scientist).get(MODELS, {"cursor": encode_cursor(["model-01\x00", 1], backwards=False)})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_json_array_body_is_a_400(api_as, scientist, domain):
    response = post_json(api_as(scientist), MODELS, [{"name": "m"}])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_patch_cannot_rename_a_model(api_as, scientist, domain):
    RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    response = patch_json(api_as(scientist), "/api/v1/models/m/", {"name": "renamed"})
    assert response.status_code == 400
    assert response.json() == {"name": ["Unknown field."]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"version": "2", "hyperparameters": [1, 2]}, "hyperparameters"),
        ({"version": "2", "hyperparameters": "lr=0.1"}, "hyperparameters"),
        ({"version": "2", "metrics": [{"key": "auc", "value": "NaN"}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": "Infinity"}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": "-inf"}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": True}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": "high"}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": 1, "step": -1}]}, "metrics"),
        ({"version": "2", "metrics": [{"key": "auc", "value": 1, "step": 1.5}]}, "metrics"),
        ({"version": "2", "metrics": [{"value": 1}]}, "metrics"),
        ({"version": "2", "metrics": {"auc": 1}}, "metrics"),
        ({"version": "2", "datasets": [{"uri": "s3://x", "role": "testing"}]}, "datasets"),
        ({"version": "2", "datasets": [{"name": "no uri"}]}, "datasets"),
        ({"version": "2", "aliases": ["has space"]}, "aliases"),
        ({"version": "2", "parent_version": "99"}, "parent_version"),
        ({"version": "1"}, "version"),
        ({"version": "bad version"}, "version"),
        ({"version": "2", "status": "shiny"}, "status"),
        ({"version": "2", "created_at": "yesterday"}, "created_at"),
        ({"version": "2", "created_at": "9999-12-31T23:59:59Z"}, "created_at"),
        ({"version": "2", "hyperparameters": {"a": "nul\x00"}}, "hyperparameters"),
        ({"version": "2", "hyperparameters": {"nul\x00": 1}}, "hyperparameters"),
        ({"version": "2", "hyperparameters": {"a": _nested(40)}}, "hyperparameters"),
        ({"version": "2", "metrics": [{"key": "auc", "value": 1, "step": 2**63}]}, "metrics"),
    ],
)
def test_version_create_rejects_bad_input_and_stores_nothing(api_as, scientist, domain, body, field):
    model = RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    ModelVersionFactory(model=model, version="1")
    response = post_json(api_as(scientist), "/api/v1/models/m/versions/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert model.versions.count() == 1
    assert not MetricPoint.objects.exists()
    assert not Dataset.objects.exists()
    assert not ModelAlias.objects.exists()


def test_nan_json_literals_are_refused(api_as, scientist, domain):
    model = RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    version = ModelVersionFactory(model=model, version="1")
    for literal in ("NaN", "Infinity", "-Infinity"):
        response = api_as(scientist).post(
            f"/api/v1/versions/{version.pk}/metrics/",
            f'{{"metrics": [{{"key": "auc", "value": {literal}}}]}}',
            content_type="application/json",
        )
        assert response.status_code == 400
    assert not MetricPoint.objects.exists()


@pytest.mark.parametrize(
    "body", [{"metrics": []}, {}, {"metrics": [{"key": "auc", "value": "nan"}]}, {"points": []}]
)
def test_metrics_log_rejects_bad_bodies(api_as, scientist, domain, body):
    model = RegisteredModelFactory(name="m", domain=domain, owners=[scientist])
    version = ModelVersionFactory(model=model, version="1")
    response = post_json(api_as(scientist), f"/api/v1/versions/{version.pk}/metrics/", body)
    assert response.status_code == 400
    assert not MetricPoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/models/no-such-model/",
        "/api/v1/models/no-such-model/versions/",
        "/api/v1/versions/999999/",
        "/api/v1/versions/999999/metrics/",
        "/api/v1/versions/99999999999999999999999/",
        "/api/v1/datasets/999999/",
        "/api/v1/datasets/99999999999999999999999/",
        "/api/v1/domains/no-such-domain/",
    ],
)
def test_unknown_objects_are_json_404s(api_as, scientist, url):
    response = api_as(scientist).get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_writes_to_unknown_objects_are_404s(api_as, scientist):
    client = api_as(scientist)
    assert patch_json(client, "/api/v1/models/nope/", {"description": "x"}).status_code == 404
    assert post_json(client, "/api/v1/models/nope/versions/", {"version": "1"}).status_code == 404
    assert post_json(client, "/api/v1/versions/999999/datasets/", {"datasets": []}).status_code == 404


# --- datasets -------------------------------------------------------------------------------------------


def test_dataset_list_filters(api_as, scientist, domain):
    DatasetFactory(name="orders", uri="s3://lake/orders", domain=domain, pii_categories=["contact"])
    DatasetFactory(name="weather", uri="s3://lake/weather", sensitivity=Sensitivity.PUBLIC)
    client = api_as(scientist)

    assert names(client.get("/api/v1/datasets/")) == ["orders", "weather"]
    assert names(client.get("/api/v1/datasets/", {"has_pii": "true"})) == ["orders"]
    assert names(client.get("/api/v1/datasets/", {"has_pii": "false"})) == ["weather"]
    assert names(client.get("/api/v1/datasets/", {"sensitivity": "public"})) == ["weather"]
    assert names(client.get("/api/v1/datasets/", {"domain": "personalisation"})) == ["orders"]
    assert names(client.get("/api/v1/datasets/", {"q": "weath"})) == ["weather"]
    response = client.get("/api/v1/datasets/", {"sensitivity": "secret"})
    assert response.status_code == 400
    assert "sensitivity" in response.json()


def test_dataset_list_rows_and_pagination(api_as, scientist, domain):
    model = RegisteredModelFactory(name="m", domain=domain)
    version = ModelVersionFactory(model=model, version="1")
    datasets = [DatasetFactory(name=f"ds-{i:02d}", owner=scientist) for i in range(12)]
    link_dataset(version, datasets[0])
    link_dataset(version, datasets[0], role="evaluation")
    client = api_as(scientist)

    pages, _ = _walk(client, "/api/v1/datasets/", {"page_size": 5})
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [n for p in pages for n in p] == [d.name for d in datasets]
    row = client.get("/api/v1/datasets/", {"page_size": 1}).json()["results"][0]
    assert row["owner"] == "sara"
    assert row["model_count"] == 1
    assert row["url"] == f"http://testserver/api/v1/datasets/{datasets[0].pk}/"


def test_dataset_create_and_update_follow_the_policy(
    api_as, scientist, compliance, manager, make_user, domain
):
    body = {
        "uri": "s3://lake/customers",
        "description": "CRM export",
        "domain": "personalisation",
        "pii_categories": ["contact", "identifier"],
        "sensitivity": "confidential",
        "owner": "sara",
    }
    assert post_json(api_as(manager), "/api/v1/datasets/", body).status_code == 403

    response = post_json(api_as(scientist), "/api/v1/datasets/", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "customers"
    assert created["owner"] == "sara"
    assert created["domain"] == {"slug": "personalisation", "name": "Personalisation"}
    assert created["pii_categories"] == ["contact", "identifier"]
    assert created["has_pii"] is True
    assert created["models"] == []

    duplicate = post_json(api_as(scientist), "/api/v1/datasets/", body)
    assert duplicate.status_code == 400
    assert "uri" in duplicate.json()

    url = created["url"]
    other = make_user(Role.SCIENTIST, username="other")
    assert patch_json(api_as(other), url, {"sensitivity": "public"}).status_code == 403
    response = patch_json(
        api_as(compliance), url, {"sensitivity": "restricted", "pii_categories": ["health"]}
    )
    assert response.status_code == 200
    assert response.json()["sensitivity"] == "restricted"
    assert response.json()["is_special_category"] is True
    bad = patch_json(api_as(compliance), url, {"pii_categories": ["shoe size"]})
    assert bad.status_code == 400
    assert "pii_categories" in bad.json()
    assert patch_json(api_as(compliance), url, {"uri": "s3://elsewhere"}).json() == {
        "uri": ["Unknown field."]
    }


# --- domains --------------------------------------------------------------------------------------------


def test_domains_with_counts_per_lifecycle(api_as, scientist, domain, forecasting):
    RegisteredModelFactory(domain=domain, lifecycle=Lifecycle.PRODUCTION)
    RegisteredModelFactory(domain=domain, lifecycle=Lifecycle.PRODUCTION)
    RegisteredModelFactory(domain=domain, lifecycle=Lifecycle.STAGING)
    client = api_as(scientist)

    body = client.get("/api/v1/domains/").json()
    assert [d["slug"] for d in body["results"]] == ["demand-forecasting", "personalisation"]
    personalisation = body["results"][1]
    assert personalisation["model_count"] == 3
    assert personalisation["lifecycle_counts"] == {
        "experimental": 0,
        "staging": 1,
        "production": 2,
        "deprecated": 0,
        "archived": 0,
    }
    assert personalisation["key"] == "PERS"
    assert personalisation["url"] == "http://testserver/api/v1/domains/personalisation/"
    assert client.get(personalisation["url"]).json() == personalisation


# --- schema and docs ------------------------------------------------------------------------------------


def test_openapi_schema_lists_the_api(api_client, scientist):
    api_client.force_login(scientist)
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert "/api/v1/models/" in paths
    assert {
        "/api/v1/models/{name}/versions/",
        "/api/v1/versions/{id}/metrics/",
        "/api/v1/auth/token/",
    } <= set(paths)
    model_list_params = {p["name"] for p in paths["/api/v1/models/"]["get"]["parameters"]}
    assert {
        "q",
        "domain",
        "team",
        "owner",
        "lifecycle",
        "tag",
        "registry",
        "sort",
        "cursor",
    } <= model_list_params
    assert "page_size" in model_list_params


def test_api_docs_page_renders(client, scientist):
    client.force_login(scientist)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
