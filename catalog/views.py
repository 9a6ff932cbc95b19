"""Catalog pages. Views read the request, call selectors and chart/lineage builders, and render.

No ORM here: every row a template shows was loaded by a selector (see tests/catalog/test_view_queries.py).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.views.generic import TemplateView

from portal.pagination import keyset_paginate, parse_page_size, querystring_with

from . import charts, selectors
from .lineage import lineage_svg
from .models import Lifecycle, PiiCategory, Sensitivity
from .models.datasets import SPECIAL_CATEGORIES
from .selectors.datasets import DATASET_ORDERING
from .selectors.models import DEFAULT_MODEL_SORT, MODEL_SORTS

LIST_PAGE_SIZE = 25
VERSIONS_PAGE_SIZE = 25
DOMAIN_MODELS_PAGE_SIZE = 50
PAGE_SIZE_CHOICES = (10, 25, 50, 100)
MODEL_FILTER_FIELDS = ("q", "domain", "owner", "team", "lifecycle", "tag", "registry")
DATASET_FILTER_FIELDS = ("q", "domain", "sensitivity", "has_pii")
# (header, sort key the header links to first); the other direction is offered when MODEL_SORTS has it.
MODEL_SORT_COLUMNS = (
    ("Model", "name"),
    ("Domain", "domain"),
    ("Lifecycle", "lifecycle"),
    ("Versions", "-versions"),
    ("Updated", "-updated"),
)
FIELD_LABELS = {
    "q": "Search",
    "page_size": "Page size",
    "cursor": "Page link",
    "versions_cursor": "Versions page link",
    "has_pii": "Contains personal data",
    "registry": "Registry",
    "sort": "Sort",
    "version": "Version",
}
STALE_AFTER_DAYS = 30


def error_messages(exc: ValidationError) -> list[str]:
    """ValidationError -> sentences for the error banner ("Domain: Select a valid choice...")."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    messages = []
    for field, errors in exc.message_dict.items():
        label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
        messages += [msg if field == "__all__" else f"{label}: {msg}" for msg in errors]
    return messages


