"""What every accounts page needs: the actor, and the account fetched through the chokepoint."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from tend.accounts.actions.accounts import can_edit_account
from tend.accounts.models import Account
from tend.workspaces.access import READ, get_for


def member_required(view):
    """Logged in and a member of a workspace (a user with no active seat sees nothing)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if getattr(request, "actor", None) is None:
            raise PermissionDenied("You are not a member of any workspace.")
        return view(request, *args, **kwargs)

    return wrapped


def account_for(request, account_id: int, queryset=None) -> Account:
    """The account of the actor's workspace (404 otherwise), readable by every member."""
    return get_for(
        request.actor,
        queryset if queryset is not None else Account.objects.all(),
        READ,
        pk=account_id,
    )


def editable_account_for(request, account_id: int, queryset=None) -> Account:
    """As :func:`account_for`, then 403 unless the actor may edit this account."""
    account = account_for(request, account_id, queryset)
    if not can_edit_account(request.actor, account):
        raise PermissionDenied(request.actor.denial("write"))
    return account
