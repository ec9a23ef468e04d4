"""The one write path of every ingestion endpoint: store an :class:`Intake` in one transaction.

Steps, inside one transaction (so an acknowledgement always means committed):

1. claim the message ids of the intake; items whose id was already stored are duplicates
   and go no further (see ``ReceivedMessage``);
2. apply account facts (group calls, attribute updates) and end-user facts (identify
   calls) through the accounts app's bulk upserts, merged per external id; traits become
   typed attributes (``traits.py``) and values that do not fit are refused per item;
3. apply aliases;
4. attribute each event to its account (named, or the end user's), creating accounts and
   end users met for the first time when the workspace allows it, then append the events;
5. store custom metric values;
6. record the refused items, the hour's counts per source, and unmapped trait names, and
   ask for a rollup so metrics are fresh within a minute.

Every item of the intake ends up stored, duplicate or refused with a reason: the report
says which, and the ingestion log keeps the refusals.
"""

from collections import defaultdict
from dataclasses import dataclass

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.bulk import upsert_accounts, upsert_end_users
from tend.accounts.bulk.sql import select_by_keys, upsert
from tend.accounts.models import Account, EndUser, ObjectType
from tend.lib.dates import to_ms
from tend.usage.actions.settings import settings_for
from tend.usage.ingest import store
from tend.usage.ingest.facts import (
    AccountFact,
    AliasFact,
    EventFact,
    IngestReport,
    Intake,
    MetricFact,
    Reason,
    Rejection,
    UserFact,
    message_key,
    sample_of,
)
from tend.usage.ingest.traits import ACCOUNT_FIELDS, USER_FIELDS, TraitMapper, account_status
from tend.usage.models import Metric, MetricValue, UsageSettings
from tend.usage.rollups import request_rollup
from tend.workspaces.access import system_actor
from tend.workspaces.models import Workspace


@dataclass
class _Context:
    workspace: Workspace
    settings: UsageSettings
    intake: Intake
    rejections: list[Rejection]
    # Samples of the items behind each index, for refusals found after parsing.
    samples: dict[int, object]
    unmapped: dict[str, dict[str, tuple[int, str]]]

    def refuse(self, index, reason: str, field: str, message: str) -> None:
        # ``samples`` is a mapping, or any object with ``get`` that makes samples lazily.
        raw = self.samples.get(index, None)
        sample = sample_of(raw) if raw is not None else ""
        self.rejections.append(Rejection(index, reason, field, message, sample))

    def refuse_unknown(self, index, kind: str, external_id: str) -> None:
        """Refuse an item naming an account or end user (``kind``) that does not exist while
        the workspace does not create them from usage data."""
        noun = "account" if kind == "account" else "end user"
        reason = Reason.UNKNOWN_ACCOUNT if kind == "account" else Reason.UNKNOWN_USER
        self.refuse(
            index,
            reason,
            kind,
            f"no {noun} with external id {external_id!r}, and creating {noun}s from usage data "
            "is switched off for this workspace",
        )

    def still_standing(self, facts: list) -> list:
        """The facts whose item no earlier step refused: an item is stored whole or not at
        all, so a group call refused for a bad trait does not create its account through the
        user it links, nor a Totango call through its event."""
        refused = {r.index for r in self.rejections}
        return [fact for fact in facts if fact.index not in refused] if refused else facts


def ingest(workspace: Workspace, intake: Intake, *, samples: dict | None = None) -> IngestReport:
    """Store ``intake`` for ``workspace``; see the module docstring for the steps.

    ``samples`` maps an item's index to what was received, so that a refusal found while
    storing (an attribute value of the wrong type, an unknown account) keeps a sample too.
    """
    now = timezone.now()
    now_ms = to_ms(now)
    context = _Context(
        workspace=workspace,
        settings=settings_for(workspace),
        intake=intake,
        rejections=list(intake.rejections),
        samples=samples or {},
        unmapped={ObjectType.ACCOUNT: {}, ObjectType.USER: {}},
    )
    # Reads and hashing before the transaction: on SQLite it holds the one write lock, and
    # every millisecond in it is a millisecond no other request can write.
    keys = _message_keys(intake)
    lookup = _look_up(workspace, context.still_standing(intake.events))
    with transaction.atomic():
        store.ingest_lock()
        duplicate_indexes = _drop_duplicates(context, keys, now_ms)
        _apply_accounts(context, context.still_standing(intake.accounts))
        _apply_users(context, context.still_standing(intake.users))
        _apply_aliases(context, context.still_standing(intake.aliases))
        stored_events = _store_events(context, context.still_standing(intake.events), lookup)
        _store_metrics(context, context.still_standing(intake.metrics))

        report = IngestReport(
            received=intake.received,
            stored=0,
            duplicates=len(duplicate_indexes),
            rejections=context.rejections,
            duplicate_indexes=sorted(duplicate_indexes),
        )
        report.stored = max(0, intake.received - report.rejected - report.duplicates)
        store.insert_rejections(workspace.id, intake.source, now, context.rejections)
        hour = now.replace(minute=0, second=0, microsecond=0)
        store.add_counts(
            workspace.id,
            intake.source,
            hour,
            intake.received,
            report.stored,
            report.duplicates,
            report.rejected,
        )
        for object_type, names in context.unmapped.items():
            store.tally_unmapped(workspace.id, intake.source, object_type, names, now)
        if stored_events:
            request_rollup()
    return report


