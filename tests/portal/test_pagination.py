import pytest
from django.core.exceptions import ValidationError

from catalog.models import Lifecycle, RegisteredModel
from portal.pagination import encode_cursor, keyset_paginate, parse_page_size
from tests.factories import DomainFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

LIFECYCLES = list(Lifecycle.values)


@pytest.fixture
def models():
    domains = [DomainFactory(name=f"Dom {c}", slug=f"dom-{c}", key=f"D{c.upper()}X") for c in "abc"]
    # Many ties on lifecycle and domain: only the trailing id makes the order total.
    return [
        RegisteredModelFactory(name=f"m{i:02d}", lifecycle=LIFECYCLES[i % 5], domain=domains[i % 3])
        for i in range(23)
    ]


def walk(ordering, page_size, backwards_check=True):
    qs = RegisteredModel.objects.select_related("domain")
    pages, cursor = [], None
    while True:
        page = keyset_paginate(qs, ordering=ordering, cursor=cursor, page_size=page_size)
        pages.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    forward = [[m.pk for m in p.items] for p in pages]
    if backwards_check:
        # Walk back from the last page with previous links: the same pages in reverse order.
        back, page = [], pages[-1]
        while page.previous_cursor:
            page = keyset_paginate(qs, ordering=ordering, cursor=page.previous_cursor, page_size=page_size)
            back.append([m.pk for m in page.items])
        assert back == forward[:-1][::-1]
    return forward


@pytest.mark.parametrize(
    "ordering",
    [
        ("name", "id"),
        ("-name", "-id"),
        ("lifecycle", "id"),
        ("-updated_at", "-id"),
        ("domain__name", "name", "id"),
    ],
)
def test_walk_visits_every_row_once_in_order(models, ordering):
    pages = walk(ordering, page_size=5)
    seen = [pk for page in pages for pk in page]
    expected = list(RegisteredModel.objects.order_by(*ordering).values_list("pk", flat=True))
    assert seen == expected
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]


def test_first_page_has_no_previous_and_last_has_no_next(models):
    qs = RegisteredModel.objects.all()
    first = keyset_paginate(qs, ordering=("name", "id"), cursor=None, page_size=50)
    assert first.previous_cursor is None and first.next_cursor is None
    assert len(first.items) == 23


def test_empty_queryset():
    page = keyset_paginate(RegisteredModel.objects.all(), ordering=("name", "id"), cursor=None, page_size=10)
    assert page.items == [] and page.next_cursor is None and page.previous_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "eyJ2IjpbXX0",
        encode_cursor(["a"], backwards=False),
        encode_cursor([None, 1], backwards=False),
        encode_cursor(["x", "not-an-int"], backwards=False),
    ],
)
def test_bad_cursors_are_validation_errors(models, cursor):
    with pytest.raises(ValidationError) as exc:
        keyset_paginate(RegisteredModel.objects.all(), ordering=("name", "id"), cursor=cursor, page_size=5)
    assert "cursor" in exc.value.message_dict


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "100000"])
def test_page_size_bounds(raw):
    with pytest.raises(ValidationError):
        parse_page_size(raw, default=25)


def test_page_size_default_and_value():
    assert parse_page_size(None, default=25) == 25
    assert parse_page_size("10", default=25) == 10
