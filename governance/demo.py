"""Governance demo content on top of the catalog demo (`catalog.demo`): data access, definition of done,
verification, promotions, work items and monitoring. `manage.py seed_demo` calls `demo_governance_seed`.

Everything goes through the governance services, in the order a real organisation would have done it, so
the audit trail is a real hash chain (`manage.py verify_audit` passes) and every screen shows states the
workflows can actually reach.

Idempotent: when the demo purposes exist, nothing is added.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.demo import progress_silent
from catalog.demo.content import DATASETS, MODELS
from catalog.demo.seed import Progress, demo_now
from catalog.models import Dataset, ModelAlias, ModelVersion, RegisteredModel, Team
from catalog.services import model_update

from .models import (
    OPEN_STATUSES,
    AccessRequest,
    AccessStatus,
    Alert,
    AlertCondition,
    AlertState,
    AuditEvent,
    Mitigation,
    MonitoringPolicy,
    PromotionRequest,
    PromotionStatus,
    Purpose,
    RunStatus,
    StepKind,
    VerificationRun,
    WorkItem,
)
from .services.data_access import (
    access_request_create,
    access_request_decide,
    access_request_withdraw,
    campaign_attest,
    campaign_start,
    grant_revoke,
    grants_expire,
    model_purpose_set,
    purpose_create,
    steps_open_to_decide,
)
from .services.dod import dod_attest, dod_evaluate, dod_queryset
from .services.gates import FAIL, gates_evaluate
from .services.monitoring import (
    CHECKS,
    alert_acknowledge,
    alert_resolve,
    monitoring_policy_set,
    monitoring_run,
    prediction_stats_record,
)
from .services.promotions import (
    promotion_apply,
    promotion_approve,
    promotion_reject,
    promotion_request,
    promotion_waive_gate,
    promotion_withdraw,
)
from .services.verification import verification_execute, verification_queue, verification_script_save
from .services.work_items import comment_add, work_item_create, work_item_link, work_item_transition


# --- Data access -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoPurpose:
    name: str
    description: str
    legal_bases: tuple[str, ...]
    models: tuple[str, ...]  # demo models that declare this purpose


PURPOSES = (
    DemoPurpose(
        "Personalised recommendations",
        "Ranking and recommending products to a signed-in customer on the web, in the app and in e-mails.",
        ("contract", "legitimate_interests"),
        ("homepage-recs-ranker", "similar-items-embeddings", "search-query-ranker", "next-basket-predictor"),
    ),
    DemoPurpose(
        "Fraud prevention",
        "Detecting payment fraud, account takeover and refund abuse, as payment-services law requires.",
        ("legal_obligation", "legitimate_interests"),
        ("card-fraud-scorer", "account-takeover-detector", "returns-abuse-detector", "merchant-risk-score"),
    ),
    DemoPurpose(
        "Demand planning",
        "Forecasting demand, prices, stock and staffing from aggregated sales; no decision about a person.",
        ("legitimate_interests",),
        (
            "store-demand-daily",
            "online-demand-hourly",
            "new-product-demand",
            "price-elasticity-estimator",
            "markdown-optimiser",
            "store-staffing-forecast",
            "supplier-lead-time-predictor",
            "warehouse-replenishment-forecast",
        ),
    ),
    DemoPurpose(
        "Marketing analytics",
        "Segmenting, targeting and measuring marketing for loyalty members who opted in to it.",
        ("consent",),
        (
            "churn-predictor",
            "customer-lifetime-value",
            "campaign-uplift-model",
            "pharmacy-offer-propensity",
            "marketing-mix-model",
            "email-send-time-optimiser",
            "email-content-personaliser",
        ),
    ),
    DemoPurpose(
        "Credit risk assessment",
        "Assessing pay-later applications and setting credit limits, under consumer-credit regulation.",
        ("contract", "legal_obligation"),
        ("credit-limit-risk",),
    ),
    DemoPurpose(
        "Delivery operations",
        "Planning routes and telling customers when their delivery arrives.",
        ("contract", "legitimate_interests"),
        ("delivery-eta-estimator",),
    ),
)
MARKER_PURPOSE = PURPOSES[0].name  # present means the governance demo was seeded


@dataclass(frozen=True)
class DemoRequest:
    """An access request and how far it gets. `outcome`: granted, expiring, expired, revoked, in_review,
    submitted, rejected, withdrawn or draft."""

    handle: str
    requester: str
    team: str | None
    purpose: str
    legal_basis: str
    datasets: tuple[str, ...]
    justification: str
    outcome: str = "granted"
    started_days_ago: int = 120
    valid_days: int = 360
    dpia: str = ""
    reason: str = ""  # for rejections, revocations and withdrawals


REQUESTS = (
    DemoRequest(
        "recs",
        "sara",
        "Recommendations",
        "Personalised recommendations",
        "legitimate_interests",
        ("web_sessions", "order_lines"),
        "Training data for homepage-recs-ranker and similar-items-embeddings: sessions and orders of the "
        "last 18 months, pseudonymised customer ids.",
    ),
    DemoRequest(
        "forecasting",
        "sara",
        "Forecasting",
        "Demand planning",
        "legitimate_interests",
        ("order_lines", "web_sessions"),
        "Hourly online demand and new-product forecasts need order lines and traffic; aggregated before "
        "training, no customer-level features.",
        started_days_ago=200,
    ),
    DemoRequest(
        "pricing",
        "priya",
        "Pricing",
        "Demand planning",
        "legitimate_interests",
        ("order_lines",),
        "Price-elasticity estimation per product group from order lines with discounts.",
        outcome="expiring",
        started_days_ago=340,
        valid_days=359,  # ends within the month: the reminder and the renewal are the next steps
    ),
    DemoRequest(
        "supply",
        "eric",
        "Supply Chain Analytics",
        "Demand planning",
        "legitimate_interests",
        ("order_lines",),
        "Warehouse outbound forecasts are trained on order lines aggregated per SKU and day.",
        started_days_ago=90,
    ),
    DemoRequest(
        "delivery",
        "eric",
        "Supply Chain Analytics",
        "Delivery operations",
        "contract",
        ("delivery_events",),
        "delivery-eta-estimator learns arrival windows from courier scan events near the address.",
        started_days_ago=60,
        valid_days=300,
    ),
    DemoRequest(
        "fraud",
        "priya",
        "Fraud Detection",
        "Fraud prevention",
        "legal_obligation",
        ("card_transactions", "chargeback_labels", "device_signals", "web_sessions"),
        "card-fraud-scorer and account-takeover-detector: payments, chargeback labels, device signals "
        "and log-in sessions, as required for strong customer authentication.",
        started_days_ago=150,
        dpia="DPIA-2025-007",
    ),
    DemoRequest(
        "credit",
        "maria",
        "Credit Risk",
        "Credit risk assessment",
        "legal_obligation",
        ("loan_applications", "order_lines"),
        "The regulated pay-later scorecard (credit-limit-risk) is re-estimated on applications and "
        "purchase history.",
        started_days_ago=250,
        dpia="DPIA-2024-031",
    ),
    DemoRequest(
        "marketing",
        "sara",
        "Marketing Science",
        "Marketing analytics",
        "consent",
        ("customer_profiles", "order_lines", "web_sessions", "campaign_responses"),
        "Churn, customer value and uplift models for loyalty members who consented to marketing analytics.",
        started_days_ago=130,
    ),
    DemoRequest(
        "pharmacy",
        "priya",
        "Marketing Science",
        "Marketing analytics",
        "consent",
        ("pharmacy_baskets",),
        "Pharmacy coupon propensity, for members with explicit consent only; prescription items excluded.",
        started_days_ago=45,
        valid_days=180,
        dpia="DPIA-2025-019",
    ),
    DemoRequest(
        "search",
        "eric",
        "Search & Discovery",
        "Personalised recommendations",
        "legitimate_interests",
        ("search_queries",),
        "search-query-ranker learns from the queries customers type and the results they click.",
        outcome="revoked",
        started_days_ago=80,
        reason="Search logs turned out to hold free text customers typed (names, addresses, phone "
        "numbers). Suspended until the redaction job runs on the whole table.",
    ),
    DemoRequest(
        "newsletter",
        "priya",
        None,
        "Marketing analytics",
        "consent",
        ("campaign_responses",),
        "A first look at newsletter engagement for email-content-personaliser.",
        outcome="expired",
        started_days_ago=354,
        valid_days=355,  # expires tomorrow; the seeder then runs the expiry job as of the day after
    ),
    DemoRequest(
        "loyalty-regions",
        "lena",
        "Forecasting",
        "Demand planning",
        "legitimate_interests",
        ("customer_profiles",),
        "Home regions of loyalty members as a feature for regional online demand.",
        outcome="submitted",
        started_days_ago=0,
        valid_days=180,
    ),
    DemoRequest(
        "newsletter-sessions",
        "priya",
        None,
        "Personalised recommendations",
        "legitimate_interests",
        ("web_sessions",),
        "Browsing sessions to pick the newsletter content block each customer sees.",
        outcome="in_review",
        started_days_ago=0,
        valid_days=180,
    ),
    DemoRequest(
        "pharmacy-recs",
        "sam",
        "Recommendations",
        "Personalised recommendations",
        "legitimate_interests",
        ("pharmacy_baskets",),
        "Pharmacy baskets as a signal for the homepage recommendations.",
        outcome="rejected",
        started_days_ago=0,
        valid_days=180,
        dpia="DPIA-2025-019",
        reason="Health data may not feed general recommendations: members consented to pharmacy offers "
        "only, and legitimate interests cannot carry special-category data.",
    ),
    DemoRequest(
        "store-deliveries",
        "sara",
        "Forecasting",
        "Demand planning",
        "legitimate_interests",
        ("delivery_events",),
        "Delivery volumes per postcode for store-level demand.",
        outcome="withdrawn",
        started_days_ago=0,
        valid_days=90,
        reason="Not needed after all: the store forecasts use aggregated order lines instead.",
    ),
    DemoRequest(
        "bnpl-transactions",
        "priya",
        "Credit Risk",
        "Credit risk assessment",
        "contract",
        ("card_transactions",),
        "Card spending patterns as affordability features for pay-later applicants.",
        outcome="draft",
        started_days_ago=0,
        valid_days=180,
        dpia="DPIA-2024-031",
    ),
)
# Grants their data owners already re-certified (kept) in the running campaign: (request handle, dataset).
ATTESTED_KEEPS = (
    ("recs", "web_sessions"),
    ("recs", "order_lines"),
    ("supply", "order_lines"),
    ("marketing", "customer_profiles"),
    ("marketing", "campaign_responses"),
    ("pharmacy", "pharmacy_baskets"),
)


# --- Definition of done and verification -------------------------------------------------------------
# Models whose manifest would carry an input/output contract, and the engineer who reviewed scaling.
CONTRACTS = {
    "churn-predictor": (
        [("member_id", "string"), ("recency_days", "integer"), ("orders_90d", "integer")],
        [("churn_probability", "number")],
    ),
    "homepage-recs-ranker": (
        [("customer_id", "string"), ("context", "object")],
        [("product_ids", "array"), ("scores", "array")],
    ),
    "pharmacy-offer-propensity": (
        [("member_id", "string"), ("consent_pharmacy", "boolean")],
        [("propensity", "number")],
    ),
    "campaign-uplift-model": (
        [("customer_id", "string"), ("campaign_id", "string")],
        [("uplift", "number"), ("segment", "string")],
    ),
    "card-fraud-scorer": (
        [("transaction_id", "string"), ("amount", "number"), ("merchant_id", "string")],
        [("fraud_score", "number"), ("decision", "string")],
    ),
    "account-takeover-detector": (
        [("login_id", "string"), ("device_id", "string")],
        [("risk_score", "number")],
    ),
}
SCALABILITY_REVIEWS = (
    ("churn-predictor", "eric", "Batch scoring of 4.2 M members in 11 min on 8 workers; memory peak 6 GB."),
    ("homepage-recs-ranker", "eric", "3 replicas x 2 vCPU hold 1,800 req/s at p99 42 ms; HPA up to 8."),
    ("pharmacy-offer-propensity", "lena", "Weekly batch, 300 k consenting members, single node is ample."),
    ("campaign-uplift-model", "lena", "Scored per campaign in Spark; 20 executors, 9 min for 5 M customers."),
    ("card-fraud-scorer", "eric", "Load-tested at 3x Black Friday peak: p99 24 ms, 6 pods, no GC pauses."),
    ("account-takeover-detector", "eric", "Runs in the log-in path: p99 15 ms at 900 req/s, 4 pods."),
    ("store-demand-daily", "lena", "Nightly job, 40 min on the shared forecasting cluster (16 cores)."),
)

METRIC_CHECK = '''\
"""{description}"""
import json
import sys

METRIC, LIMIT, GOAL = {metric!r}, {limit!r}, {goal!r}

data = json.load(sys.stdin)
value = data["metrics"].get(METRIC)
within = value is not None and (value >= LIMIT if GOAL == "floor" else value <= LIMIT)
checks = [
    {{
        "name": f"{{METRIC}} {{'>=' if GOAL == 'floor' else '<='}} {{LIMIT}}",
        "passed": within,
        "value": value,
        "threshold": LIMIT,
    }},
    {{"name": "trained on named datasets", "passed": bool(data["datasets"]), "value": len(data["datasets"])}},
    {{"name": "code commit recorded", "passed": bool(data["version"]["code_commit"])}},
]
print(json.dumps({{"passed": all(c["passed"] for c in checks), "checks": checks}}))
'''

WAITS_FOR_SNAPSHOT = '''\
"""Recompute elasticities on a bootstrap sample of the nightly snapshot and compare with the logged ones."""
import json
import os
import sys
import time

data = json.load(sys.stdin)
snapshot = "/data/pricing/elasticity_snapshot.parquet"
while not os.path.exists(snapshot):  # written by the nightly pricing job
    time.sleep(0.5)
print(json.dumps({"passed": True, "checks": []}))
'''


@dataclass(frozen=True)
class DemoScript:
    model: str
    author: str
    name: str
    source: str
    checks_description: str
    run_on: tuple[str, ...]  # "latest" and/or "production"; () when a promotion request runs it
    timeout_seconds: int = 60


def _metric_check(metric: str, limit: float, goal: str, description: str) -> str:
    return METRIC_CHECK.format(metric=metric, limit=limit, goal=goal, description=description)


SCRIPTS = (
    DemoScript(
        "churn-predictor",
        "sara",
        "auc-floor",
        _metric_check("auc", 0.78, "floor", "The agreed AUC floor for retention targeting."),
        "auc >= 0.78 on the campaign holdout; lineage recorded.",
        ("latest",),
    ),
    DemoScript(
        "homepage-recs-ranker",
        "sara",
        "ndcg-floor",
        _metric_check("ndcg_at_10", 0.33, "floor", "Below this NDCG the A/B test never broke even."),
        "ndcg_at_10 >= 0.33 on recs_holdout.",
        ("latest",),
    ),
    DemoScript(
        "account-takeover-detector",
        "sam",
        "auc-floor",
        _metric_check("auc", 0.95, "floor", "Floor proposed by fraud operations for step-up at log-in."),
        "auc >= 0.95 on the fraud holdout (proposed; not yet met).",
        ("latest", "production"),
    ),
    DemoScript(
        "price-elasticity-estimator",
        "priya",
        "elasticity-sanity",
        WAITS_FOR_SNAPSHOT,
        "Bootstrap elasticities agree with the logged ones within 10 %.",
        ("latest",),
        timeout_seconds=5,  # the minimum: it never finishes in the sandbox, so keep the demo fast
    ),
    DemoScript(
        "pharmacy-offer-propensity",
        "priya",
        "auc-floor",
        _metric_check("auc", 0.78, "floor", "Coupons only go out above this AUC."),
        "auc >= 0.78 on consenting members.",
        (),
    ),
    DemoScript(
        "campaign-uplift-model",
        "sam",
        "qini-floor",
        _metric_check("qini", 0.10, "floor", "Targeting must beat random by this Qini coefficient."),
        "qini >= 0.10 on the randomised holdout.",
        (),
    ),
)


# --- Promotions ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoPromotion:
    model: str
    version: str  # "latest" or "champion"
    requester: str
    justification: str
    outcome: str  # pending, approved, waived, rejected, withdrawn
    decider: str = ""
    comment: str = ""
    waiver: str = ""


# None on churn-predictor: a promoted version is protected from deletion, and the catalog tests delete
# and re-seed that model.
PROMOTIONS = (
    DemoPromotion(
        "pharmacy-offer-propensity",
        "champion",
        "priya",
        "Four weeks in staging on consenting members: coupon redemption up 18 % against the rules-based "
        "selection. DPIA-2025-019 covers production use.",
        "approved",
        decider="eric",
        comment="All gates pass. Scheduled for the Monday coupon run.",
    ),
    DemoPromotion(
        "campaign-uplift-model",
        "latest",
        "sam",
        "Trained on the randomised spring holdout; targets persuadables instead of likely buyers.",
        "waived",
        decider="lena",
        comment="Approved with the regression waiver; first campaign is monitored daily.",
        waiver="The Qini drop against the champion is inside the holdout's bootstrap interval (+/- 0.01), "
        "and this version is the first trained on a properly randomised holdout.",
    ),
    DemoPromotion(
        "returns-abuse-detector",
        "latest",
        "sam",
        "Flags serial returners before the refund; the returns desk wants it live before the sales.",
        "rejected",
        decider="eric",
        comment="Not yet: no verification script, the model card has no limitations, and nobody has "
        "reviewed how it behaves at the returns-desk volume.",
    ),
    DemoPromotion(
        "new-product-demand",
        "latest",
        "sara",
        "Better first-season MAPE on the autumn launches; ready for the buyers' next order round.",
        "withdrawn",
        comment="Buyers asked to wait until the season launch is done; will ask again in four weeks.",
    ),
    DemoPromotion(
        "next-basket-predictor",
        "latest",
        "sara",
        "Pre-fills the Buy again list; recall@20 up 4 points on the holdout.",
        "pending",
    ),
    DemoPromotion(
        "card-fraud-scorer",
        "latest",
        "priya",
        "Weekly retrain with the new device features; recall at 1 % FPR up 2 points.",
        "pending",
    ),
)


# --- Work items -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoItem:
    handle: str
    domain: str
    type: str
    title: str
    reporter: str
    assignee: str | None
    priority: str = "medium"
    due_in_days: int | None = None  # negative: already past
    labels: tuple[str, ...] = ()
    model: str | None = None
    dataset: str | None = None
    description: str = ""
    moves: tuple[tuple[str, str], ...] = ()  # (to status, comment), made by the assignee (else reporter)
    comments: tuple[tuple[str, str], ...] = ()  # (author, body), before the moves


ITEMS = (
    DemoItem(
        "similar-contract",
        "PERS",
        "task",
        "Write the output contract for similar-items-embeddings",
        "sam",
        "sam",
        due_in_days=10,
        labels=("dod", "contract"),
        model="similar-items-embeddings",
        description="The definition of done needs the input and output schema in the manifest.",
        moves=(("in_progress", ""),),
        comments=(("sam", "Drafted from the serving code; @eric please check the embedding dimension."),),
    ),
    DemoItem(
        "cold-start",
        "PERS",
        "bug",
        "Cold-start customers all see the same ten products",
        "maria",
        "sara",
        priority="high",
        due_in_days=-3,
        labels=("cold-start", "customer-feedback"),
        model="homepage-recs-ranker",
        description="New app users in the north see southern best-sellers in *Picked for you*.",
        moves=(("in_progress", ""),),
        comments=(
            ("maria", "Three complaints from new app users this week. @sara can you take a look?"),
            ("sara", "The best-seller fallback ignores the home region. @eric is reviewing the fix."),
        ),
    ),
    DemoItem(
        "search-retrain",
        "PERS",
        "retrain",
        "Retrain search-query-ranker on redacted search logs",
        "priya",
        "priya",
        priority="high",
        due_in_days=14,
        labels=("retraining", "gdpr"),
        model="search-query-ranker",
        dataset="search_queries",
        moves=(
            ("in_progress", ""),
            ("blocked", "Waiting for access to search_queries: compliance revoked the grant."),
        ),
    ),
    DemoItem(
        "online-retrain",
        "DEMAND",
        "retrain",
        "Weekly retrain of online-demand-hourly missed",
        "lena",
        "eric",
        priority="high",
        due_in_days=-2,
        labels=("retraining", "overdue"),
        model="online-demand-hourly",
        comments=(
            (
                "lena",
                "The training DAG failed on the promo_calendar join. @eric re-run it after the backfill?",
            ),
        ),
    ),
    DemoItem(
        "promo-export",
        "DEMAND",
        "task",
        "Repair the promo_calendar export",
        "lena",
        "sam",
        priority="critical",
        due_in_days=-10,
        labels=("data-quality", "upstream"),
        dataset="promo_calendar",
        description="The vendor changed its SFTP layout in the spring; the calendar has not refreshed since.",
        moves=(("in_progress", ""),),
        comments=(("sam", "New parser is half done. @lena I need the vendor's field list."),),
    ),
    DemoItem(
        "elasticity-timeout",
        "DEMAND",
        "verification",
        "elasticity-sanity verification times out",
        "priya",
        "priya",
        due_in_days=5,
        labels=("verification",),
        model="price-elasticity-estimator",
        comments=(
            (
                "priya",
                "It waits for the nightly snapshot, which the sandbox cannot see. I will pass the "
                "elasticities in the payload instead.",
            ),
        ),
    ),
    DemoItem(
        "false-declines",
        "RISK",
        "incident",
        "Spike of false declines at one acquirer",
        "eric",
        "eric",
        priority="high",
        labels=("payments",),
        model="card-fraud-scorer",
        moves=(
            ("in_progress", ""),
            (
                "done",
                "The acquirer sent merchant category codes in a new format; mapping fixed, scores back.",
            ),
        ),
    ),
    DemoItem(
        "monotonic-card",
        "RISK",
        "task",
        "Document the monotonic amount constraint in the model card",
        "cora",
        "priya",
        due_in_days=7,
        labels=("model-card", "regulated"),
        model="card-fraud-scorer",
        moves=(("in_progress", ""), ("in_review", "")),
        comments=(("cora", "@priya the regulator asks for this in the annual model review."),),
    ),
    DemoItem(
        "credit-retrain",
        "RISK",
        "retrain",
        "Quarterly retrain of credit-limit-risk",
        "maria",
        "priya",
        priority="high",
        due_in_days=-15,
        labels=("retraining", "regulated"),
        model="credit-limit-risk",
        moves=(("in_progress", ""),),
        comments=(("priya", "Waiting for the bureau refresh. @cora the new attributes need a DPIA update."),),
    ),
    DemoItem(
        "ato-floor",
        "RISK",
        "verification",
        "Agree the AUC floor for account-takeover-detector",
        "sam",
        "eric",
        due_in_days=3,
        labels=("verification",),
        model="account-takeover-detector",
        comments=(("sam", "The 0.95 floor fails on v7 and v8. @eric is 0.93 enough for step-up at log-in?"),),
    ),
    DemoItem(
        "churn-fairness",
        "MKT",
        "task",
        "Fairness check across age bands for churn-predictor",
        "cora",
        "sara",
        due_in_days=21,
        labels=("fairness", "model-card"),
        model="churn-predictor",
        comments=(("sara", "I will add it to the verification script. @maria is the age band in profiles?"),),
    ),
    DemoItem(
        "clv-december",
        "MKT",
        "bug",
        "Customer lifetime value over-predicts for December sign-ups",
        "maria",
        "priya",
        priority="low",
        labels=("seasonality",),
        model="customer-lifetime-value",
        moves=(("in_progress", ""), ("cancelled", "Duplicate of the seasonality fix that shipped in v6.")),
    ),
    DemoItem(
        "negative-skus",
        "SUPPLY",
        "bug",
        "Negative forecasts for discontinued SKUs",
        "eric",
        "eric",
        due_in_days=-1,
        labels=("forecasting",),
        model="warehouse-replenishment-forecast",
        moves=(("in_progress", ""), ("in_review", "")),
    ),
    DemoItem(
        "eta-retrain",
        "SUPPLY",
        "retrain",
        "Retrain delivery-eta-estimator with the new courier scan events",
        "lena",
        "lena",
        due_in_days=-4,
        labels=("retraining",),
        model="delivery-eta-estimator",
        moves=(("in_progress", ""), ("in_review", ""), ("done", "")),
    ),
    DemoItem(
        "lead-time-policy",
        "SUPPLY",
        "task",
        "Monitoring policy for supplier-lead-time-predictor",
        "lena",
        None,
        priority="low",
        due_in_days=30,
        labels=("monitoring",),
        model="supplier-lead-time-predictor",
    ),
)
BLOCKS = (("promo-export", "online-retrain", "lena"),)  # (source blocks target, by whom)


# --- Monitoring -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoStats:
    model: str
    author: str
    count: int
    mean: float
    std: float
    segments: tuple[str, ...]
    behaviour: str = "stable"  # stable, drift (a segment drifts in the last week), spike (yesterday)


STATS = (
    DemoStats("churn-predictor", "sara", 240_000, 0.18, 0.06, ("new", "returning", "lapsed"), "drift"),
    DemoStats("homepage-recs-ranker", "eric", 1_900_000, 0.42, 0.11, ("web", "app"), "spike"),
    DemoStats("card-fraud-scorer", "eric", 3_100_000, 0.012, 0.03, ("card_present", "online")),
)
STATS_DAYS = 21
MITIGATED_MODEL = "churn-predictor"


# --- Seeding --------------------------------------------------------------------------------------------
@dataclass
class GovernanceSeedResult:
    created: dict[str, int]
    already_present: bool
    seconds: float = 0.0


@dataclass
class _Demo:
    today: date
    progress: Progress
    users: dict
    models: dict[str, RegisteredModel]
    datasets: dict[str, Dataset]
    teams: dict[str, Team]
    purposes: dict[str, Purpose] = field(default_factory=dict)
    requests: dict[str, AccessRequest] = field(default_factory=dict)
    items: dict[str, WorkItem] = field(default_factory=dict)


def demo_governance_seed(
    *, progress: Progress = progress_silent, now: datetime | None = None
) -> GovernanceSeedResult:
    """Add the governance demo to the catalog demo (which must exist), through the governance services.

    Safe to run again: when the demo purposes exist nothing is added. All in one transaction.
    """
    started = time.monotonic()
    if Purpose.objects.filter(name=MARKER_PURPOSE).exists():
        progress(
            f"Governance demo already present ({WorkItem.objects.count()} work items, "
            f"{AuditEvent.objects.count()} audit events); nothing added."
        )
        return GovernanceSeedResult(created={}, already_present=True)
    now = now or demo_now()
    before = _table_counts()
    with transaction.atomic():
        demo = _demo_context(timezone.localdate(now), progress)
        _data_access_seed(demo)
        _dod_seed(demo)
        runs = _verification_seed(demo)
        _promotions_seed(demo, runs)
        _work_items_seed(demo)
        _monitoring_seed(demo)
    created = {key: value - before[key] for key, value in _table_counts().items()}
    seconds = time.monotonic() - started
    progress(
        f"Governance done: {created['work_items']} work items, {created['promotions']} promotions, "
        f"{created['access_requests']} access requests, {created['verification_runs']} verification runs, "
        f"{created['alerts']} alerts, {created['audit_events']} audit events in {seconds:.1f}s."
    )
    return GovernanceSeedResult(created=created, already_present=False, seconds=seconds)


def _table_counts() -> dict[str, int]:
    return {
        "work_items": WorkItem.objects.count(),
        "promotions": PromotionRequest.objects.count(),
        "access_requests": AccessRequest.objects.count(),
        "verification_runs": VerificationRun.objects.count(),
        "alerts": Alert.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def _demo_context(today: date, progress: Progress) -> _Demo:
    users = {u.username: u for u in get_user_model().objects.all()}
    names = (
        {m for p in PURPOSES for m in p.models}
        | {s.model for s in SCRIPTS}
        | {p.model for p in PROMOTIONS}
        | {i.model for i in ITEMS if i.model}
        | set(CONTRACTS)
    )
    models = {m.name: m for m in RegisteredModel.objects.filter(name__in=names).select_related("domain")}
    missing = sorted(names - set(models))
    if missing:
        raise RuntimeError(f"The catalog demo is incomplete (missing {', '.join(missing)}); seed it first.")
    by_uri = {d.uri: d for d in Dataset.objects.filter(uri__in=[s.uri for s in DATASETS])}
    datasets = {s.slug: by_uri[s.uri] for s in DATASETS}
    teams = {t.name: t for t in Team.objects.all()}
    return _Demo(today=today, progress=progress, users=users, models=models, datasets=datasets, teams=teams)


def _refresh(model: RegisteredModel) -> RegisteredModel:
    return RegisteredModel.objects.select_related("domain", "latest_version").get(pk=model.pk)


def _alias(model: RegisteredModel, alias: str) -> ModelVersion:
    return ModelAlias.objects.select_related("version").get(model=model, alias=alias).version


# -- data access ------------------------------------------------------------------------------------------
def _data_access_seed(demo: _Demo) -> None:
    cora, users = demo.users["cora"], demo.users
    for spec in PURPOSES:
        demo.purposes[spec.name] = purpose_create(
            actor=cora,
            name=spec.name,
            description=spec.description,
            allowed_legal_bases=list(spec.legal_bases),
        )
    declared = 0
    for spec in PURPOSES:
        for name in spec.models:
            model = demo.models[name]
            owner = model.ownerships.filter(role="technical").select_related("user").order_by("id").first()
            model_purpose_set(actor=owner.user, model=model, purpose=demo.purposes[spec.name])
            declared += 1

    for spec in REQUESTS:
        start = demo.today - timedelta(days=spec.started_days_ago)
        request = access_request_create(
            actor=users[spec.requester],
            datasets=[(demo.datasets[slug], []) for slug in spec.datasets],
            purpose=demo.purposes[spec.purpose],
            legal_basis=spec.legal_basis,
            justification=spec.justification,
            start_date=start,
            expiry_date=start + timedelta(days=spec.valid_days),
            dpia_reference=spec.dpia,
            team=demo.teams[spec.team] if spec.team else None,
            submit=spec.outcome != "draft",
        )
        if spec.outcome in ("granted", "expiring", "expired", "revoked"):
            request = _approve_all(request, demo)
        elif spec.outcome == "in_review":
            request = _approve_owners(request, demo)
        elif spec.outcome == "rejected":
            step = steps_open_to_decide(request)[0]
            request = access_request_decide(
                actor=_decider(step, demo), request=request, approve=False, reason=spec.reason
            )
        elif spec.outcome == "withdrawn":
            request = access_request_withdraw(
                actor=users[spec.requester], request=request, reason=spec.reason
            )
        if spec.outcome == "revoked":
            request = grant_revoke(actor=cora, request=request, reason=spec.reason)
        demo.requests[spec.handle] = request

    # The expiry job as it will run the day after tomorrow: of the demo grants only the short one has ended
    # by then (any other grant ending tomorrow would end too: the job takes no filter).
    grants_expire(today=demo.today + timedelta(days=2))

    quarter = (demo.today.month - 1) // 3 + 1
    campaign = campaign_start(
        actor=cora,
        name=f"{demo.today.year} Q{quarter} re-certification",
        deadline=demo.today + timedelta(days=21),
    )
    items = {(i.grant_id, i.dataset_id): i for i in campaign.items.select_related("owner")}
    for handle, slug in ATTESTED_KEEPS:
        item = items[(demo.requests[handle].pk, demo.datasets[slug].pk)]
        campaign_attest(
            actor=item.owner or cora, item=item, keep=True, note="Still needed; reviewed the use."
        )

    states = Counter(AccessRequest.objects.values_list("status", flat=True))
    labels = dict(AccessStatus.choices)
    summary = ", ".join(f"{states[s]} {labels[s].lower()}" for s in AccessStatus.values if states[s])
    demo.progress(f"Purposes ..... {len(PURPOSES)} ({declared} models declare one)")
    demo.progress(f"Data access .. {len(REQUESTS)} requests: {summary}")
    demo.progress(
        f"Campaign ..... {campaign.name}: {len(ATTESTED_KEEPS)}/{len(items)} grants re-certified, "
        f"due {campaign.deadline:%Y-%m-%d}"
    )


def _decider(step, demo: _Demo):
    """The data owner an approval step waits for; compliance when there is none (or for its own step)."""
    if step.approver_id is None:
        return demo.users["cora"]
    return next(u for u in demo.users.values() if u.pk == step.approver_id)


def _approve_owners(request: AccessRequest, demo: _Demo) -> AccessRequest:
    while True:
        open_steps = [s for s in steps_open_to_decide(request) if s.kind == StepKind.OWNER]
        if not open_steps:
            return request
        request = access_request_decide(actor=_decider(open_steps[0], demo), request=request, approve=True)


def _approve_all(request: AccessRequest, demo: _Demo) -> AccessRequest:
    while request.status in OPEN_STATUSES:
        step = steps_open_to_decide(request)[0]
        request = access_request_decide(actor=_decider(step, demo), request=request, approve=True)
    return request


# -- definition of done -----------------------------------------------------------------------------------
def _owner(model: RegisteredModel):
    """The person who edits a model's settings in the demo: its technical owner (first owner)."""
    return model.ownerships.select_related("user").order_by("id").first().user


