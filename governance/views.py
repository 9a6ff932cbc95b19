"""Governance pages: work items, promotions, the model page's governance actions, dashboards, the audit trail.

Views read the request, call selectors and services, and render. No ORM here: every row a template shows
was loaded by a selector (tests/governance/test_view_queries.py pins the query counts). Errors are turned
into pages in one place, GovernancePage: a ValidationError re-renders the page with HTTP 400 and the
messages on the form's fields, PermissionDenied with 403 and the policy's sentence (the four-eyes rule),
DomainError with 409 (deciding twice).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from catalog import selectors as catalog_selectors
from portal import views as portal_views
from portal.filter_bar import Choice, FilterBar, Search, Text, page_size_choice, sort_choice
from portal.pagination import querystring_with
from portal.roles import Role, has_role
from portal.views import ActionPage

from . import charts, policies, selectors
from .filters import SAVED_VIEWS, SLA_FILTER_CHOICES, STATUS_CHOICES
from .forms import (
    ApproveForm,
    AttestForm,
    CommentForm,
    LinkForm,
    PromotionRequestForm,
    RejectForm,
    RevokeForm,
    RollbackForm,
    TransitionForm,
    WaiverForm,
    WithdrawForm,
    WorkItemForm,
)
from .models import Gate, LinkKind, Priority, PromotionStatus, WorkItemType
from .selectors import pages as page_selectors
from .selectors.audit import AUDIT_READ_REFUSAL
from .services import dod as dod_services
from .services import promotions as promotion_services
from .services import work_items as work_item_services
from .services.audit import audit_verify
from .services.gates import FAIL, PASS, WAIVED, gates_evaluate, gates_evaluate_many
from .workflows import CLOSED, STATUS_LABELS, WORKFLOWS

LIST_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
PAGE_SIZE_CHOICES = (10, 25, 50, 100)
QUEUE_LIMIT = 10
MODEL_PAGE_LIMIT = 10
# Above this many models the per-model score chart is unreadable: the dashboard asks for a domain instead.
DOD_CHART_MAX_MODELS = 80
WORK_FILTER_FIELDS = ("q", "type", "status", "priority", "assignee", "domain", "model", "label", "sla")
PROMOTION_FILTER_FIELDS = ("model", "target", "requested_by")
AUDIT_FILTER_FIELDS = ("action", "actor", "target_type", "target_id", "since", "until")
OPEN_STATUSES = [s for s in STATUS_LABELS if s not in CLOSED]
PROMOTION_TABS = (
    ("awaiting", "Awaiting decision", PromotionStatus.PENDING),
    ("approved", "Approved", PromotionStatus.APPROVED),
    ("rejected", "Rejected", PromotionStatus.REJECTED),
    ("all", "All", None),
)
SAVED_VIEW_TABS = (
    ("", "All items"),
    ("assigned_to_me", "Assigned to me"),
    ("reported_by_me", "Reported by me"),
    ("my_team", "My team"),
    ("overdue", "Overdue"),
    ("watching", "Watching"),
)
FIELD_LABELS = {
    "q": "Search",
    "sla": "SLA",
    "page_size": "Page size",
    "cursor": "Page link",
    "view": "Saved view",
    "target_type": "Target type",
    "target_id": "Target id",
    "since": "From",
    "until": "To",
    "to_status": "Move to",
    "body": "Comment",
    "gates": "Gates",
    "comment": "Comment",
    "requested_by": "Requested by",
}


def error_messages(exc: ValidationError) -> list[str]:
    """ValidationError -> sentences for the error banner ("Status: Select a valid choice...")."""
    return portal_views.error_messages(exc, FIELD_LABELS)


def form_messages(form) -> list[str]:
    return portal_views.form_messages(form, FIELD_LABELS)


def gate_summary(results) -> dict:
    """Counts and names of a promotion's gates for a list row: "3 pass · 1 waived · 1 failing"."""
    return {
        "results": results,
        "passed": sum(r.status == PASS for r in results),
        "waived": [r for r in results if r.status == WAIVED],
        "failing": [r for r in results if r.status == FAIL],
        "total": len(results),
    }


class GovernancePage(ActionPage):
    """The governance pages (work, promotions, dashboards, audit): see portal.views.ActionPage."""

    field_labels = FIELD_LABELS
    default_page_size = LIST_PAGE_SIZE


