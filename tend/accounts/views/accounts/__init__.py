"""Pages of the accounts app: the list, the profile and the forms that change an account."""

from tend.accounts.views.accounts.attributes import attribute_edit, attribute_value
from tend.accounts.views.accounts.edit import account_create, account_delete, account_edit
from tend.accounts.views.accounts.listing import account_list
from tend.accounts.views.accounts.profile import account_profile

__all__ = [
    "account_create",
    "account_delete",
    "account_edit",
    "account_list",
    "account_profile",
    "attribute_edit",
    "attribute_value",
]
