from django.core.exceptions import ValidationError


def apply_filterset(filterset_class, data, queryset):
    """Filter with the shared FilterSet; an invalid filter is the caller's error (400), not an empty list."""
    filterset = filterset_class(data=data or {}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs
