"""`seed_demo --scale N --governance`: governance rows in proportion to the synthetic models, so the
dashboards have something to aggregate at scale. Written in bulk (COPY on PostgreSQL), not through the
services: no audit events, notifications or tasks, like catalog.demo.bulk for the catalog.

Per 1,000 scale models: 50 work items, 100 promotions (most decided in the last year, a few pending,
some write-backs failed), 20 alerts (open, acknowledged, resolved), 10 access requests with datasets.
"""

import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from catalog.demo.bulk import SCALE_PREFIX, CopyWriter, RowWriter
from catalog.demo.seed import Progress, progress_silent
from catalog.models import Dataset, Domain, RegisteredModel

from .models import (
    AccessRequest,
    AccessRequestDataset,
    AccessStatus,
    Alert,
    AlertCondition,
    AlertState,
    ApplyStatus,
    LegalBasis,
    Priority,
    PromotionRequest,
    PromotionStatus,
    Purpose,
    Severity,
    WorkItem,
    WorkItemCounter,
    WorkItemType,
)
from .models.work_items import PRIORITY_RANK

WORK_ITEMS_PER_MODEL = 0.05
PROMOTIONS_PER_MODEL = 0.10
ALERTS_PER_MODEL = 0.02
ACCESS_REQUESTS_PER_MODEL = 0.01
SCIENTISTS = ("sara", "sam", "priya")
ENGINEERS = ("eric", "lena")
OPEN_STATUSES = ("open", "in_progress", "in_review", "blocked")
CLOSED_STATUSES = ("done", "cancelled")


def demo_scale_governance(*, progress: Progress = progress_silent, seed: int = 7) -> dict[str, int]:
    """Adds work items, promotions, alerts and access requests for the scale models that have none yet.
    Returns how many of each were written."""
    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    users = {u.username: u.pk for u in get_user_model().objects.filter(username__in=SCIENTISTS + ENGINEERS)}
    if len(users) < len(SCIENTISTS + ENGINEERS):
        return {}
    scale = RegisteredModel.objects.filter(name__startswith=SCALE_PREFIX)
    already = PromotionRequest.objects.filter(model__in=scale.values("id")).exists()
    if already:
        progress("Governance ... scale rows present, nothing added")
        return {}
    models = list(scale.order_by("id").values_list("id", "latest_version_id", "domain_id"))
    if not models:
        return {}
    writer = CopyWriter if connection.vendor == "postgresql" else RowWriter
    with transaction.atomic():
        counts = {
            "work_items": _work_items(writer, rng, models, users, now),
            "promotions": _promotions(writer, rng, models, users, now),
            "alerts": _alerts(writer, rng, models, users, now),
            "access_requests": _access_requests(writer, rng, models, users, now),
        }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (WorkItem, PromotionRequest, Alert, AccessRequest, AccessRequestDataset):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    progress(
        "Governance ... "
        + ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in counts.items())
        + f" in {time.monotonic() - started:.1f}s"
    )
    return counts


def _sample(rng: random.Random, models: list, share: float) -> list:
    return rng.sample(models, max(1, int(len(models) * share)))


def _work_items(writer, rng, models, users, now) -> int:
    chosen = _sample(rng, models, WORK_ITEMS_PER_MODEL)
    domains = {d.pk: d.key for d in Domain.objects.all()}
    counters = {}
    for domain_id in domains:
        counter, _ = WorkItemCounter.objects.select_for_update().get_or_create(domain_id=domain_id)
        counters[domain_id] = counter
    types = [t for t in WorkItemType.values if t not in (WorkItemType.PROMOTION, WorkItemType.DATA_ACCESS)]
    rows = []
    today = now.date()
    for model_id, version_id, domain_id in chosen:
        counter = counters[domain_id]
        counter.last_number += 1
        created = now - timedelta(days=rng.uniform(0, 365))
        closed = rng.random() < 0.6
        status = rng.choice(CLOSED_STATUSES if closed else OPEN_STATUSES)
        priority = rng.choice(Priority.values)
        kind = rng.choice(types)
        rows.append(
            (
                f"{domains[domain_id]}-{counter.last_number}",
                domain_id,
                counter.last_number,
                kind,
                f"{kind.replace('_', ' ').capitalize()} for model #{model_id}",
                "Generated for the scale benchmark.",
                status,
                priority,
                PRIORITY_RANK[priority],
                users[rng.choice(SCIENTISTS)],
                users[rng.choice(ENGINEERS)],
                today + timedelta(days=rng.randint(-30, 30)) if rng.random() < 0.7 else None,
                model_id,
                version_id,
                created,
                created + timedelta(days=rng.uniform(0, 5)) if closed else None,
            )
        )
    for counter in counters.values():
        counter.save(update_fields=["last_number"])
    fields = (
        "key",
        "domain_id",
        "number",
        "type",
        "title",
        "description",
        "status",
        "priority",
        "priority_rank",
        "reporter_id",
        "assignee_id",
        "due_date",
        "model_id",
        "version_id",
        "created_at",
        "resolved_at",
    )
    return writer(WorkItem, fields).write(rows)


