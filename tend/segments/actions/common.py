"""Checks scorecards and saved views share: plain fields, owners of private objects, and the
segments they count.

A **shared** scorecard or view is seen by every member, so whatever it counts must be seen
by every member too: it may name shared segments only (its card's or view's segment, a
percentage's base, a ``segment`` clause of a condition). A private one may name its owner's
private segments as well.
"""

import math
from collections.abc import Mapping

from tend.lib.errors import InvalidInput
from tend.segments.conditions import references
from tend.segments.models import Segment, Visibility
from tend.segments.queries import acting_member, check_condition, is_system, visible_segments
from tend.workspaces.access import Actor
from tend.workspaces.models import Workspace


def unknown_fields(data: Mapping, known: tuple, what: str) -> None:
    for key in data:
        if key not in known:
            raise InvalidInput(key, f"is not a field of {what}; use {', '.join(known)}")


def text(field: str, value, limit: int, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidInput(field, "is required")
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "expected text")
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput(field, "is required")
    if len(cleaned) > limit:
        raise InvalidInput(field, f"is longer than {limit} characters")
    return cleaned


def choice(field: str, value, choices) -> str:
    if value not in choices.values:
        raise InvalidInput(field, f"expected one of {', '.join(choices.values)}, got {value!r}")
    return value


def number(field: str, value, *, low: float | None = None, high: float | None = None):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(field, f"expected a number, got {value!r}")
    if low is not None and value < low:
        raise InvalidInput(field, f"must be at least {low:g}")
    if high is not None and value > high:
        raise InvalidInput(field, f"must be at most {high:g}")
    return float(value)


def owner_for_private(actor: Actor, what: str):
    """The member a private ``what`` (scorecard, view) made by ``actor`` belongs to."""
    member = acting_member(actor)
    if member is None and not is_system(actor):
        raise InvalidInput(
            "visibility",
            f"a private {what} belongs to a member; this API token was created by none, "
            f"so its {what}s must be shared",
        )
    return member


def private_segments(workspace: Workspace, ids) -> dict[int, str]:
    """Id → name of the private segments among ``ids``."""
    return dict(
        Segment.objects.filter(
            workspace=workspace, pk__in=list(ids), visibility=Visibility.PRIVATE
        ).values_list("id", "name")
    )


def segment_for(actor: Actor, value, field: str, *, shared: bool, what: str) -> Segment:
    """The segment ``value`` names, if ``actor`` sees it (else "unknown segment", as for an
    id of another workspace) and, for a ``shared`` ``what``, it is shared."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"expected a segment id, got {value!r}")
    segment = visible_segments(actor).filter(pk=value).first()
    if segment is None:
        raise InvalidInput(field, f"unknown segment {value}")
    if shared and segment.is_private:
        raise InvalidInput(
            field,
            f"segment {segment.name!r} is private; a shared {what} counts shared segments, "
            f"which everyone who sees the {what} can see",
        )
    return segment


def condition_for(actor: Actor, condition, field: str, *, shared: bool, what: str) -> dict:
    """``condition`` once it is valid, names only segments ``actor`` sees and, for a
    ``shared`` ``what``, only shared ones (errors name the clause under ``field``)."""
    if not isinstance(condition, dict):
        raise InvalidInput(field, "expected a condition (a JSON object)")
    check_condition(actor, condition, prefix=field)
    if shared:
        for path, ids in references(condition):
            private = private_segments(actor.workspace, ids)
            for index, ref in enumerate(ids):
                if ref in private:
                    at = ".".join(p for p in (field, path, "value", str(index)) if p)
                    raise InvalidInput(
                        at,
                        f"segment {private[ref]!r} is private; a shared {what} counts "
                        "shared segments",
                    )
    return condition


def named_segments(segment_ids, condition) -> set[int]:
    """Every segment id an object counts: its own ones and its condition's."""
    ids = {pk for pk in segment_ids if pk is not None}
    for _path, refs in references(condition):
        ids.update(refs)
    return ids
