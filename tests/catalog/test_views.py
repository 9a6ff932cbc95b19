import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Lifecycle, ModelAlias, OwnerRole, PiiCategory, Sensitivity, TrainingReason
from portal.pagination import encode_cursor
from tests.factories import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    add_metric,
    link_dataset,
)
from tests.fragments import fragment_urls, get_assembled

pytestmark = pytest.mark.django_db


@pytest.fixture
def domain():
    return DomainFactory(name="Personalisation", slug="personalisation", key="PERS")


@pytest.fixture
def churn(domain, scientist, engineer):
    """A production model with two versions, metrics, datasets, code and an alias."""
    model = RegisteredModelFactory(
        name="churn-predictor",
        domain=domain,
        owners=[scientist, engineer],
        tags=["churn", "gbm"],
        lifecycle=Lifecycle.PRODUCTION,
        description="Predicts **churn**. See [the wiki](https://wiki.example.com/churn).",
        retrain_every_days=30,
    )
    train = DatasetFactory(
        name="customers_daily",
        uri="s3://lake/customers/daily",
        domain=domain,
        pii_categories=[PiiCategory.CONTACT, PiiCategory.HEALTH],
        sensitivity=Sensitivity.CONFIDENTIAL,
        owner=scientist,
        last_updated_at=timezone.now() - timedelta(days=3),
    )
    holdout = DatasetFactory(name="churn_holdout", uri="s3://lake/churn/holdout", domain=domain)
    v1 = ModelVersionFactory(
        model=model,
        version="1",
        training_reason=TrainingReason.INITIAL,
        created_at=timezone.now() - timedelta(days=80),
    )
    v2 = ModelVersionFactory(
        model=model,
        version="2",
        parent=v1,
        training_reason=TrainingReason.SCHEDULED,
        created_at=timezone.now() - timedelta(days=45),
        code_commit="0123456789abcdef0123456789abcdef01234567",
        code_repository="https://git.example.com/ds/churn",
        artifact_digest="sha256:feedface",
        hyperparameters={"learning_rate": 0.05, "layers": [64, 32]},
    )
    for version, base in ((v1, 0.80), (v2, 0.86)):
        add_metric(version, "auc", [base - 0.1, base - 0.05, base])
        add_metric(version, "logloss", [0.7, 0.5, 0.4])
        link_dataset(version, train, "training")
    link_dataset(v2, holdout, "evaluation")
    ModelAlias.objects.create(model=model, alias="champion", version=v2)
    model.refresh_from_db()
    return model


def content(response) -> str:
    return response.content.decode()


