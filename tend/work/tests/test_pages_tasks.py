"""The tasks pages: the inbox grouped by the workspace's today, its filters and bulk actions,
inline changes answering the row, the task page with comments, the new-task form, the
account profile's Tasks panel; outsiders 404, viewers 403; query counts fixed."""

import datetime

import pytest
from django.utils import timezone

from tend.accounts.models import Account
from tend.work.actions import add_comment, complete_task
from tend.work.models import Task
from tend.workspaces.models import Member

pytestmark = pytest.mark.django_db
INBOX = "/tasks/"


def test_the_inbox_groups_my_open_tasks_overdue_today_upcoming(owner, make_task):
    make_task(title="Late one", days=-2)
    make_task(title="Due now one", days=0)
    make_task(title="Next week", days=7)
    make_task(title="Someone else", assignee=None)
    html = owner.browser.get(INBOX).content.decode()
    assert "My tasks" in html
    overdue, today, upcoming = (html.index(s) for s in ("Overdue", "Due today", "Upcoming"))
    assert overdue < html.index("Late one") < today < html.index("Due now one") < upcoming
    assert upcoming < html.index("Next week")
    assert "Someone else" not in html


def test_today_is_the_workspaces_today(owner, acme, make_task, workspace):
    """At 23:30 UTC it is already tomorrow in Auckland: a task due on the UTC date is overdue."""
    workspace.time_zone = "Pacific/Auckland"
    workspace.save()
    utc_day = timezone.now().astimezone(datetime.UTC).date()
    from tend.work.queries import local_today

    auckland_day = local_today(workspace)
    make_task(title="Due on the UTC day", due_date=utc_day)
    html = owner.browser.get(INBOX).content.decode()
    label = "Overdue" if auckland_day > utc_day else "Due today"
    assert html.index(label) < html.index("Due on the UTC day")


def test_filters_by_type_account_search_and_done(owner, acme, globex, make_task):
    call = make_task(title="Ring them", type="call")
    make_task(title="Write to them", type="email", account=globex)
    done = make_task(title="Finished it")
    complete_task(owner.actor, done)
    page = owner.browser.get(f"{INBOX}?type=call").content.decode()
    assert "Ring them" in page and "Write to them" not in page
    page = owner.browser.get(f"{INBOX}?account={globex.pk}").content.decode()
    assert "Write to them" in page and "Ring them" not in page and "Account:" in page
    page = owner.browser.get(f"{INBOX}?q=globex").content.decode()
    assert "Write to them" in page and "Ring them" not in page
    page = owner.browser.get(f"{INBOX}?show=done").content.decode()
    assert "Finished it" in page and "Ring them" not in page
    assert call.title not in owner.browser.get(f"{INBOX}?type=meeting").content.decode()


def test_admins_look_at_anyones_tasks_contributors_only_at_their_own(
    owner, practitioner, contributor, make_task
):
    make_task(title="Practitioner task", assignee=practitioner.member.pk)
    make_task(title="Contributor task", assignee=contributor.member.pk)
    assert (
        "Practitioner task"
        in owner.browser.get(f"{INBOX}?who={practitioner.member.pk}").content.decode()
    )
    everyone = owner.browser.get(f"{INBOX}?who=all").content.decode()
    assert "Practitioner task" in everyone and "Contributor task" in everyone
    theirs = contributor.browser.get(f"{INBOX}?who={practitioner.member.pk}").content.decode()
    assert "Practitioner task" not in theirs and "Contributor task" in theirs


def test_the_empty_inbox_says_what_to_do(owner, contributor):
    html = owner.browser.get(INBOX).content.decode()
    assert "You have no open tasks" in html and "New task" in html
    assert "See everyone’s tasks" in html
    html = contributor.browser.get(f"{INBOX}?show=done").content.decode()
    assert "Nothing done yet" in html


