"""Action routes, declared once: `<route><action>/` named `<prefix>-<action>`.

Pages and the API both expose state changes (approve, reject, resolve, ...) as one POST route per action under
the object's route. The API gives each action its own view (its own input, output and schema); a page's forms
post to the page's own view, told which form by the `action` argument, so a refused form re-renders the page
with its errors."""

from collections.abc import Iterable, Mapping

from django.urls import URLPattern, path
from django.views import View


def api_actions(route: str, prefix: str, views: Mapping[str, type[View]]) -> list[URLPattern]:
    """`<route><action>/` served by `views[action]`, named `<prefix>-<action>`."""
    return [
        path(f"{route}{action}/", view.as_view(), name=f"{prefix}-{action}") for action, view in views.items()
    ]


def form_actions(
    route: str,
    prefix: str,
    page: type[View],
    actions: Iterable[str],
    *,
    segments: Mapping[str, str] | None = None,
) -> list[URLPattern]:
    """`<route><segment>/` for each action, POST only, served by the `page` view with `action=<action>` and
    named `<prefix>-<action>`. The segment is the action unless `segments` names another (a collection such
    as comments/ that the form adds to)."""
    segments = segments or {}
    view = page.as_view(http_method_names=["post"])
    return [
        path(f"{route}{segments.get(action, action)}/", view, {"action": action}, name=f"{prefix}-{action}")
        for action in actions
    ]
