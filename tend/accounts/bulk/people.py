"""Bulk upsert of end users and contacts, keyed by external id.

The field rules are :func:`tend.accounts.actions.people.clean_person`, the same ones the
single-object API uses; this module only batches the reads and the writes.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from tend.accounts.actions.accounts import attribute_definitions
from tend.accounts.actions.people import CONTACT, END_USER, PersonKind, clean_person
from tend.accounts.bulk.common import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Batch,
    BulkResult,
    load_by_external_id,
)
from tend.accounts.bulk.sql import upsert
from tend.accounts.models import Account
from tend.workspaces.access import WRITE, Actor

STORED = {
    END_USER: ("account_id", "email", "name", "attributes"),
    CONTACT: ("account_id", "email", "name", "attributes", "phone", "role", "is_key_contact"),
}
# What a new row sets if a concurrent insert of the same key won the race.
UPDATE_FIELDS = {kind: (*fields, "updated_at") for kind, fields in STORED.items()}


def upsert_end_users(actor: Actor, items: list[dict], *, source: str = "api") -> BulkResult:
    """Create or update end users by ``external_id``; see :func:`tend.accounts.bulk.upsert_accounts`."""
    return _upsert(actor, END_USER, items)


def upsert_contacts(actor: Actor, items: list[dict], *, source: str = "api") -> BulkResult:
    """Create or update contacts by ``external_id``; see :func:`tend.accounts.bulk.upsert_accounts`."""
    return _upsert(actor, CONTACT, items)


@transaction.atomic
def _upsert(actor: Actor, kind: PersonKind, items: list[dict]) -> BulkResult:
    """Steps: check keys and duplicates; load the rows and accounts the batch names; clean and
    diff each item in Python; write new and changed rows in one ``INSERT … ON CONFLICT``."""
    actor.require(WRITE)
    batch = Batch(items)
    workspace = actor.workspace
    keys = batch.index_keys()
    definitions = attribute_definitions(workspace, kind.object_type)
    refs = {
        ref
        for index in keys.values()
        if isinstance(ref := items[index].get("account_external_id"), str) and ref
    }
    account_ids = {
        key: row[1]
        for key, row in load_by_external_id(Account, workspace, refs, ("external_id", "id")).items()
    }
    stored = STORED[kind]
    columns = ("external_id", "id", *stored)
    existing = load_by_external_id(kind.model, workspace, keys, columns)
    # A new row's values for the fields an item leaves out: the model's defaults.
    defaults = {field: kind.model._meta.get_field(field).get_default() for field in stored}

    now = timezone.now()
    statuses: dict[int, str] = {}
    ids: dict[int, int] = {}
    # Rows to write, grouped by the columns an update sets (see bulk.accounts: setting only
    # what changed spares SQLite rewriting index entries), each row in the order of ``head``.
    head = ("workspace_id", "external_id", *stored, "created_at", "updated_at")
    writes: dict[tuple, list[tuple[int, tuple]]] = defaultdict(list)
    for key, index in keys.items():
        row = existing.get(key)
        current = dict(zip(columns, row, strict=True)) if row else None
        clean, errors = clean_person(
            kind, items[index], definitions=definitions, account_ids=account_ids, current=current
        )
        if errors:
            batch.fail_all(index, errors)
            continue
        clean.pop("external_id", None)
        if current is None:
            statuses[index] = CREATED
            values = {field: defaults[field] for field in stored} | clean
            writes[UPDATE_FIELDS[kind]].append(
                (index, (workspace.id, key, *(values[f] for f in stored), now, now))
            )
            continue
        ids[index] = current["id"]
        changed = tuple(
            field for field in stored if field in clean and clean[field] != current[field]
        )
        if not changed:
            statuses[index] = UNCHANGED
            continue
        statuses[index] = UPDATED
        values = {field: current[field] for field in stored} | clean
        writes[(*changed, "updated_at")].append(
            (index, (workspace.id, key, *(values[f] for f in stored), now, now))
        )

    for sets, group in writes.items():
        group.sort(key=lambda entry: entry[1][1])
        by_key = {values[1]: index for index, values in group}
        returned = upsert(
            kind.model,
            head,
            [values for _index, values in group],
            ["workspace", "external_id"],
            sets,
        )
        for pk, _workspace_id, key in returned:
            ids[by_key[key]] = pk
    return batch.result(statuses, ids)
