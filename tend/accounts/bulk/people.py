"""Bulk upsert of end users and contacts, keyed by external id.

The field rules are :func:`tend.accounts.actions.people.clean_person`, the same ones the
single-object API uses; this module only batches the reads and the writes.
"""

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
from tend.accounts.bulk.sql import upsert_returning_ids
from tend.accounts.models import Account
from tend.workspaces.access import WRITE, Actor

STORED = {
    END_USER: ("account_id", "email", "name", "attributes"),
    CONTACT: ("account_id", "email", "name", "attributes", "phone", "role", "is_key_contact"),
}
UPDATE_FIELDS = {
    END_USER: ["account", "email", "name", "attributes", "updated_at"],
    CONTACT: [
        "account",
        "email",
        "name",
        "attributes",
        "phone",
        "role",
        "is_key_contact",
        "updated_at",
    ],
}


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
        for key, row in load_by_external_id(
            Account.objects, workspace, refs, ("external_id", "id")
        ).items()
    }
    stored = STORED[kind]
    columns = ("external_id", "id", *stored)
    existing = load_by_external_id(kind.model.objects, workspace, keys, columns)

    now = timezone.now()
    statuses: dict[int, str] = {}
    ids: dict[int, int] = {}
    writes: list[tuple[int, object]] = []
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
            writes.append(
                (
                    index,
                    kind.model(
                        workspace=workspace,
                        external_id=key,
                        created_at=now,
                        updated_at=now,
                        **clean,
                    ),
                )
            )
            continue
        ids[index] = current["id"]
        if all(current[field] == value for field, value in clean.items()):
            statuses[index] = UNCHANGED
            continue
        statuses[index] = UPDATED
        values = {field: current[field] for field in stored} | clean
        writes.append(
            (
                index,
                kind.model(
                    workspace=workspace, external_id=key, created_at=now, updated_at=now, **values
                ),
            )
        )

    if writes:
        upsert_returning_ids(
            kind.model, [obj for _index, obj in writes], ["workspace", "external_id"], UPDATE_FIELDS[kind]
        )
        for index, obj in writes:
            ids[index] = obj.pk
    return batch.result(statuses, ids)
