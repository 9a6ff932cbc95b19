"""The alert pages, verification scripts and runs, and the model page's monitoring section, over real
services (runs execute in the sandbox; tasks are eager in tests)."""

import datetime
import json
import re
import textwrap

import pytest
from django.utils import timezone

from catalog.models import ModelVersion
from governance import monitoring_charts
from governance.models import Alert, AlertState, Delivery, NotificationChannel, RunStatus, VerificationRun
from governance.services.monitoring import alert_raise, alert_resolve, prediction_stats_record
from governance.services.verification import verification_script_save
from tests.factories import ModelVersionFactory, RegisteredModelFactory
from tests.fragments import get_assembled

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
MODEL_PAGE = "/models/recs-ranker/"
NEW_SCRIPT = "/verification/models/recs-ranker/scripts/new/"

AUC_CHECK = textwrap.dedent("""
    import json, sys
    data = json.load(sys.stdin)
    auc = data["metrics"]["auc"]
    ok = auc >= 0.80
    print("checking auc", auc, file=sys.stderr)
    print(json.dumps({"passed": ok, "checks": [
        {"name": "auc >= 0.80", "passed": ok, "value": auc, "threshold": 0.80},
        {"name": "trained on data", "passed": bool(data["datasets"]), "message": "12 rows"},
    ]}))
""")


def html(response) -> str:
    return response.content.decode()


def figures(page: str) -> dict[str, dict]:
    return {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="([^"]+)" type="application/json">(.*?)</script>', page, re.S)
    }


@pytest.fixture
def alerts(ready_model, engineer):
    NotificationChannel.objects.create(name="ml-oncall", kind="email", target="oncall@example.com")
    bias, _ = alert_raise(
        model=ready_model,
        condition="prediction_bias",
        severity="critical",
        summary="Prediction mean 0.31 is 4.2 baseline std from 0.20.",
        details={"mean": 0.31, "baseline_mean": 0.2, "shift_std": 4.2, "day": TODAY.isoformat()},
    )
    stale, _ = alert_raise(
        model=ready_model,
        condition="data_stale",
        severity="warning",
        summary="Upstream data older than 48 h.",
    )
    alert_resolve(actor=engineer, alert=stale, resolution="The upstream job was restarted.")
    return {"bias": bias, "stale": stale}


# --- alerts ---------------------------------------------------------------------------------------------


def test_alert_list_shows_active_alerts_by_default_and_filters(client, manager, alerts, domain):
    client.force_login(manager)
    page = html(client.get("/alerts/"))
    assert (
        f'href="/alerts/{alerts["bias"].pk}/"' in page and f'href="/alerts/{alerts["stale"].pk}/"' not in page
    )
    assert "Prediction mean 0.31" in page and "Critical" in page
    page = html(client.get("/alerts/?state=resolved"))
    assert (
        f'href="/alerts/{alerts["stale"].pk}/"' in page and f'href="/alerts/{alerts["bias"].pk}/"' not in page
    )
    page = html(client.get(f"/alerts/?state=all&severity=warning&domain={domain.slug}"))
    assert (
        f'href="/alerts/{alerts["stale"].pk}/"' in page and f'href="/alerts/{alerts["bias"].pk}/"' not in page
    )
    page = html(client.get("/alerts/?condition=retraining_overdue"))
    assert "No alert matches these filters" in page
    response = client.get("/alerts/?severity=apocalyptic")
    assert response.status_code == 400 and "Severity" in html(response)


def test_no_alerts_is_a_helpful_empty_state(client, manager):
    client.force_login(manager)
    page = html(client.get("/alerts/"))
    assert "No active alerts" in page and "/alerts/?state=resolved" in page


def test_alert_detail_acknowledge_and_resolve(client, engineer, alerts):
    bias = alerts["bias"]
    url = f"/alerts/{bias.pk}/"
    client.force_login(engineer)
    page = html(client.get(url))
    assert "Prediction mean 0.31 is 4.2 baseline std" in page
    assert "shift_std" in page and "4.2" in page  # the details
    assert "ml-oncall" in page and "opened" in page and "Pending" in page  # the delivery
    assert "opened the alert" in page  # the audit trail
    assert f'action="/alerts/{bias.pk}/acknowledge/"' in page

    assert client.post(f"/alerts/{bias.pk}/acknowledge/").status_code == 302
    bias.refresh_from_db()
    assert bias.state == AlertState.ACKNOWLEDGED and bias.acknowledged_by == engineer
    response = client.post(f"/alerts/{bias.pk}/acknowledge/")
    assert response.status_code == 409 and "Only an open alert can be acknowledged" in html(response)

    response = client.post(f"/alerts/{bias.pk}/resolve/", {"resolution": "fixed"})
    assert response.status_code == 400 and "Say what was done (10+ characters)." in html(response)
    response = client.post(f"/alerts/{bias.pk}/resolve/", {"resolution": "Rolled back to v1 and retrained."})
    assert response.status_code == 302
    bias.refresh_from_db()
    assert bias.state == AlertState.RESOLVED
    page = html(client.get(url))
    assert "Rolled back to v1 and retrained." in page and "resolved the alert" in page
    assert f'action="/alerts/{bias.pk}/resolve/"' not in page
    assert client.post(f"/alerts/{bias.pk}/resolve/", {"resolution": "Again and again."}).status_code == 409


def test_alert_detail_shows_mitigations_and_the_incident(client, manager, ready_model):
    from governance.models import MonitoringPolicy

    MonitoringPolicy.objects.create(model=ready_model, mitigations=["incident", "block_promotions"])
    alert, _ = alert_raise(
        model=ready_model, condition="verification_failing", severity="critical", summary="auc-floor failed."
    )
    assert alert.incident is not None
    client.force_login(manager)
    page = html(client.get(f"/alerts/{alert.pk}/"))
    assert f'href="{alert.incident.get_absolute_url()}"' in page and alert.incident.key in page
    assert "Promotions of recs-ranker are blocked" in page


def test_delivery_attempts_and_errors_are_shown(client, manager, alerts):
    Delivery.objects.filter(alert=alerts["bias"]).update(
        status="failed", attempts=5, last_error="SMTP refused"
    )
    client.force_login(manager)
    page = html(client.get(f"/alerts/{alerts['bias'].pk}/"))
    assert "Failed" in page and "SMTP refused" in page and '<td class="num">5</td>' in page


# --- verification ---------------------------------------------------------------------------------------


def test_only_owners_add_scripts(client, engineer, scientist, ready_model):
    client.force_login(engineer)  # an engineer but not an owner
    response = client.get(NEW_SCRIPT)
    assert response.status_code == 403
    assert "Only the model&#x27;s owners (or an admin) add verification scripts." in html(response)
    assert (
        client.post(NEW_SCRIPT, {"name": "x", "source": "print(1)", "timeout_seconds": 60}).status_code == 403
    )
    client.force_login(scientist)
    assert client.get(NEW_SCRIPT).status_code == 200
    assert client.get("/verification/models/nope/scripts/new/").status_code == 404


def test_a_script_with_a_syntax_error_is_refused_with_400(client, scientist, ready_model):
    client.force_login(scientist)
    data = {"name": "auc-floor", "source": "def broken(:\n    pass\n", "timeout_seconds": 60}
    response = client.post(NEW_SCRIPT, data)
    assert response.status_code == 400
    page = html(response)
    assert "Not valid Python: line 1" in page and "The script was not saved" in page
    assert "def broken(:" in page  # the source is kept for correcting
    response = client.post(NEW_SCRIPT, {**data, "source": AUC_CHECK, "timeout_seconds": 2})
    assert response.status_code == 400 and "Between 5 and 1800 seconds." in html(response)
    assert not ready_model.verification_scripts.exists()


