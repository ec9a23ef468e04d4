"""Assignments from files (Data → Imports): who holds which role on which account.

:func:`import_assignments` takes items of text as a file has them and answers one entry per
item (``created``, ``updated``, ``unchanged``, or ``error`` with the field and message); the
data hub calls it inside its chunk transaction. A row is keyed by account and role: its
member replaces the role's holder, and a blank member removes the assignment.
"""

from django.utils import timezone

from tend.accounts.bulk.sql import select_by_keys
from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.workspaces.access import WRITE, Actor
from tend.workspaces.models import Member


def _text(item: dict, field: str) -> str:
    value = item.get(field)
    return value.strip() if isinstance(value, str) else ""


def _error(field: str, message: str) -> dict:
    return {"status": "error", "errors": [{"field": field, "message": message}]}


def import_assignments(actor: Actor, items: list[dict], *, source: str = "") -> list[dict]:
    """Items: ``account_external_id``, ``role`` (an assignment role's key or name) and
    ``member`` (a member's email; blank: nobody holds the role)."""
    actor.require(WRITE)
    workspace = actor.workspace
    accounts = {
        k: r[1]
        for k, r in select_by_keys(
            Account,
            workspace.id,
            {_text(i, "account_external_id") for i in items},
            ("external_id", "id"),
        ).items()
    }
    roles = {}
    for role in AssignmentRole.objects.filter(workspace=workspace):
        roles.setdefault(role.key.lower(), role)
        roles.setdefault(role.name.lower(), role)
    emails = {_text(i, "member").lower() for i in items if _text(i, "member")}
    members = {
        m.user.email.lower(): m
        for m in Member.objects.filter(workspace=workspace, user__email__in=emails).select_related(
            "user"
        )
    }
    held = {
        (a.account_id, a.role_id): a
        for a in Assignment.objects.filter(
            workspace=workspace, account_id__in=set(accounts.values())
        )
    }
    entries = []
    for item in items:
        account, role_text, email = (
            _text(item, "account_external_id"),
            _text(item, "role"),
            _text(item, "member").lower(),
        )
        if not account:
            entries.append(_error("account_external_id", "is required"))
            continue
        if account not in accounts:
            entries.append(
                _error("account_external_id", f"no account with external id {account!r}")
            )
            continue
        role = roles.get(role_text.lower())
        if role is None:
            known = ", ".join(sorted({r.key for r in roles.values()})) or "none defined"
            entries.append(
                _error(
                    "role",
                    f"no assignment role {role_text!r} (roles: {known})"
                    if role_text
                    else "is required",
                )
            )
            continue
        member = None
        if email:
            member = members.get(email)
            if member is None:
                entries.append(
                    _error("member", f"no member with email {email!r} in this workspace")
                )
                continue
            if not member.is_active:
                entries.append(
                    _error("member", f"{member.name} is no longer active in this workspace")
                )
                continue
        key = (accounts[account], role.pk)
        current = held.get(key)
        if member is None:
            if current is None:
                entries.append({"status": "unchanged"})
            else:
                current.delete()
                del held[key]
                entries.append({"status": "updated"})
        elif current is None:
            held[key] = Assignment.objects.create(
                workspace=workspace,
                account_id=key[0],
                role=role,
                member=member,
                created_at=timezone.now(),
            )
            entries.append({"status": "created"})
        elif current.member_id == member.pk:
            entries.append({"status": "unchanged"})
        else:
            current.member = member
            current.save(update_fields=["member"])
            entries.append({"status": "updated"})
    touched = {
        accounts[_text(i, "account_external_id")]
        for i, e in zip(items, entries, strict=True)
        if e["status"] in ("created", "updated")
    }
    if touched:
        Account.objects.filter(pk__in=touched).update(updated_at=timezone.now())
    return entries
