"""Exporting accounts to CSV or XLSX, streamed: the accounts list, the API, and any other
list of accounts (segments, saved views, searches) through :func:`export_response`.

An export is a queryset of accounts (filtered and ordered as the caller wants) and a list
of :class:`Column`. Two kinds of column exist:

* **fields** (:func:`field_columns`) — fields of the condition catalog by name (``status``,
  ``attributes.plan``, ``usage.last_seen``, whatever upper apps add), with the value a
  condition compares, so an export shows what a segment tests; the API and segments use
  these, headed by field name or label;
* **the list's columns** (:func:`list_columns`) — what the accounts list shows, headed by
  the labels the list uses, the columns other apps add included (their ``export`` value).

Steps of :func:`account_rows`, which keep memory and queries flat whatever the number of
accounts:

1. the ids of the queryset, in its order, come from one query read as it goes (a
   server-side cursor on PostgreSQL, ``fetchmany`` on SQLite), ``CHUNK_SIZE`` at a time;
2. for each chunk of ids, the accounts and everything the columns read — stage, tags,
   owners, usage and health rows, catalog records — are fetched by id in a fixed number of
   queries (``prepare`` of each column, ``Catalog.records``), never per account;
3. each account becomes a row of plain values for ``tend.lib.exports``; times are turned
   into the workspace's time zone.

Ordering by id keeps pages stable, but a list sorted by last seen or health has no unique
key to page on, so the ids are read in one ordered pass rather than in keyset pages.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scope

from tend.accounts import extensions
from tend.accounts.conditions import account_catalog, attribute_field, condition_now
from tend.accounts.models import Account, AccountStatus, Assignment, AssignmentRole, Tag
from tend.lib import exports
from tend.lib.conditions import Catalog
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.workspaces.models import Workspace

CHUNK_SIZE = 2_000
MAX_FIELDS = 200
# The population's own columns, first in every export by field name (as the search API).
OWN_FIELDS = ("id", "external_id", "name")


@dataclass(frozen=True)
class Column:
    """One column of an export.

    ``value(account, record)`` is a plain value (text, number, date, date-time, yes/no, a
    list of text, or None); ``account`` comes from a queryset passed through ``prepare``,
    ``record`` is the account's catalog record when ``fields`` names catalog fields.
    """

    key: str
    label: str
    value: Callable[[Any, dict], Any]
    prepare: Callable[[QuerySet], QuerySet] | None = None
    fields: tuple[str, ...] = ()
    # A column of the accounts table itself, read as ``getattr(account, own)``.
    own: str = ""


# --- Columns of catalog fields ---------------------------------------------------------


def _own_column(name: str, label: str) -> Column:
    return Column(name, label, lambda account, record: getattr(account, name), own=name)


def _field_column(name: str, label: str) -> Column:
    return Column(name, label, lambda account, record: record.get(name), fields=(name,))


def default_fields(catalog: Catalog) -> list[str]:
    """Every catalog field but those holding ids (segment membership): what an export by
    the API holds when it names no fields."""
    return [name for name, spec in catalog.items() if not getattr(spec, "ids", False)]


def field_columns(catalog: Catalog, names: Iterable[str] | None = None) -> list[Column]:
    """``id``, ``external_id``, ``name``, then the catalog fields ``names`` (default:
    :func:`default_fields`). Raises ``InvalidInput`` naming ``fields.<i>`` for a name the
    catalog does not know."""
    names = default_fields(catalog) if names is None else list(names)
    if len(names) > MAX_FIELDS:
        raise InvalidInput("fields", f"at most {MAX_FIELDS} fields")
    columns = [
        _own_column("id", "Id"),
        _own_column("external_id", "External id"),
        _own_column("name", "Name"),
    ]
    for i, name in enumerate(names):
        if name in OWN_FIELDS:
            continue
        if name not in catalog:
            raise InvalidInput(f"fields.{i}", f"unknown field '{name}'")
        columns.append(_field_column(name, catalog[name].label))
    return list({c.key: c for c in columns}.values())


# --- The accounts list's columns -----------------------------------------------------------


def _with_tags(queryset):
    return queryset.prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="export_tags")
    )


def _owner_column(role: AssignmentRole) -> Column:
    def prepare(queryset):
        return queryset.prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(role=role).select_related("member__user"),
                to_attr="export_owners",
            )
        )

    def value(account, record):
        held = account.export_owners
        return held[0].member.name if held else None

    return Column(f"owner.{role.key}", role.name, value, prepare)


def _attribute_column(definition) -> Column:
    spec = attribute_field(definition)
    # Stored values read as a condition reads them: dates from their ISO text, and a value
    # of another type than the attribute's counts as missing.
    return Column(
        spec.name,
        definition.label,
        lambda account, record: spec.read((account.attributes or {}).get(definition.key), None),
    )


def _extension_column(column: extensions.ListColumn) -> Column:
    return Column(
        column.key, column.label, lambda account, record: column.export(account), column.prepare
    )


def list_columns(
    owner_role: AssignmentRole | None, attribute_definitions: Iterable
) -> list[Column]:
    """The columns the accounts list shows, in its order, under its labels: name, external
    id and every tag (the list shows two under the name), status, stage, the owner in the
    list's role, the columns other apps add, the attribute columns, last updated."""
    columns = [
        _own_column("name", "Name"),
        _own_column("external_id", "External id"),
        Column(
            "tags",
            "Tags",
            lambda account, record: [t.name for t in account.export_tags],
            _with_tags,
        ),
        Column("status", "Status", lambda account, record: AccountStatus(account.status).label),
        Column(
            "stage",
            "Stage",
            lambda account, record: account.stage.name if account.stage_id else None,
            lambda queryset: queryset.select_related("stage"),
        ),
    ]
    if owner_role is not None:
        columns.append(_owner_column(owner_role))
    columns += [_extension_column(c) for c in extensions.list_columns() if c.export is not None]
    columns += [_attribute_column(d) for d in attribute_definitions]
    columns.append(_own_column("updated_at", "Updated"))
    return columns


