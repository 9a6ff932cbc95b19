"""Work items: create, edit, move through their workflow, comment, link. Each change is audited."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Tag
from portal.text import contains_nul

from .. import policies
from ..models import (
    PRIORITY_RANK,
    Comment,
    LinkKind,
    WorkItem,
    WorkItemCounter,
    WorkItemLink,
    WorkItemType,
)
from ..workflows import CLOSED, STATUS_LABELS, WORKFLOWS
from .audit import audit_record

MENTION_RE = re.compile(r"(?<![\w@])@([\w.\-]{0,149}\w)")  # a trailing "." ends the sentence, not the name
LABEL_RE = re.compile(r"^[\w.\-:]{1,50}$")
EDITABLE = ("title", "description", "priority", "assignee", "due_date", "model", "version", "dataset")


def _snapshot(item: WorkItem, fields) -> dict:
    out = {}
    for name in fields:
        value = getattr(item, name)
        out[name] = str(value) if hasattr(value, "pk") else value
    return out


def _clean(fields: dict) -> None:
    errors = {}
    if "title" in fields and not (fields["title"] or "").strip():
        errors["title"] = "A title is required."
    if len(fields.get("title") or "") > 200:
        errors["title"] = "At most 200 characters."
    if len(fields.get("description") or "") > settings.MODELHOUSE_MAX_DESCRIPTION_CHARS:
        errors["description"] = f"At most {settings.MODELHOUSE_MAX_DESCRIPTION_CHARS:,} characters."
    if "priority" in fields and fields["priority"] not in PRIORITY_RANK:
        errors["priority"] = f"One of {', '.join(PRIORITY_RANK)}."
    due = fields.get("due_date")
    if due is not None and not isinstance(due, date):
        errors["due_date"] = "A date (YYYY-MM-DD)."
    version, model = fields.get("version"), fields.get("model")
    if version is not None and model is not None and version.model_id != model.pk:
        errors["version"] = "That version belongs to another model."
    if contains_nul([fields.get("title"), fields.get("description")]):
        errors["description"] = "Null characters are not allowed."
    if errors:
        raise ValidationError(errors)


def _labels(names) -> list[Tag]:
    cleaned = sorted({n.strip().lower() for n in names or [] if n and n.strip()})
    bad = [n for n in cleaned if not LABEL_RE.match(n)]
    if bad:
        raise ValidationError(
            {"labels": f"Labels are 1-50 letters, digits, '.', '-', '_' or ':'; not {bad[0]!r}."}
        )
    Tag.objects.bulk_create([Tag(name=n) for n in cleaned], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=cleaned))


def _next_key(domain) -> tuple[int, str]:
    counter, _ = WorkItemCounter.objects.get_or_create(domain=domain)
    counter = WorkItemCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"{domain.key}-{counter.last_number}"


@transaction.atomic
def work_item_create(
    *,
    actor,
    domain,
    type: str,
    title: str,
    description: str = "",
    priority: str = "medium",
    assignee=None,
    due_date: date | None = None,
    labels=(),
    model=None,
    version=None,
    dataset=None,
    watchers=(),
    _system: bool = False,
) -> WorkItem:
    """A new item keyed in its domain's project (PERS-42). The reporter and assignee watch it."""
    policies.require(policies.can_create_work_item(actor), "Sign in to create work items.")
    if type not in WorkItemType.values:
        raise ValidationError({"type": f"One of {', '.join(WorkItemType.values)}."})
    if type in ("promotion", "data_access") and not _system:
        raise ValidationError({"type": "Promotion and data-access items are created by their requests."})
    fields = dict(
        title=title,
        description=description,
        priority=priority,
        assignee=assignee,
        due_date=due_date,
        model=model,
        version=version,
        dataset=dataset,
    )
    if version is not None and model is None:
        fields["model"] = version.model
    _clean(fields)
    number, key = _next_key(domain)
    item = WorkItem(
        domain=domain,
        number=number,
        key=key,
        type=type,
        reporter=actor,
        priority_rank=PRIORITY_RANK[priority],
        **{**fields, "title": title.strip()},
    )
    item.save()
    item.labels.set(_labels(labels))
    item.watchers.set({u.pk for u in [actor, assignee, *watchers] if u is not None and u.pk})
    audit_record(
        actor=actor,
        action="work_item.created",
        target=item,
        target_label=item.key,
        after={
            "type": type,
            "title": item.title,
            "status": item.status,
            "priority": priority,
            "assignee": str(assignee or ""),
            "due_date": due_date,
        },
    )
    return item


