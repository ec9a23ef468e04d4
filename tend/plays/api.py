"""``/plays``: create, change, activate, pause and archive plays; dry-run them; run them by
hand; read their runs with each step's log, and ask why a play did not run for an account.

Reads need the read scope; changes and runs the write scope (viewers get 403). Another
workspace's play answers 404. Bad input answers 422 naming the field.
"""

import datetime
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.accounts.models import Account
from tend.accounts.schemas import Strict
from tend.lib.api_schemas import ERRORS
from tend.lib.cursor import encode_cursor, id_cursor
from tend.lib.errors import InvalidInput
from tend.plays import steps, triggers
from tend.plays.actions import create_play, run_play_now, set_status, update_play
from tend.plays.explain import dry_run, why_not
from tend.plays.models import PlayRunStep, PlayStep
from tend.plays.queries import get_play, plays_with_counts, runs_of
from tend.workspaces.access import READ, WRITE

router = Router(tags=["plays"])

StatusName = Literal["draft", "active", "paused", "archived"]
PolicyName = Literal["once_per_occurrence", "once_per_account", "every_n_days"]
TRIGGER_HELP = 'The trigger: {"kind": …, "config": {…}}; GET /plays/kinds lists the kinds and their configs.'
STEPS_HELP = 'The steps in order: [{"kind": …, "config": {…}}]; positions are 1, 2, 3 …'


class TriggerIn(Strict):
    kind: str
    config: dict = Field(default_factory=dict)


class StepIn(Strict):
    kind: str
    config: dict = Field(default_factory=dict)


class PlayIn(Strict):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=1000)
    trigger: TriggerIn = Field(..., description=TRIGGER_HELP)
    condition: dict | None = Field(None, description="Checked on the account when the trigger fires (docs/conditions.md).")
    steps: list[StepIn] = Field(default_factory=list, description=STEPS_HELP)
    run_policy: PolicyName = "once_per_occurrence"
    policy_days: int | None = Field(None, description="With every_n_days: the N.")
    owner_id: int | None = None


class PlayPatch(Strict):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=1000)
    trigger: TriggerIn | None = None
    condition: dict | None = None
    steps: list[StepIn] | None = None
    run_policy: PolicyName | None = None
    policy_days: int | None = None
    owner_id: int | None = None


class StatusIn(Strict):
    # Optional in the schema so that an id of another workspace answers 404 before the
    # body is judged; the handler requires it.
    status: StatusName | None = None
    backfill: bool | None = Field(
        None,
        description="Activating for the first time: true runs the play for accounts already matching its trigger; false only for new occurrences. Required then.",
    )


class RunIn(Strict):
    account_ids: list[int] = Field(default_factory=list)
    external_ids: list[str] = Field(default_factory=list)
    segment_id: int | None = Field(None, description="Run for every member of this segment.")


class StepOut(Schema):
    position: int
    kind: str
    config: dict


class OwnerOut(Schema):
    id: int
    name: str
    email: str


class PlayOut(Schema):
    id: int
    name: str
    description: str
    status: StatusName
    trigger: dict
    condition: dict | None
    steps: list[StepOut]
    run_policy: PolicyName
    policy_days: int | None
    owner: OwnerOut | None
    activated_at: datetime.datetime | None
    polled_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PlaySummary(Schema):
    id: int
    name: str
    status: StatusName
    trigger_kind: str
    runs: int = Field(..., description="Runs started (skipped decisions not counted).")
    open_runs: int
    failed_runs: int
    last_run_at: datetime.datetime | None


class PlayPage(Schema):
    items: list[PlaySummary]
    next_cursor: str | None


class StatusOut(Schema):
    play: PlayOut
    backfill: dict | None = Field(None, description="Counts of the backfill: started, skipped, duplicate.")


class LogOut(Schema):
    position: int
    kind: str
    attempt: int
    outcome: str
    permanent: bool
    reason: str
    detail: dict
    started_at: datetime.datetime
    finished_at: datetime.datetime


class RunOut(Schema):
    id: int
    account_id: int
    account_external_id: str
    status: str
    cause_kind: str
    cause_id: int | None
    cause: str
    reason: str
    current_position: int | None
    next_due_at: datetime.datetime | None
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    log: list[LogOut]


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


