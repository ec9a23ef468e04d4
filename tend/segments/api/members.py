"""A segment's accounts and history: ``/segments/{id}/members`` (list, add, remove) and
``/segments/{id}/history`` (every entry and exit).

Both lists are keyset-paginated with no cap: members by account id, history newest first
by change id. Adding and removing is for static segments, by account id or external id,
with a result per item (unknown accounts are errors, reported, never dropped).
"""

import datetime
from typing import Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema

from tend.accounts.schemas import Strict
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.segments.actions import add_accounts, remove_accounts
from tend.segments.models import Source
from tend.segments.queries import get_segment, history_of, members_of

router = Router(tags=["segments"])


class MemberOut(Schema):
    account_id: int
    external_id: str
    name: str
    status: str
    entered_at: datetime.datetime


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class Page(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class MembersIn(Strict):
    account_ids: list[int] = Field(default_factory=list, description="Tend account ids.")
    external_ids: list[str] = Field(
        default_factory=list, description="Your external ids (case-sensitive)."
    )
    source: Literal["api", "import"] = Field(
        "api", description="What the history records as having made the change."
    )
    reference: str = Field(
        "", max_length=100, description="E.g. the import's file or run, kept in the history."
    )


class ItemResult(Schema):
    field: str = Field(..., description="Which item: account_ids.3 or external_ids.0.")
    account_id: int | None = None
    id: int | None = None
    external_id: str | None = None
    status: Literal["added", "already_member", "removed", "not_member", "error"]
    message: str | None = None


class MembersResult(Schema):
    results: list[ItemResult]
    counts: dict[str, int]


class AccountRef(Schema):
    id: int
    external_id: str
    name: str


class MemberRef(Schema):
    id: int
    name: str


class ChangeOut(Schema):
    id: int
    kind: Literal["entered", "left"]
    at: datetime.datetime
    account: AccountRef
    source: str = Field(..., description="condition, member, api, import or play.")
    member: MemberRef | None = Field(
        ..., description="Who added or removed it by hand or through their token."
    )
    reference: str


class ChangePage(Schema):
    items: list[ChangeOut]
    next_cursor: str | None


class HistoryFilters(Page):
    kind: Literal["entered", "left"] | None = None
    since: datetime.datetime | None = Field(None, description="Changes at or after this time.")
    account_id: int | None = Field(None, description="Only this account's entries and exits.")


@router.get(
    "/segments/{int:id}/members",
    response={200: MemberPage, **ERRORS},
    summary="List the accounts in a segment",
    description="By account id; follow `next_cursor` until it is null (no cap on how far).",
)
def list_members(request, id: int, page: Query[Page]):
    segment = get_segment(request.auth, id)
    rows = members_of(segment)
    after = id_cursor(page.cursor, "a")
    if after is not None:
        rows = rows.filter(account_id__gt=after)
    rows = list(
        rows.order_by("account_id").values_list(
            "account_id", "account__external_id", "account__name", "account__status", "entered_at"
        )[: page.limit + 1]
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "items": [
            {"account_id": a, "external_id": e, "name": n, "status": s, "entered_at": t}
            for a, e, n, s, t in rows
        ],
        "next_cursor": encode_cursor({"a": rows[-1][0]}) if more else None,
    }


def _change_members(request, id: int, payload: MembersIn, *, adding: bool) -> dict:
    actor = request.auth
    segment = get_segment(actor, id)
    change = add_accounts if adding else remove_accounts
    result = change(
        actor,
        segment,
        account_ids=payload.account_ids,
        external_ids=payload.external_ids,
        source=Source(payload.source),
        reference=payload.reference,
    )
    return result.as_json()


@router.post(
    "/segments/{int:id}/members",
    response={200: MembersResult, **ERRORS},
    summary="Add accounts to a static segment",
    description=(
        "Body: `account_ids` and/or `external_ids`. One result per item, in order: added, "
        "already_member, or error (no such account). The valid items are added."
    ),
)
def post_members(request, id: int, payload: MembersIn):
    return _change_members(request, id, payload, adding=True)


@router.delete(
    "/segments/{int:id}/members",
    response={200: MembersResult, **ERRORS},
    summary="Remove accounts from a static segment",
    description=(
        "Body as for adding. One result per item: removed, not_member, or error (no such "
        "account). The valid items are removed."
    ),
)
def delete_members(request, id: int, payload: MembersIn):
    return _change_members(request, id, payload, adding=False)


@router.get(
    "/segments/{int:id}/history",
    response={200: ChangePage, **ERRORS},
    summary="Every entry into and exit from a segment, newest first",
    description="Filter by `kind` (entered, left), `since` (a time) and `account_id`.",
)
def list_history(request, id: int, filters: Query[HistoryFilters]):
    segment = get_segment(request.auth, id)
    rows = history_of(segment)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.since is not None:
        if filters.since.tzinfo is None:
            raise InvalidInput("since", "give a time zone, e.g. 2025-03-01T00:00:00Z")
        rows = rows.filter(at__gte=filters.since)
    if filters.account_id is not None:
        rows = rows.filter(account_id=filters.account_id)
    before = id_cursor(filters.cursor)
    if before is not None:
        rows = rows.filter(id__lt=before)
    rows = list(rows.select_related("account", "member__user").order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [
            {
                "id": c.pk,
                "kind": c.kind,
                "at": c.at,
                "account": {
                    "id": c.account_id,
                    "external_id": c.account.external_id,
                    "name": c.account.name,
                },
                "source": c.source,
                "member": {"id": c.member.pk, "name": c.member.name} if c.member_id else None,
                "reference": c.reference,
            }
            for c in rows
        ],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }
