"""Catalog pages. Views read the request, call selectors and chart/lineage builders, and render.

No ORM here: every row a template shows was loaded by a selector (see tests/catalog/test_view_queries.py).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import TemplateView

from portal.filter_bar import BoundFilterBar, Choice, FilterBar, Search, page_size_choice, sort_choice
from portal.fragments import FragmentMixin, FragmentSlot
from portal.pagination import keyset_paginate, parse_page_size, querystring_with
from portal.reversing import url_maker

from . import charts, policies, registry_charts, selectors
from .forms import RegistrySourceForm
from .lineage import lineage_svg
from .models import CatalogEventKind, Lifecycle, PiiCategory, RegistryKind, Sensitivity, SyncStatus
from .models.datasets import SPECIAL_CATEGORIES
from .selectors.datasets import DATASET_ORDERING
from .selectors.models import DEFAULT_MODEL_SORT, MODEL_SORTS
from .selectors.registries import SYNC_RUN_ORDERING, sync_run_recent
from .services import registries as registry_services

LIST_PAGE_SIZE = 25
MODEL_COUNT_LIMIT = 1_000  # the catalog counts matches up to this many
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
            filter_bar=self.filter_bar(selectors.model_filter_options()),
            sort_label=MODEL_SORTS[sort].label if sort in MODEL_SORTS else "",
            sort_columns=_sort_columns(sort),
            filters=filters,
        )
        return context

    def filter_bar(self, options: dict) -> BoundFilterBar:
        return FilterBar(
            label="Filter models",
            action=reverse("catalog:model-list"),
            fields=[
                Search(placeholder="Name, description, owner, tag…"),
                Choice("domain", "Domain", "All domains", [(d.slug, d.name) for d in options["domains"]]),
                Choice("owner", "Owner", "Anyone", [(u.username, u.display_name) for u in options["owners"]]),
                Choice("team", "Team", "All teams", [(t.slug, t.name) for t in options["teams"]]),
                Choice("lifecycle", "Lifecycle", "Any stage", Lifecycle.choices),
                Choice("tag", "Tag", "Any tag", options["tags"]),
                Choice("registry", "Registry", "Any registry", options["registries"]),
            ],
            settings=[
                sort_choice([(key, s.label) for key, s in MODEL_SORTS.items()], default=DEFAULT_MODEL_SORT),
                page_size_choice(self.page_size_choices(), default=LIST_PAGE_SIZE),
            ],
        ).bind(self.request.GET)

    def get_page_data(self) -> dict:
        sort = self.request.GET.get("sort") or DEFAULT_MODEL_SORT
        if sort not in MODEL_SORTS:
            raise ValidationError({"sort": f"Unknown sort {sort!r}; choose one of {', '.join(MODEL_SORTS)}."})
        models = selectors.model_list(user=self.request.user, filters=self.request.GET)
        data = self.paginate(models, ordering=MODEL_SORTS[sort].ordering, default_size=LIST_PAGE_SIZE)
        page = data["page"]
        if page.next_cursor or self.request.GET.get("cursor"):
            # More than this page matches: counted after the first paint (ModelCountView). A prefix search
            # matching 20k models spends longer counting them than showing the page.
            data["count_url"] = reverse("catalog:model-count") + querystring_with(
                self.request.GET, cursor=None, sort=None, page_size=None
            )
        data["shown"] = len(page.items)
        data["rows"] = model_list_rows(page.items)
        return data


class ModelCountView(View):
    """How many models match the catalog's filters, up to MODEL_COUNT_LIMIT ("1000+"): a bare part that
    static/js/fragments.js puts in the catalog's heading after its first paint. Invalid filters (the page
    itself explains them) answer 400 with no number."""

    def get(self, request):
        try:
            counted = selectors.model_count(user=request.user, filters=request.GET, limit=MODEL_COUNT_LIMIT)
        except ValidationError:
            return HttpResponse('<strong title="Fix the filters to count the models">?</strong>', status=400)
        text = f"{MODEL_COUNT_LIMIT:,}+" if counted > MODEL_COUNT_LIMIT else f"{counted:,}"
        return HttpResponse(f"<strong>{text}</strong>")


def model_list_rows(models) -> list[dict]:
    """What each catalog row shows, worked out once in Python rather than by includes, filters and {% url %}
    per row (the template engine's per-row cost dominated the page): links, tags with their filter links,
    owners, the primary metric's value and whether retraining is overdue. Loads the rows' tags, owners and
    metric (selectors.model_list_load) for the models given: one page of selectors.model_list."""
    selectors.model_list_load(models)
    model_url = url_maker("catalog:model-detail", "name")
    domain_url = url_maker("catalog:domain-detail", "slug")
    version_url = url_maker("catalog:version-detail", "name", "version")
    tag_url = reverse("catalog:model-list") + "?tag="
    now = timezone.now()
    rows = []
    for m in models:
        latest = m.latest_version
        rows.append(
            {
                "model": m,
                "url": model_url(m.name),
                "domain_url": domain_url(m.domain.slug),
                "version_url": version_url(m.name, latest.version) if latest is not None else "",
                "tags": [(name, tag_url + quote(name, safe="/")) for name in m.list_tags],
                "owners": [(o.display_name, o.role_label) for o in m.list_owners],
                "metric": m.list_metric,
                "overdue": m.is_retrain_overdue(now),
            }
        )
    return rows


def _version_options(labels: list[str]) -> str:
    """The lineage picker's <option>s, newest first. Built here: a template loop over a 1,000-version
    model's labels was the largest part of its rendering. The standard library's escape() is Django's
    without a SafeString per label (half the time of this loop)."""
    return mark_safe(  # noqa: S308 - every label is escaped
        "".join(f'<option value="{e}">' for label in labels for e in (html.escape(label),))
    )


@dataclass(frozen=True)
class ModelPanel:
    """A part of the model page loaded after its first paint (ModelPanelView, static/js/fragments.js)."""

    title: str
    template: str
    params: tuple[str, ...] = ()  # the model page's query parameters the part reads
    # Governance (its definition of done) and the registry part read the sources, owners and input
    # datasets: model_detail(). The others need the model alone: model_core().
    full_model: bool = False


# In page order; the key is the URL segment and the id of the part's <section> (links point at #<key>).
MODEL_PANELS = {
    "registry": ModelPanel("Registry & contract", "catalog/_model_registry.html", full_model=True),
    "governance": ModelPanel(
        "Governance", "governance/_model_governance.html", ("production_on",), full_model=True
    ),
    "monitoring": ModelPanel("Monitoring", "governance/_model_monitoring.html"),
    "metrics": ModelPanel("Offline metrics across versions", "catalog/panels/model_metrics.html"),
    "lineage": ModelPanel("Lineage", "catalog/panels/model_lineage.html", ("version", "versions_cursor")),
    "retraining": ModelPanel("Retraining timeline", "catalog/panels/model_retraining.html"),
}


def model_panel_slots(model, query) -> dict[str, FragmentSlot]:
    """Where each panel goes on the model page: its id, title and URL with the page's parameters it reads
    (the lineage's version, the governance's date), so a form inside a panel, which submits to the model
    page, reaches its panel."""
    slots = {}
    for key, panel in MODEL_PANELS.items():
        url = reverse("catalog:model-panel", args=[model.name, key])
        params = {p: query[p] for p in panel.params if query.get(p)}
        slots[key] = FragmentSlot(key, panel.title, f"{url}?{urlencode(params)}" if params else url)
    return slots


def model_crumbs(model) -> list[tuple[str, str]]:
    """The way to a model's page: the catalog, its domain, the model (the pages of its parts start so)."""
    return [
        ("Catalog", reverse("catalog:model-list")),
        (model.domain.name, reverse("catalog:domain-detail", args=[model.domain.slug])),
        (model.name, reverse("catalog:model-detail", args=[model.name])),
    ]


class ModelDetailView(CatalogPage):
    """The model's first paint: what it is, its card, owners, registry and the versions table. The charts,
    lineage, governance and monitoring come after it, each from ModelPanelView: on a model with a thousand
    versions they cost several times the rest of the page."""

    template_name = "catalog/model_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.model = selectors.model_overview(user=self.request.user, name=kwargs["name"])
        now = timezone.now()
        context.update(
            model=model,
            owners=list(model.ownerships.all()),
            aliases=list(model.aliases.all()),
            slots=model_panel_slots(model, self.request.GET),
            overdue_days=model.retrain_overdue_days(now),
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
                selectors.model_versions_table(model=model),
                ordering=("-sequence", "-id"),
                default_size=VERSIONS_PAGE_SIZE,
                cursor_param="versions_cursor",
                size_param="versions_page_size",
            )
        }
        data["version_rows"] = self.version_rows(
            selectors.model_versions_table_load(data["versions"]["page"].items, model=model)
        )
        return data

    def version_rows(self, versions) -> list[dict]:
        """The versions table's rows with their links made here: {% url %} per row and link was the largest
        part of rendering the table. Versions of a model mostly share their datasets: one reverse() each."""
        version_url = url_maker("catalog:version-detail", "name", "version")
        dataset_urls = {
            pk: reverse("catalog:dataset-detail", args=[pk])
            for pk in {link.dataset_id for v in versions for link in v.row_datasets}
        }
        name = self.model.name
        return [
            {
                "version": v,
                "url": version_url(name, v.version),
                "parent_url": version_url(name, v.parent_label) if v.parent_label is not None else "",
                "datasets": [(link, dataset_urls[link.dataset_id]) for link in v.row_datasets],
            }
            for v in versions
        ]


