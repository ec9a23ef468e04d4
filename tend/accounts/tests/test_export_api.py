"""``GET /api/v1/accounts/export``: the accounts matching a condition, with chosen fields,
streamed as CSV or XLSX; bad parameters named; tokens, seats and other workspaces."""

import datetime
import json

import pytest

from tend.accounts import exports
from tend.accounts.models import Account
from tend.accounts.tests.export_world import (
    API_EXPORT,
    bulk_accounts,
    export_queries,
    make_world,
    read_csv,
    read_xlsx,
)
from tend.test import make_token, token_client


@pytest.fixture
def world(owner, workspace):
    make_world(owner, workspace)


def test_the_api_exports_accounts_matching_a_condition_with_chosen_fields(owner, world):
    where = json.dumps({"field": "status", "op": "in", "value": ["paying", "churned"]})
    response = owner.api.get(
        API_EXPORT,
        {"format": "csv", "where": where, "fields": "status,attributes.arr,tags,stage"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="accounts-')
    rows = read_csv(response)
    assert rows[0] == ["id", "external_id", "name", "status", "attributes.arr", "tags", "stage"]
    acme = Account.objects.get(external_id="ext-acme")
    assert rows[1] == [
        str(acme.pk),
        "ext-acme",
        "Acme Corp",
        "paying",
        "120000",
        "beta, emea, enterprise",
        "Onboarding",
    ]
    # Text that starts like a formula is escaped, "-7" included; a number is left alone.
    assert rows[2][1:5] == ["'-7", "'@Initech", "churned", "-500.5"]
    assert len(rows) == 3


def test_the_api_exports_every_field_by_default_and_labels_on_request(owner, world):
    rows = read_csv(owner.api.get(API_EXPORT, {"format": "csv"}))
    expected = {
        "status",
        "stage",
        "tags",
        "owner.success_manager",
        "attributes.motto",
        "created_at",
    }
    assert expected <= set(rows[0])
    assert "segment" not in rows[0]  # ids of segments mean nothing in a spreadsheet
    assert len(rows) == 4
    labelled = read_csv(
        owner.api.get(API_EXPORT, {"format": "csv", "fields": "status", "headers": "label"})
    )
    assert labelled[0] == ["Id", "External id", "Name", "Status"]


def test_the_api_exports_xlsx_with_typed_cells(owner, world):
    fields = "attributes.arr,attributes.renewal,created_at,attributes.motto"
    ws = read_xlsx(owner.api.get(API_EXPORT, {"format": "xlsx", "fields": fields}))
    header = [c.value for c in ws[1]]
    assert header == ["id", "external_id", "name", *fields.split(",")]
    acme = dict(zip(header, ws[2], strict=True))
    assert (acme["id"].data_type, acme["attributes.arr"].data_type) == ("n", "n")
    assert acme["attributes.renewal"].value == datetime.datetime(2027, 3, 1)
    assert acme["created_at"].is_date
    motto = acme["attributes.motto"]
    assert (motto.value, motto.data_type, motto.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({}, "format"),
        ({"format": "csv", "where": "{nope"}, "where"),
        ({"format": "csv", "where": '{"field": "nope", "op": "eq", "value": 1}'}, "where.field"),
        ({"format": "csv", "fields": "status,nope"}, "fields.1"),
        ({"format": "csv", "fields": "status,,name"}, "fields.1"),
        ({"format": "csv", "headers": "both"}, "headers"),
    ],
)
def test_the_api_refuses_a_bad_export_naming_the_field(owner, world, params, field):
    response = owner.api.get(API_EXPORT, params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_the_api_export_needs_a_token_with_read(client, world, workspace):
    assert client.get(API_EXPORT, {"format": "csv"}).status_code == 401
    ingest_only = token_client(make_token(workspace, scopes=("ingest",)))
    assert ingest_only.get(API_EXPORT, {"format": "csv"}).status_code == 403


def test_a_viewers_token_exports(viewer, world):
    assert len(read_csv(viewer.api.get(API_EXPORT, {"format": "csv"}))) == 4


def test_an_outsiders_token_exports_only_their_own_workspace(outsider, world):
    rows = read_csv(outsider.api.get(API_EXPORT, {"format": "csv"}))
    assert rows[1:] == []


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_api_export_queries_grow_with_chunks_of_accounts_not_with_accounts(
    owner, world, workspace, monkeypatch, format
):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    params = {"format": format, "fields": "status,stage,tags,owner.success_manager,attributes.arr"}
    bulk_accounts(workspace, 0, 4)  # with the world's three: one chunk of 7
    export_queries(owner.api, API_EXPORT, params)  # a token's first request costs more
    one_chunk = export_queries(owner.api, API_EXPORT, params)
    bulk_accounts(workspace, 4, 3)  # 10: still one chunk
    assert export_queries(owner.api, API_EXPORT, params) == one_chunk
    bulk_accounts(workspace, 7, 10)  # 20: two chunks
    two_chunks = export_queries(owner.api, API_EXPORT, params)
    bulk_accounts(workspace, 17, 10)  # 30: three chunks
    per_chunk = two_chunks - one_chunk
    assert export_queries(owner.api, API_EXPORT, params) == two_chunks + per_chunk
    assert per_chunk <= 6


def test_file_names_are_ascii_words_and_the_day():
    day = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    assert exports.file_name("Clientes en riesgo — España", "csv", day) == (
        "clientes-en-riesgo-espana-2026-03-01.csv"
    )
    assert exports.file_name("日本", "xlsx", day) == "export-2026-03-01.xlsx"
