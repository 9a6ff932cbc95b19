"""Explicit extension points: other apps register listeners here in AppConfig.ready(), so the catalog
never imports them (governance depends on catalog, not the other way round)."""

from collections.abc import Callable

_versions_created: list[Callable[[list[int]], None]] = []


def on_versions_created(listener: Callable[[list[int]], None]) -> None:
    if listener not in _versions_created:
        _versions_created.append(listener)


def versions_created(version_ids: list[int]) -> None:
    """Called after the transaction that created registry versions commits."""
    for listener in _versions_created:
        listener(version_ids)
