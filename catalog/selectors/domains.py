from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from ..models import Domain, Lifecycle


def domain_list() -> QuerySet[Domain]:
    """Domains with model counts per lifecycle, in one query."""
    counts = {f"{lc.value}_count": Count("models", filter=Q(models__lifecycle=lc.value)) for lc in Lifecycle}
    return Domain.objects.annotate(model_count=Count("models"), **counts).order_by("name")


def domain_detail(*, slug: str) -> Domain:
    return get_object_or_404(domain_list(), slug=slug)
