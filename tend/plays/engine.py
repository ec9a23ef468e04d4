"""Starting runs and moving them through their steps.

Starting (:func:`start_runs`), for a batch of trigger occurrences of one play:

1. drop occurrences that already have a run (the occurrence key is unique per play and
   account, so a duplicate trigger never makes a second run);
2. evaluate the play's condition on the accounts, in one query per batch;
3. apply the run policy (once per occurrence, once per account ever, at most every N days);
4. insert the runs — ``running`` and due now, or ``skipped`` with the reason — and ask for
   an ``advance`` job once the transaction commits.

Advancing (:func:`advance_due`): the run row is the queue row. A worker claims a due run
of an active play with a conditional update setting its lease, then runs its steps one by
one. After each step, one transaction writes the log row and moves the run on, guarded by
the lease; a worker killed between the step and that transaction leaves the lease to
expire, and the step runs again with the same idempotency key (``run_key``), so it does
nothing twice.
"""

import datetime
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from tend.accounts.conditions import account_catalog, account_records, condition_now
from tend.accounts.models import Account
from tend.events import emit
from tend.jobs.registry import enqueue
from tend.lib.conditions import compile_q, evaluate
from tend.plays import steps
from tend.plays.models import (
    OPEN_RUN_STATUSES,
    Outcome,
    Play,
    PlayRun,
    PlayRunStep,
    PlayStatus,
    PlayStep,
    RunPolicy,
    RunStatus,
)
from tend.plays.steps.base import AccountContext, Branch, Done, Fail, Retry, StepContext, Wait
from tend.workspaces.access import system_actor

log = logging.getLogger("tend.plays")

ADVANCE_JOB = "plays.advance_due"
BATCH = 1000
CLAIM_BATCH = 100
GROUP_STEPS = 200
GROUP_SECONDS = 0.25
ACTIVE_RECHECK_SECONDS = 1.0
MAX_STEP_ATTEMPTS = 5
# A step with its own retry schedule (outgoing HTTP: 8 attempts over ~27 h) gives up itself;
# this only bounds a schedule that never ends (re-runs after kills count as attempts too).
OWN_SCHEDULE_MAX_ATTEMPTS = 50
LEASE = datetime.timedelta(minutes=5)
RETRY_BASE_SECONDS = 60


@dataclass(frozen=True)
class Occurrence:
    """One thing that happened to one account and may start a run."""

    account_id: int
    key: str
    cause_kind: str
    cause: str
    cause_id: int | None = None


def run_key(run: PlayRun, position: int) -> str:
    """The idempotency key a step receives: stable per (run, step)."""
    return f"play-run:{run.pk}:step:{position}"


def request_advance(workspace_id: int, due_at: datetime.datetime | None = None) -> None:
    """After the current transaction commits, have a worker advance the workspace's due runs."""
    transaction.on_commit(
        lambda: enqueue(
            ADVANCE_JOB,
            {"workspace_id": workspace_id},
            workspace_id=workspace_id,
            due_at=due_at,
            unique_key=f"{ADVANCE_JOB}:{workspace_id}",
        )
    )


# --- Conditions --------------------------------------------------------------------------


def matching_ids(
    play: Play, account_ids: list[int], now: datetime.datetime, catalog=None
) -> set[int]:
    """Which of ``account_ids`` satisfy the play's condition now (all, without one)."""
    if not play.condition:
        return set(account_ids)
    catalog = catalog or account_catalog(play.workspace)
    compiled = compile_q(play.condition, catalog, condition_now(play.workspace, now))
    found: set[int] = set()
    for start in range(0, len(account_ids), BATCH):
        chunk = account_ids[start : start + BATCH]
        found.update(
            compiled.filter(
                Account.objects.filter(workspace=play.workspace, pk__in=chunk)
            ).values_list("pk", flat=True)
        )
    return found


