"""``/segments``: list, get, create, change, delete and refresh segments, and their daily
member counts.

Reads need the read scope; a private segment of another member answers 404, like an id of
another workspace. Changes need the rights ``tend.segments.queries`` describes (shared:
write; private: its owner, any seat but viewer), checked by the actions.
"""

import datetime
from typing import Literal

from django.conf import settings
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.schemas import Strict
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.segments.actions import create_segment, delete_segment, evaluate_segment, update_segment
from tend.segments.actions.evaluation import local_day
from tend.segments.models import Segment
from tend.segments.queries import can_edit, counts_of, get_segment, visible_segments
from tend.workspaces.access import CONTRIBUTE, READ

router = Router(tags=["segments"])
CONDITION_HELP = (
    "Which accounts a dynamic segment holds, in the condition language (docs/conditions.md); "
    'e.g. {"all": [{"field": "status", "op": "eq", "value": "paying"}]}. Static segments '
    "take none."
)

Kind = Literal["dynamic", "static"]
VisibilityName = Literal["private", "shared"]


class OwnerOut(Schema):
    id: int
    name: str
    email: str


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: Kind
    visibility: VisibilityName
    condition: dict | None
    owner: OwnerOut | None
    members: int = Field(..., description="Accounts in the segment now.")
    used_by_automation: bool
    evaluated_at: datetime.datetime | None = Field(
        ..., description="When the data of the last evaluation was read (dynamic only)."
    )
    evaluation_error: str = Field(
        ...,
        description="Why the last evaluation failed (its members were kept); empty when it did not.",
    )
    can_edit: bool = Field(..., description="Whether the caller may change this segment.")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class SegmentIn(Strict):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=500)
    kind: Kind = "dynamic"
    visibility: VisibilityName = Field(
        "private", description="private: only you see it; shared: every member of the workspace."
    )
    condition: dict | None = Field(None, description=CONDITION_HELP)


class SegmentPatch(Strict):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    kind: Kind | None = Field(None, description="Cannot change; accepted when unchanged.")
    visibility: VisibilityName | None = None
    condition: dict | None = Field(None, description="Re-evaluated at once. " + CONDITION_HELP)


class SegmentFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    kind: Kind | None = None
    visibility: VisibilityName | None = None
    q: str | None = Field(None, description="Search in the name.")


class RefreshOut(Schema):
    segment: SegmentOut
    entered: int = Field(..., description="Accounts that entered in this evaluation.")
    left: int
    seconds: float


class CountOut(Schema):
    day: datetime.date
    members: int


class CountList(Schema):
    items: list[CountOut]


class CountParams(Schema):
    since: datetime.date | None = Field(
        None, description="The first local day; default 90 days ago."
    )


def segment_out(segment: Segment, actor) -> dict:
    owner = segment.owner
    return {
        "id": segment.pk,
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "visibility": segment.visibility,
        "condition": segment.condition,
        "owner": {"id": owner.pk, "name": owner.name, "email": owner.user.email} if owner else None,
        "members": segment.member_count,
        "used_by_automation": segment.used_by_automation,
        "evaluated_at": segment.evaluated_at,
        "evaluation_error": segment.evaluation_error,
        "can_edit": can_edit(actor, segment),
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _segments(actor):
    return visible_segments(actor).select_related("owner__user")


def _one(request, id: int) -> dict:
    actor = request.auth
    return segment_out(get_segment(actor, id, queryset=_segments(actor)), actor)


@router.get("/segments", response={200: SegmentPage, **ERRORS}, summary="List segments")
def list_segments(request, filters: Query[SegmentFilters]):
    """The segments you see (shared ones and your private ones), by id."""
    actor = request.auth
    actor.require(READ)
    segments = _segments(actor)
    if filters.kind:
        segments = segments.filter(kind=filters.kind)
    if filters.visibility:
        segments = segments.filter(visibility=filters.visibility)
    if filters.q:
        segments = segments.filter(name__icontains=filters.q.strip())
    after = id_cursor(filters.cursor)
    if after is not None:
        segments = segments.filter(id__gt=after)
    rows = list(segments.order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [segment_out(s, actor) for s in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.get("/segments/{int:id}", response={200: SegmentOut, **ERRORS}, summary="Get a segment")
def get_one(request, id: int):
    return _one(request, id)


@router.post(
    "/segments",
    response={201: SegmentOut, **ERRORS},
    summary="Create a segment",
    description=(
        "A dynamic segment (with a `condition`) is evaluated before the answer, so `members` "
        "is its count. Shared segments need the write scope; private ones belong to the "
        "member who created the token."
    ),
)
def post_segment(request, payload: SegmentIn):
    segment = create_segment(request.auth, payload.dict(exclude_unset=True))
    return Status(201, _one(request, segment.pk))


@router.patch(
    "/segments/{int:id}",
    response={200: SegmentOut, **ERRORS},
    summary="Change a segment",
    description="A new `condition` is evaluated before the answer. The kind cannot change.",
)
def patch_segment(request, id: int, payload: SegmentPatch):
    actor = request.auth
    segment = get_segment(actor, id)
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "visibility"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    if changes.get("kind") is None:
        changes.pop("kind", None)
    update_segment(actor, segment, changes)
    return _one(request, id)


@router.delete(
    "/segments/{int:id}",
    response={204: None, **ERRORS},
    summary="Delete a segment",
    description="Refused (422) while another segment's or a health profile's condition names it.",
)
def remove_segment(request, id: int):
    actor = request.auth
    delete_segment(actor, get_segment(actor, id))
    return Status(204, None)


@router.post(
    "/segments/{int:id}/refresh",
    response={200: RefreshOut, **ERRORS},
    summary="Evaluate a dynamic segment now",
    description=(
        "Dynamic segments are refreshed within a minute anyway; this evaluates one at once "
        "and answers how many accounts entered and left. Any seat but viewer."
    ),
)
def refresh_segment(request, id: int):
    actor = request.auth
    segment = get_segment(actor, id)
    actor.require(CONTRIBUTE)
    result = evaluate_segment(segment)
    return {
        "segment": _one(request, id),
        "entered": len(result.entered),
        "left": len(result.left),
        "seconds": round(result.seconds, 4),
    }


@router.get(
    "/segments/{int:id}/counts",
    response={200: CountList, **ERRORS},
    summary="A segment's member count per day",
    description="One entry per local day (the workspace's time zone) with a recorded count, oldest first.",
)
def segment_counts(request, id: int, params: Query[CountParams]):
    segment = get_segment(request.auth, id)
    today = local_day(segment.workspace, timezone.now())
    since = params.since or (today - datetime.timedelta(days=90))
    return {"items": [{"day": d, "members": n} for d, n in counts_of(segment, since)]}