def test_add_a_script_run_it_now_and_read_the_run(
    client, scientist, engineer, ready_model, django_capture_on_commit_callbacks
):
    client.force_login(scientist)
    data = {
        "name": "auc-floor",
        "source": AUC_CHECK,
        "checks_description": "auc >= 0.80 on the holdout",
        "timeout_seconds": 60,
    }
    response = client.post(NEW_SCRIPT, data)
    assert response.status_code == 302 and response["Location"] == f"{MODEL_PAGE}#monitoring"
    script = ready_model.verification_scripts.get()
    page = html(get_assembled(client, MODEL_PAGE))
    assert "auc-floor" in page and f'action="/verification/scripts/{script.pk}/run/"' in page
    assert "Add verification script" in page

    v2 = ModelVersion.objects.get(model=ready_model, version="2")
    client.force_login(engineer)  # engineers run verifications too
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/verification/scripts/{script.pk}/run/", {"version": v2.pk})
    run = VerificationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/verification/runs/{run.pk}/"
    assert run.status == RunStatus.PASSED
    page = html(client.get(response["Location"]))
    assert "Passed" in page and "auc &gt;= 0.80" in page and "0.83" in page
    assert "12 rows" in page  # a check's message
    assert "checking auc 0.83" in page  # stderr tail
    assert "empty environment" in page  # isolation
    assert "Attempts" in page and "Duration" in page
    page = html(get_assembled(client, MODEL_PAGE))
    assert f'href="/verification/runs/{run.pk}/"' in page
    assert "Add verification script" not in page  # engineers run scripts; owners add them


def test_run_now_is_refused_for_others_and_for_foreign_versions(client, scientist, make_user, ready_model):
    script = verification_script_save(actor=scientist, model=ready_model, name="auc-floor", source=AUC_CHECK)
    other = ModelVersionFactory(model=RegisteredModelFactory(), version="1")
    client.force_login(scientist)
    response = client.post(f"/verification/scripts/{script.pk}/run/", {"version": other.pk})
    assert response.status_code == 400 and "Choose a version of recs-ranker." in html(response)
    assert client.post(f"/verification/scripts/{script.pk}/run/", {}).status_code == 400
    client.force_login(make_user("scientist", username="stan"))
    v1 = ModelVersion.objects.get(model=ready_model, version="1")
    response = client.post(f"/verification/scripts/{script.pk}/run/", {"version": v1.pk})
    assert response.status_code == 403
    assert "Only the model&#x27;s owners and engineers run verifications." in html(response)
    assert not VerificationRun.objects.exists()


def test_running_twice_joins_the_queued_run(client, scientist, ready_model):
    script = verification_script_save(actor=scientist, model=ready_model, name="auc-floor", source=AUC_CHECK)
    v1 = ModelVersion.objects.get(model=ready_model, version="1")
    client.force_login(scientist)
    first = client.post(f"/verification/scripts/{script.pk}/run/", {"version": v1.pk})  # not executed
    second = client.post(f"/verification/scripts/{script.pk}/run/", {"version": v1.pk})
    assert first["Location"] == second["Location"] and VerificationRun.objects.count() == 1
    page = html(client.get(second["Location"], follow=True))
    assert "already queued or running" in page and "Reload the page" in page


# --- the model page -------------------------------------------------------------------------------------


def post_stats(actor, model, *, days=10, shift=0.0):
    prediction_stats_record(
        actor=actor, model=model, day=TODAY, count=10_000, mean=0.2, std=0.05, is_baseline=True
    )
    for n in range(days, 0, -1):
        drift = shift if n <= 2 else 0.0
        prediction_stats_record(
            actor=actor,
            model=model,
            day=TODAY - datetime.timedelta(days=n - 1),
            count=9_000,
            mean=0.2 + 0.005 * (n % 3) + drift,
            std=0.05 + (0.08 if n == 1 and shift else 0.0),
        )


