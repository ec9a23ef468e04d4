"""Extension points through which upper apps add to the accounts pages.

Accounts sits below usage, health and the rest, so it cannot import them; instead they
register here from their ``AppConfig.ready()``:

* a **list column** — a sortable column of the accounts list (usage adds last seen, active
  users, visit frequency and engagement);
* a **profile panel** — a section of the account profile (usage adds its usage panel and
  activity stream).

Registration is by key, so registering again (Django may call ``ready()`` twice in tests)
replaces rather than duplicates.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet


@dataclass(frozen=True)
class ListColumn:
    """A column of the accounts list.

    ``prepare`` adds what the column needs to the list's queryset (``select_related``,
    annotations) without adding queries per row; ``order`` is the ascending ordering
    (expressions), reversed for descending; ``cell(account)`` returns the text shown and an
    optional tooltip.
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


_columns: dict[str, ListColumn] = {}
_panels: dict[str, ProfilePanel] = {}


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