def figures(html: str) -> dict[str, dict]:
    """Every json_script figure on the page, by element id."""
    return {
        m.group(1): json.loads(m.group(2))
        for m in re.finditer(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    }


# --- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/", "/models/x/", "/models/x/versions/1/", "/datasets/", "/datasets/1/", "/domains/", "/domains/x/"],
)
def test_anonymous_user_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_page_renders_and_signs_in(client, manager):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Modelhouse" in content(response) and 'name="password"' in content(response)
    response = client.post("/login/", {"username": "maria", "password": "pw-Modelhouse-1"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = content(response)
    assert 'action="/logout/"' in html and "csrfmiddlewaretoken" in html
    assert "Manager" in html  # role badge


def test_wrong_password_shows_an_error(client, manager):
    response = client.post("/login/", {"username": "maria", "password": "nope"})
    assert response.status_code == 200
    assert "alert--error" in content(response)


# --- Catalog list ---------------------------------------------------------------------------------------


def test_catalog_list_shows_rows(client, manager, churn):
    client.force_login(manager)
    response = client.get("/")
    assert response.status_code == 200
    html = content(response)
    assert 'href="/models/churn-predictor/"' in html
    assert "Personalisation" in html and "Production" in html
    assert "gbm" in html and "churn" in html
    assert "v2" in html and "0.86" in html  # latest version and its primary metric
    assert "1</strong> model" in html
    for nav in ("Catalog", "Domains", "Datasets", 'href="/api/docs/"'):
        assert nav in html


def test_catalog_list_marks_overdue_retraining(client, manager, churn):
    client.force_login(manager)
    # Trained 45 days ago, every 30 days: overdue.
    assert "Retraining overdue" in content(client.get("/"))


def test_search_and_filters_narrow_the_list(client, manager, churn, domain):
    other_domain = DomainFactory(name="Forecasting", slug="forecasting", key="FCST")
    RegisteredModelFactory(name="demand-forecast", domain=other_domain, tags=["timeseries"])
    client.force_login(manager)
    assert "demand-forecast" in content(client.get("/"))
    cases = [
        {"q": "churn"},
        {"domain": "personalisation"},
        {"tag": "gbm"},
        {"owner": "sara"},
        {"lifecycle": "production"},
    ]
    for params in cases:
        html = content(client.get("/", params))
        assert "churn-predictor" in html, params
        assert "demand-forecast" not in html, params
    html = content(client.get("/", {"domain": "forecasting"}))
    assert "demand-forecast" in html and "/models/churn-predictor/" not in html


def test_sort_and_keyset_pagination(client, manager, domain):
    for i in range(5):
        RegisteredModelFactory(name=f"m-{i}", domain=domain)
    client.force_login(manager)
    first = client.get("/", {"sort": "-name", "page_size": 2})
    html = content(first)
    assert html.index("m-4") < html.index("m-3") and "m-2</a>" not in html
    assert 'aria-sort="descending"' in html
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = content(client.get("/" + next_url))
    assert "m-2</a>" in second and "m-1</a>" in second and "m-4</a>" not in second
    assert 'rel="prev"' in second


def test_empty_states_distinguish_no_models_from_no_match(client, manager, domain):
    client.force_login(manager)
    assert "No models registered yet" in content(client.get("/"))
    RegisteredModelFactory(name="something", domain=domain)
    html = content(client.get("/", {"q": "zzz"}))
    assert "No models match" in html and "Clear filters" in html


@pytest.mark.parametrize(
    "params, message",
    [
        ({"domain": "no-such-domain"}, "Domain:"),
        ({"lifecycle": "retired"}, "Lifecycle:"),
        ({"cursor": "not-a-cursor"}, "cursor is not valid"),
        ({"page_size": "0"}, "Page size:"),
        ({"page_size": "lots"}, "Page size:"),
        ({"sort": "popularity"}, "Unknown sort"),
        ({"q": "x" * 201}, "Search:"),
    ],
)
def test_invalid_list_input_is_a_400_with_a_message(client, manager, churn, params, message):
    client.force_login(manager)
    response = client.get("/", params)
    assert response.status_code == 400
    html = content(response)
    assert message in html
    assert 'role="alert"' in html and 'name="q"' in html  # the filter form is still there to fix it


# --- Model page -----------------------------------------------------------------------------------------


def test_model_page_shows_summary_owners_card_versions_charts_and_lineage(client, manager, churn):
    client.force_login(manager)
    response = get_assembled(client, "/models/churn-predictor/")
    assert response.status_code == 200 and set(response.parts.values()) == {200}
    html = content(response)
    assert "<h1>churn-predictor</h1>" in html
    assert "Technical owner" in html and "@sara" in html and "@eric" in html
    assert "Ranking." in html and "Cold start." in html  # model card
    assert "@champion" in html
    assert (
        'href="/models/churn-predictor/versions/2/"' in html
        and 'href="/models/churn-predictor/versions/1/"' in html
    )
    # Metric charts: a container per metric and its figure as JSON, primary metric first.
    assert 'data-chart="metric-chart-1"' in html and 'data-chart="metric-chart-2"' in html
    figs = figures(html)
    assert figs["metric-chart-1"]["data"][0]["name"] == "auc"
    assert figs["metric-chart-1"]["data"][0]["x"] == ["v1", "v2"]
    assert "retraining-chart" in figs
    assert "vendor/plotly/plotly.min.js" in html and "js/charts.js" in html
    assert "<script>" not in html  # no inline scripts (CSP)
    # Lineage of the latest version: datasets, commit, parent and alias.
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "customers_daily" in svg and "churn_holdout" in svg
    assert "0123456789" in svg and "git.example.com/ds/churn/commit/0123456789abcdef" in svg
    assert "v1" in svg and "@champion" in svg
    # Retraining schedule.
    assert "Every 30 days" in html and "Overdue by" in html


def test_model_page_lineage_for_a_chosen_version(client, manager, churn):
    client.force_login(manager)
    html = content(get_assembled(client, "/models/churn-predictor/?version=1"))
    assert "Lineage of v1" in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "Child version" in svg.replace("CHILD VERSION", "Child version")
    assert "churn_holdout" not in svg


def test_model_page_bad_version_or_cursor_is_400(client, manager, churn):
    client.force_login(manager)
    # The version is the lineage part's: the page is shown, the part answers 400 with the message.
    response = get_assembled(client, "/models/churn-predictor/?version=99")
    assert response.status_code == 200 and response.parts["lineage"] == 400
    assert "churn-predictor has no version &#x27;99&#x27;." in content(response)
    response = client.get("/models/churn-predictor/", {"versions_cursor": "garbage"})
    assert response.status_code == 400
    assert "cursor is not valid" in content(response)
    assert "<h1>churn-predictor</h1>" in content(response)


def test_versions_table_is_keyset_paginated(client, manager, churn):
    for n in range(3, 30):
        ModelVersionFactory(model=churn, version=str(n))
    client.force_login(manager)
    html = content(client.get("/models/churn-predictor/"))
    assert 'href="/models/churn-predictor/versions/29/"' in html
    assert 'href="/models/churn-predictor/versions/5/"' in html
    assert 'href="/models/churn-predictor/versions/4/"' not in html
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "versions_cursor=" in next_url
    html = content(client.get("/models/churn-predictor/" + next_url.split("#")[0]))
    assert 'href="/models/churn-predictor/versions/4/"' in html


def test_markdown_is_sanitised(client, manager, domain):
    RegisteredModelFactory(
        name="risky",
        domain=domain,
        description='Hi <script>alert("x")</script> [link](https://example.com) <img src=x onerror=alert(1)>',
        limitations="[js](javascript:alert(1))",
    )
    client.force_login(manager)
    html = content(client.get("/models/risky/"))
    assert '<script>alert("x")</script>' not in html
    assert "onerror" not in html and "javascript:" not in html
    link = re.search(r'<a [^>]*href="https://example.com"[^>]*>', html).group(0)
    assert "noopener" in link


def test_model_without_versions_or_card_shows_hints(client, manager, domain):
    RegisteredModelFactory(name="bare", domain=domain, description="", intended_use="", limitations="")
    client.force_login(manager)
    response = get_assembled(client, "/models/bare/")
    assert response.status_code == 200 and set(response.parts.values()) == {200}
    html = content(response)
    assert "No versions yet" in html and "Missing:" in html and "Incomplete" in html
    assert "No metrics have been logged" in html and "No trainings recorded yet" in html
    assert "Lineage appears once the model has a version" in html and "data-chart=" not in html


# --- Version page ---------------------------------------------------------------------------------------


def test_version_page_shows_fields_metrics_history_datasets_and_lineage(client, manager, churn):
    client.force_login(manager)
    response = get_assembled(client, "/models/churn-predictor/versions/2/")
    assert response.status_code == 200
    html = content(response)
    for text in (
        "Scheduled retrain",
        "sha256:feedface",
        "0123456789abcdef0123456789abcdef01234567",
        "https://git.example.com/ds/churn",
        "learning_rate",
        "[64, 32]",
        "customers_daily",
        "churn_holdout",
        "Evaluation",
        "@champion",
    ):
        assert text in html, text
    assert 'href="/models/churn-predictor/versions/1/"' in html  # parent
    assert re.search(r'href="/datasets/\d+/"', html)
    figs = figures(html)
    assert figs["history-chart-1"]["data"][0]["name"] == "auc"
    assert figs["history-chart-1"]["data"][0]["x"] == [0, 1, 2]
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "customers_daily" in svg and "0123456789" in svg


def test_version_page_downsamples_long_histories(client, manager, churn):
    version = churn.versions.get(version="1")
    add_metric(version, "loss", [1.0 / (i + 1) for i in range(5000)])
    client.force_login(manager)
    html = content(get_assembled(client, "/models/churn-predictor/versions/1/"))
    loss = next(f for f in figures(html).values() if f["data"] and f["data"][0].get("name") == "loss")
    assert len(loss["data"][0]["x"]) == 2000
    assert "2,000 of 5,000 points shown" in html


# --- Datasets -------------------------------------------------------------------------------------------


def test_dataset_list_and_filters(client, manager, churn):
    DatasetFactory(name="weather", uri="s3://lake/weather", sensitivity=Sensitivity.PUBLIC)
    client.force_login(manager)
    html = content(client.get("/datasets/"))
    assert "customers_daily" in html and "weather" in html and "churn_holdout" in html
    html = content(client.get("/datasets/", {"has_pii": "true"}))
    assert "customers_daily" in html and "weather</a>" not in html
    html = content(client.get("/datasets/", {"sensitivity": "public"}))
    assert "weather" in html and "customers_daily" not in html
    html = content(client.get("/datasets/", {"q": "holdout"}))
    assert "churn_holdout" in html and "customers_daily" not in html
    response = client.get("/datasets/", {"sensitivity": "top-secret"})
    assert response.status_code == 400 and "Sensitivity:" in content(response)
    assert client.get("/datasets/", {"cursor": "%%%"}).status_code == 400


def test_dataset_page_lists_models_using_it(client, manager, churn):
    from catalog.models import Dataset

    dataset = Dataset.objects.get(name="customers_daily")
    client.force_login(manager)
    response = client.get(f"/datasets/{dataset.pk}/")
    assert response.status_code == 200
    html = content(response)
    assert "Models using this dataset" in html
    usage = html[html.index("Models using this dataset") :]
    assert 'href="/models/churn-predictor/"' in usage
    assert "v2 · training" in usage and "v1 · training" in usage
    assert "Contact details" in html and "Health" in html and "Special category" in html
    assert "Confidential" in html and "3 days ago" in html
    assert "s3://lake/customers/daily" in html


# --- Domains --------------------------------------------------------------------------------------------


def test_domain_list_shows_counts_per_lifecycle(client, manager, churn, domain):
    RegisteredModelFactory(name="exp-1", domain=domain, lifecycle=Lifecycle.EXPERIMENTAL)
    RegisteredModelFactory(name="exp-2", domain=domain, lifecycle=Lifecycle.EXPERIMENTAL)
    client.force_login(manager)
    response = client.get("/domains/")
    assert response.status_code == 200
    html = content(response)
    assert 'href="/domains/personalisation/"' in html
    assert "3<small>models</small>" in html
    assert 'title="2 experimental models"' in html and 'title="1 production model"' in html


def test_domain_page_lists_models_and_chart(client, manager, churn, domain):
    RegisteredModelFactory(name="exp-1", domain=domain, lifecycle=Lifecycle.EXPERIMENTAL, owners=[manager])
    client.force_login(manager)
    response = client.get("/domains/personalisation/")
    assert response.status_code == 200
    html = content(response)
    assert "churn-predictor" in html and "exp-1" in html
    assert "Retraining overdue" in html and "0.86" in html
    bar = figures(html)["lifecycle-chart"]["data"][0]
    assert dict(zip(bar["y"], bar["x"], strict=True))["Production"] == 1
    html = content(client.get("/domains/personalisation/", {"lifecycle": "experimental"}))
    assert "exp-1" in html and "/models/churn-predictor/" not in html
    assert client.get("/domains/personalisation/", {"lifecycle": "bogus"}).status_code == 400


# --- Not found ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/models/nope/",
        "/models/churn-predictor/versions/99/",
        "/datasets/999999/",
        "/domains/nope/",
        "/no/such/page/",
    ],
)
def test_unknown_things_are_404(client, manager, churn, url):
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 404
    assert "We couldn't find that page" in content(response)


