"""A small workspace with a churn history, for the back-test's tests: every figure worked out
by hand for the classic rule (Good: used on 4+ of the last 14 days; Poor: not used in 14
days; Average: the rest), 30 days before the churn.

Today is ``T``. Every account was used on day T-100, so the usage history starts there and
accounts can be scored as of T-71 onwards. Three paying accounts churned on T-10, so they are
scored as of T-40, on days T-53..T-40:

==============  =====================  ==========================  ===================
account          status history         used in T-53..T-40          rank as of T-40
==============  =====================  ==========================  ===================
gone-idle        paying → churned T-10  never                       Poor
gone-quiet       paying → churned T-10  never                       Poor
gone-fading      paying → churned T-10  2 days                      Average
stays-1 … 3      paying                 5 days                      Good
stays-idle       paying                 never                       Poor (false alarm)
converted        trial → paying T-20    5 days                      not paying then
gone-long-ago    paying → churned T-95  (as of T-125: before the usage history)
gone-trial       trial → churned T-10   (not paying as of T-40)
still-trial      trial                  (not compared: not paying)
==============  =====================  ==========================  ===================

Churned ranked Poor 2/3, Average 1/3; false alarms 1 of 4; ROC AUC of the score (churned
0, 0, 60 against stayed 100, 100, 100, 0): each churned 0 beats three stayed and ties one
(3.5), the 60 beats three (3): 10 / 12.
"""

import datetime

from django.utils import timezone

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.models import Account, StatusChange
from tend.health import sources
from tend.lib.dates import MS_PER_DAY, date_of
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import Source
from tend.usage.rollups import roll_up

CHURNED_ON = 10  # days before today
DAYS_BEFORE = 30
AUC = 10 / 12


def noon(day: int) -> datetime.datetime:
    return datetime.datetime.combine(date_of(day), datetime.time(12), tzinfo=datetime.UTC)


def use(workspace, account: str, days: list[int], user: str = "u") -> None:
    """One event of ``account`` at noon (UTC: the workspace's zone) on each day number."""
    facts = [
        EventFact(i, account, f"{account}-{user}", "Logged in", "", day * MS_PER_DAY + 43_200_000)
        for i, day in enumerate(days)
    ]
    ingest(workspace, Intake(source=Source.API, received=len(facts), events=facts))


def change_status(actor, external_id: str, status: str, day: int) -> None:
    account = Account.objects.get(workspace=actor.workspace, external_id=external_id)
    update_account(actor, account, {"status": status})
    StatusChange.objects.filter(account=account, to_status=status).update(changed_at=noon(day))


def build(owner) -> int:
    """The workspace of the module docstring; returns today's day number."""
    workspace, actor = owner.workspace, owner.actor
    t = sources.local_today(workspace)
    statuses = {
        "gone-idle": "paying",
        "gone-quiet": "paying",
        "gone-fading": "paying",
        "stays-1": "paying",
        "stays-2": "paying",
        "stays-3": "paying",
        "stays-idle": "paying",
        "converted": "trial",
        "gone-long-ago": "paying",
        "gone-trial": "trial",
        "still-trial": "trial",
    }
    for external_id, status in statuses.items():
        create_account(actor, {"external_id": external_id, "name": external_id.title(),
                               "status": status})  # fmt: skip
    Account.objects.filter(workspace=workspace).update(created_at=noon(t - 200))
    five_days = [t - 52, t - 50, t - 48, t - 46, t - 44]
    for external_id in statuses:
        use(workspace, external_id, [t - 100])
    use(workspace, "gone-fading", [t - 45, t - 42])
    for external_id in ("stays-1", "stays-2", "stays-3", "converted"):
        use(workspace, external_id, [*five_days, t - 3, t - 2, t - 1])
    for external_id in ("gone-idle", "gone-quiet", "gone-fading", "gone-trial"):
        change_status(actor, external_id, "churned", t - CHURNED_ON)
    change_status(actor, "gone-long-ago", "churned", t - 95)
    change_status(actor, "converted", "paying", t - 20)
    roll_up(now=timezone.now())
    return t
