from .catalog import (
    DatasetFactory,
    DomainFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RegistrySourceFactory,
    TeamFactory,
    UserFactory,
    add_metric,
    link_dataset,
)

__all__ = [
    "DatasetFactory",
    "DomainFactory",
    "ModelVersionFactory",
    "RegisteredModelFactory",
    "RegistrySourceFactory",
    "TeamFactory",
    "UserFactory",
    "add_metric",
    "link_dataset",
]