def test_stale_cursor_from_another_sort_is_rejected_or_harmless(client, manager, churn):
    client.force_login(manager)
    cursor = encode_cursor(["x", 1, 2], backwards=False)  # three values: the domain sort's shape
    assert client.get("/", {"cursor": cursor}).status_code == 400
    assert client.get("/", {"cursor": cursor, "sort": "domain"}).status_code == 200


def test_owner_roles_are_listed(client, manager, churn, compliance):
    from catalog.models import ModelOwner

    ModelOwner.objects.create(model=churn, user=compliance, role=OwnerRole.STEWARD)
    client.force_login(manager)
    assert "Data steward" in content(client.get("/models/churn-predictor/"))


# --- Parts of the model page loaded after its first paint ------------------------------------------------


def test_model_page_first_paint_links_each_part_and_loads_none(client, manager, churn):
    client.force_login(manager)
    response = client.get("/models/churn-predictor/")
    html = content(response)
    assert fragment_urls(html) == {
        "registry": "/models/churn-predictor/panels/registry/",
        "governance": "/models/churn-predictor/panels/governance/",
        "monitoring": "/models/churn-predictor/panels/monitoring/",
        "metrics": "/models/churn-predictor/panels/metrics/",
        "lineage": "/models/churn-predictor/panels/lineage/",
        "retraining": "/models/churn-predictor/panels/retraining/",
    }
    # Nothing of the parts is in the first paint; without JavaScript each placeholder links to its part.
    assert "data-chart=" not in html and "<svg" not in html and "Definition of done" not in html
    assert 'href="/models/churn-predictor/panels/governance/">Open governance on its own page</a>' in html
    assert "js/fragments.js" in html
    # The parameters a part reads reach it: the lineage's version (and the versions page), the date.
    html = content(
        client.get("/models/churn-predictor/?version=1&production_on=2024-01-31&versions_cursor=x")
    )
    urls = fragment_urls(html)
    assert urls["lineage"] == "/models/churn-predictor/panels/lineage/?version=1&versions_cursor=x"
    assert urls["governance"] == "/models/churn-predictor/panels/governance/?production_on=2024-01-31"
    assert urls["metrics"] == "/models/churn-predictor/panels/metrics/"


