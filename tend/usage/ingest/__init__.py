"""Ingestion: wire formats (native API, Segment, Totango, Planhat) parsed into one
:class:`~tend.usage.ingest.facts.Intake`, stored by :func:`tend.usage.actions.ingest.ingest`."""
