"""Governance background jobs: take ids, call services, safe to run twice."""

from celery import shared_task

from catalog.registries.base import RegistryError
from catalog.tasks import backoff_seconds

from .services.promotions import promotion_apply

APPLY_MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="governance.promotion_apply",
    acks_late=True,
    max_retries=APPLY_MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def promotion_apply_task(self, promotion_id: int) -> str:
    try:
        promotion = promotion_apply(
            promotion_id=promotion_id, final_attempt=self.request.retries >= self.max_retries
        )
    except RegistryError as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc
    return promotion.apply_status


@shared_task(name="governance.grants_expire", acks_late=True, soft_time_limit=600, time_limit=900)
def grants_expire_task() -> list[int]:
    from .services.data_access import grants_expire

    return grants_expire()


@shared_task(name="governance.grants_remind", acks_late=True, soft_time_limit=600, time_limit=900)
def grants_remind_task() -> int:
    from .services.data_access import grants_remind

    return grants_remind()


@shared_task(name="governance.campaigns_close", acks_late=True, soft_time_limit=600, time_limit=900)
def campaigns_close_task() -> list[int]:
    from .services.data_access import campaigns_close_due

    return campaigns_close_due()


VERIFICATION_MAX_RETRIES = 2  # three attempts in all for a script that crashes


@shared_task(
    bind=True,
    name="governance.verification_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=VERIFICATION_MAX_RETRIES,
    soft_time_limit=1900,
    time_limit=2000,
)
def verification_run_task(self, run_id: int) -> str | None:
    from .services.verification import ScriptCrashed, verification_execute

    try:
        run = verification_execute(run_id=run_id, final_attempt=self.request.retries >= self.max_retries)
    except ScriptCrashed as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries) / 5) from exc
    return run.status if run else None


@shared_task(name="governance.verification_schedule", acks_late=True, soft_time_limit=600, time_limit=900)
def verification_schedule_task() -> int:
    from .services.verification import verification_queue_scheduled

    return verification_queue_scheduled()


@shared_task(name="governance.monitor", acks_late=True, soft_time_limit=900, time_limit=1200)
def monitor_task(condition: str) -> dict:
    """One monitoring check; django-celery-beat runs one entry per condition."""
    from .services.monitoring import monitoring_run

    return monitoring_run(condition=condition)


DELIVERY_MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="governance.delivery_send",
    acks_late=True,
    max_retries=DELIVERY_MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def delivery_send_task(self, delivery_id: int) -> str:
    from .services.monitoring import DeliveryFailed, delivery_send

    try:
        delivery = delivery_send(
            delivery_id=delivery_id, final_attempt=self.request.retries >= self.max_retries
        )
    except DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc
    return delivery.status
