"""What every REST view of the portal shares: one base class and the schema of shared FilterSets."""

from django_filters import BooleanFilter, ChoiceFilter, DateFilter, MultipleChoiceFilter, NumberFilter
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, get_doc
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.metadata import SimpleMetadata
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
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


BIGINT_MAX = 2**63 - 1


class ApiMetadata(SimpleMetadata):
    """OPTIONS answers: name, description, renderers and parsers. DRF's default would also describe the
    write serializer, which it finds through `serializer_class` (these views name theirs per method)."""

    def determine_actions(self, request, view):
        return {}


class ApiView(GenericAPIView):
    """Base of the API views: authenticated; filtering is the selectors' job (so no filter backend);
    one input serializer in (`validated`), one output serializer out (`respond`, `respond_page`)."""

    permission_classes = [IsAuthenticated]
    filter_backends = []
    metadata_class = ApiMetadata

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # PostgreSQL refuses NUL in text (a 500). Filters and serializers reject it; path parts would reach
        # the database unchecked, and no query parameter has a use for it.
        if any("\x00" in str(value) for value in kwargs.values()):
            raise NotFound()
        # <int:pk> matches any number of digits; no row has an id beyond a 64-bit integer (and SQLite
        # cannot even compare one: OverflowError, a 500).
        if any(
            isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX for value in kwargs.values()
        ):
            raise NotFound()
        bad = sorted({k for k, values in request.query_params.lists() for v in values if "\x00" in v})
        if bad:
            raise ValidationError({k: ["Null characters are not allowed."] for k in bad})

    def respond(self, serializer_class, instance, *, status_code=status.HTTP_200_OK, load=None, **context):
        """`instance`, serialized. `load([instance])`, if given, adds what it shows from other tables, as
        respond_page's `load` does for a page."""
        if load is not None:
            load([instance])
        data = serializer_class(instance, context={**self.get_serializer_context(), **context}).data
        return Response(data, status=status_code)

    def respond_page(self, serializer_class, queryset, *, load=None):
        """One page of `queryset`, serialized. `load(rows)`, if given, adds what the rows show from other
        tables for that page only (e.g. catalog.selectors.model_list_load) before serialization."""
        page = self.paginate_queryset(queryset)
        if load is not None:
            page = load(list(page))
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @staticmethod
    def validated(serializer_class, data, **kwargs):
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "What went wrong, in words.",
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Messages by field name (`non_field_errors` for the request as a whole, `detail` when the "
    "body could not be parsed); nested objects for nested fields.",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}],
    },
}
ERROR_DESCRIPTIONS = {
    "400": "The request is malformed or invalid: messages by field.",
    "401": "Not signed in: no or an unknown token.",
    "403": "Your role or relation to the object does not allow this.",
    "404": "No such object, or not one you may see.",
    "409": "Conflicts with the object's current state.",
}


class ApiAutoSchema(AutoSchema):
    """The schema of every operation also documents the errors the API answers with (portal.exceptions),
    so clients, and the schema-driven fuzz tests, know every status code an operation can return:
    400 (a request body or query parameters to validate), 401 and 403 (unless anyone may call it), 404
    (objects named in the path) and 409 (writes that can conflict with an object's state)."""

    def get_description(self):
        # Views without a docstring of their own would repeat ApiView's, which describes the base class.
        if self.view.__class__.__doc__ is None:
            return get_doc(getattr(self.view, self.method.lower(), None))
        return super().get_description()

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        locations = {p.get("in") for p in operation.get("parameters", [])}
        permissions = self.view.get_permissions()
        public = not permissions or all(isinstance(p, AllowAny) for p in permissions)
        codes = []
        if "requestBody" in operation or "query" in locations:
            codes.append("400")
        if not public:
            codes += ["401", "403"]
        if "path" in locations:
            codes.append("404")
        if self.method not in SAFE_METHODS:
            codes.append("409")
        responses = operation["responses"]
        for code in codes:
            schema = VALIDATION_ERROR_SCHEMA if code == "400" else ERROR_SCHEMA
            name = "ValidationError" if code == "400" else "Error"
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
            )
            self.registry.register_on_missing(component)
            response = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
            response.setdefault("content", {"application/json": {"schema": component.ref}})
        return operation
