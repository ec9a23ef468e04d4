"""Attributing events to their accounts and end users, creating those met for the first time,
and appending them to the event log."""

from collections import defaultdict
from dataclasses import dataclass

import orjson

from tend.accounts.bulk import upsert_end_users
from tend.accounts.models import Account, EndUser
from tend.usage.actions.intake import (
    IntakeContext,
    create_accounts,
    is_email,
    stored_rows,
    upsert_as_system,
)
from tend.usage.ingest import store
from tend.usage.ingest.facts import (
    EventFact,
    Reason,
)
from tend.workspaces.models import Workspace


@dataclass
class Lookup:
    """The end users and accounts that events name, as stored when looked up."""

    users: dict[str, tuple]  # external id → (external id, id, account id)
    account_of_id: dict[int, str]  # account id → external id, for users' accounts
    accounts: dict[str, tuple]  # external id → (external id, id)

    def update(self, other: "Lookup") -> None:
        self.users.update(other.users)
        self.account_of_id.update(other.account_of_id)
        self.accounts.update(other.accounts)

    def resolved(self, event: EventFact, touched: set) -> bool:
        """Whether this lookup settles the event (its user, and its account or the user's)."""
        user = self.users.get(event.user) if event.user else None
        if event.user and (user is None or event.user in touched):
            return False
        account = event.account
        if account is None:
            account = self.account_of_id.get(user[2]) if user and user[2] else None
        return account is not None and account in self.accounts


def look_up(workspace: Workspace, events: list[EventFact]) -> Lookup:
    user_keys = {e.user for e in events if e.user}
    users = stored_rows(EndUser, workspace, user_keys, ("external_id", "id", "account_id"))
    # Only events that name no account need their end user's account's external id.
    account_ids = {users[e.user][2] for e in events if e.account is None and e.user in users}
    account_ids.discard(None)
    account_of_id = {}
    if account_ids:
        account_of_id = dict(
            Account.objects.filter(workspace=workspace, id__in=account_ids).values_list(
                "id", "external_id"
            )
        )
    named = {e.account for e in events if e.account} | set(account_of_id.values())
    return Lookup(users, account_of_id, stored_rows(Account, workspace, named))


def store_events(context: IntakeContext, events: list[EventFact], lookup: Lookup) -> int:
    """Attribute events to accounts and end users (creating those met for the first time)
    and append them. Returns how many were stored.

    ``lookup`` was made before the transaction; events it does not settle — an account or
    end user it did not find, or an end user this intake's own identify or alias calls
    changed — are looked up again now.
    """
    if not events:
        return 0
    workspace, settings = context.workspace, context.settings
    intake = context.intake
    touched = {f.external_id for f in intake.users}
    touched |= {a.external_id for a in intake.aliases} | {a.previous for a in intake.aliases}
    unsettled = [e for e in events if not lookup.resolved(e, touched)]
    if unsettled:
        lookup.update(look_up(workspace, unsettled))
    users, account_of_id = lookup.users, lookup.account_of_id

    # Which account each event belongs to: the one it names, else its user's.
    wanted: dict[str, str | None] = {}
    routed: list[tuple[EventFact, str]] = []
    for event in events:
        account = event.account
        if account is None and event.user:
            row = users.get(event.user)
            account = account_of_id.get(row[2]) if row and row[2] else None
        if account is None:
            context.refuse(
                event.index,
                Reason.NO_ACCOUNT,
                "account",
                "the event names no account and its end user belongs to none: send the account "
                "(Segment: context.groupId, or a group call first)",
            )
            continue
        if event.account_name and not wanted.get(account):
            wanted[account] = event.account_name
        else:
            wanted.setdefault(account, None)
        routed.append((event, account))

    accounts = {key: row[1] for key, row in lookup.accounts.items()}
    missing = {ext: name for ext, name in wanted.items() if ext not in accounts}
    if missing:
        if settings.create_unknown:
            owners: dict[str, list[int]] = defaultdict(list)
            for event, account in routed:
                if account in missing:
                    owners[account].append(event.index)
            accounts.update(create_accounts(context, missing, owners))
        else:
            for event, account in routed:
                if account in missing:
                    context.refuse_unknown(event.index, "account", account)

    new_users: dict[str, str] = {}
    for event, account in routed:
        if event.user and event.user not in users and account in accounts:
            new_users.setdefault(event.user, account)
    user_ids = {key: row[1] for key, row in users.items()}
    if new_users:
        if settings.create_unknown:
            owners = defaultdict(list)
            for event, _account in routed:
                if event.user in new_users:
                    owners[event.user].append(event.index)
            items = []
            for ext, account in new_users.items():
                item = {"external_id": ext, "account_external_id": account}
                if is_email(ext):
                    item["email"] = ext
                items.append(item)
            user_ids.update(
                upsert_as_system(
                    context, upsert_end_users, items, [owners[i["external_id"]] for i in items]
                )
            )
        else:
            for event, _account in routed:
                if event.user in new_users:
                    context.refuse_unknown(event.index, "user", event.user)

    refused = {r.index for r in context.rejections}
    rows = []
    ws_id, source = workspace.id, context.intake.source
    dumps = orjson.dumps
    for event, account in routed:
        if event.index in refused:
            continue
        account_id = accounts.get(account)
        user_id = user_ids.get(event.user) if event.user else None
        if account_id is None or (event.user and user_id is None):
            continue  # refused above
        rows.append(
            (
                ws_id,
                account_id,
                user_id,
                event.ts,
                event.activity,
                event.module,
                event.duration,
                dumps(event.properties).decode() if event.properties else None,
                source,
                event.message_id or "",
            )
        )
    store.insert_events(rows)
    return len(rows)