class SelectorErrorMixin:
    """Bad input found by a selector or the paginator renders the same page with HTTP 400 and a banner.

    Subclasses put what cannot fail (the object, filter options) in get_context_data() and what depends
    on user input (filtered, paginated rows) in get_page_data(); on ValidationError the page shows the
    first part and the messages, so the user can correct the filter right there.
    """

    def get_page_data(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        try:
            context.update(self.get_page_data())
        except ValidationError as exc:
            context["errors"] = error_messages(exc)
            return self.render_to_response(context, status=400)
        return self.render_to_response(context)


class CatalogPage(SelectorErrorMixin, TemplateView):
    def page_size(self, default: int, param: str = "page_size") -> int:
        return parse_page_size(self.request.GET.get(param), default=default)

    def paginate(
        self, queryset, *, ordering, default_size: int, cursor_param: str = "cursor", size_param="page_size"
    ):
        page = keyset_paginate(
            queryset,
            ordering=ordering,
            cursor=self.request.GET.get(cursor_param) or None,
            page_size=self.page_size(default_size, size_param),
        )
        params = self.request.GET
        pager = {
            "page": page,
            "next_url": querystring_with(params, **{cursor_param: page.next_cursor})
            if page.next_cursor
            else "",
            "previous_url": querystring_with(params, **{cursor_param: page.previous_cursor})
            if page.previous_cursor
            else "",
            "first_url": querystring_with(params, **{cursor_param: None})
            if self.request.GET.get(cursor_param)
            else "",
        }
        return {"page": page, "pager": pager}

    def page_size_choices(self) -> list[int]:
        """The usual sizes, plus the one in the URL when it is a valid other size (so the select shows it)."""
        raw = self.request.GET.get("page_size", "")
        extra = {int(raw)} if raw.isdigit() and 1 <= int(raw) <= settings.MODELHOUSE_PAGE_SIZE_MAX else set()
        return sorted(set(PAGE_SIZE_CHOICES) | extra)

    def active_filters(self, fields) -> dict[str, str]:
        return {f: self.request.GET.get(f, "") for f in fields if self.request.GET.get(f, "")}


def _sort_columns(active: str) -> list[dict]:
    columns = []
    for label, default in MODEL_SORT_COLUMNS:
        base = default.lstrip("-")
        opposite = base if default.startswith("-") else f"-{base}"
        link = opposite if active == default and opposite in MODEL_SORTS else default
        state = "ascending" if active == base else "descending" if active == f"-{base}" else ""
        columns.append({"label": label, "key": link, "state": state})
    return columns


class ModelListView(CatalogPage):
    template_name = "catalog/model_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sort = self.request.GET.get("sort") or DEFAULT_MODEL_SORT
        filters = self.active_filters(MODEL_FILTER_FIELDS)
        context.update(
            options=selectors.model_filter_options(),
            lifecycles=Lifecycle.choices,
            sorts=MODEL_SORTS,
            sort=sort,
            sort_label=MODEL_SORTS[sort].label if sort in MODEL_SORTS else "",
            sort_columns=_sort_columns(sort),
            filters=filters,
            page_size_choices=self.page_size_choices(),
            page_size_param=self.request.GET.get("page_size", ""),
        )
        return context

    def get_page_data(self) -> dict:
        sort = self.request.GET.get("sort") or DEFAULT_MODEL_SORT
        if sort not in MODEL_SORTS:
            raise ValidationError({"sort": f"Unknown sort {sort!r}; choose one of {', '.join(MODEL_SORTS)}."})
        models = selectors.model_list(user=self.request.user, filters=self.request.GET)
        data = self.paginate(models, ordering=MODEL_SORTS[sort].ordering, default_size=LIST_PAGE_SIZE)
        data["total"] = models.count()
        return data


class ModelDetailView(CatalogPage):
    template_name = "catalog/model_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.model = selectors.model_detail(user=self.request.user, name=kwargs["name"])
        timeline = selectors.model_retraining_timeline(model=model)
        now = timezone.now()
        metric_charts = charts.metric_across_versions_figures(
            selectors.metric_values_across_versions(model=model),
            primary_metric=model.primary_metric,
            goal=model.primary_metric_goal,
        )
        for i, item in enumerate(metric_charts, start=1):
            item["element_id"] = f"metric-chart-{i}"
        context.update(
            model=model,
            owners=list(model.ownerships.all()),
            aliases=list(model.aliases.all()),
            timeline=timeline,
            version_choices=[row["version"] for row in reversed(timeline)],
            metric_charts=metric_charts,
            timeline_chart=charts.retraining_timeline_figure(
                timeline, next_due=model.next_retrain_due, now=now, every_days=model.retrain_every_days
            )
            if timeline
            else None,
            overdue_days=(now - model.next_retrain_due).days
            if model.next_retrain_due and model.next_retrain_due < now
            else None,
            card_fields=[
                ("Intended use", model.intended_use),
                ("Limitations", model.limitations),
                ("Ethical considerations", model.ethical_considerations),
            ],
        )
        return context

    def get_page_data(self) -> dict:
        model = self.model  # loaded by get_context_data(), which the mixin calls first
        data = {
            "versions": self.paginate(
                selectors.model_versions(model=model),
                ordering=("-sequence", "-id"),
                default_size=VERSIONS_PAGE_SIZE,
                cursor_param="versions_cursor",
                size_param="versions_page_size",
            )
        }
        chosen = self.request.GET.get("version", "")
        label = chosen or (model.latest_version.version if model.latest_version else "")
        if label:
            try:
                version = selectors.version_detail(
                    user=self.request.user, model_name=model.name, version=label
                )
            except Http404:
                raise ValidationError({"version": f"{model.name} has no version {label!r}."}) from None
            data["lineage_version"] = version
            data["lineage_svg"] = lineage_svg(selectors.version_lineage(version=version))
        return data


class VersionDetailView(CatalogPage):
    template_name = "catalog/version_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = selectors.version_detail(
            user=self.request.user, model_name=kwargs["name"], version=kwargs["version"]
        )
        model = version.model
        primary = model.primary_metric
        metrics = sorted(version.metrics.all(), key=lambda m: (m.key != primary, m.key))
        history = charts.metric_history_figures(
            selectors.metric_history(version=version), primary_metric=primary
        )
        # A single logged value has no history to draw; the metrics table shows it.
        history_charts = [c for c in history if c["points"] > 1]
        for i, item in enumerate(history_charts, start=1):
            item["element_id"] = f"history-chart-{i}"
        context.update(
            model=model,
            version=version,
            metrics=metrics,
            hyperparameters=[
                (
                    key,
                    value
                    if isinstance(value, str | int | float | bool) or value is None
                    else json.dumps(value),
                )
                for key, value in sorted(version.hyperparameters.items())
            ]
            if isinstance(version.hyperparameters, dict)
            else [],
            dataset_links=list(version.dataset_links.all()),
            children=list(version.children.all()),
            aliases=[a.alias for a in version.aliases.all()],
            history_charts=history_charts,
            single_value_metrics=[c["key"] for c in history if c["points"] == 1],
            lineage_svg=lineage_svg(selectors.version_lineage(version=version)),
        )
        return context


