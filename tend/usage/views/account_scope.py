"""Which accounts the usage panels of a profile read: the account, or it and its children.

The three panels (usage, end users, activity) and their htmx fragments all ask the same
question of one request; :func:`scope_for` answers it once per request and account (one
query: the account tree with each member's metrics row), so a profile without usage costs
a single query for all three panels.
"""

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse

from tend.accounts.models import Account
from tend.usage.queries import AccountTree, account_tree, local_today
from tend.workspaces.models import Workspace

CHILDREN = "children"


@dataclass
class UsageScope:
    workspace: Workspace
    account: Account
    tree: AccountTree
    include_children: bool

    @property
    def ids(self) -> list[int]:
        return self.tree.ids(self.include_children)

    @property
    def has_usage(self) -> bool:
        return self.tree.has_usage(self.include_children)

    @property
    def tree_has_usage(self) -> bool:
        """Usage anywhere in the tree: the panel may show charts in one scope or the other."""
        return self.tree.has_usage(include_children=True)

    @property
    def children_have_usage(self) -> bool:
        return any(m.has_usage for m in self.tree.members[1:])

    @property
    def param(self) -> str:
        return CHILDREN if self.include_children else ""

    @cached_property
    def today(self) -> int:
        return local_today(self.workspace)

    def query(self, **params) -> str:
        """A query string carrying the scope and ``params`` (empty values left out)."""
        values = {"scope": self.param, **params}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def url(self, name: str, **params) -> str:
        query = self.query(**params)
        return reverse(name, args=[self.account.pk]) + (f"?{query}" if query else "")

    def profile_url(self, anchor: str = "usage", **params) -> str:
        query = self.query(**params)
        return (
            reverse("accounts:profile", args=[self.account.pk])
            + (f"?{query}" if query else "")
            + f"#{anchor}"
        )


def scope_for(request, account: Account) -> UsageScope:
    """The scope the request asks for (``?scope=children``), read once per request."""
    cache = request.__dict__.setdefault("_usage_scopes", {})
    wanted = request.GET.get("scope") == CHILDREN
    key = (account.pk, wanted)
    if key not in cache:
        tree = account_tree(account)
        cache[key] = UsageScope(
            request.actor.workspace, account, tree, include_children=wanted and tree.has_children
        )
    return cache[key]
