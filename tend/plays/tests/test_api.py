"""The plays API: CRUD and status with backfill, dry run, manual run, runs with their log,
why-not; outsiders get 404, viewers 403, bad input 422 naming the field."""

import pytest

from tend.plays.models import Play, PlayRun
from tend.plays.tests.conftest import enter, tick

URL = "/api/v1/plays"


def body(segment, **extra):
    return {
        "name": "Onboarding kickoff",
        "trigger": {"kind": "segment_entered", "config": {"segment_id": segment.pk}},
        "steps": [{"kind": "add_tag", "config": {"tag": "onboarding"}}],
        **extra,
    }


def post(client, url, data):
    return client.post(url, data=data, content_type="application/json")


def test_create_activate_run_and_read_the_log(owner, book, static_segment):
    created = post(owner.api, URL, body(static_segment))
    assert created.status_code == 201, created.json()
    play = created.json()
    assert play["status"] == "draft" and play["steps"][0]["position"] == 1
    refused = post(owner.api, f"{URL}/{play['id']}/status", {"status": "active"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "backfill"
    activated = post(owner.api, f"{URL}/{play['id']}/status", {"status": "active", "backfill": False})
    assert activated.json()["play"]["status"] == "active"
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    runs = owner.api.get(f"{URL}/{play['id']}/runs?account_external_id=acme").json()
    assert [r["status"] for r in runs["items"]] == ["done"]
    assert runs["items"][0]["log"][0]["outcome"] == "done"
    assert "entered segment" in runs["items"][0]["cause"]
    why = owner.api.get(f"{URL}/{play['id']}/why-not?account_external_id=acme").json()
    assert why["stopped_by"] is None and why["verdict"].startswith("It ran")


def test_dry_run_and_why_not_for_a_draft(owner, book, static_segment):
    enter(owner, static_segment, book["acme"])
    play = post(owner.api, URL, body(static_segment)).json()
    dry = post(owner.api, f"{URL}/{play['id']}/dry-run", {})
    assert dry.status_code == 200
    assert dry.json()["would_run"] == 1 and dry.json()["items"][0]["steps"][0]["summary"] == "Add tag 'onboarding'."
    assert not PlayRun.objects.exists()
    why = owner.api.get(f"{URL}/{play['id']}/why-not?account_external_id=acme").json()
    assert why["stopped_by"] == "status"


def test_manual_run_by_external_id_and_segment(owner, book, static_segment):
    play = post(owner.api, URL, body(static_segment, name="Manual", trigger={"kind": "manual", "config": {}})).json()
    post(owner.api, f"{URL}/{play['id']}/status", {"status": "active", "backfill": False})
    answer = post(owner.api, f"{URL}/{play['id']}/run", {"external_ids": ["acme", "ghost"]})
    assert answer.status_code == 200
    assert answer.json()["counts"]["started"] == 1 and answer.json()["errors"][0]["field"] == "external_ids.1"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"trigger": {"kind": "nope", "config": {}}}, "trigger.kind"),
        ({"trigger": {"kind": "segment_entered", "config": {}}}, "trigger.config.segment_id"),
        ({"trigger": {"kind": "schedule", "config": {"cron": "every monday", "segment_id": 1}}}, "trigger.config.cron"),
        ({"steps": [{"kind": "add_tag", "config": {"tag": ""}}]}, "steps.0.config.tag"),
        ({"condition": {"field": "nope", "op": "eq", "value": 1}}, "condition.field"),
        ({"run_policy": "every_n_days"}, "policy_days"),
        ({"run_policy": "sometimes"}, "run_policy"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_names_the_field(owner, book, static_segment, change, field):
    answer = post(owner.api, URL, {**body(static_segment), **change})
    assert answer.status_code == 422, answer.json()
    assert answer.json()["errors"][0]["field"] == field


def test_viewer_reads_but_cannot_write(owner, viewer, book, static_segment):
    play = post(owner.api, URL, body(static_segment)).json()
    assert viewer.api.get(f"{URL}/{play['id']}").status_code == 200
    assert post(viewer.api, URL, body(static_segment, name="Mine")).status_code == 403
    assert post(viewer.api, f"{URL}/{play['id']}/status", {"status": "active", "backfill": False}).status_code == 403
    assert viewer.api.patch(f"{URL}/{play['id']}", data={"name": "x"}, content_type="application/json").status_code == 403
    assert post(viewer.api, f"{URL}/{play['id']}/run", {"external_ids": ["acme"]}).status_code == 403
    assert Play.objects.get().status == "draft"


def test_outsider_gets_404(owner, outsider, book, static_segment):
    play = post(owner.api, URL, body(static_segment)).json()
    for method, url in [
        ("get", f"{URL}/{play['id']}"),
        ("get", f"{URL}/{play['id']}/runs"),
        ("get", f"{URL}/{play['id']}/why-not?account_external_id=acme"),
        ("post", f"{URL}/{play['id']}/dry-run"),
        ("post", f"{URL}/{play['id']}/status"),
    ]:
        answer = getattr(outsider.api, method)(url, **({"data": {}, "content_type": "application/json"} if method == "post" else {}))
        assert answer.status_code == 404, url
    assert outsider.api.get(URL).json()["items"] == []


def test_list_pages_with_counts_in_bounded_queries(owner, book, static_segment, django_assert_max_num_queries):
    for n in range(3):
        post(owner.api, URL, body(static_segment, name=f"P{n}"))
    with django_assert_max_num_queries(12):
        first = owner.api.get(f"{URL}?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = owner.api.get(f"{URL}?limit=2&cursor={first['next_cursor']}").json()
    assert [p["name"] for p in second["items"]] == ["P2"] and second["next_cursor"] is None


def test_runs_list_is_bounded_in_queries(owner, book, static_segment, django_assert_max_num_queries):
    play = post(owner.api, URL, body(static_segment)).json()
    post(owner.api, f"{URL}/{play['id']}/status", {"status": "active", "backfill": False})
    enter(owner, static_segment, book["acme"], book["globex"], book["initech"])
    tick(owner.workspace)
    with django_assert_max_num_queries(12):
        runs = owner.api.get(f"{URL}/{play['id']}/runs?limit=2").json()
    assert len(runs["items"]) == 2 and runs["next_cursor"]


def test_kinds_lists_every_trigger_and_step_with_a_schema(owner):
    kinds = owner.api.get(f"{URL}/kinds").json()
    assert {"segment_entered", "schedule", "date_relative", "manual"} <= {k["kind"] for k in kinds["triggers"]}
    assert {"add_tag", "wait", "branch"} <= {k["kind"] for k in kinds["steps"]}
    assert "properties" in kinds["steps"][0]["config_schema"]
