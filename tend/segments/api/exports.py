"""``GET /segments/{id}/export``: the segment's accounts now, streamed as CSV or XLSX (the
same parameters as ``GET /accounts/export`` but ``where``: the segment says which)."""

from ninja import Query, Router

from tend.accounts.api.exports import FILE_RESPONSES, FileQuery, parse_fields
from tend.accounts.exports import parse_format
from tend.accounts.schemas import ErrorOut
from tend.segments.exports import export_segment_fields
from tend.segments.queries import get_segment

router = Router(tags=["segments"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.get(
    "/segments/{int:id}/export",
    response={200: None, **ERRORS},
    summary="Export a segment's accounts as CSV or XLSX",
    description=(
        "The accounts in the segment now, by id, with `id`, `external_id`, `name` and the "
        "`fields` asked for, streamed as the file is written. A segment the token cannot see "
        "(another member's private segment) is a 404."
    ),
    openapi_extra={"responses": FILE_RESPONSES},
)
def export_segment(request, id: int, query: Query[FileQuery]):
    actor = request.auth
    segment = get_segment(actor, id)
    return export_segment_fields(
        actor, segment, parse_format(query.format), parse_fields(query.fields), query.headers
    )
