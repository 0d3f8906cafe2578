"""Each partner function's routing table, declared as data: which method and path serve
which operation of which collection.

A table names a fixed collection (`fetchData` serves the declared `entries`) or takes it
from the path (`api`: `/v1/{collection}[/{id}]`, every declared resource, the events and
partners' webhook endpoints and deliveries). A route whose collection is not declared, or
whose operation the declaration leaves out, is answered before any credential is read:
404 for a path that names nothing, 405 naming what the path does serve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Request

from functions.core.errors import ApiError, ConfigurationError, MethodNotAllowed, NotFound
from functions.edge.http.pipeline import Endpoint, PublicEndpoint

BASE_OPERATIONS: Final = frozenset({"list", "get", "create", "update", "delete"})
"""What a collection may serve at its own paths; other operations are actions on a record."""
Operations = Mapping[str, Endpoint[Any, Any]]
"""A collection's endpoints by operation: `list`, `get`, `create`, `update`, `delete`."""
Collections = Callable[[str], Operations | None]
"""What a path's collection name serves (None: no such collection)."""
Resolved = tuple[Endpoint[Any, Any] | PublicEndpoint, tuple[str, ...]]
"""The endpoint a request goes to, and every method its path serves (Allow)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One line of a table: `path` is `/` or `/{id}` under the function, with `{collection}`
    where the path names it, or `*` for any path (the operation reads the id itself)."""

    method: str
    path: str
    operation: str


@dataclass(frozen=True, slots=True)
class Routes:
    """A function's routing table, and where its collections come from."""

    function: str
    routes: tuple[Route, ...]
    collections: Collections = field(compare=False)
    collection: str | None = None
    """The one collection of a table whose paths do not name it."""
    unknown: str = "No such resource; the OpenAPI document lists them."

    def resolve(
        self, request: Request
    ) -> tuple[Endpoint[Any, Any] | PublicEndpoint, tuple[str, ...]]:
        """The endpoint for the request, and every method its path serves."""
        try:
            return self._resolve(request)
        except ConfigurationError as exc:
            return refusal(self.function, request.method, exc), ()

    def _resolve(self, request: Request) -> Resolved:
        path = request.path or "/"
        matched = [
            (route, found)
            for route in self.routes
            if (found := _match(route.path, path)) is not None
        ]
        names = {found.get("collection", self.collection) for _, found in matched}
        if not matched or len(names) != 1:
            return refusal(self.function, request.method, NotFound(self.unknown)), ()
        (name,) = names
        operations = self.collections(name or "")
        if not operations:
            return refusal(self.function, request.method, NotFound(self.unknown)), ()
        served = [
            (route, operations[route.operation])
            for route, _ in matched
            if route.operation in operations
        ]
        if not served and all(route.operation not in BASE_OPERATIONS for route, _ in matched):
            # an action the collection has not (`/v1/entries/<id>/resend`): no such thing
            return refusal(self.function, request.method, NotFound(self.unknown)), ()
        allowed = tuple(dict.fromkeys(route.method for route, _ in served))
        for route, endpoint in served:
            if route.method == request.method:
                return endpoint, allowed
        if request.method == "OPTIONS" and served:  # a CORS preflight, answered by the shell
            return served[0][1], allowed
        return refusal(self.function, request.method, MethodNotAllowed(allowed)), allowed


def _match(template: str, path: str) -> dict[str, str] | None:
    if template == "*":
        return {}
    found = _pattern(template).fullmatch(path)
    return None if found is None else {k: v for k, v in found.groupdict().items() if v}


_PARTS: Final = {
    "{collection}": r"(?P<collection>[a-z][a-z0-9_-]{0,62})",
    "{id}": r"(?P<id>[^/]+)",
}
_patterns: dict[str, re.Pattern[str]] = {}


def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regular expression (a trailing slash allowed)."""
    found = _patterns.get(template)
    if found is None:
        text = re.escape(template.rstrip("/") or "")
        for part, expression in _PARTS.items():
            text = text.replace(re.escape(part), expression)
        found = _patterns[template] = re.compile(text + "/?")
    return found


def refusal(name: str, method: str, error: ApiError) -> PublicEndpoint:
    """An endpoint that answers `error` in the envelope, before any credential is read."""

    def answer(request: Request) -> Any:
        raise error

    return PublicEndpoint(name, method, answer)
