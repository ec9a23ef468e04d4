"""The demo's segments: shared dynamic ones, a contributor's private one and a static one,
each with members now, entries and exits over the last weeks and a daily count that agrees
with that history. (The package's shared build, a week of usage: see ``conftest.py``.)"""

import datetime

import pytest
from django.utils import timezone

from tend.demo import vocabulary as v
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember

pytestmark = pytest.mark.django_db


def test_the_demo_has_segments_with_members_history_and_counts(built_demo):
    result = built_demo.result
    segments = {s.name: s for s in Segment.objects.filter(workspace=result.workspace)}
    assert set(segments) == {
        "Enterprise renewing in 90 days",
        "Paying, no usage in 14 days",
        "Poor health, paying",
        "New customers",
        "My quiet accounts",
        "Executive sponsors engaged",
    }
    assert result.counts["segments"] == 6
    mine = segments["My quiet accounts"]
    assert mine.is_private and mine.owner.user.email == f"contributor@{v.DOMAIN}"
    assert segments["Executive sponsors engaged"].kind == "static"
    for segment in segments.values():
        members = SegmentMember.objects.filter(segment=segment).count()
        assert members > 0, segment.name
        assert segment.member_count == members, segment.name
        assert segment.evaluation_error == "", segment.name

    # Entries and exits spread over the last weeks, not all made today.
    today = timezone.localdate()
    renewing = SegmentChange.objects.filter(segment=segments["Enterprise renewing in 90 days"])
    assert renewing.filter(at__date__lt=today - datetime.timedelta(days=28)).exists()
    assert len({c.at.date() for c in renewing}) >= 4  # renewals coming within 90 days, week by week
    # New customers entered when they signed up, over months.
    signed_up = SegmentChange.objects.filter(segment=segments["New customers"])
    assert len({c.at.date() for c in signed_up}) >= 5
    sponsors = SegmentChange.objects.filter(segment=segments["Executive sponsors engaged"])
    assert sorted({(c.kind, c.source) for c in sponsors}) == [
        ("entered", "import"),
        ("entered", "member"),
        ("left", "member"),
    ]

    # Ninety days of counts, ending with today's members, agreeing with the history.
    for segment in segments.values():
        counts = dict(SegmentCount.objects.filter(segment=segment).values_list("day", "members"))
        assert len(counts) == 91, segment.name
        assert counts[today] == segment.member_count, segment.name
    sponsor_counts = dict(
        SegmentCount.objects.filter(segment=segments["Executive sponsors engaged"]).values_list(
            "day", "members"
        )
    )
    assert sponsor_counts[today - datetime.timedelta(days=85)] == 0
    assert sponsor_counts[today - datetime.timedelta(days=60)] == 12
    assert sponsor_counts[today - datetime.timedelta(days=20)] == 17
    assert sponsor_counts[today] == 15