class ModelPanelView(FragmentMixin, CatalogPage):
    """One of MODEL_PANELS: bare for the model page's fragments.js, or on a page of its own."""

    def get_fragment_template(self) -> str:
        return self.panel.template

    def get_context_data(self, **kwargs):
        self.panel = MODEL_PANELS.get(kwargs["panel"])
        if self.panel is None:
            raise Http404("No such part of a model page.")
        context = super().get_context_data(**kwargs)
        load = selectors.model_detail if self.panel.full_model else selectors.model_core
        model = self.model = load(user=self.request.user, name=kwargs["name"])
        context.update(
            model=model,
            fragment_title=self.panel.title,
            fragment_crumbs=model_crumbs(model),
            overdue_days=model.retrain_overdue_days(timezone.now()),
        )
        # What the part shows whatever the query says; get_page_data() what depends on it (and may fail).
        context.update(getattr(self, f"{kwargs['panel']}_context", dict)())
        return context

    def get_page_data(self) -> dict:
        return getattr(self, f"{self.kwargs['panel']}_data", dict)()

    def registry_data(self) -> dict:
        return model_registry_context(self.model)

    def metrics_data(self) -> dict:
        model = self.model
        metric_charts = selectors.metric_values_derived(
            model=model,
            name="metric_across_versions_figures",
            params=(model.primary_metric, model.primary_metric_goal),
            derive=lambda values: charts.metric_across_versions_figures(
                values, primary_metric=model.primary_metric, goal=model.primary_metric_goal
            ),
        )
        for i, item in enumerate(metric_charts, start=1):
            item["element_id"] = f"metric-chart-{i}"
        return {"metric_charts": metric_charts}

    def retraining_data(self) -> dict:
        model = self.model
        timeline = selectors.model_retraining_timeline(model=model)
        return {
            "timeline_chart": charts.retraining_timeline_figure(
                timeline,
                next_due=model.next_retrain_due,
                now=timezone.now(),
                every_days=model.retrain_every_days,
            )
            if timeline
            else None
        }

    def lineage_context(self) -> dict:
        """The picker, shown also when the version asked for does not exist (lineage_data's error)."""
        labels = selectors.model_version_labels(model=self.model)
        return {
            "lineage_label": self.lineage_label(),
            "version_options": _version_options(labels),
            "lineage_choice_count": len(labels),
        }

    def lineage_label(self) -> str:
        """The version whose lineage is drawn: the one asked for, else the latest ("" when none)."""
        latest = self.model.latest_version
        return self.request.GET.get("version", "") or (latest.version if latest else "")

    def lineage_data(self) -> dict:
        model = self.model
        label = self.lineage_label()
        if not label:
            return {}
        try:
            version = selectors.version_for_lineage(user=self.request.user, model=model, version=label)
        except Http404:
            raise ValidationError({"version": f"{model.name} has no version {label!r}."}) from None
        return {
            "lineage_version": version,
            "lineage_svg": lineage_svg(selectors.version_lineage(version=version)),
        }


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
            history_slot=FragmentSlot(
                "history",
                "Metric history",
                reverse("catalog:version-history", args=[model.name, version.version]),
            ),
            lineage_svg=lineage_svg(selectors.version_lineage(version=version)),
        )
        return context


