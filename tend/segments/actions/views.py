"""Creating, changing and deleting saved views.

A view is a set of accounts (a segment's members, a condition's matches, or every account)
with chosen columns and a sort, all condition catalog field names (see
``tend.segments.view_models``). Who may do what follows segments: a shared view needs the
write right, a private one belongs to its owner (any seat but viewer). Every input is checked
before anything is written, each problem naming its field (``columns.2``, ``sort.0``,
``condition.all.1.value``).
"""

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from tend.accounts.conditions import account_catalog
from tend.accounts.search import ACCOUNTS
from tend.accounts.search.columns import is_sortable
from tend.lib.conditions import Catalog
from tend.lib.errors import InvalidInput
from tend.segments.actions.common import (
    choice,
    condition_for,
    named_segments,
    owner_for_private,
    private_segments,
    segment_for,
    text,
    unknown_fields,
)
from tend.segments.models import Visibility
from tend.segments.queries import acting_member
from tend.segments.scorecard_models import Source
from tend.segments.scorecard_queries import require_edit
from tend.segments.view_models import SavedView
from tend.workspaces.access import CONTRIBUTE, WRITE, Actor
from tend.workspaces.models import Workspace

VIEW_FIELDS = ("name", "description", "visibility", "segment_id", "condition", "columns", "sort")
MAX_NAME = 120
MAX_DESCRIPTION = 500
MAX_COLUMNS = 40
MAX_SORT = 5
# What a new view shows when it names no columns: what a CSM scans first, as on the list.
DEFAULT_COLUMNS = (
    "status",
    "stage",
    "owner.success_manager",
    "usage.last_seen",
    "usage.active_users_14d",
    "health.rank",
    "health.score",
)
DEFAULT_SORT = ("name",)
# Always shown, first: the account's name links to its profile.
FIXED_COLUMNS = ("name",)


def default_columns(catalog: Catalog) -> list[str]:
    return [name for name in DEFAULT_COLUMNS if name in catalog]


def column_fields(catalog: Catalog) -> list:
    """The catalog fields a view may show as columns: every one but those holding ids
    (segment membership) and the name, which every view shows first."""
    return [
        spec
        for spec in catalog.values()
        if not getattr(spec, "ids", False) and spec.name not in FIXED_COLUMNS
    ]


def check_columns(value, catalog: Catalog) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise InvalidInput("columns", "expected a list of field names")
    if len(value) > MAX_COLUMNS:
        raise InvalidInput("columns", f"at most {MAX_COLUMNS} columns")
    allowed = {spec.name for spec in column_fields(catalog)}
    seen = set()
    for i, name in enumerate(value):
        if name in FIXED_COLUMNS:
            raise InvalidInput(f"columns.{i}", f"'{name}' is always the first column")
        if name not in allowed:
            hint = " (segment membership is not a column)" if name in catalog else ""
            raise InvalidInput(f"columns.{i}", f"unknown field '{name}'{hint}")
        if name in seen:
            raise InvalidInput(f"columns.{i}", f"'{name}' is already a column")
        seen.add(name)
    return list(value)


def check_sort(value, catalog: Catalog) -> list[str]:
    """Sort keys as ``"field"`` (ascending) or ``"-field"`` (descending): the name, or a
    catalog field holding one value per account. Ties are broken by id."""
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise InvalidInput("sort", 'expected a list of field names, "-name" for descending')
    if len(value) > MAX_SORT:
        raise InvalidInput("sort", f"at most {MAX_SORT} keys")
    seen = set()
    for i, key in enumerate(value):
        name = key.removeprefix("-")
        if name in seen:
            raise InvalidInput(f"sort.{i}", f"sorts by '{name}' twice")
        seen.add(name)
        if name in ACCOUNTS.columns:
            continue
        spec = catalog.get(name)
        if spec is None:
            raise InvalidInput(f"sort.{i}", f"unknown field '{name}'")
        if not is_sortable(spec):
            raise InvalidInput(
                f"sort.{i}", f"'{name}' holds several values and cannot be sorted by"
            )
    return list(value)


def _name(workspace: Workspace, value, exclude_pk=None) -> str:
    name = text("name", value, MAX_NAME, required=True)
    if SavedView.objects.filter(workspace=workspace, name=name).exclude(pk=exclude_pk).exists():
        raise InvalidInput("name", f"another view is already called {name!r}")
    return name


