"""Lineage of one version drawn as inline SVG on the server, so it reads (and links) without JavaScript.

Three columns: inputs (training and evaluation data, code commit, parent version) -> the version ->
outputs (child versions; aliases point back at it). Built from `selectors.version_lineage()`, which reads
relations `version_detail()` already loaded, so drawing costs no queries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

NODE_W = 236
NODE_H = 58
ROW_GAP = 14
COL_GAP = 110
PAD = 10
HEADER_H = 26
MAX_PER_COLUMN = 10
LABEL_CHARS = 30
DETAIL_CHARS = 36

KIND_LABELS = {
    "training": "Training data",
    "evaluation": "Evaluation data",
    "code": "Code commit",
    "parent": "Parent version",
    "version": "This version",
    "child": "Child version",
    "alias": "Alias",
    "missing": "Not recorded",
    "more": "",
}


@dataclass
class Node:
    kind: str
    label: str
    detail: str = ""
    url: str = ""
    title: str = ""
    x: int = 0
    y: int = 0


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _version_url(version) -> str:
    return reverse("catalog:version-detail", args=[version.model.name, version.version])


def _short_repo(repository: str) -> str:
    return repository.rstrip("/").removesuffix(".git").rsplit("/", 2)[-1] if repository else ""


def _commit_url(code: dict) -> str:
    repository = (code.get("repository") or "").rstrip("/").removesuffix(".git")
    if repository.startswith(("https://", "http://")):
        return f"{repository}/commit/{code['commit']}"
    return ""


def _capped(nodes: list[Node]) -> list[Node]:
    if len(nodes) <= MAX_PER_COLUMN:
        return nodes
    hidden = len(nodes) - (MAX_PER_COLUMN - 1)
    return nodes[: MAX_PER_COLUMN - 1] + [
        Node("more", f"+ {hidden} more", "listed in the tables on this page")
    ]


def lineage_nodes(lineage: dict) -> tuple[list[Node], Node, list[Node]]:
    """(inputs, version, outputs) as positioned-later nodes; missing training data or code shows as a hint."""
    version = lineage["version"]
    inputs: list[Node] = []
    for role in ("training", "evaluation"):
        for link in lineage[role]:
            dataset = link.dataset
            inputs.append(
                Node(
                    role,
                    dataset.name,
                    detail=link.digest or dataset.uri,
                    url=reverse("catalog:dataset-detail", args=[dataset.pk]),
                    title=f"{KIND_LABELS[role]}: {dataset.name}\n{dataset.uri}"
                    + (f"\ndigest {link.digest}" if link.digest else ""),
                )
            )
    if not lineage["training"]:
        inputs.insert(0, Node("missing", "No training data recorded", title="No training dataset is linked."))
    code = lineage["code"]
    if code:
        inputs.append(
            Node(
                "code",
                f"{code['commit'][:10]} · {_short_repo(code['repository'])}".rstrip(" ·"),
                detail=code["repository"],
                url=_commit_url(code),
                title=f"Commit {code['commit']}\n{code['repository']}",
            )
        )
    else:
        inputs.append(Node("missing", "No code commit recorded", title="No code commit is recorded."))
    parent = lineage["parent"]
    if parent is not None:
        inputs.append(
            Node(
                "parent",
                f"v{parent.version}",
                detail=parent.model.name if parent.model_id != version.model_id else "",
                url=_version_url(parent),
                title=f"Parent version {parent.model.name} v{parent.version}",
            )
        )
    outputs = [
        Node(
            "child",
            f"v{child.version}",
            detail=child.model.name if child.model_id != version.model_id else "",
            url=_version_url(child),
            title=f"Child version {child.model.name} v{child.version}",
        )
        for child in lineage["children"]
    ]
    outputs += [
        Node("alias", f"@{alias}", detail="points at this version", title=f"Alias @{alias}")
        for alias in lineage["aliases"]
    ]
    centre = Node(
        "version",
        f"{version.model.name} v{version.version}",
        detail=version.get_training_reason_display(),
        url=_version_url(version),
        title=f"{version.model.name} v{version.version}",
    )
    return _capped(inputs), centre, _capped(outputs)


def _node_svg(node: Node) -> SafeString:
    kind_label = KIND_LABELS[node.kind]
    body = format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" rx="8"/>'
        '<text class="lin-kind" x="{}" y="{}">{}</text>'
        '<text class="lin-label" x="{}" y="{}">{}</text>'
        '<text class="lin-detail" x="{}" y="{}">{}</text>',
        node.x,
        node.y,
        NODE_W,
        NODE_H,
        node.x + 12,
        node.y + 17,
        kind_label.upper(),
        node.x + 12,
        node.y + 35 if kind_label else node.y + 27,
        _clip(node.label, LABEL_CHARS),
        node.x + 12,
        node.y + 50,
        _clip(node.detail, DETAIL_CHARS),
    )
    tooltip = format_html("<title>{}</title>", node.title or node.label)
    if node.url:
        return format_html(
            '<a class="lin-node lin-node--{}" href="{}">{}{}</a>', node.kind, node.url, tooltip, body
        )
    return format_html('<g class="lin-node lin-node--{}">{}{}</g>', node.kind, tooltip, body)


def _edge(x1: int, y1: int, x2: int, y2: int, kind: str, prefix: str, *, arrow_at_start: bool = False) -> str:
    mid = (x1 + x2) / 2
    marker = "marker-start" if arrow_at_start else "marker-end"
    return format_html(
        '<path class="lin-edge lin-edge--{}" d="M{} {} C{} {}, {} {}, {} {}" {}="url(#{}-arrow)"/>',
        kind,
        x1,
        y1,
        mid,
        y1,
        mid,
        y2,
        x2,
        y2,
        marker,
        prefix,
    )


def lineage_svg(lineage: dict, *, id_prefix: str = "lineage") -> SafeString:
    """The lineage as an <svg> element that scales to its container (viewBox) and links every node."""
    inputs, centre, outputs = lineage_nodes(lineage)
    rows = max(len(inputs), len(outputs), 1)
    column_h = rows * NODE_H + (rows - 1) * ROW_GAP
    height = HEADER_H + column_h + 2 * PAD
    xs = [PAD, PAD + NODE_W + COL_GAP, PAD + 2 * (NODE_W + COL_GAP)]
    width = xs[2] + NODE_W + PAD

    def place(nodes: list[Node], x: int) -> None:
        total = len(nodes) * NODE_H + (len(nodes) - 1) * ROW_GAP
        top = HEADER_H + PAD + (column_h - total) // 2
        for i, node in enumerate(nodes):
            node.x, node.y = x, top + i * (NODE_H + ROW_GAP)

    place(inputs, xs[0])
    place([centre], xs[1])
    place(outputs, xs[2])
    cy = centre.y + NODE_H // 2

    edges = []
    for node in inputs:
        if node.kind not in ("missing", "more"):
            edges.append(_edge(node.x + NODE_W, node.y + NODE_H // 2, centre.x - 2, cy, node.kind, id_prefix))
    for node in outputs:
        if node.kind == "alias":
            edges.append(
                _edge(
                    centre.x + NODE_W + 2,
                    cy,
                    node.x,
                    node.y + NODE_H // 2,
                    "alias",
                    id_prefix,
                    arrow_at_start=True,
                )
            )
        elif node.kind != "more":
            edges.append(_edge(centre.x + NODE_W, cy, node.x - 2, node.y + NODE_H // 2, node.kind, id_prefix))

    headings = format_html_join(
        "",
        '<text class="lin-heading" x="{}" y="{}">{}</text>',
        [
            (xs[0], 16, "Inputs"),
            (xs[1], 16, "Version"),
            (xs[2], 16, "Outputs & aliases" if outputs else "No child versions or aliases"),
        ],
    )
    nodes = mark_safe("".join(_node_svg(n) for n in [*inputs, centre, *outputs]))  # noqa: S308 - parts escaped
    title = f"Lineage of {centre.label}"
    return format_html(
        '<svg class="lineage-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" role="img" aria-labelledby="{p}-title">'
        '<title id="{p}-title">{title}</title>'
        '<defs><marker id="{p}-arrow" class="lin-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0 0 L10 5 L0 10 z"/></marker></defs>'
        "{headings}{edges}{nodes}</svg>",
        w=width,
        h=height,
        p=id_prefix,
        title=title,
        headings=headings,
        edges=mark_safe("".join(edges)),  # noqa: S308 - each edge built with format_html
        nodes=nodes,
    )
