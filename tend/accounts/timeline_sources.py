"""The timeline sources accounts itself feeds: journey stage, status and attribute changes.

Each is one query (plus, for attributes, one for the workspace's attribute labels) whatever
the page size; see ``tend.accounts.timeline``.
"""

from tend.accounts import attributes
from tend.accounts.models import (
    AttributeChange,
    AttributeDefinition,
    ObjectType,
    StageChange,
    StatusChange,
)
from tend.accounts.timeline import TimelineItem, TimelineSource, add_timeline_source, before


def _who(member) -> tuple[str, int | None]:
    return (member.name, member.pk) if member is not None else ("", None)


def stage_items(actor, account, cursor, limit, member):
    rows = (
        StageChange.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "stage", "changed_at"))
        .select_related("from_stage", "to_stage", "changed_by__user")
        .order_by("-changed_at", "-id")
    )
    if member is not None:
        rows = rows.filter(changed_by_id=member)
    items = []
    for change in rows[:limit]:
        name, member_id = _who(change.changed_by)
        to = change.to_stage.name if change.to_stage else "no stage"
        frm = change.from_stage.name if change.from_stage else "no stage"
        items.append(
            TimelineItem(
                source="stage",
                kind="stage_changed",
                at=change.changed_at,
                id=change.pk,
                title=f"Journey stage: {frm} → {to}",
                detail=f"via {change.source}" if change.source != "ui" else "",
                actor=name,
                actor_id=member_id,
                data={
                    "from": frm if change.from_stage else None,
                    "to": to if change.to_stage else None,
                },
            )
        )
    return items


def status_items(actor, account, cursor, limit, member):
    rows = (
        StatusChange.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "status", "changed_at"))
        .select_related("changed_by__user")
        .order_by("-changed_at", "-id")
    )
    if member is not None:
        rows = rows.filter(changed_by_id=member)
    items = []
    for change in rows[:limit]:
        name, member_id = _who(change.changed_by)
        tone = {"paying": "good", "churned": "bad"}.get(change.to_status, "")
        items.append(
            TimelineItem(
                source="status",
                kind="status_changed",
                at=change.changed_at,
                id=change.pk,
                title=(
                    f"Status: {change.get_from_status_display()} → {change.get_to_status_display()}"
                ),
                actor=name,
                actor_id=member_id,
                tone=tone,
                data={"from": change.from_status, "to": change.to_status},
            )
        )
    return items


def _shown(definition, value) -> str:
    text = attributes.display(definition, value)
    return f"“{text}”" if text else "empty"


def _change_title(label, definition, change) -> str:
    # A first value (the account created with it, or a field filled in) reads as "set to":
    # "Plan: empty → “gold”" for each attribute of a new account read as noise.
    if change.from_value is None:
        return f"{label} set to {_shown(definition, change.to_value)}"
    return f"{label}: {_shown(definition, change.from_value)} → {_shown(definition, change.to_value)}"


def attribute_items(actor, account, cursor, limit, member):
    rows = (
        AttributeChange.objects.filter(workspace=actor.workspace, account=account)
        .filter(before(cursor, "attribute", "changed_at"))
        .select_related("changed_by__user")
        .only(
            "key",
            "from_value",
            "to_value",
            "changed_at",
            "source",
            "changed_by__user__full_name",
            "changed_by__user__email",
        )  # fmt: skip
        .order_by("-changed_at", "-id")
    )
    if member is not None:
        rows = rows.filter(changed_by_id=member)
    rows = list(rows[:limit])
    if not rows:
        return []
    definitions = {
        d.key: d
        for d in AttributeDefinition.objects.filter(
            workspace=actor.workspace, object_type=ObjectType.ACCOUNT, key__in={r.key for r in rows}
        )
    }
    items = []
    for change in rows:
        definition = definitions.get(change.key)
        label = definition.label if definition else change.key
        name, member_id = _who(change.changed_by)
        items.append(
            TimelineItem(
                source="attribute",
                kind="attribute_changed",
                at=change.changed_at,
                id=change.pk,
                title=_change_title(label, definition, change),
                detail=f"via {change.source}" if change.source != "ui" else "",
                actor=name,
                actor_id=member_id,
                data={"key": change.key, "from": change.from_value, "to": change.to_value},
            )
        )
    return items


def register() -> None:
    add_timeline_source(TimelineSource("stage", "Journey stage changes", stage_items, position=60))
    add_timeline_source(TimelineSource("status", "Status changes", status_items, position=61))
    add_timeline_source(
        TimelineSource("attribute", "Attribute changes", attribute_items, position=62)
    )
