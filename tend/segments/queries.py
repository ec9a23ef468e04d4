"""Reading segments: who sees which, the access chokepoint, members, history and counts.

Who sees a segment: a **shared** segment, every member of its workspace; a **private** one,
its owner only. An API token acts for the member who created it (a token no member created
sees shared segments only); jobs and the CLI (the system actor) see every segment.

Who changes one: a shared segment needs the write right (admin, practitioner; a token with
the ``write`` scope); a private one its owner with the contribute right (every seat but
viewer). Refreshing a segment needs the contribute right.

Pages and APIs fetch a segment with :func:`get_segment` (404 when the actor cannot see it,
403 when they may not change it) and lists start from :func:`visible_segments`.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tend.accounts.conditions import account_catalog, count_accounts
from tend.accounts.models import Account
from tend.lib.conditions import Catalog, require_valid
from tend.segments.conditions import check_references
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember
from tend.workspaces.access import CONTRIBUTE, READ, WRITE, Actor
from tend.workspaces.models import Member


def acting_member(actor: Actor) -> Member | None:
    """The member an actor acts for: the person, or the member who created the token."""
    if actor.member is not None:
        return actor.member
    if actor.token is not None:
        return actor.token.created_by
    return None


def is_system(actor: Actor) -> bool:
    return actor.member is None and actor.token is None


def visible_segments(actor: Actor) -> QuerySet:
    """The segments ``actor`` may see, in their workspace."""
    return Segment.objects.filter(workspace=actor.workspace).visible_to(
        acting_member(actor), everything=is_system(actor)
    )


def can_edit(actor: Actor, segment: Segment) -> bool:
    if segment.is_private:
        if is_system(actor):
            return True
        member = acting_member(actor)
        return member is not None and segment.owner_id == member.pk and actor.can(CONTRIBUTE)
    return actor.can(WRITE)


def require_edit(actor: Actor, segment: Segment) -> None:
    if not can_edit(actor, segment):
        if not actor.can(CONTRIBUTE):
            raise PermissionDenied(actor.denial(CONTRIBUTE))
        raise PermissionDenied(actor.denial(WRITE))


def get_segment(
    actor: Actor, pk, *, edit: bool = False, queryset: QuerySet | None = None
) -> Segment:
    """The segment ``pk`` if ``actor`` sees it (else 404); with ``edit``, also if they may
    change it (else 403)."""
    queryset = queryset if queryset is not None else visible_segments(actor)
    try:
        segment = queryset.filter(workspace=actor.workspace).get(pk=pk)
    except (Segment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No segment matches the given query.") from exc
    actor.require(READ)
    if edit:
        require_edit(actor, segment)
    return segment


def members_of(segment: Segment) -> QuerySet:
    """The segment's ``SegmentMember`` rows (in account order through the unique key)."""
    return SegmentMember.objects.filter(workspace_id=segment.workspace_id, segment=segment)


def accounts_of(segment: Segment) -> QuerySet:
    """The accounts in the segment now, as an ``Account`` queryset (for lists and exports)."""
    return Account.objects.filter(
        workspace_id=segment.workspace_id,
        pk__in=members_of(segment).values("account_id"),
    )


def history_of(segment: Segment) -> QuerySet:
    """The segment's entries and exits, newest first."""
    return SegmentChange.objects.filter(
        workspace_id=segment.workspace_id, segment=segment
    ).order_by("-id")


def counts_of(
    segment: Segment, since: datetime.date | None = None
) -> list[tuple[datetime.date, int]]:
    """``(local day, members)`` per recorded day, oldest first."""
    rows = SegmentCount.objects.filter(workspace_id=segment.workspace_id, segment=segment)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return list(rows.order_by("day").values_list("day", "members"))


def segments_of_account(actor: Actor, account: Account) -> QuerySet:
    """The segments ``actor`` sees that ``account`` is in now."""
    held = SegmentMember.objects.filter(workspace=actor.workspace, account=account)
    return visible_segments(actor).filter(pk__in=held.values("segment_id"))


def segment_choices(actor: Actor, exclude: Segment | None = None) -> list[tuple[int, str]]:
    """``(id, name)`` of the segments a condition written by ``actor`` may name (the
    ``segment`` field's options with their labels), by name."""
    segments = visible_segments(actor).order_by("name", "id")
    if exclude is not None and exclude.pk is not None:
        segments = segments.exclude(pk=exclude.pk)
    return list(segments.values_list("id", "name"))


def count_matching(
    actor: Actor, condition, *, segment: Segment | None = None, prefix: str = "condition"
) -> int:
    """How many accounts ``condition`` matches now (a builder's live count; nothing is
    saved). Raises ``InvalidInput`` naming the clause, as saving the condition would;
    ``segment`` is the segment being edited, which the condition may not depend on."""
    actor.require(READ)
    catalog = check_condition(actor, condition, segment=segment, prefix=prefix)
    return count_accounts(actor.workspace, condition, catalog=catalog)


def check_condition(
    actor: Actor, condition, *, segment: Segment | None = None, prefix: str = "condition"
) -> Catalog:
    """The workspace's catalog, once ``condition`` is known to be one ``actor`` may save on
    ``segment``: valid in the language, naming only segments they see, and not making the
    segment depend on itself. Else ``InvalidInput`` naming the clause under ``prefix``."""
    workspace = actor.workspace
    catalog = account_catalog(workspace)
    require_valid(condition, catalog, prefix=prefix)
    check_references(
        workspace,
        condition,
        segment=segment,
        visible=visible_segments(actor).values_list("id", flat=True),
        prefix=prefix,
    )
    return catalog
