"""The touchpoints API: log (with a follow-up task and mentions), read, list by cursor,
change and delete; custom types; outsiders 404, viewers 403; bad input names the field; a
fixed number of queries per page. And Totango's create and read pair at Totango's paths."""

import datetime

import orjson
import pytest
from django.test import Client

from tend.accounts.models import Account, Contact
from tend.work.models import Task, Touchpoint, TouchpointMention
from tend.work.tests.test_api_tasks import created_by, error_of, send

pytestmark = pytest.mark.django_db
BASE = "/api/v1/touchpoints"


def log(persona, account, **data):
    body = {"account_id": account.pk, "subject": "Kickoff call", **data}
    return send(persona.api, "post", BASE, body)


def test_log_read_change_and_delete(owner, acme, workspace):
    created_by(owner)
    vera = Contact.objects.create(
        workspace=workspace, account=acme, external_id="v", name="Vera", email="vera@acme.example"
    )
    response = log(
        owner,
        acme,
        type="call",
        body="Went well. @owner@acme.test to send notes.",
        sentiment="positive",
        occurred_at="2026-11-02T10:30:00Z",
        members=["owner@acme.test"],
        contacts=[vera.pk],
        follow_up={"title": "Send notes", "due_date": "2026-11-05"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["sentiment"], body["occurred_at"]) == (
        "call",
        "positive",
        "2026-11-02T10:30:00+00:00",
    )
    assert [m["email"] for m in body["members"]] == ["owner@acme.test"]
    assert [c["name"] for c in body["contacts"]] == ["Vera"]
    assert [m["email"] for m in body["mentions"]] == ["owner@acme.test"]
    task = Task.objects.get(pk=body["follow_up_task_id"])
    assert (task.title, task.due_date, task.assignee) == (
        "Send notes",
        datetime.date(2026, 11, 5),
        owner.member,
    )
    url = f"{BASE}/{body['id']}"
    assert send(owner.api, "get", url).json()["subject"] == "Kickoff call"
    changed = send(owner.api, "patch", url, {"subject": "Kickoff", "sentiment": "negative"})
    assert changed.status_code == 200 and changed.json()["sentiment"] == "negative"
    assert send(owner.api, "delete", url).status_code == 204
    assert not Touchpoint.objects.exists()
    assert Task.objects.filter(pk=task.pk).exists()  # the follow-up outlives it


def test_list_pages_by_cursor_without_gaps_or_repeats(
    owner, acme, globex, django_assert_max_num_queries
):
    for n in range(7):
        log(owner, acme if n % 2 else globex, subject=f"T{n}", members=["owner@acme.test"])
    seen, cursor, pages = [], None, 0
    while True:
        url = f"{BASE}?limit=3" + (f"&cursor={cursor}" if cursor else "")
        with django_assert_max_num_queries(9):
            page = send(owner.api, "get", url).json()
        seen += [item["subject"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"T{n}" for n in range(7)] and pages == 3
    only = send(owner.api, "get", f"{BASE}?account_id={acme.pk}").json()["items"]
    assert [i["subject"] for i in only] == ["T1", "T3", "T5"]


def test_outsiders_get_404_and_see_nothing(owner, outsider, acme):
    touchpoint_id = log(owner, acme).json()["id"]
    for method, body in (("get", None), ("patch", {"subject": "x"}), ("delete", None)):
        assert send(outsider.api, method, f"{BASE}/{touchpoint_id}", body).status_code == 404
    assert send(outsider.api, "get", BASE).json()["items"] == []
    field, _ = error_of(log(outsider, acme))
    assert field == "account_id"
    assert Touchpoint.objects.get().subject == "Kickoff call"


def test_viewer_cannot_write(owner, viewer, acme):
    touchpoint_id = log(owner, acme).json()["id"]
    assert log(viewer, acme).status_code == 403
    assert send(viewer.api, "patch", f"{BASE}/{touchpoint_id}", {"subject": "x"}).status_code == 403
    assert send(viewer.api, "delete", f"{BASE}/{touchpoint_id}").status_code == 403
    assert (
        send(viewer.api, "post", "/api/v1/touchpoint-types", {"name": "Dinner"}).status_code == 403
    )
    assert Touchpoint.objects.get().subject == "Kickoff call"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"subject": ""}, "subject"),
        ({"type": "seance"}, "type"),
        ({"sentiment": "great"}, "sentiment"),
        ({"members": ["nobody@nowhere.test"]}, "members"),
        ({"contacts": [123456]}, "contacts"),
        ({"follow_up": {"title": ""}}, "follow_up.title"),
        ({"follow_up": {"title": "x", "assignee": "nobody@x.test"}}, "follow_up.assignee"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_names_the_field(owner, acme, data, field):
    assert error_of(log(owner, acme, **data))[0] == field
    assert not Touchpoint.objects.exists() and not Task.objects.exists()


def test_a_bad_cursor_names_the_field(owner):
    assert error_of(send(owner.api, "get", f"{BASE}?cursor=nonsense"))[0] == "cursor"


def test_custom_types_listed_and_used(owner, acme):
    response = send(owner.api, "post", "/api/v1/touchpoint-types", {"name": "Executive dinner"})
    assert response.status_code == 201 and response.json()["key"] == "executive_dinner"
    types = send(owner.api, "get", "/api/v1/touchpoint-types").json()
    assert {"key": "executive_dinner", "name": "Executive dinner", "built_in": False} in types
    assert {"key": "qbr", "name": "QBR", "built_in": True} in types
    assert log(owner, acme, type="executive_dinner").status_code == 201


# --- Totango's pair ----------------------------------------------------------------------------


def app_token_client(persona) -> Client:
    return Client(HTTP_APP_TOKEN=persona.token)


def test_totango_create_then_read(owner, acme, workspace):
    created_by(owner)
    client = app_token_client(owner)
    Contact.objects.create(
        workspace=workspace, account=acme, external_id="v", name="Vera", email="vera@acme.example"
    )
    # As r0hitacharya/Totango's script posts it: form-encoded, participantList as JSON text.
    response = client.post(
        "/api/v3/touchpoints/",
        {
            "account_id": "acme",
            "content": "Quarterly review done",
            "subject": "QBR",
            "touchpointType": "qbr",
            "create_date": "1764500000000",
            "created_by": "owner@acme.test",
            "activity_type_id": "renewal",
            "participantList": orjson.dumps(
                [
                    {"userid": "owner@acme.test"},
                    {"userid": "vera@acme.example"},
                    {"userid": "x@y.z"},
                ]
            ).decode(),
        },
    )
    assert response.status_code == 200, response.content
    note = response.json()["note"]
    assert note["ignored_participants"] == ["x@y.z"]
    touchpoint = Touchpoint.objects.get(pk=note["id"])
    assert (touchpoint.type, touchpoint.subject, touchpoint.body) == (
        "qbr",
        "QBR",
        "Quarterly review done",
    )
    assert int(touchpoint.occurred_at.timestamp() * 1000) == 1764500000000
    assert touchpoint.author == owner.member
    # A JSON body works too; an unknown Totango type id logs a note.
    second = client.post(
        "/api/v3/touchpoints",
        data=orjson.dumps({"account_id": "acme", "content": "Ping", "touchpointType": 77}),
        content_type="application/json",
    )
    assert second.status_code == 200, second.content
    events = client.get("/api/v2/events/?account_id=acme")
    assert events.status_code == 200 and events["X-Total-Count"] == "2"
    listed = events.json()
    assert isinstance(listed, list) and [e["type"] for e in listed] == ["note", "note"]
    by_id = {e["id"]: e for e in listed}
    qbr = by_id[note["id"]]
    assert qbr["timestamp"] == 1764500000000
    assert qbr["account"] == {"id": "acme", "display_name": "Acme Corp"}
    assert qbr["note_content"]["text"] == "Quarterly review done"
    assert qbr["properties"]["subject"] == "QBR"
    assert set(qbr["properties"]["totango_participants"]) == {
        "owner@acme.test",
        "vera@acme.example",
    }
    assert by_id[second.json()["note"]["id"]]["properties"]["meeting_type"] == "note"


def test_totango_refusals_name_the_field(owner, viewer, outsider, acme):
    client = app_token_client(owner)
    cases = [
        (client.post("/api/v3/touchpoints/", {"content": "x"}), 400, "account_id"),
        (client.post("/api/v3/touchpoints/", {"account_id": "nope"}), 400, "account_id"),
        (
            client.post("/api/v3/touchpoints/", {"account_id": "acme", "content": "x" * 12_001}),
            400,
            "content",
        ),
        (
            app_token_client(viewer).post("/api/v3/touchpoints/", {"account_id": "acme"}),
            403,
            "app-token",
        ),
        (Client().post("/api/v3/touchpoints/", {"account_id": "acme"}), 401, "app-token"),
        # The outsider's own workspace has no account "acme": ours stays unseen.
        (
            app_token_client(outsider).post("/api/v3/touchpoints/", {"account_id": "acme"}),
            400,
            "account_id",
        ),
        (app_token_client(outsider).get("/api/v2/events/?account_id=acme"), 400, "account_id"),
        (client.get("/api/v2/events/?account_id=acme&count=5000"), 400, "count"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.content
        body = response.json()
        assert body["status"] == "failed" and body["errors"][0]["field"] == field
    assert not Touchpoint.objects.exists()
    assert not TouchpointMention.objects.exists()


def test_a_session_without_its_csrf_token_writes_nothing(owner, acme):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner.member.user)
    totango = browser.post("/api/v3/touchpoints/", {"account_id": "acme", "content": "x"})
    assert totango.status_code == 403 and totango.json()["status"] == "failed"
    api = browser.post(
        BASE,
        data=orjson.dumps({"account_id": acme.pk, "subject": "x"}),
        content_type="application/json",
    )
    assert api.status_code == 403
    page = browser.post(f"/touchpoints/new/?account={acme.pk}", {"subject": "x"})
    assert page.status_code == 403
    assert not Touchpoint.objects.exists()


# --- Totango's update -------------------------------------------------------------------------


def _put(client, url, fields: dict, kind: str = "form"):
    from urllib.parse import urlencode

    if kind == "json":
        return client.put(url, data=orjson.dumps(fields), content_type="application/json")
    if kind == "multipart":
        from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

        return client.put(
            url, data=encode_multipart(BOUNDARY, fields), content_type=MULTIPART_CONTENT
        )
    return client.put(url, data=urlencode(fields), content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("kind", ["form", "multipart", "json"])
def test_totango_update_changes_what_it_names(owner, acme, kind):
    client = app_token_client(owner)
    note = client.post(
        "/api/v3/touchpoints/",
        {
            "account_id": "acme",
            "content": "First notes",
            "subject": "Call",
            "touchpointType": "call",
        },
    ).json()["note"]
    url = f"/api/v3/touchpoints/{note['id']}"
    # As jmassardo/issues-to-totango sends it: every field of the form, ids repeated.
    response = _put(
        client,
        url,
        {
            "account_id": "acme",
            "note_id": str(note["id"]),
            "event_id": str(note["id"]),
            "content": "Revised notes, @nobody",
            "subject": "Renewal call",
            "activity_type_id": "renewal",
            "touchpointType": "meeting",
            "touchpoint_tags": "[]",
        },
        kind,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success" and body["note"]["id"] == note["id"]
    touchpoint = Touchpoint.objects.get(pk=note["id"])
    assert (touchpoint.subject, touchpoint.body, touchpoint.type) == (
        "Renewal call",
        "Revised notes, @nobody",
        "meeting",
    )
    # Only what is sent changes; a Totango type id keeps the type; the trailing slash works.
    assert (
        _put(client, url + "/", {"content": "Third", "touchpointType": "4711"}, kind).status_code
        == 200
    )
    touchpoint.refresh_from_db()
    assert (touchpoint.subject, touchpoint.body, touchpoint.type) == (
        "Renewal call",
        "Third",
        "meeting",
    )
    event = client.get("/api/v2/events/?account_id=acme").json()[0]
    assert (
        event["note_content"]["text"] == "Third"
        and event["properties"]["subject"] == "Renewal call"
    )


def test_totango_update_refusals_name_the_field(
    owner, viewer, contributor, outsider, acme, workspace
):
    client = app_token_client(owner)
    note = client.post(
        "/api/v3/touchpoints/", {"account_id": "acme", "content": "x", "subject": "S"}
    ).json()["note"]
    other = Account.objects.create(workspace=workspace, external_id="globex", name="Globex")
    url = f"/api/v3/touchpoints/{note['id']}"
    from tend.work.actions import log_touchpoint

    theirs = log_touchpoint(contributor.actor, acme, {"subject": "Mine"})
    cases = [
        (_put(client, url, {"content": "x" * 12_001}), 400, "content"),
        (_put(client, url, {"subject": "  "}), 400, "subject"),
        (_put(client, url, {"account_id": other.external_id, "content": "y"}), 400, "account_id"),
        (_put(client, url, {"note_id": "999", "content": "y"}), 400, "note_id"),
        (client.put(url, data=b"{", content_type="application/json"), 400, "body"),
        (_put(client, "/api/v3/touchpoints/999999", {"content": "y"}), 404, "note_id"),
        (_put(client, "/api/v3/touchpoints/abc", {"content": "y"}), 404, "note_id"),
        (_put(app_token_client(viewer), url, {"content": "y"}), 403, "app-token"),
        (_put(Client(), url, {"content": "y"}), 401, "app-token"),
        # Another workspace's touchpoint is unknown to the outsider.
        (_put(app_token_client(outsider), url, {"content": "y"}), 404, "note_id"),
        # A contributor changes only the touchpoints they logged (through the session).
        (_put(contributor.browser, url, {"content": "y"}), 403, "app-token"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.content
        body = response.json()
        assert body["status"] == "failed" and body["errors"][0]["field"] == field
    touchpoint = Touchpoint.objects.get(pk=note["id"])
    assert (touchpoint.subject, touchpoint.body) == ("S", "x")
    changed = _put(contributor.browser, f"/api/v3/touchpoints/{theirs.pk}", {"content": "ok"})
    assert changed.status_code == 200, changed.content
    assert client.post(url).status_code == 405  # the update is a PUT


def test_a_session_put_without_its_csrf_token_changes_nothing(owner, acme):
    from tend.work.actions import log_touchpoint

    touchpoint = log_touchpoint(owner.actor, acme, {"subject": "Kept"})
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner.member.user)
    response = _put(browser, f"/api/v3/touchpoints/{touchpoint.pk}", {"subject": "Changed"})
    assert response.status_code == 403 and response.json()["status"] == "failed"
    touchpoint.refresh_from_db()
    assert touchpoint.subject == "Kept"
