"""Keyset (seek) pagination for HTML lists and the API: deep pages cost the same as page 1, never OFFSET.

A cursor is an opaque URL-safe token holding the sort values of the row it points at and a direction.
Every ordering must end with a unique column (the primary key), so each row has one place in the order.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response


class InvalidCursor(DjangoValidationError):
    def __init__(self, message: str = "This cursor is not valid; start again from the first page.") -> None:
        super().__init__({"cursor": [message]})


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None
    page_size: int


def _field_for(model: type[Model], path: str):
    field = None
    current = model
    for part in path.split("__"):
        field = current._meta.get_field(part)
        if field.is_relation and field.related_model is not None:
            current = field.related_model
    return field


def _value_of(obj: Any, path: str) -> Any:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj.pk if isinstance(obj, Model) else obj


class _CursorEncoder(DjangoJSONEncoder):
    """Full-precision datetimes: DjangoJSONEncoder drops microseconds, which would make seeks skip rows."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.date | datetime.time):
            return o.isoformat()
        return super().default(o)


def encode_cursor(values: Sequence[Any], *, backwards: bool) -> str:
    raw = json.dumps({"v": list(values), "b": backwards}, cls=_CursorEncoder, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, model: type[Model], ordering: Sequence[str]) -> tuple[list[Any], bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        raw_values, backwards = data["v"], bool(data["b"])
        if not isinstance(raw_values, list) or len(raw_values) != len(ordering):
            raise InvalidCursor()
        values = []
        for spec, raw in zip(ordering, raw_values, strict=True):
            field = _field_for(model, spec.lstrip("-"))
            if raw is None or (isinstance(raw, str) and "\x00" in raw):
                raise InvalidCursor()  # PostgreSQL refuses NUL in text: a 400, not a 500
            values.append(field.to_python(raw))
        return values, backwards
    except (
        ValueError,
        KeyError,
        TypeError,
        binascii.Error,
        UnicodeDecodeError,
        FieldDoesNotExist,
        DjangoValidationError,
    ) as exc:
        if isinstance(exc, InvalidCursor):
            raise
        raise InvalidCursor() from exc


def _seek_filter(ordering: Sequence[str], values: Sequence[Any], *, backwards: bool) -> Q:
    """Rows strictly after (or before) `values` in `ordering`: (a > x) OR (a = x AND b > y) OR ..."""
    clause = Q()
    for i, spec in enumerate(ordering):
        field = spec.lstrip("-")
        descending = spec.startswith("-")
        op = "lt" if descending != backwards else "gt"
        term = Q(**{f"{field}__{op}": values[i]})
        for j in range(i):
            term &= Q(**{ordering[j].lstrip("-"): values[j]})
        clause |= term
    if len(ordering) > 1:
        # The same rows, plus a bound on the first column alone: an OR of terms is no index condition, so
        # without it PostgreSQL walks the index from the start and filters (262 ms at row 90,000 of 100k).
        first = ordering[0].lstrip("-")
        op = "lte" if ordering[0].startswith("-") != backwards else "gte"
        clause = Q(**{f"{first}__{op}": values[0]}) & clause
    return clause


def _reverse(ordering: Sequence[str]) -> list[str]:
    return [spec[1:] if spec.startswith("-") else f"-{spec}" for spec in ordering]


def keyset_paginate(
    queryset: QuerySet, *, ordering: Sequence[str], cursor: str | None, page_size: int
) -> KeysetPage:
    """One page of `queryset` in `ordering` (which must end with a unique field) after/before `cursor`.

    Raises InvalidCursor (a ValidationError) for a cursor that was not made by this paginator.
    """
    ordering = list(ordering)
    values, backwards = decode_cursor(cursor, queryset.model, ordering) if cursor else (None, False)
    qs = queryset.order_by(*(_reverse(ordering) if backwards else ordering))
    if values is not None:
        qs = qs.filter(_seek_filter(ordering, values, backwards=backwards))
    rows = list(qs[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def key(obj: Any) -> list[Any]:
        return [_value_of(obj, spec.lstrip("-")) for spec in ordering]

    next_cursor = previous_cursor = None
    if rows:
        if has_more or backwards:
            next_cursor = encode_cursor(key(rows[-1]), backwards=False)
        if values is not None and (has_more or not backwards):
            previous_cursor = encode_cursor(key(rows[0]), backwards=True)
    return KeysetPage(
        items=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, page_size=page_size
    )


def parse_page_size(raw: str | None, *, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    maximum = settings.MODELHOUSE_PAGE_SIZE_MAX
    if not 1 <= size <= maximum:
        raise DjangoValidationError({"page_size": [f"Must be a whole number from 1 to {maximum}."]})
    return size


def querystring_with(params, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes them)."""
    merged = {k: v for k, v in params.lists()} if hasattr(params, "lists") else dict(params)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = [value]
    return "?" + urlencode([(k, v) for k, vs in merged.items() for v in vs])


class KeysetApiPagination(BasePagination):
    """DRF face of keyset_paginate. The view names its ordering in `get_keyset_ordering()`."""

    page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        try:
            page_size = parse_page_size(request.query_params.get("page_size"), default=self.page_size)
            ordering = view.get_keyset_ordering() if hasattr(view, "get_keyset_ordering") else ["pk"]
            self.page = keyset_paginate(
                queryset, ordering=ordering, cursor=request.query_params.get("cursor"), page_size=page_size
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return self.page.items

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return self.request.build_absolute_uri(querystring_with(self.request.query_params, cursor=cursor))

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "schema": {"type": "string"},
                "description": "Opaque cursor from a previous page's next/previous link.",
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.MODELHOUSE_PAGE_SIZE_MAX},
            },
        ]
