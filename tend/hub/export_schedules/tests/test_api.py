"""/api/v1/export-schedules: CRUD (admin scope), run now (write scope), runs (read scope);
secrets never answered; another workspace's ids 404; bad input 422 naming the field; lists
paged with a bounded number of queries."""

import pytest

from tend.hub.export_schedules.models import ExportRun, ExportSchedule
from tend.hub.export_schedules.tests.conftest import schedule_data
from tend.jobs.models import Job

pytestmark = pytest.mark.django_db
URL = "/api/v1/export-schedules"


class FakeServer:
    port = 2222


def payload(**overrides):
    data = schedule_data(FakeServer, host="sftp.example.com")
    data.update(overrides)
    return data


def post(persona, data):
    return persona.api.post(URL, data, content_type="application/json")


def patch(persona, url, data):
    return persona.api.patch(url, data, content_type="application/json")


def test_an_admin_creates_reads_changes_and_deletes_a_schedule_and_no_answer_holds_the_secret(
    owner,
):
    response = post(owner, payload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_password"] is True and body["has_private_key"] is False
    assert (body["dataset"], body["format"], body["time_of_day"]) == ("accounts", "csv", "06:30")
    assert body["last_status"] == "never" and body["next_run_at"]
    assert "password" not in body and "s3cret" not in response.content.decode()
    schedule = ExportSchedule.objects.get(pk=body["id"])
    assert "s3cret" not in schedule.password_sealed and schedule.password == "s3cret-sftp-passw0rd"
    url = f"{URL}/{body['id']}"
    assert "s3cret" not in owner.api.get(url).content.decode()
    assert owner.api.get(URL).json()["items"][0]["id"] == body["id"]
    changed = patch(
        owner, url, {"schedule": "hours", "every_hours": 6, "format": "parquet", "password": ""}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["schedule"], changed.json()["every_hours"]) == ("hours", 6)
    schedule.refresh_from_db()
    assert schedule.format == "parquet" and schedule.password == "s3cret-sftp-passw0rd"
    SftpFingerprint = "SHA256:abc"
    ExportSchedule.objects.filter(pk=schedule.pk).update(host_key_fingerprint=SftpFingerprint)
    assert patch(owner, url, {"folder": "/in"}).json()["host_key_fingerprint"] == SftpFingerprint
    assert patch(owner, url, {"port": 2200}).json()["host_key_fingerprint"] == ""
    assert owner.api.delete(url).status_code == 204
    assert not ExportSchedule.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"dataset": "planets"}, "dataset"),
        ({"format": "xlsx"}, "format"),
        ({"host": "127.0.0.1"}, "host"),
        ({"host": "169.254.169.254"}, "host"),
        ({"port": 0}, "port"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"auth_method": "key", "private_key": "not a key"}, "private_key"),
        ({"folder": ""}, "folder"),
        ({"file_name": ""}, "file_name"),
        ({"file_name": "out/{dataset}.csv"}, "file_name"),
        ({"file_name": ".hidden.csv"}, "file_name"),
        ({"file_name": "{dataset}-{day}.{ext}"}, "file_name"),
        ({"file_name": "{date:%Y}.csv"}, "file_name"),
        ({"file_name": "{dataset.csv"}, "file_name"),
        ({"file_name": "x.part"}, "file_name"),
        ({"schedule": "weekly"}, "schedule"),
        ({"schedule": "daily", "time_of_day": None}, "time_of_day"),
        ({"time_of_day": "25:00"}, "time_of_day"),
        ({"schedule": "hours", "every_hours": 0}, "every_hours"),
        ({"schedule": "hours", "every_hours": 1000}, "every_hours"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_gets_422_naming_the_field_and_stores_nothing(owner, settings, overrides, field):
    settings.TEND_OUTGOING_ALLOW = ""  # as installed: loopback and private addresses refused
    response = post(owner, payload(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not ExportSchedule.objects.exists()


def test_names_are_unique_in_a_workspace(owner):
    assert post(owner, payload()).status_code == 201
    response = post(owner, payload())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


def test_readers_read_writers_run_and_only_admins_change(owner, practitioner, viewer):
    body = post(owner, payload()).json()
    url = f"{URL}/{body['id']}"
    assert viewer.api.get(url).status_code == 200
    assert viewer.api.get(f"{url}/runs").status_code == 200
    assert post(viewer, payload(name="Mine")).status_code == 403
    assert post(practitioner, payload(name="Mine")).status_code == 403
    assert patch(viewer, url, {"every_hours": 2}).status_code == 403
    assert patch(practitioner, url, {"every_hours": 2}).status_code == 403
    assert viewer.api.delete(url).status_code == 403
    assert practitioner.api.delete(url).status_code == 403
    assert viewer.api.post(f"{url}/run").status_code == 403
    assert not Job.objects.filter(kind="hub.export_run").exists()
    ran = practitioner.api.post(f"{url}/run")
    assert ran.status_code == 202, ran.content
    assert ran.json()["status"] == "queued" and ran.json()["trigger"] == "manual"
    # Asking again while one is queued queues no second run.
    assert owner.api.post(f"{url}/run").json()["id"] == ran.json()["id"]
    assert Job.objects.filter(kind="hub.export_run", workspace=owner.workspace).count() == 1
    runs = viewer.api.get(f"{url}/runs").json()["items"]
    assert [r["id"] for r in runs] == [ran.json()["id"]]
    assert ExportSchedule.objects.get().every_hours == 24


def test_outsiders_get_404_on_every_route_and_change_nothing(owner, outsider):
    body = post(owner, payload()).json()
    url = f"{URL}/{body['id']}"
    assert outsider.api.get(url).status_code == 404
    assert outsider.api.get(f"{url}/runs").status_code == 404
    assert patch(outsider, url, {"every_hours": 2}).status_code == 404
    assert outsider.api.post(f"{url}/run").status_code == 404
    assert outsider.api.delete(url).status_code == 404
    assert outsider.api.get(URL).json()["items"] == []
    assert ExportSchedule.objects.get().every_hours == 24
    assert not Job.objects.exists() and not ExportRun.objects.exists()


def test_lists_page_with_a_bounded_number_of_queries(owner, django_assert_max_num_queries):
    first = None
    for n in range(5):
        body = post(owner, payload(name=f"Export {n}")).json()
        first = first or body["id"]
    schedule = ExportSchedule.objects.get(pk=first)
    ExportRun.objects.bulk_create(
        ExportRun(workspace=owner.workspace, schedule=schedule, trigger="schedule", rows=n)
        for n in range(7)
    )
    with django_assert_max_num_queries(6):
        page = owner.api.get(f"{URL}?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = owner.api.get(f"{URL}?limit=2&cursor={page['next_cursor']}").json()
        seen += [i["id"] for i in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    with django_assert_max_num_queries(6):
        runs = owner.api.get(f"{URL}/{first}/runs?limit=5").json()
    assert [r["rows"] for r in runs["items"]] == [6, 5, 4, 3, 2]
    rest = owner.api.get(f"{URL}/{first}/runs?limit=5&cursor={runs['next_cursor']}").json()
    assert [r["rows"] for r in rest["items"]] == [1, 0] and rest["next_cursor"] is None
