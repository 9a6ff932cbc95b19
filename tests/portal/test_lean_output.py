"""portal.serializers.LeanOutput answers what DRF's field-by-field walk answers, for every kind of field
path the project's output serializers use (and the odd ones DRF handles on its own)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers

from portal.serializers import LeanOutput


class Ref(LeanOutput):
    slug = serializers.CharField()
    name = serializers.CharField()


class Row(LeanOutput):
    name = serializers.CharField()
    when = serializers.DateTimeField(allow_null=True)
    ref = Ref(allow_null=True)
    refs = Ref(many=True, source="ref_list")
    deep = serializers.CharField(source="ref.name", allow_null=True, default=None)  # None part-way
    called = serializers.CharField(source="shout")  # a callable attribute is called
    maybe = serializers.CharField(required=False)  # missing and not required: left out
    from_map = serializers.IntegerField(source="mapping.count")
    method = serializers.SerializerMethodField()
    whole = serializers.CharField(source="*")

    def get_method(self, obj) -> str:
        return f"{obj.name}!"


class Thing:
    def __init__(self, name, *, ref=None, when=None, maybe=None):
        self.name = name
        self.ref = ref
        self.ref_list = [r for r in (ref, ref) if r is not None]
        self.when = when
        self.mapping = {"count": len(name)}
        if maybe is not None:
            self.maybe = maybe

    def shout(self):
        return self.name.upper()

    def __str__(self):
        return f"Thing {self.name}"


class Named:
    def __init__(self, slug, name):
        self.slug, self.name = slug, name


THINGS = [
    Thing(
        "a", ref=Named("x", "X"), when=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), maybe="m"
    ),
    Thing("b"),
    Thing("c", ref=Named("y", None)),
]


def _both(serializer_class, instance, monkeypatch, **kwargs):
    fast = serializer_class(instance, **kwargs).data
    with monkeypatch.context() as patch:
        patch.setattr(LeanOutput, "to_representation", serializers.Serializer.to_representation)
        slow = serializer_class(instance, **kwargs).data
    return fast, slow


def test_lean_rows_equal_drfs(monkeypatch):
    fast, slow = _both(Row, THINGS, monkeypatch, many=True)
    assert [dict(r) for r in fast] == [dict(r) for r in slow]
    assert [list(r) for r in fast] == [list(r) for r in slow]  # keys in the same order, "maybe" left out
    first, second, third = fast
    assert first["when"] == "2026-01-02T03:04:05Z" and first["maybe"] == "m" and "maybe" not in second
    assert second["ref"] is None and second["deep"] is None and second["refs"] == []
    assert third["deep"] is None and third["ref"] == {"slug": "y", "name": None}
    assert first["called"] == "A" and first["from_map"] == 1 and first["method"] == "a!"
    assert first["whole"] == "Thing a"


def test_a_missing_required_attribute_fails_as_in_drf(monkeypatch):
    class Strict(LeanOutput):
        missing = serializers.CharField(source="nowhere")

    with pytest.raises(AttributeError):
        _ = Strict(Thing("a")).data
    with monkeypatch.context() as patch, pytest.raises(AttributeError):
        patch.setattr(LeanOutput, "to_representation", serializers.Serializer.to_representation)
        _ = Strict(Thing("a")).data


@pytest.mark.django_db
def test_related_fields_keep_drfs_own_lookup(monkeypatch, django_assert_num_queries):
    """A primary-key field reads the key without loading the row, as in DRF."""
    from catalog.models import ModelOwner
    from tests.factories import RegisteredModelFactory, UserFactory

    owner = UserFactory(username="olga")
    model = RegisteredModelFactory(owners=[owner])

    class OwnerRow(LeanOutput):
        user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
        role = serializers.CharField()

    rows = list(ModelOwner.objects.filter(model=model))
    with django_assert_num_queries(0):
        fast, slow = _both(OwnerRow, rows, monkeypatch, many=True)
    assert [dict(r) for r in fast] == [dict(r) for r in slow] == [{"user": owner.pk, "role": rows[0].role}]
