"""What every REST view of the portal shares: one base class and the schema of shared FilterSets."""

from django_filters import BooleanFilter, ChoiceFilter, DateFilter, MultipleChoiceFilter, NumberFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response


def filterset_parameters(filterset_class) -> list[OpenApiParameter]:
    """The query parameters of a shared FilterSet, for the schema of a view whose selector applies it."""
    parameters = []
    for name, flt in filterset_class.base_filters.items():
        choices = flt.extra.get("choices") if isinstance(flt, ChoiceFilter | MultipleChoiceFilter) else None
        description = str(flt.label or name.replace("_", " ").capitalize())
        if flt.extra.get("to_field_name"):
            description += f" ({flt.extra['to_field_name']})"
        kind = OpenApiTypes.STR
        if isinstance(flt, BooleanFilter):
            kind = OpenApiTypes.BOOL
        elif isinstance(flt, DateFilter):
            kind = OpenApiTypes.DATE
        elif isinstance(flt, NumberFilter):
            kind = OpenApiTypes.INT
        multiple = isinstance(flt, MultipleChoiceFilter)
        parameters.append(
            OpenApiParameter(
                name,
                {"type": "array", "items": {"type": "string", "enum": [v for v, _ in choices]}}
                if multiple
                else kind,
                OpenApiParameter.QUERY,
                description=description,
                enum=[value for value, _ in choices] if choices and not multiple else None,
                explode=True if multiple else None,
            )
        )
    return parameters


class ApiView(GenericAPIView):
    """Base of the API views: authenticated; filtering is the selectors' job (so no filter backend);
    one input serializer in (`validated`), one output serializer out (`respond`, `respond_page`)."""

    permission_classes = [IsAuthenticated]
    filter_backends = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # PostgreSQL refuses NUL in text (a 500). Filters and serializers reject it; path parts would reach
        # the database unchecked, and no query parameter has a use for it.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()
        bad = sorted({k for k, values in request.query_params.lists() for v in values if "\x00" in v})
        if bad:
            raise ValidationError({k: ["Null characters are not allowed."] for k in bad})

    def respond(self, serializer_class, instance, *, status_code=status.HTTP_200_OK, **context):
        data = serializer_class(instance, context={**self.get_serializer_context(), **context}).data
        return Response(data, status=status_code)

    def respond_page(self, serializer_class, queryset):
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @staticmethod
    def validated(serializer_class, data, **kwargs):
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer
