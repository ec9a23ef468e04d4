"""Applying what calls say about accounts and end users (group, identify, Totango attributes)
and aliases: merged per object, traits mapped to attributes, written by the bulk upserts."""

from collections import defaultdict

from django.utils import timezone

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.bulk import upsert_accounts, upsert_end_users
from tend.accounts.models import Account, EndUser, ObjectType
from tend.usage.actions.intake import (
    IntakeContext,
    create_accounts,
    is_email,
    stored_rows,
    upsert_as_system,
)
from tend.usage.ingest.facts import (
    AccountFact,
    AliasFact,
    Reason,
    UserFact,
    sample_of,
)
from tend.usage.ingest.traits import ACCOUNT_FIELDS, USER_FIELDS, TraitMapper, account_status


def _merge(facts, names: tuple[str, ...]) -> tuple[dict[str, dict], dict[str, list[int]]]:
    """Facts about the same object, merged in order: a later value of ``names`` wins, traits
    merge key by key. Returns external id → merged values, and → the indexes behind them."""
    merged: dict[str, dict] = {}
    indexes: dict[str, list[int]] = defaultdict(list)
    for fact in facts:
        entry = merged.setdefault(fact.external_id, {"traits": {}})
        entry["traits"].update(fact.traits)
        for name in names:
            value = getattr(fact, name)
            if value:
                entry[name] = value
        indexes[fact.external_id].append(fact.index)
    return merged, indexes


def apply_accounts(context: IntakeContext, facts: list[AccountFact]) -> None:
    """Merge facts per account (later ones win), map their traits, and upsert them."""
    if not facts:
        return
    workspace = context.workspace
    merged, indexes = _merge(facts, ("name", "parent"))
    existing = stored_rows(Account, workspace, merged)
    mapper = TraitMapper(attribute_definitions(workspace, ObjectType.ACCOUNT))
    items, owners = [], []
    for external_id, entry in merged.items():
        if external_id not in existing and not context.settings.create_unknown:
            for index in indexes[external_id]:
                context.refuse_unknown(index, "account", external_id)
            continue
        fields, attributes, unmapped = mapper.split(entry["traits"], ACCOUNT_FIELDS)
        _note_unmapped(context, ObjectType.ACCOUNT, unmapped)
        item = {"external_id": external_id}
        if attributes:
            item["attributes"] = attributes
        name = entry.get("name") or fields.get("name")
        if isinstance(name, str) and name.strip():
            item["name"] = name.strip()[:255]
        elif external_id not in existing:
            item["name"] = external_id
        status = account_status(fields.get("status"))
        if status:
            item["status"] = status
        parent = entry.get("parent") or fields.get("parent_external_id")
        if isinstance(parent, str | int) and str(parent).strip() and str(parent) != external_id:
            item["parent_external_id"] = str(parent).strip()
        items.append(item)
        owners.append(indexes[external_id])
    upsert_as_system(context, upsert_accounts, items, owners)


def apply_users(context: IntakeContext, facts: list[UserFact]) -> None:
    if not facts:
        return
    workspace = context.workspace
    merged, indexes = _merge(facts, ("account", "email", "name"))
    existing = stored_rows(EndUser, workspace, merged)
    accounts = {e["account"] for e in merged.values() if e.get("account")}
    known_accounts = stored_rows(Account, workspace, accounts)
    missing_accounts = accounts - set(known_accounts)
    if missing_accounts and context.settings.create_unknown:
        owners = defaultdict(list)
        for external_id, entry in merged.items():
            if entry.get("account") in missing_accounts:
                owners[entry["account"]].extend(indexes[external_id])
        created = create_accounts(context, dict.fromkeys(missing_accounts), owners)
        known_accounts.update({ext: (ext, pk) for ext, pk in created.items()})
    mapper = TraitMapper(attribute_definitions(workspace, ObjectType.USER))
    items, owners = [], []
    for external_id, entry in merged.items():
        if external_id not in existing and not context.settings.create_unknown:
            for index in indexes[external_id]:
                context.refuse_unknown(index, "user", external_id)
            continue
        fields, attributes, unmapped = mapper.split(entry["traits"], USER_FIELDS)
        _note_unmapped(context, ObjectType.USER, unmapped)
        item = {"external_id": external_id}
        if attributes:
            item["attributes"] = attributes
        email = entry.get("email") or fields.get("email")
        if isinstance(email, str) and email.strip():
            item["email"] = email.strip()
        elif external_id not in existing and is_email(external_id):
            item["email"] = external_id
        name = entry.get("name") or fields.get("name")
        if isinstance(name, str) and name.strip():
            item["name"] = name.strip()[:200]
        account = entry.get("account")
        if account and account in known_accounts:
            item["account_external_id"] = account
        items.append(item)
        owners.append(indexes[external_id])
    upsert_as_system(context, upsert_end_users, items, owners)


def _note_unmapped(context: IntakeContext, object_type: str, unmapped: dict) -> None:
    tally = context.unmapped[object_type]
    for name, value in unmapped.items():
        seen, _ = tally.get(name, (0, ""))
        tally[name] = (seen + 1, sample_of(value)[:200])


def apply_aliases(context: IntakeContext, aliases: list[AliasFact]) -> None:
    """Give the end user known as ``previous`` the new id, when no end user has it yet."""
    for alias in aliases:
        users = EndUser.objects.filter(workspace=context.workspace)
        if users.filter(external_id=alias.external_id).exists():
            if users.filter(external_id=alias.previous).exists():
                context.refuse(
                    alias.index,
                    Reason.UNSUPPORTED,
                    "previousId",
                    f"end users {alias.previous!r} and {alias.external_id!r} both exist; "
                    "merging two end users is not supported, so both are kept",
                )
            continue  # the new id is already known: nothing to do
        users.filter(external_id=alias.previous).update(
            external_id=alias.external_id, updated_at=timezone.now()
        )
