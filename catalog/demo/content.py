"""The demo organisation: people, domains, teams, datasets and models, as plain data.

Everything here is fiction. Texts are written once; numbers (metrics, dates, digests) are generated
from a seeded random generator in `catalog.demo.seed`, so two runs on the same day look the same.
"""

from dataclasses import dataclass

from catalog.models import Lifecycle, MetricGoal, OwnerRole, PiiCategory, Sensitivity
from portal.roles import Role

DEMO_PASSWORD = "modelhouse"
DEMO_URL = "http://127.0.0.1:8000/"
ADMIN_USERNAME = "ada"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    full_name: str

    @property
    def email(self) -> str:
        return f"{self.full_name.lower().replace(' ', '.')}@modelhouse.example"


USERS = (
    DemoUser("sara", Role.SCIENTIST, "Sara Lindgren"),
    DemoUser("sam", Role.SCIENTIST, "Sam Okafor"),
    DemoUser("priya", Role.SCIENTIST, "Priya Raman"),
    DemoUser("eric", Role.ENGINEER, "Eric Moreau"),
    DemoUser("lena", Role.ENGINEER, "Lena Fischer"),
    DemoUser("maria", Role.MANAGER, "Maria Costa"),
    DemoUser("cora", Role.COMPLIANCE, "Cora Jansen"),
    DemoUser("ada", Role.ADMIN, "Ada Whitfield"),
)


@dataclass(frozen=True)
class DemoDomain:
    key: str
    name: str
    description: str


DOMAINS = (
    DemoDomain("PERS", "Personalisation", "Recommendations, search ranking and personalised messaging."),
    DemoDomain("DEMAND", "Demand forecasting", "Store, online and product demand; pricing and staffing."),
    DemoDomain("RISK", "Fraud & risk", "Payment fraud, account security and credit risk."),
    DemoDomain("MKT", "Marketing", "Churn, customer value, campaign targeting and marketing mix."),
    DemoDomain("SUPPLY", "Supply chain", "Suppliers, warehouses and deliveries."),
)


@dataclass(frozen=True)
class DemoTeam:
    name: str
    domain: str  # domain key
    members: tuple[str, ...]
    repository_group: str


TEAMS = (
    DemoTeam("Recommendations", "PERS", ("sara", "sam", "eric"), "recs"),
    DemoTeam("Search & Discovery", "PERS", ("priya", "eric"), "search"),
    DemoTeam("Forecasting", "DEMAND", ("lena", "sara"), "forecasting"),
    DemoTeam("Pricing", "DEMAND", ("priya", "maria"), "pricing"),
    DemoTeam("Fraud Detection", "RISK", ("eric", "priya", "cora"), "fraud"),
    DemoTeam("Credit Risk", "RISK", ("priya", "maria"), "credit"),
    DemoTeam("Marketing Science", "MKT", ("sam", "sara", "maria"), "marketing"),
    DemoTeam("Supply Chain Analytics", "SUPPLY", ("lena", "eric"), "supply"),
)

P = PiiCategory
S = Sensitivity


@dataclass(frozen=True)
class DemoDataset:
    slug: str
    uri: str
    domain: str
    owner: str
    description: str
    pii: tuple[str, ...] = ()
    sensitivity: str = S.INTERNAL
    refreshed_days_ago: float = 1.0  # freshness relative to the seeding day


