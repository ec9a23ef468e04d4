"""The demo's plays, with the history they would have made.

* **Onboarding kickoff** — entered *New customers* (:mod:`tend.demo.segments`, each entry
  dated when the account signed up): a kickoff-call task for the Success Manager,
  due in 3 days, and an email telling them.
* **Risk outreach** — health rank changed to Poor, while paying: a high-priority task and the
  "at risk" tag.
* **Renewal prep** — 90 days before ``renewal_date``: a renewal task for the Success Manager,
  due a month before the renewal.

They are made and activated through the plays actions. History comes from the engine
itself: the first two start runs from their trigger's own backfill (the accounts already in
the segment / already ranked Poor, keyed by the change rows that put them there), the
renewal play from the date occurrences it would have fired on each of the last 90 days (the
same keys its trigger uses, so today's poll starts nothing twice), oldest first so run ids
follow time. The runs are advanced in-process, then runs, step logs, tasks, queued emails
and the plays themselves are dated back to when the trigger fired, as
``tend.demo.actions._backdate`` dates accounts. Past-due play tasks are mostly done, as the
team's other tasks are.
"""

import datetime
import random

from django.utils import timezone

from tend.accounts.models import Account
from tend.demo import vocabulary as v
from tend.health.models import HealthChange
from tend.outbox.models import Message
from tend.plays import triggers
from tend.plays.actions import create_play, set_status
from tend.plays.engine import Occurrence, advance_due, start_runs
from tend.plays.models import Play, PlayRun, PlayRunStep
from tend.segments.models import Segment, SegmentChange
from tend.work.actions import cancel_task, complete_task
from tend.work.models import Task
from tend.workspaces.access import Actor

RENEWAL_LEAD = 90  # days before the renewal date the play fires
RENEWAL_TASK_DUE = 60  # …and the task is due a month before the renewal
KICKOFF_DUE = 3
CSM = "success_manager"
PAYING = {"field": "status", "op": "eq", "value": "paying"}