# --- 1. duplicates -------------------------------------------------------------------------


@dataclass
class _MessageKeys:
    keyed: dict[int, str]  # key → message id
    first_index: dict[int, int]  # key → the index of the first item carrying it
    repeats: set[int]  # indexes repeating an earlier item's message id


def _message_keys(intake: Intake) -> _MessageKeys:
    keys = _MessageKeys({}, {}, set())
    for fact in (*intake.accounts, *intake.users, *intake.aliases, *intake.events):
        mid = getattr(fact, "message_id", None)
        if not mid:
            continue
        key = message_key(mid)
        if (
            key in keys.first_index
            and keys.keyed[key] == mid
            and keys.first_index[key] != fact.index
        ):
            keys.repeats.add(fact.index)
        else:
            keys.keyed.setdefault(key, mid)
            keys.first_index.setdefault(key, fact.index)
    return keys


def _drop_duplicates(context: _Context, keys: _MessageKeys, now_ms: int) -> set[int]:
    """Claim every message id of the intake; remove the facts whose id was already stored
    (or repeats an earlier item of this intake). Returns the indexes of the duplicates."""
    intake = context.intake
    keyed, first_index, repeats = keys.keyed, keys.first_index, keys.repeats
    if not keyed:
        return set()
    claimed = store.claim_message_ids(context.workspace.id, keyed, now_ms)
    duplicates = {first_index[key] for key in keyed if key not in claimed} | repeats

    def keep(facts):
        return [f for f in facts if f.index not in duplicates]

    intake.accounts = keep(intake.accounts)
    intake.users = keep(intake.users)
    intake.aliases = keep(intake.aliases)
    intake.events = keep(intake.events)
    return duplicates


# --- 2. accounts and end users -------------------------------------------------------------


def _existing(model, workspace: Workspace, keys, columns=("external_id", "id")) -> dict[str, tuple]:
    return select_by_keys(model, workspace.id, set(keys), columns)


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


def _apply_accounts(context: _Context, facts: list[AccountFact]) -> None:
    """Merge facts per account (later ones win), map their traits, and upsert them."""
    if not facts:
        return
    workspace = context.workspace
    merged, indexes = _merge(facts, ("name", "parent"))
    existing = _existing(Account, workspace, merged)
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
    _upsert(context, upsert_accounts, items, owners)


def _apply_users(context: _Context, facts: list[UserFact]) -> None:
    if not facts:
        return
    workspace = context.workspace
    merged, indexes = _merge(facts, ("account", "email", "name"))
    existing = _existing(EndUser, workspace, merged)
    accounts = {e["account"] for e in merged.values() if e.get("account")}
    known_accounts = _existing(Account, workspace, accounts)
    missing_accounts = accounts - set(known_accounts)
    if missing_accounts and context.settings.create_unknown:
        owners = defaultdict(list)
        for external_id, entry in merged.items():
            if entry.get("account") in missing_accounts:
                owners[entry["account"]].extend(indexes[external_id])
        created = _create_accounts(context, dict.fromkeys(missing_accounts), owners)
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
        elif external_id not in existing and _is_email(external_id):
            item["email"] = external_id
        name = entry.get("name") or fields.get("name")
        if isinstance(name, str) and name.strip():
            item["name"] = name.strip()[:200]
        account = entry.get("account")
        if account and account in known_accounts:
            item["account_external_id"] = account
        items.append(item)
        owners.append(indexes[external_id])
    _upsert(context, upsert_end_users, items, owners)


def _upsert(
    context: _Context, upsert, items: list[dict], owners: list[list[int]]
) -> dict[str, int]:
    """Run a bulk upsert as the system; turn its per-item errors into refusals of the items
    behind them. Returns external id → id of what was written."""
    if not items:
        return {}
    result = upsert(system_actor(context.workspace), items, source="ingest")
    written = {}
    for entry, indexes in zip(result.results, owners, strict=True):
        if entry["status"] == "error":
            for index in indexes:
                for error in entry["errors"]:
                    reason = (
                        Reason.INVALID_ATTRIBUTE
                        if error["field"].startswith("attributes.")
                        else Reason.INVALID_FIELD
                    )
                    context.refuse(index, reason, error["field"], error["message"])
        else:
            written[entry["external_id"]] = entry["id"]
    return written