def _contracts_set(demo: _Demo) -> None:
    """The input/output contracts a models-as-code manifest would carry, set by each model's owner."""
    for name, (inputs, outputs) in CONTRACTS.items():
        contract = {
            "inputs": [{"name": n, "type": t, "required": True} for n, t in inputs],
            "outputs": [{"name": n, "type": t} for n, t in outputs],
        }
        model = demo.models[name]
        model_update(actor=_owner(model), model=model, contract=contract)


def _dod_seed(demo: _Demo) -> None:
    _contracts_set(demo)
    for name, engineer, note in SCALABILITY_REVIEWS:
        dod_attest(
            actor=demo.users[engineer], model=demo.models[name], item="scalability_reviewed", note=note
        )
    demo.progress(
        f"Definition of done: {len(CONTRACTS)} contracts, {len(SCALABILITY_REVIEWS)} scalability reviews"
    )


# -- verification -----------------------------------------------------------------------------------------
def _verification_seed(demo: _Demo) -> list[VerificationRun]:
    runs = []
    for spec in SCRIPTS:
        model = demo.models[spec.model]
        author = demo.users[spec.author]
        script = verification_script_save(
            actor=author,
            model=model,
            name=spec.name,
            source=spec.source,
            checks_description=spec.checks_description,
            timeout_seconds=spec.timeout_seconds,
        )
        versions = {
            _refresh(model).latest_version if w == "latest" else _alias(model, w) for w in spec.run_on
        }
        for version in sorted(versions, key=lambda v: v.sequence):
            for run in verification_queue(version=version, trigger="manual", actor=author, scripts=[script]):
                runs.append(verification_execute(run_id=run.pk))
    outcome = Counter(r.status for r in runs)
    demo.progress(
        f"Verification . {len(SCRIPTS)} scripts, {len(runs)} sandbox runs: "
        + ", ".join(f"{n} {RunStatus(s).label.lower()}" for s, n in sorted(outcome.items()))
    )
    return runs


# -- promotions -------------------------------------------------------------------------------------------
def _promotions_seed(demo: _Demo, runs: list[VerificationRun]) -> None:
    users = demo.users
    requested = []
    for spec in PROMOTIONS:
        model = _refresh(demo.models[spec.model])
        version = model.latest_version if spec.version == "latest" else _alias(model, "champion")
        promotion = promotion_request(
            actor=users[spec.requester],
            version=version,
            target="production",
            justification=spec.justification,
        )
        requested.append((spec, promotion))
    # A request queues fresh verification of the candidate; a worker would run it, the demo does it now.
    queued = VerificationRun.objects.filter(
        status=RunStatus.QUEUED, version__in=[p.version_id for _, p in requested]
    ).order_by("id")
    for run in queued:
        runs.append(verification_execute(run_id=run.pk))

    waivers = 0
    for spec, promotion in requested:
        decider = users.get(spec.decider)
        if spec.outcome == "waived":
            for gate in gates_evaluate(promotion=promotion):
                if gate.status == FAIL:
                    promotion_waive_gate(
                        actor=decider, promotion=promotion, gate=gate.gate, reason=spec.waiver
                    )
                    waivers += 1
        if spec.outcome in ("approved", "waived"):
            promotion = promotion_approve(actor=decider, promotion=promotion, comment=spec.comment)
            # What the worker's task does after the commit; the demo applies it at once (catalog only).
            promotion_apply(promotion_id=promotion.pk)
        elif spec.outcome == "rejected":
            promotion_reject(actor=decider, promotion=promotion, comment=spec.comment)
        elif spec.outcome == "withdrawn":
            promotion_withdraw(actor=users[spec.requester], promotion=promotion, reason=spec.comment)

    states = Counter(PromotionRequest.objects.values_list("status", flat=True))
    demo.progress(
        f"Promotions ... {len(PROMOTIONS)}: "
        + ", ".join(f"{states[s]} {PromotionStatus(s).label.lower()}" for s in PromotionStatus.values)
        + f"; {waivers} gate waived"
    )
    demo_models = RegisteredModel.objects.filter(name__in=[m.name for m in MODELS])
    reports = [dod_evaluate(model=m) for m in dod_queryset(demo_models)]
    complete = sum(r.complete for r in reports)
    poor = sum(r.score < 0.5 for r in reports)
    demo.progress(f"Definition of done: complete on {complete} models, under half done on {poor}")


