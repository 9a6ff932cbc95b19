from collections.abc import Iterable

from django.db.models import Prefetch

from ..models import ModelOwner, RegisteredModel
from ..search import search_vector_expression, uses_full_text

BATCH_SIZE = 500


def _document(model: RegisteredModel) -> str:
    owners = [
        " ".join(filter(None, [o.user.username, o.user.get_full_name()])) for o in model.ownerships.all()
    ]
    parts = [
        model.name,
        model.description,
        " ".join(t.name for t in model.tags.all()),
        " ".join(f"{k} {v}" for k, v in (model.registry_tags or {}).items()),
        " ".join(owners),
        model.domain.name,
        model.team.name if model.team_id else "",
    ]
    return "\n".join(p for p in parts if p)


def model_search_refresh(*, model_ids: Iterable[int]) -> int:
    """Rebuild the search document (and, on PostgreSQL, the tsvector) of the given models.

    Works in batches; returns how many models were refreshed. Safe to run twice.
    """
    ids = sorted(set(model_ids))
    refreshed = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch_ids = ids[start : start + BATCH_SIZE]
        models = list(
            RegisteredModel.objects.filter(id__in=batch_ids)
            .select_related("domain", "team")
            .prefetch_related(
                "tags", Prefetch("ownerships", queryset=ModelOwner.objects.select_related("user"))
            )
            .only(
                "id", "name", "description", "registry_tags", "domain__name", "team__name", "search_document"
            )
        )
        for model in models:
            model.search_document = _document(model)
        RegisteredModel.objects.bulk_update(models, ["search_document"], batch_size=200)
        if uses_full_text():
            RegisteredModel.objects.filter(id__in=batch_ids).update(search_vector=search_vector_expression())
        refreshed += len(models)
    return refreshed
