"""The play editor's pages: build and change a play, structural edits, errors beside their
input with nothing typed lost, the template preview, status changes, and who may do what."""

import re

import pytest
from django.test import Client

from tend.accounts.actions.definitions.stages import create_stage
from tend.plays import editor
from tend.plays.actions import create_play, set_status
from tend.plays.models import Play, PlayRun, PlayStatus, PlayStep, RunStatus
from tend.plays.tests.conftest import enter, tag_play, tick
from tend.work.models import Task


def _form(segment, owner, **extra) -> dict:
    """The editor's post for a segment-entered play with one create-task step."""
    data = {
        "name": "Kickoff",
        "description": "Call new customers",
        "owner_id": "",
        "trigger_kind": "segment_entered",
        "t-segment_id": str(segment.pk),
        "condition-mode": "builder",
        "condition-r-kind": "all",
        "condition-r_0-kind": "clause",
        "run_policy": "once_per_occurrence",
        "policy_days": "",
        "step": ["s1"],
        "s1-kind": "create_task",
        "s1-title": "Kickoff call with {{ account.name }}",
        "s1-description": "",
        "s1-type": "call",
        "s1-priority": "high",
        "s1-due_in_days": "3",
        "s1-assignee_role": "",
        "s1-assignee_member_id": str(owner.member.pk),
        "s1-assignee_team_id": "",
        "s1-fallback_member_id": "",
        "sample": "acme",
    }
    data.update(extra)
    return data


def _steps_in_order(html: str) -> list[str]:
    return re.findall(r'name="step" value="(s\d+)"', html)


def _error_of(html: str, input_name: str) -> str:
    """The error shown in the field holding ``input_name``."""
    start = html.index(f'name="{input_name}"')
    field_start = html.rindex('<div class="field', 0, start)
    end = (
        html.index('<div class="field', start) if '<div class="field' in html[start:] else len(html)
    )
    block = html[field_start:end]
    match = re.search(r'<div class="error" role="alert">(.*?)</div>', block, re.S)
    assert match, f"no error beside {input_name}"
    assert "has-error" in block[:200]
    return match.group(1)


# --- building a play ----------------------------------------------------------------------


def test_the_new_play_page_draws_every_section(owner, book, static_segment):
    page = owner.browser.get("/plays/new/")
    html = page.content.decode()
    assert page.status_code == 200
    for words in (
        "the trigger fires",
        "the account matches",
        "Create a task",
        "Add a step",
        'id="condition-builder"',
        "Once per account, ever",
        "Save and dry-run",
    ):
        assert words in html, words
    assert 'name="t-segment_id"' in html and "New customers" in html
    assert f'<option value="{owner.member.pk}" selected>' in html  # the owner defaults to me


def test_a_play_built_in_the_form_is_saved_as_a_draft(owner, book, static_segment):
    response = owner.browser.post("/plays/new/", _form(static_segment, owner))
    play = Play.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/plays/{play.pk}/"
    assert (
        play.status == PlayStatus.DRAFT
        and play.owner is None
        and play.description == "Call new customers"
    )
    assert (play.trigger_kind, play.trigger_config) == (
        "segment_entered",
        {"segment_id": static_segment.pk},
    )
    assert play.condition is None and play.run_policy == "once_per_occurrence"
    step = PlayStep.objects.get(play=play)
    assert step.kind == "create_task"
    assert step.config["title"] == "Kickoff call with {{ account.name }}"
    assert (step.config["type"], step.config["priority"], step.config["due_in_days"]) == (
        "call",
        "high",
        3,
    )
    assert step.config["assignee_member_id"] == owner.member.pk


def test_save_and_dry_run_goes_to_the_dry_run(owner, book, static_segment):
    response = owner.browser.post("/plays/new/", _form(static_segment, owner, then="dry_run"))
    assert response["Location"] == f"/plays/{Play.objects.get().pk}/dry-run/"


