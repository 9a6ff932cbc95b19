"""Catalog background jobs. Tasks take ids and call services; running one twice changes nothing more."""

from celery import shared_task

from .services import model_search_refresh


@shared_task(name="catalog.models_search_refresh", acks_late=True, max_retries=3, default_retry_delay=10)
def models_search_refresh(model_ids: list[int]) -> int:
    """Rebuild search documents, e.g. after a domain rename or an owner's name change."""
    return model_search_refresh(model_ids=model_ids)
