"""The tasks API: create, read, change, complete, delete, comments and bulk; the list's
filters and cursor; outsiders 404, viewers 403; every 4xx names the field; a fixed number of
queries per page."""

import datetime

import orjson
import pytest

from tend.work.actions import create_account_task
from tend.work.models import Task, TaskComment
from tend.workspaces.models import ApiToken

pytestmark = pytest.mark.django_db
BASE = "/api/v1/tasks"


def send(client, method: str, url: str, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(
        url, data=orjson.dumps(body if body is not None else {}), content_type="application/json"
    )


def error_of(response, status=422) -> tuple[str, str]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]
    error = body["errors"][0]
    return error["field"], error["message"]


def created_by(persona):
    """Let the persona's token act for its member (as tokens made in Settings do)."""
    ApiToken.objects.filter(
        workspace=persona.workspace, name__startswith=persona.member.seat
    ).update(created_by=persona.member)


def test_create_by_external_id_then_read_it_back(owner, practitioner, acme, today):
    response = send(
        owner.api,
        "post",
        BASE,
        {
            "account_external_id": "acme",
            "title": "Renewal call",
            "type": "call",
            "priority": "high",
            "due_date": "2030-01-31",
            "assignee": "practitioner@acme.test",
            "description": "Ask about **seats**",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["account"] == {"id": acme.pk, "external_id": "acme", "name": "Acme Corp"}
    assert (body["title"], body["type"], body["priority"], body["status"]) == (
        "Renewal call",
        "call",
        "high",
        "open",
    )
    assert body["due_date"] == "2030-01-31" and body["assignee"]["id"] == practitioner.member.pk
    assert body["created_by"] is None and body["source"] == "API token admin token"
    assert body["can_change"] is True
    assert owner.api.get(f"{BASE}/{body['id']}").json() == body


def test_a_repeated_key_answers_200_with_the_first_task(owner, acme):
    payload = {"account_id": acme.pk, "title": "Once", "key": "import-42"}
    first = send(owner.api, "post", BASE, payload)
    again = send(owner.api, "post", BASE, {**payload, "title": "Twice"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["title"] == "Once"
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x"}, "account_id"),
        ({"account_external_id": "nope", "title": "x"}, "account_external_id"),
        ({"account_external_id": "acme", "title": ""}, "title"),
        ({"account_external_id": "acme"}, "title"),
        ({"account_external_id": "acme", "title": "x", "type": "party"}, "type"),
        ({"account_external_id": "acme", "title": "x", "due_date": "soon"}, "due_date"),
        ({"account_external_id": "acme", "title": "x", "assignee": "ghost@x.test"}, "assignee"),
        ({"account_external_id": "acme", "title": "x", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(owner, acme, payload, field):
    assert error_of(send(owner.api, "post", BASE, payload))[0] == field
    assert not Task.objects.exists()


def test_patch_complete_reopen_cancel_and_delete(owner, make_task, today):
    task = make_task()
    url = f"{BASE}/{task.pk}"
    body = send(owner.api, "patch", url, {"title": "New title", "due_date": "2031-05-01"}).json()
    assert (body["title"], body["due_date"]) == ("New title", "2031-05-01")
    assert error_of(send(owner.api, "patch", url, {"title": None}))[0] == "title"
    assert send(owner.api, "patch", url, {"assignee": None}).json()["assignee"] is None

    done = send(owner.api, "post", f"{url}/complete")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["completed_at"] is not None
    assert error_of(send(owner.api, "post", f"{url}/complete")) == (
        "status",
        "the task is already done",
    )
    assert send(owner.api, "post", f"{url}/reopen").json()["status"] == "open"
    assert send(owner.api, "post", f"{url}/cancel").json()["status"] == "cancelled"
    assert send(owner.api, "delete", url).status_code == 204
    assert owner.api.get(url).status_code == 404


def test_viewers_read_but_get_403_for_every_change(viewer, make_task, acme):
    task = make_task()
    url = f"{BASE}/{task.pk}"
    assert viewer.api.get(url).status_code == 200
    assert viewer.api.get(f"{url}/comments").status_code == 200
    for method, path, body in [
        ("post", BASE, {"account_id": acme.pk, "title": "x"}),
        ("patch", url, {"title": "y"}),
        ("post", f"{url}/complete", None),
        ("post", f"{url}/comments", {"body": "hi"}),
        ("post", f"{BASE}/bulk", {"action": "complete", "ids": [task.pk]}),
        ("delete", url, None),
    ]:
        response = send(viewer.api, method, path, body)
        assert response.status_code == 403, (method, path, response.content)
        assert response.json()["detail"]
    task.refresh_from_db()
    assert (task.status, task.title) == ("open", "Call the champion")


def test_outsiders_get_404_and_do_not_see_the_task_in_lists(outsider, make_task):
    task = make_task()
    for method, path in [
        ("get", f"{BASE}/{task.pk}"),
        ("patch", f"{BASE}/{task.pk}"),
        ("delete", f"{BASE}/{task.pk}"),
        ("post", f"{BASE}/{task.pk}/complete"),
        ("get", f"{BASE}/{task.pk}/comments"),
        ("post", f"{BASE}/{task.pk}/comments"),
    ]:
        body = {"body": "x"} if path.endswith("comments") else {"title": "x"}
        assert send(outsider.api, method, path, body).status_code == 404, path
    assert outsider.api.get(BASE).json()["items"] == []
    bulk = send(outsider.api, "post", f"{BASE}/bulk", {"action": "complete", "ids": [task.pk]})
    assert error_of(bulk)[0] == "ids"
    task.refresh_from_db()
    assert task.status == "open"


def test_the_list_filters(owner, practitioner, acme, globex, make_task, today):
    created_by(practitioner)
    a = make_task(type="call", days=-3)
    b = make_task(account=globex, type="email", assignee=practitioner.member.pk, days=2)
    c = make_task(account=globex, type="call", assignee=None, days=10)
    send(owner.api, "post", f"{BASE}/{a.pk}/complete")

    def ids(query, client=owner.api):
        response = client.get(f"{BASE}?{query}")
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids("") == [a.pk, b.pk, c.pk]
    assert ids("account_external_id=globex") == [b.pk, c.pk]
    assert ids(f"account_id={acme.pk}") == [a.pk]
    assert ids("status=open") == [b.pk, c.pk]
    assert ids("status=done") == [a.pk]
    assert ids("type=call") == [a.pk, c.pk]
    assert ids(f"assignee={practitioner.member.pk}") == [b.pk]
    assert ids("assignee=practitioner@acme.test") == [b.pk]
    assert ids("assignee=me", practitioner.api) == [b.pk]
    assert ids("assignee=none") == [c.pk]
    assert ids(f"due_before={today}") == [a.pk]
    assert ids(f"due_after={today}&due_before={today + datetime.timedelta(days=5)}") == [b.pk]
    assert error_of(owner.api.get(f"{BASE}?status=maybe"))[0] == "status"
    assert error_of(owner.api.get(f"{BASE}?due_before=later"))[0] == "due_before"
    assert error_of(owner.api.get(f"{BASE}?assignee=ghost@x.test"))[0] == "assignee"
    assert error_of(owner.api.get(f"{BASE}?assignee=me"))[0] == "assignee"  # no member behind
    assert error_of(owner.api.get(f"{BASE}?cursor=garbage"))[0] == "cursor"


def test_the_cursor_walks_every_task_once_in_a_fixed_number_of_queries(
    owner, acme, today, make_task, django_assert_max_num_queries
):
    for n in range(25):
        create_account_task(
            acme, title=f"Task {n}", due_date=today, assignee=owner.member, source="Play: X"
        )
    seen, url = [], f"{BASE}?limit=10"
    while url:
        with django_assert_max_num_queries(8):
            body = owner.api.get(url).json()
        seen += [t["id"] for t in body["items"]]
        url = f"{BASE}?limit=10&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert seen == sorted(Task.objects.values_list("id", flat=True))
    assert len(seen) == 25


def test_comments_are_listed_oldest_first_and_created_with_their_author(owner, make_task):
    task = make_task()
    url = f"{BASE}/{task.pk}/comments"
    assert error_of(send(owner.api, "post", url, {"body": ""}))[0] == "body"
    for text in ("first", "second", "third"):
        assert send(owner.api, "post", url, {"body": text}).status_code == 201
    page = owner.api.get(f"{url}?limit=2").json()
    assert [c["body"] for c in page["items"]] == ["first", "second"]
    rest = owner.api.get(f"{url}?limit=2&cursor={page['next_cursor']}").json()
    assert [c["body"] for c in rest["items"]] == ["third"] and rest["next_cursor"] is None
    assert rest["items"][0]["author"] is None
    assert rest["items"][0]["author_name"] == "token admin token"
    assert TaskComment.objects.filter(task=task).count() == 3


def test_bulk_through_the_api(owner, practitioner, make_task, today):
    tasks = [make_task(), make_task(), make_task()]
    ids = [t.pk for t in tasks]
    send(owner.api, "post", f"{BASE}/{ids[0]}/complete")
    response = send(owner.api, "post", f"{BASE}/bulk", {"action": "complete", "ids": ids})
    assert response.json() == {
        "action": "complete",
        "changed": ids[1:],
        "unchanged": [{"id": ids[0], "reason": "the task is already done"}],
    }
    moved = send(
        owner.api,
        "post",
        f"{BASE}/bulk",
        {"action": "reassign", "ids": ids, "assignee": "practitioner@acme.test"},
    )
    assert moved.json()["changed"] == ids
    assert (
        error_of(send(owner.api, "post", f"{BASE}/bulk", {"action": "complete", "ids": []}))[0]
        == "ids"
    )
    assert (
        error_of(send(owner.api, "post", f"{BASE}/bulk", {"action": "reschedule", "ids": ids}))[0]
        == "due_date"
    )