# --- work items -----------------------------------------------------------------------------------------


class WorkFilterMixin:
    def filter_context(
        self, *, action: str, with_status: bool = True, settings: Sequence[Choice] = ()
    ) -> dict:
        """The list's and the board's filters; the board has no status filter (its columns are the
        statuses) and no sort or page size."""
        fields = WORK_FILTER_FIELDS if with_status else tuple(f for f in WORK_FILTER_FIELDS if f != "status")
        params = self.request.GET
        view = params.get("view", "")
        options = page_selectors.work_item_filter_options()
        status = [Choice("status", "Status", "Any status", STATUS_CHOICES)] if with_status else []
        bar = FilterBar(
            label="Filter work items",
            action=action,
            modifier="work",
            hidden={"view": view},
            fields=[
                Search(placeholder="Key or words of the title…"),
                Choice("type", "Type", "Any type", WorkItemType.choices),
                *status,
                Choice("priority", "Priority", "Any priority", Priority.choices),
                Choice("sla", "SLA", "Any", SLA_FILTER_CHOICES),
                Choice(
                    "assignee",
                    "Assignee",
                    "Anyone",
                    [(u.username, u.get_full_name() or u.username) for u in options["users"]],
                ),
                Choice(
                    "domain",
                    "Domain",
                    "All domains",
                    [(d.slug, f"{d.name} ({d.key})") for d in options["domains"]],
                ),
                Text("model", "Model", placeholder="Any model", maxlength=200, suggestions=options["models"]),
                Choice("label", "Label", "Any label", options["labels"]),
            ],
            settings=settings,
        )
        return {
            "filter_bar": bar.bind(params),
            "filters": self.active_filters(fields),
            "view": view,
            "view_label": SAVED_VIEWS.get(view, ""),
            "view_tabs": [
                {"key": key, "label": label, "url": querystring_with(params, view=key or None, cursor=None)}
                for key, label in SAVED_VIEW_TABS
            ],
        }


class WorkItemListView(WorkFilterMixin, GovernancePage):
    template_name = "governance/work_item_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sorts = selectors.WORK_ITEM_SORTS
        sort = self.request.GET.get("sort") or selectors.DEFAULT_WORK_ITEM_SORT
        context.update(
            self.filter_context(
                action=reverse("governance:work-item-list"),
                settings=[
                    sort_choice(
                        [(key, s.label) for key, s in sorts.items()], default=selectors.DEFAULT_WORK_ITEM_SORT
                    ),
                    page_size_choice(PAGE_SIZE_CHOICES, default=LIST_PAGE_SIZE),
                ],
            ),
            sort_label=getattr(sorts.get(sort), "label", ""),
            board_url=reverse("governance:work-item-board")
            + querystring_with(self.request.GET, cursor=None, sort=None, page_size=None, status=None),
        )
        return context

    def get_page_data(self) -> dict:
        sort = self.request.GET.get("sort") or selectors.DEFAULT_WORK_ITEM_SORT
        if sort not in selectors.WORK_ITEM_SORTS:
            raise ValidationError(
                {"sort": f"Unknown sort {sort!r}; choose one of {', '.join(selectors.WORK_ITEM_SORTS)}."}
            )
        items = selectors.work_item_list(user=self.request.user, filters=self.request.GET, sort=sort)
        data = self.paginate(
            items, ordering=selectors.WORK_ITEM_SORTS[sort].ordering, default_size=LIST_PAGE_SIZE
        )
        data["total"] = items.count()
        return data


class WorkItemBoardView(WorkFilterMixin, GovernancePage):
    template_name = "governance/work_item_board.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.filter_context(action=reverse("governance:work-item-board"), with_status=False))
        context["list_url"] = reverse("governance:work-item-list") + querystring_with(self.request.GET)
        context["column_limit"] = selectors.BOARD_COLUMN_LIMIT
        return context

    def get_page_data(self) -> dict:
        params = self.request.GET.copy()
        params.pop("status", None)  # the columns are the statuses
        list_url = reverse("governance:work-item-list")
        return {
            "columns": [
                {"column": column, "list_url": list_url + querystring_with(params, status=column.status)}
                for column in selectors.work_item_board(user=self.request.user, filters=params)
            ]
        }


