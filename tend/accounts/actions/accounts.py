"""Every change to accounts and their definitions goes through these functions.

Each runs in one transaction and raises :class:`InvalidInput` (naming the field) before
writing anything when the input is wrong. Bulk upserts live in ``bulk.py``.
"""

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils import timezone

from tend.accounts.attributes import AttributeValueError, clean_attributes
from tend.accounts.models import (
    Account,
    AccountStatus,
    AccountTag,
    Assignment,
    AssignmentRole,
    AttributeChange,
    AttributeDefinition,
    ObjectType,
    Stage,
    StageChange,
    StatusChange,
    Tag,
    attribute_changes,
)
from tend.events import emit
from tend.lib.changes import announce
from tend.lib.errors import InvalidInput
from tend.workspaces.access import WRITE, Actor
from tend.workspaces.models import Member, Workspace

ACCOUNT_FIELDS = ("external_id", "name", "status", "parent", "stage", "tags", "attributes", "assignments")


def attribute_definitions(workspace: Workspace, object_type: str = ObjectType.ACCOUNT) -> dict:
    return {d.key: d for d in AttributeDefinition.objects.filter(workspace=workspace, object_type=object_type)}


def clean_external_id(value, field: str = "external_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "is required")
    if value != value.strip():
        raise InvalidInput(field, "must not start or end with spaces")
    if len(value) > 255:
        raise InvalidInput(field, "is longer than 255 characters")
    return value


def clean_status(value) -> str:
    if value not in AccountStatus.values:
        raise InvalidInput("status", f"must be one of {', '.join(AccountStatus.values)}")
    return value


def find_stage(workspace: Workspace, name: str | None) -> Stage | None:
    if name in (None, ""):
        return None
    stage = Stage.objects.filter(workspace=workspace, name=name).first()
    if stage is None:
        raise InvalidInput("stage", f"no journey stage named {name!r}")
    return stage


def find_parent(workspace: Workspace, external_id: str | None) -> Account | None:
    if external_id in (None, ""):
        return None
    parent = Account.objects.filter(workspace=workspace, external_id=external_id).first()
    if parent is None:
        raise InvalidInput("parent_external_id", f"no account with external id {external_id!r}")
    return parent


def check_no_cycle(account: Account, parent: Account | None) -> None:
    """Refuse a parent that is the account itself or one of its descendants.

    Walks up from the proposed parent, one query per level, so the cost is the depth of the
    hierarchy, not its size.
    """
    if parent is None or account.pk is None:
        return
    seen = set()
    current_id = parent.pk
    while current_id is not None:
        if current_id == account.pk:
            raise InvalidInput(
                "parent_external_id", f"{parent.external_id!r} is below this account: that would make a cycle"
            )
        if current_id in seen:  # an existing cycle in the data: stop rather than loop
            break
        seen.add(current_id)
        current_id = Account.objects.filter(pk=current_id).values_list("parent_id", flat=True).first()


def tags_by_name(workspace: Workspace, names: Iterable[str]) -> list[Tag]:
    """The tags with these names, creating the ones that do not exist yet."""
    wanted = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("tags", "tag names must be non-empty text")
        if len(name.strip()) > 80:
            raise InvalidInput("tags", f"tag {name[:20]!r}… is longer than 80 characters")
        wanted.append(name.strip())
    wanted = list(dict.fromkeys(wanted))
    existing = {t.name: t for t in Tag.objects.filter(workspace=workspace, name__in=wanted)}
    missing = [Tag(workspace=workspace, name=n) for n in wanted if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(workspace=workspace, name__in=wanted)}
    return [existing[n] for n in wanted]


def resolve_assignments(workspace: Workspace, assignments: Mapping[str, str | None]) -> dict:
    """Map ``{role key: member email or None}`` to ``{AssignmentRole: Member or None}``."""
    roles = {r.key: r for r in AssignmentRole.objects.filter(workspace=workspace, key__in=list(assignments))}
    emails = [e.lower() for e in assignments.values() if e]
    members = {
        m.user.email: m
        for m in Member.objects.filter(workspace=workspace, user__email__in=emails).select_related("user")
    }
    resolved = {}
    for key, email in assignments.items():
        role = roles.get(key)
        if role is None:
            raise InvalidInput(f"assignments.{key}", f"no assignment role with key {key!r}")
        if email in (None, ""):
            resolved[role] = None
            continue
        member = members.get(str(email).lower())
        if member is None:
            raise InvalidInput(f"assignments.{key}", f"no member with email {email!r} in this workspace")
        resolved[role] = member
    return resolved


def _apply_stage(account: Account, stage: Stage | None, actor: Actor, source: str) -> None:
    if account.stage_id == (stage.pk if stage else None):
        return
    now = timezone.now()
    StageChange.objects.create(
        workspace=account.workspace,
        account=account,
        from_stage_id=account.stage_id,
        to_stage=stage,
        changed_at=now,
        changed_by=actor.member,
        source=source,
    )
    account.stage = stage
    account.stage_entered_at = now if stage else None


def _record_status(account: Account, old_status: str, actor: Actor, source: str) -> None:
    """A row for the status history when an existing account's status changes."""
    if account.status == old_status:
        return
    StatusChange.objects.create(
        workspace=account.workspace,
        account=account,
        from_status=old_status,
        to_status=account.status,
        changed_at=account.updated_at,
        changed_by=actor.member,
        source=source,
    )


@transaction.atomic
def tag_account(
    actor: Actor, account: Account, *, add=(), remove=(), source: str = "ui"
) -> tuple[list[str], list[str]]:
    """Add and remove tags by name, leaving the account's other tags alone; return the names
    actually added and removed (a tag already there, or already gone, is not a change). A
    change is an ``account.updated`` event naming ``tags``, as a full update's would be."""
    if not can_edit_account(actor, account):
        actor.require(WRITE)
    adding = tags_by_name(actor.workspace, add) if add else []
    current = {t.tag_id: t.tag.name for t in AccountTag.objects.filter(account=account).select_related("tag")}
    new = [t for t in adding if t.pk not in current]
    AccountTag.objects.bulk_create([AccountTag(account=account, tag=t) for t in new], ignore_conflicts=True)
    gone = [pk for pk, name in current.items() if name in set(remove)]
    AccountTag.objects.filter(account=account, tag_id__in=gone).delete()
    if new or gone:
        account.updated_at = timezone.now()
        Account.objects.filter(pk=account.pk).update(updated_at=account.updated_at)
        emit(
            account.workspace_id,
            "account.updated",
            {"account": account_event_data(account), "source": source, "changed": ["tags"]},
        )
    return [t.name for t in new], [current[pk] for pk in gone]


def _apply_tags(account: Account, tags: list[Tag]) -> None:
    current = set(AccountTag.objects.filter(account=account).values_list("tag_id", flat=True))
    wanted = {t.pk for t in tags}
    AccountTag.objects.filter(account=account, tag_id__in=current - wanted).delete()
    AccountTag.objects.bulk_create([AccountTag(account=account, tag_id=t) for t in wanted - current])


def _apply_assignments(account: Account, assignments: dict) -> None:
    for role, member in assignments.items():
        if member is None:
            Assignment.objects.filter(account=account, role=role).delete()
        else:
            Assignment.objects.update_or_create(
                account=account, role=role, defaults={"member": member, "workspace": account.workspace}
            )


def _clean_changes(actor: Actor, account: Account, data: Mapping) -> dict:
    """Check every field before anything is written; return the resolved values."""
    ws = actor.workspace
    clean = {}
    unknown = set(data) - set(ACCOUNT_FIELDS) - {"parent_external_id"}
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(field, "is not a field of an account")
    if "external_id" in data:
        clean["external_id"] = clean_external_id(data["external_id"])
        clash = Account.objects.filter(workspace=ws, external_id=clean["external_id"]).exclude(pk=account.pk)
        if clash.exists():
            raise InvalidInput("external_id", f"another account already has external id {clean['external_id']!r}")
    if "name" in data:
        name = (data["name"] or "").strip() if isinstance(data["name"], str | type(None)) else None
        if not name:
            raise InvalidInput("name", "is required")
        if len(name) > 255:
            raise InvalidInput("name", "is longer than 255 characters")
        clean["name"] = name
    if "status" in data:
        clean["status"] = clean_status(data["status"])
    if "parent_external_id" in data or "parent" in data:
        parent = data.get("parent") if "parent" in data else find_parent(ws, data["parent_external_id"])
        if parent is not None and account.pk is not None and parent.pk == account.pk:
            raise InvalidInput("parent_external_id", "an account cannot be its own parent")
        check_no_cycle(account, parent)
        clean["parent"] = parent
    if "stage" in data:
        stage = data["stage"]
        clean["stage"] = stage if isinstance(stage, Stage | type(None)) else find_stage(ws, stage)
    if "tags" in data:
        if not isinstance(data["tags"], list | tuple):
            raise InvalidInput("tags", "expected a list of tag names")
        clean["tags"] = tags_by_name(ws, data["tags"])
    if "attributes" in data:
        if not isinstance(data["attributes"], Mapping):
            raise InvalidInput("attributes", "expected an object keyed by attribute key")
        try:
            clean["attributes"] = clean_attributes(
                attribute_definitions(ws), data["attributes"], account.attributes or {}
            )
        except AttributeValueError as exc:
            raise InvalidInput(exc.field, exc.message) from exc
    elif account.pk is None:
        try:
            clean["attributes"] = clean_attributes(attribute_definitions(ws), {}, {})
        except AttributeValueError as exc:
            raise InvalidInput(exc.field, exc.message) from exc
    if "assignments" in data:
        if not isinstance(data["assignments"], Mapping):
            raise InvalidInput("assignments", "expected an object of role key → member email")
        clean["assignments"] = resolve_assignments(ws, data["assignments"])
    return clean


@transaction.atomic
def create_account(actor: Actor, data: Mapping, *, source: str = "ui") -> Account:
    """Create an account from a dict of account fields (``external_id`` and ``name`` required)."""
    actor.require(WRITE)
    if "external_id" not in data:
        raise InvalidInput("external_id", "is required")
    if "name" not in data:
        raise InvalidInput("name", "is required")
    account = Account(workspace=actor.workspace, status=AccountStatus.TRIAL)
    clean = _clean_changes(actor, account, data)
    return _save(actor, account, clean, source)


@transaction.atomic
def update_account(actor: Actor, account: Account, data: Mapping, *, source: str = "ui") -> Account:
    """Change the given fields of ``account``; attributes are merged (``None`` unsets one)."""
    if not can_edit_account(actor, account):
        actor.require(WRITE)
    account = Account.objects.select_for_update().get(pk=account.pk)
    clean = _clean_changes(actor, account, data)
    return _save(actor, account, clean, source)


def _save(actor: Actor, account: Account, clean: dict, source: str) -> Account:
    stage_given = "stage" in clean
    stage = clean.pop("stage", None)
    tags = clean.pop("tags", None)
    assignments = clean.pop("assignments", None)
    is_new = account.pk is None
    old_status = account.status
    old_attributes = dict(account.attributes or {})
    for field, value in clean.items():
        setattr(account, field, value)
    account.updated_at = timezone.now()
    if is_new:
        account.save()
    else:
        _record_status(account, old_status, actor, source)
    if stage_given:
        _apply_stage(account, stage, actor, source)
    account.save()
    if stage_given and not is_new:
        announce(account.workspace_id)
    if "attributes" in clean:
        # A new account's initial values are changes from nothing: an "attribute changed"
        # play (plan → enterprise) fires for an account created on that plan.
        announce(account.workspace_id)
        AttributeChange.objects.bulk_create(
            attribute_changes(
                account.workspace_id,
                account.pk,
                old_attributes,
                account.attributes,
                changed_at=account.updated_at,
                changed_by=actor.member,
                source=source,
            )
        )
    if tags is not None:
        _apply_tags(account, tags)
    if assignments is not None:
        _apply_assignments(account, assignments)
    changed = sorted(
        {*clean, *(["stage"] if stage_given else []), *(["tags"] if tags is not None else [])}
        | ({"assignments"} if assignments is not None else set())
    )
    emit(
        account.workspace_id,
        "account.created" if is_new else "account.updated",
        {"account": account_event_data(account), "source": source}
        | ({} if is_new else {"changed": changed}),
    )
    return account


def account_event_data(account: Account) -> dict:
    """What the account.* events say about the account (docs/webhooks.md)."""
    return {
        "id": account.pk,
        "external_id": account.external_id,
        "name": account.name,
        "status": account.status,
    }


@transaction.atomic
def delete_account(actor: Actor, account: Account) -> None:
    actor.require(WRITE)
    account.delete()


def can_edit_account(actor: Actor, account: Account) -> bool:
    """Writers edit every account; contributors only those assigned to them."""
    if actor.can(WRITE):
        return True
    if actor.member is None or not actor.member.can_contribute:
        return False
    return Assignment.objects.filter(account=account, member=actor.member).exists()