# -- work items -------------------------------------------------------------------------------------------
def _work_items_seed(demo: _Demo) -> None:
    users = demo.users
    domains = {m.domain.key: m.domain for m in demo.models.values()}
    comments = 0
    for spec in ITEMS:
        reporter = users[spec.reporter]
        assignee = users[spec.assignee] if spec.assignee else None
        item = work_item_create(
            actor=reporter,
            domain=domains[spec.domain],
            type=spec.type,
            title=spec.title,
            description=spec.description,
            priority=spec.priority,
            assignee=assignee,
            due_date=demo.today + timedelta(days=spec.due_in_days) if spec.due_in_days is not None else None,
            labels=spec.labels,
            model=demo.models[spec.model] if spec.model else None,
            dataset=demo.datasets[spec.dataset] if spec.dataset else None,
        )
        for author, body in spec.comments:
            comment_add(actor=users[author], item=item, body=body)
            comments += 1
        for status, comment in spec.moves:
            item = work_item_transition(
                actor=assignee or reporter, item=item, to_status=status, comment=comment
            )
        demo.items[spec.handle] = item
    for source, target, actor in BLOCKS:
        work_item_link(
            actor=users[actor], source=demo.items[source], target=demo.items[target], kind="blocks"
        )
    # The revoked search grant opened an incident on search-query-ranker; it blocks the retrain.
    incident = WorkItem.objects.filter(
        model=demo.models["search-query-ranker"], type="incident", title__startswith="Training data access"
    ).first()
    if incident is not None:
        comment_add(
            actor=users["cora"],
            item=incident,
            body="Revoked after the audit of free-text search logs. @priya @eric retrain once redacted.",
        )
        work_item_link(
            actor=users["eric"], source=incident, target=demo.items["search-retrain"], kind="blocks"
        )
        comments += 1
    today = demo.today
    overdue = sum(
        1
        for i in demo.items.values()
        if i.due_date and i.due_date < today and i.status not in ("done", "cancelled")
    )
    demo.progress(
        f"Work items ... {len(ITEMS)} by hand ({overdue} overdue), {comments} comments, "
        f"{len(BLOCKS) + (incident is not None)} blocking links; "
        f"{WorkItem.objects.count()} in all with those opened by requests"
    )


