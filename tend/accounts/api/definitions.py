"""REST endpoints for the data model: attribute definitions, stages, assignment roles, tags.

Reads need the read scope; writes need admin (tags: write), checked by the actions.
Lists use keyset cursors over the order the UI shows them in.
"""

from datetime import datetime

from django.db.models import Q
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.actions import definitions as actions
from tend.accounts.models import AssignmentRole, AttributeDefinition, ObjectType, Stage, Tag
from tend.lib.cursor import InvalidCursor, decode_cursor, encode_cursor
from tend.lib.errors import InvalidInput
from tend.workspaces.access import ADMIN, READ, WRITE, get_for

router = Router(tags=["data model"])


class Page(Schema):
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = None


def paginate(queryset, page: Page, order: tuple[str, str]) -> dict:
    """One page of ``queryset`` ordered by ``order`` (a field, then ``id`` as tie-breaker)."""
    first, second = order
    queryset = queryset.order_by(first, second)
    if page.cursor:
        try:
            after = decode_cursor(page.cursor)
            values = (after[first], after[second])
        except (InvalidCursor, KeyError) as exc:
            raise InvalidInput("cursor", "is not a cursor this API issued") from exc
        queryset = queryset.filter(
            Q(**{f"{first}__gt": values[0]}) | Q(**{first: values[0], f"{second}__gt": values[1]})
        )
    rows = list(queryset[: page.limit + 1])
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor({first: getattr(last, first), second: getattr(last, second)})
    return {"items": rows, "next_cursor": next_cursor}


def _changes(payload: Schema) -> dict:
    return payload.dict(exclude_unset=True)


# --- Attribute definitions ---------------------------------------------------------------------


class AttributeOut(Schema):
    id: int
    object_type: str
    key: str
    label: str
    type: str
    options: list[str]
    required: bool
    description: str
    position: int
    created_at: datetime


class AttributeIn(Schema):
    object_type: str = ObjectType.ACCOUNT
    key: str
    label: str
    type: str = "text"
    options: list[str] = []
    required: bool = False
    description: str = ""


class AttributePatch(Schema):
    label: str | None = None
    type: str | None = None
    options: list[str] | None = None
    required: bool | None = None
    description: str | None = None


class AttributeList(Schema):
    items: list[AttributeOut]
    next_cursor: str | None


class AttributeFilters(Page):
    object_type: str | None = None
    key: str | None = None


@router.get("/attributes", response=AttributeList, summary="List attribute definitions")
def list_attributes(request, filters: Query[AttributeFilters]):
    request.auth.require(READ)
    queryset = AttributeDefinition.objects.filter(workspace=request.auth.workspace)
    if filters.object_type:
        queryset = queryset.filter(object_type=filters.object_type)
    if filters.key:
        queryset = queryset.filter(key=filters.key)
    return paginate(queryset, filters, ("position", "id"))


@router.get(
    "/attributes/{int:definition_id}", response=AttributeOut, summary="Get an attribute definition"
)
def get_attribute(request, definition_id: int):
    return get_for(request.auth, AttributeDefinition, READ, pk=definition_id)


@router.post("/attributes", response={201: AttributeOut}, summary="Create an attribute definition")
def create_attribute(request, payload: AttributeIn):
    return Status(201, actions.create_attribute(request.auth, payload.dict()))


@router.patch(
    "/attributes/{int:definition_id}",
    response=AttributeOut,
    summary="Change an attribute definition",
)
def update_attribute(request, definition_id: int, payload: AttributePatch):
    definition = get_for(request.auth, AttributeDefinition, ADMIN, pk=definition_id)
    return actions.update_attribute(request.auth, definition, _changes(payload))


@router.delete(
    "/attributes/{int:definition_id}",
    response={204: None},
    summary="Delete an attribute definition",
)
def delete_attribute(request, definition_id: int):
    """Deletes the definition and removes its values from every object of its type."""
    definition = get_for(request.auth, AttributeDefinition, ADMIN, pk=definition_id)
    actions.delete_attribute(request.auth, definition)
    return Status(204, None)


# --- Journey stages ----------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    name: str
    position: int
    color: str
    description: str
    created_at: datetime


class StageIn(Schema):
    name: str
    color: str | None = None
    description: str = ""


class StagePatch(Schema):
    name: str | None = None
    color: str | None = None
    description: str | None = None
    position: int | None = Field(
        None, description="0 is the first stage; the others move around it."
    )


class StageList(Schema):
    items: list[StageOut]
    next_cursor: str | None


class StageFilters(Page):
    name: str | None = None


@router.get("/stages", response=StageList, summary="List journey stages in order")
def list_stages(request, filters: Query[StageFilters]):
    request.auth.require(READ)
    queryset = Stage.objects.filter(workspace=request.auth.workspace)
    if filters.name:
        queryset = queryset.filter(name=filters.name)
    return paginate(queryset, filters, ("position", "id"))


