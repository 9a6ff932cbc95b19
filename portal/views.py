import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from .exceptions import DomainError
from .pagination import keyset_paginate, parse_page_size, querystring_with


@require_GET
@login_not_required
def health(request):
    """Liveness for load balancers: answers without login, touches the database once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- pages with forms -------------------------------------------------------------------------------------
ERROR_TITLES = {400: "That was not saved", 403: "You may not do that", 409: "That could not be done"}


def _label(field: str, labels: dict[str, str]) -> str:
    return labels.get(field, field.replace("_", " ").capitalize())


def error_messages(exc: ValidationError, labels: dict[str, str] | None = None) -> list[str]:
    """ValidationError -> sentences for the error banner ("Status: Select a valid choice...")."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    out = []
    for field, errors in exc.message_dict.items():
        out += [msg if field == "__all__" else f"{_label(field, labels or {})}: {msg}" for msg in errors]
    return out


def form_messages(form, labels: dict[str, str] | None = None) -> list[str]:
    out = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields and form.fields[field].label else None
        label = label or _label(field, labels or {})
        out += [msg if field == "__all__" else f"{label}: {msg}" for msg in errors]
    return out


class ActionPage(TemplateView):
    """A page that shows what cannot fail (get_context_data) and what depends on user input (get_page_data,
    which may raise ValidationError: the page then shows the first part, a banner and 400).

    Pages with forms list them in `actions` (name -> (form class, method name)); the forms post to
    <page>/<action>/. A POST runs the form and the method, which calls a service and redirects. When the
    service says no, the page is rendered again with the submitted form: 400 with field messages, 403 with
    the policy's reason, 409 with the conflict. A POST to the page itself answers 405.
    """

    actions: dict[str, tuple[type, str]] = {}
    field_labels: dict[str, str] = {}
    default_page_size = 25

    def get_page_data(self) -> dict:
        return {}

    def make_form(self, form_class, data):
        return form_class(data)

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        try:
            context.update(self.get_page_data())
        except ValidationError as exc:
            context["errors"] = error_messages(exc, self.field_labels)
            context["error_title"] = "We couldn't show this page as asked"
            return self.render_to_response(context, status=400)
        return self.render_to_response(context)

    def post(self, request, *args, **kwargs):
        action = kwargs.get("action", "")
        if not action:
            return HttpResponseNotAllowed(["GET", "HEAD", "OPTIONS"])
        if action not in self.actions:
            raise Http404("No such action.")
        form_class, method = self.actions[action]
        form = self.make_form(form_class, request.POST)
        status, refusal = 400, ""
        if form.is_valid():
            try:
                return getattr(self, method)(form)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except PermissionDenied as exc:
                status, refusal = 403, str(exc) or "You may not do that."
            except DomainError as exc:
                status, refusal = 409, exc.message
        # The submitted form goes in first, so get_context_data() keeps it (values and messages).
        context = self.get_context_data(**{**kwargs, f"{action}_form": form})
        context[f"{action}_form"] = form
        context["failed_action"] = action
        context["errors"] = [refusal] if refusal else form_messages(form, self.field_labels)
        context["error_title"] = ERROR_TITLES[status]
        # The page's own filters were fine when it was shown; a problem with them is not this action's.
        with contextlib.suppress(ValidationError):
            context.update(self.get_page_data())
        return self.render_to_response(context, status=status)

    def done(self, text: str, url: str):
        messages.success(self.request, text)
        return redirect(url)

    # -- lists ---------------------------------------------------------------------------------------------
    def page_size(self, default: int | None = None) -> int:
        return parse_page_size(self.request.GET.get("page_size"), default=default or self.default_page_size)

    def paginate(self, queryset, *, ordering, default_size: int | None = None) -> dict:
        params = self.request.GET
        page = keyset_paginate(
            queryset,
            ordering=ordering,
            cursor=params.get("cursor") or None,
            page_size=self.page_size(default_size),
        )
        pager = {
            "page": page,
            "next_url": querystring_with(params, cursor=page.next_cursor) if page.next_cursor else "",
            "previous_url": querystring_with(params, cursor=page.previous_cursor)
            if page.previous_cursor
            else "",
            "first_url": querystring_with(params, cursor=None) if params.get("cursor") else "",
        }
        return {"page": page, "pager": pager}

    def active_filters(self, fields) -> dict[str, str]:
        return {f: self.request.GET.get(f, "") for f in fields if self.request.GET.get(f, "")}
