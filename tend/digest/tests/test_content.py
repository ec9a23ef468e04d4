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


def test_a_followed_account_whose_usage_stopped_is_listed_the_day_it_becomes_known(
    world, workspace
):
    """A stop is known once its seventh quiet day is over (as on the timeline): Globex, last
    active on Nov 22, in the digest of Nov 30; Acme, known a day earlier, and Initech, not
    followed, are not; an account active again is not either."""
    from tend.usage.models import AccountDay

    def active(acc, date):
        day = (date - datetime.date(1970, 1, 1)).days
        AccountDay.objects.create(workspace=workspace, account=acc, day=day, events=5)

    active(world["globex"], datetime.date(2026, 11, 10))
    active(world["globex"], datetime.date(2026, 11, 22))
    active(world["acme"], datetime.date(2026, 11, 21))
    active(world["initech"], datetime.date(2026, 11, 22))
    lines = build(world["me"], NOW).lines()
    stop = "Globex: Usage dropped to zero: no events since Nov 22 (7 days)"
    assert lines == EXPECTED[:3] + [stop] + EXPECTED[3:]
    # The next day's digest does not repeat it; usage resuming means no stop at all.
    assert stop not in build(world["me"], NOW + DAY).lines()
    active(world["globex"], datetime.date(2026, 11, 29))
    assert stop not in build(world["me"], NOW).lines()
