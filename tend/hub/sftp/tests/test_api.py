"""/api/v1/sftp-sources: CRUD (admin scope), poll now (write scope), files seen (read scope);
secrets never answered; another workspace's ids 404; bad input 422 naming the field."""

import pytest

from tend.hub.models import SavedMapping
from tend.hub.sftp.models import RemoteFile, SftpSource
from tend.hub.sftp.tests.conftest import source_data
from tend.jobs.models import Job

pytestmark = pytest.mark.django_db


class FakeServer:
    port = 2222


def payload(**overrides):
    data = source_data(FakeServer, host="sftp.example.com")
    data.update(overrides)
    return data


def post(persona, data):
    return persona.api.post("/api/v1/sftp-sources", data, content_type="application/json")


def test_an_admin_creates_reads_changes_and_deletes_a_source_and_no_answer_holds_the_secret(
    owner, accounts_mapping
):
    response = post(owner, payload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_password"] is True and body["has_private_key"] is False
    assert body["mapping"] == "CRM accounts" and body["every_minutes"] == 15
    assert body["host_key_fingerprint"] == "" and body["last_poll_status"] == "never"
    assert "password" not in body and "s3cret" not in response.content.decode()
    source = SftpSource.objects.get(pk=body["id"])
    assert "s3cret" not in source.password_sealed and source.password == "s3cret-sftp-passw0rd"
    url = f"/api/v1/sftp-sources/{body['id']}"
    assert "s3cret" not in owner.api.get(url).content.decode()
    assert owner.api.get("/api/v1/sftp-sources").json()["items"][0]["id"] == body["id"]
    # A blank password keeps the stored one; a new one replaces it.
    changed = owner.api.patch(
        url, {"every_minutes": 60, "password": ""}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    source.refresh_from_db()
    assert source.every_minutes == 60 and source.password == "s3cret-sftp-passw0rd"
    owner.api.patch(url, {"password": "n3w"}, content_type="application/json")
    source.refresh_from_db()
    assert source.password == "n3w"
    assert owner.api.delete(url).status_code == 204
    assert not SftpSource.objects.exists()


def test_a_stored_host_key_is_forgotten_when_the_host_changes_or_on_request(
    owner, accounts_mapping
):
    body = post(owner, payload()).json()
    url = f"/api/v1/sftp-sources/{body['id']}"
    SftpSource.objects.filter(pk=body["id"]).update(host_key_fingerprint="SHA256:abc")
    assert (
        owner.api.patch(url, {"folder": "/in"}, content_type="application/json").json()[
            "host_key_fingerprint"
        ]
        == "SHA256:abc"
    )
    assert (
        owner.api.patch(url, {"trust_new_host_key": True}, content_type="application/json").json()[
            "host_key_fingerprint"
        ]
        == ""
    )
    SftpSource.objects.filter(pk=body["id"]).update(host_key_fingerprint="SHA256:abc")
    assert (
        owner.api.patch(url, {"host": "sftp2.example.com"}, content_type="application/json").json()[
            "host_key_fingerprint"
        ]
        == ""
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"host": ""}, "host"),
        ({"host": "127.0.0.1"}, "host"),
        ({"host": "169.254.169.254"}, "host"),
        ({"host": "user@sftp.example.com"}, "host"),
        ({"port": 70000}, "port"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"auth_method": "key", "password": ""}, "private_key"),
        ({"auth_method": "key", "private_key": "not a key"}, "private_key"),
        ({"auth_method": "telnet"}, "auth_method"),
        ({"folder": ""}, "folder"),
        ({"pattern": "in/*.csv"}, "pattern"),
        ({"object": "planet"}, "object"),
        ({"mapping": "No such mapping"}, "mapping"),
        ({"object": "user"}, "mapping"),  # the mapping is for accounts
        ({"after_import": "archive", "archive_folder": ""}, "archive_folder"),
        ({"after_import": "archive", "archive_folder": "/outgoing"}, "archive_folder"),
        ({"after_import": "shred"}, "after_import"),
        ({"every_minutes": 1}, "every_minutes"),
        ({"every_minutes": 100000}, "every_minutes"),
        ({"source_name": "x" * 41}, "source_name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_stores_nothing(
    owner, accounts_mapping, settings, overrides, field
):
    settings.TEND_OUTGOING_ALLOW = ""  # as installed: loopback and private addresses refused
    response = post(owner, payload(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not SftpSource.objects.exists()


def test_names_are_unique_in_a_workspace(owner, accounts_mapping):
    assert post(owner, payload()).status_code == 201
    response = post(owner, payload())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


def test_readers_read_writers_poll_and_only_admins_change(
    owner, practitioner, viewer, accounts_mapping
):
    body = post(owner, payload()).json()
    url = f"/api/v1/sftp-sources/{body['id']}"
    assert viewer.api.get(url).status_code == 200
    assert viewer.api.get(f"{url}/files").status_code == 200
    assert post(viewer, payload(name="Mine")).status_code == 403
    assert post(practitioner, payload(name="Mine")).status_code == 403
    assert (
        viewer.api.patch(url, {"every_minutes": 60}, content_type="application/json").status_code
        == 403
    )
    assert (
        practitioner.api.patch(
            url, {"every_minutes": 60}, content_type="application/json"
        ).status_code
        == 403
    )
    assert viewer.api.delete(url).status_code == 403
    assert viewer.api.post(f"{url}/poll").status_code == 403
    assert not Job.objects.filter(kind="hub.sftp_poll").exists()
    polled = practitioner.api.post(f"{url}/poll")
    assert polled.status_code == 202, polled.content
    # Asking again while one is queued queues no second poll.
    assert owner.api.post(f"{url}/poll").json()["job_id"] == polled.json()["job_id"]
    assert Job.objects.filter(kind="hub.sftp_poll", workspace=owner.workspace).count() == 1
    assert SftpSource.objects.get().every_minutes == 15


def test_outsiders_get_404_on_every_route_and_change_nothing(owner, outsider, accounts_mapping):
    body = post(owner, payload()).json()
    url = f"/api/v1/sftp-sources/{body['id']}"
    assert outsider.api.get(url).status_code == 404
    assert outsider.api.get(f"{url}/files").status_code == 404
    assert (
        outsider.api.patch(url, {"every_minutes": 60}, content_type="application/json").status_code
        == 404
    )
    assert outsider.api.post(f"{url}/poll").status_code == 404
    assert outsider.api.delete(url).status_code == 404
    assert outsider.api.get("/api/v1/sftp-sources").json()["items"] == []
    # Their own mapping of the same name does not let them point a source at ours.
    assert post(outsider, payload()).json()["errors"][0]["field"] == "mapping"
    assert SftpSource.objects.get().every_minutes == 15 and not Job.objects.exists()


def test_lists_page_with_a_bounded_number_of_queries(
    owner, accounts_mapping, django_assert_max_num_queries
):
    first = None
    for n in range(5):
        body = post(owner, payload(name=f"Drop {n}")).json()
        first = first or body["id"]
    source = SftpSource.objects.get(pk=first)
    RemoteFile.objects.bulk_create(
        RemoteFile(
            workspace=owner.workspace,
            source=source,
            path=f"/outgoing/{n}.csv",
            size=n,
            mtime=1_700_000_000,
        )
        for n in range(7)
    )
    with django_assert_max_num_queries(6):
        page = owner.api.get("/api/v1/sftp-sources?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = owner.api.get(f"/api/v1/sftp-sources?limit=2&cursor={page['next_cursor']}").json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    with django_assert_max_num_queries(6):
        files = owner.api.get(f"/api/v1/sftp-sources/{first}/files?limit=5").json()
    assert [f["path"] for f in files["items"]] == [f"/outgoing/{n}.csv" for n in (6, 5, 4, 3, 2)]
    rest = owner.api.get(
        f"/api/v1/sftp-sources/{first}/files?limit=5&cursor={files['next_cursor']}"
    ).json()
    assert [f["path"] for f in rest["items"]] == ["/outgoing/1.csv", "/outgoing/0.csv"] and rest[
        "next_cursor"
    ] is None


def test_a_saved_mapping_in_use_cannot_vanish_under_a_source_but_goes_with_its_workspace(
    owner, accounts_mapping
):
    from django.db.models import RestrictedError

    post(owner, payload())
    with pytest.raises(RestrictedError):
        SavedMapping.objects.get().delete()
    owner.workspace.delete()
    assert not SftpSource.objects.exists() and not SavedMapping.objects.exists()