DATASETS = (
    DemoDataset(
        "customer_profiles",
        "s3://lake/curated/customer/profiles",
        "MKT",
        "priya",
        "One row per customer: contact details, home region, loyalty tier. Refreshed nightly.",
        (P.CONTACT, P.IDENTIFIER, P.LOCATION),
        S.CONFIDENTIAL,
        0.6,
    ),
    DemoDataset(
        "web_sessions",
        "s3://lake/events/web/sessions",
        "PERS",
        "eric",
        "Sessionised click-stream from web and app: views, searches, add-to-basket.",
        (P.BEHAVIOUR, P.IDENTIFIER),
        S.CONFIDENTIAL,
        0.1,
    ),
    DemoDataset(
        "search_queries",
        "s3://lake/events/web/search_queries",
        "PERS",
        "priya",
        "Search queries with the results shown and clicked.",
        (P.BEHAVIOUR, P.IDENTIFIER),
        S.CONFIDENTIAL,
        0.2,
    ),
    DemoDataset(
        "order_lines",
        "s3://lake/curated/sales/order_lines",
        "DEMAND",
        "lena",
        "Every online and store order line with customer id, product, price and discount.",
        (P.PURCHASE_HISTORY, P.IDENTIFIER),
        S.CONFIDENTIAL,
        0.5,
    ),
    DemoDataset(
        "product_catalog",
        "s3://lake/curated/product/catalog",
        "PERS",
        "sam",
        "Product attributes, categories and images embeddings.",
        refreshed_days_ago=2,
    ),
    DemoDataset(
        "recs_holdout",
        "s3://lake/eval/personalisation/recs_holdout",
        "PERS",
        "sara",
        "Frozen two-week holdout of sessions for offline ranking evaluation.",
        (P.BEHAVIOUR,),
        S.INTERNAL,
        30,
    ),
    DemoDataset(
        "store_sales_daily",
        "s3://lake/curated/sales/store_daily",
        "DEMAND",
        "lena",
        "Units and revenue per store, product group and day.",
        refreshed_days_ago=0.8,
    ),
    DemoDataset(
        "weather_daily",
        "s3://lake/external/weather/daily",
        "DEMAND",
        "lena",
        "Observed and forecast weather per postcode area (licensed external feed).",
        sensitivity=S.PUBLIC,
        refreshed_days_ago=1,
    ),
    DemoDataset(
        "promo_calendar",
        "s3://lake/curated/marketing/promo_calendar",
        "MKT",
        "sam",
        "Planned and past promotions. The upstream export broke in the spring; check freshness.",
        refreshed_days_ago=46,
    ),
    DemoDataset(
        "forecast_backtest",
        "s3://lake/eval/demand/backtest_windows",
        "DEMAND",
        "sara",
        "Rolling-origin backtest windows shared by all demand models.",
        refreshed_days_ago=7,
    ),
    DemoDataset(
        "card_transactions",
        "s3://lake/restricted/payments/card_transactions",
        "RISK",
        "eric",
        "Card authorisations with merchant, amount, device and coarse location.",
        (P.FINANCIAL, P.IDENTIFIER, P.LOCATION),
        S.RESTRICTED,
        0.05,
    ),
    DemoDataset(
        "chargeback_labels",
        "s3://lake/restricted/payments/chargebacks",
        "RISK",
        "priya",
        "Confirmed fraud and chargeback outcomes, joined back to transactions (labels).",
        (P.FINANCIAL,),
        S.RESTRICTED,
        3,
    ),
    DemoDataset(
        "device_signals",
        "s3://lake/restricted/security/device_signals",
        "RISK",
        "eric",
        "Device fingerprints and behavioural biometrics (typing cadence) from log-in flows.",
        (P.IDENTIFIER, P.BEHAVIOUR, P.BIOMETRIC),
        S.RESTRICTED,
        0.1,
    ),
    DemoDataset(
        "fraud_holdout",
        "s3://lake/eval/risk/fraud_holdout",
        "RISK",
        "priya",
        "Out-of-time labelled transactions used to compare fraud models.",
        (P.FINANCIAL,),
        S.RESTRICTED,
        14,
    ),
    DemoDataset(
        "loan_applications",
        "s3://lake/restricted/credit/applications",
        "RISK",
        "priya",
        "Buy-now-pay-later applications with bureau attributes and outcomes.",
        (P.CONTACT, P.IDENTIFIER, P.FINANCIAL),
        S.RESTRICTED,
        1,
    ),
    DemoDataset(
        "campaign_responses",
        "s3://lake/curated/marketing/campaign_responses",
        "MKT",
        "sam",
        "Who received which campaign, through which channel, and whether they responded.",
        (P.CONTACT, P.BEHAVIOUR),
        S.CONFIDENTIAL,
        2,
    ),
    DemoDataset(
        "pharmacy_baskets",
        "s3://lake/restricted/health/pharmacy_baskets",
        "MKT",
        "priya",
        "Pharmacy purchases linked to loyalty cards. Special-category data: DPIA required.",
        (P.HEALTH, P.PURCHASE_HISTORY, P.IDENTIFIER),
        S.RESTRICTED,
        1,
    ),
    DemoDataset(
        "supplier_shipments",
        "s3://lake/curated/supply/supplier_shipments",
        "SUPPLY",
        "lena",
        "Purchase orders with promised and actual arrival dates per supplier.",
        refreshed_days_ago=1,
    ),
    DemoDataset(
        "warehouse_stock",
        "s3://lake/curated/supply/warehouse_stock",
        "SUPPLY",
        "eric",
        "Hourly stock positions per warehouse and SKU.",
        refreshed_days_ago=0.05,
    ),
    DemoDataset(
        "delivery_events",
        "s3://lake/curated/supply/delivery_events",
        "SUPPLY",
        "lena",
        "Parcel scan events with courier GPS pings near the delivery address.",
        (P.LOCATION,),
        S.CONFIDENTIAL,
        0.3,
    ),
)


