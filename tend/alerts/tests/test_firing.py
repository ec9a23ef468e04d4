"""Alert rules fire once per change, to the right members, within their rate limit."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.models import Assignment, AssignmentRole
from tend.alerts.actions import follow
from tend.alerts.engine import poll_workspace
from tend.alerts.models import AlertFiring, AlertRule
from tend.health.actions.scoring import score_workspace
from tend.health.models import HealthChange
from tend.lib.dates import to_ms
from tend.lib.errors import InvalidInput
from tend.notifications.models import Notification
from tend.test import make_persona
from tend.usage.actions.ingest import ingest
from tend.usage.ingest.facts import EventFact, Intake
from tend.usage.models import AccountUsage, Source
from tend.workspaces.models import Seat

pytestmark = pytest.mark.django_db


def test_a_followed_account_turning_poor_notifies_its_follower_once(
    owner, practitioner, acme, make_rule
):
    follow(practitioner.member, account=acme)
    rule = make_rule()
    score_workspace(owner.workspace)  # never used: ranked Poor
    change = HealthChange.objects.get(account=acme)
    assert change.to_rank == "poor"

    assert poll_workspace(owner.workspace)["sent"] == 1
    note = Notification.objects.get()
    assert (note.member, note.account, note.kind) == (practitioner.member, acme, "alert")
    assert note.title == "Health turned Poor: Acme Corp"
    assert "to poor" in note.cause and note.url == f"/accounts/{acme.pk}/"

    # Polled again (on PostgreSQL the cursor stays behind rows younger than a minute, so
    # they are read again), and even read again from the start: the change fired once.
    again = poll_workspace(owner.workspace)
    assert (again["sent"], again["suppressed"]) == (0, 0)
    AlertRule.objects.filter(pk=rule.pk).update(trigger_cursor=0)
    assert poll_workspace(owner.workspace)["duplicate"] == 1
    assert Notification.objects.count() == 1 and AlertFiring.objects.count() == 1


def test_changes_before_the_rule_existed_do_not_fire(owner, practitioner, acme, make_rule):
    follow(practitioner.member, account=acme)
    score_workspace(owner.workspace)
    make_rule()
    assert poll_workspace(owner.workspace)["sent"] == 0
    assert not Notification.objects.exists()


def test_an_account_nobody_follows_notifies_nobody(owner, acme, make_rule):
    make_rule()
    score_workspace(owner.workspace)
    assert poll_workspace(owner.workspace) == {"sent": 0, "suppressed": 0, "duplicate": 0}
    assert not Notification.objects.exists()


def test_the_rate_limit_suppresses_and_counts_what_is_over_it(owner, practitioner, make_rule):
    accounts = [
        create_account(
            owner.actor, {"external_id": f"a{i}", "name": f"Account {i}", "status": "trial"}
        )
        for i in range(5)
    ]
    for account in accounts:
        follow(practitioner.member, account=account)
    make_rule(
        name="Became paying",
        trigger={"kind": "status_changed", "config": {"to_status": "paying"}},
        max_per_hour=2,
    )
    for account in accounts:
        update_account(owner.actor, account, {"status": "paying"})

    assert poll_workspace(owner.workspace) == {"sent": 2, "suppressed": 3, "duplicate": 0}
    assert Notification.objects.filter(member=practitioner.member).count() == 2
    statuses = list(AlertFiring.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "suppressed", "suppressed", "suppressed"]

    # An hour later the member may be told again.
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    update_account(owner.actor, accounts[0], {"status": "churned"})
    update_account(owner.actor, accounts[0], {"status": "paying"})
    assert poll_workspace(owner.workspace, now=later)["sent"] == 1


def test_the_limit_is_per_member(owner, practitioner, viewer, make_rule):
    accounts = [
        create_account(owner.actor, {"external_id": f"a{i}", "name": f"A{i}", "status": "trial"})
        for i in range(2)
    ]
    for account in accounts:
        follow(practitioner.member, account=account)
    follow(viewer.member, account=accounts[1])
    make_rule(trigger={"kind": "status_changed", "config": {"to_status": "paying"}}, max_per_hour=1)
    for account in accounts:
        update_account(owner.actor, account, {"status": "paying"})
    poll_workspace(owner.workspace)
    assert Notification.objects.filter(member=practitioner.member).count() == 1
    assert Notification.objects.filter(member=viewer.member).count() == 1


def test_role_holders_and_named_members_are_told_and_inactive_members_are_not(
    owner, practitioner, viewer, acme, make_rule
):
    role = AssignmentRole.objects.create(
        workspace=owner.workspace, key="csm", name="Success Manager"
    )
    Assignment.objects.create(
        workspace=owner.workspace, account=acme, role=role, member=practitioner.member
    )
    make_rule(roles=[role.pk], members=[viewer.member.pk, owner.member.pk], followers=False)
    owner.member.is_active = False
    owner.member.save()
    score_workspace(owner.workspace)
    poll_workspace(owner.workspace)
    told = set(Notification.objects.values_list("member_id", flat=True))
    assert told == {practitioner.member.pk, viewer.member.pk}


def test_a_rule_cannot_name_members_or_roles_of_another_workspace(owner, outsider, make_rule):
    with pytest.raises(InvalidInput) as raised:
        make_rule(members=[outsider.member.pk])
    assert raised.value.field == "members"
    with pytest.raises(InvalidInput) as raised:
        follow(
            outsider.member, account=create_account(owner.actor, {"external_id": "x", "name": "X"})
        )
    assert raised.value.field == "account"


def test_only_members_of_the_rules_workspace_are_notified(
    owner, outsider, practitioner, acme, make_rule
):
    # The outsider's workspace has an account with the same external id and its own follower.
    theirs = create_account(outsider.actor, {"external_id": "acme", "name": "Acme elsewhere"})
    follow(outsider.member, account=theirs)
    follow(practitioner.member, account=acme)
    make_rule()
    score_workspace(owner.workspace)
    poll_workspace(owner.workspace)
    poll_workspace(outsider.workspace)
    assert list(Notification.objects.values_list("member_id", "workspace_id")) == [
        (practitioner.member.pk, owner.workspace.pk)
    ]


def test_an_event_such_as_a_cancellation_fires_its_rule(owner, practitioner, acme, make_rule):
    follow(practitioner.member, account=acme)
    make_rule(
        name="Cancelled",
        trigger={"kind": "event_received", "config": {"activity": "subscription_cancelled"}},
    )
    now = to_ms(timezone.now())
    facts = [
        EventFact(0, "acme", "acme-u", "Logged in", "", now),
        EventFact(1, "acme", "acme-u", "subscription_cancelled", "", now),
    ]
    ingest(owner.workspace, Intake(source=Source.API, received=2, events=facts))
    assert poll_workspace(owner.workspace)["sent"] == 1
    assert "subscription_cancelled" in Notification.objects.get().cause


def test_usage_dropping_week_on_week_fires_once_until_it_recovers(
    owner, practitioner, acme, make_rule
):
    follow(practitioner.member, account=acme)
    usage = AccountUsage.objects.create(
        workspace=owner.workspace, account=acme, events_7d=30, events_14d=60, day=20000
    )
    make_rule(
        name="Usage down",
        trigger={"kind": "usage_dropped", "config": {"percent": 50, "min_events": 20}},
    )
    later = timezone.now() + datetime.timedelta(minutes=2)
    assert poll_workspace(owner.workspace, now=later)["sent"] == 0  # 30 → 30: not down

    AccountUsage.objects.filter(pk=usage.pk).update(events_7d=5, events_14d=45, day=20001)
    later += datetime.timedelta(minutes=2)
    assert poll_workspace(owner.workspace, now=later)["sent"] == 1
    assert "fell by 50%" in Notification.objects.get().cause
    later += datetime.timedelta(minutes=2)
    assert poll_workspace(owner.workspace, now=later)["sent"] == 0  # still down: no news

    AccountUsage.objects.filter(pk=usage.pk).update(events_7d=40, events_14d=50, day=20002)
    later += datetime.timedelta(minutes=2)
    poll_workspace(owner.workspace, now=later)
    AccountUsage.objects.filter(pk=usage.pk).update(events_7d=2, events_14d=42, day=20003)
    later += datetime.timedelta(minutes=2)
    assert poll_workspace(owner.workspace, now=later)["sent"] == 1  # down again: news


def test_a_paused_rule_does_not_fire(owner, practitioner, acme, make_rule):
    follow(practitioner.member, account=acme)
    make_rule(is_active=False)
    score_workspace(owner.workspace)
    assert poll_workspace(owner.workspace)["sent"] == 0


def test_a_segment_follower_hears_of_accounts_entering_it(owner, practitioner, make_rule):
    from tend.segments.actions.segments import create_segment

    segment = create_segment(
        owner.actor,
        {
            "name": "Paying",
            "visibility": "shared",
            "condition": {"all": [{"field": "status", "op": "eq", "value": "paying"}]},
        },
    )
    follow(practitioner.member, segment=segment)
    make_rule(
        name="Entered Paying",
        trigger={"kind": "segment_entered", "config": {"segment_id": segment.pk}},
    )
    account = create_account(
        owner.actor, {"external_id": "p", "name": "Newly paying", "status": "paying"}
    )
    from tend.segments.actions.evaluation import evaluate_segment

    evaluate_segment(segment)
    assert poll_workspace(owner.workspace)["sent"] == 1
    assert Notification.objects.get().account == account


def test_viewer_seat_members_are_notified_too(owner, acme, make_rule):
    viewer = make_persona(owner.workspace, Seat.VIEWER)
    follow(viewer.member, account=acme)
    make_rule()
    score_workspace(owner.workspace)
    poll_workspace(owner.workspace)
    assert Notification.objects.get().member == viewer.member


def test_changes_nobody_is_told_about_cost_a_fixed_number_of_queries(
    owner, practitioner, make_rule, django_assert_max_num_queries
):
    make_rule()
    for i in range(30):
        create_account(owner.actor, {"external_id": f"quiet{i}", "name": f"Quiet {i}"})
    score_workspace(owner.workspace)  # 30 rank changes, none followed
    with django_assert_max_num_queries(8):
        assert poll_workspace(owner.workspace) == {"sent": 0, "suppressed": 0, "duplicate": 0}


def test_the_scheduled_job_and_a_committed_change_both_poll_the_rules(
    owner, practitioner, acme, make_rule, django_capture_on_commit_callbacks
):
    from tend.alerts.signals import forget_cache
    from tend.jobs.registry import enqueue
    from tend.outbox.tests.conftest import run_jobs

    follow(practitioner.member, account=acme)
    make_rule()
    forget_cache()
    # Scoring announces its change rows after commit: a poll is queued at once.
    with django_capture_on_commit_callbacks(execute=True):
        score_workspace(owner.workspace)
    run_jobs()
    assert Notification.objects.count() == 1
    # The periodic entry in tend/schedule.py runs the same poll (nothing new: nothing sent).
    enqueue("alerts.poll")
    run_jobs()
    assert Notification.objects.count() == 1


def test_changes_made_while_a_rule_was_paused_do_not_fire_when_it_resumes(
    owner, practitioner, acme, make_rule
):
    from tend.alerts.actions import update_rule

    follow(practitioner.member, account=acme)
    rule = make_rule()
    update_rule(owner.actor, rule, {"is_active": False})
    score_workspace(owner.workspace)
    update_rule(owner.actor, rule, {"is_active": True})
    assert poll_workspace(owner.workspace)["sent"] == 0
    assert not Notification.objects.exists()


def test_firings_older_than_ninety_days_are_purged(owner, acme, make_rule):
    from tend.jobs.registry import enqueue
    from tend.outbox.tests.conftest import run_jobs

    rule = make_rule()
    for key, days in (("old", 91), ("recent", 89)):
        AlertFiring.objects.create(
            workspace=owner.workspace,
            rule=rule,
            key=key,
            recipient="slack",
            account=acme,
            status="sent",
            at=timezone.now() - datetime.timedelta(days=days),
        )
    enqueue("alerts.purge_firings")
    run_jobs()
    assert list(AlertFiring.objects.values_list("key", flat=True)) == ["recent"]


# --- a new paying account ----------------------------------------------------------------------


def _paying_rule(make_rule, owner, **config):
    return make_rule(
        name="New paying customer",
        trigger={"kind": "status_changed", "config": {"to_status": "paying", **config}},
        members=[owner.member.pk],
    )


def test_an_account_created_as_paying_fires_once(owner, make_rule):
    create_account(
        owner.actor, {"external_id": "old", "name": "Before the rule", "status": "paying"}
    )
    rule = _paying_rule(make_rule, owner)
    assert rule.trigger_state["account_cursor"] > 0  # "Before the rule" is not news
    paying = create_account(
        owner.actor, {"external_id": "p", "name": "Paying Co", "status": "paying"}
    )
    create_account(owner.actor, {"external_id": "t", "name": "Trial Co", "status": "trial"})
    assert poll_workspace(owner.workspace)["sent"] == 1
    note = Notification.objects.get()
    assert note.account == paying and "created as paying" in note.cause
    # Read again from where the rule started: still once.
    assert poll_workspace(owner.workspace)["sent"] == 0
    AlertRule.objects.filter(pk=rule.pk).update(trigger_cursor=0, trigger_state=rule.trigger_state)
    again = poll_workspace(owner.workspace)
    assert again["sent"] == 0 and again["duplicate"] == 1
    assert AlertFiring.objects.count() == 1


def test_created_as_trial_then_made_paying_fires_once_for_the_change(owner, make_rule):
    _paying_rule(make_rule, owner)
    account = create_account(
        owner.actor, {"external_id": "t", "name": "Trial Co", "status": "trial"}
    )
    update_account(owner.actor, account, {"status": "paying"})  # before the rule polls
    assert poll_workspace(owner.workspace)["sent"] == 1
    assert "status changed from trial to paying" in Notification.objects.get().cause


def test_created_as_paying_then_changed_still_fires_for_its_creation(owner, make_rule):
    _paying_rule(make_rule, owner)
    account = create_account(
        owner.actor, {"external_id": "p", "name": "Paying Co", "status": "paying"}
    )
    update_account(owner.actor, account, {"status": "churned"})
    assert poll_workspace(owner.workspace)["sent"] == 1
    assert "created as paying" in Notification.objects.get().cause


def test_accounts_created_in_bulk_as_paying_fire_once_each(owner, make_rule):
    _paying_rule(make_rule, owner)
    import orjson

    items = [
        {"external_id": f"b{i}", "name": f"Bulk {i}", "status": "paying" if i % 2 else "free"}
        for i in range(6)
    ]
    response = owner.api.put(
        "/api/v1/accounts", data=orjson.dumps(items), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert poll_workspace(owner.workspace)["sent"] == 3
    assert sorted(Notification.objects.values_list("account__external_id", flat=True)) == [
        "b1",
        "b3",
        "b5",
    ]


def test_new_accounts_can_be_left_out_and_a_from_status_leaves_them_out(owner, make_rule):
    _paying_rule(make_rule, owner, new_accounts=False)
    make_rule(
        name="Trial to paying",
        trigger={
            "kind": "status_changed",
            "config": {"from_status": "trial", "to_status": "paying"},
        },
        members=[owner.member.pk],
    )
    create_account(owner.actor, {"external_id": "p", "name": "Paying Co", "status": "paying"})
    assert poll_workspace(owner.workspace)["sent"] == 0


def test_a_rule_from_before_reads_new_accounts_from_now_on(owner, make_rule):
    rule = _paying_rule(make_rule, owner)
    AlertRule.objects.filter(pk=rule.pk).update(trigger_state={})  # as rules made before
    create_account(owner.actor, {"external_id": "a", "name": "Already", "status": "paying"})
    assert poll_workspace(owner.workspace)["sent"] == 0  # the first poll sets the cursor
    create_account(owner.actor, {"external_id": "n", "name": "New", "status": "paying"})
    assert poll_workspace(owner.workspace)["sent"] == 1
    assert Notification.objects.get().account.external_id == "n"
