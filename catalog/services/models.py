import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.text import contains_nul

from .. import policies
from ..models import Lifecycle, ModelOwner, ModelVersion, OwnerRole, RegisteredModel, Tag
from .search import model_search_refresh

NAME_RE = re.compile(r"^[^\s/?#%\\\x00-\x1f][^/?#%\\\x00-\x1f]{0,199}$")
TAG_RE = re.compile(r"^[\w.\-:]{1,50}$")
TEXT_FIELDS = ("description", "intended_use", "limitations", "ethical_considerations")
EDITABLE_FIELDS = (
    "domain",
    "team",
    "description",
    "intended_use",
    "limitations",
    "ethical_considerations",
    "lifecycle",
    "primary_metric",
    "primary_metric_goal",
    "retrain_every_days",
    "source",
    "source_url",
    "contract",
    "regression_tolerance",
)
COLUMN_TYPES = {"string", "integer", "number", "boolean", "datetime", "date", "array", "object"}


def _clean_contract(contract) -> dict:
    """{"inputs": [{name, type, ...}], "outputs": [...]}, as the manifest schema describes it."""
    if not isinstance(contract, dict) or set(contract) - {"inputs", "outputs"}:
        raise ValidationError({"contract": "Give an object with 'inputs' and 'outputs' lists."})
    for side in ("inputs", "outputs"):
        columns = contract.get(side, [])
        if not isinstance(columns, list) or len(columns) > 500:
            raise ValidationError({"contract": f"'{side}' must be a list of up to 500 columns."})
        for i, column in enumerate(columns):
            if not isinstance(column, dict) or not str(column.get("name", "")).strip():
                raise ValidationError({"contract": f"{side}[{i}] needs a name."})
            if column.get("type") not in COLUMN_TYPES:
                types = ", ".join(sorted(COLUMN_TYPES))
                raise ValidationError({"contract": f"{side}[{i}].type must be one of {types}."})
    return contract


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ValidationError(
            {"name": "Use 1-200 characters without '/', '?', '#', '%', '\\' or control characters."}
        )
    return name


def _clean_texts(fields: dict) -> None:
    limit = settings.MODELHOUSE_MAX_DESCRIPTION_CHARS
    errors = {f: f"At most {limit:,} characters." for f in TEXT_FIELDS if len(fields.get(f) or "") > limit}
    if errors:
        raise ValidationError(errors)


def _clean_tags(tags) -> list[str]:
    cleaned = sorted({t.strip().lower() for t in tags or [] if t and t.strip()})
    bad = [t for t in cleaned if not TAG_RE.match(t)]
    if bad:
        raise ValidationError(
            {"tags": f"Tags are 1-50 letters, digits, '.', '-', '_' or ':'; not {', '.join(bad)}."}
        )
    if len(cleaned) > 30:
        raise ValidationError({"tags": "At most 30 tags."})
    return cleaned


