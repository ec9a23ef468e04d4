""""Run now…" on an active play's page: for a segment's members and pasted external ids,
as ``POST /api/v1/plays/{id}/run`` does; who may, and what is said when nothing can run."""

from django.contrib.messages import get_messages

from tend.plays.models import PlayRun
from tend.plays.tests.conftest import enter, tag_play, tick


def _said(response) -> list[str]:
    """What the page will say after the redirect, oldest first (messages not yet shown pile
    up in the session, so a test compares the last ones)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_active_play_offers_run_now_with_the_segments(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    html = owner.browser.get(f"/plays/{play.pk}/").content.decode()
    assert "Run now…" in html and f'action="/plays/{play.pk}/run/"' in html
    assert f'<option value="{static_segment.pk}">New customers</option>' in html
    draft = tag_play(owner, static_segment, status="draft", name="Draft")
    assert "Run now…" not in owner.browser.get(f"/plays/{draft.pk}/").content.decode()


def test_run_now_for_a_segment_and_pasted_ids_starts_one_run_each(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    enter(owner, static_segment, book["acme"])
    PlayRun.objects.all().delete()  # the entry's own run; only the manual ones count here
    response = owner.browser.post(
        f"/plays/{play.pk}/run/",
        {"segment": str(static_segment.pk), "external_ids": "globex,\n nobody"},
    )
    assert response.status_code == 302 and response["Location"] == f"/plays/{play.pk}/"
    said = _said(response)
    assert said[0] == "Started 2 runs of “Onboarding kickoff”."
    assert said[1] == "Not run for 1: no account with external id 'nobody'."
    runs = PlayRun.objects.filter(play=play)
    assert sorted(runs.values_list("account__external_id", flat=True)) == ["acme", "globex"]
    assert {r.cause_kind for r in runs} == {"manual"}
    tick(owner.workspace)
    assert set(book["globex"].tags.values_list("name", flat=True)) == {"onboarding"}


def test_run_now_with_nothing_chosen_or_a_paused_play_says_why(owner, book, static_segment):
    play = tag_play(owner, static_segment)
    response = owner.browser.post(f"/plays/{play.pk}/run/", {"segment": "", "external_ids": " "})
    assert _said(response)[-1] == "Not run: choose a segment or paste external ids."
    response = owner.browser.post(f"/plays/{play.pk}/run/", {"segment": "abc"})
    assert _said(response)[-1] == "Not run: choose a segment from the list."
    owner.browser.post(f"/plays/{play.pk}/status/", {"status": "paused"})
    response = owner.browser.post(f"/plays/{play.pk}/run/", {"external_ids": "acme"})
    assert _said(response)[-1].startswith("Not run: the play is paused: activate it first")
    assert not PlayRun.objects.filter(play=play).exists()


def test_viewers_cannot_run_and_outsiders_get_404(owner, viewer, outsider, book, static_segment):
    play = tag_play(owner, static_segment)
    assert "Run now…" not in viewer.browser.get(f"/plays/{play.pk}/").content.decode()
    assert viewer.browser.post(f"/plays/{play.pk}/run/", {"external_ids": "acme"}).status_code == 403
    assert outsider.browser.post(f"/plays/{play.pk}/run/", {"external_ids": "acme"}).status_code == 404
    assert owner.browser.get(f"/plays/{play.pk}/run/").status_code == 405
    assert not PlayRun.objects.filter(play=play).exists()