class RunFilters(Schema):
    account_external_id: str | None = None
    status: Literal["running", "waiting", "done", "failed", "skipped", "cancelled"] | None = None
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = None


class PlayFilters(Schema):
    status: StatusName | None = None
    limit: int = Field(settings.TEND_PAGE_SIZE_DEFAULT, ge=1, le=settings.TEND_PAGE_SIZE_MAX)
    cursor: str | None = None


class RunNowOut(Schema):
    counts: dict
    errors: list[dict]
    request: str


class DryRunIn(Strict):
    limit: int = Field(50, ge=1, le=500, description="Accounts described step by step (all are counted).")


class DryRunOut(Schema):
    triggered: int
    would_run: int
    items: list[dict[str, Any]]
    notes: list[str]


class WhyNotOut(Schema):
    verdict: str
    stopped_by: Literal["status", "trigger", "condition", "run_policy", "step"] | None
    checks: list[dict]
    last_run_id: int | None


class WhyNotParams(Schema):
    # Required by the handler, after the play is found (404 first for another workspace).
    account_external_id: str | None = None


class KindOut(Schema):
    kind: str
    label: str
    config_schema: dict


class KindsOut(Schema):
    triggers: list[KindOut]
    steps: list[KindOut]


def play_out(play, actor) -> dict:
    owner = play.owner
    return {
        "id": play.pk,
        "name": play.name,
        "description": play.description,
        "status": play.status,
        "trigger": {"kind": play.trigger_kind, "config": play.trigger_config},
        "condition": play.condition,
        "steps": [
            {"position": s.position, "kind": s.kind, "config": steps.shown_config(s.kind, s.config, actor)}
            for s in PlayStep.objects.filter(play=play).order_by("position")
        ],
        "run_policy": play.run_policy,
        "policy_days": play.policy_days,
        "owner": {"id": owner.pk, "name": owner.name, "email": owner.user.email} if owner else None,
        "activated_at": play.activated_at,
        "polled_at": play.polled_at,
        "created_at": play.created_at,
        "updated_at": play.updated_at,
    }


def _payload(model) -> dict:
    data = model.dict(exclude_unset=True)
    for name in ("trigger",):
        if name in data and data[name] is None:
            raise InvalidInput(name, "must not be null")
    return data


@router.get("/plays/kinds", response={200: KindsOut, **ERRORS}, summary="Trigger and step kinds")
def list_kinds(request):
    """Every trigger and step kind with the JSON schema of its config."""
    request.auth.require(READ)
    return {
        "triggers": [{"kind": k, "label": t.label, "config_schema": t.Config.model_json_schema()} for k, t in triggers.kinds().items()],
        "steps": [{"kind": k, "label": s.label, "config_schema": s.Config.model_json_schema()} for k, s in steps.kinds().items()],
    }


