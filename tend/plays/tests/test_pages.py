"""The plays pages: the list with counts, a play with its log and why-not; outsiders get
404; lists are bounded in queries."""

from tend.plays.tests.conftest import enter, tag_play, tick


def test_the_list_shows_status_trigger_and_counts(owner, book, static_segment, django_assert_max_num_queries):
    play = tag_play(owner, static_segment)
    tag_play(owner, static_segment, name="Risk outreach", status="draft")
    enter(owner, static_segment, book["acme"])
    tick(owner.workspace)
    owner.browser.get("/plays/")  # the session's first request sets it up
    with django_assert_max_num_queries(8):
        page = owner.browser.get("/plays/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Onboarding kickoff" in html and "Risk outreach" in html and "Account entered a segment" in html
    assert f'href="/plays/{play.pk}/"' in html
    assert 'href="/plays/"' in html  # the navigation entry


def test_an_empty_list_says_what_to_do_next(owner):
    html = owner.browser.get("/plays/").content.decode()
    assert "No plays yet" in html and "dry run" in html and "/plays/new/" in html


def test_a_play_shows_its_log_and_answers_why_not(owner, book, static_segment, django_assert_max_num_queries):
    play = tag_play(owner, static_segment)
    enter(owner, static_segment, book["acme"], book["globex"])
    tick(owner.workspace)
    owner.browser.get("/plays/")  # the session's first request sets it up
    # 11: one of them is the segments "Run now…" offers an active play (not per run).
    with django_assert_max_num_queries(11):
        page = owner.browser.get(f"/plays/{play.pk}/")
    html = page.content.decode()
    assert "Execution log" in html and "Added tag" in html and "entered segment" in html
    why = owner.browser.get(f"/plays/{play.pk}/?account=initech").content.decode()
    assert "Stopped by trigger" in why
    assert "No account has external id" in owner.browser.get(f"/plays/{play.pk}/?account=ghost").content.decode()


def test_a_draft_says_it_does_nothing(owner, book, static_segment):
    play = tag_play(owner, static_segment, status="draft")
    assert "it does nothing" in owner.browser.get(f"/plays/{play.pk}/").content.decode()


def test_viewer_reads_and_outsider_gets_404(owner, viewer, outsider, book, static_segment):
    play = tag_play(owner, static_segment)
    assert viewer.browser.get(f"/plays/{play.pk}/").status_code == 200
    assert outsider.browser.get(f"/plays/{play.pk}/").status_code == 404
    assert "Onboarding kickoff" not in outsider.browser.get("/plays/").content.decode()
