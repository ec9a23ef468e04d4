"""What a digest says: exactly the followed accounts' and segments' changes in its window,
and the member's tasks due today and overdue."""

import datetime

import pytest

from tend.digest.actions import save_settings, send_digest
from tend.digest.content import build
from tend.digest.jobs import due_members
from tend.digest.models import DigestRun
from tend.digest.tests.conftest import DAY, EXPECTED, NOW, H

pytestmark = pytest.mark.django_db


def test_the_digest_has_exactly_the_expected_items(world):
    digest = build(world["me"], NOW)
    assert digest.since == NOW - DAY
    assert digest.lines() == EXPECTED
    assert digest.item_count == len(EXPECTED)
    assert [(a.name, a.rank) for a in digest.accounts] == [
        ("Acme Corp", "poor"),
        ("Globex", "good"),
    ]


def test_someone_else_sees_none_of_my_follows(world, workspace):
    from tend.test import make_member

    other = make_member(workspace, "practitioner", "other@acme.test")
    assert build(other, NOW).lines() == []


def test_the_next_digest_starts_where_the_last_ended(world):
    run = send_digest(world["me"], NOW - 3 * H)
    assert run.since == NOW - 3 * H - DAY and run.until == NOW - 3 * H
    later = build(world["me"], NOW + DAY)
    assert later.since == NOW - 3 * H
    # Only what happened after the last digest ended.
    assert [line for line in later.lines() if not line.startswith(("Overdue", "Due"))] == [
        "Acme Corp: Health Good → Poor",
        "Globex: Status Trial → Paying",
        "Globex: Health Poor → Good",
        "At risk: Acme Corp left",
    ]


def test_the_day_is_the_members_local_day(world):
    me = world["me"]
    save_settings(me, enabled=True, hour=8, time_zone="Pacific/Auckland")  # UTC+13 in November
    assert build(me, NOW).today == datetime.date(2026, 11, 30)
    assert build(
        me, datetime.datetime(2026, 11, 30, 11, 0, tzinfo=datetime.UTC)
    ).today == datetime.date(2026, 12, 1)


def test_members_are_due_once_their_local_hour_has_come(world, owner):
    me = world["me"]
    save_settings(me, enabled=True, hour=9, time_zone="")  # the workspace's zone: UTC
    save_settings(owner.member, enabled=False, hour=0)
    due = lambda at: {m.pk for m, _ in due_members(at)}  # noqa: E731
    assert me.pk not in due(NOW - datetime.timedelta(minutes=1))
    assert me.pk in due(NOW)
    assert owner.member.pk not in due(NOW)  # digest off
    save_settings(me, enabled=True, hour=9, time_zone="America/New_York")  # 04:00 there
    assert me.pk not in due(NOW)
    assert me.pk in due(NOW + 5 * H)
    send_digest(me, NOW + 5 * H)
    assert me.pk not in due(NOW + 6 * H)  # sent today already
    assert DigestRun.objects.filter(member=me).count() == 1
