"""FilterSets shared by the governance HTML lists and the API (one definition, one behaviour).

Filters that depend on who is asking (the saved views "assigned to me", "watching", ...) read the user
passed to the FilterSet; the selectors always pass it.
"""

import datetime

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.models import Domain, RegisteredModel, Team
from catalog.search import search_terms

from .models import AuditEvent, PromotionRequest, PromotionStatus, WorkItem, WorkItemType
from .models.work_items import DUE_SOON, Priority, SlaState
from .workflows import CLOSED, STATUS_LABELS

# From the workflow's labels: models.work_items.Status is built with (name, value) pairs the wrong way round,
# so its .choices hold the labels ("Open") as values.
STATUS_CHOICES = list(STATUS_LABELS.items())

# The SLA states the list filters on; closed items with a due date are "met" or "missed" (not filtered).
SLA_FILTER_CHOICES = [
    (s.value, s.label) for s in (SlaState.NONE, SlaState.ON_TRACK, SlaState.DUE_SOON, SlaState.BREACHED)
]

SAVED_VIEWS = {
    "assigned_to_me": "Assigned to me",
    "reported_by_me": "Reported by me",
    "my_team": "My teams' items",
    "overdue": "Overdue (open, past the due date)",
    "watching": "Watching",
}


def sla_q(state: str, *, today: datetime.date | None = None) -> Q:
    """The rows whose WorkItem.sla_state is `state` (one of none/on_track/due_soon/breached), in SQL."""
    today = today or timezone.localdate()
    still_open = ~Q(status__in=CLOSED)
    if state == SlaState.NONE:
        return Q(due_date__isnull=True)
    if state == SlaState.BREACHED:
        return still_open & Q(due_date__lt=today)
    if state == SlaState.DUE_SOON:
        return still_open & Q(due_date__gte=today, due_date__lte=today + DUE_SOON)
    if state == SlaState.ON_TRACK:
        return still_open & Q(due_date__gt=today + DUE_SOON)
    raise ValueError(state)


class WorkItemFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search key and title", max_length=200)
    type = django_filters.ChoiceFilter(choices=WorkItemType.choices)
    status = django_filters.MultipleChoiceFilter(choices=STATUS_CHOICES, label="Status (repeat for several)")
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    assignee = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Assignee"
    )
    reporter = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Reporter"
    )
    domain = django_filters.ModelChoiceFilter(
        queryset=Domain.objects.all(), to_field_name="slug", label="Domain"
    )
    model = django_filters.ModelChoiceFilter(
        queryset=RegisteredModel.objects.all(), to_field_name="name", label="Model"
    )
    label = django_filters.CharFilter(method="filter_label", max_length=50, label="Label")
    sla = django_filters.ChoiceFilter(choices=SLA_FILTER_CHOICES, method="filter_sla", label="SLA state")
    view = django_filters.ChoiceFilter(
        choices=list(SAVED_VIEWS.items()), method="filter_view", label="Saved view"
    )

    class Meta:
        model = WorkItem
        fields = [
            "q",
            "type",
            "status",
            "priority",
            "assignee",
            "reporter",
            "domain",
            "model",
            "label",
            "sla",
            "view",
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        words = Q()
        for term in search_terms(value):
            words &= Q(title__icontains=term) | Q(key__icontains=term)
        return queryset.filter(Q(key__iexact=value) | words)

    def filter_label(self, queryset, name, value):
        # EXISTS rather than a join: no duplicate rows, so no DISTINCT that would defeat keyset order.
        through = WorkItem.labels.through
        return queryset.filter(
            Exists(through.objects.filter(workitem=OuterRef("pk"), tag__name=value.strip().lower()))
        )

    def filter_sla(self, queryset, name, value):
        return queryset.filter(sla_q(value))

    def filter_view(self, queryset, name, value):
        user = self.user
        if user is None or not user.is_authenticated:
            return queryset.none()
        if value == "assigned_to_me":
            return queryset.filter(assignee=user)
        if value == "reported_by_me":
            return queryset.filter(reporter=user)
        if value == "watching":
            through = WorkItem.watchers.through
            return queryset.filter(Exists(through.objects.filter(workitem=OuterRef("pk"), user=user)))
        if value == "overdue":
            return queryset.filter(sla_q(SlaState.BREACHED))
        if value == "my_team":
            # Items assigned to someone on one of my teams, or about a model one of my teams holds.
            my_teams = Team.objects.filter(members=user)
            members = Team.members.through.objects.filter(team__in=my_teams, user=OuterRef("assignee"))
            return queryset.filter(Exists(members) | Q(model__team__in=my_teams))
        return queryset


class PromotionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PromotionStatus.choices)
    model = django_filters.ModelChoiceFilter(
        queryset=RegisteredModel.objects.all(), to_field_name="name", label="Model"
    )
    target = django_filters.CharFilter(max_length=100, label="Target (staging, production or an alias)")
    requested_by = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Requested by"
    )

    class Meta:
        model = PromotionRequest
        fields = ["status", "model", "target", "requested_by"]


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", max_length=60, label="Action prefix (e.g. promotion.)"
    )
    actor = django_filters.CharFilter(field_name="actor_name", max_length=150, label="Actor username")
    target_type = django_filters.CharFilter(max_length=60, label="Target type (e.g. governance.workitem)")
    target_id = django_filters.CharFilter(max_length=64, label="Target id")
    since = django_filters.DateFilter(method="filter_since", label="On or after (YYYY-MM-DD)")
    until = django_filters.DateFilter(method="filter_until", label="On or before (YYYY-MM-DD)")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "target_type", "target_id", "since", "until"]

    def filter_since(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_until(self, queryset, name, value):
        if value == datetime.date.max:
            return queryset  # the day after would overflow; nothing happens after it anyway
        return queryset.filter(occurred_at__lt=_start_of(value + datetime.timedelta(days=1)))
