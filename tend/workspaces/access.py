"""Who is asking, and what may they do: the one access chokepoint for every object.

Every HTML view and API handler receives an :class:`Actor` (a member using the browser, or
an API token) and fetches objects through :func:`get_for`, which scopes the query to the
actor's workspace and raises 404 for anything outside it — an outsider cannot even learn
that an id exists. Rights are checked after the object is found: 403 for a known object the
actor may not change.
"""

from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from tend.workspaces.models import ApiToken, Member, Scope, Workspace

M = TypeVar("M", bound=models.Model)

READ = "read"
WRITE = "write"
ADMIN = "admin"
INGEST = "ingest"
CONTRIBUTE = "contribute"
RIGHTS = (READ, WRITE, ADMIN, INGEST, CONTRIBUTE)


@dataclass(frozen=True)
class Actor:
    """A member (browser session) or an API token, always inside one workspace."""

    workspace: Workspace
    member: Member | None = None
    token: ApiToken | None = None

    @property
    def is_token(self) -> bool:
        return self.token is not None

    @property
    def label(self) -> str:
        if self.member is not None:
            return self.member.user.email
        return f"token {self.token.name}" if self.token else "system"

    def can(self, right: str) -> bool:
        if right not in RIGHTS:
            raise ValueError(f"unknown right {right!r}")
        if self.token is not None:
            if right == CONTRIBUTE:
                return self.token.has_scope(Scope.WRITE)
            return self.token.has_scope(right)
        if self.member is None:
            return False
        if right == READ:
            return True
        if right == WRITE:
            return self.member.can_write
        if right == ADMIN:
            return self.member.is_admin
        if right == CONTRIBUTE:
            return self.member.can_contribute
        return False  # ingest is for tokens only

    def require(self, right: str) -> None:
        if not self.can(right):
            raise PermissionDenied(self.denial(right))

    def denial(self, right: str) -> str:
        if self.token is not None:
            return f"This API token lacks the '{right}' scope."
        seat = self.member.get_seat_display() if self.member else "no"
        return f"A {seat} seat cannot do this (needs {right} access)."


def get_for(actor: Actor, queryset: models.QuerySet[M] | type[M], right: str = READ, **lookup) -> M:
    """Fetch one object of the actor's workspace, or raise 404; then check ``right`` (403).

    ``queryset`` may be a model or a queryset (to add ``select_related`` and the like).
    """
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    try:
        obj = queryset.filter(workspace=actor.workspace).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from exc
    actor.require(right)
    return obj


def system_actor(workspace: Workspace) -> Actor:
    """The actor for jobs, the CLI and demo data: a workspace with no person behind it."""
    return _SystemActor(workspace=workspace)


@dataclass(frozen=True)
class _SystemActor(Actor):
    def can(self, right: str) -> bool:
        return True

    @property
    def label(self) -> str:
        return "system"
