from .datasets import dataset_create, dataset_update, dataset_upsert_by_uri
from .domains import domain_create, domain_update, team_create
from .models import model_create, model_update
from .search import model_search_refresh
from .versions import version_alias_set, version_create, version_datasets_link, version_metrics_log

__all__ = [
    "dataset_create",
    "dataset_update",
    "dataset_upsert_by_uri",
    "domain_create",
    "domain_update",
    "model_create",
    "model_search_refresh",
    "model_update",
    "team_create",
    "version_alias_set",
    "version_create",
    "version_datasets_link",
    "version_metrics_log",
]