def _promotions(writer, rng, models, users, now) -> int:
    rows = []
    for model_id, version_id, _ in _sample(rng, models, PROMOTIONS_PER_MODEL):
        requested = now - timedelta(days=rng.uniform(0, 365))
        draw = rng.random()
        status = (
            PromotionStatus.PENDING
            if draw < 0.02
            else PromotionStatus.REJECTED
            if draw < 0.2
            else PromotionStatus.APPROVED
        )
        decided = status != PromotionStatus.PENDING
        decided_at = min(requested + timedelta(hours=rng.uniform(1, 72)), now) if decided else None
        apply_status = ApplyStatus.NOT_STARTED
        if status == PromotionStatus.APPROVED:
            apply_status = ApplyStatus.FAILED if rng.random() < 0.01 else ApplyStatus.APPLIED
        rows.append(
            (
                model_id,
                version_id,
                rng.choice(("production", "staging", "champion")),
                "Better on the holdout set; retrained on fresh data.",
                users[rng.choice(SCIENTISTS)],
                requested,
                status,
                users[rng.choice(ENGINEERS)] if decided else None,
                decided_at,
                "Gates pass." if decided else "",
                apply_status,
                "Registry answered 503." if apply_status == ApplyStatus.FAILED else "",
                decided_at if apply_status == ApplyStatus.APPLIED else None,
            )
        )
    fields = (
        "model_id",
        "version_id",
        "target",
        "justification",
        "requested_by_id",
        "requested_at",
        "status",
        "decided_by_id",
        "decided_at",
        "decision_comment",
        "apply_status",
        "apply_error",
        "applied_at",
    )
    return writer(PromotionRequest, fields).write(rows)


def _alerts(writer, rng, models, users, now) -> int:
    rows = []
    for model_id, _, _ in _sample(rng, models, ALERTS_PER_MODEL):  # one per model: never two active alike
        first = now - timedelta(days=rng.uniform(0, 90))
        draw = rng.random()
        state = (
            AlertState.OPEN if draw < 0.5 else AlertState.ACKNOWLEDGED if draw < 0.7 else AlertState.RESOLVED
        )
        condition = rng.choice(AlertCondition.values)
        rows.append(
            (
                model_id,
                condition,
                rng.choice(Severity.values),
                state,
                f"{AlertCondition(condition).label} (scale benchmark)",
                users[rng.choice(SCIENTISTS)],
                first,
                first + timedelta(days=rng.uniform(0, 3)),
                rng.randint(1, 20),
                users[rng.choice(ENGINEERS)] if state != AlertState.OPEN else None,
                first + timedelta(hours=2) if state != AlertState.OPEN else None,
                first + timedelta(days=4) if state == AlertState.RESOLVED else None,
            )
        )
    fields = (
        "model_id",
        "condition",
        "severity",
        "state",
        "summary",
        "owner_id",
        "first_seen",
        "last_seen",
        "occurrences",
        "acknowledged_by_id",
        "acknowledged_at",
        "resolved_at",
    )
    return writer(Alert, fields).write(rows)


def _access_requests(writer, rng, models, users, now) -> int:
    purposes = list(Purpose.objects.values_list("id", "allowed_legal_bases"))
    datasets = list(Dataset.objects.values_list("id", flat=True))
    if not purposes or not datasets:
        return 0
    count = max(1, int(len(models) * ACCESS_REQUESTS_PER_MODEL))
    statuses = (
        [AccessStatus.SUBMITTED] * 2
        + [AccessStatus.IN_REVIEW] * 2
        + [AccessStatus.APPROVED] * 4
        + [AccessStatus.REJECTED, AccessStatus.EXPIRED]
    )
    rows = []
    today = now.date()
    for _ in range(count):
        purpose_id, bases = rng.choice(purposes)
        status = rng.choice(statuses)
        created = now - timedelta(days=rng.uniform(0, 200))
        start = created.date()
        expiry = (
            today + timedelta(days=rng.randint(1, 300))
            if status != AccessStatus.EXPIRED
            else today - timedelta(days=rng.randint(1, 30))
        )
        rows.append(
            (
                users[rng.choice(SCIENTISTS)],
                purpose_id,
                rng.choice(bases or [LegalBasis.LEGITIMATE_INTERESTS.value]),
                "Training data for a scale-benchmark model.",
                start,
                expiry,
                status,
                created,
                created + timedelta(hours=1),
                created + timedelta(days=2)
                if status not in (AccessStatus.SUBMITTED, AccessStatus.IN_REVIEW)
                else None,
            )
        )
    fields = (
        "requester_id",
        "purpose_id",
        "legal_basis",
        "justification",
        "start_date",
        "expiry_date",
        "status",
        "created_at",
        "submitted_at",
        "decided_at",
    )
    first_id = (AccessRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    written = writer(AccessRequest, fields).write(rows)
    ids = list(AccessRequest.objects.filter(id__gte=first_id).order_by("id").values_list("id", flat=True))
    entries = []
    for request_id in ids:
        for dataset_id in rng.sample(datasets, min(len(datasets), rng.randint(1, 2))):
            entries.append((request_id, dataset_id))
    writer(AccessRequestDataset, ("request_id", "dataset_id")).write(entries)
    return written
