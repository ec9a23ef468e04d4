"""Exporting the accounts list as it stands — filters, search, condition, sort — with the
columns it shows, streamed as CSV or XLSX, in queries that grow with chunks of accounts."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts import exports
from tend.accounts.models import Account
from tend.accounts.tests.export_world import (
    LIST_EXPORT,
    bulk_accounts,
    export_queries,
    make_world,
    read_csv,
    read_xlsx,
)


@pytest.fixture
def world(owner, workspace):
    make_world(owner, workspace)


def test_the_list_export_has_the_columns_the_list_shows_under_its_labels(owner, world):
    response = owner.browser.get(LIST_EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="accounts-')
    rows = read_csv(response)
    header = rows[0]
    assert header[:6] == ["Name", "External id", "Tags", "Status", "Stage", "Success Manager"]
    # The three attribute columns the list shows (not the fourth), and last updated.
    assert header[-4:] == ["Plan", "ARR", "Renewal", "Updated"]
    assert "Motto" not in header
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    acme = by_name["Acme Corp"]
    assert acme["Tags"] == "beta, emea, enterprise"  # every tag, not the two the list shows
    assert (acme["Status"], acme["Stage"], acme["Success Manager"]) == (
        "Paying",
        "Onboarding",
        "Alice Anders",
    )
    assert (acme["Plan"], acme["ARR"], acme["Renewal"]) == ("Gold", "120000", "2027-03-01")


def test_the_list_export_escapes_formulas_and_leaves_numbers_alone(owner, world):
    rows = read_csv(owner.browser.get(LIST_EXPORT, {"format": "csv", "q": "ini"}))
    assert len(rows) == 2
    initech = dict(zip(rows[0], rows[1], strict=True))
    assert initech["Name"] == "'@Initech"
    assert initech["External id"] == "'-7"  # text that looks like a number is still text
    assert initech["ARR"] == "-500.5"  # a number is a number


def test_the_list_export_keeps_the_lists_filters_search_and_sort(owner, world):
    def names(**params):
        response = owner.browser.get(LIST_EXPORT, {"format": "csv", **params})
        return [row[0] for row in read_csv(response)[1:]]

    assert names() == ["'@Initech", "Acme Corp", "Globex"]
    assert names(sort="-name") == ["Globex", "Acme Corp", "'@Initech"]
    assert names(status="trial") == ["Globex"]
    assert names(q="ext-") == ["Acme Corp", "Globex"]
    # The list's page is not the export's: an export holds every match.
    assert names(page="2") == names()


def test_the_list_export_keeps_the_lists_condition(owner, world):
    where = json.dumps({"all": [{"field": "attributes.arr", "op": "gt", "value": 0}]})
    rows = read_csv(owner.browser.get(LIST_EXPORT, {"format": "csv", "where": where}))
    assert [row[0] for row in rows[1:]] == ["Acme Corp"]


def test_the_list_export_in_xlsx_has_typed_cells_in_the_workspaces_time(owner, world, workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    ws = read_xlsx(owner.browser.get(LIST_EXPORT, {"format": "xlsx", "q": "acme"}))
    assert ws.title == "Accounts"
    header = [c.value for c in ws[1]]
    acme = dict(zip(header, ws[2], strict=True))
    assert (acme["ARR"].value, acme["ARR"].data_type) == (120000, "n")
    assert acme["Renewal"].value == datetime.datetime(2027, 3, 1)
    assert acme["Renewal"].number_format == "yyyy-mm-dd"
    # Excel has no time zones: the workspace's wall-clock time, to the second.
    updated = Account.objects.get(external_id="ext-acme").updated_at
    paris = updated.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert acme["Updated"].is_date
    assert abs(acme["Updated"].value - paris.replace(tzinfo=None)) < datetime.timedelta(seconds=1)


def test_a_list_export_in_another_format_is_refused_naming_the_parameter(owner, world):
    response = owner.browser.get(LIST_EXPORT, {"format": "pdf"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "format", "message": "expected csv or xlsx, got 'pdf'"}
    ]
    assert owner.browser.get(LIST_EXPORT).json()["errors"][0]["field"] == "format"


def test_a_list_export_with_a_broken_condition_names_the_clause(owner, world):
    where = json.dumps({"all": [{"field": "attributes.nope", "op": "eq", "value": 1}]})
    response = owner.browser.get(LIST_EXPORT, {"format": "csv", "where": where})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "where.all.0.field"


def test_a_viewer_exports_the_list_like_anyone_who_can_read_it(viewer, world):
    assert len(read_csv(viewer.browser.get(LIST_EXPORT, {"format": "csv"}))) == 4


def test_an_outsider_exports_only_their_own_workspace(outsider, world):
    rows = read_csv(outsider.browser.get(LIST_EXPORT, {"format": "csv"}))
    assert rows[1:] == []


def test_the_list_export_needs_a_login(client, world):
    assert client.get(LIST_EXPORT, {"format": "csv"}).status_code == 302


def test_the_list_offers_its_export_with_the_same_filters(owner, world):
    html = owner.browser.get("/accounts/", {"status": "paying", "sort": "-name"}).content.decode()
    assert 'data-testid="export-menu"' in html
    assert "/accounts/export/?status=paying&amp;sort=-name&amp;format=csv" in html
    assert "/accounts/export/?status=paying&amp;sort=-name&amp;format=xlsx" in html


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_list_export_queries_grow_with_chunks_of_accounts_not_with_accounts(
    owner, world, workspace, monkeypatch, format
):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    params = {"format": format}
    bulk_accounts(workspace, 0, 4)  # with the world's three: one chunk of 7
    export_queries(owner.browser, LIST_EXPORT, params)  # a session's first request costs more
    one_chunk = export_queries(owner.browser, LIST_EXPORT, params)
    bulk_accounts(workspace, 4, 3)  # 10: still one chunk
    assert export_queries(owner.browser, LIST_EXPORT, params) == one_chunk
    bulk_accounts(workspace, 7, 10)  # 20: two chunks
    two_chunks = export_queries(owner.browser, LIST_EXPORT, params)
    bulk_accounts(workspace, 17, 10)  # 30: three chunks
    per_chunk = two_chunks - one_chunk
    assert export_queries(owner.browser, LIST_EXPORT, params) == two_chunks + per_chunk
    assert per_chunk <= 8


@pytest.mark.slow
def test_a_100000_account_csv_export_starts_before_it_is_built(owner, workspace):
    """The first rows leave once the first chunk of accounts is read, while the other 49
    chunks are still unread: the file is written as it is sent, not built and then sent."""
    for start in range(0, 100_000, 10_000):
        bulk_accounts(workspace, start, 10_000)
    response = owner.browser.get(LIST_EXPORT, {"format": "csv"})
    stream = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before_first_rows:
        header = next(stream)
        first_rows = next(stream)
    assert header.startswith("\ufeffName,External id".encode())
    assert first_rows.startswith(b"Bulk 000000,bulk-000000,")
    reads = [q for q in before_first_rows.captured_queries if "accounts_account" in q["sql"]]
    assert len(reads) <= 3  # the ids' cursor and the first chunk
    with CaptureQueriesContext(connection) as the_rest:
        lines = first_rows.count(b"\r\n") + sum(chunk.count(b"\r\n") for chunk in stream)
    assert lines == 100_000
    assert len(the_rest.captured_queries) >= 49  # the other chunks, read as the file went
