"""The JSON shapes of accounts, end users and contacts in the REST API, and their serializers.

Input schemas check types at the edge (a wrong type is a 422 naming the field); the actions
check the rest (attribute types, stages, roles, parents). Output is built by the ``*_json``
functions with a fixed number of queries per page, whatever its size.
"""

from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import Any, Literal

from django.conf import settings
from django.db.models import F
from ninja import Field, Schema
from pydantic import create_model

from tend.accounts.extensions import api_fields
from tend.accounts.models import AccountTag, Assignment
from tend.lib.api_schemas import ErrorItem, ErrorOut, Strict  # noqa: F401 (the API modules import them from here)

Status = Literal["trial", "paying", "churned", "free"]


# --- accounts ------------------------------------------------------------------------------


class AccountIn(Strict):
    external_id: str = Field(
        ..., min_length=1, max_length=255, description="Your key; case-sensitive."
    )
    name: str = Field(..., min_length=1, max_length=255)
    status: Status = "trial"
    parent_external_id: str | None = None
    stage: str | None = Field(None, description="A journey stage name.")
    tags: list[str] | None = Field(None, description="Tag names; missing tags are created.")
    attributes: dict[str, Any] | None = Field(
        None, description="Keyed by attribute key; null unsets."
    )
    assignments: dict[str, str | None] | None = Field(
        None, description="Role key → member email (null unassigns)."
    )


class AccountPatch(Strict):
    external_id: str | None = Field(None, min_length=1, max_length=255)
    name: str | None = Field(None, min_length=1, max_length=255)
    status: Status | None = None
    parent_external_id: str | None = None
    stage: str | None = None
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None
    assignments: dict[str, str | None] | None = None


class AccountBaseOut(Schema):
    """An account's own fields; the API answers with :func:`account_schemas`' ``AccountOut``,
    which adds the fields other apps register (``extensions.ApiField``)."""

    id: int
    external_id: str
    name: str
    status: Status
    parent_external_id: str | None
    stage: str | None
    stage_entered_at: datetime | None
    days_in_stage: int | None
    tags: list[str]
    attributes: dict[str, Any]
    assignments: dict[str, str]
    created_at: datetime
    updated_at: datetime


@cache
def account_schemas() -> tuple[type[Schema], type[Schema]]:
    """``AccountOut`` (the account's own fields and those other apps add) and
    ``AccountPage``, built once, when the API's routes are declared, from the fields
    registered by then (every app's ``ready()`` has run); a field registered later is an
    error rather than a field silently missing from the schema."""
    extra = api_fields(fix=True)
    taken = sorted({f.key for f in extra} & set(AccountBaseOut.model_fields))
    if taken:
        raise ValueError(f"API fields {taken} would replace the account's own fields")
    account_out = create_model(
        "AccountOut",
        __base__=AccountBaseOut,
        **{f.key: (f.schema | None, Field(None, description=f.description)) for f in extra},
    )
    account_page = create_model(
        "AccountPage",
        __base__=Schema,
        items=(list[account_out], ...),
        next_cursor=(str | None, ...),
    )
    return account_out, account_page


class PageParams(Schema):
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    external_id: str | None = Field(None, description="Exact, case-sensitive match.")


class AccountFilters(PageParams):
    status: Status | None = None
    stage: str | None = Field(None, description="Journey stage name.")
    tag: str | None = Field(None, description="Tag name.")
    owner: str | None = Field(None, description="Email of a member assigned in any role.")
    q: str | None = Field(None, description="Search in name and external id.")
    parent_external_id: str | None = None
    updated_since: datetime | None = None


def account_queryset(queryset):
    """What :func:`accounts_json` needs from each row, in the same query."""
    return queryset.select_related("stage").annotate(parent_external_id=F("parent__external_id"))