@dataclass(frozen=True)
class MetricSpec:
    """A metric trending across versions: value = start + delta * progress + noise (delta < 0 lowers it)."""

    key: str
    start: tuple[float, float]
    delta: tuple[float, float]
    noise: float
    digits: int = 4


@dataclass(frozen=True)
class MetricProfile:
    goal: str
    primary: MetricSpec
    secondaries: tuple[MetricSpec, ...]
    # The training curve logged with the primary metric: a loss that falls over the steps.
    loss_key: str = "train_loss"


MAX, MIN = MetricGoal.MAXIMIZE, MetricGoal.MINIMIZE
PROFILES = {
    "auc": MetricProfile(
        MAX,
        MetricSpec("auc", (0.71, 0.79), (0.04, 0.09), 0.004),
        (
            MetricSpec("logloss", (0.52, 0.60), (-0.09, -0.05), 0.005),
            MetricSpec("precision", (0.52, 0.60), (0.05, 0.12), 0.008),
            MetricSpec("recall", (0.45, 0.55), (0.04, 0.10), 0.008),
        ),
    ),
    "fraud_auc": MetricProfile(
        MAX,
        MetricSpec("auc", (0.885, 0.915), (0.025, 0.045), 0.002),
        (
            MetricSpec("recall_at_1pct_fpr", (0.42, 0.50), (0.10, 0.18), 0.01),
            MetricSpec("logloss", (0.09, 0.12), (-0.03, -0.015), 0.002),
        ),
    ),
    "ndcg": MetricProfile(
        MAX,
        MetricSpec("ndcg_at_10", (0.28, 0.35), (0.04, 0.08), 0.003),
        (
            MetricSpec("recall_at_50", (0.38, 0.45), (0.05, 0.10), 0.006),
            MetricSpec("catalog_coverage", (0.55, 0.65), (0.05, 0.15), 0.01),
        ),
    ),
    "recall": MetricProfile(
        MAX,
        MetricSpec("recall_at_20", (0.20, 0.26), (0.05, 0.09), 0.004),
        (MetricSpec("mrr", (0.10, 0.14), (0.02, 0.05), 0.003),),
    ),
    "rmse": MetricProfile(
        MIN,
        MetricSpec("rmse", (16.0, 22.0), (-4.5, -2.5), 0.25, 3),
        (
            MetricSpec("mae", (11.0, 15.0), (-3.0, -1.5), 0.2, 3),
            MetricSpec("bias", (1.0, 1.6), (-1.0, -0.6), 0.1, 3),
        ),
    ),
    "mape": MetricProfile(
        MIN,
        MetricSpec("mape", (0.15, 0.22), (-0.05, -0.025), 0.003),
        (
            MetricSpec("wape", (0.12, 0.17), (-0.04, -0.02), 0.003),
            MetricSpec("coverage_p90", (0.82, 0.86), (0.02, 0.05), 0.006),
        ),
    ),
    "mae": MetricProfile(
        MIN,
        MetricSpec("mae", (2.2, 2.8), (-0.7, -0.4), 0.04, 3),
        (MetricSpec("rmse", (3.4, 4.0), (-0.9, -0.5), 0.05, 3),),
    ),
    "qini": MetricProfile(
        MAX,
        MetricSpec("qini", (0.07, 0.10), (0.02, 0.04), 0.002),
        (MetricSpec("uplift_at_20pct", (0.015, 0.022), (0.004, 0.01), 0.001),),
    ),
    "f1": MetricProfile(
        MAX,
        MetricSpec("f1_macro", (0.70, 0.75), (0.05, 0.09), 0.005),
        (MetricSpec("accuracy", (0.78, 0.82), (0.04, 0.07), 0.004),),
        loss_key="train_cross_entropy",
    ),
}

