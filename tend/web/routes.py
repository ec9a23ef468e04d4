"""Every URL route of the project, with its parameters: for generated tests and docs."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # Django route syntax, e.g. "accounts/<int:account_id>/"
    name: str | None
    callback: object

    @property
    def params(self) -> list[str]:
        return [m.group("name") for m in PARAM.finditer(self.route)]

    def fill(self, values: dict) -> str:
        return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), self.route)


def all_routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> list[Route]:
    resolver = resolver or get_resolver()
    routes = []
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            routes.extend(all_routes(entry, prefix + pattern, full_ns))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            routes.append(Route(prefix + pattern, name, entry.callback))
    return routes
