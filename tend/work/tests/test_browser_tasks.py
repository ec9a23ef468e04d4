"""Tasks in real Chromium: add a task from the account's profile, find it in My tasks under
"Due today", complete it inline (the row swaps in place), undo, then complete it from the
profile's panel."""

import pytest

from tend.work.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page) -> None:
    """Wait until htmx has processed what it swapped in."""
    page.wait_for_function("!document.querySelector('.htmx-added, .htmx-request, .htmx-settling')")


def test_a_task_made_on_the_account_is_completed_from_my_tasks(page, login, owner, acme):
    login(owner)
    page.goto(f"/accounts/{acme.pk}/")
    panel = page.locator("#tasks")
    assert "No open tasks for Acme Corp" in panel.inner_text()
    panel.get_by_role("link", name="New task").click()
    page.wait_for_url("**/tasks/new/**")
    assert page.locator("h1").inner_text() == "New task for Acme Corp"
    page.fill("input[name=title]", "Send the renewal quote")
    page.select_option("select[name=type]", "email")
    page.select_option("select[name=priority]", "high")
    page.get_by_role("button", name="Add task").click()

    # Back on the profile, the panel lists it.
    page.wait_for_url(f"**/accounts/{acme.pk}/")
    assert "Send the renewal quote" in page.locator("#tasks").inner_text()
    task = Task.objects.get()
    assert (task.account_id, task.assignee_id, task.type) == (acme.pk, owner.member.pk, "email")

    # My tasks: due today, with the account and the priority.
    page.get_by_role("link", name="Tasks", exact=True).click()
    page.wait_for_url("**/tasks/")
    today_group = page.locator("tbody.task-group-today")
    row = today_group.locator(f"#task-{task.pk}")
    assert "Send the renewal quote" in row.inner_text() and "Acme Corp" in row.inner_text()
    assert "High" in row.inner_text()

    # Complete inline: the row turns done in place, without leaving the page.
    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name="✓ Complete").click()
    page.locator(f"#task-{task.pk}.task-closed").wait_for()
    settled(page)
    assert page.evaluate("window.notReloaded === true")
    task.refresh_from_db()
    assert task.status == "done" and task.completed_by_id == owner.member.pk
    # Undo reopens it, still in place.
    page.locator(f"#task-{task.pk}").get_by_role("button", name="Undo").click()
    page.locator(f"#task-{task.pk}:not(.task-closed)").wait_for()
    task.refresh_from_db()
    assert task.status == "open"

    # Reschedule inline: a date picked in the row is saved at once.
    page.locator(f"#task-{task.pk} input[name=due_date]").fill("2031-03-04")
    page.locator(f"#task-{task.pk} input[name=due_date]").dispatch_event("change")
    # (The row says "Reopened" until the reschedule's answer replaces it with "Saved".)
    page.locator(f"#task-{task.pk} .saved-note", has_text="Saved").wait_for()
    task.refresh_from_db()
    assert str(task.due_date) == "2031-03-04"
    assert page.evaluate("window.notReloaded === true")

    # And from the profile's panel: the panel swaps and says there is nothing left.
    page.goto(f"/accounts/{acme.pk}/")
    page.locator("#tasks").get_by_role("button", name="Complete “Send the renewal quote”").click()
    page.locator("#tasks", has_text="No open tasks for Acme Corp").wait_for()
    task.refresh_from_db()
    assert task.status == "done"


def test_bulk_complete_with_checkboxes(page, login, owner, make_task):
    tasks = [make_task(title=f"Follow up {n}") for n in range(3)]
    login(owner)
    page.goto("/tasks/")
    page.check("#bulk-all")
    assert page.locator("#bulk-count").inner_text() == "3 chosen"
    page.locator(f"#task-{tasks[2].pk} input[name=ids]").uncheck()
    assert page.locator("#bulk-count").inner_text() == "2 chosen"
    page.locator("#bulk-form").get_by_role("button", name="✓ Complete").click()
    page.locator(".flash", has_text="Task completed: 2 tasks.").wait_for()
    statuses = dict(Task.objects.values_list("title", "status"))
    assert statuses == {"Follow up 0": "done", "Follow up 1": "done", "Follow up 2": "open"}
