"""Each trigger kind starts runs for what it watches, once per occurrence."""

import datetime

from django.utils import timezone

from tend.accounts.actions.accounts import create_account, update_account
from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.models import AttributeChange
from tend.health.models import HealthChange
from tend.plays.actions import create_play, run_play_now, set_status
from tend.plays.explain import dry_run
from tend.plays.models import PlayRun, RunStatus
from tend.plays.polling import poll_play
from tend.plays.tests.conftest import enter, leave, tick
from tend.usage.models import UsageEvent

TAG = [{"kind": "add_tag", "config": {"tag": "x"}}]


def active(owner, trigger, **extra):
    play = create_play(
        owner.actor, {"name": extra.pop("name", "P"), "trigger": trigger, "steps": TAG, **extra}
    )
    return set_status(owner.actor, play, "active", backfill=False)["play"]


def runs(play):
    return sorted(PlayRun.objects.filter(play=play).values_list("account__external_id", flat=True))


def test_left_a_segment(owner, book, static_segment):
    enter(owner, static_segment, book["acme"], book["globex"])
    play = active(owner, {"kind": "segment_left", "config": {"segment_id": static_segment.pk}})
    leave(owner, static_segment, book["globex"])
    tick(owner.workspace)
    assert runs(play) == ["globex"]


def test_health_rank_changed_to_poor(owner, book):
    play = active(owner, {"kind": "health_changed", "config": {"to_rank": "poor"}})
    HealthChange.objects.create(
        workspace=owner.workspace, account=book["acme"], from_rank="good", to_rank="poor"
    )
    HealthChange.objects.create(
        workspace=owner.workspace, account=book["globex"], from_rank="poor", to_rank="good"
    )
    tick(owner.workspace)
    assert runs(play) == ["acme"]


def test_journey_stage_changed(owner, book):
    create_stage(owner.actor, {"name": "Onboarding"})
    create_stage(owner.actor, {"name": "Adoption"})
    play = active(owner, {"kind": "stage_changed", "config": {"to_stage": "Adoption"}})
    update_account(owner.actor, book["acme"], {"stage": "Onboarding"})
    update_account(owner.actor, book["globex"], {"stage": "Adoption"})
    tick(owner.workspace)
    assert runs(play) == ["globex"]


def test_attribute_changed_records_rows_and_triggers_on_the_wanted_value(owner, book):
    play = active(
        owner, {"kind": "attribute_changed", "config": {"key": "plan", "to_value": "pro"}}
    )
    update_account(owner.actor, book["acme"], {"attributes": {"plan": "pro"}})
    update_account(owner.actor, book["initech"], {"attributes": {"plan": "free"}})
    change = AttributeChange.objects.filter(account=book["acme"]).order_by("-id").first()
    assert (change.key, change.from_value, change.to_value, change.changed_by_id) == (
        "plan",
        "enterprise",
        "pro",
        owner.member.pk,
    )
    tick(owner.workspace)
    assert runs(play) == ["acme"]


def test_bulk_upserts_record_attribute_changes_too(owner, book):
    from tend.accounts.bulk.accounts import upsert_accounts

    upsert_accounts(owner.actor, [{"external_id": "globex", "attributes": {"plan": "enterprise"}}])
    change = AttributeChange.objects.filter(account=book["globex"]).order_by("-id").first()
    assert (change.from_value, change.to_value) == ("pro", "enterprise")


