"""The account timeline, as assembled from every app's source: each kind shows, newest first;
cursor pages neither skip nor repeat; filters by kind and member; another member's private
segment is left out; outsiders get 404 on the page, the fragment and the API; bad
parameters are 4xx naming the field; a page costs the same queries for 5 items as for 500.

Lives in ``web`` (the assembly layer) because it writes rows of every app."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.models import Account, AttributeChange, Stage, StageChange, StatusChange
from tend.health.models import HealthChange
from tend.plays.models import Play, PlayRun, RunStatus
from tend.segments.models import Segment, SegmentChange
from tend.work.actions import complete_task, create_task, log_touchpoint
from tend.work.models import Task

pytestmark = pytest.mark.django_db
START = timezone.now() - datetime.timedelta(days=30)
API = "/api/v1/accounts/{}/timeline"


def at(hours: float) -> datetime.datetime:
    return START + datetime.timedelta(hours=hours)


@pytest.fixture
def acme(workspace):
    return Account.objects.create(workspace=workspace, external_id="acme", name="Acme Corp")


def add_history(owner, practitioner, account, offset: float = 0, private_owner=None):
    """One row of every kind, an hour apart from ``offset``; returns their titles' starts in
    the order they happened."""
    ws = owner.workspace
    touchpoint = log_touchpoint(
        owner.actor,
        account,
        {"subject": "Kickoff", "occurred_at": at(offset + 1), "body": "<script>x</script>**ok**"},
    )
    task = create_task(practitioner.actor, account, {"title": "Send plan"})
    complete_task(practitioner.actor, task)
    Task.objects.filter(pk=task.pk).update(created_at=at(offset + 2), completed_at=at(offset + 3))
    play, _ = Play.objects.get_or_create(workspace=ws, name="Onboarding", trigger_kind="manual")
    PlayRun.objects.create(
        workspace=ws, play=play, account=account, occurrence_key=f"o{offset}",
        status=RunStatus.DONE, cause_kind="manual", cause="started by hand", started_at=at(offset + 4),
    )  # fmt: skip
    PlayRun.objects.create(
        workspace=ws, play=play, account=account, occurrence_key=f"s{offset}",
        status=RunStatus.SKIPPED, cause_kind="manual", cause="skipped", started_at=at(offset + 4.5),
    )  # fmt: skip
    HealthChange.objects.create(
        workspace=ws, account=account, from_rank="good", to_rank="poor", changed_at=at(offset + 5)
    )
    stage = Stage.objects.create(workspace=ws, name=f"Adoption {offset}")
    StageChange.objects.create(
        workspace=ws,
        account=account,
        to_stage=stage,
        changed_by=owner.member,
        changed_at=at(offset + 6),
    )
    AttributeChange.objects.create(
        workspace=ws, account=account, key="plan", from_value="silver", to_value="gold",
        changed_by=practitioner.member, changed_at=at(offset + 7),
    )  # fmt: skip
    StatusChange.objects.create(
        workspace=ws,
        account=account,
        from_status="trial",
        to_status="paying",
        changed_at=at(offset + 8),
    )
    shared = Segment.objects.create(
        workspace=ws, name=f"At risk {offset}", kind="static", visibility="shared"
    )
    SegmentChange.objects.create(
        workspace=ws, segment=shared, account=account, kind="entered", at=at(offset + 9)
    )
    private = Segment.objects.create(
        workspace=ws, name=f"Secret {offset}", kind="static", visibility="private",
        owner=(private_owner or practitioner).member,
    )  # fmt: skip
    SegmentChange.objects.create(
        workspace=ws, segment=private, account=account, kind="left", at=at(offset + 10)
    )
    return touchpoint


def page(persona, account, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = persona.api.get(API.format(account.pk) + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.content
    return response.json()


def test_every_kind_shows_newest_first(owner, practitioner, acme):
    add_history(owner, practitioner, acme)
    items = page(owner, acme)["items"]
    assert [i["kind"] for i in items] == [
        "segment_entered",  # the private segment (hour 10) is the practitioner's: not shown
        "status_changed",
        "attribute_changed",
        "stage_changed",
        "health_changed",
        "play_run",  # the skipped run (hour 4.5) is the play's business, not the account's
        "task_completed",
        "task_created",
        "touchpoint",
    ]
    by_kind = {i["kind"]: i for i in items}
    assert by_kind["attribute_changed"]["title"] == "plan: “silver” → “gold”"
    assert by_kind["attribute_changed"]["actor"] == practitioner.member.name
    assert by_kind["health_changed"]["title"] == "Health: Good → Poor"
    assert by_kind["touchpoint"]["title"] == "Note: Kickoff"
    # The private segment's owner sees it (through the session: the token acts for no one).
    mine = practitioner.browser.get(API.format(acme.pk)).json()["items"]
    assert mine[0]["kind"] == "segment_left" and mine[0]["title"] == "Left segment Secret 0"


def test_cursor_pages_neither_skip_nor_repeat(owner, practitioner, acme):
    for n in range(4):
        add_history(owner, practitioner, acme, offset=n * 0.5)  # interleaved, some equal times
    whole = [(i["source"], i["id"]) for i in page(owner, acme, limit=100)["items"]]
    assert len(whole) == len(set(whole)) == 4 * 9
    seen, cursor = [], None
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        body = page(owner, acme, **params)
        seen += [(i["source"], i["id"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == whole
    times = [i["at"] for i in page(owner, acme, limit=100)["items"]]
    assert times == sorted(times, reverse=True)


def test_filters_by_kind_and_member(owner, practitioner, acme):
    add_history(owner, practitioner, acme)
    kinds = page(owner, acme, kind="touchpoint,health")["items"]
    assert [i["kind"] for i in kinds] == ["health_changed", "touchpoint"]
    done_by = page(owner, acme, member=practitioner.member.pk)["items"]
    # Health and play runs know no member, and are left out.
    assert [i["kind"] for i in done_by] == ["attribute_changed", "task_completed", "task_created"]
    assert [i["kind"] for i in page(owner, acme, member=owner.member.pk)["items"]] == [
        "stage_changed",
        "touchpoint",
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ("kind=gossip", "kind"),
        ("cursor=xyz", "cursor"),
        ("member=999999", "member"),
        ("limit=0", "limit"),
    ],
)
def test_bad_parameters_name_the_field(owner, acme, params, field):
    response = owner.api.get(API.format(acme.pk) + "?" + params)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field


def test_outsiders_get_404_everywhere(owner, practitioner, outsider, acme):
    add_history(owner, practitioner, acme)
    assert outsider.api.get(API.format(acme.pk)).status_code == 404
    assert outsider.browser.get(f"/accounts/{acme.pk}/timeline/").status_code == 404
    assert outsider.browser.get(f"/accounts/{acme.pk}/").status_code == 404


def test_the_profile_shows_the_timeline_and_scrolls_on(owner, practitioner, viewer, acme):
    for n in range(3):
        add_history(owner, practitioner, acme, offset=n * 20)
    html = viewer.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert 'id="timeline"' in html and "Health: Good → Poor" in html
    assert "<script>x</script>" not in html and "<strong>ok</strong>" in html
    assert 'hx-trigger="intersect once"' in html
    assert 'id="log-touchpoint"' not in html  # a viewer logs nothing
    more = html.split('class="tl-more" hx-get="')[1].split('"')[0].replace("&amp;", "&")
    fragment = viewer.browser.get(more, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert fragment.content.decode().count('class="tl-item') == 27 - 20
    filtered = viewer.browser.get(f"/accounts/{acme.pk}/timeline/?tl_kind=touchpoint")
    assert filtered.content.decode().count('class="tl-item') == 3
    bad = viewer.browser.get(f"/accounts/{acme.pk}/timeline/?tl_kind=gossip")
    assert bad.status_code == 400 and b"kind" in bad.content
    # On the profile itself a bad filter is shown, and the whole timeline with it.
    shown = viewer.browser.get(f"/accounts/{acme.pk}/?tl_kind=gossip").content.decode()
    assert "unknown kind" in shown and shown.count('class="tl-item') == 20


def _queries(persona, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert persona.browser.get(url).status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_the_number_of_items(owner, practitioner, acme):
    add_history(owner, practitioner, acme)
    url_api, url_page = API.format(acme.pk) + "?limit=100", f"/accounts/{acme.pk}/timeline/"
    owner.browser.get(url_page)  # log in first: the session's own queries are not the page's
    small_api, small_page = _queries(owner, url_api), _queries(owner, url_page)
    for n in range(1, 8):
        add_history(owner, practitioner, acme, offset=n * 20)
    assert _queries(owner, url_api) == small_api
    assert _queries(owner, url_page) == small_page
    assert small_api <= 22, (
        small_api
    )  # one per source (12), touchpoints' people and files, the request's own


def test_notable_usage_shows_and_pages_with_millisecond_times(owner, acme, workspace):
    from tend.accounts.models import EndUser
    from tend.lib.dates import day_number
    from tend.usage.models import AccountActivityDay, UserUsage

    base_ms = int(START.timestamp()) * 1000
    for n in range(5):
        person = EndUser.objects.create(
            workspace=workspace, account=acme, external_id=f"u{n}", name=f"User {n}"
        )
        # Two users first seen in the same millisecond: the id breaks the tie.
        UserUsage.objects.create(
            workspace=workspace, end_user=person, first_seen_ms=base_ms + 3_600_000 * (n // 2)
        )
    first_day = day_number(START.date())
    for module, day in (
        ("reports", first_day),
        ("reports", first_day + 3),
        ("admin", first_day + 1),
    ):
        AccountActivityDay.objects.create(
            workspace=workspace, account=acme, day=day, activity="open", module=module, events=3
        )
    # A touchpoint half a millisecond after a user's first activity.
    log_touchpoint(
        owner.actor,
        acme,
        {"subject": "Between", "occurred_at": START + datetime.timedelta(microseconds=500)},
    )
    whole = page(owner, acme, limit=100)["items"]
    titles = [i["title"] for i in whole]
    assert titles.count("First use of reports") == 1 and "First use of admin" in titles
    assert {t for t in titles if t.startswith("First activity")} == {
        f"First activity from User {n}" for n in range(5)
    }
    seen, cursor = [], None
    while True:
        body = page(owner, acme, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [i["title"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == titles and len(seen) == 8
    assert titles.index("Note: Between") < titles.index("First activity from User 0")


def test_a_first_value_reads_as_set_to(owner, acme):
    AttributeChange.objects.create(
        workspace=acme.workspace,
        account=acme,
        key="plan",
        from_value=None,
        to_value="gold",
        changed_at=at(1),
        changed_by=owner.member,
    )
    [item] = page(owner, acme, kind="attribute")["items"]
    assert item["title"] == "plan set to “gold”"


def _active_days(workspace, account, days, events=4):
    from tend.usage.models import AccountDay

    for day in days:
        AccountDay.objects.create(workspace=workspace, account=account, day=day, events=events)


def test_usage_dropping_to_zero_is_a_week_without_events_after_activity(owner, acme, workspace):
    from tend.lib.dates import date_of, today, zone

    now = today(zone(workspace.time_zone))
    d = now - 60
    _active_days(workspace, acme, range(d, d + 5))  # five active days, then…
    # …exactly 7 quiet days (d+5 … d+11): a stop on d+5, resumed on d+12;
    _active_days(workspace, acme, [d + 12, d + 13])
    # only 6 quiet days (d+14 … d+19): a weekend and a holiday, not a stop;
    _active_days(workspace, acme, [d + 20])
    # a day row without events is no activity: silence from d+21 until d+40;
    _active_days(workspace, acme, [d + 30], events=0)
    _active_days(workspace, acme, range(d + 41, now - 7))  # daily until now - 8
    # …and nothing since now - 8: days now-7 … now-1 are 7 whole quiet days: a stop.
    items = page(owner, acme, kind="usage_stopped")["items"]
    assert [
        (i["data"]["stopped_on"], i["data"]["resumed_on"], i["data"]["quiet_days"]) for i in items
    ] == [
        (date_of(now - 7).isoformat(), None, 7),
        (date_of(d + 21).isoformat(), date_of(d + 41).isoformat(), 20),
        (date_of(d + 5).isoformat(), date_of(d + 12).isoformat(), 7),
    ]
    assert {i["title"] for i in items} == {"Usage dropped to zero"}
    assert items[0]["detail"].startswith("No events since ") and items[0]["detail"].endswith(
        "(7 days)"
    )
    assert "usage resumed on" in items[1]["detail"]
    # Local midnight of the first quiet day, in the workspace's time zone.
    from tend.usage.timeline import _day_start

    at = datetime.datetime.fromisoformat(items[0]["at"].replace("Z", "+00:00"))
    assert at == _day_start(now - 7, zone(workspace.time_zone))
    # Paging one at a time gives the same three; the member filter leaves usage out.
    seen, cursor = [], None
    while True:
        body = page(
            owner, acme, kind="usage_stopped", limit=1, **({"cursor": cursor} if cursor else {})
        )
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]
    assert page(owner, acme, kind="usage_stopped", member=owner.member.pk)["items"] == []


def test_usage_stopped_less_than_a_week_ago_is_not_yet_a_drop(owner, acme, workspace):
    from tend.lib.dates import today, zone

    now = today(zone(workspace.time_zone))
    _active_days(workspace, acme, [now - 20, now - 7])  # 12 quiet days, then 6 so far
    items = page(owner, acme, kind="usage_stopped")["items"]
    assert [i["data"]["quiet_days"] for i in items] == [12]