def _note_unmapped(context: _Context, object_type: str, unmapped: dict) -> None:
    tally = context.unmapped[object_type]
    for name, value in unmapped.items():
        seen, _ = tally.get(name, (0, ""))
        tally[name] = (seen + 1, sample_of(value)[:200])


def _is_email(text: str) -> bool:
    if "@" not in text:
        return False
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def _create_accounts(
    context: _Context, names: dict[str, str | None], owners: dict[str, list[int]]
) -> dict[str, int]:
    """Create accounts first met in events or calls, named ``names[ext]`` or by their id."""
    items = [{"external_id": ext, "name": (name or ext)[:255]} for ext, name in names.items()]
    return _upsert(
        context, upsert_accounts, items, [owners.get(i["external_id"], []) for i in items]
    )


def _apply_aliases(context: _Context, aliases: list[AliasFact]) -> None:
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


# --- 4. events ------------------------------------------------------------------------------


@dataclass
class _Lookup:
    """The end users and accounts that events name, as stored when looked up."""

    users: dict[str, tuple]  # external id → (external id, id, account id)
    account_of_id: dict[int, str]  # account id → external id, for users' accounts
    accounts: dict[str, tuple]  # external id → (external id, id)

    def update(self, other: "_Lookup") -> None:
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


def _look_up(workspace: Workspace, events: list[EventFact]) -> _Lookup:
    user_keys = {e.user for e in events if e.user}
    users = _existing(EndUser, workspace, user_keys, ("external_id", "id", "account_id"))
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
    return _Lookup(users, account_of_id, _existing(Account, workspace, named))


def _store_events(context: _Context, events: list[EventFact], lookup: _Lookup) -> int:
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
        lookup.update(_look_up(workspace, unsettled))
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
            accounts.update(_create_accounts(context, missing, owners))
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
                if _is_email(ext):
                    item["email"] = ext
                items.append(item)
            user_ids.update(
                _upsert(context, upsert_end_users, items, [owners[i["external_id"]] for i in items])
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


# --- 5. custom metrics ----------------------------------------------------------------------


def _store_metrics(context: _Context, facts: list[MetricFact]) -> None:
    """Upsert one value per account, metric and day (the last one sent for a day wins);
    metrics and accounts met for the first time are created."""
    if not facts:
        return
    workspace = context.workspace
    accounts = {
        key: row[1]
        for key, row in _existing(Account, workspace, {f.account for f in facts}).items()
    }
    missing = {f.account for f in facts} - set(accounts)
    if missing:
        owners = defaultdict(list)
        for fact in facts:
            if fact.account in missing:
                owners[fact.account].append(fact.index)
        if context.settings.create_unknown:
            accounts.update(_create_accounts(context, dict.fromkeys(missing), owners))
        else:
            for ext in missing:
                for index in owners[ext]:
                    context.refuse_unknown(index, "account", ext)
    metrics = ensure_metrics(workspace, {f.metric for f in facts})
    now = timezone.now()
    values: dict[tuple[int, int, int], tuple] = {}
    for fact in facts:
        account_id = accounts.get(fact.account)
        if account_id is None:
            continue
        metric_id = metrics[fact.metric].pk
        values[(account_id, metric_id, fact.day)] = (
            workspace.id,
            account_id,
            metric_id,
            fact.day,
            fact.value,
            now,
        )
    # Plain rows through the accounts app's raw upsert: a model instance per value cost more
    # than the database's work (57 µs a value in the demo build).
    upsert(
        MetricValue,
        ("workspace_id", "account_id", "metric_id", "day", "value", "updated_at"),
        sorted(values.values()),
        ["account", "metric", "day"],
        ["value", "updated_at"],
    )


def metric_label(key: str) -> str:
    """A first label for a metric met for the first time: ``api_calls`` → "Api calls"."""
    if key != key.lower() or " " in key:
        return key
    return key.replace("_", " ").replace("-", " ").strip().capitalize() or key


def ensure_metrics(workspace: Workspace, keys: set[str]) -> dict[str, Metric]:
    """The metrics with these keys, created (labelled after their key) when new."""
    existing = {m.key: m for m in Metric.objects.filter(workspace=workspace, key__in=keys)}
    missing = [
        Metric(workspace=workspace, key=key, label=metric_label(key))
        for key in sorted(keys - set(existing))
    ]
    if missing:
        Metric.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {m.key: m for m in Metric.objects.filter(workspace=workspace, key__in=keys)}
    return existing
