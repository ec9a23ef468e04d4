"""What the steps that talk to people and other systems share (send_email, call_webhook,
post_slack, create_task): the account as plain template data, checking and rendering a
member's templates, and turning an outgoing-HTTP result into the engine's result.

Not a step kind itself: it registers nothing.
"""

import datetime

from django.utils import timezone

from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account, Assignment, AssignmentRole
from tend.lib.errors import InvalidInput
from tend.lib.outgoing import Outcome, retry_delay
from tend.outbox.rendering import TemplateError, check_template, render_template
from tend.plays.delivery_models import DeliveryStatus, StepDelivery
from tend.plays.steps.base import Done, Fail, Retry

HEALTH_KEYS = ("health.rank", "health.score")
DATA_KEPT_SECONDS = 60


def _health(account: Account, now: datetime.datetime, catalog=None) -> dict:
    """The account's health rank and score when the workspace scores health, read through the
    condition catalog (one or two queries), else both None."""
    catalog = catalog or account_catalog(account.workspace)
    names = set(catalog)
    keys = [key for key in HEALTH_KEYS if key in names]
    if not keys:
        return {"rank": None, "score": None}
    record = catalog.records(Account.objects.filter(pk=account.pk), now, keys).get(account.pk) or {}
    return {"rank": record.get("health.rank"), "score": record.get("health.score")}


def _plain(value):
    """JSON-like values as templates and payloads take them (dates as ISO text)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def account_data(account: Account, now: datetime.datetime, catalog=None) -> dict:
    """The account as plain data: what templates and webhook payloads see. ``catalog``: the
    workspace's condition catalog when the caller has it (the engine builds one per pass).

    Kept on the account instance for a minute: a run's steps share the instance (the engine
    reads the account again after a step that may change it), so a task and an email in a
    row read the assignments and health once."""
    cached = getattr(account, "_plays_data", None)
    if cached is not None and abs((cached[0] - now).total_seconds()) < DATA_KEPT_SECONDS:
        return cached[1]
    data = _account_data(account, now, catalog)
    account._plays_data = (now, data)
    return data


def _account_data(account: Account, now, catalog, assignments=None, health=None) -> dict:
    if assignments is None:
        assignments = {
            a.role.key: {"name": a.member.name, "email": a.member.user.email}
            for a in Assignment.objects.filter(account=account).select_related("role", "member__user")
        }
    if health is None:
        health = _health(account, now, catalog)
    return {
        "id": account.pk,
        "name": account.name,
        "external_id": account.external_id,
        "status": account.status,
        "stage": account.stage.name if account.stage_id else None,
        "attributes": _plain(account.attributes or {}),
        "health": _plain(health),
        "assignments": assignments,
    }


def prime_account_data(accounts: list[Account], now: datetime.datetime, catalog=None) -> None:
    """:func:`account_data` for many accounts of one workspace in two or three queries (the
    engine advancing many runs at one step), kept on each instance as ``account_data``
    keeps it."""
    todo = [a for a in accounts if getattr(a, "_plays_data", None) is None]
    if not todo:
        return
    ids = [a.pk for a in todo]
    assignments: dict[int, dict] = {pk: {} for pk in ids}
    for a in Assignment.objects.filter(account_id__in=ids).select_related("role", "member__user"):
        assignments[a.account_id][a.role.key] = {"name": a.member.name, "email": a.member.user.email}
    catalog = catalog or account_catalog(todo[0].workspace)
    keys = [key for key in HEALTH_KEYS if key in set(catalog)]
    records = catalog.records(Account.objects.filter(pk__in=ids), now, keys) if keys else {}
    for account in todo:
        record = records.get(account.pk) or {}
        health = {"rank": record.get("health.rank"), "score": record.get("health.score")}
        data = _account_data(account, now, catalog, assignments[account.pk], health)
        account._plays_data = (now, data)


def play_data(play, run) -> dict:
    return {
        "play": {"id": play.pk, "name": play.name} if play is not None else None,
        "run": {"id": run.pk, "started_at": run.started_at.isoformat()}
        if run is not None
        else None,
    }


def template_context(ctx) -> dict:
    """``{"account": …, "play": …, "run": …, "workspace": …}`` for a step's templates; a dry
    run (no play or run yet) gets ``play`` and ``run`` as None."""
    return {
        "account": account_data(ctx.account, ctx.now, getattr(ctx, "catalog", None)),
        **play_data(getattr(ctx, "play", None), getattr(ctx, "run", None)),
        "workspace": {"name": ctx.workspace.name},
    }


def check_templates(**templates: str | None) -> None:
    """Raise ``InvalidInput`` naming the first template (by its config field) that would not
    compile; the message carries the line."""
    for field, text in templates.items():
        if text:
            check_template(text, field)


def render(text: str, context: dict, field: str, *, autoescape: bool = False) -> str:
    return render_template(text, context, autoescape=autoescape, field=field)


def check_role(workspace, key: str, field: str) -> None:
    if not AssignmentRole.objects.filter(workspace=workspace, key=key).exists():
        raise InvalidInput(field, f"no assignment role with key {key!r}")


def template_failure(exc: TemplateError) -> Fail:
    where = f" (line {exc.line})" if exc.line else ""
    return Fail(f"the {exc.field} template could not be rendered{where}: {exc.message}")


def http_result(result, attempt: int, what: str, detail: dict) -> Done | Retry | Fail:
    """An outgoing-HTTP ``Result`` as the engine's result: delivered → done; retry → again
    after the outgoing backoff schedule (a longer ``Retry-After`` wins); permanent or gone →
    a permanent failure with the reason."""
    detail = {
        **detail,
        "status_code": result.status_code,
        "elapsed_ms": round(result.elapsed * 1000),
    }
    if result.outcome is Outcome.DELIVERED:
        return Done(f"{what}: {result.reason}", detail)
    if result.outcome is Outcome.RETRY:
        wait = retry_delay(attempt, retry_after=result.retry_after)
        if wait is None:
            return Fail(f"gave up after {attempt} attempts: {result.reason}")
        return Retry(result.reason, at=timezone.now() + wait, own_schedule=True)
    if result.outcome is Outcome.GONE:
        return Fail(f"the receiver says this URL is gone; update the step: {result.reason}")
    return Fail(result.reason)


def webhook_id(step_key: str) -> str:
    """The step run's key as a Standard Webhooks message id (letters, digits, '-', '_')."""
    return "msg_" + step_key.replace(":", "_")


