"""Reading imports for pages and the API: the access chokepoint and the errors file."""

from django.http import StreamingHttpResponse
from django_scopes import scope

from tend.hub.models import Import, RejectedRow
from tend.lib.exports.csv_stream import csv_chunks
from tend.workspaces.access import READ, Actor, get_for

REJECTED_BATCH = 2000


def get_import(actor: Actor, import_id: int, right: str = READ) -> Import:
    return get_for(actor, Import.objects.select_related("created_by__user"), right, pk=import_id)


def imports_of(actor: Actor):
    return Import.objects.filter(workspace=actor.workspace).select_related("created_by__user")


def rejected_rows(imp: Import):
    """Every rejected row in row order, read in batches by row number (constant memory).

    Read inside a scope of its own: a streamed response is written after the view returned
    and the request's workspace scope ended."""
    with scope(workspace=imp.workspace_id):
        yield from _rejected_batches(imp)


def _rejected_batches(imp: Import):
    last = 0
    while True:
        batch = list(
            RejectedRow.objects.filter(workspace_id=imp.workspace_id, import_run=imp, row_number__gt=last)
            .order_by("row_number")
            .values_list("row_number", "reason", "cells")[:REJECTED_BATCH]
        )
        if not batch:
            return
        for number, reason, cells in batch:
            yield [number, reason, *cells]
        last = batch[-1][0]


def errors_response(imp: Import) -> StreamingHttpResponse:
    """The rejected rows as CSV: row number, reason, then the row's cells as in the file
    (escaped against formula injection: a cell starting with ``=`` gets a leading ``'``)."""
    header = ["row", "reason", *imp.headers]
    response = StreamingHttpResponse(csv_chunks(header, rejected_rows(imp)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-rejected-rows.csv"'
    return response
