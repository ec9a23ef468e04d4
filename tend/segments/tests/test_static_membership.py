"""Adding accounts to static segments and removing them: by id or external id, a result per
item, nothing dropped silently, and the history saying who or what did it."""

import pytest
from django.core.exceptions import PermissionDenied

from tend.jobs.models import Job
from tend.lib.errors import InvalidInput
from tend.segments.actions import add_accounts, remove_accounts
from tend.segments.actions.evaluation import local_day
from tend.segments.models import Segment, SegmentChange, SegmentCount, SegmentMember
from tend.segments.tests.conftest import PAYING, names, shared

pytestmark = pytest.mark.django_db


def members(segment) -> set[str]:
    return names(SegmentMember.objects.filter(segment=segment).select_related("account"))


def test_accounts_are_added_by_id_and_external_id_with_a_result_for_each(owner, book):
    segment = shared(owner, "Executive sponsors")
    result = add_accounts(
        owner.actor,
        segment,
        account_ids=[book["acme"].pk, 987_654, "7"],
        external_ids=["globex", "nobody", "acme"],
    )
    assert result.results == [
        {
            "field": "account_ids.0",
            "id": book["acme"].pk,
            "account_id": book["acme"].pk,
            "status": "added",
        },
        {
            "field": "account_ids.1",
            "id": 987_654,
            "status": "error",
            "message": "no account has id 987654 in this workspace",
        },
        {
            "field": "account_ids.2",
            "id": "7",
            "status": "error",
            "message": "expected an account id (a whole number), got '7'",
        },
        {
            "field": "external_ids.0",
            "external_id": "globex",
            "account_id": book["globex"].pk,
            "status": "added",
        },
        {
            "field": "external_ids.1",
            "external_id": "nobody",
            "status": "error",
            "message": "no account has external id 'nobody'",
        },
        {
            "field": "external_ids.2",
            "external_id": "acme",
            "account_id": book["acme"].pk,
            "status": "already_member",
        },
    ]
    assert result.counts == {"added": 2, "error": 3, "already_member": 1}
    assert members(segment) == {"acme", "globex"}
    assert Segment.objects.get(pk=segment.pk).member_count == 2


def test_adding_again_changes_nothing(owner, book):
    segment = shared(owner, "Sponsors")
    add_accounts(owner.actor, segment, external_ids=["acme"])
    result = add_accounts(owner.actor, segment, external_ids=["acme"])
    assert result.counts == {"already_member": 1}
    assert SegmentChange.objects.filter(segment=segment).count() == 1


def test_the_history_says_who_or_what_added_and_removed_each_account(owner, book):
    segment = shared(owner, "Sponsors")
    add_accounts(owner.actor, segment, external_ids=["acme"])
    add_accounts(
        owner.actor, segment, external_ids=["globex"], source="import", reference="sponsors.csv"
    )
    add_accounts(
        owner.actor, segment, external_ids=["initech"], source="play", reference="play-run 12"
    )
    remove_accounts(owner.actor, segment, external_ids=["acme"], source="api")
    rows = SegmentChange.objects.filter(segment=segment).select_related("account").order_by("id")
    assert [(c.account.external_id, c.kind, c.source, c.member_id, c.reference) for c in rows] == [
        ("acme", "entered", "member", owner.member.pk, ""),
        ("globex", "entered", "import", owner.member.pk, "sponsors.csv"),
        ("initech", "entered", "play", owner.member.pk, "play-run 12"),
        ("acme", "left", "api", owner.member.pk, ""),
    ]
    assert members(segment) == {"globex", "initech"}


def test_removing_reports_accounts_that_were_not_members(owner, book):
    segment = shared(owner, "Sponsors")
    add_accounts(owner.actor, segment, external_ids=["acme"])
    result = remove_accounts(owner.actor, segment, external_ids=["acme", "globex", "acme", "zzz"])
    assert [r["status"] for r in result.results] == ["removed", "not_member", "not_member", "error"]
    assert members(segment) == set()


def test_each_change_records_todays_count(owner, book):
    segment = shared(owner, "Sponsors")
    add_accounts(owner.actor, segment, external_ids=["acme", "globex"])
    remove_accounts(owner.actor, segment, external_ids=["acme"])
    from django.utils import timezone

    today = local_day(owner.workspace, timezone.now())
    assert SegmentCount.objects.get(segment=segment, day=today).members == 1


def test_a_change_asks_for_a_refresh_of_the_segments_that_follow_it(owner, book):
    segment = shared(owner, "Sponsors")
    Job.objects.all().delete()
    add_accounts(owner.actor, segment, external_ids=["acme"])
    assert list(Job.objects.values_list("kind", "payload")) == [
        ("segments.refresh", {"workspace_id": owner.workspace.pk})
    ]


def test_a_dynamic_segment_takes_no_accounts_by_hand(owner, book):
    segment = shared(owner, "Paying", PAYING)
    with pytest.raises(InvalidInput) as caught:
        add_accounts(owner.actor, segment, external_ids=["wayne"])
    assert caught.value.field == "kind"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({}, "account_ids"),
        ({"account_ids": "12"}, "account_ids"),
        ({"external_ids": ["acme"], "source": "condition"}, "source"),
        ({"external_ids": ["acme"], "source": "magic"}, "source"),
        ({"external_ids": ["acme"], "reference": "x" * 101}, "reference"),
    ],
)
def test_a_malformed_request_is_refused_whole_naming_the_field(owner, book, kwargs, field):
    segment = shared(owner, "Sponsors")
    with pytest.raises(InvalidInput) as caught:
        add_accounts(owner.actor, segment, **kwargs)
    assert caught.value.field == field
    assert not SegmentMember.objects.exists()


def test_too_many_accounts_at_once_are_refused(owner, book, settings):
    settings.TEND_BULK_MAX_ITEMS = 3
    segment = shared(owner, "Sponsors")
    with pytest.raises(InvalidInput, match="has 4 accounts; the limit is 3"):
        add_accounts(owner.actor, segment, external_ids=["a", "b", "c", "d"])


def test_only_who_may_change_the_segment_adds_to_it(owner, contributor, viewer, book):
    team = shared(owner, "Sponsors")
    with pytest.raises(PermissionDenied):
        add_accounts(contributor.actor, team, external_ids=["acme"])
    with pytest.raises(PermissionDenied):
        add_accounts(viewer.actor, team, external_ids=["acme"])
    mine = shared(owner, "Mine", visibility="private")
    with pytest.raises(PermissionDenied):
        add_accounts(contributor.actor, mine, external_ids=["acme"])
    assert not SegmentMember.objects.exists()


def test_an_account_of_another_workspace_is_unknown(owner, outsider, book):
    from tend.accounts.actions.accounts import create_account

    theirs = create_account(outsider.actor, {"external_id": "theirs", "name": "Theirs"})
    segment = shared(owner, "Sponsors")
    result = add_accounts(owner.actor, segment, account_ids=[theirs.pk], external_ids=["theirs"])
    assert result.counts == {"error": 2}
    assert not SegmentMember.objects.exists()
