"""Helpers for the wire-format ingestion tests."""

from django.db.models import Sum

from tend.usage.models import IngestCount


def counts(workspace, source: str) -> tuple[int, int, int, int]:
    """(received, stored, duplicates, rejected) of a source, summed over the hours."""
    totals = IngestCount.objects.filter(workspace=workspace, source=source).aggregate(
        *(Sum(name) for name in ("received", "stored", "duplicates", "rejected"))
    )
    return tuple(value or 0 for value in totals.values())