def deliver_once(ctx, *, url: str, make_body, send, what: str) -> Done | Retry | Fail:
    """Send ``make_body()`` to ``url`` once per step run: the first attempt stores the
    delivery row (keyed by the step run's key) with the bytes, and every later attempt sends those same
    bytes; a delivery already taken — a re-run after a worker died before the run moved
    on — is not sent again. ``send(url, body, message_id)`` returns an outgoing ``Result``.
    """
    delivery = StepDelivery.objects.filter(workspace=ctx.workspace, key=ctx.key).first()
    if delivery is None:
        delivery, _ = StepDelivery.objects.get_or_create(
            workspace=ctx.workspace,
            key=ctx.key,
            defaults=dict(run=ctx.run, position=ctx.position, kind=what, url=url, body=make_body()),
        )
    detail = {"delivery_id": delivery.pk, "url": url, "webhook_id": webhook_id(ctx.key)}
    if delivery.status == DeliveryStatus.DELIVERED:
        return Done(
            f"{what}: already delivered at {delivery.delivered_at:%Y-%m-%d %H:%M:%S} UTC, not sent again",
            {**detail, "status_code": delivery.last_status_code},
        )
    if delivery.status == DeliveryStatus.FAILED:
        return Fail(delivery.last_reason or "the delivery failed")
    result = send(url, bytes(delivery.body), webhook_id(ctx.key))
    attempts = delivery.attempts + 1
    mapped = http_result(result, attempts, what, detail)
    now = timezone.now()
    status = DeliveryStatus.PENDING
    if isinstance(mapped, Done):
        status = DeliveryStatus.DELIVERED
    elif isinstance(mapped, Fail):
        status = DeliveryStatus.FAILED
    StepDelivery.objects.filter(pk=delivery.pk).update(
        url=url,
        attempts=attempts,
        status=status,
        last_status_code=result.status_code,
        last_reason=(mapped.summary if isinstance(mapped, Done) else mapped.reason)[:1000],
        last_attempt_at=now,
        delivered_at=now if status == DeliveryStatus.DELIVERED else None,
    )
    return mapped
