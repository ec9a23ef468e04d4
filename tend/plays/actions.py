"""Every change to plays goes through these functions (DESIGN rule 1): each checks the
actor's rights, validates everything before writing (``InvalidInput`` naming the field),
and runs in one transaction."""

import uuid
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone

from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account
from tend.lib.conditions import require_valid
from tend.lib.errors import InvalidInput
from tend.plays import steps, triggers
from tend.plays.engine import Occurrence, request_advance, start_runs
from tend.plays.models import (
    OPEN_RUN_STATUSES,
    Play,
    PlayRun,
    PlayStatus,
    PlayStep,
    RunPolicy,
    RunStatus,
)
from tend.plays.signals import forget_cache
from tend.segments.models import Segment, SegmentMember
from tend.workspaces.access import WRITE, Actor

FIELDS = (
    "name",
    "description",
    "trigger",
    "condition",
    "steps",
    "run_policy",
    "policy_days",
    "owner_id",
)
MAX_STEPS = 50
MAX_MANUAL = 10_000


def _text(field, value, limit, required=False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(field, "is required" if required else "expected text")
    if len(value.strip()) > limit:
        raise InvalidInput(field, f"is longer than {limit} characters")
    return value.strip()


def _clean(actor: Actor, play: Play, data: Mapping) -> dict:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], f"is not a field of a play; use {', '.join(FIELDS)}")
    ws = actor.workspace
    clean: dict = {}
    if "name" in data or play.pk is None:
        clean["name"] = _text("name", data.get("name"), 120, required=True)
        if Play.objects.filter(workspace=ws, name=clean["name"]).exclude(pk=play.pk).exists():
            raise InvalidInput("name", f"another play is already named {clean['name']!r}")
    if "description" in data:
        clean["description"] = _text("description", data["description"], 1000)
    if "trigger" in data or play.pk is None:
        trigger = data.get("trigger")
        if not isinstance(trigger, Mapping):
            raise InvalidInput("trigger", 'expected {"kind": …, "config": {…}}')
        clean["trigger_kind"] = trigger.get("kind")
        clean["trigger_config"] = triggers.clean_trigger(
            trigger.get("kind"), trigger.get("config"), ws
        )
    if "condition" in data:
        if data["condition"] is not None:
            require_valid(data["condition"], account_catalog(ws), prefix="condition")
        clean["condition"] = data["condition"] or None
    if "run_policy" in data:
        if data["run_policy"] not in RunPolicy.values:
            raise InvalidInput("run_policy", f"expected one of {', '.join(RunPolicy.values)}")
        clean["run_policy"] = data["run_policy"]
    if "policy_days" in data:
        days = data["policy_days"]
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650
        ):
            raise InvalidInput("policy_days", "expected a whole number of days from 1 to 3650")
        clean["policy_days"] = days
    policy = clean.get("run_policy", play.run_policy)
    if policy == RunPolicy.EVERY_N_DAYS and not clean.get("policy_days", play.policy_days):
        raise InvalidInput("policy_days", "is required with the every_n_days run policy")
    if "owner_id" in data:
        from tend.workspaces.models import Member

        owner = (
            Member.objects.filter(workspace=ws, pk=data["owner_id"]).first()
            if data["owner_id"]
            else None
        )
        if data["owner_id"] and owner is None:
            raise InvalidInput(
                "owner_id", f"no member with id {data['owner_id']} in this workspace"
            )
        clean["owner"] = owner
    if "steps" in data:
        clean["steps"] = _clean_steps(data["steps"], ws)
    return clean