def account_context(account: Account, now: datetime.datetime, catalog=None) -> AccountContext:
    """What steps read about one account; ``matches`` is the pure evaluator on its record."""
    workspace = account.workspace
    local_now = condition_now(workspace, now)
    state = {"catalog": catalog}

    def matches(condition) -> bool:
        if state["catalog"] is None:
            state["catalog"] = account_catalog(workspace)
        queryset = Account.objects.filter(pk=account.pk)
        record = account_records(state["catalog"], queryset, local_now, condition).get(
            account.pk, {}
        )
        return evaluate(condition, record, local_now)

    return AccountContext(account=account, now=local_now, matches=matches)


# --- Run policy --------------------------------------------------------------------------


def policy_blocks(play: Play, account_ids: list[int], now: datetime.datetime) -> dict[int, str]:
    """``{account id: reason}`` for the accounts the run policy keeps from a new run."""
    if play.run_policy == RunPolicy.ONCE_PER_OCCURRENCE or not account_ids:
        return {}
    runs = PlayRun.objects.filter(play=play, account_id__in=account_ids).exclude(
        status=RunStatus.SKIPPED
    )
    if play.run_policy == RunPolicy.EVERY_N_DAYS:
        runs = runs.filter(started_at__gt=now - datetime.timedelta(days=play.policy_days or 1))
    blocked: dict[int, str] = {}
    for account_id, pk, started in runs.order_by("started_at").values_list(
        "account_id", "pk", "started_at"
    ):
        if play.run_policy == RunPolicy.ONCE_PER_ACCOUNT:
            why = f"run policy: once per account, and it already ran for this account (run {pk}, {started:%Y-%m-%d %H:%M} UTC)"
        else:
            why = (
                f"run policy: at most every {play.policy_days} days, and it ran for this account "
                f"on {started:%Y-%m-%d %H:%M} UTC (run {pk})"
            )
        blocked[account_id] = why
    return blocked


# --- Starting runs -----------------------------------------------------------------------


def start_runs(
    play: Play, occurrences: Iterable[Occurrence], now: datetime.datetime | None = None
) -> dict:
    """Start (or record skipping) a run for each new occurrence; see the module docstring.
    Returns counts: ``started``, ``skipped``, ``duplicate``."""
    now = now or timezone.now()
    occurrences = list({(o.account_id, o.key): o for o in occurrences}.values())
    counts = {"started": 0, "skipped": 0, "duplicate": 0}
    first = play.steps.order_by("position").values_list("position", flat=True).first()
    catalog = account_catalog(play.workspace) if play.condition else None
    for start in range(0, len(occurrences), BATCH):
        chunk = occurrences[start : start + BATCH]
        with transaction.atomic():
            _start_chunk(play, chunk, now, first, catalog, counts)
    if counts["started"]:
        request_advance(play.workspace_id)
    return counts


