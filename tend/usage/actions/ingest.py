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

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tend.accounts.models import ObjectType
from tend.lib.changes import announce
from tend.lib.dates import to_ms
from tend.usage.actions.events import look_up, store_events
from tend.usage.actions.identities import apply_accounts, apply_aliases, apply_users
from tend.usage.actions.intake import IntakeContext
from tend.usage.actions.metrics import store_metric_values
from tend.usage.actions.settings import settings_for
from tend.usage.ingest import store
from tend.usage.ingest.facts import IngestReport, Intake, message_key
from tend.usage.rollups import request_rollup
from tend.workspaces.models import Workspace


def ingest(workspace: Workspace, intake: Intake, *, samples: dict | None = None) -> IngestReport:
    """Store ``intake`` for ``workspace``; see the module docstring for the steps.

    ``samples`` maps an item's index to what was received, so that a refusal found while
    storing (an attribute value of the wrong type, an unknown account) keeps a sample too.
    """
    now = timezone.now()
    now_ms = to_ms(now)
    context = IntakeContext(
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
    lookup = look_up(workspace, context.still_standing(intake.events))
    with transaction.atomic():
        store.ingest_lock()
        duplicate_indexes = _drop_duplicates(context, keys, now_ms)
        apply_accounts(context, context.still_standing(intake.accounts))
        apply_users(context, context.still_standing(intake.users))
        apply_aliases(context, context.still_standing(intake.aliases))
        stored_events = store_events(context, context.still_standing(intake.events), lookup)
        store_metric_values(context, context.still_standing(intake.metrics))

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
            announce(workspace.id)
    return report


# --- duplicates ------------------------------------------------------------------------------


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


def _drop_duplicates(context: IntakeContext, keys: _MessageKeys, now_ms: int) -> set[int]:
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
