"""The demo's segments, with three months of membership history.

* **Enterprise renewing in 90 days** (shared, dynamic) — paying Enterprise customers whose
  renewal date is in the next 90 days.
* **Paying, no usage in 14 days** (shared, dynamic) — paying customers last seen more than
  14 days ago, or never.
* **Poor health, paying** (shared, dynamic) — paying customers ranked Poor.
* **New customers** (shared, dynamic) — paying customers who signed up in the last 180
  days; the "Onboarding kickoff" play (:mod:`tend.demo.plays`) watches it.
* **My quiet accounts** (the contributor's private segment) — accounts they manage that
  nobody has used for a week.
* **Executive sponsors engaged** (shared, static) — paying customers whose executive
  sponsor takes part: most came from an import twelve weeks ago, a CSM added more a month
  ago and took two off since.

History is made with the real actions. The segments that depend on time are evaluated at
noon every week for the last twelve weeks and then now, so accounts enter as their renewal
comes within 90 days or their silence passes 14 days (statuses, usage and health are only
known as they are now, so the replay makes entries; exits come as the data moves). Health
is only known as it is now, so "Poor health, paying" is evaluated once and each entry is
dated when the account's rank became Poor (from the replayed health history); likewise
"New customers" is evaluated once and each entry dated when the account signed up. The static
segment's additions and removal are dated back as ``tend.demo.actions._backdate`` dates
stages. Daily counts are then rebuilt from that history.
"""

import datetime

from django.utils import timezone

from tend.accounts.conditions import account_catalog
from tend.accounts.models import Account, Contact
from tend.demo import vocabulary as v
from tend.demo.generate import ascii_slug
from tend.health.models import AccountHealth
from tend.segments.actions import (
    add_accounts,
    create_segment,
    evaluate_segment,
    rebuild_counts,
    remove_accounts,
)
from tend.segments.models import Segment, SegmentChange, SegmentMember
from tend.workspaces.access import Actor
from tend.workspaces.models import Member

HISTORY_DAYS = 90
REPLAY_WEEKS = 12
SPONSORS_IMPORTED = 12
SPONSORS_ADDED_BY_HAND = 5
SPONSORS_REMOVED = 2

PAYING = {"field": "status", "op": "eq", "value": "paying"}
RENEWING = {
    "all": [
        PAYING,
        {"field": "attributes.plan", "op": "eq", "value": "Enterprise"},
        {"field": "attributes.renewal_date", "op": "within_next_days", "value": 90},
    ]
}
QUIET = {
    "all": [
        PAYING,
        {
            "any": [
                {"field": "usage.last_seen", "op": "more_than_days_ago", "value": 14},
                {"field": "usage.last_seen", "op": "is_not_set"},
            ]
        },
    ]
}
POOR = {"all": [PAYING, {"field": "health.rank", "op": "eq", "value": "poor"}]}
NEW_FOR_DAYS = 180
NEW_CUSTOMERS = {
    "all": [PAYING, {"field": "created_at", "op": "within_last_days", "value": NEW_FOR_DAYS}]
}


def _quiet_for(email: str) -> dict:
    return {
        "all": [
            {"field": "owner.success_manager", "op": "eq", "value": email},
            {
                "any": [
                    {"field": "usage.last_seen", "op": "more_than_days_ago", "value": 7},
                    {"field": "usage.last_seen", "op": "is_not_set"},
                ]
            },
        ]
    }