class VersionHistoryView(FragmentMixin, CatalogPage):
    """The version page's metric histories, loaded after its first paint: a 20,000-point curve is read,
    downsampled (or found in the cache under its fingerprint) and sent as up to 2,000 points per metric."""

    def get_fragment_template(self) -> str:
        return "catalog/panels/version_history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = selectors.version_core(
            user=self.request.user, model_name=kwargs["name"], version=kwargs["version"]
        )
        model = version.model
        sampled = selectors.metric_history_sampled(version=version)
        history = charts.metric_history_figures(
            sampled.points, primary_metric=model.primary_metric, totals=sampled.totals
        )
        # A single logged value has no history to draw; the metrics table shows it.
        history_charts = [c for c in history if c["points"] > 1]
        for i, item in enumerate(history_charts, start=1):
            item["element_id"] = f"history-chart-{i}"
        context.update(
            model=model,
            version=version,
            history_charts=history_charts,
            single_value_metrics=[c["key"] for c in history if c["points"] == 1],
            fragment_title=f"Metric history of v{version.version}",
            fragment_crumbs=[
                *model_crumbs(model),
                (
                    f"v{version.version}",
                    reverse("catalog:version-detail", args=[model.name, version.version]),
                ),
            ],
        )
        return context


class DatasetListView(CatalogPage):
    template_name = "catalog/dataset_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            filter_bar=FilterBar(
                label="Filter datasets",
                action=reverse("catalog:dataset-list"),
                modifier="datasets",
                fields=[
                    Search(placeholder="Name or URI…"),
                    Choice(
                        "domain", "Domain", "All domains", [(d.slug, d.name) for d in selectors.domain_list()]
                    ),
                    Choice("sensitivity", "Sensitivity", "Any", Sensitivity.choices),
                    Choice(
                        "has_pii",
                        "Personal data",
                        "Either",
                        [("true", "Contains PII"), ("false", "No PII")],
                        id="f-pii",
                    ),
                ],
                settings=[page_size_choice(self.page_size_choices(), default=LIST_PAGE_SIZE)],
            ).bind(self.request.GET),
            filters=self.active_filters(DATASET_FILTER_FIELDS),
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
        data = self.paginate(models, ordering=("name", "id"), default_size=DOMAIN_MODELS_PAGE_SIZE)
        data["rows"] = model_list_rows(data["page"].items)
        return data


