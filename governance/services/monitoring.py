"""Monitoring: checks that raise and resolve alerts, de-duplicated per model and condition, with
notifications (e-mail, signed webhooks) and automated mitigations chosen per model."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import math
import os
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import CatalogEvent, ModelAlias, ModelVersion, RegisteredModel, VersionMetric
from portal.exceptions import DomainError
from portal.roles import SYSTEM
from portal.security import FetchRefused, guarded_client, validate_fetch_url

from .. import policies
from ..models import (
    ACTIVE_STATES,
    Alert,
    AlertCondition,
    AlertState,
    ApplyStatus,
    Delivery,
    Mitigation,
    MonitoringPolicy,
    NotificationChannel,
    PredictionStats,
    PromotionRequest,
    Severity,
)
from .audit import audit_record

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass
class Finding:
    model: RegisteredModel
    condition: str
    firing: bool
    severity: str = Severity.WARNING
    summary: str = ""
    details: dict = field(default_factory=dict)


def policy_for(model: RegisteredModel) -> MonitoringPolicy:
    """The model's own policy, else its domain's default, else the built-in defaults."""
    own = getattr(model, "monitoring_policy", None) if hasattr(model, "monitoring_policy") else None
    if own is not None:
        return own
    return MonitoringPolicy.objects.filter(
        domain_id=model.domain_id, model__isnull=True
    ).first() or MonitoringPolicy(domain_id=model.domain_id)


def _owner(model: RegisteredModel):
    ownership = model.ownerships.select_related("user").order_by("role", "user__username").first()
    return ownership.user if ownership else None


# -- raising and resolving --------------------------------------------------------------------------------
def alert_raise(
    *, model: RegisteredModel, condition: str, severity: str, summary: str, details: dict | None = None
) -> tuple[Alert, bool]:
    """Open an alert, or refresh the active one for this model and condition. Returns (alert, is_new)."""
    now = timezone.now()
    for _ in range(2):  # a concurrent raiser may win the unique constraint: then we refresh theirs
        try:
            with transaction.atomic():
                alert = (
                    Alert.objects.select_for_update()
                    .filter(model=model, condition=condition, state__in=ACTIVE_STATES)
                    .first()
                )
                if alert is not None:
                    escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]
                    alert.last_seen, alert.occurrences = now, alert.occurrences + 1
                    alert.summary, alert.details = summary[:300], details or {}
                    if escalated:
                        alert.severity = severity
                    alert.save()
                    if escalated:
                        audit_record(
                            actor=SYSTEM,
                            action="alert.escalated",
                            target=alert,
                            target_label=f"{model.name}: {alert.get_condition_display()}",
                            after={"severity": severity},
                        )
                        _notify(alert, "escalated")
                    return alert, False
                alert = Alert.objects.create(
                    model=model,
                    condition=condition,
                    severity=severity,
                    summary=summary[:300],
                    details=details or {},
                    owner=_owner(model),
                    first_seen=now,
                    last_seen=now,
                )
                audit_record(
                    actor=SYSTEM,
                    action="alert.opened",
                    target=alert,
                    target_label=f"{model.name}: {alert.get_condition_display()}",
                    after={"severity": severity, "summary": alert.summary},
                )
                _mitigate(alert)
                _notify(alert, "opened")
                return alert, True
        except IntegrityError:
            continue
    raise RuntimeError("Could not record the alert.")


@transaction.atomic
def alert_clear(*, model: RegisteredModel, condition: str) -> Alert | None:
    """The condition no longer holds: resolve its active alert automatically."""
    alert = (
        Alert.objects.select_for_update()
        .filter(model=model, condition=condition, state__in=ACTIVE_STATES)
        .first()
    )
    if alert is None:
        return None
    return _resolve(alert, actor=SYSTEM, resolution="The condition cleared.")


def _resolve(alert: Alert, *, actor, resolution: str) -> Alert:
    before = alert.state
    alert.state, alert.resolved_at, alert.resolution = AlertState.RESOLVED, timezone.now(), resolution
    alert.save(update_fields=["state", "resolved_at", "resolution"])
    audit_record(
        actor=actor,
        action="alert.resolved",
        target=alert,
        target_label=f"{alert.model.name}: {alert.get_condition_display()}",
        before={"state": before},
        after={"state": AlertState.RESOLVED},
        reason=resolution,
    )
    _notify(alert, "resolved")
    return alert


@transaction.atomic
def alert_acknowledge(*, actor, alert: Alert) -> Alert:
    alert = Alert.objects.select_for_update().select_related("model").get(pk=alert.pk)
    policies.require(
        policies.can_handle_alert(actor, alert.model),
        "Only the model's owners and engineers acknowledge its alerts.",
    )
    if alert.state != AlertState.OPEN:
        raise DomainError(
            f"Only an open alert can be acknowledged; this one is {alert.get_state_display().lower()}."
        )
    alert.state, alert.acknowledged_by, alert.acknowledged_at = AlertState.ACKNOWLEDGED, actor, timezone.now()
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
    audit_record(
        actor=actor,
        action="alert.acknowledged",
        target=alert,
        target_label=f"{alert.model.name}: {alert.get_condition_display()}",
        before={"state": AlertState.OPEN},
        after={"state": AlertState.ACKNOWLEDGED},
    )
    return alert


@transaction.atomic
def alert_resolve(*, actor, alert: Alert, resolution: str) -> Alert:
    alert = Alert.objects.select_for_update().select_related("model").get(pk=alert.pk)
    policies.require(
        policies.can_handle_alert(actor, alert.model),
        "Only the model's owners and engineers resolve its alerts.",
    )
    if alert.state == AlertState.RESOLVED:
        raise DomainError("This alert is already resolved.")
    if len((resolution or "").strip()) < 10:
        raise ValidationError({"resolution": "Say what was done (10+ characters)."})
    return _resolve(alert, actor=actor, resolution=resolution.strip())


# -- mitigations ------------------------------------------------------------------------------------------
def _mitigate(alert: Alert) -> None:
    chosen = set(policy_for(alert.model).mitigations or [])
    done = []
    if Mitigation.INCIDENT in chosen:
        from .work_items import work_item_create

        owner = alert.owner
        alert.incident = work_item_create(
            actor=owner or SYSTEM,
            domain=alert.model.domain,
            type="incident",
            priority="critical" if alert.severity == Severity.CRITICAL else "high",
            title=f"{alert.get_condition_display()}: {alert.model.name}"[:200],
            model=alert.model,
            assignee=owner,
            description=alert.summary,
            _system=True,
        )
        done.append({"mitigation": Mitigation.INCIDENT, "work_item": alert.incident.key})
    if Mitigation.BLOCK_PROMOTIONS in chosen and alert.severity == Severity.CRITICAL:
        done.append({"mitigation": Mitigation.BLOCK_PROMOTIONS})
    if Mitigation.ROLLBACK in chosen and alert.severity == Severity.CRITICAL and alert.owner is not None:
        from .promotions import promotion_rollback

        try:
            rollback = promotion_rollback(
                actor=alert.owner,
                model=alert.model,
                target="production",
                reason=f"Automatic rollback: {alert.summary}",
                automatic=True,
            )
            done.append(
                {
                    "mitigation": Mitigation.ROLLBACK,
                    "promotion": rollback.pk,
                    "version": rollback.version.version,
                }
            )
        except ValidationError as exc:
            done.append({"mitigation": Mitigation.ROLLBACK, "skipped": " ".join(exc.messages)})
    if done:
        alert.mitigations = done
        alert.save(update_fields=["mitigations", "incident"])
        audit_record(
            actor=SYSTEM,
            action="alert.mitigated",
            target=alert,
            target_label=f"{alert.model.name}: {alert.get_condition_display()}",
            after={"done": done},
        )


def promotions_blocked(model: RegisteredModel) -> Alert | None:
    """A critical active alert blocks promotions of a model whose policy says so."""
    if Mitigation.BLOCK_PROMOTIONS not in (policy_for(model).mitigations or []):
        return None
    return Alert.objects.filter(model=model, state__in=ACTIVE_STATES, severity=Severity.CRITICAL).first()


# -- notifications ----------------------------------------------------------------------------------------
def _notify(alert: Alert, event: str) -> None:
    channels = NotificationChannel.objects.filter(is_enabled=True).filter(
        Q(domain__isnull=True) | Q(domain_id=alert.model.domain_id)
    )
    wanted = [c for c in channels if SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[c.min_severity]]
    deliveries = Delivery.objects.bulk_create([Delivery(alert=alert, channel=c, event=event) for c in wanted])
    if deliveries:
        from ..tasks import delivery_send_task

        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: [delivery_send_task.delay(pk) for pk in ids])


def alert_payload(alert: Alert, event: str) -> dict:
    return {
        "event": event,
        "alert": {
            "id": alert.pk,
            "model": alert.model.name,
            "condition": alert.condition,
            "severity": alert.severity,
            "state": alert.state,
            "summary": alert.summary,
            "details": alert.details,
            "first_seen": alert.first_seen.isoformat(),
            "last_seen": alert.last_seen.isoformat(),
        },
    }


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryFailed(Exception):
    pass


def delivery_send(*, delivery_id: int, final_attempt: bool = True) -> Delivery:
    """Send one notification. Raises DeliveryFailed to be retried; marks it failed on the last attempt."""
    import httpx

    delivery = Delivery.objects.select_related("alert", "alert__model", "channel").get(pk=delivery_id)
    if delivery.status == "sent":
        return delivery
    Delivery.objects.filter(pk=delivery.pk).update(attempts=delivery.attempts + 1)
    channel, alert = delivery.channel, delivery.alert
    try:
        if channel.kind == NotificationChannel.Kind.EMAIL:
            send_mail(
                subject=f"[{alert.get_severity_display()}] {alert.model.name}: "
                f"{alert.get_condition_display()}"
                f" ({delivery.event})",
                message=alert.summary,
                from_email=None,
                recipient_list=[a.strip() for a in channel.target.split(",") if a.strip()],
            )
        else:
            body = json.dumps(alert_payload(alert, delivery.event), sort_keys=True).encode()
            headers = {"Content-Type": "application/json", "X-Modelhouse-Event": delivery.event}
            secret = os.environ.get(channel.secret_env, "") if channel.secret_env else ""
            if secret:
                headers["X-Modelhouse-Signature"] = webhook_signature(secret, body)
            # Checked against the address actually connected to (no loopback/private/metadata addresses
            # unless MODELHOUSE_FETCH_ALLOWED_HOSTS allows the host); no redirects followed.
            validate_fetch_url(channel.target)
            with guarded_client(timeout=10) as client:
                response = client.post(channel.target, content=body, headers=headers)
            if response.status_code >= 300:
                raise DeliveryFailed(f"{channel.target} answered {response.status_code}.")
    except (ValidationError, FetchRefused) as exc:
        # Refused, not failed: retrying cannot help.
        message = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        Delivery.objects.filter(pk=delivery.pk).update(
            last_error=f"Refused: {message}"[:2000], status="failed"
        )
        return Delivery.objects.get(pk=delivery.pk)
    except (DeliveryFailed, httpx.HTTPError, OSError) as exc:
        Delivery.objects.filter(pk=delivery.pk).update(
            last_error=str(exc)[:2000], status="pending" if not final_attempt else "failed"
        )
        if not final_attempt:
            raise DeliveryFailed(str(exc)) from exc
        return Delivery.objects.get(pk=delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", sent_at=timezone.now(), last_error="")
    return Delivery.objects.get(pk=delivery.pk)


# -- prediction statistics ---------------------------------------------------------------------------------
@transaction.atomic
def prediction_stats_record(
    *,
    actor,
    model: RegisteredModel,
    day: datetime.date,
    count: int,
    mean: float,
    std: float,
    quantiles: dict | None = None,
    segment_means: dict | None = None,
    is_baseline: bool = False,
    version: ModelVersion | None = None,
) -> PredictionStats:
    """Store a serving system's daily summary (or the training baseline); posting a day again replaces it."""
    from catalog import policies as catalog_policies

    policies.require(
        catalog_policies.can_edit_model(actor, model) or policies.can_retry_apply(actor),
        "Only the model's owners and engineers post prediction statistics.",
    )
    errors = {}
    for name, value in (("mean", mean), ("std", std)):
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            errors[name] = "A finite number."
    if not errors and std < 0:
        errors["std"] = "Cannot be negative."
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        errors["count"] = "A whole number >= 0."
    for name, mapping in (("quantiles", quantiles or {}), ("segment_means", segment_means or {})):
        if (
            not isinstance(mapping, dict)
            or len(mapping) > 200
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in mapping.values()
            )
        ):
            errors[name] = "An object of up to 200 names to finite numbers."
    if not is_baseline and day > timezone.localdate():
        errors["day"] = "Statistics cannot be posted for a future day."
    if errors:
        raise ValidationError(errors)
    lookup = (
        {"model": model, "is_baseline": True}
        if is_baseline
        else {"model": model, "day": day, "is_baseline": False}
    )
    stats, _ = PredictionStats.objects.update_or_create(
        **lookup,
        defaults={
            "day": day,
            "count": count,
            "mean": float(mean),
            "std": float(std),
            "quantiles": quantiles or {},
            "segment_means": segment_means or {},
            "version": version,
        },
    )
    return stats


