"""Resolve the actor for each request and run the request inside its workspace scope."""

import time
from datetime import timedelta

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tend.workspaces.access import Actor
from tend.workspaces.models import ApiToken, Member, hash_token

SESSION_WORKSPACE_KEY = "tend_workspace_id"
# Writing last_used_at on every call would turn each read into a write; a minute is precise
# enough to tell whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


def bearer_token(request) -> str | None:
    """The API token of ``Authorization: Bearer <token>``, or of ``app-token: <token>``: the
    header Totango's REST clients send, so they can be pointed at Tend unchanged."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _, value = header.partition(" ")
    if kind.lower() == "bearer" and value.strip():
        return value.strip()
    app_token = request.META.get("HTTP_APP_TOKEN", "").strip()
    return app_token or None


# Ingestion clients authenticate every request, thousands a second; the token's row is
# remembered for a few seconds per process. A revocation takes effect at once in the process
# that made it (``forget_token``) and within this many seconds in the others.
TOKEN_CACHE_SECONDS = 5.0
_tokens: dict[str, tuple[float, ApiToken]] = {}


def forget_token(token_hash: str) -> None:
    _tokens.pop(token_hash, None)


def _active_token(token_hash: str) -> ApiToken | None:
    cached = _tokens.get(token_hash)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    with scopes_disabled():
        token = (
            ApiToken.objects.select_related("workspace")
            .filter(token_hash=token_hash, revoked_at__isnull=True)
            .first()
        )
    if token is None:
        _tokens.pop(token_hash, None)
        return None
    if len(_tokens) > 10_000:  # many short-lived tokens (tests, scripts): start afresh
        _tokens.clear()
    _tokens[token_hash] = (now, token)
    return token


def actor_for_token(raw: str) -> Actor | None:
    token = _active_token(hash_token(raw))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        with scopes_disabled():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return Actor(workspace=token.workspace, token=token)


def actor_for_session(request) -> Actor | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    with scopes_disabled():
        memberships = Member.objects.select_related("workspace", "user").filter(user=user, is_active=True)
        wanted = request.session.get(SESSION_WORKSPACE_KEY)
        member = None
        if wanted is not None:
            member = memberships.filter(workspace_id=wanted).first()
        if member is None:
            member = memberships.order_by("created_at", "id").first()
            if member is not None:
                request.session[SESSION_WORKSPACE_KEY] = member.workspace_id
    if member is None:
        return None
    return Actor(workspace=member.workspace, member=member)


class WorkspaceMiddleware:
    """Set ``request.actor`` and activate the workspace scope for the rest of the request.

    A bearer token wins over the session; a request that presents a bearer token that is
    unknown or revoked gets no actor at all (the API answers 401), never the session's.
    Without an actor no scope is active, so any query of tenant data raises instead of
    leaking across workspaces.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = bearer_token(request)
        if raw is not None:
            request.actor = actor_for_token(raw)
            request.bearer_presented = True
        else:
            request.actor = actor_for_session(request)
            request.bearer_presented = False
        if request.actor is None:
            return self.get_response(request)
        with scope(workspace=request.actor.workspace.id):
            return self.get_response(request)
