from django.db import connection
from django.http import JsonResponse

from tend.web.home import home  # noqa: F401  (the landing page after login)


def healthz(request):
    """Liveness for load balancers: the process answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
