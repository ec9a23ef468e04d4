"""Every dataset, in both formats, arrives on the SFTP server byte for byte as the one-off
download of it (GET /api/v1/exports/{key}) — accounts, end users, usage rollups, health
now and its history — and reads back to its rows."""

import io

import pyarrow.parquet as pq
import pytest

from tend.hub.export_schedules.actions import request_run
from tend.hub.export_schedules.models import RunStatus
from tend.hub.export_schedules.running import run_export
from tend.hub.tests.test_exports import DATASETS, DAY, book, download  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("format", ["csv", "parquet"])
def test_each_dataset_arrives_as_its_download(owner, book, make_schedule, sftp_server, format):  # noqa: F811
    for key in DATASETS:
        schedule = make_schedule(
            name=f"{key} {format}", dataset=key, format=format, file_name="{dataset}.{ext}"
        )
        run = run_export(request_run(owner.actor, schedule).pk)
        assert run.status == RunStatus.SUCCEEDED, run.error
        written = (sftp_server.root / "warehouse" / f"{key}.{format}").read_bytes()
        assert written == download(owner.api, key, format), key
        assert run.bytes == len(written)
        if format == "parquet":
            assert pq.read_table(io.BytesIO(written)).num_rows == run.rows
        else:
            assert written.decode("utf-8-sig").count("\r\n") == run.rows + 1
    if format == "parquet":
        days = pq.read_table(sftp_server.root / "warehouse/usage_account_days.parquet")
        assert [(d["account_external_id"], d["date"], d["events"]) for d in days.to_pylist()] == [
            ("acme", DAY, 7)
        ]
