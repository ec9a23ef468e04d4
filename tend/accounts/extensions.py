"""Extension points through which upper apps add to the accounts pages.

Accounts sits below usage, health and the rest, so it cannot import them; instead they
register here from their ``AppConfig.ready()``:

* a **list column** — a sortable column of the accounts list (usage adds last seen, active
  users, visit frequency and engagement);
* a **profile panel** — a section of the account profile (usage adds its usage panel and
  activity stream);
* a **list filter** — a filter of the accounts list, kept in its query string (health adds
  "Health: good / average / poor / no score");
* a **condition link** — a link offered beside the condition the accounts list is filtered
  by (segments adds "Save as segment").

An **API field** is a field of the account in the REST API's answers (health adds
``health``: rank, score, profile, and since when): see :class:`ApiField`.

Registration is by key, so registering again (Django may call ``ready()`` twice in tests)
replaces rather than duplicates.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.db.models import QuerySet


@dataclass(frozen=True)
class ListColumn:
    """A column of the accounts list.

    ``prepare`` adds what the column needs to the list's queryset (``select_related``,
    annotations) without adding queries per row; ``order`` is the ascending ordering
    (expressions), reversed for descending; ``cell(account)`` returns the text shown and an
    optional tooltip. ``export(account)`` returns the plain value CSV/XLSX exports write —
    a number, a date-time, text or None, not HTML (see ``tend.accounts.exports``); a column
    without one is left out of exports.
    """

    key: str
    label: str
    cell: Callable[[object], tuple[str, str]]
    description: str = ""  # the header's tooltip
    order: list = field(default_factory=list)
    prepare: Callable[[QuerySet], QuerySet] = lambda queryset: queryset
    numeric: bool = False
    descending_first: bool = True
    sort_labels: tuple[str, str] = ("", "")  # (ascending, descending) labels for the Sort menu
    position: int = 100
    export: Callable[[object], object] | None = None


@dataclass(frozen=True)
class ProfilePanel:
    """A section of the account profile: ``template`` rendered with ``context(request, account)``
    merged into the profile's context. ``column`` is ``"main"`` or ``"side"``."""

    key: str
    template: str
    context: Callable[[object, object], dict] = lambda request, account: {}
    column: str = "main"
    position: int = 100
    # Sections of the profile this panel takes the place of (see ``PROFILE_SECTIONS``).
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListFilter:
    """A filter of the accounts list, kept in the query string under ``key``.

    ``field(workspace, value)`` builds the form field shown in the list's filter bar, or
    returns None when the filter has nothing to offer in that workspace; ``value`` is what the
    query string holds now, so a field can offer it even when it is not among its usual
    choices. ``apply(queryset, value)`` narrows the accounts by the field's cleaned value
    (never empty); ``str(value)`` must give back the query-string form, so that links to other
    pages, sorts and the "clear" link keep the filter.
    """

    key: str
    field: Callable[[object, str], forms.Field | None]
    apply: Callable[[QuerySet, object], QuerySet]
    position: int = 100
    # The same filter in the condition language: ``clauses(value)`` returns the clauses
    # (docs/conditions.md) that match the accounts ``apply`` keeps, so "Save as segment"
    # keeps what the list shows (``tend.accounts.filter_conditions``).
    clauses: Callable[[object], list[dict]] | None = None


@dataclass(frozen=True)
class ConditionLink:
    """A link beside the accounts list's condition: ``url(where)`` gets the condition as
    compact JSON text; shown to actors who have ``right``."""

    key: str
    label: str
    url: Callable[[str], str]
    right: str = "read"
    position: int = 100


_columns: dict[str, ListColumn] = {}
_panels: dict[str, ProfilePanel] = {}
_filters: dict[str, ListFilter] = {}
_condition_links: dict[str, ConditionLink] = {}
# The list's own query-string parameters, which a filter may not take over.
LIST_PARAMETERS = frozenset(
    {"q", "status", "stage", "owner", "role", "tag", "where", "sort", "page"}
)


def add_list_column(column: ListColumn) -> None:
    _columns[column.key] = column


def list_columns() -> list[ListColumn]:
    return sorted(_columns.values(), key=lambda c: (c.position, c.key))


# The profile's own sections a panel may replace.
PROFILE_SECTIONS = ("end_users",)


def add_profile_panel(panel: ProfilePanel) -> None:
    if panel.column not in ("main", "side"):
        raise ValueError(f"profile panel {panel.key!r}: column must be 'main' or 'side'")
    unknown = set(panel.replaces) - set(PROFILE_SECTIONS)
    if unknown:
        raise ValueError(
            f"profile panel {panel.key!r} replaces unknown sections: {sorted(unknown)}"
        )
    _panels[panel.key] = panel


def profile_panels(column: str) -> list[ProfilePanel]:
    return sorted(
        (p for p in _panels.values() if p.column == column), key=lambda p: (p.position, p.key)
    )


def add_list_filter(list_filter: ListFilter) -> None:
    if list_filter.key in LIST_PARAMETERS:
        raise ValueError(f"list filter {list_filter.key!r}: the list already uses that parameter")
    _filters[list_filter.key] = list_filter


def list_filters() -> list[ListFilter]:
    return sorted(_filters.values(), key=lambda f: (f.position, f.key))


def add_condition_link(link: ConditionLink) -> None:
    _condition_links[link.key] = link


def condition_links() -> list[ConditionLink]:
    return sorted(_condition_links.values(), key=lambda link: (link.position, link.key))


@dataclass(frozen=True)
class ApiField:
    """A field of the account in the REST API's answers (list, get, create, update).

    ``schema`` is the field's type as Ninja takes it (a ``Schema`` class, ``float`` …); the
    field is ``null`` for an account that has no value. ``values(workspace, ids)`` returns
    ``{account id: value}`` for a whole page of accounts at once, in a fixed number of
    queries whatever the page's size (one, typically), so that a page of 1,000 accounts
    costs no more queries than a page of one.
    """

    key: str
    schema: object
    values: Callable[[object, list[int]], dict]
    description: str = ""
    position: int = 100


_api_fields: dict[str, ApiField] = {}
# Set once the API's account schema is built from the fields registered so far: a field
# registered later would be missing from the schema, so that is an error instead.
_api_fields_fixed = False


def add_api_field(api_field: ApiField) -> None:
    if _api_fields_fixed and api_field.key not in _api_fields:
        raise RuntimeError(
            f"API field {api_field.key!r} registered after the API's account schema was "
            "built: register it from AppConfig.ready()"
        )
    _api_fields[api_field.key] = api_field


def api_fields(*, fix: bool = False) -> list[ApiField]:
    """The API fields other apps add, in order; ``fix`` (for the schema's builder) refuses
    new ones from then on."""
    global _api_fields_fixed
    if fix:
        _api_fields_fixed = True
    return sorted(_api_fields.values(), key=lambda f: (f.position, f.key))
