"""A database that is busy or gone answers 503 with ``Retry-After``, not 500.

SQLite gives up on a write lock after its busy timeout ("database is locked") and refuses
writes when the disk is full; PostgreSQL drops connections on restart. Nothing was committed
in either case, and a client that is told to retry later will (ingestion clients retry 5xx and
honour ``Retry-After``), where a 500 reads as a bug in the request.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

log = logging.getLogger("tend.unavailable")
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        message = "The database is busy or unavailable; nothing was stored. Retry shortly."
        response = JsonResponse(
            # Both error shapes: Tend's (detail, errors) and Segment's (code, message).
            {"detail": message, "errors": [], "code": "unavailable", "message": message},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
