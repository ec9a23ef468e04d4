"""log_touchpoint: a play logs a touchpoint on the account with its rendered subject and body,
once per step run; the dry run writes nothing; a type the workspace does not have is refused
naming the field."""

import pytest

from tend.plays.models import PlayRun, PlayRunStep, RunStatus
from tend.plays.tests.test_message_steps import rerun
from tend.plays.tests.test_task_step import run_play
from tend.work.models import Touchpoint

URL = "/api/v1/plays"


def step(**config):
    return {
        "kind": "log_touchpoint",
        "config": {
            "subject": "Welcome pack sent to {{ account.name }}",
            "body": "Plan: **{{ account.attributes.plan }}**",
            "type": "email",
            "sentiment": "positive",
            **config,
        },
    }


def test_a_touchpoint_once_per_step_run(owner, book, static_segment):
    play, runs = run_play(owner, static_segment, [book["acme"]], [step()])
    run = runs[book["acme"].pk]
    assert run.status == RunStatus.DONE, run.reason
    touchpoint = Touchpoint.objects.get()
    assert (touchpoint.subject, touchpoint.body, touchpoint.type, touchpoint.sentiment) == (
        "Welcome pack sent to Acme",
        "Plan: **enterprise**",
        "email",
        "positive",
    )
    assert (touchpoint.play_id, touchpoint.author_name, touchpoint.account_id) == (
        play.pk,
        "Play: Onboarding kickoff",
        book["acme"].pk,
    )
    assert PlayRunStep.objects.get(run=run).detail["touchpoint_id"] == touchpoint.pk
    again = rerun(run)
    assert again.detail == {"touchpoint_id": touchpoint.pk, "created": False}
    assert Touchpoint.objects.count() == 1


@pytest.mark.parametrize(
    "config, field",
    [({"type": "seance"}, "steps.0.config.type"), ({"subject": ""}, "steps.0.config.subject")],
)
def test_bad_config_names_the_field(owner, static_segment, config, field):
    response = owner.api.post(
        URL,
        {
            "name": "Bad",
            "trigger": {"kind": "segment_entered", "config": {"segment_id": static_segment.pk}},
            "steps": [step(**config)],
        },
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not PlayRun.objects.exists()


def test_the_editor_offers_the_workspaces_types_and_a_preview(owner, book):
    from tend.plays import editor
    from tend.plays.steps.touchpoint import LogTouchpointConfig
    from tend.work.actions import create_touchpoint_type

    create_touchpoint_type(owner.actor, "Site visit")
    found = {
        i.name: i
        for i in editor.inputs("log_touchpoint", LogTouchpointConfig, editor.Sources(owner.actor))
    }
    assert ("site_visit", "Site visit") in found["type"].choices
    assert ("qbr", "QBR") in found["type"].choices
    assert found["subject"].control == "template" and found["body"].control == "template"
    assert found["sentiment"].control == "select"
    assert "log_touchpoint" in editor.PREVIEWED