def accounts_json(accounts, workspace) -> list[dict]:
    """Serialize accounts of ``workspace`` fetched through :func:`account_queryset`: two
    more queries in all, and those of the fields other apps add (one each, typically)."""
    ids = [a.id for a in accounts]
    tags: dict[int, list[str]] = defaultdict(list)
    assignments: dict[int, dict[str, str]] = defaultdict(dict)
    if ids:
        for account_id, name in (
            AccountTag.objects.filter(account_id__in=ids)
            .order_by("tag__name")
            .values_list("account_id", "tag__name")
        ):
            tags[account_id].append(name)
        for account_id, role, email in (
            Assignment.objects.filter(account_id__in=ids)
            .order_by("role__position", "role__key")
            .values_list("account_id", "role__key", "member__user__email")
        ):
            assignments[account_id][role] = email
    extra = {f.key: f.values(workspace, ids) if ids else {} for f in api_fields()}
    return [
        {
            "id": a.id,
            "external_id": a.external_id,
            "name": a.name,
            "status": a.status,
            "parent_external_id": a.parent_external_id,
            "stage": a.stage.name if a.stage_id else None,
            "stage_entered_at": a.stage_entered_at,
            "days_in_stage": a.days_in_stage(),
            "tags": tags[a.id],
            "attributes": a.attributes or {},
            "assignments": assignments[a.id],
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            **{key: values.get(a.id) for key, values in extra.items()},
        }
        for a in accounts
    ]


# --- end users and contacts ----------------------------------------------------------------


class EndUserIn(Strict):
    external_id: str = Field(
        ..., min_length=1, max_length=255, description="Your key; case-sensitive."
    )
    account_external_id: str | None = None
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=200)
    attributes: dict[str, Any] | None = None


class EndUserPatch(Strict):
    external_id: str | None = Field(None, min_length=1, max_length=255)
    account_external_id: str | None = None
    email: str | None = Field(None, max_length=254)
    name: str | None = Field(None, max_length=200)
    attributes: dict[str, Any] | None = None


class EndUserOut(Schema):
    id: int
    external_id: str
    account_external_id: str | None
    email: str
    name: str
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ContactIn(Strict):
    external_id: str = Field(
        ..., min_length=1, max_length=255, description="Your key; case-sensitive."
    )
    account_external_id: str = Field(..., min_length=1)
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=50)
    role: str = Field("", max_length=120)
    is_key_contact: bool = False
    attributes: dict[str, Any] | None = None


class ContactPatch(Strict):
    external_id: str | None = Field(None, min_length=1, max_length=255)
    account_external_id: str | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=50)
    role: str | None = Field(None, max_length=120)
    is_key_contact: bool | None = None
    attributes: dict[str, Any] | None = None


class ContactOut(EndUserOut):
    account_external_id: str
    phone: str
    role: str
    is_key_contact: bool


class EndUserPage(Schema):
    items: list[EndUserOut]
    next_cursor: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class PersonFilters(PageParams):
    account_external_id: str | None = None
    email: str | None = Field(None, description="Exact match, ignoring case.")


PERSON_FIELDS = (
    "id",
    "external_id",
    "account_external_id",
    "email",
    "name",
    "attributes",
    "created_at",
    "updated_at",
)
CONTACT_FIELDS = (*PERSON_FIELDS, "phone", "role", "is_key_contact")


def person_queryset(queryset):
    return queryset.annotate(account_external_id=F("account__external_id"))


def people_json(people, fields=PERSON_FIELDS) -> list[dict]:
    """Serialize end users or contacts fetched through :func:`person_queryset`."""
    return [{field: getattr(person, field) for field in fields} for person in people]


# --- bulk ----------------------------------------------------------------------------------


class BulkItemResult(Schema):
    index: int
    external_id: str | None
    status: Literal["created", "updated", "unchanged", "error"]
    id: int | None = None
    errors: list[ErrorItem] | None = None


class BulkOut(Schema):
    results: list[BulkItemResult]
    counts: dict[str, int]