def test_the_inbox_costs_the_same_queries_for_5_or_60_tasks(
    owner, practitioner, acme, make_task, django_assert_max_num_queries, workspace
):
    for n in range(5):
        make_task(title=f"t{n}", days=n - 2)
    with django_assert_max_num_queries(30) as few:
        assert owner.browser.get(f"{INBOX}?who=all").status_code == 200
    for n in range(55):
        account = Account.objects.create(workspace=workspace, external_id=f"a{n}", name=f"A{n}")
        make_task(account=account, title=f"u{n}", days=n % 9 - 4, assignee=practitioner.member.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = owner.browser.get(f"{INBOX}?who=all").content.decode()
    assert html.count('class="task-row') == 60


def test_inline_complete_answers_the_row_and_undo_reopens(owner, make_task):
    task = make_task()
    response = owner.browser.post(
        f"/tasks/{task.pk}/complete/", {"view": "row"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<tr") and "task-closed" in html and "Undo" in html
    task.refresh_from_db()
    assert task.status == "done"
    again = owner.browser.post(
        f"/tasks/{task.pk}/complete/", {"view": "row"}, HTTP_HX_REQUEST="true"
    )
    assert again.status_code == 422 and "already done" in again.content.decode()
    owner.browser.post(f"/tasks/{task.pk}/reopen/", {"view": "row"}, HTTP_HX_REQUEST="true")
    task.refresh_from_db()
    assert task.status == "open"


def test_inline_reassign_and_reschedule(owner, practitioner, make_task, today):
    task = make_task()
    later = today + datetime.timedelta(days=4)
    row = owner.browser.post(
        f"/tasks/{task.pk}/reassign/",
        {"view": "row", "assignee": practitioner.member.pk},
        HTTP_HX_REQUEST="true",
    )
    assert row.status_code == 200 and "Saved" in row.content.decode()
    owner.browser.post(
        f"/tasks/{task.pk}/reschedule/",
        {"view": "row", "due_date": later.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    task.refresh_from_db()
    assert (task.assignee, task.due_date) == (practitioner.member, later)
    bad = owner.browser.post(
        f"/tasks/{task.pk}/reschedule/",
        {"view": "row", "due_date": "someday"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 422 and "must be a date" in bad.content.decode()
    # Without JavaScript, the same forms go back to where they came from.
    plain = owner.browser.post(f"/tasks/{task.pk}/complete/", {"next": "/tasks/?type=call"})
    assert plain.status_code == 302 and plain["Location"] == "/tasks/?type=call"
    offsite = owner.browser.post(f"/tasks/{task.pk}/reopen/", {"next": "https://evil.test/"})
    assert offsite["Location"] == f"/tasks/{task.pk}/"


def test_bulk_actions_from_the_inbox(owner, make_task):
    a, b, c = make_task(), make_task(), make_task()
    complete_task(owner.actor, c)
    response = owner.browser.post(
        "/tasks/bulk/",
        {"action": "complete", "ids": [a.pk, b.pk, c.pk], "next": INBOX},
        follow=True,
    )
    html = response.content.decode()
    assert "Task completed: 2 tasks." in html
    assert f"Task {c.pk} left as it was: the task is already done." in html
    assert set(Task.objects.values_list("status", flat=True)) == {"done"}
    nothing = owner.browser.post("/tasks/bulk/", {"action": "complete"}, follow=True)
    assert "Nothing was changed: choose at least one task." in nothing.content.decode()


def test_viewers_see_tasks_but_every_change_is_403(viewer, make_task, acme):
    task = make_task()
    assert viewer.browser.get(f"/tasks/{task.pk}/").status_code == 200
    html = viewer.browser.get(f"/tasks/{task.pk}/").content.decode()
    assert "✓ Complete" not in html and "Add comment" not in html
    for url, data in [
        (f"/tasks/{task.pk}/complete/", {}),
        (f"/tasks/{task.pk}/reassign/", {"assignee": ""}),
        (f"/tasks/{task.pk}/reschedule/", {"due_date": "2030-01-01"}),
        (f"/tasks/{task.pk}/comments/", {"body": "hi"}),
        (f"/tasks/{task.pk}/edit/", {"title": "x"}),
        (f"/tasks/{task.pk}/delete/", {}),
        ("/tasks/new/", {"account": "acme", "title": "x"}),
        ("/tasks/bulk/", {"action": "complete", "ids": [task.pk]}),
    ]:
        assert viewer.browser.post(url, data).status_code == 403, url
    assert viewer.browser.get("/tasks/new/").status_code == 403
    task.refresh_from_db()
    assert task.status == "open" and task.assignee_id != viewer.member.pk


def test_outsiders_get_404_on_a_tasks_pages(outsider, make_task):
    task = make_task()
    for url in (f"/tasks/{task.pk}/", f"/tasks/{task.pk}/edit/", f"/tasks/{task.pk}/delete/"):
        assert outsider.browser.get(url).status_code == 404
    assert outsider.browser.post(f"/tasks/{task.pk}/complete/").status_code == 404
    assert "Call the champion" not in outsider.browser.get(f"{INBOX}?who=all").content.decode()
    assert outsider.browser.get(f"/tasks/new/?account={task.account_id}").status_code == 200
    assert (
        "Acme Corp"
        not in outsider.browser.get(f"/tasks/new/?account={task.account_id}").content.decode()
    )


def test_the_task_page_renders_markdown_safely_and_takes_comments(owner, make_task):
    task = make_task(
        description="Bring **numbers**<script>alert(1)</script> [x](javascript:alert(1))"
    )
    add_comment(owner.actor, task, "Called — *no answer*")
    html = owner.browser.get(f"/tasks/{task.pk}/").content.decode()
    assert "<strong>numbers</strong>" in html and "<em>no answer</em>" in html
    assert "<script>alert" not in html and "javascript:" not in html
    response = owner.browser.post(f"/tasks/{task.pk}/comments/", {"body": "Sent the deck"})
    assert response.status_code == 302
    assert task.comments.latest("id").body == "Sent the deck"


def test_the_new_task_form_from_an_account(owner, practitioner, acme, today):
    page = owner.browser.get(f"/tasks/new/?account={acme.pk}").content.decode()
    assert "New task for Acme Corp" in page and 'value="acme"' in page
    refused = owner.browser.post(
        "/tasks/new/",
        {
            "account": "nobody",
            "title": "x",
            "type": "call",
            "priority": "normal",
            "due_date": today,
        },
    )
    assert (
        refused.status_code == 422
        and "No account has that external id or name" in refused.content.decode()
    )
    response = owner.browser.post(
        "/tasks/new/",
        {
            "account": "Acme Corp",
            "title": "Send the QBR deck",
            "type": "email",
            "priority": "high",
            "due_date": today.isoformat(),
            "assignee": practitioner.member.pk,
            "next": f"/accounts/{acme.pk}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/accounts/{acme.pk}/"
    task = Task.objects.get()
    assert (task.account, task.assignee, task.created_by, task.type) == (
        acme,
        practitioner.member,
        owner.member,
        "email",
    )


def test_account_suggestions_are_bounded(owner, workspace):
    for n in range(30):
        Account.objects.create(workspace=workspace, external_id=f"ac-{n}", name=f"Acme {n}")
    html = owner.browser.get("/tasks/accounts/?account=acme").content.decode()
    assert html.count("<option") == 20


def test_the_account_profile_shows_open_tasks_with_complete_buttons(
    owner, acme, make_task, django_assert_max_num_queries
):
    profile = f"/accounts/{acme.pk}/"
    empty = owner.browser.get(profile).content.decode()
    assert (
        "No open tasks for Acme Corp" in empty
        and f"/tasks/new/?account={acme.pk}&amp;next=%2Faccounts%2F{acme.pk}%2F" in empty
    )
    tasks = [make_task(title=f"Step {n}", days=n) for n in range(12)]
    complete_task(owner.actor, tasks[0])
    with django_assert_max_num_queries(80):
        html = owner.browser.get(profile).content.decode()
    assert html.count('class="panel-task"') == 10 and "1 more open task" in html
    # The done task is gone from the Tasks panel (it is on the timeline now).
    tasks_panel = html.split('id="tasks"')[1].split("</section>")[0]
    assert "Step 0<" not in tasks_panel and "Step 1<" in tasks_panel
    assert "Task completed: Step 0<" in html
    panel = owner.browser.post(
        f"/tasks/{tasks[1].pk}/complete/", {"view": "panel"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert panel.strip().startswith('<section class="card tasks-panel"') and "Step 1<" not in panel


def test_the_panels_query_count_does_not_grow_with_tasks(
    owner, practitioner, acme, make_task, django_assert_max_num_queries
):
    from django.test import RequestFactory

    from tend.work.views.panel import tasks_panel

    request = RequestFactory().get("/")
    request.actor = owner.actor
    make_task()
    with django_assert_max_num_queries(3) as one:
        tasks_panel(request, acme)
    for n in range(15):
        make_task(title=f"t{n}", assignee=practitioner.member.pk)
    with django_assert_max_num_queries(len(one.captured_queries) + 1):  # + the count past 10
        tasks_panel(request, acme)


def test_navigation_lists_tasks_after_scorecards(owner):
    html = owner.browser.get(INBOX).content.decode()
    assert html.index(">Scorecards<") < html.index(">Tasks<") < html.index(">Data model<")


def test_members_leaving_keeps_their_tasks_readable(owner, practitioner, make_task):
    task = make_task(assignee=practitioner.member.pk)
    Member.objects.filter(pk=practitioner.member.pk).update(is_active=False)
    assert owner.browser.get(f"{INBOX}?who=all").status_code == 200
    assert owner.browser.get(f"/tasks/{task.pk}/").status_code == 200


def test_inline_changes_need_the_csrf_token(owner, make_task):
    from tend.test import browser_client

    task = make_task()
    client = browser_client(owner.member, enforce_csrf_checks=True)
    refused = client.post(f"/tasks/{task.pk}/complete/", {"view": "row"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    token = client.get(INBOX).cookies["csrftoken"].value
    accepted = client.post(
        f"/tasks/{task.pk}/complete/",
        {"view": "row"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200
    task.refresh_from_db()
    assert task.status == "done"