def build_segments(actor: Actor, today: datetime.date) -> dict:
    """Create the demo's segments and their history; returns counts for the command."""
    workspace = actor.workspace
    now = timezone.now()
    midday = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    latest = now if today == timezone.localdate(now) else midday
    contributor = Member.objects.get(workspace=workspace, user__email=f"contributor@{v.DOMAIN}")
    csm = Member.objects.get(workspace=workspace, user__email=f"{ascii_slug(v.CSMS[0])}@{v.DOMAIN}")

    def shared(name, description, condition):
        data = {"name": name, "description": description, "visibility": "shared"}
        return create_segment(actor, {**data, "condition": condition}, evaluate=False)

    renewing = shared(
        "Enterprise renewing in 90 days",
        "Paying Enterprise customers whose renewal is in the next 90 days.",
        RENEWING,
    )
    quiet = shared(
        "Paying, no usage in 14 days",
        "Paying customers nobody has used for two weeks (or ever).",
        QUIET,
    )
    poor = shared("Poor health, paying", "Paying customers ranked Poor.", POOR)
    new = shared(
        "New customers",
        f"Paying customers who signed up in the last {NEW_FOR_DAYS} days: still onboarding.",
        NEW_CUSTOMERS,
    )
    mine = create_segment(
        Actor(workspace=workspace, member=contributor),
        {
            "name": "My quiet accounts",
            "description": "Accounts I manage that nobody has used for a week, or ever.",
            "condition": _quiet_for(contributor.user.email),
        },
        evaluate=False,
    )
    catalog = account_catalog(workspace)
    for weeks in range(REPLAY_WEEKS, 0, -1):
        for segment in (renewing, quiet, mine):
            evaluate_segment(segment, now=midday - datetime.timedelta(weeks=weeks), catalog=catalog)
    for segment in (renewing, quiet, mine, poor, new):
        evaluate_segment(segment, now=latest, catalog=catalog)
    _date_entries_by_rank(poor, earliest=midday - datetime.timedelta(days=HISTORY_DAYS))
    _date_entries_by_signup(new, earliest=midday - datetime.timedelta(days=NEW_FOR_DAYS))
    sponsors = _sponsors(actor, csm, midday)
    segments = [renewing, quiet, poor, new, mine, sponsors]
    since = today - datetime.timedelta(days=HISTORY_DAYS)
    for segment in segments:
        rebuild_counts(segment, since, now=latest)
    return {
        "segments": len(segments),
        "segment_members": SegmentMember.objects.filter(workspace=workspace).count(),
        "segment_changes": SegmentChange.objects.filter(workspace=workspace).count(),
    }


def _date_entries_by_rank(segment: Segment, earliest: datetime.datetime) -> None:
    """Each entry into a health segment dated when the account's rank became what it is."""
    since = dict(
        AccountHealth.objects.filter(
            account__in=SegmentMember.objects.filter(segment=segment).values("account_id")
        ).values_list("account_id", "rank_since")
    )
    for account_id, moment in since.items():
        moment = max(moment, earliest)
        SegmentChange.objects.filter(segment=segment, account_id=account_id).update(at=moment)
        SegmentMember.objects.filter(segment=segment, account_id=account_id).update(
            entered_at=moment
        )


def _date_entries_by_signup(segment: Segment, earliest: datetime.datetime) -> None:
    """Each entry into "New customers" dated when the account signed up (its ``created_at``,
    dated back by ``tend.demo.actions._backdate``)."""
    signed_up = dict(
        Account.objects.filter(
            pk__in=SegmentMember.objects.filter(segment=segment).values("account_id")
        ).values_list("pk", "created_at")
    )
    for account_id, moment in signed_up.items():
        moment = max(moment, earliest)
        SegmentChange.objects.filter(segment=segment, account_id=account_id).update(at=moment)
        SegmentMember.objects.filter(segment=segment, account_id=account_id).update(
            entered_at=moment
        )


def _sponsors(actor: Actor, csm: Member, midday: datetime.datetime) -> Segment:
    """The static segment: paying accounts with an executive sponsor among their contacts,
    largest contracts first; imported, then added to and pruned by a CSM."""
    sponsors = create_segment(
        actor,
        {
            "name": "Executive sponsors engaged",
            "description": "Paying customers whose executive sponsor joins the business reviews.",
            "kind": "static",
            "visibility": "shared",
        },
    )
    with_sponsor = Contact.objects.filter(
        workspace=actor.workspace, role="Executive sponsor"
    ).values("account_id")
    candidates = list(
        Account.objects.filter(workspace=actor.workspace, status="paying", pk__in=with_sponsor)
        .order_by("-attributes__contract_value", "external_id")
        .values_list("external_id", flat=True)[: SPONSORS_IMPORTED + SPONSORS_ADDED_BY_HAND]
    )
    imported = candidates[:SPONSORS_IMPORTED]
    by_hand = candidates[SPONSORS_IMPORTED:]
    csm_actor = Actor(workspace=actor.workspace, member=csm)
    steps = [
        (84, lambda: add_accounts(actor, sponsors, external_ids=imported, source="import",
                                  reference="exec-sponsors-q2.csv")),
        (30, lambda: add_accounts(csm_actor, sponsors, external_ids=by_hand)),
        (12, lambda: remove_accounts(csm_actor, sponsors, external_ids=imported[-SPONSORS_REMOVED:])),
    ]  # fmt: skip
    for days_ago, step in steps:
        started = timezone.now()
        step()
        moment = midday - datetime.timedelta(days=days_ago)
        SegmentChange.objects.filter(segment=sponsors, at__gte=started).update(at=moment)
        SegmentMember.objects.filter(segment=sponsors, entered_at__gte=started).update(
            entered_at=moment
        )
    return sponsors
