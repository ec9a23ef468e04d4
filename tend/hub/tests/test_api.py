"""``/api/v1/imports``: upload and start, status and counts, rejected rows as CSV; outsiders
get 404, read-only tokens cannot import, bad input names the field."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope

from tend.accounts.models import Account
from tend.hub import actions
from tend.hub.models import Import, ImportStatus
from tend.hub.running import run_import
from tend.hub.tests.conftest import csv_bytes
from tend.jobs.models import Job

pytestmark = pytest.mark.django_db

FILE = "external_id,name,Notes\nx-1,Acme,=HYPERLINK(\"http://evil\")\nx-2,,\nx-3,Initech,+1 555\n"


def post(persona, content=FILE, name="accounts.csv", **fields):
    data = {"file": SimpleUploadedFile(name, csv_bytes(content)), "object": "account", **fields}
    return persona.api.post("/api/v1/imports", data=data)


def test_a_posted_file_is_queued_as_a_job_and_then_reports_its_counts(owner):
    response = post(owner, mapping=json.dumps({"external_id": "external_id", "name": "name"}))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["dry_run"] is False
    assert Job.objects.filter(pk=Import.objects.get(pk=body["id"]).job_id, kind=actions.RUN_JOB).exists()
    run_import(body["id"])
    got = owner.api.get(f"/api/v1/imports/{body['id']}").json()
    assert got["status"] == "partial"
    assert got["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert got["progress"] == 100 and got["rows_total"] == 3
    assert got["duration_seconds"] is not None


def test_formula_looking_cells_are_stored_as_text_and_escaped_in_the_errors_csv(owner):
    body = post(owner, unknown_columns="create").json()
    run_import(body["id"])
    assert Account.objects.get(external_id="x-1").attributes == {"notes": '=HYPERLINK("http://evil")'}
    assert Account.objects.get(external_id="x-3").attributes == {"notes": "+1 555"}
    response = owner.api.get(f"/api/v1/imports/{body['id']}/errors")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    # Streamed after the request's scope ended, as a server writes it: the rows scope themselves.
    with scope():
        text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "reason", "external_id", "name", "Notes"]
    assert rows[1][0] == "3" and "name" in rows[1][1] and rows[1][2] == "x-2"


def test_the_errors_csv_escapes_formulas_in_rejected_cells(owner):
    body = post(owner, content="external_id,name\n=cmd|' /C calc'!A0,\n").json()
    run_import(body["id"])
    text = b"".join(owner.api.get(f"/api/v1/imports/{body['id']}/errors").streaming_content).decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[2].startswith("'=")


def test_a_dry_run_through_the_api_writes_nothing(owner):
    body = post(owner, dry_run="true").json()
    assert body["dry_run"] is True
    run_import(body["id"])
    assert not Account.objects.exists()
    assert owner.api.get(f"/api/v1/imports/{body['id']}").json()["counts"]["created"] == 2


def test_a_saved_mapping_is_used_by_name(owner):
    actions.save_mapping(owner.actor, "account", "Legacy", {"Company code": "external_id", "Company": "name"}, "ignore")
    body = post(owner, content="Company code,Company,Junk\nc-1,Cyberdyne,zzz\n", mapping_name="Legacy").json()
    assert body["mapping"] == {"Company code": "external_id", "Company": "name", "Junk": ""}
    run_import(body["id"])
    assert Account.objects.get(external_id="c-1").name == "Cyberdyne"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"object": "invoice"}, "object"),
        ({"mapping": "{not json"}, "mapping"),
        ({"mapping": json.dumps({"Nope": "name"})}, "mapping"),
        ({"mapping": json.dumps({"name": "name"})}, "mapping"),
        ({"mapping": json.dumps({"external_id": "colour"})}, "mapping"),
        ({"mapping_name": "never saved"}, "mapping_name"),
        ({"unknown_columns": "merge"}, "unknown_columns"),
    ],
)
def test_bad_input_is_refused_naming_the_field(owner, fields, field):
    response = post(owner, **fields)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not Import.objects.exists()


def test_a_missing_or_empty_file_is_refused_naming_the_file(owner):
    response = owner.api.post("/api/v1/imports", data={"object": "account"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
    response = post(owner, content="")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
    response = post(owner, content="a,a\n1,2\n")
    assert response.status_code == 422 and "two columns" in response.json()["detail"]


def test_a_file_over_the_limit_is_refused(owner, settings):
    settings.TEND_IMPORT_MAX_BYTES = 20
    response = post(owner)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"


def test_a_read_only_token_cannot_import(viewer):
    response = post(viewer)
    assert response.status_code == 403
    assert not Import.objects.exists()


def test_outsiders_get_404_for_an_import_and_its_errors(owner, outsider):
    body = post(owner).json()
    for url in (f"/api/v1/imports/{body['id']}", f"/api/v1/imports/{body['id']}/errors"):
        assert outsider.api.get(url).status_code == 404
    assert Import.objects.get(pk=body["id"]).status == ImportStatus.QUEUED


def test_a_finished_dry_run_is_run_for_real_through_the_api(owner, viewer, outsider):
    dry = post(owner, dry_run="true").json()
    assert owner.api.post(f"/api/v1/imports/{dry['id']}/run").json()["errors"][0]["field"] == "status"
    run_import(dry["id"])
    assert outsider.api.post(f"/api/v1/imports/{dry['id']}/run").status_code == 404
    assert viewer.api.post(f"/api/v1/imports/{dry['id']}/run").status_code == 403
    response = owner.api.post(f"/api/v1/imports/{dry['id']}/run")
    assert response.status_code == 202
    real = response.json()
    assert real["dry_run_of"] == dry["id"] and not real["dry_run"] and real["status"] == "queued"
    run_import(real["id"])
    assert Account.objects.count() == 2


def test_the_upload_route_takes_bodies_over_the_general_limit_up_to_the_import_limit(owner, settings):
    settings.TEND_MAX_BODY_BYTES = 2000
    big = "external_id,name\n" + "".join(f"b-{i:05d},Company {i}\n" for i in range(200))  # ~4 KB
    assert post(owner, content=big).status_code == 202
    assert owner.api.put("/api/v1/accounts", data=big.encode() * 2, content_type="application/json").status_code == 413
    settings.TEND_IMPORT_MAX_BYTES = 1000  # the route's own limit, plus room for the form fields
    response = owner.api.post(
        "/api/v1/imports",
        data={"file": SimpleUploadedFile("a.csv", csv_bytes(big * 300)), "object": "account"},
    )
    assert response.status_code == 413 and response.json()["errors"][0]["field"] == "body"


def test_an_import_of_a_file_gone_missing_fails_at_once_saying_why(owner, import_dir):
    from types import SimpleNamespace

    from tend.hub.jobs import run_import_job

    body = post(owner).json()
    imp = Import.objects.get(pk=body["id"])
    (import_dir / imp.stored_name).unlink()
    run_import_job(SimpleNamespace(payload={"import_id": imp.pk}, attempts=1, max_attempts=5))
    got = owner.api.get(f"/api/v1/imports/{imp.pk}").json()
    assert got["status"] == "failed" and got["error"].startswith("FileNotFoundError")


def test_an_import_whose_job_fails_for_good_says_why_and_a_retry_resumes_it(owner, monkeypatch):
    from types import SimpleNamespace

    from django.db import OperationalError

    from tend.hub import jobs, running

    body = post(owner, mapping=json.dumps({"external_id": "external_id", "name": "name"})).json()
    imp = Import.objects.get(pk=body["id"])

    def database_gone(*args, **kwargs):
        raise OperationalError("the database went away")

    monkeypatch.setattr(running, "_commit_chunk", database_gone)
    job = SimpleNamespace(payload={"import_id": imp.pk}, attempts=1, max_attempts=jobs.MAX_ATTEMPTS)
    with pytest.raises(OperationalError):
        jobs.run_import_job(job)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.RUNNING  # to be retried: not failed yet
    job.attempts = jobs.MAX_ATTEMPTS
    with pytest.raises(OperationalError):
        jobs.run_import_job(job)
    got = owner.api.get(f"/api/v1/imports/{imp.pk}").json()
    assert got["status"] == "failed" and got["error"] == "OperationalError: the database went away"
    # Someone retries the job once the database is back: the import carries on and finishes.
    monkeypatch.undo()
    jobs.run_import_job(SimpleNamespace(payload={"import_id": imp.pk}, attempts=1, max_attempts=jobs.MAX_ATTEMPTS))
    got = owner.api.get(f"/api/v1/imports/{imp.pk}").json()
    assert (got["status"], got["error"], got["counts"]["created"]) == ("partial", "", 2)


def test_the_list_of_imports_pages_by_cursor_newest_first_and_shows_only_ours(owner, outsider, django_assert_max_num_queries):
    ids = [post(owner).json()["id"] for _ in range(3)]
    post(outsider)
    with django_assert_max_num_queries(6):
        first = owner.api.get("/api/v1/imports?limit=2").json()
    assert [i["id"] for i in first["items"]] == ids[:0:-1]
    rest = owner.api.get(f"/api/v1/imports?limit=2&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert owner.api.get("/api/v1/imports?status=failed").json()["items"] == []
    bad = owner.api.get("/api/v1/imports?cursor=nonsense")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    assert not set(ids) & {i["id"] for i in outsider.api.get("/api/v1/imports").json()["items"]}


def test_only_an_admin_creates_attributes_through_an_import(practitioner):
    response = post(practitioner, unknown_columns="create")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "mapping" and "'Notes'" in error["message"] and "admin" in error["message"]
    assert post(practitioner).status_code == 202  # the Notes column ignored
