"""The monitoring and verification REST API over real services: prediction statistics posted by serving
systems, alerts (list, acknowledge, resolve), verification scripts and their sandboxed runs."""

import datetime
import textwrap

import pytest
from django.utils import timezone

from catalog.models import ModelVersion
from governance.models import PredictionStats, RunStatus, VerificationRun
from governance.services.monitoring import alert_raise
from governance.services.verification import verification_script_save
from tests.factories import ModelVersionFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
STATS = "/api/v1/models/recs-ranker/prediction-stats/"
ALERTS = "/api/v1/alerts/"
SCRIPTS = "/api/v1/governance/models/recs-ranker/verification-scripts/"
RUNS = "/api/v1/verification-runs/"

AUC_CHECK = textwrap.dedent("""
    import json, sys
    data = json.load(sys.stdin)
    auc = data["metrics"]["auc"]
    ok = auc >= 0.80
    print(json.dumps({"passed": ok, "checks": [
        {"name": "auc >= 0.80", "passed": ok, "value": auc, "threshold": 0.80},
    ]}))
""")


@pytest.fixture
def api_as(db):
    """api_as(user) -> a new APIClient with that user's token (several people's clients at once)."""
    from rest_framework.test import APIClient

    from portal.services import user_token

    def login(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user_token(user=user)}")
        return client

    return login


def post_json(client, url, data=None):
    return client.post(url, data if data is not None else {}, format="json")


def day(n=0) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def stranger(make_user):
    return make_user("scientist", username="stan")


# --- prediction statistics ------------------------------------------------------------------------------


def stats(**overrides):
    data = {
        "day": day(),
        "count": 9000,
        "mean": 0.21,
        "std": 0.05,
        "quantiles": {"p50": 0.2, "p95": 0.3},
        "segment_means": {"new": 0.21, "returning": 0.2},
    }
    data.update(overrides)
    return data


