from .datasets import dataset_detail, dataset_list, dataset_usage
from .domains import domain_detail, domain_list
from .models import (
    MODEL_SORTS,
    model_detail,
    model_filter_options,
    model_list,
    model_list_load,
    model_retraining_timeline,
    model_versions,
)
from .registries import catalog_event_list, registry_detail, registry_list, sync_run_list
from .versions import (
    metric_history,
    metric_history_sampled,
    metric_values_across_versions,
    version_by_id,
    version_detail,
    version_for_lineage,
    version_lineage,
)

__all__ = [
    "catalog_event_list",
    "registry_detail",
    "registry_list",
    "sync_run_list",
    "MODEL_SORTS",
    "dataset_detail",
    "dataset_list",
    "dataset_usage",
    "domain_detail",
    "domain_list",
    "metric_history",
    "metric_history_sampled",
    "metric_values_across_versions",
    "model_detail",
    "model_filter_options",
    "model_list",
    "model_list_load",
    "model_retraining_timeline",
    "model_versions",
    "version_by_id",
    "version_detail",
    "version_for_lineage",
    "version_lineage",
]