# --- Rows --------------------------------------------------------------------------------


def _local(value, tz):
    """A date-time in the workspace's zone (lists and other values as they are)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(tz)
    return value


def _chunks_of_ids(queryset: QuerySet, size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in queryset.values_list("pk", flat=True).iterator(chunk_size=size):
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def account_rows(
    workspace: Workspace,
    queryset: QuerySet,
    columns: list[Column],
    *,
    catalog: Catalog | None = None,
    now: datetime.datetime | None = None,
    chunk_size: int | None = None,
) -> Iterator[list]:
    """One row of values per account of ``queryset``, in its order (by id when it has
    none); see the module docstring for the steps and their queries."""
    size = chunk_size or CHUNK_SIZE
    tz = zone(workspace.time_zone)
    now = condition_now(workspace, now)
    field_names = list(dict.fromkeys(name for c in columns for name in c.fields))
    if field_names and catalog is None:
        catalog = account_catalog(workspace)
    preparations = list(dict.fromkeys(c.prepare for c in columns if c.prepare is not None))
    reads_accounts = any(not c.fields for c in columns)
    # Columns of the accounts table alone (an export of fields) are read as plain values:
    # building a model instance per account would cost more than the rest of the row.
    own = [c.own for c in columns if not c.fields]
    plain = all(own) and not preparations
    if not queryset.query.order_by:
        queryset = queryset.order_by("pk")

    for ids in _chunks_of_ids(queryset, size):
        chunk = Account.objects.filter(workspace=workspace, pk__in=ids)
        accounts: dict[int, Any] = {}
        if plain and reads_accounts:
            accounts = {
                values["pk"]: SimpleNamespace(**values)
                for values in chunk.values("pk", *dict.fromkeys(own))
            }
        elif reads_accounts:
            prepared = chunk
            for prepare in preparations:
                prepared = prepare(prepared)
            accounts = {account.pk: account for account in prepared}
        records = catalog.records(chunk, now, field_names) if field_names else {}
        for pk in ids:
            account = accounts.get(pk)
            record = records.get(pk)
            if (reads_accounts and account is None) or (field_names and record is None):
                continue  # deleted since its id was read
            yield [_local(c.value(account, record or {}), tz) for c in columns]


# --- The response --------------------------------------------------------------------------


def parse_format(value: str | None, field: str = "format") -> str:
    """``csv`` or ``xlsx``; anything else is an ``InvalidInput`` naming ``field``."""
    if value not in exports.FORMATS:
        shown = f"'{value}'" if value else "nothing"
        raise InvalidInput(field, f"expected csv or xlsx, got {shown}")
    return value


def file_name(title: str, format: str, when: datetime.datetime | None = None) -> str:
    """``accounts-2025-03-01.csv``: the title as ASCII words joined by dashes (a header
    carries it, and browsers do not decode other encodings there), and today."""
    day = (when or timezone.now()).date().isoformat()
    return f"{slugify(title) or 'export'}-{day}.{format}"


def scoped_stream(workspace_id: int, chunks: Iterator[bytes]) -> Iterator[bytes]:
    # The response is written after the view returned and the request's workspace scope
    # ended, so the rows are read inside a scope of their own.
    with scope(workspace=workspace_id):
        yield from chunks


def export_response(
    workspace: Workspace,
    queryset: QuerySet,
    columns: list[Column],
    format: str,
    *,
    title: str = "Accounts",
    headers: str = "label",
    catalog: Catalog | None = None,
) -> StreamingHttpResponse:
    """Stream ``queryset``'s accounts as a CSV or XLSX download of ``columns``.

    For other apps: segments, saved views and searches call this with their queryset and
    :func:`field_columns` (or :func:`list_columns`). ``headers`` is ``"label"`` (what a
    person reads) or ``"key"`` (field names, for programs). ``format`` must have been
    checked (:func:`parse_format`).
    """
    header = [c.label if headers == "label" else c.key for c in columns]
    rows = account_rows(workspace, queryset, columns, catalog=catalog)
    chunks = exports.chunks(format, header, rows, sheet_title=title)
    response = StreamingHttpResponse(
        scoped_stream(workspace.pk, chunks), content_type=exports.CONTENT_TYPES[format]
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name(title, format)}"'
    # Proxies that buffer (nginx) would hold the stream back until the end.
    response["X-Accel-Buffering"] = "no"
    response["Cache-Control"] = "no-store"
    return response
