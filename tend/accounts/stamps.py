"""Database triggers that stamp every write to a table conditions read, so that the column
cache (``tend.accounts.columns``) knows which accounts changed since it read them.

A table's triggers write, for each row inserted, updated or deleted, a ``ConditionStamp``
``(account id, source, workspace, version)`` in the writing transaction itself — so every
write path is covered, the ORM's and the raw bulk SQL alike (``tend.accounts.bulk``, the
usage rollups, health scoring), with no call to forget:

* **SQLite** (one writer at a time, so commits happen in the order versions are taken): a
  row trigger bumps the workspace's ``ConditionVersion`` and stamps the row with it. A
  reader that saw version *v* committed has seen every write stamped up to *v*.
* **PostgreSQL** (concurrent writers commit in any order): a statement trigger stamps the
  statement's rows (its transition table) with the writing transaction's id. A reader takes
  ``pg_snapshot_xmin`` of its snapshot: every transaction with a smaller id had finished
  when it read; any later commit carries an id at least that large. No lock is shared
  between writers — a stamp row is keyed by (account, source), so only a transaction
  holding that row of the base table writes it.

A migration of each app that owns such a table installs its triggers with
:func:`install` (accounts: ``Account``; usage: ``AccountUsage``; health: ``AccountHealth``).
"""

STAMPS = "accounts_conditionstamp"
VERSIONS = "accounts_conditionversion"

# source numbers (ConditionStamp.source)
ACCOUNT, USAGE, HEALTH = 1, 2, 3


def _sqlite(table: str, id_column: str, source: int) -> list[str]:
    statements = []
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        statements.append(
            # Only names of this module and the migrations are formatted in.
            f"CREATE TRIGGER tend_stamp_{table}_{event.lower()} AFTER {event} ON {table} BEGIN "  # noqa: S608
            f"INSERT INTO {VERSIONS} (workspace_id, version) VALUES ({row}.workspace_id, 1) "
            "ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1; "
            f"INSERT INTO {STAMPS} (account_id, source, workspace_id, version) "
            f"VALUES ({row}.{id_column}, {source}, {row}.workspace_id, "
            f"(SELECT version FROM {VERSIONS} WHERE workspace_id = {row}.workspace_id)) "
            "ON CONFLICT (account_id, source) DO UPDATE SET version = excluded.version, "
            "workspace_id = excluded.workspace_id; "
            "END"
        )
    return statements


def _postgresql(table: str, id_column: str, source: int) -> list[str]:
    function = f"tend_stamp_{table}"
    statements = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "  # noqa: S608
        "BEGIN "
        f"INSERT INTO {STAMPS} (account_id, source, workspace_id, version) "
        f"SELECT DISTINCT ON ({id_column}) {id_column}, {source}, workspace_id, "
        "pg_current_xact_id()::text::bigint "
        f"FROM changed ORDER BY {id_column} "
        "ON CONFLICT (account_id, source) DO UPDATE SET version = EXCLUDED.version, "
        "workspace_id = EXCLUDED.workspace_id; "
        "RETURN NULL; "
        "END $$"
    ]
    for event, kind in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        statements.append(
            f"CREATE TRIGGER tend_stamp_{table}_{event.lower()} AFTER {event} ON {table} "
            f"REFERENCING {kind} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


def install_sql(vendor: str, table: str, id_column: str, source: int) -> list[str]:
    if vendor == "postgresql":
        return _postgresql(table, id_column, source)
    if vendor == "sqlite":
        return _sqlite(table, id_column, source)
    raise NotImplementedError(f"no condition stamps for {vendor}")


def uninstall_sql(vendor: str, table: str) -> list[str]:
    drops = [
        f"DROP TRIGGER IF EXISTS tend_stamp_{table}_{event}"
        + (f" ON {table}" if vendor == "postgresql" else "")
        for event in ("insert", "update", "delete")
    ]
    if vendor == "postgresql":
        drops.append(f"DROP FUNCTION IF EXISTS tend_stamp_{table}()")
    return drops


def install(table: str, id_column: str, source: int):
    """A pair of ``RunPython`` functions (forward, backward) for a migration."""

    def forward(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in install_sql(vendor, table, id_column, source):
            schema_editor.execute(statement, params=None)

    def backward(apps, schema_editor):
        for statement in uninstall_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(statement, params=None)

    return forward, backward


def forget_workspace(sender, instance, **kwargs) -> None:
    """A deleted workspace's stamps and version (``post_delete`` of ``Workspace``): they have
    no foreign key, and deleting its accounts has just stamped every one of them."""
    from tend.accounts.models import ConditionStamp, ConditionVersion

    ConditionStamp.objects.filter(workspace_id=instance.pk).delete()
    ConditionVersion.objects.filter(workspace_id=instance.pk).delete()
