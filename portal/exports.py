"""CSV downloads of the API, declared: the columns, the rows' selector and the file name; streamed."""

import csv
import datetime
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from .api import ApiView, filterset_parameters

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INJECTION_NOTE = (
    "Text cells starting with =, +, -, @ get a leading apostrophe so spreadsheets do not run them."
)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: nothing for None, ISO 8601 for dates, text defused against formulas."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return f"'{value}"
    return value


class _Echo:
    """csv.writer's file: each written line is handed back rather than stored, so rows stream."""

    def write(self, line: str) -> str:
        return line


def csv_lines(columns: dict[str, Callable[[Any], Any]], rows: Iterable) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_cell(value(row)) for value in columns.values()])


class CsvExportApi(ApiView):
    """A filtered list as a CSV download, streamed in batches; errors (401/403/400) still answer in JSON.

    A subclass declares
    - `columns`: header -> value(row), in order; values go through `csv_cell`;
    - `rows(request)`: the rows, from a selector that scopes them to the user and applies the filters;
    - `filename` and `batch_size` (rows fetched per query; smaller where each row prefetches relations);
    - its OpenAPI operation: `operation_id`, `summary`, `filterset` (the query parameters) and `notes` (what
      the columns hold beyond their names). The description lists the columns, so it cannot drift from them.
    """

    pagination_class = None
    columns: ClassVar[dict[str, Callable[[Any], Any]]]
    filename: ClassVar[str]
    batch_size: ClassVar[int] = 2000
    operation_id: ClassVar[str]
    summary: ClassVar[str]
    notes: ClassVar[str] = ""
    filterset: ClassVar[type]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

        # A function of its own per export: extend_schema annotates the function it is given.
        def get(self, request):
            return self.export(request)

        description = " ".join(part for part in (f"Columns: {', '.join(cls.columns)}.", cls.notes) if part)
        cls.get = extend_schema(
            operation_id=cls.operation_id,
            summary=cls.summary,
            description=f"{description} {_INJECTION_NOTE}",
            parameters=filterset_parameters(cls.filterset),
            responses={(200, "text/csv"): OpenApiTypes.STR},
        )(get)

    def perform_content_negotiation(self, request, force=False):
        # The body is CSV whatever the Accept header asks for.
        return super().perform_content_negotiation(request, force=True)

    def rows(self, request) -> QuerySet:
        raise NotImplementedError

    def export(self, request) -> StreamingHttpResponse:
        rows = self.rows(request).iterator(chunk_size=self.batch_size)
        response = StreamingHttpResponse(csv_lines(self.columns, rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        return response
