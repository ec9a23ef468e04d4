"""Data → Exports: every dataset as CSV, XLSX and Parquet with the rows and typed columns
expected, formula-looking text escaped in CSV and XLSX (kept as is in Parquet), only the
reader's workspace, a flat number of queries, and the page and API around it. (Health's
datasets are tested in tend/health/tests/test_health_datasets.py.)"""

import csv
import datetime
import io

import openpyxl
import pyarrow.parquet as pq
import pytest

from tend.accounts.actions.accounts import create_account
from tend.accounts.actions.definitions.attributes import create_attribute
from tend.accounts.actions.definitions.stages import create_stage
from tend.accounts.actions.people import create_end_user
from tend.lib.dates import day_number
from tend.usage.models import AccountActivityDay, AccountDay, UserDay

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 2)
DATASETS = [
    "accounts", "end_users", "usage_account_days", "usage_user_days", "usage_activity_days",
    "health_current", "health_history",
]  # fmt: skip


@pytest.fixture
def book(owner):
    actor = owner.actor
    create_attribute(actor, {"key": "seats", "label": "Seats", "type": "number"})
    create_attribute(actor, {"key": "renewal", "label": "Renewal", "type": "date"})
    create_attribute(
        actor, {"key": "modules", "label": "Modules", "type": "multi_enum", "options": ["a", "b"]}
    )
    create_stage(actor, {"name": "Adoption"})
    parent = create_account(actor, {"external_id": "hq", "name": "HQ"})
    acme = create_account(
        actor,
        {
            "external_id": "acme",
            "name": '=HYPERLINK("http://evil")',
            "status": "paying",
            "stage": "Adoption",
            "parent_external_id": "hq",
            "tags": ["vip", "eu"],
            "attributes": {"seats": 12, "renewal": "2027-01-31", "modules": ["a", "b"]},
        },
    )
    user = create_end_user(
        actor, {"external_id": "u1", "account_external_id": "acme", "email": "ann@acme.test"}
    )
    ws = owner.workspace
    d = day_number(DAY)
    AccountDay.objects.create(workspace=ws, account=acme, day=d, events=7, seconds=30.5)
    UserDay.objects.create(workspace=ws, account=acme, end_user=user, day=d, events=5, seconds=20)
    AccountActivityDay.objects.create(
        workspace=ws, account=acme, day=d, activity="report", module="bi", events=3
    )
    return {"acme": acme, "hq": parent, "user": user}


def download(client, key, format):
    response = client.get(f"/api/v1/exports/{key}", {"format": format})
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content)


def parquet_rows(data: bytes) -> tuple[dict, list[dict]]:
    table = pq.read_table(io.BytesIO(data))
    return {f.name: str(f.type) for f in table.schema}, table.to_pylist()


def test_accounts_in_every_format_typed_and_escaped(owner, book):
    types, rows = parquet_rows(download(owner.api, "accounts", "parquet"))
    assert types["id"] == "int64" and types["attributes.seats"] == "double"
    assert types["attributes.renewal"] == "date32[day]"
    assert types["created_at"] == "timestamp[us, tz=UTC]"
    acme = next(r for r in rows if r["external_id"] == "acme")
    assert acme["name"] == '=HYPERLINK("http://evil")'  # data, not a spreadsheet
    assert acme["status"] == "paying" and acme["stage"] == "Adoption"
    assert acme["parent_external_id"] == "hq" and acme["tags"] == "eu, vip"
    assert acme["attributes.seats"] == 12.0
    assert acme["attributes.renewal"] == datetime.date(2027, 1, 31)
    assert acme["attributes.modules"] == "a, b"
    assert {r["external_id"] for r in rows} == {"acme", "hq"}

    text = download(owner.api, "accounts", "csv").decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in table if r["external_id"] == "acme")
    assert row["name"] == '\'=HYPERLINK("http://evil")'
    assert row["attributes.seats"] == "12" and row["attributes.renewal"] == "2027-01-31"

    book_ = openpyxl.load_workbook(io.BytesIO(download(owner.api, "accounts", "xlsx")))
    sheet = book_.worksheets[0]
    header = [c.value for c in sheet[1]]
    values = {
        r[header.index("external_id")]: r for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    name_cell = values["acme"][header.index("name")]
    assert name_cell == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=1).data_type != "f"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_usage_and_end_user_datasets_hold_the_days_and_people(owner, book):
    acme = book["acme"]
    _, days = parquet_rows(download(owner.api, "usage_account_days", "parquet"))
    assert days == [
        {
            "account_id": acme.pk,
            "account_external_id": "acme",
            "date": DAY,
            "events": 7,
            "seconds": 30.5,
        }
    ]
    _, users = parquet_rows(download(owner.api, "usage_user_days", "parquet"))
    assert users[0]["end_user_external_id"] == "u1" and users[0]["events"] == 5
    _, activity = parquet_rows(download(owner.api, "usage_activity_days", "parquet"))
    assert (activity[0]["activity"], activity[0]["module"], activity[0]["events"]) == (
        "report",
        "bi",
        3,
    )
    _, users = parquet_rows(download(owner.api, "end_users", "parquet"))
    assert users[0]["email"] == "ann@acme.test" and users[0]["account_external_id"] == "acme"


def test_an_outsider_sees_only_their_own_rows_and_bad_input_is_named(owner, outsider, book):
    for key in DATASETS:
        _, rows = parquet_rows(download(outsider.api, key, "parquet"))
        assert rows == [], key
    response = owner.api.get("/api/v1/exports/secrets", {"format": "csv"})
    assert response.status_code == 404
    response = owner.api.get("/api/v1/exports/accounts", {"format": "pdf"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "format"
    page = owner.browser.get("/data/exports/accounts/", {"format": "pdf"})
    assert page.status_code == 400 and page.json()["errors"][0]["field"] == "format"
    assert owner.browser.get("/data/exports/nope/", {"format": "csv"}).status_code == 404


def test_a_viewer_may_export_and_the_list_names_every_dataset(viewer, owner, book):
    listing = viewer.api.get("/api/v1/exports").json()["items"]
    assert [d["key"] for d in listing] == DATASETS
    accounts = next(d for d in listing if d["key"] == "accounts")
    assert {"key": "attributes.renewal", "type": "date"} in accounts["columns"]
    assert download(viewer.api, "accounts", "csv").startswith(b"\xef\xbb\xbfid,")
    page = viewer.browser.get("/data/exports/")
    body = page.content.decode()
    assert page.status_code == 200
    for key in DATASETS:
        assert f'id="dataset-{key}"' in body
        assert f"/data/exports/{key}/?format=parquet" in body
    download_page = viewer.browser.get("/data/exports/usage_account_days/", {"format": "xlsx"})
    assert download_page["Content-Disposition"].startswith(
        'attachment; filename="usage-account-days-'
    )


def test_queries_do_not_grow_with_the_rows(owner, book, django_assert_max_num_queries):
    for n in range(30):
        create_account(owner.actor, {"external_id": f"a{n}", "name": f"A {n}", "tags": ["x"]})
    with django_assert_max_num_queries(12):
        data = download(owner.api, "accounts", "parquet")
    assert len(parquet_rows(data)[1]) == 32