def test_model_page_shows_alerts_and_prediction_charts(client, manager, scientist, ready_model, alerts):
    post_stats(scientist, ready_model, shift=0.2)
    client.force_login(manager)
    page = html(get_assembled(client, MODEL_PAGE))
    assert 'id="monitoring"' in page and "1 active alert" in page
    assert f'href="/alerts/{alerts["bias"].pk}/"' in page and "Prediction mean 0.31" in page
    assert "Recently resolved" in page and "The upstream job was restarted." in page
    assert "No verification script yet." in page and "Add verification script" not in page
    charts = figures(page)
    mean, std, metric = (
        charts["monitoring-mean-chart"],
        charts["monitoring-std-chart"],
        charts["monitoring-metric-chart"],
    )
    band = mean["data"][0]
    assert band["fill"] == "toself"
    assert min(band["y"]) == pytest.approx(0.2 - 3 * 0.05) and max(band["y"]) == pytest.approx(0.2 + 3 * 0.05)
    assert len(mean["data"][1]["x"]) == 10
    assert mean["data"][-1]["name"] == "Outside the band" and len(mean["data"][-1]["x"]) == 2
    assert "limit 0.1" in std["layout"]["title"]["text"]  # 2 x the baseline std
    assert std["data"][-1]["name"] == "Above the limit"
    assert [p for p in metric["data"][1]["x"]] == ["v1", "v2"]
    assert "5%" in metric["layout"]["title"]["text"]
    assert page.count("vendor/plotly/plotly.min.js") == 1  # the model page loads the scripts, once


def test_model_page_without_stats_explains_how_to_post_them(client, manager, domain):
    model = RegisteredModelFactory(name="quiet-model", domain=domain, primary_metric="")
    client.force_login(manager)
    page = html(get_assembled(client, "/models/quiet-model/"))
    assert "No active alerts" in page and "No prediction statistics posted" in page
    assert "/api/v1/models/quiet-model/prediction-stats/" in page
    assert 'data-chart="monitoring-mean-chart"' not in page
    prediction_stats_record(
        actor=_admin(), model=model, day=TODAY, count=10, mean=0.2, std=0.1, is_baseline=False
    )
    page = html(get_assembled(client, "/models/quiet-model/"))
    assert 'data-chart="monitoring-mean-chart"' in page and "No baseline posted" in page
    assert page.count("vendor/plotly/plotly.min.js") == 1  # the page's, none in the part


def _admin():
    from tests.factories import UserFactory

    return UserFactory(role="admin", username="root")


# --- charts ---------------------------------------------------------------------------------------------


def test_long_series_are_downsampled():
    from types import SimpleNamespace

    from catalog.charts import MAX_POINTS

    start = datetime.date(2015, 1, 1)
    series = [
        SimpleNamespace(day=start + datetime.timedelta(days=i), mean=0.2 + (i % 7) * 0.01, std=0.05)
        for i in range(MAX_POINTS + 500)
    ]
    stats = SimpleNamespace(series=series, baseline=SimpleNamespace(mean=0.2, std=0.05))
    figure = monitoring_charts.prediction_mean_figure(stats, bias_tolerance_std=3)
    assert len(figure["data"][1]["x"]) == MAX_POINTS
    assert figure["data"][1]["x"][0] == "2015-01-01"


def test_metric_band_marks_versions_that_moved_too_much():
    rows = [{"version": "1", "value": 0.80}, {"version": "2", "value": 0.60}, {"version": "3", "value": 0.61}]
    figure = monitoring_charts.metric_tolerance_figure(rows, metric="auc", tolerance=0.05)
    colours = figure["data"][1]["marker"]["color"]
    assert colours[1] == monitoring_charts.BREACH_COLOUR and colours[2] != monitoring_charts.BREACH_COLOUR
    assert monitoring_charts.metric_tolerance_figure(rows[:1], metric="auc", tolerance=0.05) is None


def test_no_stats_no_charts():
    from types import SimpleNamespace

    empty = SimpleNamespace(series=[], baseline=None)
    assert monitoring_charts.prediction_mean_figure(empty, bias_tolerance_std=3) is None
    assert monitoring_charts.prediction_std_figure(empty, variance_ratio_max=2) is None


def test_alerts_are_listed_for_models_in_any_state(client, manager, alerts):
    client.force_login(manager)
    page = html(client.get("/alerts/?state=all&model=recs-ranker"))
    assert "Model: recs-ranker" in page
    assert Alert.objects.count() == 2 and len(re.findall(r'href="/alerts/\d+/"', page)) == 2
