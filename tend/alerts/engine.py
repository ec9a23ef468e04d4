"""Evaluating alert rules: poll each active rule's change kind from its cursor (the plays'
polling loop, ``tend.plays.polling``, with alerts' own delivery), and fire each occurrence
once per recipient, within the rule's rate limit.

Firing an occurrence (``fire``), in the poll's transaction:

1. the recipients (for the whole batch at once): members holding the rule's assignment roles on the account, the rule's
   named members, and — when the rule says so — the account's followers (and the
   segment's, for segment changes); only active members of the rule's workspace;
2. per recipient, an :class:`AlertFiring` row keyed (rule, occurrence key, recipient):
   if it exists, the occurrence was handled already (a re-read, a racing poller) and
   nothing happens;
3. the rate limit: if the recipient had ``max_per_hour`` sent firings of the rule in the
   last hour, the firing is stored as *suppressed* (counted on the rules page), not sent;
4. otherwise it is *sent*: an in-app notification (keyed, so never twice), an email
   through the outbox (keyed), and for the rule's Slack channel a job that posts it.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tend.accounts.models import Account, Assignment
from tend.alerts import kinds
from tend.alerts.models import SLACK, AlertFiring, AlertRule, FiringStatus, Follow
from tend.jobs.registry import enqueue
from tend.notifications.actions import notify
from tend.outbox.actions import queue_email
from tend.workspaces.models import Member

log = logging.getLogger("tend.alerts")
MAX_ROUNDS = 20
SLACK_JOB = "alerts.post_slack"
RATE_WINDOW = datetime.timedelta(hours=1)


def recipients(rule: AlertRule, account_ids, config) -> dict[int, list[Member]]:
    """{account id: the members to tell} for a batch of accounts, in a fixed number of
    queries (one per source of recipients, one for the members)."""
    wanted: dict[int, set[int]] = {pk: {int(m) for m in rule.members or []} for pk in account_ids}
    if rule.roles:
        for account_id, member_id in Assignment.objects.filter(
            workspace=rule.workspace, account_id__in=account_ids, role_id__in=rule.roles
        ).values_list("account_id", "member_id"):
            wanted[account_id].add(member_id)
    if rule.followers:
        for account_id, member_id in Follow.objects.filter(
            workspace=rule.workspace, account_id__in=account_ids
        ).values_list("account_id", "member_id"):
            wanted[account_id].add(member_id)
        segment_id = getattr(config, "segment_id", None)
        if segment_id:
            segment_followers = set(
                Follow.objects.filter(workspace=rule.workspace, segment_id=segment_id).values_list(
                    "member_id", flat=True
                )
            )
            for ids in wanted.values():
                ids |= segment_followers
    every = set().union(*wanted.values()) if wanted else set()
    if not every:
        return {}
    members = Member.objects.filter(
        workspace=rule.workspace, pk__in=every, is_active=True, user__is_active=True
    )
    found = {m.pk: m for m in members.select_related("user")}
    return {
        account_id: [found[m] for m in sorted(ids) if m in found]
        for account_id, ids in wanted.items()
    }


def _claim(rule, occurrence, recipient, member, account, now) -> AlertFiring | None:
    """Store the firing, sent or suppressed; None when it was stored before."""
    if AlertFiring.objects.filter(rule=rule, key=occurrence.key, recipient=recipient).exists():
        return None
    recent = AlertFiring.objects.filter(
        rule=rule, recipient=recipient, status=FiringStatus.SENT, at__gte=now - RATE_WINDOW
    ).count()
    status = FiringStatus.SENT if recent < rule.max_per_hour else FiringStatus.SUPPRESSED
    try:
        with transaction.atomic():
            return AlertFiring.objects.create(
                workspace=rule.workspace,
                rule=rule,
                key=occurrence.key[:200],
                recipient=recipient,
                member=member,
                account=account,
                cause=occurrence.cause[:500],
                status=status,
                at=now,
            )
    except IntegrityError:  # a racing poller stored it first
        return None


def _title(rule, account) -> str:
    return f"{rule.name}: {account.name}"


def _email_text(rule, account, occurrence, path) -> str:
    base = settings.TEND_BASE_URL
    return (
        f"{_title(rule, account)}\n\n"
        f"What happened: {occurrence.cause}.\n\n"
        f"Open the account: {base}{path}\n\n"
        f"You receive this because the alert rule {rule.name!r} names you, your role on the "
        "account, or an account or segment you follow. Stop following it on the account's page."
    )


def fire(rule: AlertRule, occurrences, config, now) -> dict:
    counts = {"sent": 0, "suppressed": 0, "duplicate": 0}
    account_ids = {o.account_id for o in occurrences}
    told = recipients(rule, account_ids, config)
    if not told and not rule.slack_url:
        return counts  # nobody to tell about any of these: no further queries
    accounts = Account.objects.filter(workspace=rule.workspace, pk__in=account_ids).in_bulk()
    for occurrence in occurrences:
        account = accounts.get(occurrence.account_id)
        if account is None:  # deleted since the change
            continue
        path = reverse("accounts:profile", args=[account.pk])
        for member in told.get(account.pk, []):
            firing = _claim(rule, occurrence, f"member:{member.pk}", member, account, now)
            if firing is None:
                counts["duplicate"] += 1
                continue
            counts[firing.status] += 1
            if firing.status != FiringStatus.SENT:
                continue
            key = f"alert:{rule.pk}:{occurrence.key}"[:200]
            if rule.in_app:
                notify(
                    member,
                    kind="alert",
                    title=_title(rule, account),
                    key=key,
                    account=account,
                    url=path,
                    cause=occurrence.cause,
                    now=now,
                )
            if rule.email and member.user.email:
                queue_email(
                    rule.workspace,
                    to=[member.user.email],
                    subject=_title(rule, account)[:200],
                    text=_email_text(rule, account, occurrence, path),
                    account_id=account.pk,
                    source=f"alert rule {rule.pk}",
                    key=f"{key}:member:{member.pk}"[:200],
                )
        if rule.slack_url:
            firing = _claim(rule, occurrence, SLACK, None, account, now)
            if firing is None:
                counts["duplicate"] += 1
                continue
            counts[firing.status] += 1
            if firing.status == FiringStatus.SENT:
                enqueue(
                    SLACK_JOB,
                    {"firing_id": firing.pk},
                    workspace_id=rule.workspace_id,
                    unique_key=f"{SLACK_JOB}:{firing.pk}",
                )
    return counts


def poll_rule(rule: AlertRule, now=None) -> dict:
    """Poll one rule until it has caught up (or ``MAX_ROUNDS`` batches); the same loop as
    ``tend.plays.polling.poll_play``: the cursor is stored with a conditional update, so two
    pollers racing store it once, and a re-read fires nothing (firings are unique)."""
    now = now or timezone.now()
    kind, config = kinds.config_of(rule)
    totals = {"sent": 0, "suppressed": 0, "duplicate": 0}
    stored = rule.trigger_cursor
    held = False
    for _ in range(MAX_ROUNDS):
        result = kind.poll(rule, config, now)
        with transaction.atomic():
            counts = fire(rule, result.occurrences, config, now) if result.occurrences else {}
            fields = {"polled_at": now}
            if result.cursor is not None and not held:
                settled = result.cursor if result.settled is None else result.settled
                fields["trigger_cursor"] = settled
                held = settled != result.cursor
            if result.state is not None:
                fields["trigger_state"] = result.state
            moved = AlertRule.objects.filter(
                pk=rule.pk, is_active=True, trigger_cursor=stored
            ).update(**fields)
            if not moved:
                transaction.set_rollback(True)
                return totals
        stored = fields.get("trigger_cursor", stored)
        for key, value in counts.items():
            totals[key] += value
        if result.state is not None:
            rule.trigger_state = result.state
        rule.polled_at = now
        rule.trigger_cursor = result.cursor if result.cursor is not None else stored
        if not result.more:
            break
    rule.trigger_cursor = stored
    return totals


def poll_workspace(workspace, now=None) -> dict:
    totals = {"sent": 0, "suppressed": 0, "duplicate": 0}
    for rule in AlertRule.objects.filter(workspace=workspace, is_active=True).select_related(
        "workspace"
    ):
        try:
            counts = poll_rule(rule, now)
        except Exception:  # one broken rule must not hold up the others; the job log shows it
            log.exception("polling alert rule %s failed", rule.pk)
            continue
        for key, value in counts.items():
            totals[key] += value
    return totals
