"""The filter bar of the list pages, declared rather than written: a page lists its filters, binds them to
the request's values and templates/components/filter_bar.html renders the form.

    FilterBar(
        label="Filter models",
        action=reverse("catalog:model-list"),
        fields=[
            Search(placeholder="Name, description, owner, tag…"),
            Choice("domain", "Domain", "All domains", [(d.slug, d.name) for d in domains]),
            Choice("tag", "Tag", "Any tag", tag_names),
        ],
        settings=[sort_choice([("name", "Name A-Z"), ("-updated", "Updated")], default="name")],
    ).bind(request.GET)

Which option is selected and which box is checked is decided here, and the <option>s are written here:
the catalog's owner and tag lists run to hundreds of entries, and a template loop with a comparison per
option was a large part of rendering the catalog page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlencode

from django.utils.safestring import SafeData, SafeString, mark_safe

# (value, label), or one string that is both (tag names, registry names).
Option = tuple[object, object] | str


def _escape(value) -> str:
    # Django's conditional_escape() without a SafeString per call: the same five characters escaped, in a
    # third of the time (it runs twice per <option>, and the catalog has hundreds).
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def options_html(options: Iterable[Option], selected: str, *, empty_label: str | None = None) -> SafeString:
    """<option>s with the one whose value is `selected` marked; values compare as strings (a pk matches
    its URL form). The empty option, when there is one, never is: nothing selected shows it anyway."""
    parts = [f'<option value="">{_escape(empty_label)}</option>'] if empty_label is not None else []
    for option in options:
        value, label = (option, option) if isinstance(option, str) else option
        value = str(value)
        mark = " selected" if value == selected else ""
        parts.append(f'<option value="{_escape(value)}"{mark}>{_escape(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value and label is escaped above


# --- what a page declares ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A free-text input; `suggestions` are offered in a <datalist> (the value stays free)."""

    name: str
    label: str
    placeholder: str = ""
    maxlength: int | None = None
    input_type: str = "text"
    suggestions: Sequence[str] = ()
    id: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def bind(self, values: Mapping[str, str], id_prefix: str) -> BoundInput:
        return BoundInput(
            name=self.name,
            label=self.label,
            id=self.id or _default_id(id_prefix, self.name),
            css="field--search" if self.input_type == "search" else "",
            value=values.get(self.name) or "",
            input_type=self.input_type,
            placeholder=self.placeholder,
            maxlength=self.maxlength,
            suggestions=mark_safe(  # noqa: S308 - escaped
                "".join(f'<option value="{_escape(s)}">' for s in self.suggestions)
            ),
        )


@dataclass(frozen=True)
class Search(Text):
    """The list's search box: wider than the other fields (.field--search)."""

    name: str = "q"
    label: str = "Search"
    maxlength: int | None = 200
    input_type: str = "search"


@dataclass(frozen=True)
class Choice:
    """A select. `empty_label` is the "Any …" option that means no filter (None: there is none);
    `default` is what counts as chosen when the parameter is missing (a sort, a page size)."""

    name: str
    label: str
    empty_label: str | None
    options: Iterable[Option]
    default: str = ""
    id: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    def bind(self, values: Mapping[str, str], id_prefix: str) -> BoundSelect:
        value = values.get(self.name) or self.default
        return BoundSelect(
            name=self.name,
            label=self.label,
            id=self.id or _default_id(id_prefix, self.name),
            value=value,
            options=options_html(self.options, value, empty_label=self.empty_label),
        )


def sort_choice(options: Iterable[Option], *, default: str) -> Choice:
    return Choice("sort", "Sort by", None, options, default=default)


def page_size_choice(sizes: Iterable[int], *, default: int = 25) -> Choice:
    return Choice("page_size", "Per page", None, [(n, n) for n in sizes], default=str(default))


@dataclass(frozen=True)
class Check:
    """A checkbox sending `value`. Checked when the parameter is `value`, or has any value with
    `any_value` (a link's ?expiring_within_days=7 still shows "Ending within 30 days" ticked, so Apply
    keeps a filter of that kind)."""

    name: str
    label: str
    value: str = "true"
    any_value: bool = False

    def bind(self, values: Mapping[str, str]) -> BoundCheck:
        current = values.get(self.name) or ""
        checked = bool(current) if self.any_value else current == self.value
        return BoundCheck(name=self.name, label=self.label, value=self.value, checked=checked)


