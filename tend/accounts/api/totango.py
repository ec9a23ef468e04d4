"""``POST /search/accounts``: Totango's account search, for clients written against Totango.

Totango clients send the token in an ``app-token`` header (accepted by the workspace
middleware like a bearer token) and the query as a JSON **string**, either in a form field
``query`` (``curl --data 'query={…}'``) or in a JSON body ``{"query": "…"}`` (``tap-totango``).
Answers use Totango's envelope: ``{"status": "success", "response": {"accounts": …}}``, and
on failure ``{"status": "failed", "_error": "…"}`` — with Tend's ``errors`` beside it, each
naming its place in the query.
"""

import time

import orjson
from django.http import HttpResponse
from ninja import Router

from tend.accounts.conditions import account_catalog
from tend.accounts.search.totango import TotangoError, search_accounts
from tend.workspaces.access import READ
from tend.workspaces.auth import ActorAuth

router = Router(tags=["totango"])


def _answer(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _failed(status: int, field: str, message: str) -> HttpResponse:
    return _answer(
        {
            "status": "failed",
            "_error": f"{field}: {message}",
            "errors": [{"field": field, "message": message}],
        },
        status,
    )


def _query_of(request):
    """The ``query`` parameter, from a JSON body or a form; None when absent."""
    if request.content_type == "application/json":
        try:
            body = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError as exc:
            raise TotangoError("body", f"is not valid JSON: {exc}") from None
        return body.get("query") if isinstance(body, dict) else None
    return request.POST.get("query")


@router.post(
    "/search/accounts",
    auth=None,  # checked below, so that a refusal comes in Totango's envelope too
    summary="Search accounts (Totango-compatible)",
    description=(
        "Totango's Search API for accounts: `query` is a JSON string (form field or JSON body) "
        "with `terms`, `fields`, `count` (≤ 1000), `offset`, `sort_by`, `sort_order`. "
        "Authenticate with `app-token: <token>` or `Authorization: Bearer <token>`. See "
        "docs/api.md for the terms understood."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"query": {"type": "string"}},
                        "required": ["query"],
                    }
                },
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"query": {"type": "string"}},
                        "required": ["query"],
                    }
                },
            }
        }
    },
)
def totango_search_accounts(request):
    started = time.perf_counter()
    actor = ActorAuth()(request)
    if actor is None:
        detail = (
            "the API token is unknown or revoked"
            if getattr(request, "bearer_presented", False)
            else "send the API token in the app-token header"
        )
        response = _failed(401, "app-token", detail)
        response["WWW-Authenticate"] = 'Bearer realm="tend"'
        return response
    if not actor.can(READ):
        return _failed(403, "app-token", actor.denial(READ))
    try:
        raw = _query_of(request)
        if raw is None:
            raise TotangoError("query", "is required: a JSON string with terms and fields")
        found = search_accounts(actor.workspace, raw, account_catalog(actor.workspace))
    except TotangoError as exc:
        return _failed(400, exc.field, exc.message)
    took = round((time.perf_counter() - started) * 1000)
    return _answer({"status": "success", "response": found, "took": took})
