"""The scheduled export pages: list, form (secrets write-only), a schedule's page with its
runs, Test connection and Run now against a real server; a viewer reads but cannot write,
an outsider gets 404, bad input answers 400 naming the field."""

import pytest
from django.test import Client

from tend.hub.export_schedules.models import ExportRun, ExportSchedule, RunStatus
from tend.hub.export_schedules.running import run_export
from tend.hub.export_schedules.tests.conftest import schedule_data
from tend.hub.sftp.tests.server import PASSWORD
from tend.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)
BASE = "/data/exports/scheduled/"


def form(server, **overrides):
    data = schedule_data(server, **overrides)
    data["enabled"] = "on" if data.pop("enabled") else ""
    return data


def test_an_admin_adds_a_schedule_from_the_form_and_its_page_shows_it(owner, sftp_server):
    assert "Scheduled exports" in owner.browser.get("/data/exports/").content.decode()
    assert "Nightly" not in owner.browser.get(BASE).content.decode()
    new = owner.browser.get(f"{BASE}new/")
    assert new.status_code == 200 and "Usage per account and day" in new.content.decode()
    response = owner.browser.post(f"{BASE}new/", form(sftp_server, format="parquet"))
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule = ExportSchedule.objects.get()
    assert response["Location"] == f"{BASE}{schedule.pk}/"
    assert schedule.password == PASSWORD and schedule.format == "parquet" and schedule.enabled
    page = owner.browser.get(response["Location"]).content.decode()
    assert "Nightly accounts" in page and "Test connection" in page and "Run now" in page
    assert "Not run yet" in page and "No run yet" in page and "daily at 06:30" in page
    edit = owner.browser.get(f"{BASE}{schedule.pk}/edit/").content.decode()
    assert PASSWORD not in edit and schedule.password_sealed not in edit
    assert "leave blank to keep" in edit
    assert "Nightly accounts" in owner.browser.get(BASE).content.decode()