class DatasetListView(CatalogPage):
    template_name = "catalog/dataset_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            domains=selectors.domain_list(),
            sensitivities=Sensitivity.choices,
            filters=self.active_filters(DATASET_FILTER_FIELDS),
            page_size_choices=self.page_size_choices(),
            page_size_param=self.request.GET.get("page_size", ""),
        )
        return context

    def get_page_data(self) -> dict:
        datasets = selectors.dataset_list(user=self.request.user, filters=self.request.GET)
        data = self.paginate(datasets, ordering=DATASET_ORDERING, default_size=LIST_PAGE_SIZE)
        data["total"] = datasets.count()
        return data


class DatasetDetailView(CatalogPage):
    template_name = "catalog/dataset_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        dataset = selectors.dataset_detail(user=self.request.user, pk=kwargs["pk"])
        age = (timezone.now() - dataset.last_updated_at).days if dataset.last_updated_at else None
        context.update(
            dataset=dataset,
            usage=selectors.dataset_usage(dataset=dataset),
            pii_labels=dataset.get_pii_labels(),
            special_category_labels=[
                label
                for value, label in PiiCategory.choices
                if value in dataset.pii_categories and value in SPECIAL_CATEGORIES
            ],
            age_days=age,
            is_stale=age is not None and age > STALE_AFTER_DAYS,
            stale_after_days=STALE_AFTER_DAYS,
        )
        return context


def _lifecycle_counts(domain) -> list[dict]:
    return [
        {"value": value, "label": label, "count": getattr(domain, f"{value}_count", 0)}
        for value, label in Lifecycle.choices
    ]


class DomainListView(CatalogPage):
    template_name = "catalog/domain_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["domains"] = [{"domain": d, "counts": _lifecycle_counts(d)} for d in selectors.domain_list()]
        return context


class DomainDetailView(CatalogPage):
    template_name = "catalog/domain_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        domain = selectors.domain_detail(slug=kwargs["slug"])
        context.update(
            domain=domain,
            counts=_lifecycle_counts(domain),
            lifecycle=self.request.GET.get("lifecycle", ""),
            lifecycle_chart=charts.domain_lifecycle_figure(domain) if domain.model_count else None,
        )
        return context

    def get_page_data(self) -> dict:
        filters = {"domain": self.kwargs["slug"], "lifecycle": self.request.GET.get("lifecycle", "")}
        models = selectors.model_list(user=self.request.user, filters=filters)
        return self.paginate(models, ordering=("name", "id"), default_size=DOMAIN_MODELS_PAGE_SIZE)