def test_serving_systems_post_daily_stats_and_read_the_series(
    api_as, scientist, engineer, stranger, ready_model
):
    sara, eric = api_as(scientist), api_as(engineer)
    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    response = post_json(sara, STATS, stats(is_baseline=True, count=10_000, mean=0.2, version=v2.pk))
    assert response.status_code == 201, response.content
    assert response.json()["is_baseline"] is True and response.json()["version"]["version"] == "2"
    for n in (-2, -1):
        assert post_json(eric, STATS, stats(day=day(n))).status_code == 201  # engineers post too
    response = post_json(sara, STATS, stats(day=day(-1), mean=0.25))  # the same day again replaces it
    assert response.status_code == 201 and response.json()["mean"] == 0.25
    assert PredictionStats.objects.filter(model=ready_model).count() == 3

    response = post_json(api_as(stranger), STATS, stats())
    assert response.status_code == 403

    series = sara.get(STATS).json()
    assert series["model"] == "recs-ranker" and series["date_to"] == day()
    assert series["baseline"]["mean"] == 0.2 and series["baseline"]["count"] == 10_000
    assert [(row["day"], row["mean"]) for row in series["series"]] == [(day(-2), 0.21), (day(-1), 0.25)]
    assert series["series"][0]["quantiles"] == {"p50": 0.2, "p95": 0.3}
    only = sara.get(STATS + f"?from={day(-1)}&to={day(-1)}").json()
    assert [row["day"] for row in only["series"]] == [day(-1)]
    assert sara.get(STATS + "?from=2026-02-30").status_code == 400
    assert sara.get(STATS + f"?from={day(1)}&to={day()}").status_code == 400
    assert sara.get(STATS + "?from=2000-01-01").status_code == 400  # too long a range at once
    assert sara.get("/api/v1/models/nothing/prediction-stats/").status_code == 404


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"std": -0.1}, "std"),
        ({"mean": "high"}, "mean"),
        ({"mean": True}, "mean"),
        ({"count": -1}, "count"),
        ({"count": 1.5}, "count"),
        ({"day": day(2)}, "day"),
        ({"day": "today"}, "day"),
        ({"quantiles": {"p50": "x"}}, "quantiles"),
        ({"quantiles": [0.1]}, "quantiles"),
        ({"segment_means": {"a\x00": 0.1}}, "segment_means"),
        ({"segment_means": {f"s{i}": 0.1 for i in range(201)}}, "segment_means"),
        ({"version": 999999}, "version"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_stats_are_400(api_as, scientist, ready_model, overrides, field):
    response = post_json(api_as(scientist), STATS, stats(**overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PredictionStats.objects.exists()


def test_stats_for_another_models_version_or_not_json_are_400(api_as, scientist, ready_model):
    sara = api_as(scientist)
    other = ModelVersionFactory(model=RegisteredModelFactory(owners=[scientist]), version="1")
    response = post_json(sara, STATS, stats(version=other.pk))
    assert response.status_code == 400 and "Unknown version" in response.json()["version"][0]
    # NaN is not JSON: the parser refuses it before any field is read.
    nan = '{"day": "2026-01-01", "count": 1, "mean": NaN, "std": 1}'
    response = sara.post(STATS, nan, content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    assert not PredictionStats.objects.exists()


# --- alerts ---------------------------------------------------------------------------------------------


def test_alerts_list_acknowledge_and_resolve(api_as, scientist, engineer, ready_model, domain):
    overdue, _ = alert_raise(
        model=ready_model,
        condition="retraining_overdue",
        severity="warning",
        summary="Retraining is 3 day(s) overdue.",
    )
    bias, _ = alert_raise(
        model=ready_model, condition="prediction_bias", severity="critical", summary="Mean drifted."
    )
    sara, eric = api_as(scientist), api_as(engineer)

    listed = sara.get(ALERTS).json()["results"]
    assert [a["id"] for a in listed] == [bias.pk, overdue.pk]  # last seen first
    assert listed[0]["model"] == "recs-ranker" and listed[0]["domain"]["slug"] == domain.slug
    assert listed[0]["owner"] == "sara" and listed[0]["state"] == "open"
    assert [a["id"] for a in sara.get(ALERTS + "?severity=critical").json()["results"]] == [bias.pk]
    assert [a["id"] for a in sara.get(ALERTS + "?condition=retraining_overdue").json()["results"]] == [
        overdue.pk
    ]
    assert len(sara.get(ALERTS + f"?model=recs-ranker&domain={domain.slug}").json()["results"]) == 2
    assert sara.get(ALERTS + "?state=exploded").status_code == 400
    assert sara.get(ALERTS + "?model=nothing").status_code == 400

    response = post_json(eric, f"{ALERTS}{bias.pk}/acknowledge/")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "acknowledged" and response.json()["acknowledged_by"] == "eric"
    assert post_json(eric, f"{ALERTS}{bias.pk}/acknowledge/").status_code == 409  # not open any more
    active = sara.get(ALERTS + "?state=open&state=acknowledged").json()["results"]
    assert {a["state"] for a in active} == {"open", "acknowledged"}

    assert post_json(sara, f"{ALERTS}{bias.pk}/resolve/").status_code == 400
    assert post_json(sara, f"{ALERTS}{bias.pk}/resolve/", {"resolution": "done"}).status_code == 400
    response = post_json(sara, f"{ALERTS}{bias.pk}/resolve/", {"resolution": "Retrained on fresh data."})
    assert response.status_code == 200, response.content
    resolved = response.json()
    assert resolved["state"] == "resolved" and resolved["resolution"] == "Retrained on fresh data."
    assert [e["action"] for e in resolved["events"]] == [
        "alert.opened",
        "alert.acknowledged",
        "alert.resolved",
    ]
    assert (
        post_json(sara, f"{ALERTS}{bias.pk}/resolve/", {"resolution": "Retrained again, twice."}).status_code
        == 409
    )
    assert [a["id"] for a in sara.get(ALERTS + "?state=resolved").json()["results"]] == [bias.pk]
    assert sara.get(f"{ALERTS}{overdue.pk}/").json()["details"] == {}
    assert sara.get(f"{ALERTS}999999/").status_code == 404


# --- verification ---------------------------------------------------------------------------------------


def test_scripts_are_checked_and_kept_by_the_owners(api_as, scientist, engineer, stranger, ready_model):
    sara = api_as(scientist)
    data = {
        "name": "auc-floor",
        "source": AUC_CHECK,
        "checks_description": "auc >= 0.80",
        "timeout_seconds": 30,
    }
    assert post_json(api_as(stranger), SCRIPTS, data).status_code == 403
    assert post_json(api_as(engineer), SCRIPTS, data).status_code == 403  # owners only

    response = post_json(sara, SCRIPTS, {**data, "source": "def broken(:\n"})
    assert response.status_code == 400
    assert "line 1" in response.json()["source"][0]
    assert post_json(sara, SCRIPTS, {**data, "timeout_seconds": 1}).status_code == 400
    assert post_json(sara, SCRIPTS, {**data, "source": ""}).status_code == 400
    assert post_json(sara, SCRIPTS, {**data, "language": "R"}).status_code == 400

    response = post_json(sara, SCRIPTS, data)
    assert response.status_code == 201, response.content
    script = response.json()
    assert script["name"] == "auc-floor" and script["source"] == AUC_CHECK and len(script["revision"]) == 64
    assert script["model"] == "recs-ranker" and script["created_by"] == "sara"
    listed = sara.get(SCRIPTS).json()["results"]
    assert [s["id"] for s in listed] == [script["id"]] and "source" not in listed[0]
    assert sara.get(script["url"]).json()["source"] == AUC_CHECK
    assert sara.get("/api/v1/governance/models/nothing/verification-scripts/").status_code == 404


def test_run_a_script_and_read_the_run(
    api_as, scientist, engineer, stranger, ready_model, django_capture_on_commit_callbacks
):
    script = verification_script_save(actor=scientist, model=ready_model, name="auc-floor", source=AUC_CHECK)
    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    other = ModelVersionFactory(model=RegisteredModelFactory(owners=[scientist]), version="1")
    run_url = f"/api/v1/verification-scripts/{script.pk}/run/"
    sara = api_as(scientist)

    assert post_json(api_as(stranger), run_url, {"version": v2.pk}).status_code == 403
    response = post_json(sara, run_url, {"version": other.pk})
    assert response.status_code == 400 and "Unknown version" in response.json()["version"][0]
    assert post_json(sara, run_url, {}).status_code == 400
    assert post_json(sara, run_url, {"version": "two"}).status_code == 400

    with django_capture_on_commit_callbacks(execute=True):  # tasks run eagerly in tests
        response = post_json(sara, run_url, {"version": v2.pk})
    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["queued"] is True
    (run,) = queued["runs"]
    assert (
        run["status"] == "queued"
        and run["version"]["version"] == "2"
        and run["script"]["name"] == "auc-floor"
    )

    detail = sara.get(run["url"]).json()
    assert detail["status"] == "passed" and detail["attempts"] == 1 and detail["worker"]
    assert detail["checks"][0]["name"] == "auc >= 0.80" and detail["checks"][0]["value"] == 0.83
    assert detail["duration_seconds"] > 0 and detail["summary"] == "All checks passed."
    assert "empty environment" in detail["isolation"] and detail["exit_code"] == 0
    assert '"passed": true' in detail["stdout_tail"] and detail["is_current_revision"] is True

    # Engineers run scripts too; a run already queued is answered with, not queued twice.
    eric = api_as(engineer)
    first = post_json(eric, run_url, {"version": v2.pk}).json()
    again = post_json(eric, run_url, {"version": v2.pk})
    assert again.status_code == 202 and again.json()["queued"] is False
    assert [r["id"] for r in again.json()["runs"]] == [r["id"] for r in first["runs"]]

    runs = sara.get(RUNS + "?model=recs-ranker&status=passed").json()["results"]
    assert [r["id"] for r in runs] == [run["id"]] and "stdout_tail" not in runs[0]
    assert len(sara.get(RUNS + f"?version={v2.pk}&script={script.pk}").json()["results"]) == 2
    assert sara.get(RUNS + "?status=queued").json()["results"][0]["id"] == first["runs"][0]["id"]
    assert sara.get(RUNS + "?version=abc").status_code == 400
    assert sara.get(RUNS + "?model=nothing").status_code == 400
    assert sara.get(f"{RUNS}999999/").status_code == 404
    assert sara.get(f"{RUNS}{2**70}/").status_code == 404
    assert sara.get(RUNS + f"?version={2**70}").status_code == 400
    assert post_json(sara, run_url, {"version": 2**70}).status_code == 400
    assert VerificationRun.objects.filter(status=RunStatus.PASSED).count() == 1
