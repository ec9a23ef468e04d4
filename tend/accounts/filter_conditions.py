"""The accounts list's filters as a condition (docs/conditions.md).

The list's filter bar — search, status, stage, owner, tag and the filters other apps add
(health, attribute) — narrows the accounts with queries of its own, as quick to read in an
address as ``?status=paying&health=poor``. "Save as segment" and "Save as view" beside the
list keep what the list shows by turning those filters into clauses of the one condition
language, joined (``all``) with the list's own condition when it has one. So every list in
the UI, a health drill-down included, can become a segment that matches the same accounts:
the tests hold the two side by side on one population.
"""

from tend.accounts.extensions import list_filters
from tend.accounts.models import AssignmentRole, Stage, Tag
from tend.accounts.queries import NONE, AccountFilters
from tend.workspaces.models import Member


def filters_condition(workspace, filters: AccountFilters, where: dict | None = None) -> dict | None:
    """The condition matching the accounts ``filters`` select (``where`` being its checked
    condition, if any), or None when nothing filters the list. A filter naming something
    that no longer exists (a deleted stage or tag) gives a clause that matches nothing, as
    the list does."""
    clauses = [*_search(filters.q), *_builtins(workspace, filters)]
    registered = {f.key: f for f in list_filters()}
    for key, value in filters.extra:
        found = registered.get(key)
        if found is not None and found.clauses is not None:
            clauses += found.clauses(value)
    if where:
        clauses.append(where)
    if not clauses:
        return None
    if len(clauses) == 1 and set(clauses[0]) <= {"all", "any", "not"}:
        return clauses[0]
    return {"all": clauses}


def _search(text: str) -> list[dict]:
    if not text:
        return []
    return [
        {
            "any": [
                {"field": "name", "op": "contains", "value": text},
                {"field": "external_id", "op": "contains", "value": text},
            ]
        }
    ]


def _builtins(workspace, filters: AccountFilters) -> list[dict]:
    clauses = []
    if filters.status:
        clauses.append({"field": "status", "op": "eq", "value": filters.status})
    if filters.stage == NONE:
        clauses.append({"field": "stage", "op": "is_not_set"})
    elif filters.stage:
        name = Stage.objects.filter(workspace=workspace, pk=filters.stage).values_list(
            "name", flat=True
        )
        clauses.append(_eq_or_nothing("stage", name.first()))
    if filters.owner:
        clauses.append(_owner(workspace, filters.owner, filters.role))
    if filters.tag:
        name = Tag.objects.filter(workspace=workspace, pk=filters.tag).values_list(
            "name", flat=True
        )
        found = name.first()
        clauses.append(
            {"field": "tags", "op": "contains", "value": found}
            if found is not None
            else _NOTHING
        )
    return clauses


# An empty ``any`` matches no account (docs/conditions.md).
_NOTHING: dict = {"any": []}


def _eq_or_nothing(field: str, value) -> dict:
    return _NOTHING if value is None else {"field": field, "op": "eq", "value": value}


def _owner(workspace, owner: str, role_id: str) -> dict:
    """Held by the member in the role (any role when none is chosen), or — ``owner`` being
    NONE — nobody holding the role (no role held at all)."""
    roles = AssignmentRole.objects.filter(workspace=workspace).order_by("position", "name")
    if role_id:
        roles = roles.filter(pk=role_id)
    keys = [f"owner.{key}" for key in roles.values_list("key", flat=True)]
    if owner == NONE:
        return {"all": [{"field": key, "op": "is_not_set"} for key in keys]} if keys else {"all": []}
    email = (
        Member.objects.filter(workspace=workspace, pk=owner)
        .values_list("user__email", flat=True)
        .first()
    )
    if email is None or not keys:
        return _NOTHING
    return {"any": [{"field": key, "op": "eq", "value": email} for key in keys]}
