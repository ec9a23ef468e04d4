"""What the export tests share: a small world of accounts, readers of the files, many
accounts made fast, and the queries an export costs."""

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tend.accounts.actions.accounts import create_account
from tend.accounts.models import Account, AssignmentRole, AttributeDefinition, Stage
from tend.test import make_member

LIST_EXPORT = "/accounts/export/"
API_EXPORT = "/api/v1/accounts/export"


def make_world(owner, workspace) -> None:
    """Acme (a stage, three tags, a Success Manager, four attributes, a formula for a motto),
    Globex (bare), and "@Initech" whose external id is "-7" and whose ARR is negative."""
    Stage.objects.create(workspace=workspace, name="Onboarding", position=0)
    AssignmentRole.objects.create(
        workspace=workspace, key="success_manager", name="Success Manager"
    )
    AttributeDefinition.objects.create(
        workspace=workspace,
        key="plan",
        label="Plan",
        type="enum",
        options=["Gold", "Silver"],
        position=0,
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="arr", label="ARR", type="currency", position=1
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="renewal", label="Renewal", type="date", position=2
    )
    AttributeDefinition.objects.create(
        workspace=workspace, key="motto", label="Motto", type="text", position=3
    )
    alice = make_member(workspace, "practitioner", "alice@acme.test", "Alice Anders")
    actor = owner.actor
    create_account(
        actor,
        {
            "external_id": "ext-acme",
            "name": "Acme Corp",
            "status": "paying",
            "stage": "Onboarding",
            "tags": ["enterprise", "emea", "beta"],
            "attributes": {
                "plan": "Gold",
                "arr": 120000,
                "renewal": "2027-03-01",
                "motto": "=cmd|' /C calc'!A0",
            },
            "assignments": {"success_manager": alice.user.email},
        },
    )
    create_account(actor, {"external_id": "ext-globex", "name": "Globex", "status": "trial"})
    create_account(
        actor,
        {
            "external_id": "-7",
            "name": "@Initech",
            "status": "churned",
            "attributes": {"arr": -500.5},
        },
    )


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_xlsx(response):
    assert response.streaming
    return load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def bulk_accounts(workspace, start: int, count: int) -> None:
    Account.objects.bulk_create(
        Account(
            workspace=workspace,
            external_id=f"bulk-{n:06}",
            name=f"Bulk {n:06}",
            attributes={"arr": n},
        )
        for n in range(start, start + count)
    )


def export_queries(client, url: str, params: dict) -> int:
    """The queries one export costs, from the request to the last byte."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        data = b"".join(response.streaming_content)
    assert response.status_code == 200 and data
    return len(queries.captured_queries)