def test_a_condition_a_policy_and_a_branch_with_its_own_builder(owner, book, static_segment):
    data = _form(
        static_segment,
        owner,
        **{
            "condition-r_0-field": "attributes.plan",
            "condition-r_0-was": "attributes.plan",
            "condition-r_0-op": "eq",
            "condition-r_0-value": "enterprise",
            "run_policy": "every_n_days",
            "policy_days": "30",
            "step": ["s2", "s1"],
            "s2-kind": "branch",
            "s2c-mode": "builder",
            "s2c-r-kind": "all",
            "s2c-r_0-kind": "clause",
            "s2c-r_0-field": "status",
            "s2c-r_0-was": "status",
            "s2c-r_0-op": "eq",
            "s2c-r_0-value": "paying",
            "s2-then_position": "",
            "s2-else_position": "0",
        },
    )
    response = owner.browser.post("/plays/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    play = Play.objects.get()
    assert play.condition == {
        "all": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]
    }
    assert (play.run_policy, play.policy_days) == ("every_n_days", 30)
    branch, task = PlayStep.objects.filter(play=play).order_by("position")
    assert branch.kind == "branch" and task.kind == "create_task"
    assert branch.config == {
        "condition": {"all": [{"field": "status", "op": "eq", "value": "paying"}]},
        "else_position": 0,
    }


def test_an_event_trigger_takes_property_conditions(owner, book):
    data = _form(
        book["acme"],  # any object with a pk; the segment input is not posted for events
        owner,
        trigger_kind="event_received",
        **{
            "t-activity": "export",
            "t-properties-key": ["format", "rows", ""],
            "t-properties-value": ["csv", "10", ""],
        },
    )
    del data["t-segment_id"]
    assert owner.browser.post("/plays/new/", data).status_code == 302
    play = Play.objects.get()
    assert play.trigger_config == {
        "activity": "export",
        "properties": {"format": "csv", "rows": 10},
    }


# --- errors beside their input, nothing typed lost ------------------------------------------


@pytest.mark.parametrize(
    ("change", "input_name", "words"),
    [
        ({"name": "  "}, "name", "Is required"),
        ({"t-segment_id": "99999"}, "t-segment_id", "No segment with id 99999"),
        ({"s1-assignee_member_id": ""}, None, "exactly one of assignee_role"),
        ({"s1-title": "Call {% if %}"}, "s1-title", "Line 1: Unexpected end of expression"),
        ({"s1-due_in_days": "soon"}, "s1-due_in_days", "valid integer"),
        ({"run_policy": "every_n_days"}, "policy_days", "is required with the every_n_days"),
    ],
)
def test_bad_input_is_shown_beside_its_input_and_nothing_typed_is_lost(
    owner, book, static_segment, change, input_name, words
):
    data = _form(static_segment, owner, description="Typed with care", **change)
    response = owner.browser.post("/plays/new/", data)
    html = response.content.decode()
    assert response.status_code == 422
    if input_name == "policy_days":
        assert "Days: Is required with the every_n_days" in html
    elif input_name:
        assert words in _error_of(html, input_name)
    else:  # a rule across the step's inputs: on the step
        assert re.search(
            r'<li class="play-step play-step-invalid"[^>]*>.*?<div class="error" role="alert">[^<]*'
            + words,
            html,
            re.S,
        )
    assert (
        "Typed with care" in html
        and "Kickoff call with {{ account.name }}" in html
        or "Call {% if %}" in html
    )
    assert Play.objects.count() == 0


def test_a_wrong_condition_row_says_so_under_that_row(owner, book, static_segment):
    data = _form(
        static_segment,
        owner,
        **{
            "condition-r_0-field": "attributes.plan",
            "condition-r_0-was": "attributes.plan",
            "condition-r_0-op": "eq",
            "condition-r_0-value": "platinum",
        },
    )
    response = owner.browser.post("/plays/new/", data)
    html = response.content.decode()
    assert response.status_code == 422
    row_error = re.search(r'id="condition-r_0-error"[^>]*>(.*?)</div>', html, re.S)
    assert row_error and "platinum" in row_error.group(1)
    assert Play.objects.count() == 0


def test_a_branch_condition_error_lands_in_the_branch_builder(owner, book, static_segment):
    data = _form(
        static_segment,
        owner,
        **{
            "step": ["s1", "s2"],
            "s2-kind": "branch",
            "s2c-mode": "builder",
            "s2c-r-kind": "all",
            "s2c-r_0-kind": "clause",
            "s2c-r_0-field": "nope",
            "s2c-r_0-was": "nope",
            "s2c-r_0-op": "eq",
            "s2c-r_0-value": "x",
        },
    )
    html = owner.browser.post("/plays/new/", data).content.decode()
    row_error = re.search(r'id="s2c-r_0-error"[^>]*>(.*?)</div>', html, re.S)
    assert row_error and row_error.group(1).strip(), html[html.index('id="step-s2"') :][:3000]


# --- structural edits ---------------------------------------------------------------------


