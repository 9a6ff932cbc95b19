"""Data-access (GDPR), verification and monitoring pages: access requests and their approval chain, grants,
purposes, re-certification campaigns, the compliance dashboard, alerts, verification scripts and runs.

Views read the request, call selectors and services, and render; no ORM here. Errors become pages in one
place, AccessPage: a ValidationError re-renders the page with HTTP 400 and the messages on the form's
fields, PermissionDenied with 403 and the policy's sentence ("Nobody approves their own access request."),
DomainError with 409 ("Compliance approves after every data owner has approved…").
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from catalog import policies as catalog_policies
from catalog import selectors as catalog_selectors
from portal import views as portal_views
from portal.filter_bar import Check, Checks, Choice, FilterBar
from portal.fragments import FragmentMixin, FragmentSlot
from portal.pagination import querystring_with
from portal.views import ERROR_TITLES, ActionPage

from . import monitoring_charts, policies
from .access_forms import (
    AccessRequestForm,
    ApproveForm,
    AttestForm,
    CampaignForm,
    EmptyForm,
    PurposeForm,
    RejectForm,
    ResolveForm,
    RevokeForm,
    RunNowForm,
    VerificationScriptForm,
    WithdrawForm,
)
from .models import (
    GRANT_STATUSES,
    OPEN_STATUSES,
    AccessStatus,
    AlertCondition,
    AlertState,
    Attestation,
    LegalBasis,
    RunStatus,
    Severity,
    StepKind,
    StepStatus,
)
from .selectors import data_access as access_selectors
from .selectors import monitoring as monitoring_selectors
from .selectors import pages_access
from .selectors import verification as verification_selectors
from .services import data_access as access_services
from .services import monitoring as monitoring_services
from .services import verification as verification_services
from .services.data_access import needs_dpia, steps_open_to_decide

NS = "governance-access"
LIST_PAGE_SIZE = 25
EXPIRING_DAYS = 30
FIELD_LABELS = {
    "q": "Search",
    "page_size": "Page size",
    "cursor": "Page link",
    "tab": "Tab",
    "expiring_within_days": "Expiring within",
    "special_category": "Special category",
    "awaiting_me": "Awaiting me",
}
ACCESS_TABS = (
    ("mine", "My requests"),
    ("awaiting", "Awaiting my decision"),
    ("all", "All requests"),
)
ALERT_STATES = (
    ("active", "Active (open or acknowledged)"),
    (AlertState.OPEN.value, "Open"),
    (AlertState.ACKNOWLEDGED.value, "Acknowledged"),
    (AlertState.RESOLVED.value, "Resolved"),
    ("all", "All"),
)


def error_messages(exc: ValidationError) -> list[str]:
    return portal_views.error_messages(exc, FIELD_LABELS)


def form_messages(form) -> list[str]:
    return portal_views.form_messages(form, FIELD_LABELS)


class AccessPage(ActionPage):
    """The data-access, alert and verification pages: see portal.views.ActionPage. A PermissionDenied while
    showing the page (a page only some roles see) renders the refusal with 403."""

    field_labels = FIELD_LABELS
    default_page_size = LIST_PAGE_SIZE

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as exc:
            return refusal_page(request, 403, str(exc) or "You may not see this page.")


def refusal_page(request, status: int, message: str, *, back_url: str = "", back_label: str = ""):
    from django.template.response import TemplateResponse

    response = TemplateResponse(
        request,
        "governance/access_error.html",
        {
            "status": status,
            "error_title": ERROR_TITLES.get(status, "That could not be done")
            if request.method == "POST"
            else "You may not see this page",
            "message": message,
            "back_url": back_url,
            "back_label": back_label,
        },
        status=status,
    )
    return response.render()


def _filter_params(params: QueryDict, drop=("cursor", "page_size", "tab")) -> QueryDict:
    data = params.copy()
    for key in drop:
        data.pop(key, None)
    return data


def _selected(params: QueryDict, keys) -> dict[str, str]:
    return {k: params.get(k, "") for k in keys if params.get(k, "")}


def _access_fields(user, statuses) -> list[Choice]:
    """The filters the request and grant lists share."""
    return [
        Choice("status", "Status", "Any status", statuses),
        Choice(
            "dataset",
            "Dataset",
            "Any dataset",
            [(d.pk, d.name) for d in pages_access.dataset_choices(user=user)],
        ),
        Choice(
            "purpose", "Purpose", "Any purpose", [(p.slug, p.name) for p in pages_access.purpose_choices()]
        ),
    ]


# --- access requests ------------------------------------------------------------------------------------


class AccessRequestListView(AccessPage):
    template_name = "governance/access_request_list.html"

    def tab(self) -> str:
        key = self.request.GET.get("tab") or "mine"
        if key not in dict(ACCESS_TABS):
            raise ValidationError(
                {"tab": f"Unknown tab {key!r}; choose one of {', '.join(k for k, _ in ACCESS_TABS)}."}
            )
        return key

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        current = params.get("tab") or "mine"
        counts = pages_access.access_request_tab_counts(user=self.request.user)
        context.update(
            tab=current,
            tabs=[
                {
                    "key": key,
                    "label": label,
                    "count": counts.get(key),
                    "url": querystring_with(params, tab=key, cursor=None),
                }
                for key, label in ACCESS_TABS
            ],
            filters=_selected(params, ("status", "dataset", "purpose")),
            filter_bar=FilterBar(
                label="Filter requests",
                action=reverse(f"{NS}:access-request-list"),
                modifier="access",
                inline=True,
                hidden={"tab": current},
                fields=_access_fields(self.request.user, AccessStatus.choices),
            ).bind(params),
        )
        return context

    def get_page_data(self) -> dict:
        tab = self.tab()
        filters = _filter_params(self.request.GET)
        filters.pop("mine", None)
        filters.pop("awaiting_me", None)
        if tab == "mine":
            filters["mine"] = "true"
        elif tab == "awaiting":
            filters["awaiting_me"] = "true"
        requests = access_selectors.access_request_list(user=self.request.user, filters=filters)
        data = self.paginate(requests, ordering=access_selectors.ACCESS_REQUEST_ORDERING)
        data["rows"] = [access_row(r, self.request.user) for r in data["page"].items]
        return data


def access_row(request, user) -> dict:
    """What a list row shows: the request, its steps in order, and whether the user decides it now."""
    steps = list(request.steps.all())
    open_steps = steps_open_to_decide(request) if request.status in OPEN_STATUSES else []
    return {
        "request": request,
        "entries": list(request.dataset_entries.all()),
        "steps": steps,
        "open_ids": {s.pk for s in open_steps},
        "yours": any(policies.step_decision_refusal(user, s) is None for s in open_steps),
    }


class AccessRequestCreateView(AccessPage):
    template_name = "governance/access_request_form.html"
    actions = {"create": (AccessRequestForm, "create")}

    def dispatch(self, request, *args, **kwargs):
        self.datasets = pages_access.dataset_choices(user=request.user)
        self.purposes = pages_access.purpose_choices(active_only=True)
        return super().dispatch(request, *args, **kwargs)

    def make_form(self, form_class, data):
        return form_class(data, datasets=self.datasets, purposes=self.purposes)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "create_form" not in context:
            initial = {"datasets": self.request.GET.getlist("dataset")}
            context["create_form"] = AccessRequestForm(
                initial=initial, datasets=self.datasets, purposes=self.purposes
            )
        context.update(purposes=self.purposes, legal_bases=dict(LegalBasis.choices))
        return context

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="create", **kwargs)

    def create(self, form):
        submit = self.request.POST.get("intent", "submit") != "draft"
        access_request = access_services.access_request_create(
            actor=self.request.user, submit=submit, **form.service_arguments()
        )
        if submit:
            text = f"Access #{access_request.pk} submitted: each dataset's owner decides first" + (
                ", then compliance."
                if any(e[0].has_pii for e in form.cleaned_data["dataset_entries"])
                else "."
            )
        else:
            text = f"Access #{access_request.pk} saved as a draft. Submit it when it is ready."
        return self.done(text, reverse(f"{NS}:access-request-detail", args=[access_request.pk]))


class AccessRequestDetailView(AccessPage):
    template_name = "governance/access_request_detail.html"
    actions = {
        "approve": (ApproveForm, "approve"),
        "reject": (RejectForm, "reject"),
        "withdraw": (WithdrawForm, "withdraw"),
        "submit": (EmptyForm, "submit"),
        "revoke": (RevokeForm, "revoke"),
    }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        access_request = access_selectors.access_request_detail(user=user, pk=kwargs["pk"])
        is_open = access_request.status in OPEN_STATUSES
        refusal = (
            access_selectors.access_request_decision_refusal(user=user, request=access_request)
            if is_open
            else None
        )
        steps = list(access_request.steps.all())
        open_steps = steps_open_to_decide(access_request) if is_open else []
        mine = next((s for s in open_steps if policies.step_decision_refusal(user, s) is None), None)
        entries = list(access_request.dataset_entries.all())
        today = timezone.localdate()
        context.update(
            access_request=access_request,
            entries=[{"entry": e, "needs_dpia": needs_dpia(e.dataset)} for e in entries],
            owner_steps=[_step_row(s, open_steps, mine) for s in steps if s.kind == StepKind.OWNER],
            compliance_steps=[_step_row(s, open_steps, mine) for s in steps if s.kind == StepKind.COMPLIANCE],
            is_open=is_open,
            can_decide=is_open and refusal is None,
            decision_refusal=refusal,
            my_step=mine,
            can_withdraw=access_request.status in (AccessStatus.DRAFT, *OPEN_STATUSES)
            and policies.can_withdraw_access_request(user, access_request),
            can_submit=access_request.status == AccessStatus.DRAFT and user.pk == access_request.requester_id,
            can_revoke=access_request.status == AccessStatus.APPROVED and policies.can_revoke_grant(user),
            is_grant=access_request.status in GRANT_STATUSES,
            days_left=(access_request.expiry_date - today).days
            if access_request.status == AccessStatus.APPROVED
            else None,
            events=access_request.events,
        )
        context.setdefault("approve_form", ApproveForm())
        context.setdefault("reject_form", RejectForm())
        context.setdefault("withdraw_form", WithdrawForm())
        context.setdefault("revoke_form", RevokeForm())
        return context

    def url(self) -> str:
        return reverse(f"{NS}:access-request-detail", args=[self.kwargs["pk"]])

    def current(self):
        return access_selectors.access_request_get(user=self.request.user, pk=self.kwargs["pk"])

    def approve(self, form):
        done = access_services.access_request_decide(
            actor=self.request.user, request=self.current(), approve=True, reason=form.cleaned_data["reason"]
        )
        if done.status == AccessStatus.APPROVED:
            text = f"Approved. Access #{done.pk} is granted until {done.expiry_date:%-d %b %Y}."
        else:
            text = "Approved. The request waits for the remaining approvals."
        return self.done(text, self.url())

    def reject(self, form):
        access_services.access_request_decide(
            actor=self.request.user, request=self.current(), approve=False, reason=form.cleaned_data["reason"]
        )
        return self.done("Rejected. The requester sees your reason.", self.url())

    def withdraw(self, form):
        access_services.access_request_withdraw(
            actor=self.request.user, request=self.current(), reason=form.cleaned_data["reason"]
        )
        return self.done("Request withdrawn.", self.url())

    def submit(self, form):
        access_services.access_request_submit(actor=self.request.user, request=self.current())
        return self.done("Submitted: the data owners decide first.", self.url())

    def revoke(self, form):
        grant = access_selectors.grant_get(user=self.request.user, pk=self.kwargs["pk"])
        access_services.grant_revoke(
            actor=self.request.user, request=grant, reason=form.cleaned_data["reason"]
        )
        target = form.cleaned_data["next"]
        # Only a path on this site: redirect() would take a bare word ("1") for a URL name and fail (500).
        if not target.startswith("/") or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            target = self.url()
        return self.done(f"Grant #{grant.pk} revoked.", target)


def _step_row(step, open_steps, mine) -> dict:
    return {
        "step": step,
        "is_waiting": step in open_steps,
        "is_yours": mine is not None and step.pk == mine.pk,
        "is_blocked": step.status == StepStatus.PENDING and step not in open_steps,
    }


# --- grants, purposes, campaigns -----------------------------------------------------------------------


class GrantListView(AccessPage):
    template_name = "governance/grant_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        context.update(
            filters=_selected(
                params, ("status", "dataset", "purpose", "expiring_within_days", "special_category")
            ),
            filter_bar=FilterBar(
                label="Filter grants",
                action=reverse(f"{NS}:grant-list"),
                modifier="grants",
                inline=True,
                fields=[
                    *_access_fields(self.request.user, [(s.value, s.label) for s in GRANT_STATUSES]),
                    Checks(
                        [
                            Check(
                                "expiring_within_days",
                                f"Ending within {EXPIRING_DAYS} days",
                                str(EXPIRING_DAYS),
                                any_value=True,
                            ),
                            Check("special_category", "Special-category data"),
                        ]
                    ),
                ],
            ).bind(params),
            expiring_days=EXPIRING_DAYS,
            can_revoke=policies.can_revoke_grant(self.request.user),
            export_query=_filter_params(params).urlencode(),
            here=self.request.get_full_path(),
        )
        return context

    def get_page_data(self) -> dict:
        grants = access_selectors.grant_list(user=self.request.user, filters=_filter_params(self.request.GET))
        data = self.paginate(grants, ordering=access_selectors.GRANT_ORDERING)
        today = timezone.localdate()
        data["rows"] = [
            {
                "grant": g,
                "entries": list(g.dataset_entries.all()),
                "days_left": (g.expiry_date - today).days if g.status == AccessStatus.APPROVED else None,
                "special": any(e.dataset.is_special_category for e in g.dataset_entries.all()),
            }
            for g in data["page"].items
        ]
        return data


class PurposeListView(AccessPage):
    template_name = "governance/access_purposes.html"
    actions = {"create": (PurposeForm, "create")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_manage"] = policies.can_manage_purposes(self.request.user)
        context.setdefault("create_form", PurposeForm())
        context["legal_bases"] = dict(LegalBasis.choices)
        return context

    def get_page_data(self) -> dict:
        purposes = access_selectors.purpose_list(user=self.request.user)
        return self.paginate(purposes, ordering=access_selectors.PURPOSE_ORDERING, default_size=50)

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="create", **kwargs)

    def create(self, form):
        purpose = access_services.purpose_create(actor=self.request.user, **form.cleaned_data)
        return self.done(f"Purpose “{purpose.name}” added.", reverse(f"{NS}:purpose-list"))


class CampaignListView(AccessPage):
    template_name = "governance/campaign_list.html"
    actions = {"start": (CampaignForm, "start")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_run"] = policies.can_run_campaigns(self.request.user)
        context.setdefault(
            "start_form",
            CampaignForm(initial={"deadline": timezone.localdate() + datetime.timedelta(days=30)}),
        )
        return context

    def get_page_data(self) -> dict:
        campaigns = access_selectors.campaign_list(user=self.request.user)
        data = self.paginate(campaigns, ordering=access_selectors.CAMPAIGN_ORDERING)
        data["rows"] = [campaign_progress(c) for c in data["page"].items]
        return data

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="start", **kwargs)

    def start(self, form):
        campaign = access_services.campaign_start(actor=self.request.user, **form.cleaned_data)
        return self.done(
            f"Campaign “{campaign.name}” started: data owners attest each active grant by "
            f"{campaign.deadline:%-d %b %Y}.",
            reverse(f"{NS}:campaign-detail", args=[campaign.pk]),
        )


def campaign_progress(campaign) -> dict:
    """Counts from campaign_list()/campaign_detail() annotations, as numbers a progress bar shows."""
    total = campaign.item_count or 0
    kept = getattr(campaign, f"{Attestation.KEEP}_count", 0) or 0
    revoked = getattr(campaign, f"{Attestation.REVOKE}_count", 0) or 0
    missed = getattr(campaign, f"{Attestation.UNATTESTED}_count", 0) or 0
    pending = getattr(campaign, f"{Attestation.PENDING}_count", 0) or 0
    done = kept + revoked
    today = timezone.localdate()
    return {
        "campaign": campaign,
        "total": total,
        "kept": kept,
        "revoked": revoked,
        "missed": missed,
        "pending": pending,
        "done": done,
        "percent": round(100 * done / total) if total else 100,
        "is_closed": campaign.closed_at is not None,
        "days_left": (campaign.deadline - today).days,
    }


class CampaignDetailView(AccessPage):
    template_name = "governance/campaign_detail.html"
    actions = {"attest": (AttestForm, "attest")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        campaign = access_selectors.campaign_detail(user=user, pk=kwargs["pk"])
        is_open = campaign.closed_at is None
        failed_item = str(kwargs.get("item_id", "")) if context.get("failed_action") == "attest" else ""
        groups: dict[object, dict] = {}
        for item in campaign.items.all():
            key = item.owner_id or 0
            group = groups.setdefault(
                key, {"owner": item.owner, "items": [], "pending": 0, "is_me": item.owner_id == user.pk}
            )
            group["pending"] += item.decision == Attestation.PENDING
            group["items"].append(
                {
                    "item": item,
                    "can_attest": is_open
                    and item.decision == Attestation.PENDING
                    and policies.campaign_attest_refusal(user, item) is None,
                    "failed": failed_item == str(item.pk),
                }
            )
        ordered = sorted(
            groups.values(),
            key=lambda g: (not g["is_me"], g["owner"] is None, g["owner"].username if g["owner"] else ""),
        )
        context.update(
            campaign=campaign,
            progress=campaign_progress(campaign),
            groups=ordered,
            is_open=is_open,
            my_pending=sum(g["pending"] for g in ordered if g["is_me"]),
        )
        return context

    def attest(self, form):
        item = access_selectors.campaign_item_get(
            user=self.request.user, campaign_id=self.kwargs["pk"], pk=self.kwargs["item_id"]
        )
        keep = form.cleaned_data["decision"] == "keep"
        access_services.campaign_attest(
            actor=self.request.user, item=item, keep=keep, note=form.cleaned_data["note"]
        )
        text = f"Grant #{item.grant_id} kept." if keep else f"Grant #{item.grant_id} revoked."
        return self.done(
            text, reverse(f"{NS}:campaign-detail", args=[self.kwargs["pk"]]) + f"#item-{item.pk}"
        )


# --- compliance dashboard -------------------------------------------------------------------------------


# The compliance dashboard lists this many production models on personal data (uncovered first among them),
# and this many grants per grant card (ending soon, special category); the headline tiles count them all.
PRODUCTION_ROWS = 50
PRODUCTION_TITLE = "Production models trained on personal data"
GRANT_CARD_ROWS = 20


class ComplianceDashboardView(AccessPage):
    template_name = "governance/compliance_dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        policies.require_compliance_dashboard(user)
        context = super().get_context_data(**kwargs)
        counts, counted_at = pages_access.compliance_counts(user=user)
        ages = counts["ages"]
        today = timezone.localdate()
        context.update(
            kpis=counts["kpis"],
            counted_at=counted_at,
            age_chart=monitoring_charts.pending_by_age_figure(ages)
            if any(b["count"] for b in ages)
            else None,
            oldest=[access_row(r, user) for r in pages_access.oldest_pending_requests(user=user)],
            expiring=[
                {
                    "grant": g,
                    "entries": list(g.dataset_entries.all()),
                    "days_left": (g.expiry_date - today).days,
                }
                for g in pages_access.grants_expiring(user=user, days=EXPIRING_DAYS, limit=GRANT_CARD_ROWS)
            ],
            special=[
                {"grant": g, "entries": list(g.dataset_entries.all())}
                for g in pages_access.special_category_grants(user=user, limit=GRANT_CARD_ROWS)
            ],
            campaigns=[campaign_progress(c) for c in access_selectors.campaign_list(user=user)[:10]],
            production_slot=FragmentSlot(
                "production", PRODUCTION_TITLE, reverse(f"{NS}:compliance-production")
            ),
            expiring_days=EXPIRING_DAYS,
        )
        return context


class ComplianceProductionView(FragmentMixin, AccessPage):
    """The compliance dashboard's production models on personal data, loaded after its first paint: each
    production version's personal training data checked against today's grants (the dashboard's most
    costly card)."""

    def get_fragment_template(self) -> str:
        return "governance/compliance_production.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        policies.require_compliance_dashboard(user)
        context = super().get_context_data(**kwargs)
        context.update(
            production=pages_access.production_personal_data(user=user, limit=PRODUCTION_ROWS),
            production_rows=PRODUCTION_ROWS,
            fragment_title=PRODUCTION_TITLE,
            fragment_crumbs=[("Compliance", reverse(f"{NS}:compliance-dashboard"))],
        )
        return context


# --- alerts ---------------------------------------------------------------------------------------------


class AlertListView(AccessPage):
    template_name = "governance/alert_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        filters = _selected(params, ("severity", "condition", "domain", "model"))
        state = params.get("state") or "active"
        model = filters.get("model", "")
        list_url = reverse(f"{NS}:alert-list")
        bar = FilterBar(
            label="Filter alerts",
            action=list_url,
            modifier="alerts",
            inline=True,
            # The alerts of one model come from a link on its page; there is no field for the model.
            hidden={"model": model},
            notes=[("chip", f"Model: {model}")] if model else [],
            reset_url=list_url,
            reset_label="Reset",
            fields=[
                # "Active", the default, sends no state.
                Choice(
                    "state", "State", None, [("" if v == "active" else v, lbl) for v, lbl in ALERT_STATES]
                ),
                Choice("severity", "Severity", "Any severity", Severity.choices),
                Choice("condition", "Condition", "Any condition", AlertCondition.choices),
                Choice(
                    "domain",
                    "Domain",
                    "Any domain",
                    [(d.slug, d.name) for d in pages_access.domain_choices()],
                ),
            ],
        )
        context.update(
            filters=filters,
            state=state,
            states=ALERT_STATES,
            filter_bar=bar.bind(
                {**params.dict(), "state": "" if state == "active" else state},
                active=bool(filters) or state != "active",
            ),
        )
        return context

    def get_page_data(self) -> dict:
        filters = _filter_params(self.request.GET, drop=("cursor", "page_size", "state"))
        state = self.request.GET.get("state") or "active"
        if state == "active":
            filters.setlist("state", [AlertState.OPEN, AlertState.ACKNOWLEDGED])
        elif state != "all":
            filters.setlist("state", [state])
        alerts = monitoring_selectors.alert_list(user=self.request.user, filters=filters)
        return self.paginate(alerts, ordering=monitoring_selectors.ALERT_ORDERING)


class AlertDetailView(AccessPage):
    template_name = "governance/alert_detail.html"
    actions = {"acknowledge": (EmptyForm, "acknowledge"), "resolve": (ResolveForm, "resolve")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        alert = monitoring_selectors.alert_detail(user=self.request.user, pk=kwargs["pk"])
        details = alert.details if isinstance(alert.details, dict) else {}
        context.update(
            alert=alert,
            details=sorted(details.items()),
            mitigations=[m for m in (alert.mitigations or []) if isinstance(m, dict)],
            deliveries=list(alert.deliveries.all()),
            events=alert.events,
            is_active=alert.state != AlertState.RESOLVED,
            can_act=policies.can_handle_alert(self.request.user, alert.model),
        )
        context.setdefault("resolve_form", ResolveForm())
        return context

    def url(self) -> str:
        return reverse(f"{NS}:alert-detail", args=[self.kwargs["pk"]])

    def acknowledge(self, form):
        alert = monitoring_selectors.alert_get(user=self.request.user, pk=self.kwargs["pk"])
        monitoring_services.alert_acknowledge(actor=self.request.user, alert=alert)
        return self.done("Acknowledged: you are looking into it.", self.url())

    def resolve(self, form):
        alert = monitoring_selectors.alert_get(user=self.request.user, pk=self.kwargs["pk"])
        monitoring_services.alert_resolve(
            actor=self.request.user, alert=alert, resolution=form.cleaned_data["resolution"]
        )
        return self.done("Resolved. It opens again if the check still fires.", self.url())


# --- verification ---------------------------------------------------------------------------------------


class VerificationRunDetailView(AccessPage):
    template_name = "governance/verification_run_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = verification_selectors.verification_run_detail(user=self.request.user, pk=kwargs["pk"])
        checks = [c for c in (run.checks or []) if isinstance(c, dict)]
        context.update(
            run=run,
            model=run.version.model,
            checks=[
                {
                    "name": c.get("name", ""),
                    "passed": c.get("passed"),
                    "value": c.get("value"),
                    "threshold": c.get("threshold"),
                    "message": c.get("message") or "",
                }
                for c in checks
            ],
            isolation=[str(i) for i in (run.isolation or [])],
            is_final=run.status not in (RunStatus.QUEUED, RunStatus.RUNNING),
            is_outdated=run.script_revision != run.script.revision,
        )
        return context


class VerificationScriptCreateView(AccessPage):
    template_name = "governance/verification_script_form.html"
    actions = {"create": (VerificationScriptForm, "create")}

    def dispatch(self, request, *args, **kwargs):
        self.model = access_selectors.governance_model(user=request.user, name=kwargs["name"])
        if not catalog_policies.can_edit_model(request.user, self.model):
            return refusal_page(
                request,
                403,
                "Only the model's owners (or an admin) add verification scripts.",
                back_url=reverse("catalog:model-detail", args=[self.model.name]) + "#monitoring",
                back_label=f"Back to {self.model.name}",
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["model"] = self.model
        context["script_names"] = pages_access.model_script_names(model=self.model)
        context.setdefault("create_form", VerificationScriptForm())
        return context

    def post(self, request, *args, **kwargs):
        return super().post(request, *args, action="create", **kwargs)

    def create(self, form):
        script = verification_services.verification_script_save(
            actor=self.request.user, model=self.model, **form.cleaned_data
        )
        return self.done(
            f"Script “{script.name}” saved (revision {script.revision[:8]}). "
            "Use “Run now” to try it on a version.",
            reverse("catalog:model-detail", args=[self.model.name]) + "#monitoring",
        )


class VerificationScriptRunView(View):
    """POST version=<id>: run a script on a version of its model now (the model's owners and engineers)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        script = verification_selectors.verification_script_detail(user=request.user, pk=pk)
        back = reverse("catalog:model-detail", args=[script.model.name]) + "#monitoring"
        form = RunNowForm(request.POST)
        if not form.is_valid():
            return refusal_page(request, 400, " ".join(form_messages(form)), back_url=back, back_label="Back")
        try:
            version = catalog_selectors.version_by_id(user=request.user, pk=form.cleaned_data["version"])
        except Http404:
            version = None
        if version is None or version.model_id != script.model_id:
            return refusal_page(
                request, 400, f"Choose a version of {script.model.name}.", back_url=back, back_label="Back"
            )
        try:
            queued = verification_services.verification_queue(
                version=version, trigger="manual", actor=request.user, scripts=[script]
            )
        except PermissionDenied as exc:
            return refusal_page(
                request, 403, str(exc), back_url=back, back_label=f"Back to {script.model.name}"
            )
        if queued:
            run = queued[0]
            messages.success(request, f"Run of “{script.name}” on v{version.version} queued.")
        else:
            active = verification_selectors.verification_runs_active(script=script, version_id=version.pk)
            if not active:  # finished between the two reads
                return redirect(back)
            run = active[0]
            messages.info(request, f"“{script.name}” is already queued or running on v{version.version}.")
        return redirect(reverse(f"{NS}:verification-run-detail", args=[run.pk]))
