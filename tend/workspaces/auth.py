"""Authentication for the REST API: bearer tokens for programs, the session for the UI."""

from ninja.errors import HttpError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from tend.workspaces.access import Actor

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ActorAuth(AuthBase):
    """Accept the actor that :class:`WorkspaceMiddleware` resolved.

    Session (cookie) callers must pass Django's CSRF check on unsafe methods; token callers
    need not, since a browser never attaches a bearer token on its own.
    """

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request) -> Actor | None:
        actor = getattr(request, "actor", None)
        if actor is None:
            return None
        needs_csrf = not actor.is_token and request.method in UNSAFE_METHODS
        if needs_csrf and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with a session call.")
        return actor