# -- monitoring -------------------------------------------------------------------------------------------
def _monitoring_policy_set(model: RegisteredModel) -> MonitoringPolicy:
    """The owner asks for an incident whenever an alert fires (audited like any policy change)."""
    return monitoring_policy_set(actor=_owner(model), model=model, mitigations=[Mitigation.INCIDENT])


def _daily_stats(spec: DemoStats, day_index: int, rng: random.Random) -> dict:
    """One day's summary: weekly seasonality and noise around the baseline, plus the spec's behaviour."""
    weekday = 1.0 + 0.12 * ((day_index % 7) in (5, 6))
    mean = spec.mean + rng.gauss(0, 0.15 * spec.std)
    std = spec.std * rng.uniform(0.95, 1.08)
    segments = {s: round(spec.mean + rng.gauss(0, 0.2 * spec.std), 5) for s in spec.segments}
    last = STATS_DAYS - 1
    if spec.behaviour == "drift" and day_index > last - 7:
        # New members drift: their mean climbs to ~4.5 baseline std above the baseline over a week.
        drift = (day_index - (last - 7)) / 7 * 4.5 * spec.std
        segments[spec.segments[0]] = round(spec.mean + drift, 5)
        mean += drift / len(spec.segments)
    if spec.behaviour == "spike" and day_index == last - 1:
        std = spec.std * 3.1  # a newsletter sent everyone to the homepage at once
    return {
        "count": int(spec.count * weekday * rng.uniform(0.93, 1.07)),
        "mean": round(mean, 5),
        "std": round(std, 5),
        "segment_means": segments,
        "quantiles": {"p50": round(mean, 5), "p90": round(mean + 1.28 * std, 5)},
    }


