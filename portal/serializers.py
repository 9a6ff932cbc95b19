"""A lean walk for output serializers whose rows are many (list endpoints).

DRF's Serializer.to_representation() asks each field, for each row, to find its attribute (source lookup
with its error handling), checks for None and for skipped fields, and nested serializers and method fields
each add their own machinery: on the models list (50 rows, 25 fields, nested owners) that walk was most of
the endpoint's time. LeanOutput answers the same dict from a plan made once per serializer instance: per
field, the attribute path and the field's own to_representation() (so formats, such as dates, stay DRF's),
or the bound method of a SerializerMethodField. What the plan cannot decide cheaply (a missing attribute
along the path: defaults, allow_null, skipped fields) it hands back to the field, as DRF would.
tests/portal/test_lean_output.py holds it to DRF's answer.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import SkipField, get_attribute
from rest_framework.relations import PKOnlyObject

_SKIP = object()


class LeanOutput(serializers.Serializer):
    # Read-only output: declare fields as usual; rows are built by the plan (see the module). A comment,
    # not a docstring: drf-spectacular would publish it as every subclass's description.

    def to_representation(self, instance):
        plan = self.__dict__.get("_lean_plan")
        if plan is None:
            plan = self.__dict__["_lean_plan"] = [(f.field_name, _step(f)) for f in self._readable_fields]
        row = {}
        for name, get in plan:
            value = get(instance)
            if value is not _SKIP:
                row[name] = value
        return row


def _step(field):
    if isinstance(field, serializers.SerializerMethodField):
        return getattr(field.parent, field.method_name)
    to_representation = field.to_representation
    if isinstance(field, serializers.RelatedField | serializers.ManyRelatedField):
        return _drf_step(field)  # their own lookup (primary keys without loading the row)
    attrs = field.source_attrs
    if not attrs:  # source="*": the row itself
        return to_representation

    def get(instance):
        try:
            value = get_attribute(instance, attrs)
        except (KeyError, AttributeError):
            # A missing attribute along the path: the field decides (its default, allow_null, or skip).
            try:
                value = field.get_attribute(instance)
            except SkipField:
                return _SKIP
        return None if value is None else to_representation(value)

    return get


def _drf_step(field):
    """DRF's own step for one field, as Serializer.to_representation() takes it."""

    def get(instance):
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return _SKIP
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return get