def test_bulk_change_rows_keep_every_kind_of_value(owner, book):
    """Change rows go in by COPY on PostgreSQL: dates, numbers, emptied values and text with
    tabs, newlines and backslashes come back as they went in."""
    from tend.accounts.actions.definitions import create_attribute
    from tend.accounts.bulk.accounts import upsert_accounts

    create_attribute(owner.actor, {"key": "seats", "label": "Seats", "type": "number"})
    awkward = "tab\there\nnew line \\N back\\slash, “quotes” \"x\""
    upsert_accounts(
        owner.actor,
        [{"external_id": "globex", "attributes": {"renewal_date": "2027-01-31", "seats": 12.5, "note": awkward}}],
    )
    upsert_accounts(owner.actor, [{"external_id": "globex", "attributes": {"seats": None, "note": "plain"}}])
    changes = [
        (c.key, c.from_value, c.to_value)
        for c in AttributeChange.objects.filter(account=book["globex"]).order_by("id")
        if c.key in ("renewal_date", "seats", "note")
    ]
    assert changes[-5:] == [
        ("note", None, awkward),
        ("renewal_date", None, "2027-01-31"),
        ("seats", None, 12.5),
        ("note", awkward, "plain"),
        ("seats", 12.5, None),
    ]


def test_creating_an_account_is_a_change_from_nothing_for_each_initial_value(owner, book):
    """A play on "plan changed to enterprise" fires for an account created on that plan, by
    hand or by a bulk upsert; a later sync that changes nothing starts nothing."""
    from tend.accounts.bulk.accounts import upsert_accounts

    play = active(
        owner, {"kind": "attribute_changed", "config": {"key": "plan", "to_value": "enterprise"}}
    )
    made = create_account(
        owner.actor,
        {"external_id": "hooli", "name": "Hooli", "attributes": {"plan": "enterprise"}},
    )
    upsert_accounts(
        owner.actor,
        [
            {"external_id": "umbrella", "name": "Umbrella", "attributes": {"plan": "enterprise", "note": "x"}},
            {"external_id": "wayne", "name": "Wayne", "attributes": {"plan": "free"}},
            {"external_id": "stark", "name": "Stark"},
        ],
    )
    first = AttributeChange.objects.get(account=made)
    assert (first.key, first.from_value, first.to_value) == ("plan", None, "enterprise")
    bulk = sorted(
        AttributeChange.objects.filter(account__external_id__in=["umbrella", "wayne", "stark"])
        .values_list("account__external_id", "key", "to_value")
    )
    assert bulk == [("umbrella", "note", "x"), ("umbrella", "plan", "enterprise"), ("wayne", "plan", "free")]
    tick(owner.workspace)
    assert sorted(runs(play)) == ["hooli", "umbrella"]
    upsert_accounts(owner.actor, [{"external_id": "umbrella", "attributes": {"plan": "enterprise"}}])
    tick(owner.workspace)
    assert sorted(runs(play)) == ["hooli", "umbrella"]


def test_event_received_with_property_conditions(owner, book):
    play = active(
        owner,
        {
            "kind": "event_received",
            "config": {"activity": "export", "properties": {"format": "csv"}},
        },
    )
    now_ms = int(timezone.now().timestamp() * 1000)
    common = dict(workspace=owner.workspace, ts=now_ms, source="api")
    UsageEvent.objects.create(
        account=book["acme"], activity="export", properties={"format": "csv"}, **common
    )
    UsageEvent.objects.create(
        account=book["globex"], activity="export", properties={"format": "pdf"}, **common
    )
    UsageEvent.objects.create(account=book["initech"], activity="login", **common)
    tick(owner.workspace)
    assert runs(play) == ["acme"]


def test_manual_runs_for_chosen_accounts_each_call_a_new_occurrence(owner, book, static_segment):
    play = active(owner, {"kind": "manual", "config": {}})
    result = run_play_now(owner.actor, play, external_ids=["acme", "nope"])
    assert result["counts"]["started"] == 1
    assert result["errors"] == [
        {"field": "external_ids.1", "message": "no account with external id 'nope'"}
    ]
    enter(owner, static_segment, book["globex"])
    run_play_now(owner.actor, play, segment_id=static_segment.pk)
    tick(owner.workspace)
    assert runs(play) == ["acme", "globex"]


