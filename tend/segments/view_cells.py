"""A saved view's table: its columns (headers that sort) and each account's cells.

A view's columns are condition fields chosen and ordered freely, read through the search
(``view_rows``), so its table is built from field values rather than from the accounts
list's fixed columns; cells still read as the list's do — a status badge, a stage's dot, a
health rank's colour, a frequency's pill, tags, a member's name for an owner, days as the
list writes them — using the same styles.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import intcomma, naturalday
from django.urls import reverse

from tend.accounts.models import AccountStatus, Stage
from tend.lib.conditions import Catalog, FieldType
from tend.lib.dates import zone
from tend.segments.view_models import SavedView
from tend.workspaces.models import Member, Workspace

# How some fields show, by name: with the badges the accounts list uses for them.
BADGES = {"status": "badge badge-{}", "health.rank": "badge rank rank-{}"}
PILLS = {"usage.visit_frequency": "freq freq-{}"}
# Whose first click sorts largest or newest first: what people look for.
DESCENDING_FIRST = (FieldType.NUMBER, FieldType.DATE, FieldType.DATETIME)


@dataclass
class Header:
    name: str
    label: str
    numeric: bool
    url: str | None  # sorts by the column (None: the column cannot be sorted by)
    arrow: str
    description: str = ""


@dataclass
class Cell:
    text: str = ""
    title: str = ""
    css: str = ""  # a badge's classes
    colour: str = ""  # a stage's dot
    items: tuple = ()  # tags
    numeric: bool = False
    link: str = ""


def view_url(view: SavedView, **params) -> str:
    base = reverse("views:detail", kwargs={"view_id": view.pk})
    params = {k: v for k, v in params.items() if v not in (None, "", 1, "1")}
    return f"{base}?{urlencode(params)}" if params else base


def headers(view: SavedView, columns: list[str], catalog: Catalog, sort: list[str]) -> list[Header]:
    """The name, then each column, each sorting by itself when clicked (then the other way)."""
    current = sort[0] if sort else ""
    result = []
    for name in ["name", *columns]:
        spec = catalog.get(name)
        label = spec.label if spec is not None else "Name"
        sortable = name == "name" or (spec is not None and not spec.is_multi and bool(spec.lookup))
        arrow, url = "", None
        if sortable:
            if current == name:
                target, arrow = f"-{name}", "▲"
            elif current == f"-{name}":
                target, arrow = name, "▼"
            else:
                first_down = spec is not None and spec.type in DESCENDING_FIRST
                target = f"-{name}" if first_down else name
            url = view_url(view, sort=target)
        numeric = spec is not None and spec.type == FieldType.NUMBER
        description = spec.description if spec is not None else ""
        result.append(Header(name, label, numeric, url, arrow, description))
    return result


class CellReader:
    """Turns one account's field values into cells; what it needs beyond the values (stage
    colours, members' names) is read once per page."""

    def __init__(self, workspace: Workspace, columns: list[str], catalog: Catalog):
        self.catalog = catalog
        self.columns = columns
        self.tz = zone(workspace.time_zone)
        self.stages = (
            dict(Stage.objects.filter(workspace=workspace).values_list("name", "color"))
            if "stage" in columns
            else {}
        )
        self.names = (
            dict(
                Member.objects.filter(workspace=workspace).values_list(
                    "user__email", "user__full_name"
                )
            )
            if any(c.startswith("owner.") for c in columns)
            else {}
        )

    def row(self, item: dict) -> list[Cell]:
        return [self.cell(name, item.get(name)) for name in self.columns]

    def cell(self, name: str, value) -> Cell:
        spec = self.catalog.get(name)
        if value is None or value == [] or value == "" or spec is None:
            return Cell(numeric=spec is not None and spec.type == FieldType.NUMBER)
        if name == "status":
            return Cell(AccountStatus(value).label, css=BADGES[name].format(value))
        if name in BADGES:
            return Cell(str(value).capitalize(), css=BADGES[name].format(value))
        if name in PILLS:
            return Cell(str(value).capitalize(), css=PILLS[name].format(value))
        if name == "stage":
            return Cell(value, colour=self.stages.get(value, ""))
        if name.startswith("owner."):
            return Cell(self.names.get(value) or value, title=value)
        if spec.type == FieldType.MULTI_ENUM:
            return Cell(items=tuple(str(v) for v in value))
        if spec.type == FieldType.NUMBER:
            return Cell(number(value), numeric=True)
        if spec.type == FieldType.BOOLEAN:
            return Cell("Yes" if value else "No")
        if spec.type == FieldType.DATETIME and isinstance(value, datetime.datetime):
            local = value.astimezone(self.tz)
            return Cell(naturalday(local.date(), "M j, Y"), title=local.strftime("%Y-%m-%d %H:%M"))
        if spec.type == FieldType.DATE and isinstance(value, datetime.date):
            return Cell(naturalday(value, "M j, Y"), title=value.isoformat())
        text = str(value)
        if text.startswith(("https://", "http://")):
            return Cell(text, link=text)
        return Cell(text)


def number(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return intcomma(f"{value:.2f}".rstrip("0").rstrip("."))
    return intcomma(int(value))