# -- checks -----------------------------------------------------------------------------------------------
def _production_models():
    return RegisteredModel.objects.filter(lifecycle="production").select_related("domain", "latest_version")


def check_retraining_overdue() -> list[Finding]:
    now = timezone.now()
    findings = []
    for model in (
        RegisteredModel.objects.filter(retrain_every_days__isnull=False)
        .exclude(lifecycle__in=("deprecated", "archived"))
        .select_related("domain")
    ):
        overdue_days = model.retrain_overdue_days(now)
        late = overdue_days is not None
        severity = Severity.CRITICAL if late and overdue_days > model.retrain_every_days else Severity.WARNING
        findings.append(
            Finding(
                model,
                AlertCondition.RETRAINING_OVERDUE,
                late,
                severity,
                f"Retraining is {overdue_days or 0} day(s) overdue (every {model.retrain_every_days} days).",
                {"next_retrain_due": model.next_retrain_due.isoformat() if late else None},
            )
        )
    return findings


def check_data_stale() -> list[Finding]:
    now = timezone.now()
    findings = []
    for model in _production_models().prefetch_related("latest_version__dataset_links__dataset"):
        limit = datetime.timedelta(hours=policy_for(model).max_data_age_hours)
        links = model.latest_version.dataset_links.all() if model.latest_version else []
        stale = sorted(
            {
                ln.dataset.name
                for ln in links
                if ln.role == "training"
                and ln.dataset.last_updated_at
                and now - ln.dataset.last_updated_at > limit
            }
        )
        findings.append(
            Finding(
                model,
                AlertCondition.DATA_STALE,
                bool(stale),
                Severity.WARNING,
                f"Upstream data older than {limit.total_seconds() / 3600:.0f} h: {', '.join(stale)}.",
                {"datasets": stale},
            )
        )
    return findings


