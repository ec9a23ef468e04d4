"""The baseline of ``bench/ingest.py``: the least an HTTP ingest endpoint can do.

A bare WSGI app (no Django) that parses a batch with orjson and appends its events with one
``executemany`` (SQLite) or ``COPY`` (PostgreSQL) into an unindexed table, in one
transaction with the same durability settings as Tend (WAL, ``synchronous=FULL``): no
authentication, no validation, no dedupe, no accounts, no rollups. Served by gunicorn with
the same number of workers as Tend, it tells what the machine allows, so that Tend's figure
can be read as a ratio measured in the same run.

    gunicorn bench.minimal_ingest:app   # with BENCH_MINIMAL_DB=sqlite:///path or postgres://…
"""

import os
import sqlite3
import threading

import orjson

TABLE = "bench_minimal_event"
COLUMNS = ("account", "end_user", "activity", "module", "ts", "message_id", "properties")
_local = threading.local()


def _connect():
    url = os.environ["BENCH_MINIMAL_DB"]
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(
            url.removeprefix("sqlite:///"), isolation_level=None, timeout=30
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        return "sqlite", connection
    import psycopg

    return "postgresql", psycopg.connect(url)


def create_table(url: str) -> None:
    os.environ["BENCH_MINIMAL_DB"] = url
    vendor, connection = _connect()
    columns = ", ".join(f"{c} TEXT" for c in COLUMNS)
    connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    connection.execute(f"CREATE TABLE {TABLE} ({columns})")
    if vendor == "postgresql":
        connection.commit()
    connection.close()


def _rows(body: bytes) -> list[tuple]:
    """Events of a Segment batch (``{"batch": [...]}``), one message, or a native array."""
    parsed = orjson.loads(body)
    if isinstance(parsed, dict):
        parsed = parsed.get("batch", [parsed])
    rows = []
    for event in parsed:
        context = event.get("context") or {}
        properties = event.get("properties") or {}
        rows.append(
            (
                context.get("groupId") or event.get("account_external_id"),
                event.get("userId") or event.get("user_external_id"),
                event.get("event") or event.get("activity"),
                properties.get("module") or event.get("module"),
                event.get("timestamp"),
                event.get("messageId") or event.get("message_id"),
                orjson.dumps(properties).decode(),
            )
        )
    return rows


def app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":  # the benchmark's "is it up?" probe
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    if not hasattr(_local, "db"):
        _local.db = _connect()
    vendor, connection = _local.db
    length = int(environ.get("CONTENT_LENGTH") or 0)
    rows = _rows(environ["wsgi.input"].read(length))
    marks = ", ".join(["?"] * len(COLUMNS))
    if vendor == "sqlite":
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(f"INSERT INTO {TABLE} VALUES ({marks})", rows)  # noqa: S608
        connection.execute("COMMIT")
    else:
        with connection.cursor() as cursor, cursor.copy(f"COPY {TABLE} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
    body = b'{"success":true}'
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