@dataclass(frozen=True)
class Checks:
    """Checkboxes sharing one cell of the bar."""

    checks: Sequence[Check]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    def bind(self, values: Mapping[str, str], id_prefix: str) -> BoundChecks:
        return BoundChecks(checks=tuple(c.bind(values) for c in self.checks))


Field = Text | Choice | Checks


def _default_id(prefix: str, name: str) -> str:
    return prefix + name.replace("_", "-")


@dataclass(frozen=True)
class FilterBar:
    """A list page's filter form.

    `fields` filter the list; `settings` (sort, page size) shape it and sit with the buttons. `hidden`
    holds where the page is, not what it filters (a tab, a saved view): Apply and "Clear filters" keep it;
    empty values are left out. `notes` are (CSS class, text) spans at the start of the buttons' row. An
    `inline` bar puts its buttons in the grid cell after the fields (.filters__actions--inline), with no
    room for settings. `modifier` names the page's grid layout in static/css (.filters--<modifier>).
    """

    label: str
    action: str
    fields: Sequence[Field]
    settings: Sequence[Choice] = ()
    modifier: str = ""
    inline: bool = False
    hidden: Mapping[str, str] = field(default_factory=dict)
    reset_url: str = ""
    reset_label: str = "Clear filters"
    notes: Sequence[tuple[str, str]] = ()
    id_prefix: str = "f-"

    def __post_init__(self):
        if self.inline and self.settings:
            raise ValueError("An inline filter bar has no room for settings (sort, page size).")

    def bind(self, values: Mapping[str, str], *, active: bool | None = None) -> BoundFilterBar:
        """The bar showing `values` (the request's GET, or what the page made of it). "Clear filters" shows
        when `active`: by default when any field has a value; a page filtering on more than its fields
        show (the alerts of one model, from a link) says so."""
        hidden = [(name, value) for name, value in self.hidden.items() if value]
        if active is None:
            active = any(values.get(name) for f in self.fields for name in f.names)
        return BoundFilterBar(
            label=self.label,
            action=self.action,
            modifier=self.modifier,
            hidden=hidden,
            fields=[f.bind(values, self.id_prefix) for f in self.fields],
            settings=[s.bind(values, self.id_prefix) for s in self.settings],
            inline=self.inline,
            notes=list(self.notes),
            active=active,
            reset_url=self.reset_url or self.action + (f"?{urlencode(hidden)}" if hidden else ""),
            reset_label=self.reset_label,
        )


# --- what the template reads ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoundInput:
    kind: ClassVar[str] = "input"
    name: str
    label: str
    id: str
    css: str
    value: str
    input_type: str
    placeholder: str
    maxlength: int | None
    suggestions: SafeString


@dataclass(frozen=True, slots=True)
class BoundSelect:
    kind: ClassVar[str] = "select"
    css: ClassVar[str] = ""
    name: str
    label: str
    id: str
    value: str
    options: SafeString


@dataclass(frozen=True, slots=True)
class BoundCheck:
    name: str
    label: str
    value: str
    checked: bool


@dataclass(frozen=True, slots=True)
class BoundChecks:
    kind: ClassVar[str] = "checks"
    css: ClassVar[str] = "field--checks"
    checks: tuple[BoundCheck, ...]


@dataclass(frozen=True, slots=True)
class BoundFilterBar:
    label: str
    action: str
    modifier: str
    hidden: list[tuple[str, str]]
    fields: list[BoundInput | BoundSelect | BoundChecks]
    settings: list[BoundSelect]
    inline: bool
    notes: list[tuple[str, str]]
    active: bool
    reset_url: str
    reset_label: str

    @property
    def settings_group(self) -> bool:
        """Whether the buttons' row opens with the settings' group. Notes take its place when there are no
        settings; without either, the group stays, empty, so the buttons keep to the right."""
        return bool(self.settings) or not self.notes