def _start_chunk(play, chunk, now, first, catalog, counts) -> None:
    ids = sorted({o.account_id for o in chunk})
    existing_accounts = set(
        Account.objects.filter(workspace=play.workspace, pk__in=ids).values_list("pk", flat=True)
    )
    seen = set(
        PlayRun.objects.filter(
            play=play, account_id__in=ids, occurrence_key__in={o.key for o in chunk}
        ).values_list("account_id", "occurrence_key")
    )
    fresh = [
        o for o in chunk if (o.account_id, o.key) not in seen and o.account_id in existing_accounts
    ]
    counts["duplicate"] += len(chunk) - len(fresh)
    if not fresh:
        return
    fresh_ids = sorted({o.account_id for o in fresh})
    matching = matching_ids(play, fresh_ids, now, catalog)
    blocked = policy_blocks(play, fresh_ids, now)
    once = play.run_policy == RunPolicy.ONCE_PER_ACCOUNT
    rows, starting = [], set()
    for o in fresh:
        reason = ""
        if o.account_id not in matching:
            reason = (
                "condition: the account did not match the play's condition when it was triggered"
            )
        elif o.account_id in blocked:
            reason = blocked[o.account_id]
        elif play.run_policy != RunPolicy.ONCE_PER_OCCURRENCE and o.account_id in starting:
            reason = (
                "run policy: another occurrence in the same batch started a run for this account"
            )
        started = not reason
        if started:
            starting.add(o.account_id)
        done_now = started and first is None
        rows.append(
            PlayRun(
                workspace_id=play.workspace_id,
                play=play,
                account_id=o.account_id,
                occurrence_key=o.key,
                policy_key="once" if started and once else None,
                status=(RunStatus.DONE if done_now else RunStatus.RUNNING)
                if started
                else RunStatus.SKIPPED,
                cause_kind=o.cause_kind,
                cause_id=o.cause_id,
                cause=o.cause[:300],
                reason=reason if not done_now else "the play has no steps",
                current_position=first if started else None,
                step_entered_at=now if started else None,
                next_due_at=now if started and not done_now else None,
                started_at=now,
                finished_at=None if started and not done_now else now,
            )
        )
    # ignore_conflicts: a concurrent poller that inserted the same occurrence (or a
    # once-per-account run) wins; this batch's copy is dropped by the unique constraints.
    PlayRun.objects.bulk_create(rows, ignore_conflicts=True)
    counts["started"] += sum(1 for r in rows if r.status == RunStatus.RUNNING)
    counts["skipped"] += sum(1 for r in rows if r.status == RunStatus.SKIPPED)


# --- Advancing runs ----------------------------------------------------------------------


def _due_runs(workspace_id: int, now: datetime.datetime):
    return PlayRun.objects.filter(
        workspace_id=workspace_id,
        status__in=OPEN_RUN_STATUSES,
        next_due_at__lte=now,
        play__status=PlayStatus.ACTIVE,
    ).filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))


def claim_batch(
    worker: str, now: datetime.datetime, workspace_id: int, limit: int = CLAIM_BATCH
) -> list[PlayRun]:
    """Claim up to ``limit`` due runs of active plays of the workspace, oldest due first.

    One ``UPDATE`` sets the lease on all of them, repeating the claimability test in its
    ``WHERE`` clause, so a run another worker took in between is simply not ours. On
    PostgreSQL the candidates are locked first with ``FOR UPDATE SKIP LOCKED``: workers pass
    each other instead of waiting on (or deadlocking over) the same rows.
    """
    due = _due_runs(workspace_id, now)
    ordered = due.order_by("next_due_at", "id").values_list("pk", flat=True)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ordered = ordered.select_for_update(skip_locked=True, of=("self",))
        ids = list(ordered[:limit])
        if not ids:
            return []
        due.filter(pk__in=ids).update(
            locked_by=worker, locked_until=now + LEASE, status=RunStatus.RUNNING
        )
    return list(
        PlayRun.objects.filter(pk__in=ids, locked_by=worker)
        .select_related("play__workspace", "account__workspace", "account__stage")
        .order_by("next_due_at", "id")
    )


def claim_due(
    play_ids: Iterable[int] | None, worker: str, now: datetime.datetime, workspace_id: int
) -> PlayRun | None:
    """Claim one due run of an active play of the workspace, or None."""
    runs = claim_batch(worker, now, workspace_id, limit=1)
    return runs[0] if runs else None


