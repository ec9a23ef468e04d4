"""The one REST API, mounted at /api/v1/. Each app contributes one router."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
import orjson

from tend.accounts.api import accounts as accounts_api
from tend.accounts.api import definitions as definitions_api
from tend.accounts.api import people as people_api
from tend.workspaces.auth import ActorAuth


class OrjsonParser(Parser):
    def parse_body(self, request):
        return orjson.loads(request.body)


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


api = NinjaAPI(
    title="Tend API",
    version="1",
    description=(
        "REST API for Tend. Authenticate with `Authorization: Bearer <token>` "
        "(create tokens under Settings → API tokens). Lists use cursor pagination: pass "
        "`cursor` from `next_cursor` until it is null. Bulk `PUT` upserts by external id."
    ),
    auth=ActorAuth(),
    parser=OrjsonParser(),
    renderer=OrjsonRenderer(),
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    if getattr(request, "bearer_presented", False):
        detail = "The API token is unknown or revoked."
    else:
        detail = "Authentication required: send 'Authorization: Bearer <token>'."
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="tend"'
    return response


api.add_router("/", accounts_api.router)
api.add_router("/", people_api.router)
api.add_router("/", definitions_api.router)
