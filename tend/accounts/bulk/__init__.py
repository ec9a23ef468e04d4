"""Bulk upsert keyed by external id, for the API's ``PUT`` on a collection and for demo data.

Each function takes plain dicts shaped like the API's JSON and returns a :class:`BulkResult`
with one result per item (created, updated, unchanged or error). Items with errors are not
written; the valid ones are, in one transaction.
"""

from tend.accounts.bulk.accounts import upsert_accounts
from tend.accounts.bulk.common import BulkResult
from tend.accounts.bulk.people import upsert_contacts, upsert_end_users

__all__ = ["BulkResult", "upsert_accounts", "upsert_contacts", "upsert_end_users"]
