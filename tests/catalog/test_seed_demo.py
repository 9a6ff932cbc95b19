import io
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.demo import DEMO_PASSWORD, USERS, demo_catalog_seed
from catalog.demo.content import DATASETS, DOMAINS, MODELS
from catalog.models import (
    Dataset,
    DatasetRole,
    Domain,
    Lifecycle,
    MetricGoal,
    MetricPoint,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    Team,
    TrainingReason,
    VersionDataset,
    VersionMetric,
)
from catalog.selectors import model_list
from catalog.services.models import model_refresh_version_stats
from portal.roles import Role, user_roles
from tests.conftest import log_in
from tests.fragments import get_assembled

pytestmark = pytest.mark.django_db


def seed(*args, **options) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err, **options)
    assert err.getvalue() == ""
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def primary_values(model: RegisteredModel) -> list[float]:
    """The primary metric's final value per version, oldest version first."""
    return list(
        VersionMetric.objects.filter(version__model=model, key=model.primary_metric)
        .order_by("version__sequence")
        .values_list("value", flat=True)
    )


def is_better(model: RegisteredModel, new: float, old: float) -> bool:
    return new > old if model.primary_metric_goal == MetricGoal.MAXIMIZE else new < old


@pytest.fixture(scope="class")
def seeded_once(django_db_setup, django_db_blocker):
    """The demo seeded once per test class, in a transaction rolled back after the class. Each test runs
    in a savepoint inside it (pytest-django's `db`), so what one test changes the next does not see."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


@pytest.fixture
def sara(seeded):
    return get_user_model().objects.get(username="sara")


# --- The demo organisation -------------------------------------------------------------------------


class TestDemoOrganisation:
    def test_users_of_every_role_log_in_with_the_demo_password(self, seeded, client):
        users = {
            u.username: u for u in get_user_model().objects.filter(username__in=[u.username for u in USERS])
        }
        assert len(users) == len(USERS)
        for spec in USERS:
            user = users[spec.username]
            assert user_roles(user) >= {spec.role}
            assert user.get_full_name() == spec.full_name
            assert user.email.endswith("@modelhouse.example")
            assert log_in(client, spec.username, DEMO_PASSWORD), spec.username
            client.logout()
        assert {spec.role for spec in USERS} == set(Role.values)
        assert users["ada"].is_superuser and not users["maria"].is_staff

    def test_output_shows_stages_and_a_login_table(self, seeded):
        for stage in ("Users", "Domains", "Teams", "Datasets", "Models [30/30]", "Done: 30 models"):
            assert stage in seeded
        assert "http://127.0.0.1:8000/" in seeded
        for spec in USERS:
            line = next(line for line in seeded.splitlines() if line.split()[:1] == [spec.username])
            assert spec.role in line and DEMO_PASSWORD in line

    def test_domains_teams_and_models(self, seeded):
        assert set(Domain.objects.values_list("key", flat=True)) == {
            "PERS",
            "DEMAND",
            "RISK",
            "MKT",
            "SUPPLY",
        }
        for domain in Domain.objects.all():
            assert 1 <= domain.teams.count() <= 2
            assert all(team.members.exists() for team in domain.teams.all())
        models = RegisteredModel.objects.select_related("team").prefetch_related("tags", "ownerships")
        assert 25 <= len(models) <= 35
        assert {m.domain_id for m in models} == set(Domain.objects.values_list("id", flat=True))
        assert set(models.values_list("lifecycle", flat=True)) == set(Lifecycle.values)
        for model in models:
            assert model.team and model.team.domain_id == model.domain_id
            assert model.tags.exists()
            assert 1 <= len(model.ownerships.all()) <= 4
            assert model.primary_metric
        churn = RegisteredModel.objects.get(name="churn-predictor")
        assert (churn.primary_metric, churn.primary_metric_goal) == ("auc", MetricGoal.MAXIMIZE)
        assert "## How it works" in churn.description and churn.model_card_complete
        assert {o.role for o in churn.ownerships.all()} == {"technical", "business"}
        forecast = RegisteredModel.objects.get(name="store-demand-daily")
        assert (forecast.primary_metric, forecast.primary_metric_goal) == ("rmse", MetricGoal.MINIMIZE)
        # Some cards are deliberately incomplete.
        assert 0 < sum(not m.model_card_complete for m in models) < len(models)

    def test_versions_carry_lineage_and_trend_believably(self, seeded):
        now = timezone.now()
        improved = 0
        models = list(RegisteredModel.objects.all())
        for model in models:
            versions = list(model.versions.order_by("sequence"))
            assert len(versions) >= 3
            assert model.version_count == len(versions) and model.latest_version == versions[-1]
            assert versions[0].training_reason == TrainingReason.INITIAL
            assert all(v.training_reason != TrainingReason.INITIAL for v in versions[1:])
            assert versions[0].parent is None
            assert all(v.parent_id == prev.pk for prev, v in zip(versions, versions[1:], strict=False))
            dates = [v.created_at for v in versions]
            assert dates == sorted(dates) and dates[-1] < now
            assert (now - dates[0]).days <= 550
            for v in versions:
                assert v.code_commit and v.code_repository and v.run_id and v.hyperparameters
                assert v.artifact_digest.startswith("sha256:") and v.source_uri
            values = primary_values(model)
            assert len(values) == len(versions)
            improved += is_better(model, values[-1], values[0])
        assert improved >= 0.8 * len(models)
        oldest = ModelVersion.objects.aggregate(at=Min("created_at"))["at"]
        assert (now - oldest).days > 365

    def test_every_version_has_a_training_curve_and_summaries_that_match_it(self, seeded):
        model = RegisteredModel.objects.get(name="card-fraud-scorer")
        for version in model.versions.all():
            points = MetricPoint.objects.filter(version=version, key=model.primary_metric).order_by("step")
            assert 20 <= len(points) <= 60
            summary = VersionMetric.objects.get(version=version, key=model.primary_metric)
            assert (summary.value, summary.step, summary.point_count) == (
                points.last().value,
                points.last().step,
                len(points),
            )
            assert MetricPoint.objects.filter(version=version, key="train_loss").count() == len(points)
            assert VersionMetric.objects.filter(version=version).count() >= 3

    def test_datasets_with_owners_pii_and_lineage(self, seeded):
        assert Dataset.objects.count() == len(DATASETS)
        with_pii = [d for d in Dataset.objects.all() if d.pii_categories]
        assert len(with_pii) >= 5
        assert {"contact", "location", "purchase_history", "health"} <= {
            c for d in with_pii for c in d.pii_categories
        }
        assert len(set(Dataset.objects.values_list("sensitivity", flat=True))) >= 3
        assert not Dataset.objects.filter(owner__isnull=True).exists()
        assert not Dataset.objects.filter(last_updated_at__isnull=True).exists()
        for version in ModelVersion.objects.all():
            roles = set(VersionDataset.objects.filter(version=version).values_list("role", flat=True))
            assert roles == {DatasetRole.TRAINING, DatasetRole.EVALUATION}
        # A shared pool: datasets feed several models.
        shared = Dataset.objects.annotate(n=Count("version_links__version__model", distinct=True)).filter(
            n__gte=2
        )
        assert shared.count() >= 5

    def test_retraining_schedules_some_overdue_others_on_track(self, seeded):
        now = timezone.now()
        scheduled = RegisteredModel.objects.filter(retrain_every_days__isnull=False)
        assert scheduled.count() >= 12
        assert set(scheduled.values_list("retrain_every_days", flat=True)) == {7, 30, 90}
        overdue = scheduled.filter(next_retrain_due__lt=now)
        assert overdue.exists() and scheduled.filter(next_retrain_due__gt=now).count() > overdue.count()
        for model in overdue:
            last = model.versions.aggregate(at=Max("created_at"))["at"]
            assert (now - last).days >= model.retrain_every_days
        assert not RegisteredModel.objects.filter(
            retrain_every_days__isnull=True, next_retrain_due__isnull=False
        )

    def test_aliases_champion_everywhere_production_on_production_models(self, seeded):
        for model in RegisteredModel.objects.all():
            aliases = {
                a.alias: a.version for a in ModelAlias.objects.filter(model=model).select_related("version")
            }
            assert "champion" in aliases
            best = max if model.primary_metric_goal == MetricGoal.MAXIMIZE else min
            champion_value = VersionMetric.objects.get(
                version=aliases["champion"], key=model.primary_metric
            ).value
            assert champion_value == best(primary_values(model))
            assert ("production" in aliases) == (model.lifecycle == Lifecycle.PRODUCTION)

    def test_models_are_searchable(self, sara):
        assert "card-fraud-scorer" in {m.name for m in model_list(user=sara, filters={"q": "fraud"})}
        assert [m.name for m in model_list(user=sara, filters={"q": "churn predictor"})] == [
            "churn-predictor"
        ]
        owned_by_lena = {m.name for m in model_list(user=sara, filters={"q": "Fischer"})}
        assert "store-demand-daily" in owned_by_lena

    def test_second_run_changes_nothing_and_says_so(self, seeded, client):
        before = table_counts()
        output = seed()
        assert table_counts() == before
        assert "Demo data already present" in output
        assert "Models [" not in output
        assert log_in(client, "cora", DEMO_PASSWORD)

    def test_second_run_restores_the_demo_password_and_missing_models(self, seeded, client):
        ada = get_user_model().objects.get(username="ada")
        ada.set_password("changed")
        ada.save()
        RegisteredModel.objects.get(name="churn-predictor").delete()
        output = seed()
        assert "Models [1/1] churn-predictor" in output
        assert RegisteredModel.objects.count() == len(MODELS)
        assert log_in(client, "ada", DEMO_PASSWORD)


def test_same_day_same_data():
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def snapshot():
        return sorted(
            VersionMetric.objects.values_list("version__model__name", "version__version", "key", "value")
        ) + sorted(ModelVersion.objects.values_list("model__name", "version", "created_at", "code_commit"))

    demo_catalog_seed(now=now)
    first = snapshot()
    RegisteredModel.objects.all().delete()
    demo_catalog_seed(now=now)
    assert snapshot() == first


def test_quiet_run_prints_nothing():
    assert seed(verbosity=0) == ""
    assert RegisteredModel.objects.count() == len(MODELS)


# --- --scale ---------------------------------------------------------------------------------------


def scale_models():
    return RegisteredModel.objects.filter(name__startswith="scale-model-")


def test_scale_adds_models_with_versions_metrics_and_true_denormalised_fields():
    output = seed(scale=40)
    assert "Scale models [40/40]" in output and "models/s" in output and "Done: 40 models" in output
    assert RegisteredModel.objects.count() == 40  # the demo's 30 are not part of --scale
    assert Domain.objects.count() == len(DOMAINS) and Team.objects.exists() and Dataset.objects.exists()
    models = list(scale_models().order_by("name"))
    assert [m.name for m in models] == [f"scale-model-{n:06d}" for n in range(1, 41)]
    assert len({m.domain_id for m in models}) == len(DOMAINS)
    for model in models:
        versions = list(model.versions.order_by("sequence"))
        assert 8 <= len(versions) <= 12
        stored = (model.latest_version_id, model.version_count, model.next_retrain_due)
        assert stored[:2] == (versions[-1].pk, len(versions))
        model_refresh_version_stats(model=model)
        assert (model.latest_version_id, model.version_count, model.next_retrain_due) == stored
        assert versions[0].parent is None and versions[0].training_reason == TrainingReason.INITIAL
        assert all(v.parent_id == prev.pk for prev, v in zip(versions, versions[1:], strict=False))
        assert model.ownerships.exists() and model.tags.filter(name="scale").exists()
        assert model.search_document.startswith(model.name)
    version_ids = ModelVersion.objects.filter(model__in=models).values("id")
    metrics = VersionMetric.objects.filter(version__in=version_ids)
    assert metrics.count() == 2 * 10 * 40
    for metric in metrics.filter(point_count__gt=1)[:50]:
        last = MetricPoint.objects.filter(version=metric.version_id, key=metric.key).order_by("-step").first()
        assert (last.value, last.step) == (metric.value, metric.step)
        assert (
            MetricPoint.objects.filter(version=metric.version_id, key=metric.key).count()
            == metric.point_count
        )
    links = VersionDataset.objects.filter(version__in=version_ids)
    assert (
        links.filter(role=DatasetRole.TRAINING).count()
        == links.filter(role=DatasetRole.EVALUATION).count()
        == 400
    )
    due = [m.next_retrain_due for m in models if m.next_retrain_due]
    assert any(d < timezone.now() for d in due) and any(d > timezone.now() for d in due)
    user = get_user_model().objects.get(username="sam")
    assert [m.name for m in model_list(user=user, filters={"q": "scale-model-000017"})] == [
        "scale-model-000017"
    ]


def test_scale_again_continues_numbering_and_works_after_the_demo():
    seed(verbosity=0)
    seed(scale=40, verbosity=0)
    seed(scale=40, verbosity=0)
    names = list(scale_models().order_by("name").values_list("name", flat=True))
    assert names == [f"scale-model-{n:06d}" for n in range(1, 81)]
    assert RegisteredModel.objects.count() == len(MODELS) + 80
    assert ModelVersion.objects.filter(model__name__startswith="scale-model-").count() == 800


def test_scale_quiet_prints_nothing():
    assert seed(scale=5, verbosity=0) == ""
    assert scale_models().count() == 5


def test_scale_query_count_does_not_grow_with_the_number_of_models():
    seed(scale=5, verbosity=0)  # users, domains, teams and datasets exist from here on
    with CaptureQueriesContext(connection) as small:
        seed(scale=40, verbosity=0)
    with CaptureQueriesContext(connection) as large:
        seed(scale=200, verbosity=0)
    assert scale_models().count() == 245
    assert len(large) <= 1.5 * len(small) + 10, "\n".join(q["sql"][:120] for q in large.captured_queries)


def test_scale_rejects_a_negative_count():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        seed(scale=-1)


def test_scale_shape_sets_versions_points_and_long_models():
    output = seed(
        scale=4,
        versions_per_model=3,
        points_per_version=5,
        long_models=1,
        long_versions=40,
        long_points=2_500,
        verbosity=2,
    )
    assert "Stages (" in output and "metric_points" in output
    models = list(scale_models().order_by("name"))
    assert [m.version_count for m in models] == [40, 3, 3, 3]
    for model in models:
        versions = list(model.versions.order_by("sequence"))
        assert model.latest_version_id == versions[-1].pk and len(versions) == model.version_count
        assert all(v.parent_id == prev.pk for prev, v in zip(versions, versions[1:], strict=False))
        for version in versions:
            points = MetricPoint.objects.filter(version=version)
            long_curve = model == models[0] and version == versions[-1]
            assert points.count() == (2_501 if long_curve else 5)
            primary = VersionMetric.objects.get(version=version, key=model.primary_metric)
            last = points.filter(key=model.primary_metric).order_by("-step").first()
            assert (primary.point_count, primary.step) == (2_500 if long_curve else 4, last.step)
            assert last.value == primary.value
    # The newest version of the long model draws at most 2,000 points per trace.
    from catalog import charts
    from catalog.selectors import metric_history

    history = metric_history(version=models[0].latest_version)
    figures = charts.metric_history_figures(history, primary_metric=models[0].primary_metric)
    assert max(len(trace["x"]) for f in figures for trace in f["figure"]["data"]) == charts.MAX_POINTS


def test_scale_search_documents_and_vectors_match_the_search_service():
    from catalog.services import model_search_refresh

    seed(scale=12, verbosity=0)
    models = scale_models().order_by("id")
    before = {m.pk: (m.search_document, m.search_vector) for m in models}
    assert model_search_refresh(model_ids=list(before)) == 12
    after = {m.pk: (m.search_document, m.search_vector) for m in models.all()}
    assert after == before
    user = get_user_model().objects.get(username="sam")
    owned = scale_models().filter(ownerships__user__username="priya").count()
    assert (
        model_list(user=user, filters={"q": "priya"}).filter(name__startswith="scale-model-").count() == owned
    )


def test_scale_governance_rows_in_proportion():
    from governance.models import Alert, PromotionRequest, WorkItem

    seed(scale=100, verbosity=0, governance=True)
    assert WorkItem.objects.count() == 5 and PromotionRequest.objects.count() == 10
    assert Alert.objects.count() == 2
    assert all(p.version.model_id == p.model_id for p in PromotionRequest.objects.select_related("version"))
    assert len({w.key for w in WorkItem.objects.all()}) == 5
    seed(scale=1, verbosity=0, governance=True)  # present already: nothing added
    assert PromotionRequest.objects.count() == 10


def test_scale_rejects_a_shape_without_points():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        seed(scale=2, points_per_version=1)


def test_catalog_counts_matches_up_to_a_bound(client, monkeypatch):
    from catalog import views

    seed(scale=5, verbosity=0)
    client.force_login(get_user_model().objects.get(username="maria"))
    monkeypatch.setattr(views, "MODEL_COUNT_LIMIT", 3)
    # A full first page is counted after the first paint (ModelCountView), up to the bound.
    html = client.get("/?page_size=2").content.decode()
    assert '<strong data-fragment-src="/models-count/?" title="Counting…">2+</strong> models' in html
    assert client.get("/models-count/", headers={"X-Fragment": "1"}).content.decode() == "<strong>3+</strong>"
    assert client.get("/models-count/?q=scale-model-00000").content.decode() == "<strong>3+</strong>"
    assert client.get("/models-count/?q=scale-model-000002").content.decode() == "<strong>1</strong>"
    # A first page that holds every match counts itself.
    html = client.get("/?q=scale-model-000002").content.decode()
    assert "<strong>1</strong> model match your filters" in html and "models-count" not in html
    html = get_assembled(client, "/?q=scale-model-00000&page_size=2&sort=-updated").content.decode()
    assert "<strong>3+</strong> models match your filters" in html
    response = client.get("/models-count/?domain=nowhere")
    assert response.status_code == 400 and response.content.decode().endswith(">?</strong>")