def test_bad_input_answers_400_naming_the_field_and_keeps_what_was_typed(owner, sftp_server):
    response = owner.browser.post(
        f"{BASE}new/", form(sftp_server, file_name="{dataset}-{day}.csv", name="Typed name")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "file_name: {day} is not a placeholder" in html and 'value="Typed name"' in html
    response = owner.browser.post(f"{BASE}new/", form(sftp_server, time_of_day=""))
    assert response.status_code == 400 and "time_of_day: is required" in response.content.decode()
    assert not ExportSchedule.objects.exists()


def test_test_connection_and_run_now_against_a_real_server(owner, make_schedule, sftp_server):
    schedule = make_schedule()
    response = owner.browser.post(f"{BASE}{schedule.pk}/test/", follow=True)
    assert "Connected to 127.0.0.1" in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.host_key_fingerprint == sftp_server.fingerprint
    assert owner.browser.post(f"{BASE}{schedule.pk}/run/").status_code == 302
    run = ExportRun.objects.get()
    run_export(run.pk)
    page = owner.browser.get(f"{BASE}{schedule.pk}/").content.decode()
    assert f'id="run-{run.pk}"' in page and "Succeeded" in page and "Run now" in page
    assert sftp_server.fingerprint in page
    # A failing server is told on the page, with the reason.
    sftp_server.new_host_key()
    response = owner.browser.post(f"{BASE}{schedule.pk}/test/", follow=True)
    assert "Connection test failed: the host key of 127.0.0.1" in response.content.decode()


def test_a_failed_run_shows_why_on_the_schedule_and_in_the_list(owner, make_schedule):
    schedule = make_schedule()
    ExportSchedule.objects.filter(pk=schedule.pk).update(
        last_status=RunStatus.FAILED, last_error="could not connect: connection refused", failures=2
    )
    page = owner.browser.get(f"{BASE}{schedule.pk}/").content.decode()
    assert "The last run failed (2 runs in a row)" in page and "connection refused" in page
    assert "connection refused" in owner.browser.get(BASE).content.decode()


def test_a_viewer_reads_but_cannot_change_run_or_test(owner, viewer, practitioner, make_schedule):
    schedule = make_schedule()
    page = viewer.browser.get(f"{BASE}{schedule.pk}/").content.decode()
    assert (
        "Nightly accounts" in page and "Run now" not in page and f"{schedule.pk}/edit/" not in page
    )
    assert "New scheduled export" not in viewer.browser.get(BASE).content.decode()
    assert viewer.browser.get(f"{BASE}new/").status_code == 403
    assert viewer.browser.get(f"{BASE}{schedule.pk}/edit/").status_code == 403
    for url in ("edit/", "test/", "run/", "delete/"):
        assert viewer.browser.post(f"{BASE}{schedule.pk}/{url}", {"name": "x"}).status_code == 403
    assert practitioner.browser.post(f"{BASE}{schedule.pk}/delete/").status_code == 403
    assert practitioner.browser.post(f"{BASE}{schedule.pk}/run/").status_code == 302
    assert ExportSchedule.objects.get().name == "Nightly accounts"
    assert ExportRun.objects.count() == 1


def test_outsiders_get_404_on_every_schedule_page(owner, outsider, make_schedule):
    schedule = make_schedule()
    assert outsider.browser.get(f"{BASE}{schedule.pk}/").status_code == 404
    assert outsider.browser.get(f"{BASE}{schedule.pk}/edit/").status_code == 404
    for url in ("edit/", "test/", "run/", "delete/"):
        assert outsider.browser.post(f"{BASE}{schedule.pk}/{url}", {"name": "x"}).status_code == 404
    assert "Nightly" not in outsider.browser.get(BASE).content.decode()
    assert ExportSchedule.objects.get().name == "Nightly accounts" and not Job.objects.exists()


def test_an_admin_changes_and_deletes_a_schedule(owner, make_schedule):
    schedule = make_schedule()
    data = {
        f: getattr(schedule, f)
        for f in ("name", "dataset", "format", "host", "port", "username", "auth_method",
                  "folder", "file_name")
    }  # fmt: skip
    data.update(schedule="hours", every_hours="6", time_of_day="", enabled="on", password="")
    response = owner.browser.post(f"{BASE}{schedule.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    schedule.refresh_from_db()
    assert (schedule.schedule, schedule.every_hours) == ("hours", 6)
    assert schedule.password == PASSWORD
    assert owner.browser.post(f"{BASE}{schedule.pk}/delete/").status_code == 302
    assert not ExportSchedule.objects.exists()


def test_pages_use_a_bounded_number_of_queries(owner, make_schedule, django_assert_max_num_queries):
    schedule = make_schedule()
    for n in range(3):
        make_schedule(name=f"Export {n}")
    ExportRun.objects.bulk_create(
        ExportRun(
            workspace=owner.workspace,
            schedule=schedule,
            trigger="schedule",
            rows=n,
            bytes=n,
            status=RunStatus.SUCCEEDED,
            path=f"/warehouse/{n}.csv",
        )  # fmt: skip
        for n in range(60)
    )
    owner.browser.get(BASE)  # signs the client in (session rows) before counting
    with django_assert_max_num_queries(12):
        assert owner.browser.get(BASE).content.decode().count(BASE) >= 4
    with django_assert_max_num_queries(12):
        html = owner.browser.get(f"{BASE}{schedule.pk}/").content.decode()
    assert "1–50 of 60 runs" in html


def test_the_forms_are_csrf_protected(owner, make_schedule, sftp_server):
    schedule = make_schedule()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.member.user)
    assert client.post(f"{BASE}new/", form(sftp_server, name="Other")).status_code == 403
    assert client.post(f"{BASE}{schedule.pk}/run/").status_code == 403
    assert ExportSchedule.objects.count() == 1 and not Job.objects.exists()
