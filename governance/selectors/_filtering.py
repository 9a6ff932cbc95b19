from django.core.exceptions import ValidationError


def apply_filterset(filterset_class, data, queryset, **kwargs):
    """Filter with the shared FilterSet; an invalid filter is the caller's error (400), not an empty list.

    Extra keyword arguments (the requesting `user`) go to the FilterSet for filters that depend on them.
    """
    filterset = filterset_class(data=data or {}, queryset=queryset, **kwargs)
    if not filterset.is_valid():
        raise ValidationError({field: list(errors) for field, errors in filterset.errors.items()})
    return filterset.qs
