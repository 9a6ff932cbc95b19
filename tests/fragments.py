"""The page as a reader sees it once static/js/fragments.js has loaded its parts (portal/fragments.py).

Fetches a page, then every `data-fragment-src` the page names, with the header fragments.js sends, and
puts each answer where its placeholder was, as the script does. Tests of what a page shows read this.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

# A part's placeholder: the section of components/fragment_slot.html, or a small inline element (the
# catalog's count) with no element inside.
SLOT = re.compile(
    r'<section class="card fragment-slot" id="(?P<id>[^"]+)" data-fragment-src="(?P<src>[^"]+)".*?</section>'
    r'|<(?P<tag>strong|span) data-fragment-src="(?P<inline>[^"]+)"[^>]*>[^<]*</(?P=tag)>',
    re.DOTALL,
)


def _slot(match: re.Match) -> tuple[str, str]:
    """(id, URL) of a placeholder; an inline one is known by its URL's path."""
    src = html.unescape(match["src"] or match["inline"])
    return match["id"] or src.split("?")[0], src


@dataclass
class AssembledPage:
    status_code: int  # the page's own
    content: bytes
    parts: dict[str, int] = field(default_factory=dict)  # slot id -> the part's status
    part_urls: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, header):  # tests read response["Content-Type"] and the like
        raise KeyError(header)


def fragment_urls(page_html: str) -> dict[str, str]:
    return dict(_slot(m) for m in SLOT.finditer(page_html))


def get_assembled(client, url: str, **kwargs) -> AssembledPage:
    response = client.get(url, **kwargs)
    text = response.content.decode()
    parts: dict[str, int] = {}
    urls: dict[str, str] = {}

    def fill(match: re.Match) -> str:
        key, src = _slot(match)
        answer = client.get(src, headers={"X-Fragment": "1"})
        parts[key] = answer.status_code
        urls[key] = src
        return answer.content.decode() if answer.status_code in (200, 400) else match[0]

    assembled = SLOT.sub(fill, text) if response.status_code == 200 else text
    return AssembledPage(response.status_code, assembled.encode(), parts, urls)
