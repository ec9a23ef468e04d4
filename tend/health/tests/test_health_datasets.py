"""Health's datasets in Data → Exports: each account's health now and its daily history,
typed in Parquet, as CSV, and only the reader's workspace."""

import csv
import datetime
import io

import pyarrow.parquet as pq
import pytest

from tend.accounts.actions.accounts import create_account
from tend.health.models import AccountHealth, HealthSnapshot
from tend.lib.dates import day_number

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 2)


def download(client, key, format) -> bytes:
    response = client.get(f"/api/v1/exports/{key}", {"format": format})
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_health_now_and_history(owner, outsider):
    acme = create_account(owner.actor, {"external_id": "acme", "name": "Acme"})
    ws = owner.workspace
    AccountHealth.objects.create(
        workspace=ws, account=acme, rank="poor", score=31.5, dimensions={"usage": 20}
    )
    for offset, rank in ((0, "good"), (3, "poor")):
        HealthSnapshot.objects.create(
            workspace=ws, account=acme, day=day_number(DAY) + offset, rank=rank, score=31.5
        )

    table = pq.read_table(io.BytesIO(download(owner.api, "health_current", "parquet")))
    assert str(table.schema.field("score").type) == "double"
    [now] = table.to_pylist()
    assert (now["account_external_id"], now["rank"], now["score"]) == ("acme", "poor", 31.5)
    assert now["dimensions"] == '{"usage":20}'

    text = download(owner.api, "health_history", "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["date"], r["rank"]) for r in rows] == [
        (DAY.isoformat(), "good"),
        ((DAY + datetime.timedelta(days=3)).isoformat(), "poor"),
    ]
    assert download(outsider.api, "health_history", "csv").decode("utf-8-sig").count("\n") == 1
