"""Tasks and touchpoints from files (Data → Imports; registered with the data hub by
``tend.work.imports``).

Both take items of text as a file has them — blank cells included — and answer one entry
per item, in order: ``{"status": "created" | "updated" | "unchanged"}`` or ``{"status":
"error", "errors": [{"field", "message"}]}``. They run inside the hub's chunk transaction.

A row is keyed by its ``external_id``, stored as the task's or touchpoint's idempotency key
``import:<external id>`` (a namespace of its own: plays' keys never collide with a file's),
so importing a file twice creates nothing twice; a known key is updated with the row's
non-blank cells (a blank cell keeps what is stored, as for accounts). A row never moves a
task or touchpoint to another account. Validation is the same as through the pages and the
API (``tasks._fields``, ``touchpoints._fields``).
"""

import datetime

from django.db import transaction
from django.utils import timezone

from tend.accounts.bulk.sql import select_by_keys
from tend.accounts.models import Account
from tend.lib.dates import zone
from tend.lib.errors import InvalidInput
from tend.work.actions import tasks, touchpoints
from tend.work.models import Task, TaskStatus, Touchpoint
from tend.workspaces.access import CONTRIBUTE, Actor
from tend.workspaces.models import Member

PREFIX = "import:"
EXTERNAL_ID_MAX = tasks.KEY_MAX - len(PREFIX)


def _text(item: dict, field: str) -> str:
    value = item.get(field)
    return value.strip() if isinstance(value, str) else ""


def _date(field: str, text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(
            text[:10] if len(text) > 10 and text[10] in "T " else text
        )
    except ValueError:
        raise InvalidInput(field, f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _moment(field: str, text: str, tz) -> datetime.datetime:
    """An ISO date (midnight) or date and time; without an offset, in the workspace's zone."""
    try:
        if len(text) <= 10:
            moment = datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time(0))
        else:
            moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not a date or a date and time (expected ISO 8601)"
        ) from None
    return moment.replace(tzinfo=tz) if timezone.is_naive(moment) else moment


def _members_by_email(workspace, items: list[dict], field: str) -> dict[str, Member]:
    emails = {_text(i, field).lower() for i in items if _text(i, field)}
    if not emails:
        return {}
    return {
        m.user.email.lower(): m
        for m in Member.objects.filter(workspace=workspace, user__email__in=emails).select_related(
            "user"
        )
    }


def _common(workspace, items: list[dict], model):
    """Each item's key and account, or its error; the stored ``model`` rows by key; and the
    external ids of their accounts (to say where a row that would move lives)."""
    accounts = {
        k: r[1]
        for k, r in select_by_keys(
            Account,
            workspace.id,
            {_text(i, "account_external_id") for i in items},
            ("external_id", "id"),
        ).items()
    }
    resolved: list[tuple[str, int] | dict] = []
    for item in items:
        external_id, account = _text(item, "external_id"), _text(item, "account_external_id")
        if not external_id:
            resolved.append(
                {"status": "error", "errors": [{"field": "external_id", "message": "is required"}]}
            )
        elif len(external_id) > EXTERNAL_ID_MAX:
            resolved.append(
                {
                    "status": "error",
                    "errors": [
                        {
                            "field": "external_id",
                            "message": f"is longer than {EXTERNAL_ID_MAX} characters",
                        }
                    ],
                }
            )
        elif not account:
            resolved.append(
                {
                    "status": "error",
                    "errors": [{"field": "account_external_id", "message": "is required"}],
                }
            )
        elif account not in accounts:
            resolved.append(
                {
                    "status": "error",
                    "errors": [
                        {
                            "field": "account_external_id",
                            "message": f"no account with external id {account!r}",
                        }
                    ],
                }
            )
        else:
            resolved.append((PREFIX + external_id, accounts[account]))
    keys = [r[0] for r in resolved if isinstance(r, tuple)]
    stored = {o.key: o for o in model.objects.filter(workspace=workspace, key__in=keys)}
    account_keys = dict(
        Account.objects.filter(
            workspace=workspace, pk__in={o.account_id for o in stored.values()}
        ).values_list("pk", "external_id")
    )
    return resolved, stored, account_keys


def _lookup(found, stored: dict, account_keys: dict) -> dict | tuple:
    """An item's entry when it is settled already (its error, or a stored row of another
    account), else its key, account id and stored row (None: new). Read at the item's turn:
    a row created by an earlier item of the batch counts as stored."""
    if isinstance(found, dict):
        return found
    key, account_id = found
    record = stored.get(key)
    return _moved(record, account_id, account_keys) or (key, account_id, record)


def _error(exc: InvalidInput) -> dict:
    return {"status": "error", "errors": [{"field": exc.field, "message": exc.message}]}


def _moved(stored, account_id: int, keys: dict[int, str]) -> dict | None:
    if stored is not None and stored.account_id != account_id:
        return {
            "status": "error",
            "errors": [
                {
                    "field": "account_external_id",
                    "message": f"is on account {keys.get(stored.account_id, stored.account_id)!r}; an import does not move it",
                }
            ],
        }
    return None


# --- tasks --------------------------------------------------------------------------------------


