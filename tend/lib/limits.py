"""Request body limits that answer 413 before the body is read."""

from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than ``TEND_MAX_BODY_BYTES`` (``TEND_IMPORT_MAX_BYTES`` on the
    import upload routes) with 413 and a JSON reason.

    Django would otherwise raise ``RequestDataTooBig`` (a 400) only once something reads the
    body; a client deserves to know the real problem, and the server should not buffer it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.TEND_MAX_BODY_BYTES
        if request.path.rstrip("/") in settings.TEND_LARGE_BODY_PATHS:
            # File uploads for imports: the file plus a little room for the multipart fields.
            limit = max(limit, settings.TEND_IMPORT_MAX_BYTES + 1024 * 1024)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                {
                    "detail": f"Request body is {length} bytes; the limit is {limit} bytes.",
                    "field": "body",
                    "errors": [{"field": "body", "message": f"is larger than {limit} bytes"}],
                },
                status=413,
            )
        return self.get_response(request)
