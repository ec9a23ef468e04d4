"""Events the data hub emits (tend/events/registry.py)."""

from tend.events.registry import register

IMPORT = {
    "id": 12,
    "object": "account",
    "source": "CRM",
    "file_name": "accounts.csv",
    "status": "partial",
    "rows_total": 1200,
    "created": 40,
    "updated": 1150,
    "unchanged": 7,
    "rejected": 3,
    "error": "",
}

register(
    "import.finished",
    "Import finished",
    group="Imports",
    description="An import (not a dry run) ran to the end; `status` is partial when rows were rejected.",
    example={"import": IMPORT},
)
register(
    "import.failed",
    "Import failed",
    group="Imports",
    description=(
        "An import failed, or finished with rejected rows (`status` failed or partial); or an "
        "SFTP source failed to poll after its retries (`import` null, `source` says which and why)."
    ),
    example={
        "import": {
            **IMPORT,
            "status": "failed",
            "error": "the file is not UTF-8, UTF-16 or Latin-1",
        }
    },
)
register(
    "export.failed",
    "Scheduled export failed",
    group="Exports",
    description=(
        "A scheduled export to SFTP failed after its retries (the first failed run since the "
        "last good one); no file was written. `export` says which, the run and why."
    ),
    example={
        "export": {
            "id": 3,
            "name": "Nightly usage",
            "dataset": "usage_account_days",
            "format": "parquet",
            "host": "sftp.example.com",
            "folder": "/warehouse/tend",
            "run_id": 41,
            "error": "authentication failed: sftp.example.com:22 refused the user name 'tend' with this password",
        }
    },
)