# Hyperparameters per algorithm family; numbers are nudged per version by the seeder.
ALGORITHMS = {
    "gbm": {
        "learning_rate": 0.05,
        "max_depth": 6,
        "n_estimators": 400,
        "subsample": 0.8,
        "min_child_weight": 5,
    },
    "lambdamart": {"objective": "lambdarank", "learning_rate": 0.05, "num_leaves": 63, "n_estimators": 600},
    "two_tower": {
        "embedding_dim": 64,
        "learning_rate": 0.001,
        "batch_size": 1024,
        "epochs": 10,
        "negatives": 50,
    },
    "sequence": {
        "architecture": "transformer",
        "layers": 2,
        "heads": 4,
        "hidden": 128,
        "learning_rate": 0.0005,
    },
    "logistic": {"C": 1.0, "penalty": "l2", "class_weight": "balanced", "max_iter": 500},
    "forecast_gbm": {"learning_rate": 0.03, "num_leaves": 127, "lags": [7, 14, 28], "horizon_days": 14},
    "prophet": {"changepoint_prior_scale": 0.05, "seasonality_mode": "multiplicative", "holidays": "DE"},
    "uplift": {"learner": "T-learner", "base": "lightgbm", "n_estimators": 300, "learning_rate": 0.05},
    "transformer": {"base_model": "distilbert-base-multilingual-cased", "learning_rate": 3e-5, "epochs": 3},
    "bayesian_mmm": {"adstock": "geometric", "saturation": "hill", "draws": 2000, "chains": 4},
}

TECH, BUSINESS, STEWARD = OwnerRole.TECHNICAL, OwnerRole.BUSINESS, OwnerRole.STEWARD


@dataclass(frozen=True)
class DemoModel:
    name: str
    domain: str
    team: str
    lifecycle: str
    profile: str
    algorithm: str
    versions: int
    owners: tuple[tuple[str, str], ...]  # (username, owner role); the first one registers the model
    train: tuple[str, ...]  # dataset slugs
    evaluate: str
    tags: tuple[str, ...]
    summary: str
    approach: str
    intended_use: str
    limitations: str = ""
    # "full": every model-card field; "partial": no limitations/ethics; "minimal": a one-line description.
    card: str = "full"
    retrain_every_days: int | None = None
    overdue_days: int = 0  # > 0: the last training is this many days older than the cadence allows