def _clean_steps(raw, workspace) -> list[tuple[str, dict]]:
    if not isinstance(raw, list):
        raise InvalidInput("steps", "expected a list of steps")
    if len(raw) > MAX_STEPS:
        raise InvalidInput("steps", f"has {len(raw)} steps; a play has at most {MAX_STEPS}")
    cleaned = []
    for index, item in enumerate(raw):
        where = f"steps.{index}"
        if not isinstance(item, Mapping):
            raise InvalidInput(where, 'expected {"kind": …, "config": {…}}')
        config = steps.clean_step(item.get("kind"), item.get("config"), workspace, where)
        position = index + 1
        if item.get("kind") == "branch":
            for side in ("then_position", "else_position"):
                target = config.get(side)
                if target and not position < target <= len(raw):
                    raise InvalidInput(
                        f"{where}.config.{side}",
                        f"must name a later step (positions {position + 1}–{len(raw)}), or 0 to end the run",
                    )
        cleaned.append((item["kind"], config))
    return cleaned


def _watch_segments(play: Play) -> None:
    """Segments a play's trigger reads are refreshed at least every minute."""
    segment_id = (play.trigger_config or {}).get("segment_id")
    if segment_id:
        Segment.objects.filter(workspace=play.workspace, pk=segment_id).update(
            used_by_automation=True
        )


def _save(play: Play, clean: dict) -> Play:
    new_steps = clean.pop("steps", None)
    for name, value in clean.items():
        setattr(play, name, value)
    play.updated_at = timezone.now()
    play.save()
    if new_steps is not None:
        # Open runs keep their position number; a changed step list applies to the steps
        # they have not reached yet.
        PlayStep.objects.filter(play=play).delete()
        PlayStep.objects.bulk_create(
            [
                PlayStep(workspace=play.workspace, play=play, position=i, kind=kind, config=config)
                for i, (kind, config) in enumerate(new_steps, start=1)
            ]
        )
    _watch_segments(play)
    return play


@transaction.atomic
def create_play(actor: Actor, data: Mapping) -> Play:
    """A new play, in draft: it does nothing until activated."""
    actor.require(WRITE)
    play = Play(workspace=actor.workspace, owner=actor.member, status=PlayStatus.DRAFT)
    return _save(play, _clean(actor, play, data))


@transaction.atomic
def update_play(actor: Actor, play: Play, data: Mapping) -> Play:
    actor.require(WRITE)
    play = Play.objects.select_for_update().get(pk=play.pk)
    if play.status == PlayStatus.ARCHIVED:
        raise InvalidInput("status", "an archived play cannot be changed")
    clean = _clean(actor, play, data)
    if "trigger_kind" in clean and play.is_active:
        kind = triggers.get(clean["trigger_kind"])
        play.trigger_kind, play.trigger_config = clean["trigger_kind"], clean["trigger_config"]
        config = triggers.parse_config(kind, play.trigger_config)
        clean["trigger_cursor"], clean["trigger_state"] = kind.start(play, config, timezone.now())
    return _save(play, clean)


@transaction.atomic
def set_status(actor: Actor, play: Play, status: str, *, backfill: bool | None = None) -> dict:
    """Change a play's status. Activating asks ``backfill``: True runs the play for the
    accounts already matching its trigger; False only for new occurrences. Pausing leaves
    open runs where they are (resuming continues them); archiving cancels them. Returns
    ``{"play": play, "backfill": counts or None}``."""
    actor.require(WRITE)
    play = Play.objects.select_for_update().get(pk=play.pk)
    if status not in PlayStatus.values:
        raise InvalidInput("status", f"expected one of {', '.join(PlayStatus.values)}")
    if play.status == PlayStatus.ARCHIVED and status != PlayStatus.ARCHIVED:
        raise InvalidInput("status", "an archived play stays archived; copy it to use it again")
    now = timezone.now()
    counts = None
    if status == PlayStatus.ACTIVE and play.status != PlayStatus.ACTIVE:
        first_activation = play.activated_at is None or play.status == PlayStatus.DRAFT
        if first_activation and backfill is None:
            raise InvalidInput(
                "backfill",
                "say whether to run for accounts already matching (true) or only new occurrences (false)",
            )
        if not PlayStep.objects.filter(play=play).exists():
            raise InvalidInput("steps", "a play needs at least one step before it is activated")
        kind, config = triggers.config_of(play)
        if first_activation:
            play.trigger_cursor, play.trigger_state = kind.start(play, config, now)
        play.status = PlayStatus.ACTIVE
        play.activated_at = now
        play.updated_at = now
        play.save()
        if first_activation and backfill:
            counts = start_runs(play, kind.backfill(play, config, now), now)
        # Runs held while paused continue.
        request_advance(play.workspace_id)
        transaction.on_commit(forget_cache)
        return {"play": play, "backfill": counts}
    if status == PlayStatus.ARCHIVED:
        PlayRun.objects.filter(play=play, status__in=OPEN_RUN_STATUSES).update(
            status=RunStatus.CANCELLED,
            reason="the play was archived",
            finished_at=now,
            next_due_at=None,
            locked_by="",
            locked_until=None,
        )
    if status == PlayStatus.DRAFT and play.status != PlayStatus.DRAFT:
        raise InvalidInput(
            "status", "a play that has been active can be paused or archived, not put back in draft"
        )
    play.status = status
    play.updated_at = now
    play.save()
    transaction.on_commit(forget_cache)
    return {"play": play, "backfill": None}