class _Group:
    """One open transaction holding the steps that only write to this database (step kinds
    with ``local = True``: a task, a queued email, a tag…) of several runs, each step with
    its log row and the run's move. Committing a few hundred steps at once instead of each
    on its own is what makes a mass entry fast (SQLite syncs the disk on every commit); and
    since a step's effect and its log row commit together, a killed worker leaves neither.
    The group commits after ``GROUP_STEPS`` steps or ``GROUP_SECONDS`` (SQLite has one
    writer at a time), and before any step that talks to the outside world, so no
    transaction is held open over the network."""

    def __init__(self):
        self._atomic = None
        self._opened = 0.0
        self._steps = 0

    def enter(self) -> None:
        if self._atomic is None:
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
            self._opened = time.monotonic()
            self._steps = 0

    def commit(self) -> None:
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(None, None, None)

    def rollback(self, exc: BaseException) -> None:
        if self._atomic is not None:
            atomic, self._atomic = self._atomic, None
            atomic.__exit__(type(exc), exc, exc.__traceback__)

    def tick(self, steps: int = 1) -> None:
        self._steps += steps
        if self._steps >= GROUP_STEPS or time.monotonic() - self._opened > GROUP_SECONDS:
            self.commit()


class _Pass:
    """What one worker's pass over a workspace's due runs reads once: each play's steps, the
    condition catalog, and whether a play is still active (checked again after a second)."""

    def __init__(self):
        self.steps_of: dict[int, dict] = {}
        self.catalog = None
        self.active_at: dict[int, float] = {}
        self.group = _Group()
        self.actors: dict[int, object] = {}

    def actor(self, play: Play):
        if play.workspace_id not in self.actors:
            self.actors[play.workspace_id] = system_actor(play.workspace)
        return self.actors[play.workspace_id]

    def steps(self, play_id: int) -> dict:
        if play_id not in self.steps_of:
            self.steps_of[play_id] = {
                s.position: s for s in PlayStep.objects.filter(play_id=play_id)
            }
        return self.steps_of[play_id]

    def still_active(self, play_id: int) -> bool:
        checked = self.active_at.get(play_id)
        if checked is not None and time.monotonic() - checked < ACTIVE_RECHECK_SECONDS:
            return True
        active = Play.objects.filter(pk=play_id, status=PlayStatus.ACTIVE).exists()
        if active:
            self.active_at[play_id] = time.monotonic()
        return active


def advance_due(workspace_id: int, *, budget_seconds: float = 50.0) -> int:
    """Advance the workspace's due runs, a claimed batch at a time, until none is due or the
    budget is spent; return how many runs were advanced.

    Stopping on the budget, it releases the runs of the batch it did not reach and asks for
    another pass due at this pass's start: the continuation keeps its place in the queue
    ahead of the jobs this pass made (each queued email's delivery), which run after it.
    """
    worker = f"advance:{uuid.uuid4().hex[:8]}"
    started = timezone.now()
    clock = time.monotonic()
    advanced = 0
    state = _Pass()
    try:
        while True:
            runs = claim_batch(worker, timezone.now(), workspace_id)
            if not runs:
                break
            _advance_together(runs, worker, state)
            for i, run in enumerate(runs):
                if run.locked_by != worker or run.status not in OPEN_RUN_STATUSES:
                    advanced += 1  # moved to its end (or a wait) together with others
                    continue
                if time.monotonic() - clock > budget_seconds:
                    state.group.commit()
                    PlayRun.objects.filter(
                        pk__in=[r.pk for r in runs[i:]], locked_by=worker
                    ).update(locked_by="", locked_until=None)
                    request_advance(workspace_id, due_at=started)
                    return advanced
                advance(run, worker, state.steps(run.play_id), state)
                advanced += 1
            state.group.commit()
    except BaseException as exc:
        state.group.rollback(exc)
        raise
    state.group.commit()
    return advanced


class _NotAllOwned(Exception):
    """Some runs of a group lost their lease: undo the group's step, go run by run."""