def _midday(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _definitions(segment_id: int) -> list[dict]:
    return [
        {
            "name": "Onboarding kickoff",
            "description": "A kickoff call for every new customer, booked by their Success Manager.",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": segment_id}},
            "steps": [
                {
                    "kind": "create_task",
                    "config": {
                        "title": "Kickoff call with {{ account.name }}",
                        "description": (
                            "{{ account.name }} just became a customer.\n\n"
                            "- introduce yourself and the support channels\n"
                            "- agree on the success criteria for the first 90 days\n"
                            "- book the admin training"
                        ),
                        "type": "onboarding",
                        "priority": "high",
                        "due_in_days": KICKOFF_DUE,
                        "assignee_role": CSM,
                    },
                },
                {
                    "kind": "send_email",
                    "config": {
                        "to_roles": [CSM],
                        "subject": "New customer: {{ account.name }}",
                        "body": (
                            "Hi {{ account.assignments.success_manager.name }},\n\n"
                            "**{{ account.name }}** is a new customer. A kickoff-call task is in "
                            "your inbox, due in 3 days.\n\n— {{ play.name }}"
                        ),
                    },
                },
            ],
        },
        {
            "name": "Risk outreach",
            "description": "When a paying customer's health turns Poor, their CSM reaches out.",
            "trigger": {"kind": "health_changed", "config": {"to_rank": "poor"}},
            "condition": PAYING,
            "steps": [
                {
                    "kind": "create_task",
                    "config": {
                        "title": "Risk outreach: {{ account.name }}",
                        "description": (
                            "Health turned **Poor** (score {{ account.health.score }}).\n\n"
                            "- find out what changed: usage, tickets, people\n"
                            "- agree on a recovery plan with the champion"
                        ),
                        "type": "call",
                        "priority": "high",
                        "due_in_days": 2,
                        "assignee_role": CSM,
                    },
                },
                {"kind": "add_tag", "config": {"tag": "at risk"}},
            ],
        },
        {
            "name": "Renewal prep",
            "description": "Prepare every renewal a quarter ahead.",
            "trigger": {
                "kind": "date_relative",
                "config": {
                    "attribute": "renewal_date",
                    "days": RENEWAL_LEAD,
                    "direction": "before",
                },
            },
            "condition": PAYING,
            "steps": [
                {
                    "kind": "create_task",
                    "config": {
                        "title": "Renewal prep: {{ account.name }}",
                        "description": (
                            "The contract renews on **{{ account.attributes.renewal_date }}**.\n\n"
                            "- review usage and health since the last QBR\n"
                            "- confirm the decision maker\n"
                            "- send the renewal quote"
                        ),
                        "type": "renewal",
                        "priority": "normal",
                        "due_in_days": RENEWAL_TASK_DUE,
                        "assignee_role": CSM,
                    },
                },
            ],
        },
    ]


def _renewal_occurrences(workspace, today: datetime.date) -> tuple[list, dict]:
    """What the renewal play's trigger would have fired on each of the last 90 days."""
    occurrences, fired = [], {}
    horizon = today + datetime.timedelta(days=RENEWAL_LEAD)
    for pk, value, created in Account.objects.filter(
        workspace=workspace, attributes__renewal_date__isnull=False
    ).values_list("pk", "attributes__renewal_date", "created_at"):
        renewal = datetime.date.fromisoformat(value)
        day = renewal - datetime.timedelta(days=RENEWAL_LEAD)
        # Only days that have passed, for accounts that existed then.
        if not today < renewal <= horizon or _midday(day) < created:
            continue
        occurrences.append(
            Occurrence(
                pk,
                f"date:renewal_date:{renewal}",
                "date",
                f"{RENEWAL_LEAD} days before renewal_date (renewal_date = {renewal}), checked {day}",
            )
        )
        fired[pk] = _midday(day)
    return occurrences, fired


def build_plays(actor: Actor, today: datetime.date, seed: int = v.DEFAULT_SEED) -> dict:
    """Create, activate and run the demo's plays; returns counts for the command."""
    rng = random.Random(seed * 11 + 5)
    workspace = actor.workspace
    midday = _midday(today)
    earliest = midday - datetime.timedelta(days=RENEWAL_LEAD)
    segment = Segment.objects.get(workspace=workspace, name="New customers")
    plays = [create_play(actor, data) for data in _definitions(segment.pk)]
    onboarding, risk, renewal = plays
    # Activated without the actions' backfill so the runs can be started oldest first:
    # run ids then follow time, as the execution log (newest id first) expects. The
    # occurrences are the trigger's own backfill, so keys and causes are the real ones.
    for play in plays:
        set_status(actor, play, "active", backfill=False)
    now = timezone.now()
    segment_at = dict(SegmentChange.objects.filter(segment=segment).values_list("pk", "at"))
    health_at = dict(
        HealthChange.objects.filter(workspace=workspace, to_rank="poor").values_list(
            "pk", "changed_at"
        )
    )
    renewals, fired = _renewal_occurrences(workspace, today)
    moment = {
        onboarding.pk: lambda o: segment_at.get(o.cause_id, midday),
        risk.pk: lambda o: max(health_at.get(o.cause_id, midday), earliest),
        renewal.pk: lambda o: fired[o.account_id],
    }
    for play in plays:
        if play is renewal:
            occurrences = renewals
        else:
            kind, config = triggers.config_of(play)
            occurrences = kind.backfill(play, config, now)
        start_runs(play, sorted(occurrences, key=lambda o: (moment[play.pk](o), o.account_id)))
    advance_due(workspace.pk, budget_seconds=600)

    # When each run's trigger fired: the change row's time, or the renewal's day.
    runs = list(PlayRun.objects.filter(workspace=workspace))
    by_pk = {play.pk: play for play in plays}
    moment_of = {run.pk: min(moment[run.play_id](_occurrence_of(run)), now) for run in runs}
    first_run = {}
    for run in runs:
        first_run[run.play_id] = min(moment_of[run.pk], first_run.get(run.play_id, now))
    # The plays were switched on a day before their first run, set up a few days before that.
    for play_id, at in first_run.items():
        play = by_pk[play_id]
        play.activated_at = at - datetime.timedelta(days=1)
        play.created_at = play.updated_at = at - datetime.timedelta(days=rng.randint(2, 6))
    Play.objects.bulk_update(plays, ["activated_at", "created_at", "updated_at"])
    _backdate(workspace, runs, moment_of, today, rng)
    return {
        "plays": len(plays),
        "play_runs": len(runs),
        "play_tasks": Task.objects.filter(workspace=workspace, play_id__isnull=False).count(),
        "play_emails": Message.objects.filter(
            workspace=workspace, key__startswith="play-run:"
        ).count(),
    }


def _occurrence_of(run: PlayRun) -> Occurrence:
    return Occurrence(run.account_id, run.occurrence_key, run.cause_kind, run.cause, run.cause_id)


def _backdate(workspace, runs, moment_of, today, rng) -> None:
    offset = {run.pk: timezone.now() - moment_of[run.pk] for run in runs}
    for run in runs:
        shift = offset[run.pk]
        run.started_at -= shift
        if run.finished_at:
            run.finished_at -= shift
        if run.step_entered_at:
            run.step_entered_at -= shift
    PlayRun.objects.bulk_update(
        runs, ["started_at", "finished_at", "step_entered_at"], batch_size=500
    )
    logs = list(PlayRunStep.objects.filter(workspace=workspace))
    for entry in logs:
        entry.started_at -= offset[entry.run_id]
        entry.finished_at -= offset[entry.run_id]
    PlayRunStep.objects.bulk_update(logs, ["started_at", "finished_at"], batch_size=500)

    def run_of(key: str) -> int | None:
        # Step keys are "play-run:<run id>:step:<position>[…]".
        parts = key.split(":")
        return int(parts[1]) if len(parts) > 1 and parts[0] == "play-run" else None

    messages = list(Message.objects.filter(workspace=workspace, key__startswith="play-run:"))
    for message in messages:
        message.created_at -= offset[run_of(message.key)]
    Message.objects.bulk_update(messages, ["created_at"], batch_size=500)

    tasks = list(
        Task.objects.filter(workspace=workspace, play_id__isnull=False).select_related("assignee")
    )
    completed: dict[int, datetime.date] = {}
    due: dict[int, tuple[datetime.date, datetime.date]] = {}  # run id → (set, dated back)
    for task in tasks:
        run_id = run_of(task.key)
        # Due as many days after the trigger fired as the step says, not after the build day.
        moved = task.due_date - (today - timezone.localdate(moment_of[run_id]))
        due[run_id] = (task.due_date, moved)
        task.due_date = moved
        task.created_at -= offset[run_id]
        task.updated_at = task.created_at
    Task.objects.bulk_update(tasks, ["due_date", "created_at", "updated_at"], batch_size=500)
    # The step's log names the due date it set; name the one the task has now.
    entries = [e for e in logs if e.kind == "create_task" and e.run_id in due]
    for entry in entries:
        old, new = due[entry.run_id]
        entry.reason = entry.reason.replace(f"due {old:%Y-%m-%d}", f"due {new:%Y-%m-%d}")
    PlayRunStep.objects.bulk_update(entries, ["reason"], batch_size=500)
    # Most play tasks that fell due were done, a few cancelled; the rest are overdue.
    for task in tasks:
        if task.due_date >= today or rng.random() < 0.35:
            continue
        worker = Actor(workspace=workspace, member=task.assignee)
        (cancel_task if rng.random() < 0.1 else complete_task)(worker, task)
        completed[task.pk] = task.due_date - datetime.timedelta(days=rng.randint(0, 2))
    closed = list(Task.objects.filter(pk__in=list(completed)))
    for task in closed:
        task.completed_at = task.updated_at = max(_midday(completed[task.pk]), task.created_at)
    Task.objects.bulk_update(closed, ["completed_at", "updated_at"], batch_size=500)
