"""The dry run and "why not?". Neither writes anything.

* :func:`dry_run` — for a play in any status: the accounts its trigger would fire for now,
  whether each passes the condition and the run policy, and what each step would do.
* :func:`why_not` — for one play and one account: which of status, trigger, condition, run
  policy or a failed step stopped it (or that it ran, and how that went).
"""

from django.utils import timezone

from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account
from tend.plays import steps, triggers
from tend.plays.engine import account_context, matching_ids, policy_blocks
from tend.plays.models import Play, PlayRun, PlayStatus, PlayStep, RunStatus

DRY_RUN_LIMIT = 50
LABELS = {
    "status": "Status",
    "trigger": "Trigger",
    "condition": "Condition",
    "run_policy": "Run policy",
    "last_decision": "Last decision",
    "step": "Last run",
}


def describe_steps(play: Play, account: Account, ctx, rows=None) -> list[dict]:
    """What each step would do for the account; ``rows`` are the play's steps when the
    caller has read them already."""
    out = []
    if rows is None:
        rows = PlayStep.objects.filter(play=play).order_by("position")
    for step in rows:
        kind = steps.get(step.kind)
        try:
            config = steps.parse_config(kind, step.config, "config")
            described = kind.describe(config, ctx)
        except Exception as exc:  # a stale config is shown, not raised
            described = {"summary": f"this step's configuration is no longer valid: {exc}"}
        out.append({"position": step.position, "kind": step.kind, **described})
    return out


def dry_run(play: Play, *, limit: int = DRY_RUN_LIMIT, offset: int = 0, now=None) -> dict:
    """What the play would do now; at most ``limit`` accounts (from ``offset``, for a page)
    are described step by step, all are counted."""
    now = now or timezone.now()
    kind, config = triggers.config_of(play)
    candidates = kind.candidates(play, config, now)
    ids = [pk for pk, _why in candidates]
    catalog = account_catalog(play.workspace) if play.condition else None
    matching = matching_ids(play, ids, now, catalog)
    blocked = policy_blocks(play, ids, now)
    would_run = [pk for pk in ids if pk in matching and pk not in blocked]
    shown = candidates[offset : offset + limit]
    accounts = Account.objects.select_related("stage", "workspace").in_bulk(
        [pk for pk, _ in shown]
    )
    rows = list(PlayStep.objects.filter(play=play).order_by("position"))
    items = []
    for pk, why in shown:
        account = accounts.get(pk)
        if account is None:
            continue
        item = {
            "account_id": pk,
            "external_id": account.external_id,
            "name": account.name,
            "trigger": why,
        }
        if pk not in matching:
            item.update(
                would_run=False, reason="condition: the account does not match the play's condition"
            )
        elif pk in blocked:
            item.update(would_run=False, reason=blocked[pk])
        else:
            item.update(
                would_run=True,
                reason="",
                steps=describe_steps(play, account, account_context(account, now, catalog), rows),
            )
        items.append(item)
    notes = []
    if play.status != PlayStatus.ACTIVE:
        notes.append(f"The play is {play.status}: nothing runs until it is activated.")
    if not kind.polled:
        notes.append("A manual play runs only for the accounts you choose; the dry run lists none.")
    return {
        "triggered": len(candidates),
        "would_run": len(would_run),
        "items": items,
        "notes": notes,
    }


def why_not(play: Play, account: Account, now=None) -> dict:
    """``{"verdict", "stopped_by", "checks": [{"check", "ok", "message"}], "last_run"}``;
    ``stopped_by`` names the first check that failed (status, trigger, condition, run_policy,
    step) or is null when the play ran for the account."""
    now = now or timezone.now()
    checks = []

    def add(name, ok, message):
        checks.append({"check": name, "label": LABELS[name], "ok": ok, "message": message})

    runs = PlayRun.objects.filter(play=play, account=account).order_by("-started_at", "-id")
    last = runs.first()
    last_started = runs.exclude(status=RunStatus.SKIPPED).first()

    if play.status == PlayStatus.ACTIVE:
        add("status", True, "the play is active")
    else:
        add(
            "status",
            False,
            {
                PlayStatus.DRAFT: "the play is a draft: drafts never run — activate it",
                PlayStatus.PAUSED: "the play is paused: nothing new starts and open runs wait until it is resumed",
                PlayStatus.ARCHIVED: "the play is archived",
            }[play.status],
        )
    kind, config = triggers.config_of(play)
    fired, trigger_message = kind.explain(play, config, account, now)
    if last is not None and not fired:
        fired, trigger_message = True, f"triggered: {last.cause}"
    add("trigger", fired, trigger_message)
    matches = bool(matching_ids(play, [account.pk], now))
    add(
        "condition",
        matches,
        "the account matches the play's condition now"
        if play.condition and matches
        else "the play has no condition"
        if not play.condition
        else "the account does not match the play's condition now",
    )
    blocked = policy_blocks(play, [account.pk], now).get(account.pk)
    add("run_policy", not blocked, blocked or "the run policy allows a new run for this account")
    if last is not None and last.status == RunStatus.SKIPPED:
        add("last_decision", False, f"the last trigger ({last.cause}) was skipped: {last.reason}")
    if last_started is not None and last_started.status == RunStatus.FAILED:
        add("step", False, f"run {last_started.pk} failed: {last_started.reason}")
    elif last_started is not None:
        due = (
            f"{last_started.next_due_at:%Y-%m-%d %H:%M} UTC"
            if last_started.next_due_at
            else "its next step"
        )
        state = {
            RunStatus.DONE: "finished",
            RunStatus.RUNNING: "is running",
            RunStatus.WAITING: f"is waiting until {due}",
            RunStatus.CANCELLED: f"was cancelled: {last_started.reason}",
        }.get(last_started.status, last_started.status)
        add("step", True, f"run {last_started.pk} {state}")
    stopped = next((c["check"] for c in checks if not c["ok"]), None)
    if stopped == "last_decision":
        stopped = "condition" if last.reason.startswith("condition") else "run_policy"
    if stopped is None:
        verdict = (
            f"It ran: {checks[-1]['message']}."
            if last_started
            else "Nothing stopped it; it has not been triggered for this account yet."
        )
    else:
        verdict = next(c["message"] for c in checks if not c["ok"])
        verdict = f"Stopped by {LABELS[stopped].lower()}: {verdict.removeprefix('run policy: ').removeprefix('condition: ')}."
    return {
        "verdict": verdict,
        "stopped_by": stopped,
        "checks": checks,
        "last_run_id": last.pk if last else None,
    }