def _advance_together(runs: list[PlayRun], worker: str, state: _Pass) -> None:
    """Move the claimed runs that stand at the same step of the same play through it
    together, while that step's kind has ``run_many`` (a task, an email: one read of what
    the accounts need, one insert of what they get): the mass entry's fast path. Runs it
    cannot take — a retry, a kind without ``run_many``, a config ``run_many`` declines, a
    group of one — are left where they are for :func:`advance`, run by run."""
    moving = list(runs)
    while moving:
        groups: dict[tuple[int, int], list[PlayRun]] = {}
        for run in moving:
            step = state.steps(run.play_id).get(run.current_position)
            if step is None or run.step_attempts or run.status not in OPEN_RUN_STATUSES:
                continue
            try:
                kind = steps.get(step.kind)
            except LookupError:
                continue
            if getattr(kind, "run_many", None) is not None:
                groups.setdefault((run.play_id, step.position), []).append(run)
        moving = []
        for (play_id, position), group in groups.items():
            if len(group) > 1 and state.still_active(play_id):
                moving += _step_together(group, state.steps(play_id)[position], worker, state)


def _step_together(group: list[PlayRun], step: PlayStep, worker: str, state: _Pass) -> list:
    """Run ``step`` for every run of ``group`` with one ``run_many`` call, then write the log
    rows and move the runs on, all in one savepoint; return the runs that go on now."""
    kind = steps.get(step.kind)
    try:
        config = steps.parse_config(kind, step.config, "config")
    except (LookupError, ValueError):
        return []  # advance() records the failure, run by run
    play = group[0].play
    actor = state.actor(play)
    started = timezone.now()
    if state.catalog is None:
        state.catalog = account_catalog(play.workspace)
    ctxs = []
    for run in group:
        base = account_context(run.account, started, state.catalog)
        ctxs.append(
            StepContext(
                account=run.account,
                now=base.now,
                matches=base.matches,
                config=config,
                play=play,
                run=run,
                position=step.position,
                key=run_key(run, step.position),
                attempt=1,
                entered_at=run.step_entered_at,
                actor=actor,
                catalog=state.catalog,
            )
        )
    steps_by_position = state.steps(play.pk)
    state.group.enter()
    try:
        with transaction.atomic():
            results = kind.run_many(ctxs)
            if results is None:
                return []
            moves = _record_together(group, step, worker, results, started, steps_by_position)
    except _NotAllOwned:
        return []
    except Exception:
        log.exception("play %s step %s: run_many raised; going run by run", play.pk, step.position)
        return []
    state.group.tick(len(group))
    for run, fields in zip(group, moves, strict=True):
        for name, value in fields.items():
            setattr(run, name, value)
    return [r for r, f in zip(group, moves, strict=True) if f.get("current_position") is not None and f.get("status") != RunStatus.WAITING]


def _record_together(group, step, worker, results, started, steps_by_position) -> list[dict]:
    """:func:`_record` for a group: each run's fields, one guarded ``UPDATE`` per distinct
    outcome (usually one: every run done, on to the next step) and one insert of the log
    rows. A run whose lease is gone makes the whole group undo (``_NotAllOwned``)."""
    now = timezone.now()
    moves, rows = [], []
    by_fields: dict[tuple, list[int]] = {}
    for run, result in zip(group, results, strict=True):
        entry, fields, _go_on = _outcome(run, step, result, 1, now, steps_by_position)
        moves.append(fields)
        by_fields.setdefault(tuple(sorted(fields.items())), []).append(run.pk)
        rows.append(
            PlayRunStep(
                run=run,
                position=step.position,
                attempt=1,
                workspace_id=run.workspace_id,
                step=step,
                kind=step.kind,
                started_at=started,
                finished_at=now,
                **{k: str(v)[:1000] if k == "reason" else v for k, v in entry.items()},
            )
        )
    for fields, ids in by_fields.items():
        moved = (
            PlayRun.objects.filter(
                pk__in=ids,
                locked_by=worker,
                status__in=OPEN_RUN_STATUSES,
                current_position=step.position,
            ).update(**dict(fields))
        )
        if moved != len(ids):
            raise _NotAllOwned()
    PlayRunStep.objects.bulk_create(rows)
    return moves


def _owned(run: PlayRun, worker: str):
    return PlayRun.objects.filter(pk=run.pk, locked_by=worker, status__in=OPEN_RUN_STATUSES)