def _accounts(actor: Actor, data: Mapping, *, shared: bool) -> dict:
    """``source``, ``segment`` and ``condition`` from ``segment_id`` or ``condition``."""
    segment_id, condition = data.get("segment_id"), data.get("condition")
    if segment_id is not None and condition is not None:
        raise InvalidInput("condition", "a view lists a segment or a condition, not both: drop one")
    if segment_id is not None:
        segment = segment_for(actor, segment_id, "segment_id", shared=shared, what="view")
        return {"source": Source.SEGMENT, "segment": segment, "condition": None}
    if condition is not None:
        checked = condition_for(actor, condition, "condition", shared=shared, what="view")
        return {"source": Source.CONDITION, "segment": None, "condition": checked}
    return {"source": Source.ALL, "segment": None, "condition": None}


def create_view(actor: Actor, data: Mapping) -> SavedView:
    """A new view from ``name``, ``description``, ``visibility`` (private by default: the
    contribute right; shared: the write right), its accounts — ``segment_id`` or
    ``condition`` (neither: every account) — ``columns`` (default: status, stage, success
    manager, last seen, active users, health) and ``sort`` (default: by name)."""
    unknown_fields(data, VIEW_FIELDS, "a view")
    visibility = choice("visibility", data.get("visibility", Visibility.PRIVATE), Visibility)
    actor.require(WRITE if visibility == Visibility.SHARED else CONTRIBUTE)
    shared = visibility == Visibility.SHARED
    catalog = account_catalog(actor.workspace)
    with transaction.atomic():
        name = _name(actor.workspace, data.get("name"))
        description = text("description", data.get("description"), MAX_DESCRIPTION)
        accounts = _accounts(actor, data, shared=shared)
        columns = data.get("columns")
        columns = default_columns(catalog) if columns is None else check_columns(columns, catalog)
        sort = data.get("sort")
        sort = list(DEFAULT_SORT) if sort is None else check_sort(sort, catalog)
        owner = owner_for_private(actor, "view") if not shared else acting_member(actor)
        now = timezone.now()
        return SavedView.objects.create(
            workspace=actor.workspace,
            name=name,
            description=description,
            visibility=visibility,
            owner=owner,
            columns=columns,
            sort=sort,
            created_at=now,
            updated_at=now,
            **accounts,
        )


def update_view(actor: Actor, view: SavedView, changes: Mapping) -> SavedView:
    """Change any field :func:`create_view` takes. Giving ``segment_id`` drops the view's
    condition and the reverse; both null list every account. Sharing a view needs the write
    right and its segments to be shared."""
    unknown_fields(changes, VIEW_FIELDS, "a view")
    require_edit(actor, view)
    catalog = account_catalog(actor.workspace)
    with transaction.atomic():
        view = SavedView.objects.select_for_update().get(pk=view.pk)
        require_edit(actor, view)
        fields = []
        visibility = view.visibility
        if "visibility" in changes:
            visibility = choice("visibility", changes["visibility"], Visibility)
            if visibility != view.visibility:
                actor.require(WRITE)
        shared = visibility == Visibility.SHARED
        if "name" in changes:
            view.name = _name(view.workspace, changes["name"], exclude_pk=view.pk)
            fields.append("name")
        if "description" in changes:
            view.description = text("description", changes["description"], MAX_DESCRIPTION)
            fields.append("description")
        if "segment_id" in changes or "condition" in changes:
            accounts = _accounts(
                actor,
                {
                    "segment_id": changes.get("segment_id"),
                    "condition": changes.get("condition"),
                },
                shared=shared,
            )
            for name, value in accounts.items():
                setattr(view, name, value)
            fields += ["source", "segment", "condition"]
        if visibility != view.visibility:
            if shared:
                ids = named_segments((view.segment_id,), view.condition)
                private = private_segments(view.workspace, ids)
                if private:
                    raise InvalidInput(
                        "visibility",
                        f"the view lists the private segment {next(iter(private.values()))!r}; "
                        "share that segment first, so everyone who sees the view can see it",
                    )
            else:
                view.owner = owner_for_private(actor, "view") or view.owner
                fields.append("owner")
            view.visibility = visibility
            fields.append("visibility")
        if "columns" in changes:
            view.columns = check_columns(changes["columns"], catalog)
            fields.append("columns")
        if "sort" in changes:
            view.sort = check_sort(changes["sort"], catalog)
            fields.append("sort")
        if fields:
            view.updated_at = timezone.now()
            view.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    return view


@transaction.atomic
def delete_view(actor: Actor, view: SavedView) -> None:
    require_edit(actor, view)
    view.delete()
