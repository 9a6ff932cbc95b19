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


_manifest_scripts: list[Callable[..., list[str]]] = []


def on_manifest_scripts(listener: Callable[..., list[str]]) -> None:
    if listener not in _manifest_scripts:
        _manifest_scripts.append(listener)


def manifest_scripts(*, model, scripts: list[dict]) -> list[str]:
    """A manifest names verification scripts for `model`: listeners store them and return problems."""
    problems: list[str] = []
    for listener in _manifest_scripts:
        problems.extend(listener(model=model, scripts=scripts))
    return problems