# --- Registries -----------------------------------------------------------------------------------------

REGISTRY_PAGE_SIZE = 50
SYNC_RUNS_PAGE_SIZE = 25
SYNC_CHART_RUNS = 30
REGISTRY_EVENTS = 20
MODEL_EVENTS = 10


def duration_label(seconds: float | None) -> str:
    """ "40 ms", "4.2 s", "42 s", "5 min", "2 h 5 min": short, for tables."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def event_summary(event) -> str:
    """What a registry sync saw happen to a model, in a few words ("@champion moved v2 → v3")."""
    details = event.details if isinstance(event.details, dict) else {}
    label = details.get("version") or (event.version.version if event.version else "?")
    alias = f"@{event.alias}"
    if event.kind == CatalogEventKind.ALIAS_SET:
        return f"{alias} set to v{label}"
    if event.kind == CatalogEventKind.ALIAS_MOVED:
        return f"{alias} moved v{details.get('from_version', '?')} → v{details.get('to_version', label)}"
    if event.kind == CatalogEventKind.ALIAS_REMOVED:
        return f"{alias} removed (it pointed at v{label})"
    if event.kind == CatalogEventKind.VERSION_REMOVED:
        return f"v{label} removed from the registry"
    if event.kind == CatalogEventKind.MODEL_REMOVED:
        return "model removed from the registry"
    return event.get_kind_display()


def event_rows(events) -> list[dict]:
    return [{"event": e, "summary": event_summary(e)} for e in events]


def _columns(value) -> list[dict]:
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def model_registry_context(model) -> dict:
    """What templates/catalog/_model_registry.html shows: one query (the events) on top of model_detail()."""
    contract = model.contract if isinstance(model.contract, dict) else {}
    tags = model.registry_tags if isinstance(model.registry_tags, dict) else {}
    return {
        "registry_tags": sorted(tags.items()),
        "contract_inputs": _columns(contract.get("inputs")),
        "contract_outputs": _columns(contract.get("outputs")),
        "input_datasets": list(model.input_datasets.all()),
        "registry_events": event_rows(selectors.catalog_event_list(model=model, limit=MODEL_EVENTS)),
    }


class RegistryListView(CatalogPage):
    template_name = "catalog/registry_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = policies.can_manage_registries(self.request.user)
        return context

    def get_page_data(self) -> dict:
        sources = selectors.registry_list(user=self.request.user)
        data = self.paginate(sources, ordering=("name", "id"), default_size=REGISTRY_PAGE_SIZE)
        data["rows"] = [{"source": s, "poll": duration_label(s.poll_seconds)} for s in data["page"].items]
        return data


class RegistryDetailView(CatalogPage):
    template_name = "catalog/registry_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        source = self.source = selectors.registry_detail(user=user, name=kwargs["name"])
        recent = sync_run_recent(source=source, limit=SYNC_CHART_RUNS)
        context.update(
            source=source,
            poll=duration_label(source.poll_seconds),
            is_manifests=source.kind == RegistryKind.MANIFESTS,
            can_sync=policies.can_trigger_sync(user),
            can_manage=policies.can_manage_registries(user),
            sync_chart=registry_charts.sync_runs_figure(recent) if len(recent) > 1 else None,
            events=event_rows(selectors.catalog_event_list(source=source, limit=REGISTRY_EVENTS)),
        )
        return context

    def get_page_data(self) -> dict:
        data = self.paginate(
            selectors.sync_run_list(source=self.source),
            ordering=SYNC_RUN_ORDERING,
            default_size=SYNC_RUNS_PAGE_SIZE,
        )
        # The newest finished run's error and problems are what a team looks for: shown unfolded.
        newest_finished = None
        if not self.request.GET.get("cursor"):
            newest_finished = next((r for r in data["page"].items if r.status != SyncStatus.RUNNING), None)
        data["runs"] = [
            {
                "run": run,
                "duration": duration_label(run.duration_seconds),
                "problems": run.problems if isinstance(run.problems, list) else [],
                "open": run is newest_finished,
            }
            for run in data["page"].items
        ]
        return data


class RegistrySyncView(View):
    """POST: "Sync now" (or a full sync) for engineers and admins; the service refuses anyone else (403)."""

    http_method_names = ["post"]

    def post(self, request, name):
        source = selectors.registry_detail(user=request.user, name=name)
        full = request.POST.get("full", "") in ("1", "true", "on")
        run = registry_services.registry_sync_request(actor=request.user, source=source, full=full)
        kind = "Full sync" if full else "Sync"
        messages.success(request, f"{kind} #{run.pk} queued. It is listed in the history below.")
        return redirect(f"{source.get_absolute_url()}#history")


class RegistryFormView(TemplateView):
    """Add (no name in the URL) or change a registry. Admins only; the service checks the settings."""

    template_name = "catalog/registry_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not policies.can_manage_registries(request.user):
            raise PermissionDenied("Only admins configure registries.")
        name = kwargs.get("name")
        self.source = selectors.registry_detail(user=request.user, name=name) if name else None
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", RegistrySourceForm(source=self.source))
        context["source"] = self.source
        return context

    def post(self, request, *args, **kwargs):
        form = RegistrySourceForm(request.POST, source=self.source)
        if form.is_valid():
            try:
                if self.source is None:
                    source = registry_services.registry_source_create(
                        actor=request.user, **form.service_fields()
                    )
                    messages.success(request, f"Registry {source.name} added; it is polled on its schedule.")
                else:
                    source = registry_services.registry_source_update(
                        actor=request.user, source=self.source, **form.service_fields()
                    )
                    messages.success(request, f"Registry {source.name} saved.")
                return redirect(source.get_absolute_url())
            except ValidationError as exc:
                form.add_service_errors(exc)
        return self.render_to_response(self.get_context_data(form=form), status=400)