def check_retraining_variance() -> list[Finding]:
    findings = []
    for model in (
        RegisteredModel.objects.exclude(primary_metric="")
        .filter(version_count__gte=2)
        .select_related("domain")
    ):
        versions = list(
            ModelVersion.objects.filter(model=model)
            .exclude(status="removed")
            .order_by("-sequence", "-id")[:2]
        )
        values = dict(
            VersionMetric.objects.filter(version__in=versions, key=model.primary_metric).values_list(
                "version_id", "value"
            )
        )
        if len(versions) < 2 or versions[0].pk not in values or versions[1].pk not in values:
            continue
        new, old = values[versions[0].pk], values[versions[1].pk]
        change = abs(new - old) / abs(old) if old else abs(new - old)
        tolerance = policy_for(model).retraining_variance_tolerance
        findings.append(
            Finding(
                model,
                AlertCondition.RETRAINING_VARIANCE,
                change > tolerance,
                Severity.WARNING,
                f"{model.primary_metric} moved {change:.1%} from v{versions[1].version} ({old:.4g}) to "
                f"v{versions[0].version} ({new:.4g}); tolerance {tolerance:.0%}.",
                {"from": old, "to": new, "relative_change": change, "tolerance": tolerance},
            )
        )
    return findings


def check_predictions() -> list[Finding]:
    """Bias (mean far from the baseline) and variance (spread far above it), from the latest posted day."""
    findings = []
    baselines = {s.model_id: s for s in PredictionStats.objects.filter(is_baseline=True)}
    for model in _production_models().filter(pk__in=baselines):
        base = baselines[model.pk]
        latest = PredictionStats.objects.filter(model=model, is_baseline=False).order_by("-day").first()
        if latest is None:
            continue
        policy = policy_for(model)
        spread = base.std or 1e-12
        shift = abs(latest.mean - base.mean) / spread
        segments = {
            name: round(abs(value - base.segment_means.get(name, base.mean)) / spread, 2)
            for name, value in latest.segment_means.items()
        }
        worst = [n for n, v in segments.items() if v > policy.bias_tolerance_std]
        biased = shift > policy.bias_tolerance_std or bool(worst)
        findings.append(
            Finding(
                model,
                AlertCondition.PREDICTION_BIAS,
                biased,
                Severity.CRITICAL,
                f"Prediction mean {latest.mean:.4g} on {latest.day} is {shift:.1f} baseline std "
                f"from {base.mean:.4g}" + (f"; segments off: {', '.join(worst)}" if worst else "") + ".",
                {
                    "day": latest.day.isoformat(),
                    "mean": latest.mean,
                    "baseline_mean": base.mean,
                    "shift_std": shift,
                    "segments_shift_std": segments,
                },
            )
        )
        ratio = latest.std / spread
        findings.append(
            Finding(
                model,
                AlertCondition.PREDICTION_VARIANCE,
                ratio > policy.variance_ratio_max,
                Severity.WARNING,
                f"Prediction std {latest.std:.4g} on {latest.day} is {ratio:.1f}x "
                f"the baseline {base.std:.4g}.",
                {"day": latest.day.isoformat(), "std": latest.std, "baseline_std": base.std, "ratio": ratio},
            )
        )
    return findings