def test_steps_are_added_moved_and_removed_without_saving(owner, book, static_segment):
    data = _form(static_segment, owner, op="add_step", new_step_kind="add_tag")
    html = owner.browser.post("/plays/new/", data).content.decode()
    assert _steps_in_order(html) == ["s1", "s2"] and 'name="s2-tag"' in html
    data.update({"op": "up:s2", "step": ["s1", "s2"], "s2-kind": "add_tag", "s2-tag": "vip"})
    html = owner.browser.post("/plays/new/", data).content.decode()
    assert _steps_in_order(html) == ["s2", "s1"] and 'value="vip"' in html
    assert "Move step 1 up" in html and re.search(r'aria-label="Move step 1 up" disabled', html)
    data.update({"op": "remove:s1", "step": ["s2", "s1"]})
    html = owner.browser.post("/plays/new/", data).content.decode()
    assert _steps_in_order(html) == ["s2"] and 'value="vip"' in html and "Kickoff call" not in html
    assert Play.objects.count() == 0


def test_another_trigger_kind_shows_its_inputs(owner, book, static_segment):
    create_stage(owner.actor, {"name": "Adoption"})
    for kind, inputs in {
        "health_changed": ["t-from_rank", "t-to_rank"],
        "stage_changed": ["t-from_stage", "t-to_stage"],
        "attribute_changed": ["t-key", "t-from_value", "t-to_value"],
        "event_received": ["t-activity", "t-properties-key"],
        "schedule": ["t-cron", "t-segment_id"],
        "date_relative": ["t-attribute", "t-days", "t-direction"],
    }.items():
        html = owner.browser.post(
            "/plays/new/", _form(static_segment, owner, op="redraw", trigger_kind=kind)
        ).content.decode()
        for name in inputs:
            assert f'name="{name}"' in html, (kind, name)
    html = owner.browser.post(
        "/plays/new/", _form(static_segment, owner, op="redraw", trigger_kind="stage_changed")
    ).content.decode()
    assert '<option value="Adoption">Adoption</option>' in html
    html = owner.browser.post(
        "/plays/new/", _form(static_segment, owner, op="redraw", trigger_kind="date_relative")
    ).content.decode()
    assert (
        'value="renewal_date"' in html
        and 'value="plan"' not in html.split('name="t-attribute"')[1].split("</select>")[0]
    )


def test_every_step_kind_can_be_added(owner, book, static_segment):
    from tend.plays import steps

    for kind in steps.kinds():
        html = owner.browser.post(
            "/plays/new/", _form(static_segment, owner, op="add_step", new_step_kind=kind)
        ).content.decode()
        assert f'name="s2-kind" value="{kind}"' in html, kind


def test_the_editor_round_trips_every_kind_unchanged(owner, book, static_segment):
    """A play read into the form and built back is the same play: nothing is lost by
    opening and saving it."""
    from tend.accounts.conditions import account_catalog

    play = create_play(
        owner.actor,
        {
            "name": "Everything",
            "trigger": {"kind": "attribute_changed", "config": {"key": "plan", "to_value": "pro"}},
            "condition": {
                "all": [{"field": "attributes.plan", "op": "in", "value": ["pro", "enterprise"]}]
            },
            "run_policy": "every_n_days",
            "policy_days": 14,
            "steps": [
                {
                    "kind": "create_task",
                    "config": {
                        "title": "Hi {{ account.name }}",
                        "assignee_member_id": owner.member.pk,
                        "due_in_days": 2,
                    },
                },
                {
                    "kind": "send_email",
                    "config": {
                        "to_members": [owner.member.pk],
                        "to_contacts": "key",
                        "subject": "S",
                        "body": "B",
                    },
                },
                {"kind": "set_attribute", "config": {"key": "plan", "value": "pro"}},
                {"kind": "add_tag", "config": {"tag": "vip"}},
                {"kind": "wait", "config": {"days": 3}},
                {
                    "kind": "branch",
                    "config": {
                        "condition": {"all": [{"field": "status", "op": "eq", "value": "paying"}]},
                        "else_position": 0,
                    },
                },
                {"kind": "add_to_segment", "config": {"segment_id": static_segment.pk}},
            ],
        },
    )
    before = [(s.kind, s.config) for s in PlayStep.objects.filter(play=play).order_by("position")]
    sources = editor.Sources(owner.actor)
    catalog = account_catalog(owner.workspace)
    built = editor.build(editor.from_play(play, sources), sources, catalog)
    assert built.error is None
    from tend.plays.actions import update_play

    update_play(owner.actor, play, built.data)
    play.refresh_from_db()
    assert [
        (s.kind, s.config) for s in PlayStep.objects.filter(play=play).order_by("position")
    ] == before
    assert play.trigger_config == {"key": "plan", "to_value": "pro"}
    assert play.condition == {
        "all": [{"field": "attributes.plan", "op": "in", "value": ["pro", "enterprise"]}]
    }
    assert (play.run_policy, play.policy_days) == ("every_n_days", 14)


