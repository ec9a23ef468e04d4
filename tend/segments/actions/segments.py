"""Creating, changing and deleting segments.

Every input is checked before anything is written (``InvalidInput`` naming the field: the
API answers 422, a form shows it beside the field). A dynamic segment is evaluated as soon
as it is created or its condition changes, after the definition commits, so the caller gets
its members at once.
"""

from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from tend.health.models import HealthProfile
from tend.lib.errors import InvalidInput
from tend.segments.actions.evaluation import evaluate_segment, request_refresh
from tend.segments.conditions import dependency_graph, referenced_ids
from tend.segments.models import Segment, SegmentKind, Visibility
from tend.segments.queries import acting_member, check_condition, is_system, require_edit
from tend.workspaces.access import CONTRIBUTE, WRITE, Actor

FIELDS = ("name", "description", "kind", "condition", "visibility")
MAX_NAME = 120
MAX_DESCRIPTION = 500


def _name(actor: Actor, value, exclude_pk=None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("name", "is required")
    name = value.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"is longer than {MAX_NAME} characters")
    clash = Segment.objects.filter(workspace=actor.workspace, name=name).exclude(pk=exclude_pk)
    if clash.exists():
        raise InvalidInput("name", f"another segment is already called {name!r}")
    return name


def _description(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("description", "expected text")
    if len(value.strip()) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"is longer than {MAX_DESCRIPTION} characters")
    return value.strip()


def _choice(field: str, value, choices) -> str:
    if value not in choices.values:
        raise InvalidInput(field, f"expected one of {', '.join(choices.values)}, got {value!r}")
    return value


def _unknown_fields(data: Mapping) -> None:
    for key in data:
        if key not in FIELDS:
            raise InvalidInput(key, f"is not a field of a segment; use {', '.join(FIELDS)}")


def _owner_for_private(actor: Actor):
    member = acting_member(actor)
    if member is None and not is_system(actor):
        raise InvalidInput(
            "visibility",
            "a private segment belongs to a member; this API token was created by none, "
            "so its segments must be shared",
        )
    return member


def create_segment(actor: Actor, data: Mapping, *, evaluate: bool = True) -> Segment:
    """A new segment from ``name``, ``description``, ``kind`` (dynamic by default),
    ``condition`` (dynamic only, required) and ``visibility`` (private by default). Private
    needs the contribute right, shared the write right. A dynamic one is evaluated at once;
    with ``evaluate=False`` (creating many at once, or replaying history) the refresh job
    evaluates it within a minute, or the caller does."""
    _unknown_fields(data)
    visibility = _choice("visibility", data.get("visibility", Visibility.PRIVATE), Visibility)
    actor.require(WRITE if visibility == Visibility.SHARED else CONTRIBUTE)
    kind = _choice("kind", data.get("kind", SegmentKind.DYNAMIC), SegmentKind)
    condition = data.get("condition")
    with transaction.atomic():
        name = _name(actor, data.get("name"))
        description = _description(data.get("description"))
        if kind == SegmentKind.DYNAMIC:
            if condition is None:
                raise InvalidInput(
                    "condition", "is required: a dynamic segment holds the accounts it matches"
                )
            check_condition(actor, condition)
        elif condition is not None:
            raise InvalidInput(
                "condition", "a static segment has no condition; its accounts are added to it"
            )
        owner = (
            _owner_for_private(actor) if visibility == Visibility.PRIVATE else acting_member(actor)
        )
        now = timezone.now()
        segment = Segment.objects.create(
            workspace=actor.workspace,
            name=name,
            description=description,
            kind=kind,
            condition=condition,
            visibility=visibility,
            owner=owner,
            created_at=now,
            updated_at=now,
        )
    if segment.is_dynamic and evaluate:
        evaluate_segment(segment)
        segment.refresh_from_db()
    return segment


def update_segment(actor: Actor, segment: Segment, changes: Mapping) -> Segment:
    """Change ``name``, ``description``, ``condition`` (dynamic only; evaluated at once) or
    ``visibility``. The kind is fixed. Making a segment shared needs the write right;
    making a shared one private makes it the actor's."""
    _unknown_fields(changes)
    require_edit(actor, segment)
    if "kind" in changes and changes["kind"] != segment.kind:
        raise InvalidInput("kind", "cannot change; create a new segment of the other kind")
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        require_edit(actor, segment)
        fields = []
        if "name" in changes:
            segment.name = _name(actor, changes["name"], exclude_pk=segment.pk)
            fields.append("name")
        if "description" in changes:
            segment.description = _description(changes["description"])
            fields.append("description")
        condition_changed = False
        if "condition" in changes:
            condition = changes["condition"]
            if not segment.is_dynamic:
                if condition is not None:
                    raise InvalidInput(
                        "condition",
                        "a static segment has no condition; its accounts are added to it",
                    )
            elif condition is None:
                raise InvalidInput(
                    "condition", "is required: a dynamic segment holds the accounts it matches"
                )
            elif condition != segment.condition:
                check_condition(actor, condition, segment=segment)
                segment.condition = condition
                segment.evaluation_error = ""
                fields += ["condition", "evaluation_error"]
                condition_changed = True
        if "visibility" in changes:
            visibility = _choice("visibility", changes["visibility"], Visibility)
            if visibility != segment.visibility:
                actor.require(WRITE)  # sharing one, or taking a shared one private
                if visibility == Visibility.PRIVATE:
                    segment.owner = _owner_for_private(actor) or segment.owner
                    fields.append("owner")
                segment.visibility = visibility
                fields.append("visibility")
        if fields:
            segment.updated_at = timezone.now()
            segment.save(update_fields=[*fields, "updated_at"])
    if condition_changed:
        evaluate_segment(segment)
        segment.refresh_from_db()
        with transaction.atomic():
            # Segments whose conditions name this one follow its new members.
            request_refresh(segment.workspace)
    return segment


def dependents(segment: Segment) -> list[str]:
    """What names ``segment`` in a condition: other segments and health profiles."""
    workspace = segment.workspace
    graph = dependency_graph(workspace)
    using = [pk for pk, refs in graph.items() if segment.pk in refs and pk != segment.pk]
    found = [
        f"segment {name!r}"
        for name in Segment.objects.filter(pk__in=using)
        .order_by("name")
        .values_list("name", flat=True)
    ]
    for name, condition in HealthProfile.objects.filter(workspace=workspace).values_list(
        "name", "condition"
    ):
        if segment.pk in referenced_ids(condition):
            found.append(f"health profile {name!r}")
    return found


@transaction.atomic
def delete_segment(actor: Actor, segment: Segment) -> None:
    """Delete the segment with its membership, history and counts. Refused (naming them)
    while another segment's or a health profile's condition names it."""
    require_edit(actor, segment)
    used_by = dependents(segment)
    if used_by:
        raise InvalidInput(
            "segment", f"is used in the condition of {', '.join(used_by)}; change those first"
        )
    segment.delete()


@transaction.atomic
def set_used_by_automation(segment: Segment, used: bool) -> None:
    """Plays and alerts call this for the segments they watch: those are refreshed at least
    every ``TEND_SEGMENT_REFRESH_SECONDS`` whatever the idle interval is."""
    Segment.objects.filter(pk=segment.pk).update(used_by_automation=used)
    segment.used_by_automation = used