def test_schedule_fires_once_per_cron_time_in_the_workspace_zone(owner, book, static_segment):
    owner.workspace.time_zone = "Europe/Paris"
    owner.workspace.save()
    enter(owner, static_segment, book["acme"])
    play = active(
        owner,
        {"kind": "schedule", "config": {"cron": "0 9 * * *", "segment_id": static_segment.pk}},
    )
    # Activated at 08:00 Paris time; polled at 09:01 and again at 09:30.
    start = datetime.datetime(
        2026, 11, 30, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    type(play).objects.filter(pk=play.pk).update(trigger_state={"last_fire": start.isoformat()})
    play.refresh_from_db()
    poll_play(play, start + datetime.timedelta(hours=1, minutes=1))
    poll_play(play, start + datetime.timedelta(hours=1, minutes=30))
    keys = list(PlayRun.objects.filter(play=play).values_list("occurrence_key", flat=True))
    assert keys == ["schedule:2026-11-30T09:00:00+01:00"]


def test_date_relative_fires_on_the_due_day_once(owner, book):
    today = timezone.localdate()
    renewal = (today + datetime.timedelta(days=60)).isoformat()
    update_account(owner.actor, book["acme"], {"attributes": {"renewal_date": renewal}})
    update_account(
        owner.actor,
        book["globex"],
        {"attributes": {"renewal_date": (today + datetime.timedelta(days=61)).isoformat()}},
    )
    play = active(
        owner,
        {
            "kind": "date_relative",
            "config": {"attribute": "renewal_date", "days": 60, "direction": "before"},
        },
    )
    assert [i["external_id"] for i in dry_run(play)["items"]] == ["acme"]
    tick(owner.workspace)
    tick(owner.workspace)
    assert runs(play) == ["acme"]
    assert PlayRun.objects.get(play=play).occurrence_key == f"date:renewal_date:{renewal}"


def test_dry_run_lists_members_with_each_step_and_writes_nothing(owner, book, static_segment):
    enter(owner, static_segment, book["acme"])
    play = create_play(
        owner.actor,
        {
            "name": "Draft",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [{"kind": "set_attribute", "config": {"key": "note", "value": "hello"}}, *TAG],
        },
    )
    result = dry_run(play)
    assert result["triggered"] == 1 and result["would_run"] == 1
    steps = result["items"][0]["steps"]
    assert steps[0]["changes"] == [{"field": "attributes.note", "from": None, "to": "hello"}]
    assert steps[1]["summary"] == "Add tag 'x'."
    assert "draft" in result["notes"][0]
    assert not PlayRun.objects.exists()
    book["acme"].refresh_from_db()
    assert "note" not in book["acme"].attributes
    assert RunStatus.DONE == "done"


def test_where_event_ids_may_commit_out_of_order_the_cursor_passes_only_ids_seen_long_ago(
    owner, book, monkeypatch
):
    """PostgreSQL: events carry no arrival time, so the play remembers when it first saw its
    highest id; the stored cursor passes it only a settle time later, and a smaller id that
    committed late in between is still read."""
    import datetime

    from tend.plays.models import Play
    from tend.plays.polling import poll_play
    from tend.plays.triggers import changes

    monkeypatch.setattr(changes, "settle_seconds", lambda: 60)
    play = active(owner, {"kind": "event_received", "config": {"activity": "export"}})
    start = play.trigger_cursor
    common = dict(workspace=owner.workspace, ts=int(timezone.now().timestamp() * 1000))
    late = UsageEvent.objects.create(account=book["acme"], activity="login", source="api", **common)
    seen = UsageEvent.objects.create(
        account=book["globex"], activity="export", source="api", **common
    )
    # The poll sees only the later id: the earlier one is, as it were, not committed yet.
    UsageEvent.objects.filter(pk=late.pk).update(activity="pending")
    now = timezone.now()
    poll_play(Play.objects.get(pk=play.pk), now)
    assert Play.objects.get(pk=play.pk).trigger_cursor == start
    assert runs(play) == ["globex"]
    UsageEvent.objects.filter(pk=late.pk).update(activity="export")
    poll_play(Play.objects.get(pk=play.pk), now + datetime.timedelta(seconds=61))
    assert runs(play) == ["acme", "globex"]
    assert Play.objects.get(pk=play.pk).trigger_cursor == seen.pk