def run_play_now(
    actor: Actor,
    play: Play,
    *,
    account_ids=(),
    external_ids=(),
    segment_id: int | None = None,
) -> dict:
    """Run a play now for the accounts named (ids, external ids, or a segment's members),
    whatever its trigger: each call is a new occurrence, still subject to the condition and
    the run policy. The play must be active. Returns counts and per-item errors."""
    actor.require(WRITE)
    if not play.is_active:
        raise InvalidInput(
            "status",
            f"the play is {play.status}: activate it first (a dry run works in any status)",
        )
    ws = actor.workspace
    targets: dict[int, str] = {}
    errors = []
    if not isinstance(account_ids, list | tuple) or not isinstance(external_ids, list | tuple):
        raise InvalidInput("account_ids", "expected lists")
    if len(account_ids) + len(external_ids) > MAX_MANUAL:
        raise InvalidInput("account_ids", f"at most {MAX_MANUAL} accounts per call")
    found = dict(
        Account.objects.filter(
            workspace=ws, pk__in=[i for i in account_ids if isinstance(i, int)]
        ).values_list("pk", "external_id")
    )
    for index, pk in enumerate(account_ids):
        if pk in found:
            targets[pk] = found[pk]
        else:
            errors.append(
                {
                    "field": f"account_ids.{index}",
                    "message": f"no account with id {pk!r} in this workspace",
                }
            )
    by_key = dict(
        Account.objects.filter(
            workspace=ws, external_id__in=[k for k in external_ids if isinstance(k, str)]
        ).values_list("external_id", "pk")
    )
    for index, key in enumerate(external_ids):
        if key in by_key:
            targets[by_key[key]] = key
        else:
            errors.append(
                {
                    "field": f"external_ids.{index}",
                    "message": f"no account with external id {key!r}",
                }
            )
    if segment_id is not None:
        segment = Segment.objects.filter(workspace=ws, pk=segment_id).first()
        if segment is None:
            raise InvalidInput("segment_id", f"no segment with id {segment_id}")
        for pk in SegmentMember.objects.filter(segment=segment).values_list(
            "account_id", flat=True
        )[:MAX_MANUAL]:
            targets.setdefault(pk, "")
    if not targets and not errors:
        raise InvalidInput(
            "account_ids", "name at least one account, by id, external id or segment"
        )
    request = uuid.uuid4().hex[:12]
    who = actor.label
    at = timezone.now()
    occurrences = [
        Occurrence(
            pk, f"manual:{request}", "manual", f"run by hand by {who} at {at:%Y-%m-%d %H:%M} UTC"
        )
        for pk in sorted(targets)
    ]
    with transaction.atomic():
        counts = start_runs(play, occurrences, at)
    return {"counts": counts, "errors": errors, "request": request}