@transaction.atomic
def work_item_update(*, actor, item: WorkItem, labels=None, **fields) -> WorkItem:
    policies.require(
        policies.can_edit_work_item(actor, item),
        "Only the reporter, the assignee, engineers and managers edit this item.",
    )
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))}.")
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    _clean({"model": item.model, **fields} if "version" in fields else fields)
    changed = [k for k, v in fields.items() if getattr(item, k) != v]
    before = _snapshot(item, changed)
    for key in changed:
        setattr(item, key, fields[key])
    if "priority" in changed:
        item.priority_rank = PRIORITY_RANK[item.priority]
    item.save()
    if "assignee" in changed and item.assignee_id:
        item.watchers.add(item.assignee_id)
    if labels is not None:
        old = sorted(item.labels.values_list("name", flat=True))
        new = _labels(labels)
        if old != sorted(t.name for t in new):
            item.labels.set(new)
            before["labels"], fields["labels"] = old, sorted(t.name for t in new)
            changed.append("labels")
    if changed:
        audit_record(
            actor=actor,
            action="work_item.updated",
            target=item,
            target_label=item.key,
            before=before,
            after={k: (str(fields[k]) if hasattr(fields[k], "pk") else fields[k]) for k in changed},
        )
    return item


@transaction.atomic
def work_item_transition(
    *, actor, item: WorkItem, to_status: str, comment: str = "", _system: bool = False
) -> WorkItem:
    """Move the item along its workflow. Refuses moves the workflow does not allow, and moves that need a
    comment without one, with a message that says what is allowed."""
    if not _system:
        policies.require(
            policies.can_transition_work_item(actor, item),
            "Promotion and data-access items move with their request's decision."
            if item.type in ("promotion", "data_access")
            else "Only the reporter, the assignee, engineers and managers move this item.",
        )
    item = WorkItem.objects.select_for_update().get(pk=item.pk)
    workflow = WORKFLOWS[item.type]
    if to_status not in workflow.allowed(item.status):
        allowed = ", ".join(STATUS_LABELS[s] for s in workflow.allowed(item.status)) or "none"
        raise ValidationError(
            {
                "status": f"{item.key} cannot move from {STATUS_LABELS[item.status]} to "
                f"{STATUS_LABELS.get(to_status, to_status)}. Allowed: {allowed}."
            }
        )
    comment = (comment or "").strip()
    if workflow.requires_comment(item.status, to_status) and not comment:
        raise ValidationError(
            {"comment": f"Moving {item.key} to {STATUS_LABELS[to_status]} needs a comment saying why."}
        )
    before = item.status
    item.status = to_status
    item.resolved_at = timezone.now() if to_status in CLOSED else None
    item.save(update_fields=["status", "resolved_at", "updated_at"])
    if comment:
        _comment(actor, item, comment)
    audit_record(
        actor=actor,
        action="work_item.transitioned",
        target=item,
        target_label=item.key,
        before={"status": before},
        after={"status": to_status},
        reason=comment,
    )
    return item


def _comment(actor, item: WorkItem, body: str) -> Comment:
    if contains_nul(body):
        raise ValidationError({"body": "Null characters are not allowed."})
    if len(body) > settings.MODELHOUSE_MAX_DESCRIPTION_CHARS:
        raise ValidationError({"body": f"At most {settings.MODELHOUSE_MAX_DESCRIPTION_CHARS:,} characters."})
    comment = Comment.objects.create(item=item, author=actor, body=body)
    names = set(MENTION_RE.findall(body))
    if names:
        users = list(get_user_model().objects.filter(username__in=names))
        comment.mentions.set(users)
        item.watchers.add(*users)
    return comment


@transaction.atomic
def comment_add(*, actor, item: WorkItem, body: str) -> Comment:
    """Comment on an item; @username mentions make those users watchers."""
    policies.require(policies.can_comment(actor, item), "Sign in to comment.")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something to comment."})
    return _comment(actor, item, body)


@transaction.atomic
def work_item_link(*, actor, source: WorkItem, target: WorkItem, kind: str) -> WorkItemLink:
    policies.require(policies.can_edit_work_item(actor, source), "Only people who may edit an item link it.")
    if kind not in LinkKind.values:
        raise ValidationError({"kind": f"One of {', '.join(LinkKind.values)}."})
    if source.pk == target.pk:
        raise ValidationError({"target": "An item cannot link to itself."})
    link, created = WorkItemLink.objects.get_or_create(source=source, target=target, kind=kind)
    if created:
        audit_record(
            actor=actor,
            action="work_item.linked",
            target=source,
            target_label=source.key,
            after={"kind": kind, "target": target.key},
        )
    return link


@transaction.atomic
def work_item_watch(*, actor, item: WorkItem, watching: bool) -> None:
    policies.require(actor.is_authenticated, "Sign in to watch items.")
    (item.watchers.add if watching else item.watchers.remove)(actor)
