"""The declared CSV exports: cells are defused and the schema lists exactly the declared columns."""

import csv
import datetime
import io

import pytest
from drf_spectacular.generators import SchemaGenerator

from governance.api.access_views import AccessDecisionExportApi, GrantExportApi
from governance.api.views import AuditEventExportApi
from portal.exports import csv_cell, csv_lines


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("plain = text", "plain = text"),
        (-3, -3),  # a number is not a formula
        (datetime.date(2026, 11, 24), "2026-11-24"),
        (datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC), "2026-11-24T09:30:00+00:00"),
    ],
)
def test_cells_are_defused_and_dates_are_iso(value, cell):
    assert csv_cell(value) == cell


def test_lines_stream_one_row_per_item_under_the_declared_header():
    columns = {"name": lambda row: row["name"], "when": lambda row: row["when"]}
    rows = [{"name": "=cmd", "when": datetime.date(2026, 1, 2)}, {"name": 'a "quoted", name', "when": None}]
    lines = list(csv_lines(columns, iter(rows)))
    assert len(lines) == 3  # header + one line per row, produced one at a time
    assert list(csv.reader(io.StringIO("".join(lines)))) == [
        ["name", "when"],
        ["'=cmd", "2026-01-02"],
        ['a "quoted", name', ""],
    ]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(
    ("view", "path"),
    [
        (GrantExportApi, "/api/v1/grants/export.csv"),
        (AccessDecisionExportApi, "/api/v1/access-decisions/export.csv"),
        (AuditEventExportApi, "/api/v1/audit-events/export.csv"),
    ],
)
def test_each_export_documents_its_own_columns_and_filters(schema, view, path):
    operation = schema["paths"][path]["get"]
    assert operation["operationId"] == view.operation_id
    assert operation["description"].startswith(f"Columns: {', '.join(view.columns)}.")
    assert "leading apostrophe" in operation["description"]
    assert list(operation["responses"]["200"]["content"]) == ["text/csv"]
    assert {p["name"] for p in operation["parameters"]} >= set(view.filterset.base_filters)
