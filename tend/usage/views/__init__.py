"""The usage pages: one module per page (the account profile's usage panel and activity
stream, Data → Ingestion)."""
