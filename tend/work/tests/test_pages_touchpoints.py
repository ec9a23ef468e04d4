"""The touchpoint pages: the profile's "Log a touchpoint" panel posts a touchpoint with a
follow-up task and lands on the timeline; errors come back on the form naming the field;
the detail page renders Markdown inert; viewers may not log, contributors edit only their
own; outsiders get 404 on every page."""

import pytest

from tend.accounts.models import Contact
from tend.work.actions import log_touchpoint
from tend.work.models import Task, Touchpoint

pytestmark = pytest.mark.django_db


def form(**fields):
    data = {
        "type": "call",
        "occurred_at": "2026-11-27T15:30",
        "subject": "Renewal call",
        "body": "They want SSO. @owner@acme.test",
        "sentiment": "negative",
        "next": "/accounts/",
    }
    data.update(fields)
    return data


def test_the_profile_panel_logs_a_touchpoint_with_a_follow_up(owner, practitioner, acme, workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    vera = Contact.objects.create(workspace=workspace, account=acme, external_id="v", name="Vera")
    profile = owner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert 'id="log-touchpoint"' in profile and "Create a follow-up task" in profile
    response = owner.browser.post(
        f"/touchpoints/new/?account={acme.pk}",
        form(
            members=[practitioner.member.pk],
            contacts=[vera.pk],
            follow_up="on",
            follow_up_title="Send the SSO roadmap",
            follow_up_due="2026-12-01",
            follow_up_assignee=practitioner.member.pk,
            next=f"/accounts/{acme.pk}/#timeline",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/accounts/{acme.pk}/#timeline"
    touchpoint = Touchpoint.objects.get()
    # 15:30 in Paris is 14:30 UTC in November.
    assert touchpoint.occurred_at.isoformat() == "2026-11-27T14:30:00+00:00"
    assert (touchpoint.type, touchpoint.sentiment, touchpoint.author) == (
        "call",
        "negative",
        owner.member,
    )
    assert list(touchpoint.contacts.all()) == [vera]
    assert list(touchpoint.members.all()) == [practitioner.member]
    assert list(touchpoint.mentions.values_list("member", flat=True)) == [owner.member.pk]
    task = Task.objects.get()
    assert (task.title, str(task.due_date), task.assignee, touchpoint.follow_up_task) == (
        "Send the SSO roadmap",
        "2026-12-01",
        practitioner.member,
        task,
    )
    timeline = owner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert "Call: Renewal call" in timeline and "Task created: Send the SSO roadmap" in timeline


def test_errors_come_back_on_the_form(owner, acme):
    response = owner.browser.post(
        f"/touchpoints/new/?account={acme.pk}", form(subject="", follow_up="on")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html and "Name the follow-up task." in html
    assert not Touchpoint.objects.exists() and not Task.objects.exists()


def test_the_detail_page_renders_markdown_inert(owner, viewer, acme):
    touchpoint = log_touchpoint(
        owner.actor, acme, {"subject": "XSS", "body": "<script>alert(1)</script> **fine**"}
    )
    html = viewer.browser.get(f"/touchpoints/{touchpoint.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<strong>fine</strong>" in html
    assert f"/touchpoints/{touchpoint.pk}/edit/" not in html  # a viewer sees no Edit


def test_viewer_cannot_write_and_contributor_edits_only_their_own(owner, contributor, viewer, acme):
    theirs = log_touchpoint(owner.actor, acme, {"subject": "Theirs"})
    mine = log_touchpoint(contributor.actor, acme, {"subject": "Mine"})
    assert viewer.browser.get(f"/touchpoints/new/?account={acme.pk}").status_code == 403
    assert viewer.browser.post(f"/touchpoints/new/?account={acme.pk}", form()).status_code == 403
    assert viewer.browser.post(f"/touchpoints/{mine.pk}/delete/").status_code == 403
    assert contributor.browser.get(f"/touchpoints/{theirs.pk}/edit/").status_code == 403
    edit = contributor.browser.post(f"/touchpoints/{mine.pk}/edit/", form(subject="Mine, edited"))
    assert edit.status_code == 302
    assert sorted(Touchpoint.objects.values_list("subject", flat=True)) == [
        "Mine, edited",
        "Theirs",
    ]
    assert owner.browser.post(f"/touchpoints/{theirs.pk}/delete/").status_code == 302
    assert list(Touchpoint.objects.values_list("subject", flat=True)) == ["Mine, edited"]


def test_outsiders_get_404_on_every_page(owner, outsider, acme):
    touchpoint = log_touchpoint(owner.actor, acme, {"subject": "Ours"})
    browser = outsider.browser
    assert browser.get(f"/touchpoints/new/?account={acme.pk}").status_code == 404
    assert browser.post(f"/touchpoints/new/?account={acme.pk}", form()).status_code == 404
    assert browser.get("/touchpoints/new/").status_code == 404
    for url in (f"/touchpoints/{touchpoint.pk}/", f"/touchpoints/{touchpoint.pk}/edit/"):
        assert browser.get(url).status_code == 404
    assert browser.post(f"/touchpoints/{touchpoint.pk}/edit/", form()).status_code == 404
    assert browser.post(f"/touchpoints/{touchpoint.pk}/delete/").status_code == 404
    assert list(Touchpoint.objects.values_list("subject", flat=True)) == ["Ours"]


def test_admins_add_touchpoint_types_and_the_form_offers_them(owner, practitioner, viewer, acme):
    assert viewer.browser.get("/touchpoints/types/").status_code == 200
    assert viewer.browser.post("/touchpoints/types/", {"name": "Dinner"}).status_code == 403
    assert practitioner.browser.post("/touchpoints/types/", {"name": "Dinner"}).status_code == 403
    bad = owner.browser.post("/touchpoints/types/", {"name": ""})
    assert bad.status_code == 422 and "is required" in bad.content.decode()
    assert owner.browser.post("/touchpoints/types/", {"name": "Site visit"}).status_code == 302
    page = owner.browser.get("/touchpoints/types/").content.decode()
    assert "Site visit" in page and "site_visit" in page and "Support escalation" in page
    profile = practitioner.browser.get(f"/accounts/{acme.pk}/").content.decode()
    assert '<option value="site_visit">Site visit</option>' in profile
    logged = practitioner.browser.post(
        f"/touchpoints/new/?account={acme.pk}", form(type="site_visit", subject="On site")
    )
    assert logged.status_code == 302
    assert Touchpoint.objects.get().type == "site_visit"
