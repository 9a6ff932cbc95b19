"""Template helpers for governance pages, and the governance card of the catalog's model page.

The catalog's model and version views stay untouched: their templates load this library and ask it for what
governance shows there (`model_governance`, `may_request_promotion`), which calls governance selectors.
"""

from __future__ import annotations

import re

from django import template
from django.utils.safestring import mark_safe

from portal.markdown import render_markdown

from .. import policies, selectors
from ..forms import ProductionAtForm
from ..models import ATTESTED_ITEMS
from ..services.work_items import MENTION_RE
from ..workflows import CLOSED, STATUS_LABELS

register = template.Library()

MODEL_ITEMS_LIMIT = 8
MODEL_TIMELINE_LIMIT = 20
_TAGS = re.compile(r"(<[^>]+>)")


@register.filter
def comment_html(comment) -> str:
    """The comment's Markdown, sanitised, with the @mentions that resolved to people highlighted (not inside
    code, links' addresses or any other markup)."""
    html = render_markdown(comment.body)
    names = {u.username for u in comment.mentions.all()}
    if not names:
        return mark_safe(html)  # noqa: S308 - nh3 output

    def mark(match: re.Match) -> str:
        name = match.group(1)
        return f'<span class="mention" title="Mentioned">@{name}</span>' if name in names else match.group(0)

    parts, in_code = _TAGS.split(html), 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            lowered = part.lower()
            if lowered.startswith(("<code", "<pre")):
                in_code += 1
            elif lowered.startswith(("</code", "</pre")):
                in_code = max(0, in_code - 1)
        elif not in_code:
            parts[i] = MENTION_RE.sub(mark, part)
    return mark_safe("".join(parts))  # noqa: S308 - nh3 output plus our own span


@register.filter
def status_label(value: str) -> str:
    return STATUS_LABELS.get(value, value)


@register.filter
def activity_summary(event) -> str:
    """What an audit event on a work item says, in a few words ("moved it from Open to In progress")."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    if event.action == "work_item.created":
        return "created this item"
    if event.action == "work_item.transitioned":
        old, new = status_label(before.get("status", "?")), status_label(after.get("status", "?"))
        return f"moved it from {old} to {new}"
    if event.action == "work_item.updated":
        return "changed " + (", ".join(k.replace("_", " ") for k in after) or "nothing")
    if event.action == "work_item.linked":
        return f"linked it: {after.get('kind', '')} {after.get('target', '')}".strip()
    return event.action.replace("_", " ")


@register.simple_tag(takes_context=True)
def may_request_promotion(context, model) -> bool:
    request = context.get("request")
    return bool(request) and policies.can_request_promotion(request.user, model)


@register.simple_tag(takes_context=True)
def model_governance(context, model) -> dict:
    """Everything templates/governance/_model_governance.html shows for `model`: its definition of done,
    open work, pending promotions, the promotion timeline, the answer to "what was in production on", and
    what the user may do. A fixed number of queries on top of catalog.selectors.model_detail()."""
    request = context["request"]
    user = request.user
    score = selectors.model_dod_score(model=model)
    open_items = selectors.model_open_work_items(
        user=user,
        model=model,
        statuses=[s for s in STATUS_LABELS if s not in CLOSED],
        limit=MODEL_ITEMS_LIMIT + 1,
    )
    # The newest entries, shown newest first.
    timeline = list(selectors.promotion_timeline(model=model).reverse()[:MODEL_TIMELINE_LIMIT])
    production = [p for p in timeline if p.target == "production"]
    pending = selectors.model_pending_promotions(user=user, model=model)
    answer = None
    form = ProductionAtForm(request.GET if "production_on" in request.GET else None)
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["production_on"]
        answer = {"date": day, "version": selectors.production_at(model=model, when=day)}
    return {
        "score": score.report,
        "checks": score.report.checks,
        "attested_items": ATTESTED_ITEMS,
        "can_attest": policies.can_attest_dod(user, model),
        "open_items": open_items[:MODEL_ITEMS_LIMIT],
        "more_items": len(open_items) > MODEL_ITEMS_LIMIT,
        "pending": pending,
        "timeline": timeline,
        "production_form": form,
        "production_answer": answer,
        # A rollback needs an earlier production version: two promotions to it, or one that replaced another.
        "can_rollback": policies.can_request_promotion(user, model)
        and (len(production) > 1 or bool(production and production[0].previous_version_id)),
        "production_now": production[0] if production else None,
    }