def advance(
    run: PlayRun, worker: str, steps_by_position: dict | None = None, state: "_Pass | None" = None
) -> None:
    """Run the claimed run's steps until it waits, fails, ends, or its play stops."""
    play = run.play
    if steps_by_position is None:
        steps_by_position = {s.position: s for s in PlayStep.objects.filter(play=play)}
    own_state = state is None
    state = state or _Pass()
    actor = state.actor(play)
    # The claim read the account; a step that may change it makes the next step read it again.
    account = run.account if "account" in run._state.fields_cache else None
    try:
        while True:
            # The claim checked the play was active, but a batch's later runs start a little
            # after it: every step checks again (at most once a second per play in a pass).
            if not state.still_active(play.pk):
                # Paused mid-run: leave it due; resuming picks it up where it stopped.
                _owned(run, worker).update(locked_by="", locked_until=None)
                return
            step = steps_by_position.get(run.current_position)
            if step is None:
                _finish(run, worker, RunStatus.DONE, "")
                return
            try:
                kind = steps.get(step.kind)
            except LookupError:
                kind = None  # _run_step records the failure
            if getattr(kind, "local", False):
                state.group.enter()
            else:
                state.group.commit()
            result, attempt, started = _run_step(run, step, actor, state, account)
            if kind is None or getattr(kind, "changes_account", True):
                account = None
            if not _record(run, step, worker, result, attempt, started, steps_by_position):
                return
            state.group.tick()
    finally:
        if own_state:
            state.group.commit()


def _run_step(run: PlayRun, step: PlayStep, actor, state: _Pass, account: Account | None = None):
    attempt = run.step_attempts + 1
    started = timezone.now()
    try:
        kind = steps.get(step.kind)
        config = steps.parse_config(kind, step.config, "config")
        if account is None:
            account = Account.objects.select_related("stage", "workspace").get(pk=run.account_id)
        if state.catalog is None:
            state.catalog = account_catalog(account.workspace)
        base = account_context(account, started, state.catalog)
        ctx = StepContext(
            account=account,
            now=base.now,
            matches=base.matches,
            config=config,
            play=run.play,
            run=run,
            position=step.position,
            key=run_key(run, step.position),
            attempt=attempt,
            entered_at=run.step_entered_at,
            actor=actor,
            catalog=state.catalog,
        )
        if connection.in_atomic_block:
            # In a group (a local step): a savepoint, so a step that fails half-way leaves
            # nothing behind and the group's other steps stand.
            with transaction.atomic():
                result = kind.run(ctx)
        else:
            result = kind.run(ctx)
    except Account.DoesNotExist:
        result = Fail("the account was deleted")
    except (LookupError, ValueError) as exc:
        result = Fail(f"the step's configuration is no longer valid: {exc}")
    except Exception as exc:  # an unexpected error is retried, then recorded as permanent
        log.exception("play run %s step %s raised", run.pk, step.position)
        result = Retry(f"{type(exc).__name__}: {exc}")
    return result, attempt, started


def _next_position(steps_by_position: dict, after: int) -> int | None:
    later = [p for p in steps_by_position if p > after]
    return min(later) if later else None