class WorkItemCreateView(GovernancePage):
    template_name = "governance/work_item_form.html"
    actions = {"create": (WorkItemForm, "create")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "create_form" not in context:
            initial = {
                k: v for k, v in self.request.GET.items() if k in ("type", "model", "version", "dataset")
            }
            context["create_form"] = WorkItemForm(initial=initial)
        context["model_names"] = page_selectors.work_item_filter_options()["models"]
        return context

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="create", **kwargs)

    def create(self, form):
        data = form.cleaned_data
        item = work_item_services.work_item_create(
            actor=self.request.user,
            domain=data["domain"],
            type=data["type"],
            title=data["title"],
            description=data["description"],
            priority=data["priority"],
            assignee=data["assignee"],
            due_date=data["due_date"],
            labels=data["labels"],
            model=data["model"],
            version=data["version"],
            dataset=data["dataset"],
        )
        messages.success(self.request, f"{item.key} created. You and the assignee watch it.")
        return redirect(item.get_absolute_url())


def _promotion_of(item):
    try:
        return item.promotion  # select_related by work_item_detail
    except ObjectDoesNotExist:
        return None


class WorkItemDetailView(GovernancePage):
    template_name = "governance/work_item_detail.html"
    actions = {
        "transition": (TransitionForm, "transition"),
        "comment": (CommentForm, "comment"),
        "link": (LinkForm, "link"),
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        item = self.item = selectors.work_item_detail(user=user, key=kwargs["key"])
        workflow = WORKFLOWS[item.type]
        failed = context.get("transition_form")
        open_move = failed.data.get("to_status") if failed is not None else ""
        transitions = [
            {
                "status": status,
                "label": STATUS_LABELS[status],
                "needs_comment": workflow.requires_comment(item.status, status),
                "is_open": status == open_move,
                "comment": failed.data.get("comment", "") if status == open_move else "",
            }
            for status in workflow.allowed(item.status)
        ]
        context.update(
            item=item,
            transitions=transitions,
            can_transition=policies.can_transition_work_item(user, item),
            is_system_driven=item.type in ("promotion", "data_access"),
            is_watching=any(w.pk == user.pk for w in item.watchers.all()),
            watchers=sorted(item.watchers.all(), key=lambda u: u.username),
            comments=list(item.comments.all()),
            outgoing=list(item.outgoing_links.all()),
            incoming=list(item.incoming_links.all()),
            activity=item.activity,
            promotion=_promotion_of(item),
        )
        context.setdefault("comment_form", CommentForm())
        context.setdefault("link_form", LinkForm())
        context["can_link"] = policies.can_edit_work_item(user, item)
        return context

    def transition(self, form):
        data = form.cleaned_data
        item = work_item_services.work_item_transition(
            actor=self.request.user,
            item=self.item_for_write(),
            to_status=data["to_status"],
            comment=data["comment"],
        )
        messages.success(self.request, f"{item.key} moved to {STATUS_LABELS[item.status]}.")
        return redirect(item.get_absolute_url())

    def comment(self, form):
        item = self.item_for_write()
        work_item_services.comment_add(actor=self.request.user, item=item, body=form.cleaned_data["body"])
        messages.success(self.request, "Comment added.")
        return redirect(f"{item.get_absolute_url()}#comments")

    def link(self, form):
        data = form.cleaned_data
        item = self.item_for_write()
        try:
            target = selectors.work_item_get(user=self.request.user, key=data["target"])
        except Http404:
            raise ValidationError({"target": f"There is no work item {data['target']}."}) from None
        work_item_services.work_item_link(
            actor=self.request.user, source=item, target=target, kind=data["kind"]
        )
        messages.success(self.request, f"Linked: {item.key} {LinkKind(data['kind']).label} {target.key}.")
        return redirect(f"{item.get_absolute_url()}#links")

    def item_for_write(self):
        return selectors.work_item_get(user=self.request.user, key=self.kwargs["key"])


class WorkItemWatchView(View):
    """POST watching=1 to watch an item, watching=0 to stop."""

    http_method_names = ["post"]

    def post(self, request, key):
        item = selectors.work_item_get(user=request.user, key=key)
        watching = request.POST.get("watching") == "1"
        work_item_services.work_item_watch(actor=request.user, item=item, watching=watching)
        messages.success(
            request, f"You watch {item.key} now." if watching else f"You no longer watch {item.key}."
        )
        return redirect(item.get_absolute_url())


# --- promotions -----------------------------------------------------------------------------------------


class PromotionListView(GovernancePage):
    template_name = "governance/promotion_list.html"

    def tab(self) -> tuple[str, str, str | None]:
        key = self.request.GET.get("tab") or "awaiting"
        for tab in PROMOTION_TABS:
            if tab[0] == key:
                return tab
        raise ValidationError(
            {"tab": f"Unknown tab {key!r}; choose one of {', '.join(t[0] for t in PROMOTION_TABS)}."}
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        current = self.request.GET.get("tab") or "awaiting"
        params = self.request.GET
        context.update(
            tab=current,
            tabs=[
                {"key": key, "label": label, "url": querystring_with(params, tab=key, cursor=None)}
                for key, label, _ in PROMOTION_TABS
            ],
            filters=self.active_filters(PROMOTION_FILTER_FIELDS),
            filter_bar=FilterBar(
                label="Filter promotions",
                action=reverse("governance:promotion-list"),
                modifier="promotions",
                inline=True,
                hidden={"tab": current},
                fields=[
                    Text("model", "Model", placeholder="Any model (exact name)", maxlength=200),
                    Text("target", "Target", placeholder="production, staging, champion…", maxlength=100),
                    Text("requested_by", "Requested by", placeholder="username", maxlength=150),
                ],
            ).bind(params),
        )
        return context

    def get_page_data(self) -> dict:
        key, _, status = self.tab()
        filters = {k: v for k, v in self.active_filters(PROMOTION_FILTER_FIELDS).items()}
        if status:
            filters["status"] = status
        promotions = selectors.promotion_list(user=self.request.user, filters=filters)
        data = self.paginate(
            promotions, ordering=selectors.promotion_ordering(filters), default_size=LIST_PAGE_SIZE
        )
        items = data["page"].items
        gates = gates_evaluate_many(promotions=[p for p in items if p.status == PromotionStatus.PENDING])
        data["rows"] = [
            {"promotion": p, "gates": gate_summary(gates[p.pk]) if p.pk in gates else None} for p in items
        ]
        data["tab_label"] = dict((k, label) for k, label, _ in PROMOTION_TABS)[key]
        return data


class PromotionCreateView(GovernancePage):
    """/promotions/new/?version=<id>: the model's owners ask for a version to become staging, production or
    an alias."""

    template_name = "governance/promotion_form.html"
    actions = {"request": (PromotionRequestForm, "request_promotion")}

    def dispatch(self, request, *args, **kwargs):
        raw = request.GET.get("version", "")
        if not raw.isdigit():
            self.version = None
        else:
            self.version = catalog_selectors.version_by_id(user=request.user, pk=int(raw))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version = self.version
        context["version"] = version
        if version is None:
            return context
        model = catalog_selectors.model_detail(user=self.request.user, name=version.model.name)
        context.update(
            model=model,
            aliases=list(model.aliases.all()),
            may_request=policies.can_request_promotion(self.request.user, model),
            pending=list(
                selectors.promotion_list(
                    user=self.request.user, filters={"model": model.name, "status": PromotionStatus.PENDING}
                )
            ),
        )
        context.setdefault("request_form", PromotionRequestForm())
        return context

    def get(self, request, *args, **kwargs):
        if self.version is None:
            context = self.get_context_data(**kwargs)
            context["errors"] = [
                "Open a model version and use its “Request promotion” button: this page needs ?version=<id>."
            ]
            return self.render_to_response(context, status=400)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.version is None:
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, action="request", **kwargs)

    def request_promotion(self, form):
        data = form.cleaned_data
        promotion = promotion_services.promotion_request(
            actor=self.request.user,
            version=self.version,
            target=data["target"],
            justification=data["justification"],
        )
        messages.success(
            self.request,
            f"Promotion of {promotion.model.name} v{promotion.version.version} to {promotion.target} "
            f"requested; an engineer decides on it"
            + (f" ({promotion.work_item.key} tracks it)." if promotion.work_item else "."),
        )
        return redirect(promotion.get_absolute_url())


class PromotionDetailView(GovernancePage):
    template_name = "governance/promotion_detail.html"
    actions = {
        "approve": (ApproveForm, "approve"),
        "reject": (RejectForm, "reject"),
        "waive": (WaiverForm, "waive"),
        "withdraw": (WithdrawForm, "withdraw"),
        "retry": (WithdrawForm, "retry"),  # no fields: any form that validates an empty POST
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        promotion = self.promotion = selectors.promotion_detail(user=user, pk=kwargs["pk"])
        pending = promotion.status == PromotionStatus.PENDING
        refusal = policies.promotion_decision_refusal(user, promotion)
        if pending:
            results = gates_evaluate(promotion=promotion)
            gates_note = "Evaluated now, from live data; evaluated again when an engineer decides."
        elif promotion.gates_at_decision:
            results = [_GateSnapshot(g) for g in promotion.gates_at_decision]
            when = f"{promotion.decided_at:%-d %b %Y %H:%M} UTC" if promotion.decided_at else ""
            who = promotion.decided_by.get_full_name() or promotion.decided_by.username
            gates_note = f"As they stood when {who} decided, {when}."
        else:
            results, gates_note = [], "This request was withdrawn before anyone decided on it."
        can_decide = pending and refusal is None
        failed_waiver = context.get("waive_form")
        failed_gate = failed_waiver.data.get("gate") if failed_waiver is not None else None
        context.update(
            promotion=promotion,
            is_pending=pending,
            gates=[
                {
                    "result": r,
                    "waive_form": failed_waiver
                    if r.gate == failed_gate
                    else WaiverForm(initial={"gate": r.gate}, auto_id=f"waive-{r.gate}_%s"),
                    "waive_open": r.gate == failed_gate,
                    "can_waive": can_decide and r.status == FAIL,
                }
                for r in results
            ],
            gates_note=gates_note,
            summary=gate_summary(results),
            waivers=list(promotion.waivers.all()),
            decision_refusal=refusal,
            can_decide=can_decide,
            can_withdraw=pending and policies.can_withdraw_promotion(user, promotion),
            can_retry=promotion.apply_status == "failed" and policies.can_retry_apply(user),
            show_refusal=pending and has_role(user, Role.ENGINEER) and refusal is not None,
        )
        context.setdefault("approve_form", ApproveForm())
        context.setdefault("reject_form", RejectForm())
        context.setdefault("withdraw_form", WithdrawForm())
        return context

    def _done(self, text: str):
        messages.success(self.request, text)
        return redirect(self.promotion_url())

    def promotion_url(self) -> str:
        return reverse("governance:promotion-detail", args=[self.kwargs["pk"]])

    def current(self):
        return selectors.promotion_detail(user=self.request.user, pk=self.kwargs["pk"])

    def approve(self, form):
        promotion = promotion_services.promotion_approve(
            actor=self.request.user, promotion=self.current(), comment=form.cleaned_data["comment"]
        )
        return self._done(
            "Approved and written back."
            if promotion.apply_status == "applied"
            else "Approved. The write-back to the registry has started; its progress is shown below."
        )

    def reject(self, form):
        promotion_services.promotion_reject(
            actor=self.request.user, promotion=self.current(), comment=form.cleaned_data["comment"]
        )
        return self._done("Rejected. The requester sees your reason on this page.")

    def waive(self, form):
        data = form.cleaned_data
        waiver = promotion_services.promotion_waive_gate(
            actor=self.request.user, promotion=self.current(), gate=data["gate"], reason=data["reason"]
        )
        return self._done(f"Gate waived: {waiver.get_gate_display()}. The reason is shown here for good.")

    def withdraw(self, form):
        promotion_services.promotion_withdraw(
            actor=self.request.user, promotion=self.current(), reason=form.cleaned_data["reason"]
        )
        return self._done("Request withdrawn.")

    def retry(self, form):
        promotion = promotion_services.promotion_retry_apply(
            actor=self.request.user, promotion=self.current()
        )
        return self._done(f"Write-back retried: {promotion.get_apply_status_display().lower()}.")


class _GateSnapshot:
    """A gate as stored in gates_at_decision, read like a live GateResult."""

    def __init__(self, data: dict):
        self.gate = data.get("gate", "")
        self.label = data.get("label") or (Gate(self.gate).label if self.gate in Gate.values else self.gate)
        self.status = data.get("status", "")
        self.evidence = data.get("evidence", "")
        self.waiver_reason = data.get("waiver_reason", "")
        self.waived_by = data.get("waived_by", "")


# --- the model page's governance actions ------------------------------------------------------------------


class ModelRollbackView(GovernancePage):
    """Confirm, then request a rollback of production to the version that held it before (a promotion
    request with the rollback marker, decided like any other)."""

    template_name = "governance/promotion_rollback.html"
    actions = {"rollback": (RollbackForm, "rollback")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        model = self.model = selectors.promotion_model(user=self.request.user, name=kwargs["name"])
        timeline = [p for p in selectors.promotion_timeline(model=model) if p.target == "production"]
        context.update(
            model=model,
            current=timeline[-1] if timeline else None,
            may_request=policies.can_request_promotion(self.request.user, model),
        )
        context.setdefault("rollback_form", RollbackForm())
        return context

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="rollback", **kwargs)

    def rollback(self, form):
        promotion = promotion_services.promotion_rollback(
            actor=self.request.user, model=self.model_for_write(), reason=form.cleaned_data["reason"]
        )
        messages.success(
            self.request,
            f"Rollback of production to v{promotion.version.version} requested; an engineer decides on it.",
        )
        return redirect(promotion.get_absolute_url())

    def model_for_write(self):
        return selectors.promotion_model(user=self.request.user, name=self.kwargs["name"])


class ModelDodView(View):
    """POST from the model page's checklist: attest or revoke the item a person vouches for. Back to the
    model page with a message either way (the page belongs to the catalog)."""

    http_method_names = ["post"]

    def post(self, request, name, action):
        model = selectors.promotion_model(user=request.user, name=name)
        back = reverse("catalog:model-detail", args=[model.name]) + "#governance"
        form = (AttestForm if action == "attest" else RevokeForm)(request.POST)
        if not form.is_valid():
            messages.error(request, "; ".join(form_messages(form)))
            return redirect(back)
        data = form.cleaned_data
        try:
            if action == "attest":
                dod_services.dod_attest(actor=request.user, model=model, item=data["item"], note=data["note"])
                messages.success(request, "Attested. The definition-of-done score is updated.")
            else:
                dod_services.dod_attestation_revoke(
                    actor=request.user, model=model, item=data["item"], reason=data["reason"]
                )
                messages.success(request, "Attestation revoked; the reason is in the audit trail.")
        except ValidationError as exc:
            messages.error(request, " ".join(error_messages(exc)))
        return redirect(back)


# --- dashboards -----------------------------------------------------------------------------------------


class DashboardView(GovernancePage):
    template_name = "governance/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        domains, counted_at = page_selectors.dashboard_domains()
        self.domains = domains
        slug = self.request.GET.get("domain", "")
        context.update(
            domains=domains,
            models_counted_at=counted_at,
            domain_slug=slug,
            domain=next((d for d in domains if d.slug == slug), None),
            manager_first=has_role(user, Role.MANAGER, Role.COMPLIANCE) and not has_role(user, Role.ENGINEER),
            models_chart=charts.models_by_domain_figure(domains)
            if any(d.model_count for d in domains)
            else None,
        )
        return context

    def get_page_data(self) -> dict:
        user = self.request.user
        slug = self.request.GET.get("domain", "")
        context_domain = None
        if slug:  # self.domains: loaded by get_context_data(), which the page calls first
            context_domain = next((d for d in self.domains if d.slug == slug), None)
            if context_domain is None:
                raise ValidationError({"domain": f"No domain {slug!r}; choose one from the list."})
        queue = page_selectors.first_rows(
            selectors.promotion_list(user=user, filters={"status": PromotionStatus.PENDING}), QUEUE_LIMIT + 1
        )
        more = len(queue) > QUEUE_LIMIT
        queue = queue[:QUEUE_LIMIT]
        scores = selectors.dod_scores_up_to(domain=context_domain, limit=DOD_CHART_MAX_MODELS)
        too_many = scores is None
        scores = scores or []
        open_work, open_work_counted_at = page_selectors.dashboard_open_work(domain=context_domain)
        type_labels = dict(WorkItemType.choices)
        for row in open_work:
            row["label"] = type_labels.get(row["type"], row["type"])
        decisions, decisions_counted_at = page_selectors.dashboard_decisions_by_month(domain=context_domain)
        return {
            # Gates come after the first paint, from PromotionGatesView (static/js/gate_slots.js).
            "queue": queue,
            "queue_gates_url": reverse("governance:promotion-gates")
            + "?"
            + urlencode([("id", p.pk) for p in queue]),
            "queue_more": more,
            "failures": page_selectors.first_rows(
                page_selectors.promotion_apply_failures(user=user), QUEUE_LIMIT
            ),
            "alerts": page_selectors.open_alerts_first(user=user, limit=QUEUE_LIMIT),
            "scores": scores,
            "scores_too_many": too_many,
            "dod_chart": charts.dod_scores_figure(scores) if scores else None,
            "complete_count": sum(s.report.complete for s in scores),
            "open_work": open_work,
            "open_work_counted_at": open_work_counted_at,
            "open_total": sum(r["total"] for r in open_work),
            "work_chart": charts.open_work_figure(open_work) if open_work else None,
            "decisions": decisions,
            "decisions_counted_at": decisions_counted_at,
            "decisions_total": sum(r["approved"] + r["rejected"] for r in decisions),
            "promotions_chart": charts.promotions_per_month_figure(decisions)
            if any(r["approved"] or r["rejected"] for r in decisions)
            else None,
            "overview_loaded": True,
        }


GATES_FRAGMENT_MAX = 50
_ID = re.compile(r"[0-9]{1,18}")


class PromotionGatesView(GovernancePage):
    """The gate summaries of some pending promotions (`?id=1&id=2`, at most 50) as an HTML fragment: the
    dashboard's queue shows its rows at once and fills their gates from here after the first paint
    (static/js/gate_slots.js), as evaluating five gates for ten promotions cost as much as the rest of the
    dashboard. Promotions the user may not see, or no longer pending, are left out; the script then points
    to the request itself."""

    template_name = "governance/promotion_gates_fragment.html"

    def get_page_data(self) -> dict:
        raw = self.request.GET.getlist("id")
        if not raw or len(raw) > GATES_FRAGMENT_MAX or not all(_ID.fullmatch(r) for r in raw):
            raise ValidationError({"id": f"Give 1 to {GATES_FRAGMENT_MAX} promotion ids as ?id=1&id=2."})
        promotions = selectors.pending_promotions(user=self.request.user, ids={int(r) for r in raw})
        gates = gates_evaluate_many(promotions=promotions)
        return {"rows": [(p.pk, gate_summary(gates[p.pk])) for p in promotions]}


# --- audit ----------------------------------------------------------------------------------------------


def _compact(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_changes(event) -> list[dict]:
    """Before/after as one row per key that either side names: {"key", "before", "after"}."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        {
            "key": key,
            "before": _compact(before.get(key)) if key in before else "",
            "after": _compact(after.get(key)) if key in after else "",
        }
        for key in keys
    ]


class AuditListView(GovernancePage):
    template_name = "governance/audit_event_list.html"

    def get(self, request, *args, **kwargs):
        if not policies.can_view_audit(request.user):
            context = self.get_context_data(**kwargs)
            context["refusal"] = AUDIT_READ_REFUSAL
            return self.render_to_response(context, status=403)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = self.active_filters(AUDIT_FILTER_FIELDS)
        context.update(
            filters=filters,
            filter_bar=FilterBar(
                label="Filter audit events",
                action=reverse("governance:audit-list"),
                modifier="audit",
                id_prefix="a-",
                fields=[
                    Text("action", "Action starts with", placeholder="promotion.", maxlength=60),
                    Text("actor", "Actor", placeholder="username", maxlength=150),
                    Text("target_type", "Target type", placeholder="governance.workitem", maxlength=60),
                    Text("target_id", "Target id", maxlength=64),
                    Text("since", "From", input_type="date"),
                    Text("until", "To", input_type="date"),
                ],
                notes=[("small muted", "The CSV export uses the same filters, oldest first.")],
            ).bind(self.request.GET),
            export_url=reverse("governance-api:audit-event-export")
            + (f"?{urlencode(filters)}" if filters else ""),
        )
        return context

    def get_page_data(self) -> dict:
        events = selectors.audit_event_list(user=self.request.user, filters=self.request.GET)
        data = self.paginate(events, ordering=selectors.AUDIT_ORDERING, default_size=AUDIT_PAGE_SIZE)
        data["rows"] = [{"event": e, "changes": audit_changes(e)} for e in data["page"].items]
        data["chain"] = audit_verify()
        return data
