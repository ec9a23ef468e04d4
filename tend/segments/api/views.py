"""``/views``: list, get, create, change and delete saved views, and ``/views/{id}/accounts``,
the view's accounts with its columns in its sort, keyset-paginated with no cap.

A view's columns and sort are condition catalog field names, read as the search API reads
them (``POST /accounts/search``): ``/views/{id}/accounts`` is that search with the view's
``where``, ``fields`` and ``sort``, and its cursors page the same way.
"""

import datetime
from typing import Any, Literal

import orjson
from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.schemas import Strict
from tend.accounts.search import DEFAULT_LIMIT, MAX_LIMIT
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.segments.actions.views import create_view, delete_view, update_view
from tend.segments.api.scorecards import SegmentRef
from tend.segments.api.segments import OwnerOut
from tend.segments.scorecard_queries import can_edit, get_view, visible_views
from tend.segments.view_models import SavedView
from tend.segments.view_rows import ViewProblem, search_view
from tend.workspaces.access import READ

router = Router(tags=["views"])

VisibilityName = Literal["private", "shared"]
FIELDS_HELP = (
    "Field names of the condition catalog shown as columns after the name, in order "
    "(`status`, `attributes.plan`, `usage.last_seen`, `health.score` …)."
)
SORT_HELP = (
    'Up to 5 keys, `"field"` ascending or `"-field"` descending; ties by id, missing values last.'
)


class ViewOut(Schema):
    id: int
    name: str
    description: str
    visibility: VisibilityName
    owner: OwnerOut | None
    segment: SegmentRef | None = Field(..., description="The segment whose members it lists.")
    condition: dict | None = Field(..., description="Else the condition its accounts match.")
    columns: list[str] = Field(..., description=FIELDS_HELP)
    sort: list[str] = Field(..., description=SORT_HELP)
    can_edit: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ViewPage(Schema):
    items: list[ViewOut]
    next_cursor: str | None


class ViewIn(Strict):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=500)
    visibility: VisibilityName = Field(
        "private", description="private: only you see it; shared: every member of the workspace."
    )
    segment_id: int | None = Field(None, description="List this segment's members.")
    condition: dict[str, Any] | None = Field(
        None, description="Or the accounts this condition matches (docs/conditions.md)."
    )
    columns: list[str] | None = Field(
        None,
        max_length=40,
        description=FIELDS_HELP + " Default: status, stage, success manager, last seen, "
        "active users, health and score.",
    )
    sort: list[str] | None = Field(None, max_length=5, description=SORT_HELP + " Default: name.")


class ViewPatch(Strict):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    visibility: VisibilityName | None = None
    segment_id: int | None = Field(None, description="Replaces the view's condition.")
    condition: dict[str, Any] | None = Field(None, description="Replaces the view's segment.")
    columns: list[str] | None = Field(None, max_length=40, description=FIELDS_HELP)
    sort: list[str] | None = Field(None, max_length=5, description=SORT_HELP)


class ViewFilters(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")


class AccountsParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(
        None, max_length=4000, description="`next_cursor` of the previous page."
    )


class AccountsPage(Schema):
    items: list[dict[str, Any]] = Field(
        ...,
        description="One object per account: `id`, `external_id`, `name` and the view's "
        "columns; a missing value is null.",
    )
    next_cursor: str | None = Field(..., description="Null on the last page.")
    columns: list[str] = Field(
        ..., description="The columns read (a field the workspace no longer has is left out)."
    )


def view_out(view: SavedView, actor) -> dict:
    owner, segment = view.owner, view.segment
    return {
        "id": view.pk,
        "name": view.name,
        "description": view.description,
        "visibility": view.visibility,
        "owner": {"id": owner.pk, "name": owner.name, "email": owner.user.email} if owner else None,
        "segment": {"id": segment.pk, "name": segment.name} if segment else None,
        "condition": view.condition,
        "columns": view.columns,
        "sort": view.sort,
        "can_edit": can_edit(actor, view),
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


def _views(actor):
    return visible_views(actor).select_related("owner__user", "segment")


def _fetch(request, id: int) -> SavedView:
    actor = request.auth
    return get_view(actor, id, queryset=_views(actor))


@router.get("/views", response={200: ViewPage, **ERRORS}, summary="List saved views")
def list_views(request, filters: Query[ViewFilters]):
    """The views you see (shared ones and your private ones), by id."""
    actor = request.auth
    actor.require(READ)
    views = _views(actor)
    after = id_cursor(filters.cursor)
    if after is not None:
        views = views.filter(id__gt=after)
    rows = list(views.order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [view_out(v, actor) for v in rows],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.get("/views/{int:id}", response={200: ViewOut, **ERRORS}, summary="Get a saved view")
def get_one(request, id: int):
    return view_out(_fetch(request, id), request.auth)


@router.post("/views", response={201: ViewOut, **ERRORS}, summary="Create a saved view")
def post_view(request, payload: ViewIn):
    data = payload.dict(exclude_unset=True)
    view = create_view(request.auth, data)
    return Status(201, view_out(_fetch(request, view.pk), request.auth))


@router.patch(
    "/views/{int:id}",
    response={200: ViewOut, **ERRORS},
    summary="Change a saved view",
    description=(
        "Giving `segment_id` replaces the view's condition and the reverse; both null list "
        "every account."
    ),
)
def patch_view(request, id: int, payload: ViewPatch):
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "visibility", "columns", "sort"):
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "must not be null")
    update_view(request.auth, _fetch(request, id), changes)
    return view_out(_fetch(request, id), request.auth)


@router.delete("/views/{int:id}", response={204: None, **ERRORS}, summary="Delete a saved view")
def remove_view(request, id: int):
    delete_view(request.auth, _fetch(request, id))
    return Status(204, None)


@router.get(
    "/views/{int:id}/accounts",
    response={200: AccountsPage, **ERRORS},
    summary="A saved view's accounts",
    description=(
        "The view's accounts with `id`, `external_id`, `name` and its columns, in its sort, "
        "`limit` (1–1000, default 100) at a time. Pass `next_cursor` back as `cursor` until "
        "it is null: there is no cap on the total."
    ),
)
def view_accounts(request, id: int, params: Query[AccountsParams]):
    view = _fetch(request, id)
    try:
        page, used = search_view(view, limit=params.limit, cursor=params.cursor)
    except ViewProblem as exc:
        raise InvalidInput(exc.field, str(exc)) from exc
    except InvalidInput as exc:
        errors = exc.as_dicts() if hasattr(exc, "as_dicts") else [exc.as_dict()]
        body = {"detail": str(exc), "errors": errors}
        return HttpResponse(orjson.dumps(body), status=422, content_type="application/json")
    # Written straight from the rows, as the search API does: a page of 1,000 items
    # validated again on the way out would cost more than reading it.
    body = orjson.dumps(
        {"items": page.items, "next_cursor": page.next_cursor, "columns": used.columns}
    )
    return HttpResponse(body, content_type="application/json")
