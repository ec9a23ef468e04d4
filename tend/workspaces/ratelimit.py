"""Rate limiting for the API: a fixed window per minute, per token or per member.

Counts live in Django's cache (per process by default; shared through Redis when
``REDIS_URL`` is set, so several web processes enforce one limit). Every API response says
where the caller stands (``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``,
as in the IETF RateLimit header draft); over the limit the answer is 429 with
``Retry-After``. A cache that fails lets requests through: an outage of the limiter must
not become an outage of the API.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

log = logging.getLogger("tend.ratelimit")
WINDOW_SECONDS = 60


def caller(request) -> str:
    """Who the limit applies to: the token, else the member, else the client address."""
    actor = getattr(request, "actor", None)
    if actor is not None and actor.token is not None:
        return f"token:{actor.token.pk}"
    if actor is not None and actor.member is not None:
        return f"member:{actor.member.pk}"
    return f"addr:{request.META.get('REMOTE_ADDR', '')}"


def count_hit(identity: str, window: int) -> int | None:
    """Add one request to ``identity``'s count in ``window``; None when the cache fails."""
    key = f"tend:ratelimit:{identity}:{window}"
    try:
        # add() only writes when the key is absent; incr() is atomic on Redis and LocMem.
        if cache.add(key, 1, timeout=WINDOW_SECONDS + 5):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            return 1
    except Exception:
        log.warning("rate limit cache unavailable; letting the request through", exc_info=True)
        return None


class RateLimitMiddleware:
    """Apply ``TEND_RATE_LIMIT_PER_MINUTE`` to ``/api/`` requests. Runs after
    ``WorkspaceMiddleware``, which tells it who is calling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        limit = settings.TEND_RATE_LIMIT_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        reset = max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
        used = count_hit(caller(request), window)
        if used is not None and used > limit:
            response = JsonResponse(
                {
                    "detail": f"Rate limit exceeded: {limit} requests per minute. Retry in {reset} s.",
                    "errors": [],
                },
                status=429,
            )
            response["Retry-After"] = str(reset)
        else:
            response = self.get_response(request)
        response["RateLimit-Limit"] = str(limit)
        response["RateLimit-Remaining"] = str(max(0, limit - used) if used is not None else limit)
        response["RateLimit-Reset"] = str(reset)
        return response
