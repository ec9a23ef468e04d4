"""Accounts read together: an account, or a parent with its descendants."""

from dataclasses import dataclass

from django.db import connection

from tend.accounts.models import Account
from tend.usage.models import (
    AccountUsage,
)

MAX_DEPTH = 10
MAX_TREE = 10_000


@dataclass(frozen=True)
class TreeMember:
    """One account of a tree and what its metrics row says (None: no usage yet)."""

    id: int
    depth: int
    first_seen_ms: int | None
    last_seen_ms: int | None
    engagement: int | None
    events_14d: int | None

    @property
    def has_usage(self) -> bool:
        return self.last_seen_ms is not None


@dataclass
class AccountTree:
    """An account and, when walked, its descendants: the accounts a reading covers."""

    account_id: int
    members: list[TreeMember]
    truncated: bool = False

    @property
    def root(self) -> TreeMember:
        return self.members[0]

    @property
    def has_children(self) -> bool:
        return len(self.members) > 1

    def ids(self, include_children: bool) -> list[int]:
        return [m.id for m in self.members] if include_children else [self.account_id]

    def scope(self, include_children: bool) -> list[TreeMember]:
        return self.members if include_children else [self.root]

    def has_usage(self, include_children: bool) -> bool:
        return any(m.has_usage for m in self.scope(include_children))


def account_tree(account: Account, *, depth: int = MAX_DEPTH) -> AccountTree:
    """The account and its descendants down to ``depth`` levels, with their metrics rows.

    One query: a recursive CTE over ``parent_id`` joined to ``AccountUsage``. The depth
    bound also ends the walk on a cycle (A parent of B parent of A), which only appears
    more than once and is kept at its shallowest depth.
    """
    q = connection.ops.quote_name
    accounts = q(Account._meta.db_table)
    usage = q(AccountUsage._meta.db_table)
    # Only table names from _meta go into the text; values are parameters.
    sql = (
        f"WITH RECURSIVE tree(id, depth) AS ("  # noqa: S608
        f"SELECT id, 0 FROM {accounts} WHERE id = %s AND workspace_id = %s "
        f"UNION SELECT a.id, tree.depth + 1 FROM {accounts} a JOIN tree ON a.parent_id = tree.id "
        f"WHERE tree.depth < %s AND a.workspace_id = %s) "
        f"SELECT tree.id, MIN(tree.depth), u.first_seen_ms, u.last_seen_ms, u.engagement, "
        f"u.events_14d FROM tree LEFT JOIN {usage} u ON u.account_id = tree.id "
        f"GROUP BY tree.id, u.first_seen_ms, u.last_seen_ms, u.engagement, u.events_14d "
        f"ORDER BY MIN(tree.depth), tree.id LIMIT %s"
    )
    ws = account.workspace_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, ws, depth, ws, MAX_TREE + 1])
        rows = cursor.fetchall()
    members = [TreeMember(*row) for row in rows[:MAX_TREE]]
    if not members or members[0].id != account.pk:
        # Not reachable for an account fetched through the chokepoint; kept honest anyway.
        members = [TreeMember(account.pk, 0, None, None, None, None)]
    return AccountTree(account.pk, members, truncated=len(rows) > MAX_TREE)