def _set_tags(model: RegisteredModel, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    model.tags.set(existing.values())


def _set_owners(model: RegisteredModel, owners) -> None:
    """owners: iterable of (user, role) pairs; replaces the current owners."""
    rows = {(user.pk, role) for user, role in owners}
    bad_roles = {role for _, role in rows if role not in OwnerRole.values}
    if bad_roles:
        raise ValidationError({"owners": f"Unknown owner roles: {', '.join(sorted(bad_roles))}."})
    ModelOwner.objects.filter(model=model).delete()
    ModelOwner.objects.bulk_create(
        [ModelOwner(model=model, user_id=uid, role=role) for uid, role in sorted(rows)]
    )


def models_refresh_version_stats(*, model_ids) -> None:
    """Recompute latest version, version count and next retraining date for many models at once.

    Removed versions do not count. A fixed number of queries per batch, whatever the number of models.
    """
    from django.db.models import Count, OuterRef, Subquery

    ids = sorted(set(model_ids))
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        live = ModelVersion.objects.filter(model=OuterRef("pk")).exclude(status="removed")
        rows = (
            RegisteredModel.objects.filter(pk__in=batch)
            .annotate(
                _latest=Subquery(live.order_by("-sequence", "-id").values("pk")[:1]),
                _last_trained=Subquery(live.order_by("-created_at").values("created_at")[:1]),
                _count=Subquery(live.order_by().values("model").annotate(n=Count("pk")).values("n")[:1]),
            )
            .only("pk", "retrain_every_days", "latest_version", "version_count", "next_retrain_due")
        )
        changed = []
        for model in rows:
            due = (
                model._last_trained + timezone.timedelta(days=model.retrain_every_days)
                if model._last_trained and model.retrain_every_days
                else None
            )
            values = (model._latest, model._count or 0, due)
            if (model.latest_version_id, model.version_count, model.next_retrain_due) != values:
                model.latest_version_id, model.version_count, model.next_retrain_due = values
                model.updated_at = timezone.now()
                changed.append(model)
        RegisteredModel.objects.bulk_update(
            changed, ["latest_version", "version_count", "next_retrain_due", "updated_at"], batch_size=200
        )


def model_refresh_version_stats(*, model: RegisteredModel) -> None:
    """Recompute the denormalised latest version, count and next retraining date from the versions."""
    models_refresh_version_stats(model_ids=[model.pk])
    model.refresh_from_db(fields=["latest_version", "version_count", "next_retrain_due", "updated_at"])


@transaction.atomic
def model_create(
    *,
    actor,
    name: str,
    domain,
    description: str = "",
    tags=(),
    owners=None,
    lifecycle: str = Lifecycle.EXPERIMENTAL,
    **fields,
) -> RegisteredModel:
    """Register a model. With no owners given, the actor becomes its technical owner.

    Raises ValidationError (field messages) or PermissionDenied.
    """
    policies.require(
        policies.can_register_model(actor), "Only scientists, engineers and admins register models."
    )
    name = _clean_name(name)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _clean_texts({"description": description, **fields})
    if owners is not None and not owners:
        raise ValidationError({"owners": "A model needs at least one owner."})
    if contains_nul([name, description, list(tags or ()), fields]):
        raise ValidationError("Null characters are not allowed in text.")
    duplicate = {"name": f"A model named {name!r} is already registered."}
    if RegisteredModel.objects.filter(name=name).exists():
        raise ValidationError(duplicate)
    model = RegisteredModel(name=name, domain=domain, description=description, lifecycle=lifecycle, **fields)
    model.full_clean(exclude=["latest_version", "search_vector"])
    try:
        with transaction.atomic():  # a concurrent insert of the same name is a 400, not a 500
            model.save()
    except IntegrityError:
        raise ValidationError(duplicate) from None
    _set_tags(model, _clean_tags(tags))
    _set_owners(model, owners if owners is not None else [(actor, OwnerRole.TECHNICAL)])
    model_search_refresh(model_ids=[model.pk])
    return model


@transaction.atomic
def model_update(*, actor, model: RegisteredModel, tags=None, owners=None, **fields) -> RegisteredModel:
    """Change a model's metadata; only the given fields change. Raises ValidationError/PermissionDenied."""
    policies.require(
        policies.can_edit_model(actor, model), "Only the model's owners or an admin may edit it."
    )
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _clean_texts(fields)
    if "contract" in fields:
        fields["contract"] = _clean_contract(fields["contract"])
    if contains_nul([list(tags or ()), fields]):
        raise ValidationError("Null characters are not allowed in text.")
    for key, value in fields.items():
        setattr(model, key, value)
    model.full_clean(exclude=["latest_version", "search_vector"])
    model.save()
    if tags is not None:
        _set_tags(model, _clean_tags(tags))
    if owners is not None:
        if not owners:
            raise ValidationError({"owners": "A model needs at least one owner."})
        _set_owners(model, owners)
    if "retrain_every_days" in fields:
        model_refresh_version_stats(model=model)
    model_search_refresh(model_ids=[model.pk])
    return model
