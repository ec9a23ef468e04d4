"""The end users of an account or tree, and the choices of the activity stream's filters."""

from django.db.models import F, Value
from django.db.models.functions import Coalesce, Lower, NullIf

from tend.accounts.models import EndUser
from tend.usage.models import (
    AccountActivityDay,
)
from tend.usage.queries.windows import HISTORY_DAYS
from tend.workspaces.models import Workspace

USER_SORTS = {
    "last_seen": [F("usage__last_seen_ms").asc(nulls_last=True)],
    "events_30d": [F("usage__events_30d").asc(nulls_last=True)],
    # The name shown: the person's name, else their external id.
    "name": [Lower(Coalesce(NullIf(F("name"), Value("")), F("external_id"))).asc()],
}
DEFAULT_USER_SORT = "-last_seen"


def user_sort(value: str | None) -> str:
    value = value or DEFAULT_USER_SORT
    return value if value.lstrip("-") in USER_SORTS else DEFAULT_USER_SORT


def end_users_by_activity(workspace: Workspace, ids: list[int], sort: str = DEFAULT_USER_SORT):
    """The end users of ``ids`` with their metrics row; never-seen users last either way."""
    sort = user_sort(sort)
    ordering = []
    for expr in USER_SORTS[sort.lstrip("-")]:
        expr = expr.copy()
        if sort.startswith("-"):
            expr.reverse_ordering()
            if expr.nulls_first:
                expr.nulls_first, expr.nulls_last = None, True
        ordering.append(expr)
    direction = "-id" if sort.startswith("-") else "id"
    return (
        EndUser.objects.filter(workspace=workspace, account_id__in=ids)
        .select_related("usage", "account")
        .order_by(*ordering, direction)
    )


def users_for_filter(
    workspace: Workspace, ids: list[int], limit: int = 200, include: int | None = None
) -> list[EndUser]:
    """End users who did something in ``ids``, most recently seen first (the stream's
    filter), and the one with id ``include`` if it is of ``ids`` but not among them."""
    users = list(
        EndUser.objects.filter(
            workspace=workspace, account_id__in=ids, usage__last_seen_ms__isnull=False
        ).order_by("-usage__last_seen_ms", "id")[:limit]
    )
    if include and all(u.pk != include for u in users):
        users.extend(EndUser.objects.filter(workspace=workspace, account_id__in=ids, pk=include))
    return users


def modules_for_filter(workspace: Workspace, ids: list[int], t: int) -> list[str]:
    """Modules used in the last 90 days, by name (the stream's filter)."""
    return list(
        AccountActivityDay.objects.filter(
            workspace=workspace,
            account_id__in=ids,
            day__gte=t - HISTORY_DAYS + 1,
            day__lte=t,
        )
        .exclude(module="")
        .values_list("module", flat=True)
        .distinct()
        .order_by("module")[:100]
    )