@router.get("/stages/{int:stage_id}", response=StageOut, summary="Get a journey stage")
def get_stage(request, stage_id: int):
    return get_for(request.auth, Stage, READ, pk=stage_id)


@router.post("/stages", response={201: StageOut}, summary="Add a journey stage at the end")
def create_stage(request, payload: StageIn):
    return Status(201, actions.create_stage(request.auth, payload.dict(exclude_none=True)))


@router.patch("/stages/{int:stage_id}", response=StageOut, summary="Change or move a journey stage")
def update_stage(request, stage_id: int, payload: StagePatch):
    stage = get_for(request.auth, Stage, ADMIN, pk=stage_id)
    return actions.update_stage(request.auth, stage, _changes(payload))


@router.delete("/stages/{int:stage_id}", response={204: None}, summary="Delete a journey stage")
def delete_stage(request, stage_id: int):
    """Accounts in the stage are left with no stage."""
    stage = get_for(request.auth, Stage, ADMIN, pk=stage_id)
    actions.delete_stage(request.auth, stage)
    return Status(204, None)


# --- Assignment roles ----------------------------------------------------------------------------


class RoleOut(Schema):
    id: int
    key: str
    name: str
    position: int
    created_at: datetime


class RoleIn(Schema):
    key: str
    name: str


class RolePatch(Schema):
    key: str | None = None
    name: str | None = None


class RoleList(Schema):
    items: list[RoleOut]
    next_cursor: str | None


class RoleFilters(Page):
    key: str | None = None


@router.get("/roles", response=RoleList, summary="List assignment roles")
def list_roles(request, filters: Query[RoleFilters]):
    request.auth.require(READ)
    queryset = AssignmentRole.objects.filter(workspace=request.auth.workspace)
    if filters.key:
        queryset = queryset.filter(key=filters.key)
    return paginate(queryset, filters, ("position", "id"))


@router.get("/roles/{int:role_id}", response=RoleOut, summary="Get an assignment role")
def get_role(request, role_id: int):
    return get_for(request.auth, AssignmentRole, READ, pk=role_id)


@router.post("/roles", response={201: RoleOut}, summary="Create an assignment role")
def create_role(request, payload: RoleIn):
    return Status(201, actions.create_role(request.auth, payload.dict()))


@router.patch("/roles/{int:role_id}", response=RoleOut, summary="Change an assignment role")
def update_role(request, role_id: int, payload: RolePatch):
    role = get_for(request.auth, AssignmentRole, ADMIN, pk=role_id)
    return actions.update_role(request.auth, role, _changes(payload))


@router.delete("/roles/{int:role_id}", response={204: None}, summary="Delete an assignment role")
def delete_role(request, role_id: int):
    """Also removes every assignment made under the role."""
    role = get_for(request.auth, AssignmentRole, ADMIN, pk=role_id)
    actions.delete_role(request.auth, role)
    return Status(204, None)


# --- Tags -----------------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    name: str
    color: str
    created_at: datetime


class TagIn(Schema):
    name: str
    color: str | None = None


class TagPatch(Schema):
    name: str | None = None
    color: str | None = None


class TagList(Schema):
    items: list[TagOut]
    next_cursor: str | None


class TagFilters(Page):
    name: str | None = None


@router.get("/tags", response=TagList, summary="List tags")
def list_tags(request, filters: Query[TagFilters]):
    request.auth.require(READ)
    queryset = Tag.objects.filter(workspace=request.auth.workspace)
    if filters.name:
        queryset = queryset.filter(name=filters.name)
    return paginate(queryset, filters, ("name", "id"))


@router.get("/tags/{int:tag_id}", response=TagOut, summary="Get a tag")
def get_tag(request, tag_id: int):
    return get_for(request.auth, Tag, READ, pk=tag_id)


@router.post("/tags", response={201: TagOut}, summary="Create a tag")
def create_tag(request, payload: TagIn):
    return Status(201, actions.create_tag(request.auth, payload.dict(exclude_none=True)))


@router.patch("/tags/{int:tag_id}", response=TagOut, summary="Rename or recolour a tag")
def update_tag(request, tag_id: int, payload: TagPatch):
    tag = get_for(request.auth, Tag, WRITE, pk=tag_id)
    return actions.update_tag(request.auth, tag, _changes(payload))


@router.delete("/tags/{int:tag_id}", response={204: None}, summary="Delete a tag")
def delete_tag(request, tag_id: int):
    """Accounts simply lose the tag."""
    tag = get_for(request.auth, Tag, WRITE, pk=tag_id)
    actions.delete_tag(request.auth, tag)
    return Status(204, None)