@router.get("/plays", response={200: PlayPage, **ERRORS}, summary="List plays")
def list_plays(request, filters: Query[PlayFilters]):
    """The workspace's plays with their run counts, by id."""
    actor = request.auth
    actor.require(READ)
    plays = plays_with_counts(actor)
    if filters.status:
        plays = plays.filter(status=filters.status)
    after = id_cursor(filters.cursor)
    if after is not None:
        plays = plays.filter(id__gt=after)
    rows = list(plays.order_by("id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {
        "items": [
            {
                "id": p.pk, "name": p.name, "status": p.status, "trigger_kind": p.trigger_kind,
                "runs": p.runs_total, "open_runs": p.runs_open, "failed_runs": p.runs_failed, "last_run_at": p.last_run_at,
            }
            for p in rows
        ],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.post("/plays", response={201: PlayOut, **ERRORS}, summary="Create a play (as a draft)")
def post_play(request, payload: PlayIn):
    play = create_play(request.auth, _payload(payload))
    return Status(201, play_out(get_play(request.auth, play.pk), request.auth))


@router.get("/plays/{int:id}", response={200: PlayOut, **ERRORS}, summary="Get a play")
def get_one(request, id: int):
    return play_out(get_play(request.auth, id), request.auth)


@router.patch("/plays/{int:id}", response={200: PlayOut, **ERRORS}, summary="Change a play")
def patch_play(request, id: int, payload: PlayPatch):
    actor = request.auth
    play = get_play(actor, id, WRITE)
    update_play(actor, play, _payload(payload))
    return play_out(get_play(actor, id), actor)


@router.post(
    "/plays/{int:id}/status",
    response={200: StatusOut, **ERRORS},
    summary="Activate, pause, resume or archive a play",
    description="Activating a play for the first time requires `backfill` (true or false).",
)
def post_status(request, id: int, payload: StatusIn):
    actor = request.auth
    play = get_play(actor, id, WRITE)
    if payload.status is None:
        raise InvalidInput("status", "is required")
    result = set_status(actor, play, payload.status, backfill=payload.backfill)
    return {"play": play_out(get_play(actor, id), actor), "backfill": result["backfill"]}


@router.post(
    "/plays/{int:id}/dry-run",
    response={200: DryRunOut, **ERRORS},
    summary="What the play would do now",
    description="For a play in any status: the accounts its trigger would fire for now and what each step would do. Writes nothing.",
)
def post_dry_run(request, id: int, payload: DryRunIn | None = None):
    play = get_play(request.auth, id)
    return dry_run(play, limit=payload.limit if payload else 50)


@router.post(
    "/plays/{int:id}/run",
    response={200: RunNowOut, **ERRORS},
    summary="Run an active play now for chosen accounts",
    description="By account ids, external ids, or a segment's members. Each call is a new occurrence; the condition and run policy still apply. Unknown accounts are reported per item in `errors`.",
)
def post_run(request, id: int, payload: RunIn):
    actor = request.auth
    play = get_play(actor, id, WRITE)
    return run_play_now(actor, play, account_ids=payload.account_ids, external_ids=payload.external_ids, segment_id=payload.segment_id)


def _account(actor, external_id: str) -> Account:
    account = Account.objects.filter(workspace=actor.workspace, external_id=external_id).select_related("workspace", "stage").first()
    if account is None:
        raise InvalidInput("account_external_id", f"no account with external id {external_id!r}")
    return account


@router.get(
    "/plays/{int:id}/runs",
    response={200: RunPage, **ERRORS},
    summary="A play's runs with their step log",
    description="Newest first; skipped runs say why (condition or run policy).",
)
def list_runs(request, id: int, filters: Query[RunFilters]):
    actor = request.auth
    play = get_play(actor, id)
    runs = runs_of(play)
    if filters.account_external_id is not None:
        runs = runs.filter(account=_account(actor, filters.account_external_id))
    if filters.status:
        runs = runs.filter(status=filters.status)
    after = id_cursor(filters.cursor)
    if after is not None:
        runs = runs.filter(id__lt=after)
    rows = list(runs.order_by("-id")[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    logs: dict[int, list] = {}
    for entry in PlayRunStep.objects.filter(run__in=[r.pk for r in rows]).order_by("started_at", "id"):
        logs.setdefault(entry.run_id, []).append(entry)
    return {
        "items": [
            {
                "id": r.pk, "account_id": r.account_id, "account_external_id": r.account.external_id,
                "status": r.status, "cause_kind": r.cause_kind, "cause_id": r.cause_id, "cause": r.cause,
                "reason": r.reason, "current_position": r.current_position, "next_due_at": r.next_due_at,
                "started_at": r.started_at, "finished_at": r.finished_at,
                "log": [
                    {
                        "position": e.position, "kind": e.kind, "attempt": e.attempt, "outcome": e.outcome,
                        "permanent": e.permanent, "reason": e.reason, "detail": e.detail,
                        "started_at": e.started_at, "finished_at": e.finished_at,
                    }
                    for e in logs.get(r.pk, [])
                ],
            }
            for r in rows
        ],
        "next_cursor": encode_cursor({"id": rows[-1].pk}) if more else None,
    }


@router.get(
    "/plays/{int:id}/why-not",
    response={200: WhyNotOut, **ERRORS},
    summary="Why the play did (not) run for an account",
    description="Checks status, trigger, condition, run policy and the last run's steps; `stopped_by` names the first that stopped it.",
)
def get_why_not(request, id: int, params: Query[WhyNotParams]):
    actor = request.auth
    play = get_play(actor, id)
    if not params.account_external_id:
        raise InvalidInput("account_external_id", "is required")
    return why_not(play, _account(actor, params.account_external_id))

