"""FilterSets shared by the HTML lists and the API (one definition, one behaviour)."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from .models import Dataset, Domain, Lifecycle, ModelOwner, RegisteredModel, RegistrySource, Sensitivity, Team
from .search import search_filter, search_terms


class ModelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search", max_length=200)
    domain = django_filters.ModelChoiceFilter(
        queryset=Domain.objects.all(), to_field_name="slug", label="Domain"
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), to_field_name="slug", label="Team")
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.all(),
        to_field_name="username",
        method="filter_owner",
        label="Owner",
    )
    lifecycle = django_filters.ChoiceFilter(choices=Lifecycle.choices)
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, label="Tag")
    registry = django_filters.ModelChoiceFilter(
        queryset=RegistrySource.objects.all(), to_field_name="name", field_name="source", label="Registry"
    )

    class Meta:
        model = RegisteredModel
        fields = ["q", "domain", "team", "owner", "lifecycle", "tag", "registry"]

    def filter_q(self, queryset, name, value):
        return search_filter(queryset, value)

    def filter_owner(self, queryset, name, value):
        # EXISTS rather than a join: no duplicate rows, so no DISTINCT that would defeat keyset order.
        return queryset.filter(Exists(ModelOwner.objects.filter(model=OuterRef("pk"), user=value)))

    def filter_tag(self, queryset, name, value):
        through = RegisteredModel.tags.through
        return queryset.filter(
            Exists(through.objects.filter(registeredmodel=OuterRef("pk"), tag__name=value))
        )


class DatasetFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search", max_length=200)
    domain = django_filters.ModelChoiceFilter(queryset=Domain.objects.all(), to_field_name="slug")
    sensitivity = django_filters.ChoiceFilter(choices=Sensitivity.choices)
    has_pii = django_filters.BooleanFilter(method="filter_has_pii", label="Contains personal data")

    class Meta:
        model = Dataset
        fields = ["q", "domain", "sensitivity", "has_pii"]

    def filter_q(self, queryset, name, value):
        for term in search_terms(value):
            queryset = queryset.filter(Q(name__icontains=term) | Q(uri__icontains=term))
        return queryset

    def filter_has_pii(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(pii_categories=[]) if value else queryset.filter(pii_categories=[])
