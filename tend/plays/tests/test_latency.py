"""A committed change asks for a trigger poll at once (not only every 5 seconds), and the
worker then runs the play's first step: the path to "trigger-to-first-step ≤ 5 s"."""

import pytest
from django_scopes import scopes_disabled

from tend.jobs.models import Job
from tend.jobs.runner import Worker
from tend.plays.models import PlayRun, RunStatus
from tend.plays.signals import forget_cache
from tend.plays.tests.conftest import enter, tag_play


@pytest.mark.django_db(transaction=True)
def test_entering_a_segment_queues_a_poll_and_a_worker_runs_the_step(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    forget_cache()
    enter(owner, static_segment, book["acme"])
    with scopes_disabled():
        assert Job.objects.filter(kind="plays.poll_workspace", status="queued").exists()
    Worker(burst=True).run()
    with scopes_disabled():
        run = PlayRun.objects.get(play=play)
    assert run.status == RunStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_no_poll_is_queued_for_a_workspace_without_active_plays(owner, book, static_segment):
    tag_play(owner, static_segment, status="draft")
    forget_cache()
    enter(owner, static_segment, book["acme"])
    with scopes_disabled():
        assert not Job.objects.filter(kind="plays.poll_workspace").exists()