# --- editing ------------------------------------------------------------------------------


def test_editing_shows_the_play_and_saves_changes(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    html = owner.browser.get(f"/plays/{play.pk}/edit/").content.decode()
    assert (
        'value="Onboarding kickoff"' in html
        and 'name="s1-tag" id="id_s1-tag" value="onboarding"' in html
    )
    assert f'<option value="{static_segment.pk}" selected>' in html
    data = {
        "name": "Renamed",
        "owner_id": str(owner.member.pk),
        "trigger_kind": "segment_entered",
        "t-segment_id": str(static_segment.pk),
        "run_policy": "once_per_account",
        "step": ["s1"],
        "s1-kind": "add_tag",
        "s1-tag": "kickoff",
    }
    response = owner.browser.post(f"/plays/{play.pk}/edit/", data)
    assert response.status_code == 302
    play.refresh_from_db()
    assert (play.name, play.run_policy, play.owner_id) == (
        "Renamed",
        "once_per_account",
        owner.member.pk,
    )
    assert PlayStep.objects.get(play=play).config == {"tag": "kickoff"}


def test_an_archived_play_cannot_be_edited(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    set_status(owner.actor, play, "archived")
    response = owner.browser.get(f"/plays/{play.pk}/edit/", follow=True)
    assert "An archived play cannot be changed" in response.content.decode()
    assert owner.browser.post(f"/plays/{play.pk}/edit/", {"name": "x"}).status_code == 302
    play.refresh_from_db()
    assert play.name == "Onboarding kickoff"


# --- the template preview -------------------------------------------------------------------


def test_the_preview_renders_a_tasks_templates_for_the_sample_account(owner, book, static_segment):
    html = owner.browser.post(
        "/plays/preview/", _form(static_segment, owner, preview="s1", sample="globex")
    ).content.decode()
    assert "Kickoff call with Globex" in html and "nothing is saved or sent" in html
    assert Task.objects.count() == 0 and Play.objects.count() == 0


def test_the_preview_of_an_email_names_its_recipients(owner, book, static_segment):
    data = _form(
        static_segment,
        owner,
        preview="s2",
        sample="acme",
        **{
            "step": ["s1", "s2"],
            "s2-kind": "send_email",
            "s2-to_members": [str(owner.member.pk)],
            "s2-subject": "Welcome, {{ account.name }}",
            "s2-body": "Hello **{{ account.name }}**",
        },
    )
    html = owner.browser.post("/plays/preview/", data).content.decode()
    assert "owner@acme.test" in html and "Welcome, Acme" in html and "Hello" in html


def test_the_preview_says_what_is_wrong(owner, book, static_segment):
    html = owner.browser.post(
        "/plays/preview/", _form(static_segment, owner, preview="s1", **{"s1-title": "{% if %}"})
    ).content.decode()
    assert "Title:" in html and "play-preview-problem" in html
    html = owner.browser.post(
        "/plays/preview/", _form(static_segment, owner, preview="s1", sample="ghost")
    ).content.decode()
    assert "No account has external id “ghost”" in html
    assert (
        owner.browser.post(
            "/plays/preview/", _form(static_segment, owner, preview="s9")
        ).status_code
        == 400
    )


# --- status changes ---------------------------------------------------------------------------


def test_activating_asks_about_backfill_and_runs_for_accounts_already_matching(
    owner, book, static_segment
):
    play = tag_play(owner, static_segment, status="draft")
    enter(owner, static_segment, book["acme"], book["globex"])
    html = owner.browser.post(
        f"/plays/{play.pk}/status/", {"status": "active"}, follow=True
    ).content.decode()
    assert "Not activated" in html and "already matching" in html
    play.refresh_from_db()
    assert play.status == PlayStatus.DRAFT
    html = owner.browser.post(
        f"/plays/{play.pk}/status/", {"status": "active", "backfill": "yes"}, follow=True
    ).content.decode()
    assert "activated. Started 2 runs for accounts already matching" in html
    play.refresh_from_db()
    assert play.status == PlayStatus.ACTIVE and PlayRun.objects.filter(play=play).count() == 2


def test_activating_for_new_occurrences_only_starts_nothing_now(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    enter(owner, static_segment, book["acme"])
    html = owner.browser.post(
        f"/plays/{play.pk}/status/", {"status": "active", "backfill": "no"}, follow=True
    ).content.decode()
    assert "runs for new occurrences" in html
    tick(owner.workspace)
    assert PlayRun.objects.filter(play=play).count() == 0


def test_pause_resume_and_archive(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    html = owner.browser.get(f"/plays/{play.pk}/").content.decode()
    assert ">Pause</button>" in html and ">Archive</button>" in html
    owner.browser.post(f"/plays/{play.pk}/status/", {"status": "paused"})
    play.refresh_from_db()
    assert play.status == PlayStatus.PAUSED
    assert ">Resume</button>" in owner.browser.get(f"/plays/{play.pk}/").content.decode()
    html = owner.browser.post(
        f"/plays/{play.pk}/status/", {"status": "active"}, follow=True
    ).content.decode()
    assert "resumed" in html
    enter(owner, static_segment, book["acme"])
    from tend.plays.polling import poll_workspace

    poll_workspace(owner.workspace)  # a run is open, not yet advanced
    owner.browser.post(f"/plays/{play.pk}/status/", {"status": "archived"})
    play.refresh_from_db()
    assert play.status == PlayStatus.ARCHIVED
    assert PlayRun.objects.get(play=play).status == RunStatus.CANCELLED
    html = owner.browser.get(f"/plays/{play.pk}/").content.decode()
    assert f"/plays/{play.pk}/edit/" not in html and ">Archive</button>" not in html


def test_a_play_without_steps_is_not_activated(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft", steps=[])
    html = owner.browser.post(
        f"/plays/{play.pk}/status/", {"status": "active", "backfill": "no"}, follow=True
    ).content.decode()
    assert "Not activated: a play needs at least one step" in html
    play.refresh_from_db()
    assert play.status == PlayStatus.DRAFT


# --- the dry run ------------------------------------------------------------------------------


def test_the_dry_run_shows_tasks_recipients_and_changes_without_doing_them(
    owner, book, static_segment
):
    play = tag_play(
        owner,
        static_segment,
        status="draft",
        condition={"all": [{"field": "attributes.plan", "op": "eq", "value": "enterprise"}]},
        steps=[
            {
                "kind": "create_task",
                "config": {
                    "title": "Call {{ account.name }}",
                    "assignee_member_id": owner.member.pk,
                },
            },
            {
                "kind": "send_email",
                "config": {
                    "to_members": [owner.member.pk],
                    "subject": "About {{ account.name }}",
                    "body": "Hi",
                },
            },
            {"kind": "set_attribute", "config": {"key": "plan", "value": "pro"}},
        ],
    )
    enter(owner, static_segment, book["acme"], book["globex"])
    response = owner.browser.get(f"/plays/{play.pk}/dry-run/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Call Acme" in html and "To: owner@acme.test" in html and "About Acme" in html
    assert "<code>attributes.plan</code>: enterprise → pro" in html
    assert (
        "Would not run" in html and "does not match the play" in html
    )  # Globex is on the pro plan
    assert "The play is draft" in html
    assert Task.objects.count() == 0 and PlayRun.objects.count() == 0


def test_the_dry_run_is_paginated_and_its_queries_do_not_grow_with_the_accounts(
    owner, book, static_segment, monkeypatch, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tend.accounts.actions.accounts import create_account
    from tend.plays.views import dry_run as view

    monkeypatch.setattr(view, "PAGE", 2)
    play = tag_play(owner, static_segment, status="draft")
    enter(owner, static_segment, book["acme"], book["globex"])
    owner.browser.get(f"/plays/{play.pk}/dry-run/")  # the session's first request sets it up
    with CaptureQueriesContext(connection) as two:
        html = owner.browser.get(f"/plays/{play.pk}/dry-run/").content.decode()
    assert "1–2 of 2" in html and "Next →" not in html
    more = [
        create_account(
            owner.actor, {"external_id": f"extra{i}", "name": f"Extra {i}", "status": "paying"}
        )
        for i in range(5)
    ]
    enter(owner, static_segment, book["initech"], *more)
    with CaptureQueriesContext(connection) as eight:
        html = owner.browser.get(f"/plays/{play.pk}/dry-run/").content.decode()
    assert "1–2 of 8" in html and "Next →" in html
    assert len(eight) <= len(two) + 2, [q["sql"] for q in eight.captured_queries]
    html = owner.browser.get(f"/plays/{play.pk}/dry-run/?page=4").content.decode()
    assert "7–8 of 8" in html and "← Previous" in html and "Next →" not in html
    assert "Page 4 of 4" in owner.browser.get(f"/plays/{play.pk}/dry-run/?page=99").content.decode()


def test_the_dry_run_and_the_editor_link_each_other(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    assert f"/plays/{play.pk}/dry-run/" in owner.browser.get(f"/plays/{play.pk}/").content.decode()
    assert (
        f"/plays/{play.pk}/dry-run/"
        in owner.browser.get(f"/plays/{play.pk}/edit/").content.decode()
    )
    assert (
        f"/plays/{play.pk}/edit/"
        in owner.browser.get(f"/plays/{play.pk}/dry-run/").content.decode()
    )


# --- who may do what --------------------------------------------------------------------------


def test_viewers_and_contributors_may_look_but_not_change(
    owner, viewer, contributor, book, static_segment
):
    play = tag_play(owner, static_segment, status="draft")
    for persona in (viewer, contributor):
        client = persona.browser
        assert client.get("/plays/new/").status_code == 403
        assert client.post("/plays/new/", _form(static_segment, owner)).status_code == 403
        assert client.get(f"/plays/{play.pk}/edit/").status_code == 403
        assert (
            client.post(
                f"/plays/{play.pk}/edit/", _form(static_segment, owner, name="Hijacked")
            ).status_code
            == 403
        )
        assert (
            client.post(
                f"/plays/{play.pk}/status/", {"status": "active", "backfill": "yes"}
            ).status_code
            == 403
        )
        assert (
            client.post("/plays/preview/", _form(static_segment, owner, preview="s1")).status_code
            == 403
        )
        page = client.get(f"/plays/{play.pk}/dry-run/")
        assert page.status_code == 200 and "Activate…" not in page.content.decode()
        assert "New play" not in client.get("/plays/").content.decode()
    play.refresh_from_db()
    assert (play.name, play.status, Play.objects.count()) == ("Onboarding kickoff", "draft", 1)


def test_an_outsider_gets_404_everywhere(owner, outsider, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    client = outsider.browser
    assert client.get(f"/plays/{play.pk}/edit/").status_code == 404
    assert client.post(f"/plays/{play.pk}/edit/", {"name": "x"}).status_code == 404
    assert (
        client.post(
            f"/plays/{play.pk}/status/", {"status": "active", "backfill": "yes"}
        ).status_code
        == 404
    )
    assert client.get(f"/plays/{play.pk}/dry-run/").status_code == 404
    # Their own new play cannot name our segment.
    response = client.post("/plays/new/", _form(static_segment, outsider))
    assert (
        response.status_code == 422
        and f"No segment with id {static_segment.pk}" in response.content.decode()
    )
    play.refresh_from_db()
    assert (play.name, play.status) == ("Onboarding kickoff", "draft")


def test_the_editor_checks_csrf(owner, book, static_segment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post("/plays/new/", _form(static_segment, owner)).status_code == 403
    assert Play.objects.count() == 0


def test_the_editors_queries_do_not_grow_with_its_steps(owner, book, static_segment):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    task = {"kind": "create_task", "config": {"title": "Hi", "assignee_member_id": owner.member.pk}}
    one = tag_play(owner, static_segment, status="draft", name="One", steps=[task])
    many = tag_play(
        owner,
        static_segment,
        status="draft",
        name="Many",
        steps=[
            task,
            {"kind": "add_tag", "config": {"tag": "a"}},
            {"kind": "set_attribute", "config": {"key": "plan", "value": "pro"}},
            task,
            task,
        ],
    )
    owner.browser.get(f"/plays/{one.pk}/edit/")  # the session's first request sets it up
    with CaptureQueriesContext(connection) as few:
        assert owner.browser.get(f"/plays/{one.pk}/edit/").status_code == 200
    with CaptureQueriesContext(connection) as more:
        assert owner.browser.get(f"/plays/{many.pk}/edit/").status_code == 200
    assert len(more) <= len(few) + 1, [q["sql"] for q in more.captured_queries]
    assert len(few) <= 20


def test_a_builder_button_without_javascript_redraws_the_editor(owner, book, static_segment):
    response = owner.browser.post(
        "/plays/new/", _form(static_segment, owner, **{"condition-op": "add_clause:r"})
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'name="condition-r_1-kind"' in html
    assert "Kickoff call with {{ account.name }}" in html and Play.objects.count() == 0
