"""The governance, monitoring and training-data-use panels of the catalog's model and version pages.

They reuse what the catalog view loaded (the model with its owners and input datasets, the version with its
dataset links) and read the rest in a fixed number of queries. Their selectors must give exactly what the
general-purpose selectors give (dod_score, work_item_list, promotion_list, policy_for, version_data_use).
"""

import datetime

import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import ModelVersion
from catalog.selectors.versions import version_detail
from governance import selectors
from governance.models import Alert, MonitoringPolicy, PredictionStats, PromotionStatus, WorkItem
from governance.selectors import data_access, monitoring, pages_access
from governance.services.monitoring import policy_for
from governance.services.promotions import promotion_request
from governance.services.work_items import work_item_create
from governance.workflows import CLOSED, STATUS_LABELS
from tests.governance.test_view_queries import add_model, people  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

OPEN = [s for s in STATUS_LABELS if s not in CLOSED]


def _models(n, *, domain, people, purpose):  # noqa: F811
    models = [add_model(1000 + i, domain=domain, people=people, purpose=purpose) for i in range(n)]
    for i, model in enumerate(models):
        v2 = ModelVersion.objects.get(model=model, version="2")
        if i % 2 == 0:
            promotion_request(
                actor=people["scientist"], version=v2, target="production", justification="Better on holdout."
            )
        for j in range(i % 3 + 1):
            item = work_item_create(
                actor=people["engineer"],
                domain=domain,
                type="task",
                title=f"Check {j}",
                priority=["low", "high"][j % 2],
                model=model,
            )
            if j == 0:  # one closed item per model: the panel lists open work only
                WorkItem.objects.filter(pk=item.pk).update(status=sorted(CLOSED)[0])
    return models


def test_model_panel_selectors_match_the_general_ones(domain, people, purpose, compliance):  # noqa: F811
    models = _models(6, domain=domain, people=people, purpose=purpose)
    MonitoringPolicy.objects.create(domain=domain, bias_tolerance_std=2.5)
    today = timezone.localdate()
    PredictionStats.objects.create(
        model=models[0], day=today - datetime.timedelta(days=400), count=9, mean=0.1, std=1, is_baseline=True
    )
    for d in range(3):
        PredictionStats.objects.create(
            model=models[0], day=today - datetime.timedelta(days=d), count=5, mean=0.2, std=1
        )
    PredictionStats.objects.create(
        model=models[0], day=today - datetime.timedelta(days=300), count=5, mean=0.2, std=1
    )
    checked = 0
    for user in (people["scientist"], people["engineer"], compliance):
        for model in models:
            loaded = catalog_selectors.model_detail(user=user, name=model.name)
            assert (
                selectors.model_dod_score(model=loaded).report
                == selectors.dod_score(user=user, name=model.name).report
            )
            expected = selectors.work_item_list(
                user=user, filters={"model": model.name, "status": OPEN}, sort="priority"
            )
            got = selectors.model_open_work_items(user=user, model=loaded, statuses=OPEN, limit=9)
            assert [i.pk for i in got] == [i.pk for i in expected[:9]]
            expected = selectors.promotion_list(
                user=user, filters={"model": model.name, "status": PromotionStatus.PENDING}
            )
            got = selectors.model_pending_promotions(user=user, model=loaded)
            assert [p.pk for p in got] == [p.pk for p in expected]
            own, found = (
                policy_for(type(model).objects.get(pk=model.pk)),
                monitoring.model_monitoring_policy(model=loaded),
            )
            assert (own.pk, own.bias_tolerance_std) == (found.pk, found.bias_tolerance_std)
            series = monitoring.prediction_stats_series(
                model=loaded, date_from=today - datetime.timedelta(days=180), date_to=today
            )
            stats = PredictionStats.objects.filter(model=model)
            assert [s.pk for s in series.series] == [
                s.pk
                for s in stats.filter(
                    is_baseline=False, day__gte=today - datetime.timedelta(days=180)
                ).order_by("day")
            ]
            baseline = stats.filter(is_baseline=True).first()
            assert (series.baseline and series.baseline.pk) == (baseline and baseline.pk)
            newest = pages_access.model_versions_for_runs(model=loaded)
            a = pages_access.model_verification_matrix(model=loaded, versions=4)
            b = pages_access.model_verification_matrix(model=loaded, versions=4, newest=newest)
            assert [v.pk for v in a.versions] == [v.pk for v in b.versions]
            assert [(r.script.pk, r.runs) for r in a.rows] == [(r.script.pk, r.runs) for r in b.rows]
            for number in ("1", "2"):
                version = version_detail(user=user, model_name=model.name, version=number)
                general = data_access.version_data_use(user=user, pk=version.pk)
                reused = data_access.version_data_use_loaded(version=version)
                assert (reused.purpose, reused.at, reused.uses) == (general.purpose, general.at, general.uses)
                checked += 1
    # Some of the cases have something to compare.
    assert selectors.model_pending_promotions(user=people["scientist"], model=models[0])
    assert selectors.model_open_work_items(user=people["scientist"], model=models[2], statuses=OPEN, limit=9)
    closed = set(WorkItem.objects.filter(model=models[2], status__in=CLOSED).values_list("pk", flat=True))
    listed = selectors.model_open_work_items(
        user=people["scientist"], model=models[2], statuses=OPEN, limit=9
    )
    assert closed and not closed & {i.pk for i in listed}
    assert any(
        u.needs_grant
        for m in models
        for u in data_access.version_data_use(
            user=compliance, pk=ModelVersion.objects.get(model=m, version="2").pk
        ).uses
    )
    assert checked == 36