def _monitoring_seed(demo: _Demo) -> None:
    users = demo.users
    _monitoring_policy_set(demo.models[MITIGATED_MODEL])
    posted, held_back = 0, []
    for spec in STATS:
        model = _refresh(demo.models[spec.model])
        production = _alias(model, "production")
        author = users[spec.author]
        prediction_stats_record(
            actor=author,
            model=model,
            day=production.created_at.date(),
            count=spec.count,
            mean=spec.mean,
            std=spec.std,
            segment_means={s: spec.mean for s in spec.segments},
            is_baseline=True,
            version=production,
        )
        rng = random.Random(f"modelhouse-demo:stats:{spec.model}")
        for index in range(STATS_DAYS):
            day = demo.today - timedelta(days=STATS_DAYS - 1 - index)
            stats = _daily_stats(spec, index, rng)
            if spec.behaviour == "spike" and index == STATS_DAYS - 1:
                held_back.append((model, author, day, production, stats))  # posted after the checks
                continue
            prediction_stats_record(actor=author, model=model, day=day, version=production, **stats)
            posted += 1

    counts = Counter()
    for condition in CHECKS:
        for key, value in monitoring_run(condition=condition).items():
            counts[key] += value

    # By hand: one alert acknowledged, one resolved once today's statistics were back to normal.
    stale = Alert.objects.filter(
        model=demo.models["store-demand-daily"], condition=AlertCondition.DATA_STALE, state=AlertState.OPEN
    ).first()
    if stale is not None:
        alert_acknowledge(actor=users["lena"], alert=stale)
    for model, author, day, production, stats in held_back:
        prediction_stats_record(actor=author, model=model, day=day, version=production, **stats)
        posted += 1
        spike = Alert.objects.filter(
            model=model, condition=AlertCondition.PREDICTION_VARIANCE, state=AlertState.OPEN
        ).first()
        if spike is not None:
            alert_resolve(
                actor=users["eric"],
                alert=spike,
                resolution="Yesterday's newsletter sent everyone to the homepage at once; today's spread is "
                "back to normal.",
            )
    states = Counter(Alert.objects.values_list("state", flat=True))
    mitigated = Alert.objects.filter(incident__isnull=False).count()
    demo.progress(
        f"Monitoring ... {posted} daily statistics + {len(STATS)} baselines on {len(STATS)} models; "
        f"{counts['raised']} alerts raised ("
        + ", ".join(f"{states[s]} {AlertState(s).label.lower()}" for s in AlertState.values)
        + f"), {mitigated} with an automatic incident"
    )
