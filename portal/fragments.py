"""Parts of a page served after its first paint (static/js/fragments.js).

A part has a URL of its own. A request with the header ``X-Fragment: 1`` (sent by fragments.js) gets the
bare part; any other request, a reader without JavaScript or someone who followed a link, gets the part on
a page of its own (templates/components/fragment_page.html: the site layout, a way back, the part). The
response varies on the header, so no cache hands one kind of answer to the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.cache import patch_vary_headers

FRAGMENT_HEADER = "X-Fragment"
FRAGMENT_PAGE_TEMPLATE = "components/fragment_page.html"


def wants_fragment(request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


@dataclass(frozen=True)
class FragmentSlot:
    """Where a part goes on its page (templates/components/fragment_slot.html): the placeholder's id (links
    point at #id), its heading and the part's URL."""

    id: str
    title: str
    url: str


class FragmentMixin:
    """For a TemplateView whose get_fragment_template() names the part's template. The page form needs
    `fragment_title` and `fragment_crumbs` ((label, url) pairs leading to the page the part belongs to) in
    the context."""

    def get_fragment_template(self) -> str:
        raise NotImplementedError

    def get_template_names(self):
        return [self.get_fragment_template() if wants_fragment(self.request) else FRAGMENT_PAGE_TEMPLATE]

    def render_to_response(self, context, **kwargs):
        context["fragment_template"] = self.get_fragment_template()
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, [FRAGMENT_HEADER])
        return response
