"""Registry connectors: each reads one kind of registry into plain records (base.Snapshot).

Connectors never touch the database; catalog.services.registry_sync applies a snapshot in one transaction.
"""

from .base import RegistryError, Snapshot, connector_for

__all__ = ["RegistryError", "Snapshot", "connector_for"]
