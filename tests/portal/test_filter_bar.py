"""The filter bar: what it selects, checks and escapes, and that every list page renders it."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from portal.filter_bar import (
    Check,
    Checks,
    Choice,
    FilterBar,
    Search,
    Text,
    page_size_choice,
    sort_choice,
)

HOSTILE = '"><script>alert(1)</script>'


def render(bar) -> str:
    return render_to_string("components/filter_bar.html", {"bar": bar})


def bar(fields=(), **kwargs) -> FilterBar:
    return FilterBar(label="Filter things", action="/things/", fields=list(fields), **kwargs)


def test_the_chosen_option_is_selected_and_the_empty_one_comes_first():
    domains = Choice("domain", "Domain", "All domains", [("risk", "Risk"), ("ops", "Operations")])
    html = render(bar([domains]).bind({"domain": "ops"}))

    select = re.search(r'<select id="f-domain" name="domain">(.*?)</select>', html).group(1)
    assert select == (
        '<option value="">All domains</option>'
        '<option value="risk">Risk</option>'
        '<option value="ops" selected>Operations</option>'
    )


def test_option_values_compare_as_strings_and_a_plain_string_is_value_and_label():
    fields = [
        Choice("dataset", "Dataset", "Any dataset", [(7, "Clicks"), (17, "Orders")]),
        Choice("tag", "Tag", "Any tag", ["churn", "gbm"]),
    ]
    html = render(bar(fields).bind({"dataset": "17", "tag": "gbm"}))

    assert '<option value="7">Clicks</option><option value="17" selected>Orders</option>' in html
    assert '<option value="churn">churn</option><option value="gbm" selected>gbm</option>' in html


def test_settings_select_their_default_until_the_url_names_another():
    settings = [sort_choice([("name", "Name"), ("-updated", "Recently updated")], default="name")]
    settings.append(page_size_choice((10, 25, 50), default=25))

    plain = render(bar([Search()], settings=settings).bind({}))
    chosen = render(bar([Search()], settings=settings).bind({"sort": "-updated", "page_size": "50"}))

    assert '<option value="name" selected>' in plain and '<option value="25" selected>' in plain
    assert '<option value="-updated" selected>' in chosen and '<option value="50" selected>' in chosen
    assert '<option value="name" selected>' not in chosen and '<option value="25" selected>' not in chosen
    assert 'id="f-sort" name="sort"' in plain and 'id="f-page-size" name="page_size"' in plain


def test_a_box_is_checked_by_its_value_or_by_any_value_when_it_says_so():
    checks = Checks([Check("special", "Special"), Check("within", "Within 30 days", "30", any_value=True)])

    def checked(values) -> set[str]:
        html = render(bar([checks]).bind(values))
        return set(re.findall(r'name="(\w+)" value="\w+" checked', html))

    assert checked({}) == set()
    assert checked({"special": "true", "within": "30"}) == {"special", "within"}
    assert checked({"special": "yes", "within": "7"}) == {"within"}


def test_clear_filters_shows_only_when_a_field_has_a_value_and_keeps_the_hidden_place():
    declared = bar([Search()], settings=[page_size_choice((10, 25))], hidden={"tab": "all", "view": ""})

    assert "Clear filters" not in render(declared.bind({"page_size": "10", "tab": "all"}))
    html = render(declared.bind({"q": "churn"}))
    assert '<a href="/things/?tab=all">Clear filters</a>' in html
    assert '<input type="hidden" name="tab" value="all">' in html
    assert 'name="view"' not in html


def test_a_page_may_say_it_is_filtered_beyond_its_fields():
    declared = bar([Search()], reset_label="Reset", inline=True)

    assert '<a href="/things/">Reset</a>' in render(declared.bind({}, active=True))
    assert "Reset" not in render(declared.bind({"q": "churn"}, active=False))


def test_hostile_values_and_labels_are_escaped():
    fields = [
        Search(),
        Text("model", "Model", suggestions=[HOSTILE]),
        Choice("owner", "Owner", "Anyone", [(HOSTILE, HOSTILE), ("sara", "Sara & <co>")]),
    ]
    html = render(
        bar(fields, hidden={"tab": HOSTILE}, notes=[("chip", f"Model: {HOSTILE}")]).bind(
            {"q": HOSTILE, "owner": HOSTILE}
        )
    )

    assert "<script>" not in html
    escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f'id="f-q" name="q" value="{escaped}"' in html
    assert f'<option value="{escaped}" selected>{escaped}</option>' in html
    assert '<option value="sara">Sara &amp; &lt;co&gt;</option>' in html
    assert f'<datalist id="f-model-names"><option value="{escaped}"></datalist>' in html
    assert f'<span class="chip">Model: {escaped}</span>' in html
    assert f'<input type="hidden" name="tab" value="{escaped}">' in html


def test_the_buttons_row_keeps_its_first_group_unless_a_note_takes_its_place():
    actions = re.compile(r'<div class="filters__actions">\s*(<\w+ class="[\w ]+")')

    assert actions.search(render(bar([Search()]).bind({}))).group(1) == '<div class="group"'
    noted = render(bar([Search()], notes=[("small muted", "Exports use these filters.")]).bind({}))
    assert actions.search(noted).group(1) == '<span class="small muted"'
    assert noted.count('class="group"') == 1


def test_an_inline_bar_has_no_room_for_settings():
    with pytest.raises(ValueError, match="inline"):
        bar([Search()], inline=True, settings=[page_size_choice((10, 25))])


# --- every list page renders its bar ---------------------------------------------------------------------

# (URL name, the form's aria-label, its modifier class, some of its controls as "id name", or as the name
# alone for those without an id: checkboxes, hidden inputs)
PAGES = [
    (
        "catalog:model-list",
        "Filter models",
        "",
        ["f-q q", "f-owner owner", "f-tag tag", "f-page-size page_size"],
    ),
    ("catalog:dataset-list", "Filter datasets", "filters--datasets", ["f-q q", "f-pii has_pii"]),
    (
        "governance-access:access-request-list",
        "Filter requests",
        "filters--access",
        ["f-dataset dataset", "tab"],
    ),
    (
        "governance-access:grant-list",
        "Filter grants",
        "filters--grants",
        ["f-purpose purpose", "special_category"],
    ),
    (
        "governance-access:alert-list",
        "Filter alerts",
        "filters--alerts",
        ["f-state state", "f-domain domain"],
    ),
    (
        "governance:audit-list",
        "Filter audit events",
        "filters--audit",
        ["a-target-id target_id", "a-until until"],
    ),
    (
        "governance:promotion-list",
        "Filter promotions",
        "filters--promotions",
        ["f-requested-by requested_by"],
    ),
    ("governance:work-item-list", "Filter work items", "filters--work", ["f-status status", "f-sort sort"]),
    ("governance:work-item-board", "Filter work items", "filters--work", ["f-model model", "f-label label"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "label", "modifier", "controls"), PAGES, ids=[p[0] for p in PAGES])
def test_each_list_page_renders_its_filter_bar(client, compliance, url_name, label, modifier, controls):
    client.force_login(compliance)  # compliance also reads the audit trail
    url = reverse(url_name)

    html = client.get(url).content.decode()

    form = re.search(
        rf'<form class="card card__body filters ?{modifier}"[^>]*aria-label="{label}">(.*?)</form>',
        html,
        re.S,
    )
    assert form, f"no filter bar on {url}"
    assert f'action="{url}"' in form.group(0)
    for control in controls:
        control_id, _, name = control.rpartition(" ")
        assert (f'id="{control_id}" name="{name}"' if control_id else f'name="{name}"') in form.group(1)
    assert '<button type="submit" class="button">Apply</button>' in form.group(1)