def _panel_queries(user, name):
    """The queries the two model panels make for a model the catalog view loaded."""
    model = catalog_selectors.model_detail(user=user, name=name)
    request = RequestFactory().get(f"/models/{name}/")
    request.user = user
    template = engines["django"].from_string(
        '{% include "governance/_model_governance.html" %}{% include "governance/_model_monitoring.html" %}'
    )
    template.render({"model": model, "request": request, "user": user})  # warm-up (the user's groups)
    model = catalog_selectors.model_detail(user=user, name=name)
    with CaptureQueriesContext(connection) as ctx:
        html = template.render({"model": model, "request": request, "user": user})
    return [q["sql"] for q in ctx.captured_queries], html


def test_model_panels_read_in_a_fixed_number_of_queries(domain, people, purpose):  # noqa: F811
    model = add_model(3000, domain=domain, people=people, purpose=purpose)
    user = people["scientist"]
    few, _ = _panel_queries(user, model.name)
    v2 = ModelVersion.objects.get(model=model, version="2")
    for n in range(4):
        work_item_create(actor=people["engineer"], domain=domain, type="task", title=f"T{n}", model=model)
    promotion_request(actor=user, version=v2, target="production", justification="Better on holdout.")
    promotion_request(actor=user, version=v2, target="staging", justification="Try it on staging.")
    now = timezone.now()
    for condition in ("prediction_bias", "prediction_variance"):
        Alert.objects.create(
            model=model, condition=condition, severity="warning", summary="s", first_seen=now, last_seen=now
        )
    for d in range(5):
        PredictionStats.objects.create(
            model=model, day=timezone.localdate() - datetime.timedelta(days=d), count=3, mean=0.1, std=1
        )
    one_row, _ = _panel_queries(user, model.name)
    for n in range(6):
        work_item_create(actor=people["engineer"], domain=domain, type="bug", title=f"B{n}", model=model)
    many, html = _panel_queries(user, model.name)
    assert len(many) == len(one_row)
    assert (
        "B5" in html
        and "All open work for" in html
        and "Awaiting decision" in html
        and "2 active alerts" in html
    )
    # The model row is not read again (by name or id), and the open-work query needs no DISTINCT.
    assert not [q for q in many if q.startswith('SELECT "catalog_registeredmodel"')]
    assert not [q for q in many if "DISTINCT" in q and "governance_workitem" in q]
    # Relations the view already loaded (input datasets, owners) are not read again.
    assert not [q for q in many if "catalog_registeredmodel_input_datasets" in q]
    assert len(few) <= len(many)
