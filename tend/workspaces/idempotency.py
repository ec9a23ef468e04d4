"""``Idempotency-Key`` on API POSTs: a retried request gets the first response, not a second object.

Steps for a POST to ``/api/`` that carries the header:

1. fingerprint the request (SHA-256 of method, path with query, and body);
2. claim the key by inserting an :class:`IdempotencyKey` row for (workspace, key). If the
   row exists: a different fingerprint is a 422 naming the header; a row still without a
   response means the first request is in flight (409); otherwise the stored status and body
   are replayed with ``Idempotent-Replayed: true``;
3. run the request and store its response. Server errors and answers about credentials or
   load (401, 403, 409, 429) are not stored — the row is deleted so a retry runs for real.

Keys expire after 24 hours: an expired row is replaced on reuse and purged by the
``workspaces.purge_idempotency_keys`` job (see ``tend/schedule.py``).
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django_scopes import scopes_disabled
from ninja.utils import check_csrf

from tend.workspaces.models import IdempotencyKey

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
NOT_STORED = {401, 403, 409, 429}
PURGE_BATCH = 1000


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def _error(status: int, detail: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": [{"field": HEADER, "message": message}]}, status=status
    )


def _claim(workspace, key: str, digest: str) -> tuple[IdempotencyKey | None, IdempotencyKey | None]:
    """Return (our new row, None) or (None, the row someone else holds)."""
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    workspace=workspace, key=key, fingerprint=digest
                ), None
        except IntegrityError:
            held = IdempotencyKey.objects.filter(workspace=workspace, key=key).first()
            if held is None:
                continue  # purged between our insert and this read
            if held.created_at < timezone.now() - TTL:
                IdempotencyKey.objects.filter(pk=held.pk).delete()
                continue
            return None, held
    return None, None


def replay(held: IdempotencyKey, digest: str) -> HttpResponse:
    if held.fingerprint != digest:
        return _error(
            422,
            f"{HEADER} was already used for a different request.",
            "was already used with a different method, path or body; use a new key",
        )
    if held.status_code is None:
        return _error(
            409,
            f"A request with this {HEADER} is still being processed.",
            "the first request with this key has not finished; retry shortly",
        )
    response = HttpResponse(
        bytes(held.body), status=held.status_code, content_type=held.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    """Runs after ``WorkspaceMiddleware`` (inside the workspace scope) for POSTs to the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        actor = getattr(request, "actor", None)
        if (
            request.method != "POST"
            or key is None
            or actor is None
            or not request.path.startswith("/api/")
        ):
            return self.get_response(request)
        # A cookie-authenticated call must pass CSRF before anything is replayed to it; the
        # API itself answers 403 when it does not.
        if not actor.is_token and check_csrf(request) is not None:
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > 255:
            return _error(422, f"Invalid {HEADER} header.", "must be 1 to 255 characters")
        digest = fingerprint(request)
        row, held = _claim(actor.workspace, key, digest)
        if held is not None:
            return replay(held, digest)
        response = self.get_response(request)
        if row is None:
            return response
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
        else:
            IdempotencyKey.objects.filter(pk=row.pk).update(
                status_code=response.status_code,
                content_type=response.get("Content-Type", "application/json"),
                body=response.content,
            )
        return response


def purge_expired_idempotency_keys(now=None) -> int:
    """Delete keys older than 24 hours, in batches; return how many went."""
    cutoff = (now or timezone.now()) - TTL
    deleted = 0
    with scopes_disabled():
        old = IdempotencyKey.objects.filter(created_at__lt=cutoff)
        while True:
            ids = list(old.values_list("pk", flat=True)[:PURGE_BATCH])
            if not ids:
                return deleted
            deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
