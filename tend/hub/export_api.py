"""``/exports``: the datasets a workspace can export whole (accounts, end users, usage per
day, health now and its history), and each one's download as CSV, XLSX or Parquet,
streamed. The read scope is enough; another workspace's data is never reachable (a
download reads the token's own workspace)."""

from typing import Literal

from ninja import Query, Router, Schema

from tend.hub.exports import export_dataset, get_dataset
from tend.lib import datasets
from tend.lib.api_schemas import ERRORS
from tend.workspaces.access import READ

router = Router(tags=["exports"])


class ColumnOut(Schema):
    key: str
    type: Literal["int", "float", "text", "bool", "date", "datetime", "json"]


class DatasetOut(Schema):
    key: str
    label: str
    description: str
    columns: list[ColumnOut]


class DatasetList(Schema):
    items: list[DatasetOut]


class ExportQuery(Schema):
    format: str = "csv"


def _out(dataset, workspace) -> dict:
    return {
        "key": dataset.key,
        "label": dataset.label,
        "description": dataset.description,
        "columns": [{"key": c.key, "type": c.type} for c in dataset.columns(workspace)],
    }


@router.get("/exports", response={200: DatasetList, **ERRORS}, summary="List the datasets")
def list_datasets(request):
    request.auth.require(READ)
    workspace = request.auth.workspace
    return {"items": [_out(d, workspace) for d in datasets.datasets()]}


@router.get(
    "/exports/{key}",
    response={200: None, **ERRORS},
    summary="Download a dataset",
    description="The whole dataset as `format` = csv, xlsx or parquet, streamed. Columns as "
    "GET /exports lists them; date-times in UTC; Parquet columns typed.",
    openapi_extra={
        "responses": {
            200: {
                "content": {
                    "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                    "application/vnd.apache.parquet": {},
                }
            }
        }
    },
)
def download_dataset(request, key: str, query: Query[ExportQuery]):
    get_dataset(key)  # 404 before the format is judged
    return export_dataset(request.auth, key, query.format)
