"""Catalog full-text search: PostgreSQL tsvector with a GIN index; a simple substring fallback elsewhere."""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

MAX_TERMS = 10


def search_terms(text: str) -> list[str]:
    """Words of the query, lower-cased; punctuation and operators are not passed to the database."""
    return [t.lower() for t in re.findall(r"[^\W_]+", text or "")][:MAX_TERMS]


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def search_filter(queryset: QuerySet, text: str) -> QuerySet:
    terms = search_terms(text)
    if not terms:
        return queryset
    if uses_full_text():
        # Prefix match on every word: "churn pred" finds "churn-predictor".
        query = SearchQuery(" & ".join(f"{t}:*" for t in terms), search_type="raw", config="simple")
        return queryset.filter(search_vector=query)
    condition = Q()
    for term in terms:
        condition &= Q(search_document__icontains=term)
    return queryset.filter(condition)


def search_vector_expression():
    return SearchVector("name", weight="A", config="simple") + SearchVector(
        "search_document", weight="B", config="simple"
    )
