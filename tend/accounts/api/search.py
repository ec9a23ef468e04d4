"""``POST /accounts/search`` and ``POST /users/search``: a condition, chosen fields, any
sort, and keyset cursors with no cap on how far one pages (see ``tend.accounts.search``).

Pages are written with orjson straight from the rows: a page of 1,000 items validated
again by pydantic on the way out would cost more than reading it.
"""

from typing import Any

import orjson
from django.http import HttpResponse
from ninja import Field, Router, Schema

from tend.accounts.schemas import ErrorOut, Strict
from tend.accounts.search import (
    ACCOUNTS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    USERS,
    Population,
    Search,
    search,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ

router = Router(tags=["search"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class SearchIn(Strict):
    where: dict[str, Any] | None = Field(
        None,
        description="A condition (docs/conditions.md); none matches everyone. "
        "Errors name the clause: `where.all.1.value`.",
    )
    fields: list[str] = Field(
        [],
        max_length=100,
        description="Field names of the population's condition catalog to return with each "
        "item (e.g. `status`, `attributes.plan`, `usage.events_30d`); the population's own "
        "columns always come back.",
    )
    sort: list[Any] = Field(
        [],
        max_length=5,
        description='Up to 5 keys, each `{"field": …, "direction": "asc"|"desc"}` or a '
        'string `"field"` / `"-field"` (descending). Ties are broken by id, ascending; '
        "missing values sort last in both directions. Default: by id.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(
        None,
        max_length=4000,
        description="`next_cursor` of the previous page, with the same sort.",
    )


class SearchPage(Schema):
    items: list[dict[str, Any]] = Field(
        ..., description="One object per match, keyed by field name; a missing value is null."
    )
    next_cursor: str | None = Field(..., description="Null on the last page.")


def _run(request, population: Population, payload: SearchIn) -> HttpResponse:
    actor = request.auth
    actor.require(READ)
    try:
        page = search(actor.workspace, population, Search(**payload.model_dump()))
    except InvalidInput as exc:
        errors = exc.as_dicts() if hasattr(exc, "as_dicts") else [exc.as_dict()]
        body = {"detail": str(exc), "errors": errors}
        return HttpResponse(orjson.dumps(body), status=422, content_type="application/json")
    body = orjson.dumps({"items": page.items, "next_cursor": page.next_cursor})
    return HttpResponse(body, content_type="application/json")


@router.post(
    "/accounts/search",
    response={200: SearchPage, **ERRORS},
    summary="Search accounts",
    description=(
        "Accounts matching `where`, with `id`, `external_id`, `name` and the `fields` asked "
        "for, in `sort` order, `limit` (1–1000, default 100) at a time. Pass `next_cursor` "
        "back as `cursor` until it is null: there is no cap on the total."
    ),
)
def search_accounts(request, payload: SearchIn):
    return _run(request, ACCOUNTS, payload)


@router.post(
    "/users/search",
    response={200: SearchPage, **ERRORS},
    summary="Search end users",
    description=(
        "End users matching `where`, with `id`, `external_id`, `email`, `name` and the "
        "`fields` asked for (`account`, `account.status`, `attributes.<key>`, "
        "`usage.<metric>` …); paged like the accounts search."
    ),
)
def search_users(request, payload: SearchIn):
    return _run(request, USERS, payload)
