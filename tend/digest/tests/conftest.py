"""A small world for the digest: a member who follows two accounts and a segment, change
rows at known times around ``NOW`` (some inside the window, some not), and tasks."""

import datetime

import pytest

from tend.accounts.models import Account, Stage, StageChange, StatusChange
from tend.alerts.actions import follow
from tend.health.models import AccountHealth, HealthChange
from tend.outbox.tests.conftest import smtp_server  # noqa: F401  (a fixture)
from tend.segments.models import Segment, SegmentChange
from tend.test import make_member
from tend.work.models import Task, TaskStatus

NOW = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def account(workspace, key, name, rank=None):
    acc = Account.objects.create(workspace=workspace, external_id=key, name=name)
    if rank:
        AccountHealth.objects.create(account=acc, workspace=workspace, rank=rank, score=30)
    return acc


def segment(workspace, name, owner=None):
    return Segment.objects.create(
        workspace=workspace,
        name=name,
        kind="static",
        visibility="private" if owner else "shared",
        owner=owner,
    )


def moved(seg, acc, kind, at):
    return SegmentChange.objects.create(
        workspace=seg.workspace, segment=seg, account=acc, kind=kind, at=at, source="member"
    )


def task(member, acc, title, due, status=TaskStatus.OPEN):
    return Task.objects.create(
        workspace=acc.workspace,
        account=acc,
        title=title,
        due_date=due,
        assignee=member,
        status=status,
    )


@pytest.fixture
def world(workspace, practitioner):
    """What ``practitioner`` (me) follows and has, and what they must not see."""
    me = practitioner.member
    someone = make_member(workspace, "practitioner", "someone@acme.test")
    acme = account(workspace, "acme", "Acme Corp", rank="poor")
    globex = account(workspace, "globex", "Globex", rank="good")
    initech = account(workspace, "initech", "Initech")  # not followed
    at_risk = segment(workspace, "At risk")  # followed
    enterprise = segment(workspace, "Enterprise")  # not followed, shared
    secret = segment(workspace, "Someone's private list", owner=someone)  # not visible to me
    for target in ({"account": acme}, {"account": globex}, {"segment": at_risk}):
        follow(me, **target)
    onboarding = Stage.objects.create(workspace=workspace, name="Onboarding", position=1)
    adoption = Stage.objects.create(workspace=workspace, name="Adoption", position=2)

    # In the window (the last day before NOW): expected.
    HealthChange.objects.create(
        workspace=workspace, account=acme, from_rank="good", to_rank="poor", changed_at=NOW - 2 * H
    )
    StageChange.objects.create(
        workspace=workspace,
        account=acme,
        from_stage=onboarding,
        to_stage=adoption,
        changed_at=NOW - 3 * H,
    )
    StatusChange.objects.create(
        workspace=workspace,
        account=globex,
        from_status="trial",
        to_status="paying",
        changed_at=NOW - H,
    )
    moved(enterprise, acme, "entered", NOW - 4 * H)  # under Acme: the segment is not followed
    moved(at_risk, initech, "entered", NOW - 5 * H)  # under the followed segment
    moved(at_risk, acme, "left", NOW - H / 2)  # under the segment only, never twice
    # Not expected: before the window, after it, not followed, not visible to me.
    HealthChange.objects.create(
        workspace=workspace,
        account=acme,
        from_rank="average",
        to_rank="good",
        changed_at=NOW - 2 * DAY,
    )
    HealthChange.objects.create(
        workspace=workspace, account=initech, from_rank="good", to_rank="poor", changed_at=NOW - H
    )
    HealthChange.objects.create(
        workspace=workspace, account=globex, from_rank="poor", to_rank="good", changed_at=NOW + H
    )
    moved(secret, acme, "entered", NOW - H)
    moved(enterprise, initech, "entered", NOW - H)

    task(me, acme, "Call about the renewal", TODAY - 2 * DAY)
    task(me, globex, "Send the kickoff deck", TODAY)
    task(me, globex, "Plan the QBR", TODAY + DAY)  # upcoming
    task(me, acme, "Old thing", TODAY - DAY, status=TaskStatus.DONE)
    task(someone, acme, "Someone else's call", TODAY)
    return {
        "me": me,
        "someone": someone,
        "acme": acme,
        "globex": globex,
        "initech": initech,
        "at_risk": at_risk,
    }


EXPECTED = [
    "Acme Corp: Entered segment “Enterprise”",
    "Acme Corp: Stage Onboarding → Adoption",
    "Acme Corp: Health Good → Poor",
    "Globex: Status Trial → Paying",
    "At risk: Initech entered",
    "At risk: Acme Corp left",
    "Overdue: Call about the renewal (Acme Corp)",
    "Due today: Send the kickoff deck (Globex)",
]