def test_a_model_page_part_alone_is_a_page_of_its_own_and_bare_when_fetched(client, manager, churn):
    client.force_login(manager)
    page = client.get("/models/churn-predictor/panels/lineage/?version=1")
    assert page.status_code == 200 and "X-Fragment" in page["Vary"]
    html = content(page)
    assert (
        "<title>Lineage · Modelhouse</title>" in html
        and 'href="/models/churn-predictor/">churn-predictor</a>' in html
    )
    assert "Lineage of v1" in html and "js/charts.js" in html
    bare = client.get("/models/churn-predictor/panels/lineage/?version=1", headers={"X-Fragment": "1"})
    assert bare.status_code == 200 and "X-Fragment" in bare["Vary"]
    assert content(bare).lstrip().startswith('<section class="card" id="lineage"') and "<body" not in content(
        bare
    )


def test_unknown_part_or_unseen_model_is_404(client, manager, churn):
    client.force_login(manager)
    assert client.get("/models/churn-predictor/panels/secrets/").status_code == 404
    assert client.get("/models/no-such-model/panels/metrics/").status_code == 404
    client.logout()
    response = client.get("/models/churn-predictor/panels/metrics/", headers={"X-Fragment": "1"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_version_page_loads_its_metric_history_after_the_first_paint(client, manager, churn):
    client.force_login(manager)
    html = content(client.get("/models/churn-predictor/versions/1/"))
    assert fragment_urls(html) == {"history": "/models/churn-predictor/versions/1/history/"}
    assert "data-chart=" not in html and "lineage-svg" in html  # the lineage stays in the first paint
    alone = content(client.get("/models/churn-predictor/versions/1/history/"))
    assert "<title>Metric history of v1 · Modelhouse</title>" in alone
    assert 'href="/models/churn-predictor/versions/1/">v1</a>' in alone
    assert client.get("/models/churn-predictor/versions/99/history/").status_code == 404
