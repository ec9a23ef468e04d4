"""``GET /accounts/export``: the accounts matching a condition, with chosen fields, streamed
as CSV or XLSX (see ``tend.accounts.exports`` and docs/exports.md)."""

import json
from typing import Literal

from ninja import Field, Query, Router, Schema

from tend.accounts.conditions import account_catalog, matching_accounts
from tend.accounts.exports import export_response, field_columns, parse_format
from tend.accounts.models import Account
from tend.accounts.schemas import ErrorOut
from tend.lib.conditions import require_valid
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ

router = Router(tags=["exports"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
FILE_RESPONSES = {
    "200": {
        "description": "The file, streamed as it is written.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    }
}


class FileQuery(Schema):
    """What every export of accounts by the API takes (segments' exports too)."""

    # Optional in the schema, required by the handler: a segment the caller cannot see must
    # answer 404 before any complaint about the query.
    format: Literal["csv", "xlsx"] | None = Field(None, description="`csv` or `xlsx` (required).")
    fields: str | None = Field(
        None,
        max_length=10_000,
        description="Comma-separated field names of the condition catalog (`status`, "
        "`attributes.plan`, `usage.last_seen` …) after `id`, `external_id` and `name`, "
        "which always come first. Default: every field.",
    )
    headers: Literal["key", "label"] = Field(
        "key", description="The header row: field names (`key`) or their labels (`label`)."
    )


class ExportQuery(FileQuery):
    where: str | None = Field(
        None,
        max_length=100_000,
        description="A condition as JSON text (docs/conditions.md); none exports every "
        "account. Errors name the clause: `where.all.1.value`.",
    )


def parse_where(text: str | None):
    """The condition in ``text``, or None for no condition."""
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput("where", f"is not valid JSON: {exc}") from exc


def parse_fields(text: str | None) -> list[str] | None:
    """The field names of a comma-separated list, or None (every field) without one."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    for i, name in enumerate(names):
        if not name:
            raise InvalidInput(f"fields.{i}", "is empty")
    return names


@router.get(
    "/accounts/export",
    response={200: None, **ERRORS},
    summary="Export accounts as CSV or XLSX",
    description=(
        "Every account matching `where` (every account without it), by id, with `id`, "
        "`external_id`, `name` and the `fields` asked for. The file streams as it is "
        "written: the first bytes arrive at once, whatever the number of accounts."
    ),
    openapi_extra={"responses": FILE_RESPONSES},
)
def export_accounts(request, query: Query[ExportQuery]):
    actor = request.auth
    actor.require(READ)
    format = parse_format(query.format)
    workspace = actor.workspace
    catalog = account_catalog(workspace)
    condition = parse_where(query.where)
    columns = field_columns(catalog, parse_fields(query.fields))
    if condition is None:
        accounts = Account.objects.filter(workspace=workspace)
    else:
        require_valid(condition, catalog, prefix="where")
        accounts = matching_accounts(workspace, condition, catalog=catalog)
    return export_response(
        workspace, accounts, columns, format, headers=query.headers, catalog=catalog
    )