L = Lifecycle
# A table: one model per block, fields in DemoModel order (kept compact on purpose).
# fmt: off
MODELS = (
    # --- Personalisation -------------------------------------------------------------------------
    DemoModel(
        "homepage-recs-ranker", "PERS", "Recommendations", L.PRODUCTION, "ndcg", "two_tower", 12,
        (("sara", TECH), ("eric", TECH), ("maria", BUSINESS)),
        ("web_sessions", "order_lines", "product_catalog"), "recs_holdout",
        ("recommendations", "ranking", "deep-learning", "homepage"),
        "Ranks the products shown in the **Picked for you** carousel on the homepage and in the app.",
        "A two-tower retrieval model proposes 500 candidates; a small ranking head orders them by "
        "predicted click-and-buy probability.",
        "Ordering products for signed-in customers on the homepage.",
        "Cold-start customers fall back to best-sellers; seasonal items are under-ranked in the first "
        "week of a season.",
        retrain_every_days=7,
    ),
    DemoModel(
        "similar-items-embeddings", "PERS", "Recommendations", L.PRODUCTION, "recall", "two_tower", 8,
        (("sam", TECH),),
        ("web_sessions", "product_catalog"), "recs_holdout",
        ("recommendations", "embeddings", "product-page"),
        "Product embeddings behind the *You may also like* strip on product pages.",
        "Item-to-item co-view embeddings, refreshed monthly and served from the vector index.",
        "Similar-item lookups on product pages and in e-mails.",
        "Long-tail products with fewer than 20 views have unreliable neighbours.",
        retrain_every_days=30,
    ),
    DemoModel(
        "search-query-ranker", "PERS", "Search & Discovery", L.PRODUCTION, "ndcg", "lambdamart", 9,
        (("priya", TECH), ("eric", TECH), ("maria", BUSINESS)),
        ("search_queries", "product_catalog"), "recs_holdout",
        ("search", "ranking", "learning-to-rank"),
        "Re-ranks the top 200 search results by relevance and likelihood of purchase.",
        "LambdaMART over text-match, popularity and personal affinity features.",
        "Ordering site search results.",
        "Misspelled and very long queries rely on the text-match baseline.",
        retrain_every_days=30,
    ),
    DemoModel(
        "next-basket-predictor", "PERS", "Recommendations", L.STAGING, "recall", "sequence", 5,
        (("sam", TECH), ("sara", TECH)),
        ("order_lines", "customer_profiles"), "recs_holdout",
        ("recommendations", "deep-learning", "grocery"),
        "Predicts the products a customer will buy in their next grocery order.",
        "A small transformer over the last 20 baskets.",
        "Pre-filling the *Buy again* list.",
        card="partial",
    ),
    DemoModel(
        "email-content-personaliser", "PERS", "Recommendations", L.EXPERIMENTAL, "auc", "gbm", 3,
        (("priya", TECH),),
        ("campaign_responses", "customer_profiles"), "campaign_responses",
        ("email", "personalisation"),
        "Chooses which content block each customer sees in the weekly newsletter.",
        "", "",
        card="minimal",
    ),
    DemoModel(
        "push-notification-timing", "PERS", "Recommendations", L.DEPRECATED, "auc", "logistic", 6,
        (("sam", TECH), ("maria", BUSINESS)),
        ("web_sessions",), "web_sessions",
        ("notifications", "app"),
        "Predicted the hour a customer is most likely to open a push notification.",
        "Logistic regression on hour-of-week activity profiles. Replaced by the vendor's send-time tool.",
        "Scheduling app push notifications.",
        "Does not know about time zones; customers abroad were notified at night.",
    ),
    # --- Demand forecasting ----------------------------------------------------------------------
    DemoModel(
        "store-demand-daily", "DEMAND", "Forecasting", L.PRODUCTION, "rmse", "forecast_gbm", 12,
        (("lena", TECH), ("sara", TECH), ("maria", BUSINESS)),
        ("store_sales_daily", "weather_daily", "promo_calendar"), "forecast_backtest",
        ("forecasting", "stores", "replenishment"),
        "Forecasts units per store, product group and day for the next 14 days.",
        "One global LightGBM model with lag, calendar, weather and promotion features.",
        "Store replenishment orders and staffing plans.",
        "New stores need eight weeks of history; promotions missing from the calendar are not foreseen.",
        retrain_every_days=7,
    ),
    DemoModel(
        "online-demand-hourly", "DEMAND", "Forecasting", L.PRODUCTION, "mape", "forecast_gbm", 10,
        (("eric", TECH), ("lena", TECH)),
        ("order_lines", "promo_calendar", "web_sessions"), "forecast_backtest",
        ("forecasting", "online", "capacity"),
        "Forecasts online orders per hour for the fulfilment centres.",
        "Global gradient-boosted model over hourly lags and traffic; reconciled to the daily total.",
        "Picking-capacity planning in the fulfilment centres.",
        "Flash sales announced less than a day ahead are not in the promotion calendar.",
        retrain_every_days=7,
        overdue_days=6,
    ),
    DemoModel(
        "new-product-demand", "DEMAND", "Forecasting", L.STAGING, "mape", "gbm", 5,
        (("sara", TECH),),
        ("order_lines", "product_catalog"), "forecast_backtest",
        ("forecasting", "cold-start"),
        "First-season demand for products without sales history, from look-alike products.",
        "Gradient boosting on product attributes and the launch curves of similar products.",
        "Initial buy quantities for new products.",
        card="partial",
        retrain_every_days=30,
    ),
    DemoModel(
        "price-elasticity-estimator", "DEMAND", "Pricing", L.PRODUCTION, "mae", "gbm", 4,
        (("priya", TECH), ("maria", BUSINESS)),
        ("order_lines", "promo_calendar"), "forecast_backtest",
        ("pricing", "elasticity", "causal"),
        "Estimates how demand for each product group reacts to a price change.",
        "Double machine learning with gradient-boosted nuisance models.",
        "Price and markdown decisions in the pricing tool.",
        "Estimates are unreliable for product groups that never changed price.",
        retrain_every_days=90,
    ),
    DemoModel(
        "markdown-optimiser", "DEMAND", "Pricing", L.EXPERIMENTAL, "qini", "uplift", 3,
        (("priya", TECH),),
        ("order_lines", "promo_calendar"), "forecast_backtest",
        ("pricing", "markdown", "uplift"),
        "Suggests end-of-season markdown depth per product to clear stock.",
        "Uplift model of sell-through under different discount levels.",
        "Trial in the autumn clearance only.",
        card="partial",
    ),
    DemoModel(
        "holiday-peak-forecaster", "DEMAND", "Forecasting", L.ARCHIVED, "mape", "prophet", 4,
        (("lena", TECH),),
        ("store_sales_daily",), "forecast_backtest",
        ("forecasting", "seasonal"),
        "Forecast the Christmas peak per region. Folded into `store-demand-daily`.",
        "Prophet with holiday regressors per region.",
        "Peak-season planning (historical).",
        "Regional holidays outside Germany were not modelled.",
    ),
    DemoModel(
        "store-staffing-forecast", "DEMAND", "Forecasting", L.PRODUCTION, "mape", "prophet", 7,
        (("lena", TECH), ("maria", BUSINESS)),
        ("store_sales_daily", "weather_daily"), "forecast_backtest",
        ("forecasting", "stores", "workforce"),
        "Forecasts till transactions per store and 15-minute slot, for staff rotas.",
        "Prophet per store with weather regressors, disaggregated to slots by a fixed profile.",
        "Drafting store rotas three weeks ahead.",
        card="partial",
        retrain_every_days=30,
    ),
    # --- Fraud & risk ----------------------------------------------------------------------------
    DemoModel(
        "card-fraud-scorer", "RISK", "Fraud Detection", L.PRODUCTION, "fraud_auc", "gbm", 12,
        (("eric", TECH), ("priya", TECH), ("cora", STEWARD), ("maria", BUSINESS)),
        ("card_transactions", "chargeback_labels", "device_signals"), "fraud_holdout",
        ("fraud", "payments", "real-time"),
        "Scores every card payment for fraud in under 30 ms; high scores go to step-up authentication.",
        "Gradient-boosted trees on transaction, merchant and device features, with a monotonic amount "
        "constraint.",
        "Real-time decisions on card payments: approve, challenge or decline.",
        "Labels arrive up to 90 days late, so the newest weeks are under-labelled.",
        retrain_every_days=7,
    ),
    DemoModel(
        "account-takeover-detector", "RISK", "Fraud Detection", L.PRODUCTION, "fraud_auc", "gbm", 8,
        (("sam", TECH), ("eric", TECH)),
        ("device_signals", "web_sessions"), "fraud_holdout",
        ("fraud", "security", "login"),
        "Flags log-ins that look like account takeover and asks for a second factor.",
        "Gradient boosting on device, network and behavioural-biometric signals.",
        "Step-up authentication at log-in.",
        "Shared family devices raise false positives.",
        retrain_every_days=30,
    ),
    DemoModel(
        "credit-limit-risk", "RISK", "Credit Risk", L.PRODUCTION, "auc", "logistic", 6,
        (("priya", TECH), ("maria", BUSINESS), ("cora", STEWARD)),
        ("loan_applications", "order_lines"), "loan_applications",
        ("credit", "scorecard", "regulated"),
        "Probability of default for buy-now-pay-later applications; sets the initial credit limit.",
        "A regulated logistic scorecard with monotonic binned features.",
        "Credit-limit assignment for pay-later applications.",
        "Thin-file applicants (under 6 months of history) are scored conservatively.",
        retrain_every_days=90,
        overdue_days=14,
    ),
    DemoModel(
        "returns-abuse-detector", "RISK", "Fraud Detection", L.STAGING, "auc", "gbm", 4,
        (("sam", TECH),),
        ("order_lines", "customer_profiles"), "fraud_holdout",
        ("fraud", "returns"),
        "Spots serial returners and wardrobing before a refund is issued.",
        "Gradient boosting on return history and order patterns.",
        "Routing suspicious returns to manual inspection.",
        retrain_every_days=30,
        card="partial",
    ),
    DemoModel(
        "merchant-risk-score", "RISK", "Fraud Detection", L.EXPERIMENTAL, "auc", "gbm", 3,
        (("eric", TECH),),
        ("card_transactions",), "fraud_holdout",
        ("fraud", "marketplace"),
        "Risk score for new marketplace sellers.",
        "", "",
        card="minimal",
    ),
    DemoModel(
        "chargeback-dispute-classifier", "RISK", "Fraud Detection", L.DEPRECATED, "f1", "transformer", 5,
        (("priya", TECH),),
        ("chargeback_labels",), "fraud_holdout",
        ("nlp", "payments", "disputes"),
        "Classified free-text chargeback disputes into reason codes.",
        "Fine-tuned multilingual DistilBERT. Superseded by the card schemes' structured reason codes.",
        "Routing chargeback disputes to the right queue.",
        "Only German and English disputes.",
    ),
    # --- Marketing -------------------------------------------------------------------------------
    DemoModel(
        "churn-predictor", "MKT", "Marketing Science", L.PRODUCTION, "auc", "gbm", 10,
        (("sara", TECH), ("maria", BUSINESS)),
        ("customer_profiles", "order_lines", "web_sessions"), "campaign_responses",
        ("churn", "retention", "crm"),
        "Probability that a loyalty member makes no purchase in the next 90 days.",
        "LightGBM on recency, frequency, basket mix and engagement features.",
        "Selecting members for retention offers.",
        "Members who shop only in stores without a loyalty card are invisible to the model.",
        retrain_every_days=30,
    ),
    DemoModel(
        "customer-lifetime-value", "MKT", "Marketing Science", L.PRODUCTION, "rmse", "gbm", 6,
        (("priya", TECH), ("maria", BUSINESS)),
        ("customer_profiles", "order_lines"), "order_lines",
        ("clv", "crm", "finance"),
        "Expected gross margin per customer over the next 12 months.",
        "Two-stage model: purchase probability times expected spend.",
        "Budgeting acquisition and retention spend per customer segment.",
        "Very high spenders (top 0.1 %) are capped.",
        retrain_every_days=90,
    ),
    DemoModel(
        "campaign-uplift-model", "MKT", "Marketing Science", L.STAGING, "qini", "uplift", 6,
        (("sam", TECH), ("maria", BUSINESS)),
        ("campaign_responses", "customer_profiles"), "campaign_responses",
        ("uplift", "campaigns", "causal"),
        "Who buys *because of* a campaign, not just after it: targets persuadable customers.",
        "T-learner uplift model trained on randomised campaign holdouts.",
        "Targeting e-mail and app campaigns.",
        "Needs a randomised holdout in every campaign it is trained on.",
        retrain_every_days=30,
    ),
    DemoModel(
        "email-send-time-optimiser", "MKT", "Marketing Science", L.EXPERIMENTAL, "auc", "logistic", 3,
        (("sam", TECH),),
        ("campaign_responses",), "campaign_responses",
        ("email", "campaigns"),
        "Best hour to send campaign e-mails per customer.",
        "", "",
        card="minimal",
    ),
    DemoModel(
        "pharmacy-offer-propensity", "MKT", "Marketing Science", L.STAGING, "auc", "gbm", 4,
        (("priya", TECH), ("cora", STEWARD)),
        ("pharmacy_baskets", "customer_profiles"), "campaign_responses",
        ("propensity", "pharmacy", "special-category"),
        "Propensity to respond to pharmacy coupons (vitamins, skincare).",
        "Gradient boosting on pharmacy basket categories. Excludes prescription items by design.",
        "Selecting loyalty members for pharmacy coupons, with explicit consent only.",
        "Trained on consenting members only, who buy more than average.",
        retrain_every_days=30,
    ),
    DemoModel(
        "lead-scoring-b2b", "MKT", "Marketing Science", L.ARCHIVED, "auc", "logistic", 5,
        (("sara", TECH),),
        ("campaign_responses",), "campaign_responses",
        ("b2b", "sales"),
        "Scored business-customer leads for the sales team. The B2B shop closed in 2024.",
        "Logistic regression on firmographics and web engagement.",
        "Prioritising B2B sales calls (historical).",
        "Never validated outside the DACH region.",
    ),
    DemoModel(
        "marketing-mix-model", "MKT", "Marketing Science", L.PRODUCTION, "mape", "bayesian_mmm", 4,
        (("lena", TECH), ("maria", BUSINESS)),
        ("promo_calendar", "store_sales_daily"), "forecast_backtest",
        ("mmm", "budget", "causal"),
        "Attributes weekly sales to marketing channels and proposes next quarter's budget split.",
        "Bayesian media-mix model with geometric adstock and Hill saturation.",
        "Quarterly marketing budget allocation.",
        "Channels with flat spend cannot be separated from the baseline.",
        retrain_every_days=90,
    ),
    # --- Supply chain ----------------------------------------------------------------------------
    DemoModel(
        "supplier-lead-time-predictor", "SUPPLY", "Supply Chain Analytics", L.PRODUCTION, "mae", "gbm", 8,
        (("lena", TECH), ("eric", TECH)),
        ("supplier_shipments",), "supplier_shipments",
        ("suppliers", "lead-time"),
        "Predicts how many days a purchase order will take to arrive.",
        "Gradient boosting on supplier, route, season and order size.",
        "Safety-stock and reorder-point calculations.",
        "New suppliers start from the category average for their first ten orders.",
        retrain_every_days=30,
    ),
    DemoModel(
        "warehouse-replenishment-forecast", "SUPPLY", "Supply Chain Analytics", L.PRODUCTION, "rmse",
        "forecast_gbm", 11,
        (("eric", TECH),),
        ("warehouse_stock", "order_lines"), "forecast_backtest",
        ("forecasting", "warehouse", "replenishment"),
        "Daily outbound units per warehouse and SKU for the next four weeks.",
        "Global LightGBM forecaster shared with the store models, trained on warehouse flows.",
        "Replenishment from suppliers to warehouses.",
        retrain_every_days=7,
        card="partial",
    ),
    DemoModel(
        "delivery-eta-estimator", "SUPPLY", "Supply Chain Analytics", L.STAGING, "mae", "gbm", 6,
        (("lena", TECH),),
        ("delivery_events",), "delivery_events",
        ("delivery", "eta", "logistics"),
        "Estimated arrival window shown to customers for home deliveries.",
        "Gradient boosting on route, courier load and live scan events.",
        "Showing a delivery window in the app.",
        "Rural routes with sparse GPS pings have wide windows.",
        retrain_every_days=30,
    ),
    DemoModel(
        "stockout-risk-classifier", "SUPPLY", "Supply Chain Analytics", L.EXPERIMENTAL, "auc", "gbm", 3,
        (("sara", TECH),),
        ("warehouse_stock", "supplier_shipments"), "warehouse_stock",
        ("stockout", "warehouse"),
        "Flags SKUs likely to run out within seven days.",
        "", "",
        card="minimal",
    ),
)
# fmt: on
