from .datasets import Dataset, PiiCategory, Sensitivity
from .organisation import Domain, Team
from .registered_models import Lifecycle, MetricGoal, ModelOwner, OwnerRole, RegisteredModel, Tag
from .registry import (
    CatalogEvent,
    CatalogEventKind,
    RegistryAuth,
    RegistryKind,
    RegistrySource,
    SyncRun,
    SyncStatus,
)
from .versions import (
    DatasetRole,
    MetricPoint,
    ModelAlias,
    ModelVersion,
    TrainingReason,
    VersionDataset,
    VersionMetric,
    VersionStatus,
)

__all__ = [
    "CatalogEvent",
    "CatalogEventKind",
    "RegistryAuth",
    "SyncRun",
    "SyncStatus",
    "Dataset",
    "DatasetRole",
    "Domain",
    "Lifecycle",
    "MetricGoal",
    "MetricPoint",
    "ModelAlias",
    "ModelOwner",
    "ModelVersion",
    "OwnerRole",
    "PiiCategory",
    "RegisteredModel",
    "RegistryKind",
    "RegistrySource",
    "Sensitivity",
    "Tag",
    "Team",
    "TrainingReason",
    "VersionDataset",
    "VersionMetric",
    "VersionStatus",
]