def check_verification() -> list[Finding]:
    from .verification import latest_runs

    findings = []
    aliases = ModelAlias.objects.filter(alias="production", model__verification_scripts__is_active=True)
    for alias in aliases.select_related("model", "model__domain", "version").distinct():
        results = latest_runs(version=alias.version)
        failing = [f"{s.name} ({r.status})" for s, r in results if r is not None and r.status != "passed"]
        findings.append(
            Finding(
                alias.model,
                AlertCondition.VERIFICATION_FAILING,
                bool(failing),
                Severity.CRITICAL,
                f"Production v{alias.version.version} fails verification: {', '.join(failing)}.",
                {"version": alias.version.version, "failing": failing},
            )
        )
    return findings


def check_unapproved_alias() -> list[Finding]:
    """The production alias points at a version no applied promotion put there (moved in the registry)."""
    findings = []
    for alias in ModelAlias.objects.filter(alias="production").select_related(
        "model", "model__domain", "version"
    ):
        approved = PromotionRequest.objects.filter(
            model=alias.model, version=alias.version, target="production", apply_status=ApplyStatus.APPLIED
        ).exists()
        event = (
            CatalogEvent.objects.filter(model=alias.model, alias="production", version=alias.version)
            .order_by("-occurred_at")
            .first()
        )
        unapproved = event is not None and not approved
        findings.append(
            Finding(
                alias.model,
                AlertCondition.UNAPPROVED_ALIAS,
                unapproved,
                Severity.CRITICAL,
                f"'production' points at v{alias.version.version}, set in {event.source or 'the registry'} "
                "without an approved promotion."
                if unapproved
                else "",
                {"version": alias.version.version, "event": event.pk if event else None},
            )
        )
    return findings


