"""``GET /accounts/{id}/timeline``: the account's timeline, newest first, as the profile
shows it — every source other apps register (``tend.accounts.timeline``), paged by cursor."""

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from tend.accounts.models import Account
from tend.accounts.schemas import ErrorOut
from tend.accounts.timeline import (
    PAGE_DEFAULT,
    PAGE_MAX,
    account_timeline,
    kinds_param,
    parse_cursor,
)
from tend.lib.errors import InvalidInput
from tend.workspaces.access import READ, get_for
from tend.workspaces.models import Member

router = Router(tags=["timeline"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class TimelineItemOut(Schema):
    source: str = Field(..., description="The source's key: what `kind` filters by.")
    kind: str = Field(..., description="What happened, e.g. task_completed, segment_left.")
    id: int = Field(..., description="The row's id within its source.")
    at: datetime.datetime
    title: str
    detail: str
    actor: str = Field(..., description="Who did it; empty for the system.")
    actor_id: int | None = Field(..., description="The member who did it, if one did.")
    url: str = Field(..., description="The page it links to, if any (a path).")
    data: dict[str, Any]


class TimelinePageOut(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None


class TimelineFilters(Schema):
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    kind: str | None = Field(
        None, description="Source keys, comma-separated, e.g. touchpoint,task_completed."
    )
    member: int | None = Field(None, description="Only what this member did.")


@router.get(
    "/accounts/{int:id}/timeline",
    response={200: TimelinePageOut, **ERRORS},
    summary="An account's timeline",
)
def account_timeline_api(request, id: int, filters: Query[TimelineFilters]):
    """Touchpoints, tasks created and completed, play runs, health, stage, status and
    attribute changes, segment entries and exits — newest first. Sources the caller may not
    see are left out."""
    actor = request.auth
    account = get_for(actor, Account, READ, pk=id)
    kinds = kinds_param(filters.kind, actor)
    if (
        filters.member is not None
        and not Member.objects.filter(workspace=actor.workspace, pk=filters.member).exists()
    ):
        raise InvalidInput("member", "no such member in this workspace")
    page = account_timeline(
        actor,
        account,
        cursor=parse_cursor(filters.cursor),
        limit=filters.limit,
        kinds=kinds,
        member=filters.member,
    )
    return {
        "items": [
            {
                "source": item.source,
                "kind": item.kind,
                "id": item.id,
                "at": item.at,
                "title": item.title,
                "detail": item.detail,
                "actor": item.actor,
                "actor_id": item.actor_id,
                "url": item.url,
                "data": item.data,
            }
            for item in page.items
        ],
        "next_cursor": page.next_cursor,
    }
