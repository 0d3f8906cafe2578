"""The owner's own endpoints, as declared: what the rest of the package needs to know of
them without serving them (their scopes, for the command-line tool; their models, for the
OpenAPI document).

`functions.edge.decorator.partner_endpoint` registers one here when main.py (or a module it
imports) is loaded. A served function has loaded main.py before its first request; the
command-line tool and `make generate` load it with `discover()`, as the Firebase CLI does
to find the functions.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from functions.core.errors import ApiError, ConfigurationError

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,62}")
"""A deployed function's name as partners' URLs carry it (entriesSummary)."""
SCOPE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,30}:[a-z][a-z0-9_-]{0,30}")
"""An owner's scope reads like the declaration's: `orders:write`, `reports:read`."""
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RESERVED = frozenset(
    {"fetchData", "createEntry", "updateEntry", "api", "health", "openapi", "docs"}
)
"""The package's own functions: an owner endpoint cannot take their names."""


@dataclass(frozen=True, slots=True)
class OwnerEndpoint:
    """One endpoint of the owner's, as declared on its function."""

    name: str
    methods: tuple[str, ...]
    scopes: frozenset[str]
    summary: str
    description: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    creates: bool = False
    """A call may create something: it spends the partner's daily quota."""
    idempotent: bool = False
    """The call takes an Idempotency-Key: a retry with it replays the first answer."""
    errors: tuple[type[ApiError], ...] = ()
    """The package's errors the function raises itself (NotFound, Conflict ...), for the
    contract; the pipeline's own (401, 403, 405, 422, 429 ...) are always listed."""
    tag: str = "your endpoints"

    def __post_init__(self) -> None:
        problems = [*_name_problems(self.name), *_method_problems(self.methods)]
        problems += [
            f"scope {scope!r} is not `<noun>:<verb>` in lowercase"
            for scope in sorted(self.scopes)
            if not SCOPE_PATTERN.fullmatch(scope)
        ]
        if not self.scopes:
            problems.append("it names no scope: every partner endpoint needs one")
        if self.body is not None and not BODY_METHODS.intersection(self.methods):
            problems.append("it takes a body, but none of its methods carries one")
        if not 200 <= self.status <= 299 or self.status == 204:
            problems.append(f"status {self.status} is not a 2xx with a body")
        if self.idempotent and not BODY_METHODS.intersection(self.methods):
            problems.append("an Idempotency-Key makes sense only for a method that changes")
        problems += _query_problems(self.query)
        for model in (self.response, self.body, self.query):
            if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
                problems.append(f"{model!r} is not a pydantic model")
        for error in self.errors:
            if not (isinstance(error, type) and issubclass(error, ApiError)):
                problems.append(f"{error!r} is not one of the package's errors")
        if problems:
            raise ConfigurationError(f"endpoint {self.name}: " + "; ".join(problems))


def _name_problems(name: str) -> list[str]:
    if not NAME_PATTERN.fullmatch(name):
        return ["its name must be letters and digits, starting with a letter (entriesSummary)"]
    if name in RESERVED:
        return ["the package's own function has that name"]
    return []


def _method_problems(methods: tuple[str, ...]) -> list[str]:
    if not methods:
        return ["it names no method"]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        return [f"unknown method(s) {unknown}: choose from {list(METHODS)}"]
    if len(set(methods)) != len(methods):
        return ["a method is named twice"]
    return []


def _query_problems(query: type[BaseModel] | None) -> list[str]:
    """Query parameters are single scalar values: a model field that is a list, a mapping
    or another model cannot be sent as one."""
    if query is None or not (isinstance(query, type) and issubclass(query, BaseModel)):
        return []
    schema = query.model_json_schema()
    problems = []
    for name, prop in schema.get("properties", {}).items():
        types = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
        if {"array", "object"} & types or "$ref" in prop or "allOf" in prop:
            problems.append(f"query parameter {name!r} must be a single value")
    return problems


_registered: dict[str, OwnerEndpoint] = {}
_lock = threading.Lock()


def register(endpoint: OwnerEndpoint) -> None:
    """Add an owner endpoint; a second one of the same name replaces it only when it is
    the same declaration (a module imported twice), never silently.

    Raises: ConfigurationError naming both.
    """
    with _lock:
        known = _registered.get(endpoint.name)
        if known is not None and known != endpoint and _origin(known) != _origin(endpoint):
            raise ConfigurationError(f"two endpoints are named {endpoint.name}")
        _registered[endpoint.name] = endpoint


def _origin(endpoint: OwnerEndpoint) -> tuple[str, str]:
    models = (endpoint.response, endpoint.body, endpoint.query)
    return endpoint.name, ",".join(f"{m.__module__}.{m.__qualname__}" for m in models if m)


def unregister(name: str) -> None:
    """Forget an endpoint (tests that declare their own)."""
    with _lock:
        _registered.pop(name, None)


def registered() -> tuple[OwnerEndpoint, ...]:
    """Every owner endpoint, by name."""
    with _lock:
        return tuple(_registered[name] for name in sorted(_registered))


EVENTS_SCOPE = "events:read"
"""Reads the partner's change events (`GET /api/v1/events`)."""
WEBHOOKS_SCOPE = "webhooks:write"
"""Registers, changes and deletes the partner's webhook endpoints."""
PACKAGE_SCOPES = frozenset({EVENTS_SCOPE, WEBHOOKS_SCOPE})
"""The scopes of the package's own endpoints beside the declared resources'."""


def scopes() -> frozenset[str]:
    """Every scope the package's own endpoints and the owner's need."""
    owned = frozenset(scope for endpoint in registered() for scope in endpoint.scopes)
    return PACKAGE_SCOPES | owned


ENTRY_MODULE = "main"
_discovered = False


ENTRY_SOURCE = Path(__file__).resolve().parents[2] / "main.py"
"""The deployment's main.py, beside the `functions` package."""


def discover(path: Path | None = None) -> tuple[OwnerEndpoint, ...]:
    """Load main.py (beside this package, or `path`) once, so that the endpoints it declares
    are registered; in a served function it is loaded already and this does nothing.

    Raises: ConfigurationError when main.py cannot be loaded (its reason in the message).
    """
    global _discovered  # noqa: PLW0603 - a process loads its entry module once
    if _discovered or ENTRY_MODULE in sys.modules:
        _discovered = True
        return registered()
    source = path or ENTRY_SOURCE
    if not source.is_file():
        _discovered = True  # a package used without an entry module declares none
        return registered()
    spec = importlib.util.spec_from_file_location(ENTRY_MODULE, source)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"{source} cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[ENTRY_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[ENTRY_MODULE]
        raise ConfigurationError(
            f"{source.name} could not be loaded to find your endpoints: {type(exc).__name__}: {exc}"
        ) from exc
    _discovered = True
    return registered()