def check_data_access() -> list[Finding]:
    from .data_access import version_data_uses

    findings = []
    today = timezone.localdate()
    for alias in ModelAlias.objects.filter(alias="production").select_related(
        "model", "model__domain", "version"
    ):
        uses = [
            u for u in version_data_uses(version=alias.version, at=today) if u.needs_grant and not u.covered
        ]
        findings.append(
            Finding(
                alias.model,
                AlertCondition.DATA_ACCESS_LAPSED,
                bool(uses),
                Severity.CRITICAL,
                " ".join(f"{u.dataset.name}: {u.reason}" for u in uses),
                {"datasets": [u.dataset.uri for u in uses]},
            )
        )
    return findings


CHECKS = {
    AlertCondition.RETRAINING_OVERDUE: check_retraining_overdue,
    AlertCondition.DATA_STALE: check_data_stale,
    AlertCondition.RETRAINING_VARIANCE: check_retraining_variance,
    AlertCondition.PREDICTION_BIAS: check_predictions,
    AlertCondition.VERIFICATION_FAILING: check_verification,
    AlertCondition.UNAPPROVED_ALIAS: check_unapproved_alias,
    AlertCondition.DATA_ACCESS_LAPSED: check_data_access,
}


def monitoring_run(*, condition: str) -> dict:
    """Run one check (prediction bias also covers variance): raise what fires, resolve what cleared."""
    counts = {"raised": 0, "refreshed": 0, "resolved": 0}
    for finding in CHECKS[condition]():
        if finding.firing:
            _, is_new = alert_raise(
                model=finding.model,
                condition=finding.condition,
                severity=finding.severity,
                summary=finding.summary,
                details=finding.details,
            )
            counts["raised" if is_new else "refreshed"] += 1
        elif alert_clear(model=finding.model, condition=finding.condition):
            counts["resolved"] += 1
    return counts


@transaction.atomic
def monitoring_policy_set(*, actor, model: RegisteredModel, **fields) -> MonitoringPolicy:
    """Thresholds and mitigations for one model (owners and engineers). Audited."""
    from catalog import policies as catalog_policies

    policies.require(
        catalog_policies.can_edit_model(actor, model) or policies.can_retry_apply(actor),
        "Only the model's owners and engineers set its monitoring policy.",
    )
    allowed = {
        "max_data_age_hours",
        "retraining_variance_tolerance",
        "bias_tolerance_std",
        "variance_ratio_max",
        "mitigations",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    bad = set(fields.get("mitigations", [])) - set(Mitigation.values)
    if bad:
        raise ValidationError({"mitigations": f"Choose from {', '.join(Mitigation.values)}."})
    policy, _ = MonitoringPolicy.objects.get_or_create(model=model)
    before = {k: getattr(policy, k) for k in fields}
    for key, value in fields.items():
        setattr(policy, key, value)
    policy.full_clean()
    policy.save()
    audit_record(actor=actor, action="monitoring.policy_set", target=model, before=before, after=fields)
    return policy
