"""The API documents itself: OpenAPI for every route, and interactive docs that work offline."""

import re

from django.test import Client

from tend.web.routes import all_routes

# Django's "<int:id>" or "<metric>" is OpenAPI's "{id}" or "{metric}".
ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def test_the_openapi_schema_lists_every_api_route(db):
    schema = Client().get("/api/v1/openapi.json").json()
    documented = {path for path in schema["paths"]}
    routes = {
        "/" + ROUTE_PARAM.sub(r"{\1}", r.route)
        for r in all_routes()
        if r.route.startswith("api/v1/") and r.route != "api/v1/" and "openapi" not in r.route and "docs" not in r.route
    }
    assert routes, "no API routes found"
    assert routes <= documented, f"undocumented: {sorted(routes - documented)}"
    assert schema["components"]["securitySchemes"]["ActorAuth"]["scheme"] == "bearer"


def test_the_interactive_docs_load_their_assets_from_this_server(db):
    html = Client().get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html  # no third-party host: the docs work on a closed network
