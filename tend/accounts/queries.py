"""Building the accounts list: filters, sorting and the related rows each table row shows.

The list page parses its query string into :class:`AccountFilters` (see ``forms.py``) and
asks :func:`account_list` for a QuerySet. Everything a row shows — stage, tags, the owner in
the list's owner role — is fetched with a fixed number of queries per page, whatever the
page size.
"""

import json
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet

from tend.accounts.conditions import matching_accounts
from tend.accounts.extensions import list_columns, list_filters
from tend.accounts.models import (
    Account,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    ObjectType,
    Tag,
)
from tend.workspaces.models import Workspace

PAGE_SIZE = 50
# Filter values that mean "has none" rather than naming an object.
NONE = "none"
LIST_ATTRIBUTE_COLUMNS = 3
PRIMARY_ROLE_KEY = "success_manager"

# sort key → (label, ordering). "-key" sorts descending; ties break on id for stable pages.
SORTS = {
    "name": ("Name", [F("name").asc()]),
    "status": ("Status", [F("status").asc(), F("name").asc()]),
    "stage": ("Stage", [F("stage__position").asc(nulls_last=True), F("name").asc()]),
    "updated": ("Last updated", [F("updated_at").asc()]),
    "created": ("Created", [F("created_at").asc()]),
}
DEFAULT_SORT = "name"


def all_sorts() -> dict:
    """The built-in sorts and those of the columns other apps add (see ``extensions``)."""
    extra = {c.key: (c.label, c.order) for c in list_columns() if c.order}
    return {**SORTS, **extra}


@dataclass(frozen=True)
class AccountFilters:
    q: str = ""
    status: str = ""
    stage: str = ""  # a stage id, NONE, or "" for any
    owner: str = ""  # a member id, NONE (no assignment in the role, or at all), or ""
    role: str = ""  # a role id narrowing ``owner``, or "" for any role
    tag: str = ""  # a tag id or ""
    # A condition (docs/conditions.md) as compact JSON text, checked by the list view.
    where: str = ""
    sort: str = DEFAULT_SORT
    # The filters other apps add (``extensions.ListFilter``): (key, cleaned value) pairs.
    extra: tuple[tuple[str, object], ...] = ()

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q or self.status or self.stage or self.owner or self.tag or self.where or self.extra
        )

    def params(self) -> dict[str, str]:
        """Every filter as its query-string parameter (empty ones included), the sort last."""
        values = {k: v for k, v in self.__dict__.items() if k not in ("extra", "sort")}
        values.update((key, str(value)) for key, value in self.extra)
        values["sort"] = self.sort
        return values


def sort_ordering(sort: str) -> list:
    descending = sort.startswith("-")
    sorts = all_sorts()
    _label, ordering = sorts.get(sort.lstrip("-"), sorts[DEFAULT_SORT])
    if descending:
        # Keep "no stage" last in both directions: an empty stage is not a stage.
        ordering = [_nulls_last(expr.copy().reverse_ordering()) for expr in ordering]
        return [*ordering, F("id").desc()]
    return [*ordering, F("id").asc()]


def _nulls_last(expr):
    if getattr(expr, "nulls_first", False):
        expr.nulls_first = None
        expr.nulls_last = True
    return expr


def primary_role_of(roles: list[AssignmentRole]) -> AssignmentRole | None:
    """The role the list's owner column shows: Success Manager, else the first role."""
    for role in roles:
        if role.key == PRIMARY_ROLE_KEY or role.name.lower() == "success manager":
            return role
    return roles[0] if roles else None


def list_attribute_columns(workspace: Workspace) -> list[AttributeDefinition]:
    return list(
        AttributeDefinition.objects.filter(
            workspace=workspace, object_type=ObjectType.ACCOUNT
        ).order_by("position", "label", "id")[:LIST_ATTRIBUTE_COLUMNS]
    )


def filter_accounts(qs: QuerySet, filters: AccountFilters) -> QuerySet:
    qs = qs.search(filters.q)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.stage == NONE:
        qs = qs.filter(stage__isnull=True)
    elif filters.stage:
        qs = qs.filter(stage_id=filters.stage)
    if filters.owner:
        # Exists, not a join: an account with two roles held by the same member appears once.
        held = Assignment.objects.filter(account=OuterRef("pk"))
        if filters.role:
            held = held.filter(role_id=filters.role)
        if filters.owner == NONE:
            qs = qs.filter(~Exists(held))
        else:
            qs = qs.filter(Exists(held.filter(member_id=filters.owner)))
    if filters.tag:
        qs = qs.filter(
            Exists(AccountTag.objects.filter(account=OuterRef("pk"), tag_id=filters.tag))
        )
    registered = {f.key: f for f in list_filters()}
    for key, value in filters.extra:
        if key in registered:
            qs = registered[key].apply(qs, value)
    return qs


def accounts_for_list(
    workspace: Workspace,
    filters: AccountFilters,
    owner_role: AssignmentRole | None,
    catalog=None,
) -> QuerySet:
    """The filtered, sorted accounts of ``workspace`` with what each table row shows.
    ``filters.where`` must hold a valid condition (``InvalidCondition`` otherwise); pass the
    workspace's ``catalog`` when it is built already."""
    if filters.where:
        qs = matching_accounts(workspace, json.loads(filters.where), catalog=catalog)
    else:
        qs = Account.objects.filter(workspace=workspace)
    qs = filter_accounts(qs, filters)
    prefetches = [Prefetch("tags", queryset=Tag.objects.order_by("name"))]
    if owner_role is not None:
        prefetches.append(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(role=owner_role).select_related("member__user"),
                to_attr="owner_assignments",
            )
        )
    qs = qs.select_related("stage").prefetch_related(*prefetches)
    for column in list_columns():
        qs = column.prepare(qs)
    return qs.order_by(*sort_ordering(filters.sort))
