"""Adding accounts to a static segment and removing them: by hand, by an import, by a play.

Accounts are named by id or by external id. Every item gets a result in the order given —
``added`` / ``already_member`` (adding), ``removed`` / ``not_member`` (removing), or
``error`` with a message (no such account in the workspace, not an id) — and the valid ones
are written in one transaction, each entry or exit with a ``SegmentChange`` saying what did
it (``source``: member, api, import or play; the member; a ``reference`` such as the import
or play run). Nothing is dropped silently.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tend.accounts.models import Account
from tend.lib.errors import InvalidInput
from tend.segments.actions.evaluation import _apply, request_refresh
from tend.segments.models import Segment, SegmentKind, SegmentMember, Source
from tend.segments.queries import acting_member, require_edit
from tend.workspaces.access import Actor

LOOKUP_BATCH = 5_000
MAX_REFERENCE = 100


@dataclass
class MembershipResult:
    """One result per item, in the order given, and how many of each status."""

    results: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"results": self.results, "counts": self.counts}


def add_accounts(
    actor: Actor,
    segment: Segment,
    *,
    account_ids: Sequence = (),
    external_ids: Sequence = (),
    source: str = Source.MEMBER,
    reference: str = "",
) -> MembershipResult:
    """Add the accounts named to a static segment; see the module docstring."""
    return _change(actor, segment, account_ids, external_ids, source, reference, adding=True)


def remove_accounts(
    actor: Actor,
    segment: Segment,
    *,
    account_ids: Sequence = (),
    external_ids: Sequence = (),
    source: str = Source.MEMBER,
    reference: str = "",
) -> MembershipResult:
    """Remove the accounts named from a static segment; see the module docstring."""
    return _change(actor, segment, account_ids, external_ids, source, reference, adding=False)


def _items(account_ids: Sequence, external_ids: Sequence) -> list[tuple[str, str, object]]:
    """``(field path, key kind, value)`` per item: ``account_ids.3`` or ``external_ids.0``."""
    for name, values in (("account_ids", account_ids), ("external_ids", external_ids)):
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise InvalidInput(name, "expected a list")
    items = [(f"account_ids.{i}", "id", v) for i, v in enumerate(account_ids)]
    items += [(f"external_ids.{i}", "external_id", v) for i, v in enumerate(external_ids)]
    if not items:
        raise InvalidInput("account_ids", "name at least one account, by id or external id")
    limit = settings.TEND_BULK_MAX_ITEMS
    if len(items) > limit:
        raise InvalidInput(
            "account_ids", f"has {len(items)} accounts; the limit is {limit} per request"
        )
    return items


def _resolve(workspace, items) -> tuple[dict[int, int], dict[str, int]]:
    """Account ids and external ids of the workspace among the items: value → account id."""
    ids = [v for _f, kind, v in items if kind == "id" and _is_id(v)]
    keys = [v for _f, kind, v in items if kind == "external_id" and isinstance(v, str) and v]
    accounts = Account.objects.filter(workspace=workspace)
    by_id: dict[int, int] = {}
    by_key: dict[str, int] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        found = accounts.filter(pk__in=ids[start : start + LOOKUP_BATCH]).values_list(
            "pk", flat=True
        )
        by_id.update((pk, pk) for pk in found)
    for start in range(0, len(keys), LOOKUP_BATCH):
        found = accounts.filter(external_id__in=keys[start : start + LOOKUP_BATCH]).values_list(
            "external_id", "pk"
        )
        by_key.update(found)
    return by_id, by_key


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_source(source: str, reference: str) -> None:
    if source not in Source.values or source == Source.CONDITION:
        allowed = ", ".join(v for v in Source.values if v != Source.CONDITION)
        raise InvalidInput("source", f"expected one of {allowed}, got {source!r}")
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE:
        raise InvalidInput("reference", f"expected text of at most {MAX_REFERENCE} characters")


def _change(
    actor: Actor,
    segment: Segment,
    account_ids: Sequence,
    external_ids: Sequence,
    source: str,
    reference: str,
    *,
    adding: bool,
) -> MembershipResult:
    require_edit(actor, segment)
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(
            "kind",
            "accounts are added to static segments only; a dynamic one follows its condition",
        )
    _check_source(source, reference)
    items = _items(account_ids, external_ids)
    workspace = actor.workspace
    by_id, by_key = _resolve(workspace, items)
    member = acting_member(actor)
    with transaction.atomic():
        locked = Segment.objects.select_for_update().get(pk=segment.pk)
        wanted = {by_id.get(v) if kind == "id" else by_key.get(v) for _f, kind, v in items} - {None}
        present = set()
        listed = sorted(wanted)
        for start in range(0, len(listed), LOOKUP_BATCH):
            present.update(
                SegmentMember.objects.filter(
                    workspace=workspace,
                    segment=locked,
                    account_id__in=listed[start : start + LOOKUP_BATCH],
                ).values_list("account_id", flat=True)
            )
        results, done = [], set()
        for path, kind, value in items:
            account = _account_for(kind, value, by_id, by_key)
            if isinstance(account, str):
                results.append({"field": path, kind: value, "status": "error", "message": account})
                continue
            if adding:
                status = "already_member" if account in present or account in done else "added"
            else:
                status = "removed" if account in present and account not in done else "not_member"
            done.add(account)
            results.append({"field": path, kind: value, "account_id": account, "status": status})
        changed = sorted({r["account_id"] for r in results if r["status"] in ("added", "removed")})
        if changed:
            now = timezone.now()
            _apply(
                locked,
                changed if adding else [],
                [] if adding else changed,
                now,
                source,
                member_id=member.pk if member else None,
                reference=reference,
            )
            locked.updated_at = now
            locked.save(update_fields=["member_count", "members_changed_at", "updated_at"])
            # Dynamic segments whose conditions name this one follow it.
            request_refresh(workspace)
    segment.member_count = locked.member_count
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    return MembershipResult(results, counts)


def _account_for(kind: str, value, by_id: dict, by_key: dict) -> int | str:
    """The account id an item names, or the message saying why it names none."""
    if kind == "id":
        if not _is_id(value):
            return f"expected an account id (a whole number), got {value!r}"
        return by_id.get(value) or f"no account has id {value} in this workspace"
    if not isinstance(value, str) or not value:
        return f"expected an external id (text), got {value!r}"
    return by_key.get(value) or f"no account has external id {value!r}"
