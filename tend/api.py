"""The one REST API, mounted at /api/v1/. Each app contributes one router."""

import orjson
from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer

from tend.accounts.api import accounts as accounts_api
from tend.accounts.api import definitions as definitions_api
from tend.accounts.api import exports as exports_api
from tend.accounts.api import people as people_api
from tend.accounts.api import search as search_api
from tend.accounts.api import timeline as timeline_api
from tend.accounts.api import totango as totango_api
from tend.alerts import api as alerts_api
from tend.digest import api as digest_api
from tend.health import api as health_api
from tend.hub import api as hub_api
from tend.hub import export_api
from tend.hub.export_schedules import api as export_schedules_api
from tend.hub.sftp import api as sftp_api
from tend.lib.errors import InvalidInput
from tend.notifications import api as notifications_api
from tend.outbox import api as outbox_api
from tend.plays import api as plays_api
from tend.segments import api as segments_api
from tend.usage import api as usage_api
from tend.webhooks import api as webhooks_api
from tend.work import api as work_api
from tend.work import project_api, touchpoint_api
from tend.workspaces.auth import ActorAuth


class OrjsonParser(Parser):
    def parse_body(self, request):
        # No body, or an empty form, is "no payload" (a POST whose payload is optional, sent
        # by curl without -d or by a form-posting client); a required one is then refused
        # by validation, naming the field.
        if not request.body.strip() or _is_empty_form(request):
            return None
        return orjson.loads(request.body)


def _is_empty_form(request) -> bool:
    return (
        request.content_type == "multipart/form-data"
        and len(request.body) < 1024
        and not request.POST
        and not request.FILES
    )


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


# Every 4xx answer has one shape: {"detail": summary, "errors": [{"field", "message"}]}.


def error_response(request, status: int, detail: str, errors: list | None = None):
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def field_of(loc) -> str:
    """A pydantic error location as a dotted field path.

    Ninja prefixes where the value came from (``body``, ``query``, …) and, for a body, the
    handler's parameter name: ``("body", "payload", "attributes", "plan")`` → ``"attributes.plan"``.
    """
    parts = list(loc)
    source = parts.pop(0) if parts else "body"
    if source == "body" and parts:
        parts.pop(0)
    return ".".join(str(p) for p in parts) or source


@api.exception_handler(ValidationError)
def invalid_request(request, exc):
    errors = [
        {"field": field_of(e.get("loc", ())), "message": e.get("msg", "is invalid")}
        for e in exc.errors
    ]
    detail = f"{errors[0]['field']}: {errors[0]['message']}" if errors else "Invalid request."
    return error_response(request, 422, detail, errors)


@api.exception_handler(InvalidInput)
def invalid_input(request, exc):
    return error_response(request, 422, str(exc), [exc.as_dict()])


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return error_response(request, 403, str(exc) or "Forbidden.")


@api.exception_handler(Http404)
def not_found(request, exc):
    return error_response(request, 404, str(exc) or "Not found.")


@api.exception_handler(HttpError)
def http_error(request, exc):
    if exc.status_code == 400:
        # The only 400s are bodies that are not JSON (Ninja's parser, or the bulk PUT's).
        cause = exc.__cause__
        message = (
            f"is not valid JSON: {cause}"
            if isinstance(cause, orjson.JSONDecodeError)
            else "is not valid JSON"
        )
        return error_response(
            request,
            400,
            "Malformed JSON in the request body.",
            [{"field": "body", "message": message}],
        )
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    if getattr(request, "bearer_presented", False):
        detail = "The API token is unknown or revoked."
    else:
        detail = "Authentication required: send 'Authorization: Bearer <token>'."
    response = error_response(request, 401, detail, [{"field": "Authorization", "message": detail}])
    response["WWW-Authenticate"] = 'Bearer realm="tend"'
    return response


api.add_router("/", accounts_api.router)
api.add_router("/", people_api.router)
api.add_router("/", definitions_api.router)
api.add_router("/", exports_api.router)
api.add_router("/", search_api.router)
api.add_router("/", totango_api.router)
api.add_router("/", timeline_api.router)
api.add_router("/", outbox_api.router)
api.add_router("/", webhooks_api.router)
for router in [
    *usage_api.routers,
    *health_api.routers,
    *segments_api.routers,
    hub_api.router,
    export_api.router,
    export_schedules_api.router,
    sftp_api.router,
    work_api.router,
    touchpoint_api.router,
    project_api.router,
    plays_api.router,
    notifications_api.router,
    alerts_api.router,
    digest_api.router,
]:
    api.add_router("/", router)
