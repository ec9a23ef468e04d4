"""The account profile: header, attributes, hierarchy, people, stage history and when it churned."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tend.accounts import attributes
from tend.accounts.actions.accounts import can_edit_account
from tend.accounts.extensions import profile_panels
from tend.accounts.models import (
    Account,
    AccountStatus,
    Assignment,
    AssignmentRole,
    AttributeDefinition,
    Contact,
    EndUser,
    ObjectType,
    StageChange,
    StatusChange,
)
from tend.accounts.views.accounts.common import account_for, member_required
from tend.workspaces.access import WRITE

CHILDREN_PAGE_SIZE = 10
PEOPLE_PAGE_SIZE = 10
STAGE_HISTORY_LIMIT = 20
# Deeper hierarchies are shown as "…" at the top of the breadcrumb rather than walked forever.
MAX_BREADCRUMB_DEPTH = 10


def ancestors(account: Account) -> tuple[list[Account], bool]:
    """Parents from the top down, and whether the chain was cut short."""
    chain, seen = [], {account.pk}
    current = account.parent
    while current is not None and current.pk not in seen and len(chain) < MAX_BREADCRUMB_DEPTH:
        chain.append(current)
        seen.add(current.pk)
        current = (
            Account.objects.filter(pk=current.parent_id).first() if current.parent_id else None
        )
    return list(reversed(chain)), current is not None and current.pk not in seen


def attribute_rows(account: Account) -> list[dict]:
    definitions = AttributeDefinition.objects.filter(
        workspace_id=account.workspace_id, object_type=ObjectType.ACCOUNT
    ).order_by("position", "label", "id")
    values = account.attributes or {}
    return [
        {
            "definition": d,
            "value": values.get(d.key),
            "display": attributes.display(d, values.get(d.key)),
        }
        for d in definitions
    ]


def owners(account: Account) -> list[dict]:
    """Every assignment role of the workspace with whoever holds it on this account."""
    held = {
        a.role_id: a.member
        for a in Assignment.objects.filter(account=account).select_related("member__user")
    }
    roles = AssignmentRole.objects.filter(workspace_id=account.workspace_id)
    return [{"role": role, "member": held.get(role.pk)} for role in roles]


def churned_on(account: Account):
    """When a churned account churned (its latest change to churned), or None."""
    if account.status != AccountStatus.CHURNED:
        return None
    change = (
        StatusChange.objects.filter(account=account, to_status=AccountStatus.CHURNED)
        .order_by("-changed_at", "-id")
        .first()
    )
    return change.changed_at if change else None


def paged(request, queryset, param: str, size: int):
    return Paginator(queryset, size).get_page(request.GET.get(param))


def profile_context(request, account: Account, replaced: frozenset = frozenset()) -> dict:
    """The profile's own sections; those in ``replaced`` are left to a panel of another app."""
    actor = request.actor
    crumbs, cut = ancestors(account)
    children = account.children.select_related("stage").order_by("name", "id")
    end_users = EndUser.objects.filter(account=account).order_by("-created_at", "-id")
    contacts = Contact.objects.filter(account=account).order_by("-is_key_contact", "name", "id")
    history = (
        StageChange.objects.filter(account=account)
        .select_related("from_stage", "to_stage", "changed_by__user")
        .order_by("-changed_at", "-id")[:STAGE_HISTORY_LIMIT]
    )
    return {
        "account": account,
        "ancestors": crumbs,
        "ancestors_cut": cut,
        "owners": owners(account),
        "tags": list(account.tags.order_by("name")),
        "attribute_rows": attribute_rows(account),
        "children": paged(request, children, "children_page", CHILDREN_PAGE_SIZE),
        "end_users": None
        if "end_users" in replaced
        else paged(request, end_users, "users_page", PEOPLE_PAGE_SIZE),
        "contacts": paged(request, contacts, "contacts_page", PEOPLE_PAGE_SIZE),
        "stage_history": list(history),
        "days_in_stage": account.days_in_stage(),
        "churned_on": churned_on(account),
        "can_edit": can_edit_account(actor, account),
        "can_delete": actor.can(WRITE),
    }


def panels(request, account: Account, column: str) -> list[dict]:
    """The sections other apps add to the profile (see ``extensions``), with their context."""
    return [
        {"panel": panel, "context": panel.context(request, account)}
        for panel in profile_panels(column)
    ]


@member_required
@require_GET
def account_profile(request, account_id: int):
    account = account_for(request, account_id, Account.objects.select_related("stage", "parent"))
    main, side = panels(request, account, "main"), panels(request, account, "side")
    replaced = frozenset(section for item in main + side for section in item["panel"].replaces)
    context = profile_context(request, account, replaced)
    context.update(main_panels=main, side_panels=side, replaced=replaced)
    return render(request, "accounts/profile.html", context)