def import_tasks(actor: Actor, items: list[dict], *, source: str = "") -> list[dict]:
    """Items: ``external_id``, ``account_external_id``, ``title`` (required for a new task),
    ``description``, ``type``, ``priority``, ``due_date`` (default today), ``assignee`` (a
    member's email), ``status`` (open, done, cancelled)."""
    actor.require(CONTRIBUTE)
    workspace = actor.workspace
    resolved, stored, account_keys = _common(workspace, items, Task)
    members = _members_by_email(workspace, items, "assignee")
    today = timezone.now().astimezone(zone(workspace.time_zone)).date()
    entries = []
    for item, found in zip(items, resolved, strict=True):
        looked_up = _lookup(found, stored, account_keys)
        if isinstance(looked_up, dict):
            entries.append(looked_up)
            continue
        key, account_id, task = looked_up
        try:
            data = {}
            for name in ("title", "description"):
                if _text(item, name):
                    data[name] = _text(item, name)
            for name in ("type", "priority"):
                if _text(item, name):
                    data[name] = _text(item, name).lower()
            if _text(item, "due_date"):
                data["due_date"] = _date("due_date", _text(item, "due_date"))
            email = _text(item, "assignee").lower()
            if email:
                if email not in members:
                    raise InvalidInput(
                        "assignee", f"no member with email {email!r} in this workspace"
                    )
                data["assignee"] = members[email]
            values = tasks._fields(workspace, data)
            status = _text(item, "status").lower()
            if status:
                tasks._choice("status", status, TaskStatus)
            if task is None and "title" not in values:
                raise InvalidInput("title", "is required for a new task")
        except InvalidInput as exc:
            entries.append(_error(exc))
            continue
        now = timezone.now()
        if task is None:
            values.setdefault("due_date", today)
            values.update(
                created_by=actor.member,
                source=f"import:{source}"[: tasks.SOURCE_MAX],
                created_at=now,
                updated_at=now,
            )
            task, _ = tasks._insert(
                workspace, Account(pk=account_id, workspace=workspace), values, key
            )
            if status and status != TaskStatus.OPEN:
                tasks.TRANSITIONS[status](task, actor, now)
                tasks._save(task, now)
            stored[key] = task
            entries.append({"status": "created"})
            continue
        changed = {n: v for n, v in values.items() if getattr(task, n) != v}
        if not changed and (not status or status == task.status):
            entries.append({"status": "unchanged"})
            continue
        for name, value in changed.items():
            setattr(task, name, value)
        if status and status != task.status:
            tasks.TRANSITIONS[status](task, actor, now)
        tasks._save(task, now)
        entries.append({"status": "updated"})
    return entries


# --- touchpoints --------------------------------------------------------------------------------


def import_touchpoints(actor: Actor, items: list[dict], *, source: str = "") -> list[dict]:
    """Items: ``external_id``, ``account_external_id``, ``subject`` (required for a new one),
    ``type`` (a type's key; default note), ``occurred_at`` (ISO date or date and time, in
    the workspace's time zone unless it says; default now), ``body``, ``sentiment``."""
    actor.require(CONTRIBUTE)
    workspace = actor.workspace
    tz = zone(workspace.time_zone)
    resolved, stored, account_keys = _common(workspace, items, Touchpoint)
    entries = []
    for item, found in zip(items, resolved, strict=True):
        looked_up = _lookup(found, stored, account_keys)
        if isinstance(looked_up, dict):
            entries.append(looked_up)
            continue
        key, account_id, touchpoint = looked_up
        account = Account(pk=account_id, workspace=workspace)
        try:
            data = {}
            for name in ("subject", "body"):
                if _text(item, name):
                    data[name] = _text(item, name)
            for name in ("type", "sentiment"):
                if _text(item, name):
                    data[name] = _text(item, name).lower()
            if _text(item, "occurred_at"):
                data["occurred_at"] = _moment("occurred_at", _text(item, "occurred_at"), tz)
            if touchpoint is None:
                data.setdefault("type", touchpoints.TouchpointKind.NOTE)
            values, _ = touchpoints._fields(workspace, account, data)
            if touchpoint is None and "subject" not in values:
                raise InvalidInput("subject", "is required for a new touchpoint")
        except InvalidInput as exc:
            entries.append(_error(exc))
            continue
        now = timezone.now()
        if touchpoint is None:
            values.setdefault("occurred_at", now)
            values.update(
                author=actor.member,
                author_label="" if actor.member else actor.label,
                source=f"import:{source}"[: tasks.SOURCE_MAX],
                created_at=now,
                updated_at=now,
            )
            with transaction.atomic():
                stored[key], _ = touchpoints._insert(workspace, account, values, {}, key)
            entries.append({"status": "created"})
            continue
        changed = {n: v for n, v in values.items() if getattr(touchpoint, n) != v}
        if not changed:
            entries.append({"status": "unchanged"})
            continue
        for name, value in changed.items():
            setattr(touchpoint, name, value)
        touchpoint.updated_at = now
        touchpoint.save()
        if "body" in changed:
            touchpoints._record_mentions(touchpoint)
        entries.append({"status": "updated"})
    return entries
