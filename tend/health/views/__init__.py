"""The health pages, one module per page: the dashboard, the account profile's panel."""
