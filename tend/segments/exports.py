"""Exporting a segment: its accounts now, streamed as CSV or XLSX through
``tend.accounts.exports``.

* :func:`export_segment_fields` — the API's file: ``id``, ``external_id``, ``name`` and the
  catalog fields asked for (every field by default), accounts by id;
* :func:`export_segment_columns` — the segment page's file: the accounts list's columns
  under its labels, accounts by name, as the Export button of the accounts list gives.

Callers fetch the segment through ``tend.segments.queries.get_segment`` first, so a segment
the actor cannot see (another workspace's, another member's private one) is a 404.
"""

from django.http import StreamingHttpResponse

from tend.accounts.conditions import account_catalog
from tend.accounts.exports import export_response, field_columns, list_columns
from tend.accounts.models import AssignmentRole
from tend.accounts.queries import list_attribute_columns, primary_role_of
from tend.segments.models import Segment
from tend.segments.queries import accounts_of
from tend.workspaces.access import Actor


def export_segment_fields(
    actor: Actor,
    segment: Segment,
    format: str,
    fields: list[str] | None = None,
    headers: str = "key",
) -> StreamingHttpResponse:
    workspace = actor.workspace
    catalog = account_catalog(workspace)
    columns = field_columns(catalog, fields)
    accounts = accounts_of(segment).order_by("pk")
    return export_response(
        workspace, accounts, columns, format, title=segment.name, headers=headers, catalog=catalog
    )


def export_segment_columns(actor: Actor, segment: Segment, format: str) -> StreamingHttpResponse:
    workspace = actor.workspace
    owner_role = primary_role_of(list(AssignmentRole.objects.filter(workspace=workspace)))
    columns = list_columns(owner_role, list_attribute_columns(workspace))
    accounts = accounts_of(segment).order_by("name", "pk")
    return export_response(workspace, accounts, columns, format, title=segment.name)
