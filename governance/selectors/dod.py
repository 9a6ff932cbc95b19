"""Definition-of-done reads: one model's checklist, and the scores of many models at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from catalog import policies as catalog_policies
from catalog.models import Domain, RegisteredModel

from ..services.dod import DodReport, dod_evaluate, dod_load, dod_queryset

DOD_SCORE_ORDERING = ("name", "id")


@dataclass(frozen=True)
class DodScore:
    model: RegisteredModel
    report: DodReport


def dod_score_models(*, domain: Domain | None = None) -> QuerySet[RegisteredModel]:
    """Models (of one domain, or all) loaded with everything dod_evaluate reads, by name."""
    qs = RegisteredModel.objects.all() if domain is None else RegisteredModel.objects.filter(domain=domain)
    qs = qs.select_related("domain").defer("search_document", "search_vector")
    return dod_queryset(qs).order_by(*DOD_SCORE_ORDERING)


def dod_scores(
    *, domain: Domain | None = None, models: Iterable[RegisteredModel] | None = None
) -> list[DodScore]:
    """Every model of `domain` (or the given models, loaded through dod_score_models) with its
    definition-of-done report, in a fixed number of queries whatever the number of models."""
    if models is None:
        models = dod_score_models(domain=domain)
    return [DodScore(model, dod_evaluate(model=model)) for model in models]


def dod_scores_up_to(*, domain: Domain | None = None, limit: int) -> list[DodScore] | None:
    """dod_scores(domain=domain), or None when more than `limit` models would be scored: the keys are
    counted first, as at scale loading limit + 1 models with everything the checklist reads, to show none
    of them, was a fifth of the dashboard's time."""
    scored = dod_score_models(domain=domain)
    keys = list(scored.values_list("pk", flat=True)[: limit + 1])
    if len(keys) > limit:
        return None
    return dod_scores(models=scored.filter(pk__in=keys)) if keys else []


def dod_score(*, user, name: str) -> DodScore:
    """One model's checklist. Http404 if the model is unknown."""
    model = get_object_or_404(catalog_policies.scope(dod_score_models(), user), name=name)
    return DodScore(model, dod_evaluate(model=model))


def model_dod_score(*, model: RegisteredModel) -> DodScore:
    """The checklist of a model the caller already loaded and scoped (the model page's governance part):
    reuses its latest version, input datasets and owners, and reads the rest without a second read of the
    model."""
    return DodScore(model, dod_evaluate(model=dod_load(model)))
