"""The accounts app's full-table exports (``tend.lib.datasets``): accounts and end users,
each custom attribute its own typed column, for warehouses and one-off downloads.

Rows are read by id in chunks: the ids in one ordered pass, then per chunk the rows and
their tags in two queries, so memory and query count stay flat whatever the size.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence

from tend.accounts.conditions import attribute_field
from tend.accounts.models import (
    Account,
    AccountTag,
    AttributeDefinition,
    AttributeType,
    EndUser,
    ObjectType,
)
from tend.lib import datasets
from tend.lib.datasets import Column, Dataset

CHUNK = 5_000
_ATTRIBUTE_TYPES = {
    AttributeType.NUMBER: "float",
    AttributeType.CURRENCY: "float",
    AttributeType.DATE: "date",
    AttributeType.BOOLEAN: "bool",
    AttributeType.MULTI_ENUM: "text",
}
ATTRIBUTE_PREFIX = "attributes."


def _definitions(workspace, object_type) -> list[AttributeDefinition]:
    return list(
        AttributeDefinition.objects.filter(workspace=workspace, object_type=object_type).order_by(
            "position", "label", "id"
        )
    )


def _attribute_columns(workspace, object_type) -> list[Column]:
    return [
        Column(ATTRIBUTE_PREFIX + d.key, _ATTRIBUTE_TYPES.get(d.type, "text"))
        for d in _definitions(workspace, object_type)
    ]


def _attribute_readers(workspace, object_type, columns: Sequence[Column]) -> dict:
    """How to read each attribute column from a row's ``attributes``: as a condition reads
    it (dates from their ISO text; a value of another type than declared is missing)."""
    by_key = {d.key: d for d in _definitions(workspace, object_type)}
    readers = {}
    for column in columns:
        if column.key.startswith(ATTRIBUTE_PREFIX):
            key = column.key[len(ATTRIBUTE_PREFIX) :]
            readers[column.key] = (key, attribute_field(by_key[key]).read)
    return readers


def _id_chunks(queryset) -> Iterator[list[int]]:
    chunk: list[int] = []
    for pk in queryset.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=CHUNK):
        chunk.append(pk)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _row(values: dict, columns: Sequence[Column], readers: dict) -> list:
    attributes = values.get("attributes") or {}
    row = []
    for column in columns:
        if column.key in readers:
            key, read = readers[column.key]
            row.append(read(attributes.get(key), None))
        else:
            row.append(values.get(column.key))
    return row


# --- Accounts ---------------------------------------------------------------------------------

ACCOUNT_COLUMNS = [
    Column("id", "int"),
    Column("external_id", "text"),
    Column("name", "text"),
    Column("status", "text"),
    Column("stage", "text"),
    Column("stage_entered_at", "datetime"),
    Column("parent_external_id", "text"),
    Column("tags", "text"),
    Column("created_at", "datetime"),
    Column("updated_at", "datetime"),
]


def account_columns(workspace) -> list[Column]:
    return ACCOUNT_COLUMNS + _attribute_columns(workspace, ObjectType.ACCOUNT)


def account_rows(workspace, columns: Sequence[Column]) -> Iterator[list]:
    readers = _attribute_readers(workspace, ObjectType.ACCOUNT, columns)
    accounts = Account.objects.filter(workspace=workspace)
    for ids in _id_chunks(accounts):
        tags = defaultdict(list)
        for account_id, name in (
            AccountTag.objects.filter(account_id__in=ids)
            .order_by("tag__name")
            .values_list("account_id", "tag__name")
        ):
            tags[account_id].append(name)
        rows = Account.objects.filter(workspace=workspace, pk__in=ids).order_by("pk").values(
            "id", "external_id", "name", "status", "stage__name", "stage_entered_at",
            "parent__external_id", "attributes", "created_at", "updated_at",
        )  # fmt: skip
        for values in rows:
            values["stage"] = values.pop("stage__name")
            values["parent_external_id"] = values.pop("parent__external_id")
            values["tags"] = ", ".join(tags.get(values["id"], ())) or None
            yield _row(values, columns, readers)


# --- End users --------------------------------------------------------------------------------

END_USER_COLUMNS = [
    Column("id", "int"),
    Column("external_id", "text"),
    Column("account_id", "int"),
    Column("account_external_id", "text"),
    Column("email", "text"),
    Column("name", "text"),
    Column("created_at", "datetime"),
    Column("updated_at", "datetime"),
]


def end_user_columns(workspace) -> list[Column]:
    return END_USER_COLUMNS + _attribute_columns(workspace, ObjectType.USER)


def end_user_rows(workspace, columns: Sequence[Column]) -> Iterator[list]:
    readers = _attribute_readers(workspace, ObjectType.USER, columns)
    users = EndUser.objects.filter(workspace=workspace)
    for ids in _id_chunks(users):
        rows = EndUser.objects.filter(workspace=workspace, pk__in=ids).order_by("pk").values(
            "id", "external_id", "account_id", "account__external_id", "email", "name",
            "attributes", "created_at", "updated_at",
        )  # fmt: skip
        for values in rows:
            values["account_external_id"] = values.pop("account__external_id")
            yield _row(values, columns, readers)


def register() -> None:
    datasets.register(
        Dataset(
            "accounts",
            "Accounts",
            "Every account with its status, stage, parent, tags and each custom attribute.",
            account_columns,
            account_rows,
            position=10,
        )
    )
    datasets.register(
        Dataset(
            "end_users",
            "End users",
            "Every end user with their account and each custom attribute.",
            end_user_columns,
            end_user_rows,
            position=20,
        )
    )
