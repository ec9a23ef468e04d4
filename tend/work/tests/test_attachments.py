"""Touchpoint attachments: attached in the form (new and edit) and through the API, stored
under TEND_ATTACHMENT_DIR by a random name, listed on the touchpoint and its timeline item,
downloaded only inside the workspace (outsiders 404) as an inert download; limits refuse
the whole request naming ``attachments`` and leave nothing behind; a file leaves the disk
with its row, whoever deleted it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tend.accounts.actions.accounts import delete_account
from tend.work.actions import log_touchpoint
from tend.work.models import Touchpoint, TouchpointAttachment
from tend.work.tests.test_api_tasks import send
from tend.work.tests.test_pages_touchpoints import form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    settings.TEND_ATTACHMENT_DIR = tmp_path / "attachments"
    return settings.TEND_ATTACHMENT_DIR


def upload(name="notes.pdf", data=b"%PDF-1.4 minutes", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def files_on_disk(store) -> list[bytes]:
    return sorted(p.read_bytes() for p in store.rglob("*") if p.is_file()) if store.exists() else []


def test_files_logged_with_a_touchpoint_are_stored_listed_and_downloaded(
    owner, viewer, acme, store
):
    response = owner.browser.post(
        f"/touchpoints/new/?account={acme.pk}",
        {
            **form(),
            "attachments": [upload(), upload("../../etc/agenda.txt", b"1. SSO", "text/plain")],
        },
    )
    assert response.status_code == 302, response.content[:500]
    touchpoint = Touchpoint.objects.get()
    files = list(touchpoint.attachments.all())
    assert [(f.file_name, f.size, f.content_type) for f in files] == [
        ("notes.pdf", 16, "application/pdf"),
        ("agenda.txt", 6, "text/plain"),  # no directories from the client reach anything
    ]
    assert all(
        f.stored_name.startswith(f"{acme.workspace_id}/") and "." not in f.stored_name
        for f in files
    )
    assert files_on_disk(store) == sorted([b"%PDF-1.4 minutes", b"1. SSO"])
    # Listed on the touchpoint's page and its timeline item, with download links.
    link = f"/touchpoints/{touchpoint.pk}/attachments/{files[1].pk}/"
    assert link in viewer.browser.get(f"/touchpoints/{touchpoint.pk}/").content.decode()
    assert link in viewer.browser.get(f"/accounts/{acme.pk}/").content.decode()
    item = send(owner.api, "get", f"/api/v1/accounts/{acme.pk}/timeline?kind=touchpoint").json()[
        "items"
    ][0]
    assert [(a["file_name"], a["url"]) for a in item["data"]["attachments"]] == [
        ("notes.pdf", f"/touchpoints/{touchpoint.pk}/attachments/{files[0].pk}/"),
        ("agenda.txt", link),
    ]
    # Any member downloads, as an inert download.
    got = viewer.browser.get(link)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"1. SSO"
    assert got["Content-Type"] == "application/octet-stream"
    assert got["Content-Disposition"] == 'attachment; filename="agenda.txt"'
    assert got["X-Content-Type-Options"] == "nosniff"


def test_outsiders_get_404_and_ids_must_belong_together(owner, outsider, acme, workspace):
    first = log_touchpoint(owner.actor, acme, {"subject": "One", "attachments": [upload()]})
    second = log_touchpoint(owner.actor, acme, {"subject": "Two"})
    file = first.attachments.get()
    page = f"/touchpoints/{first.pk}/attachments/{file.pk}/"
    api = f"/api/v1/touchpoints/{first.pk}/attachments/{file.pk}"
    assert outsider.browser.get(page).status_code == 404
    assert outsider.browser.post(page + "delete/").status_code == 404
    assert outsider.api.get(api).status_code == 404
    assert outsider.api.delete(api).status_code == 404
    sent = outsider.api.post(f"/api/v1/touchpoints/{first.pk}/attachments", {"files": [upload()]})
    assert sent.status_code == 404
    # Another touchpoint's id in the path finds nothing.
    assert owner.browser.get(f"/touchpoints/{second.pk}/attachments/{file.pk}/").status_code == 404
    assert (
        owner.api.get(f"/api/v1/touchpoints/{second.pk}/attachments/{file.pk}").status_code == 404
    )
    assert TouchpointAttachment.objects.count() == 1


@pytest.mark.parametrize(
    "files, message",
    [
        ([upload(data=b"x" * 11)], "notes.pdf is 11 bytes; the limit is 10 bytes"),
        ([upload(data=b"")], "notes.pdf is empty"),
        (
            [upload(f"{n}.txt", b"ok") for n in range(4)],
            "at most 3 files on a touchpoint (0 already, 4 sent)",
        ),
    ],
)
def test_limits_refuse_the_whole_form_naming_the_field(
    owner, acme, store, settings, files, message
):
    settings.TEND_ATTACHMENT_MAX_BYTES = 10
    settings.TEND_ATTACHMENTS_PER_TOUCHPOINT = 3
    response = owner.browser.post(
        f"/touchpoints/new/?account={acme.pk}",
        {
            **form(follow_up="on", follow_up_title="Call back", follow_up_due="2031-01-01"),
            "attachments": files,
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and 'name="attachments"' in html
    assert not Touchpoint.objects.exists() and not acme.tasks.exists()
    assert files_on_disk(store) == []


def test_the_api_attaches_downloads_and_removes(
    owner, viewer, contributor, acme, store, settings, django_capture_on_commit_callbacks
):
    settings.TEND_ATTACHMENTS_PER_TOUCHPOINT = 2
    touchpoint = log_touchpoint(owner.actor, acme, {"subject": "Call"})
    url = f"/api/v1/touchpoints/{touchpoint.pk}/attachments"
    response = owner.api.post(url, {"files": [upload(), upload("b.csv", b"a,b", "text/csv")]})
    assert response.status_code == 201, response.content
    out = response.json()
    assert [(a["file_name"], a["size"]) for a in out] == [("notes.pdf", 16), ("b.csv", 3)]
    listed = send(owner.api, "get", f"/api/v1/touchpoints/{touchpoint.pk}").json()["attachments"]
    assert [a["id"] for a in listed] == [a["id"] for a in out]
    got = viewer.api.get(out[1]["url"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"a,b"
    # Refusals name the field; a viewer and a contributor who did not log it may not attach.
    third = owner.api.post(url, {"files": [upload("c.txt", b"c")]})
    assert third.status_code == 422 and third.json()["errors"][0]["field"] == "attachments"
    none = owner.api.post(url, {})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "attachments"
    assert viewer.api.post(url, {"files": [upload()]}).status_code == 403
    assert contributor.browser.post(url, {"files": [upload()]}).status_code == 403
    assert viewer.api.delete(out[0]["url"]).status_code == 403
    assert len(files_on_disk(store)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.api.delete(out[0]["url"]).status_code == 204
    assert files_on_disk(store) == [b"a,b"]
    assert owner.api.get(out[0]["url"]).status_code == 404


def test_the_edit_page_adds_files_and_the_detail_page_removes_them(
    owner, viewer, acme, store, django_capture_on_commit_callbacks
):
    touchpoint = log_touchpoint(owner.actor, acme, {"subject": "Call", "type": "call"})
    response = owner.browser.post(
        f"/touchpoints/{touchpoint.pk}/edit/",
        {**form(subject="Call, with deck"), "attachments": [upload("deck.pdf")]},
    )
    assert response.status_code == 302, response.content[:500]
    file = touchpoint.attachments.get()
    assert file.file_name == "deck.pdf" and file.uploaded_by == owner.member
    remove = f"/touchpoints/{touchpoint.pk}/attachments/{file.pk}/delete/"
    assert remove in owner.browser.get(f"/touchpoints/{touchpoint.pk}/").content.decode()
    assert remove not in viewer.browser.get(f"/touchpoints/{touchpoint.pk}/").content.decode()
    assert viewer.browser.post(remove).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.browser.post(remove).status_code == 302
    assert not TouchpointAttachment.objects.exists() and files_on_disk(store) == []


def test_files_leave_the_disk_with_their_touchpoint_or_account(
    owner, acme, globex, store, django_capture_on_commit_callbacks
):
    one = log_touchpoint(
        owner.actor, acme, {"subject": "A", "attachments": [upload("a.txt", b"a")]}
    )
    log_touchpoint(owner.actor, globex, {"subject": "B", "attachments": [upload("b.txt", b"b")]})
    log_touchpoint(owner.actor, globex, {"subject": "C", "attachments": [upload("c.txt", b"c")]})
    assert files_on_disk(store) == [b"a", b"b", b"c"]
    with django_capture_on_commit_callbacks(execute=True):
        owner.browser.post(f"/touchpoints/{one.pk}/delete/")
    assert files_on_disk(store) == [b"b", b"c"]
    with django_capture_on_commit_callbacks(execute=True):
        delete_account(owner.actor, globex)
    assert files_on_disk(store) == [] and not TouchpointAttachment.objects.exists()
