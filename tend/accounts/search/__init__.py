"""Searching accounts and end users: conditions, chosen fields, any sort, signed keyset
cursors with no cap (``pages``); the Totango-compatible search (``totango``)."""

from tend.accounts.search.pages import (
    ACCOUNTS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    USERS,
    InvalidSearch,
    Page,
    Population,
    Search,
    search,
    search_by_offset,
)

__all__ = [
    "ACCOUNTS",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "USERS",
    "InvalidSearch",
    "Page",
    "Population",
    "Search",
    "search",
    "search_by_offset",
]
