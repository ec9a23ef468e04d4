"""Ingest keys: the write key (Segment), service id (Totango) or key in the path (Planhat).

Every one of them is a workspace API token with the ``ingest`` scope, so one list of
credentials (Settings → API tokens, or the ingestion page) covers every source, and revoking
a token stops every client that uses it.
"""

from tend.workspaces.access import INGEST, Actor
from tend.workspaces.middleware import actor_for_token


def ingest_actor(raw_key: str | None) -> Actor | None:
    """The actor behind an ingest key, or None when the key is unknown, revoked or lacks the
    ``ingest`` scope (the caller answers 401, or for the Totango pixel logs and ignores)."""
    if not raw_key or not isinstance(raw_key, str):
        return None
    actor = actor_for_token(raw_key.strip())
    if actor is None or not actor.can(INGEST):
        return None
    return actor
