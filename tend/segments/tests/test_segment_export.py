"""``GET /api/v1/segments/{id}/export``: a segment's accounts now as CSV or XLSX, seen only
by those who see the segment, in queries that grow with chunks of accounts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tend.accounts import exports
from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account
from tend.segments.actions import add_accounts, create_segment, evaluate_segment
from tend.workspaces.models import ApiToken

PAYING = {"field": "status", "op": "eq", "value": "paying"}


def url(segment) -> str:
    return f"/api/v1/segments/{segment.pk}/export"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def acting_for(persona):
    """The persona's token acts for them (as a token they created does)."""
    ApiToken.objects.filter(
        workspace=persona.workspace, name=f"{persona.member.seat} token"
    ).update(created_by=persona.member)
    return persona


@pytest.fixture
def paying(owner):
    """A shared dynamic segment of the paying accounts among four."""
    for external_id, status in [
        ("acme", "paying"),
        ("globex", "trial"),
        ("=evil", "paying"),
        ("initech", "paying"),
    ]:
        create_account(
            owner.actor, {"external_id": external_id, "name": external_id.title(), "status": status}
        )
    return create_segment(
        owner.actor, {"name": "Paying: all", "visibility": "shared", "condition": PAYING}
    )


def test_a_segment_exports_its_accounts_with_the_fields_asked_for(owner, paying):
    rows = read_csv(owner.api.get(url(paying), {"format": "csv", "fields": "status"}))
    assert rows[0] == ["id", "external_id", "name", "status"]
    assert [row[1] for row in rows[1:]] == ["acme", "'=evil", "initech"]  # by id
    assert {row[3] for row in rows[1:]} == {"paying"}


def test_a_segment_export_is_named_after_the_segment(owner, paying):
    response = owner.api.get(url(paying), {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="paying-all-')
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Paying  all"]  # a colon is not allowed in a sheet's name
    assert workbook.active.max_row == 4


def test_a_static_segment_exports_the_accounts_added_to_it(owner, paying):
    segment = create_segment(
        owner.actor, {"name": "Hand-picked", "visibility": "shared", "kind": "static"}
    )
    globex = Account.objects.get(external_id="globex")
    add_accounts(owner.actor, segment, account_ids=[globex.pk])
    rows = read_csv(owner.api.get(url(segment), {"format": "csv"}))
    assert [row[1] for row in rows[1:]] == ["globex"]


def test_a_viewer_exports_a_shared_segment(viewer, paying):
    assert len(read_csv(viewer.api.get(url(paying), {"format": "csv"}))) == 4


def test_an_outsider_gets_404_whatever_they_ask(outsider, paying):
    assert outsider.api.get(url(paying), {"format": "csv"}).status_code == 404
    assert outsider.api.get(url(paying)).status_code == 404  # not a complaint about format


def test_another_members_private_segment_is_404_to_export(owner, practitioner, paying):
    private = create_segment(acting_for(owner).actor, {"name": "Mine", "condition": PAYING})
    assert read_csv(owner.api.get(url(private), {"format": "csv"}))[1:]
    assert acting_for(practitioner).api.get(url(private), {"format": "csv"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [({"format": "ods"}, "format"), ({"format": "csv", "fields": "nope"}, "fields.0")],
)
def test_a_bad_segment_export_names_the_field(owner, paying, params, field):
    response = owner.api.get(url(paying), params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_segment_export_queries_grow_with_chunks_of_accounts(owner, paying, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    params = {"format": "csv", "fields": "status,stage,tags"}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            read_csv(owner.api.get(url(paying), params))
        return len(captured.captured_queries)

    def more_paying(start, count):
        for n in range(start, start + count):
            create_account(
                owner.actor, {"external_id": f"p{n}", "name": f"P{n}", "status": "paying"}
            )
        evaluate_segment(paying)

    queries()  # the token's first request costs more
    one_chunk = queries()  # 3 members
    more_paying(0, 7)  # 10
    assert queries() == one_chunk
    more_paying(7, 10)  # 20
    two_chunks = queries()
    more_paying(17, 10)  # 30
    assert queries() == two_chunks + (two_chunks - one_chunk)