def _outcome(run, step, result, attempt, now, steps_by_position) -> tuple[dict, dict, bool]:
    """What a step's result makes of the run: ``(log entry, run fields, go on now?)``."""
    entry = dict(outcome=Outcome.DONE, permanent=False, reason="", detail={})
    fields: dict = {}
    go_on = False
    if isinstance(result, Done):
        entry.update(reason=result.summary, detail=result.detail)
        fields = _move(steps_by_position, _next_position(steps_by_position, step.position), now)
        go_on = fields["current_position"] is not None
    elif isinstance(result, Branch):
        target = result.position
        if target is not None and target not in steps_by_position:
            result = Fail(f"the branch names step {target}, which does not exist")
        else:
            entry.update(
                outcome=Outcome.BRANCH, reason=result.summary, detail={"next_position": target}
            )
            fields = _move(steps_by_position, target, now)
            go_on = fields["current_position"] is not None
    elif isinstance(result, Wait):
        entry.update(
            outcome=Outcome.WAIT, reason=result.summary, detail={"until": result.until.isoformat()}
        )
        fields = _move(steps_by_position, _next_position(steps_by_position, step.position), now)
        if fields["current_position"] is not None:
            fields.update(
                status=RunStatus.WAITING, next_due_at=result.until, step_entered_at=result.until
            )
    if isinstance(result, Retry):
        limit = OWN_SCHEDULE_MAX_ATTEMPTS if result.own_schedule else MAX_STEP_ATTEMPTS
        if attempt >= limit:
            result = Fail(f"gave up after {attempt} attempts: {result.reason}")
        else:
            due = result.at or now + datetime.timedelta(
                seconds=RETRY_BASE_SECONDS * 2 ** (attempt - 1)
            )
            entry.update(
                outcome=Outcome.RETRY, reason=result.reason, detail={"retry_at": due.isoformat()}
            )
            fields = dict(
                status=RunStatus.WAITING,
                next_due_at=due,
                step_attempts=attempt,
                reason=result.reason,
            )
    if isinstance(result, Fail):
        entry.update(outcome=Outcome.FAILED, permanent=True, reason=result.reason)
        fields = dict(
            status=RunStatus.FAILED,
            next_due_at=None,
            finished_at=now,
            reason=f"step {step.position} ({step.kind}) failed: {result.reason}",
        )
    if fields.get("current_position", "unset") is None:
        fields.update(status=RunStatus.DONE, next_due_at=None, finished_at=now)
    if fields.get("status") in (RunStatus.WAITING, RunStatus.DONE, RunStatus.FAILED):
        fields.update(locked_by="", locked_until=None)
    else:
        fields["locked_until"] = now + LEASE
    return entry, fields, go_on


def _record(run, step, worker, result, attempt, started, steps_by_position) -> bool:
    """Write the log row and move the run on, in one transaction guarded by the lease.
    Returns whether to go on with the next step now."""
    now = timezone.now()
    entry, fields, go_on = _outcome(run, step, result, attempt, now, steps_by_position)
    with transaction.atomic():
        moved = _owned(run, worker).filter(current_position=step.position).update(**fields)
        if not moved:
            log.warning(
                "play run %s: lease lost before step %s was recorded", run.pk, step.position
            )
            return False
        # Only the lease holder gets here (the guarded update above), once per attempt: a
        # killed worker recorded nothing, so its re-run's attempt number is still free.
        if isinstance(result, Fail):
            emit(
                run.workspace_id,
                "play.step_failed",
                {
                    "play": {"id": run.play_id},
                    "run": {"id": run.pk},
                    "account": {"id": run.account_id},
                    "step": {"position": step.position, "kind": step.kind},
                    "reason": str(result.reason)[:1000],
                },
                at=now,
            )
        PlayRunStep.objects.create(
            run=run,
            position=step.position,
            attempt=attempt,
            workspace_id=run.workspace_id,
            step=step,
            kind=step.kind,
            started_at=started,
            finished_at=now,
            **{k: str(v)[:1000] if k == "reason" else v for k, v in entry.items()},
        )
    for name, value in fields.items():
        setattr(run, name, value)
    return go_on


def _move(steps_by_position: dict, position: int | None, now) -> dict:
    return dict(
        current_position=position, step_attempts=0, step_entered_at=now, next_due_at=now, reason=""
    )


def _finish(run: PlayRun, worker: str, status: str, reason: str) -> None:
    _owned(run, worker).update(
        status=status,
        reason=reason,
        next_due_at=None,
        finished_at=timezone.now(),
        locked_by="",
        locked_until=None,
    )
