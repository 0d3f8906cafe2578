"""Your own partner endpoints: the package's gate as a decorator.

Put `partner_endpoint` under `https_fn.on_request` on a function of yours in main.py (or a
module main.py imports). The function receives a `Call` (the verified caller, the parsed
body and query, the call's unit of work) and returns an instance of its response model,
or a status and one::

    @https_fn.on_request(**PARTNER_FUNCTION)
    @partner_endpoint(scopes={"orders:write"}, methods=("POST",), body=NewOrder,
                      response=Order, creates=True, idempotent=True)
    def placeOrder(call: Call[NewOrder, None]) -> tuple[int, Order]:
        ...

Every request goes through the same stages as the built-in functions (request id,
method, API key or ID token, suspension and scopes, rate limit and quota, body and query,
the error envelope, one log line); the package's errors the function raises keep their
status, anything else is a 500 that reveals nothing. The endpoint's scopes become known
scopes (`keys create --scopes`, `grant --scopes`), and the OpenAPI document and the
reference page list it with its models.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from firebase_functions import options
from flask import Request, Response
from pydantic import BaseModel

from functions.auth import Caller
from functions.contract import catalog
from functions.contract.catalog import BODY_METHODS, OwnerEndpoint
from functions.core import config, logs
from functions.core.errors import (
    ApiError,
    ConfigurationError,
    NotFound,
    ValidationFailed,
)
from functions.core.models import KeptAnswer
from functions.domain import idempotency, owner, records
from functions.domain.owner import TenantRecords, Work
from functions.edge.http import parsing
from functions.edge.http.pipeline import Endpoint, serve
from functions.edge.http.responses import Reply
from functions.edge.http.routes import Routes

BodyT = TypeVar("BodyT")
QueryT = TypeVar("QueryT")

_CAPACITY = config.partner_capacity()
PARTNER_FUNCTION: dict[str, Any] = {
    "region": config.functions_region(),
    "invoker": "public",
    "memory": options.MemoryOption(_CAPACITY.memory_mb),
    "cpu": _CAPACITY.cpu,
    "concurrency": _CAPACITY.concurrency,
    "min_instances": _CAPACITY.min_instances,
    "max_instances": _CAPACITY.max_instances,
    "timeout_sec": 30,
    "secrets": ["CURSOR_SECRET"],
}
"""The deployment options every partner function shares, for `https_fn.on_request`.

Partners authenticate with API keys or Firebase ID tokens, checked by the functions
themselves, so Cloud Run lets requests reach them (invoker "public"). CORS stays off:
partners call server to server (CORS_ALLOWED_ORIGINS allows browsers). CURSOR_SECRET, the
key that signs pagination cursors, lives in Secret Manager (`firebase
functions:secrets:set CURSOR_SECRET`); the emulators read it from .secret.local. Memory,
CPU, concurrency and instances come from the PARTNER_* capacity settings
(`config.partner_capacity`), the region from FUNCTIONS_REGION."""


@dataclass(frozen=True, slots=True)
class Call(Generic[BodyT, QueryT]):
    """One verified call of an owner's endpoint, as its function receives it."""

    caller: Caller
    """Who calls: `partner_id`, `uid`, `credential` ("key" or "user"), `scopes`."""
    body: BodyT
    """The body as the endpoint's body model (None without one, or for a GET)."""
    query: QueryT
    """The query string as the endpoint's query model (None without one)."""
    method: str
    request_id: str
    idempotency_key: str | None
    work: Work
    """Writes committed after the function returns, with their audit records."""
    route: Callable[[], Any] | None = None
    """The package's own operation of a function served by a routing table."""

    def records(self, resource: str) -> TenantRecords:
        """The caller's records of a declared resource (never another tenant's)."""
        return owner.tenant_records(resource, self.caller)

    def serve(self) -> Any:
        """Run the operation the function's routing table chose for this request (a list
        page, a record, a create, an update), and return its result, which the table's
        own serializer answers with (cursors, ETags, Idempotent-Replayed).

        Raises: ConfigurationError for a function declared without `routes`."""
        if self.route is None:
            raise ConfigurationError("call.serve() needs partner_endpoint(routes=...)")
        return self.route()


Answer = BaseModel | tuple[int, BaseModel]
Handler = Callable[[Call[Any, Any]], Answer]


@dataclass(frozen=True, slots=True)
class _Input:
    method: str
    body: BaseModel | None
    query: BaseModel | None
    key: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int
    body: str
    replayed: bool


def partner_endpoint(
    *,
    routes: Routes | None = None,
    scopes: Collection[str] = (),
    response: type[BaseModel] | None = None,
    methods: Iterable[str] = ("GET",),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    creates: bool = False,
    idempotent: bool = False,
    errors: Iterable[type[ApiError]] = (),
    tag: str = "your endpoints",
    name: str | None = None,
) -> Callable[[Handler], Callable[[Request], Response]]:
    """Serve the decorated function as a partner endpoint named after it.

    `routes`: a routing table of the package's own operations on declared resources
    (`views.FETCH_DATA`, `views.API`, ...): each route brings its scopes, parsing and
    answer, and the function's `call.serve()` runs the one the request chose; the other
    arguments then stay unset. Otherwise the function answers with its own models:
    `scopes`: each one the caller must hold. `methods`: what it answers (405 with Allow
    otherwise). `body` and `query`: pydantic models the request is parsed into (422 naming
    each field). `response`: the model it returns (with `status`, or its own from a
    `(status, model)` tuple). `creates`: a call spends the partner's daily quota.
    `idempotent`: an Idempotency-Key makes retries replay the first answer. `errors`: the
    package's errors it raises (NotFound, Conflict ...), for the contract. The first line
    of its docstring is its summary in the reference, the rest its description.

    Raises: ConfigurationError at import when the declaration is inconsistent.
    """

    if routes is not None:
        if scopes or response is not None or body is not None or query is not None:
            raise ConfigurationError("a routing table brings its own scopes and models")
        return _routed(routes)
    if response is None:
        raise ConfigurationError("partner_endpoint needs the response model it answers with")

    def decorate(function: Handler) -> Callable[[Request], Response]:
        summary, _, description = (inspect.getdoc(function) or "").partition("\n")
        spec = OwnerEndpoint(
            name=name or function.__name__,
            methods=tuple(m.upper() for m in methods),
            scopes=frozenset(scopes),
            summary=summary.strip(),
            description=description.strip(),
            response=response,
            body=body,
            query=query,
            status=status,
            creates=creates,
            idempotent=idempotent,
            errors=tuple(errors),
            tag=tag,
        )
        catalog.register(spec)
        served = _endpoints(spec, function)

        @functools.wraps(function)
        def serve_request(request: Request) -> Response:
            endpoint = served.get(request.method) or served[spec.methods[0]]
            return serve(endpoint, request, allowed=spec.methods)

        serve_request.owner_endpoint = spec  # type: ignore[attr-defined]
        return serve_request

    return decorate


def _routed(table: Routes) -> Callable[[Handler], Callable[[Request], Response]]:
    """Serve a function by a routing table: the route's endpoint, with its operation run
    through the function (`call.serve()`), inside the same pipeline and shell."""

    def decorate(function: Handler) -> Callable[[Request], Response]:
        @functools.wraps(function)
        def serve_request(request: Request) -> Response:
            endpoint, allowed = table.resolve(request)
            if isinstance(endpoint, Endpoint):
                endpoint = _through(endpoint, function)
            return serve(endpoint, request, allowed=allowed)

        serve_request.routes = table  # type: ignore[attr-defined]
        return serve_request

    return decorate


def _through(endpoint: Endpoint[Any, Any], function: Handler) -> Endpoint[Any, Any]:
    def operation(caller: Caller, parsed: Any) -> Any:
        work = Work(caller, endpoint.name)
        result = function(
            Call(
                caller=caller,
                body=parsed,
                query=None,
                method=endpoint.method,
                request_id=str(logs.bound("request_id") or ""),
                idempotency_key=None,
                work=work,
                route=lambda: endpoint.operation(caller, parsed),
            )
        )
        if work.pending:
            work.commit_writes()
        return result

    return replace(endpoint, operation=operation)


def _endpoints(spec: OwnerEndpoint, function: Handler) -> dict[str, Endpoint[_Input, _Outcome]]:
    """One pipeline endpoint per method; they share the function and its models."""

    def parse(request: Request, caller: Caller) -> _Input:
        if request.path != "/":
            raise NotFound(f"{spec.name} has no sub-paths; pass values in the query or body.")
        values = parsing.query_values(request.args.to_dict(flat=False))
        parsed_query = None
        if spec.query is not None:
            parsed_query = parsing.model_input(spec.query, values, "query parameter")
        else:
            _refuse_any(values)
        parsed_body = None
        if spec.body is not None and request.method in BODY_METHODS:
            parsed_body = parsing.model_input(spec.body, parsing.json_object(request), "field")
        key = None
        if spec.idempotent and request.method in BODY_METHODS:
            key = parsing.idempotency_key(request.headers.get(parsing.IDEMPOTENCY_KEY_HEADER))
        fingerprint = _fingerprint(
            spec.name,
            request.method,
            None if parsed_body is None else parsed_body.model_dump(mode="json"),
            None if parsed_query is None else parsed_query.model_dump(mode="json"),
        )
        return _Input(request.method, parsed_body, parsed_query, key, fingerprint)

    def operation(caller: Caller, given: _Input) -> _Outcome:
        replacing = None
        if given.key is not None:
            first, replacing = owner.earlier_answer(caller, spec.name, given.key, given.fingerprint)
            if first is not None:
                return _Outcome(first.status, first.body, replayed=True)
        work = Work(caller, spec.name)
        answered = function(
            Call(
                caller=caller,
                body=given.body,
                query=given.query,
                method=given.method,
                request_id=str(logs.bound("request_id") or ""),
                idempotency_key=given.key,
                work=work,
            )
        )
        status, model = _split(spec, answered)
        answer = KeptAnswer(
            spec.name, given.fingerprint, status, model.model_dump_json(by_alias=True)
        )
        kept = work.commit(given.key, answer, replacing)
        return _Outcome(kept.status, kept.body, replayed=kept is not answer)

    def serialize(outcome: _Outcome, given: _Input, caller: Caller) -> Reply:
        headers = {parsing.REPLAYED_HEADER: "true"} if outcome.replayed else {}
        return Reply(json.loads(outcome.body), outcome.status, headers)

    def replays(request: Request, caller: Caller) -> bool:
        try:
            key = parsing.idempotency_key(request.headers.get(parsing.IDEMPOTENCY_KEY_HEADER))
        except ApiError:
            return False  # the parse stage says what is wrong with it
        return spec.idempotent and records.replays(caller, key)

    return {
        method: Endpoint(
            spec.name,
            method,
            spec.scopes,
            parse,
            operation,
            serialize,
            creates=spec.creates,
            replays=replays if spec.idempotent else None,
        )
        for method in spec.methods
    }


def _refuse_any(values: dict[str, str]) -> None:
    if values:
        raise ValidationFailed(
            details=[
                {
                    "field": parsing.shown(name),
                    "message": "is not a query parameter of this endpoint",
                }
                for name in sorted(values)
            ]
        )


def _fingerprint(name: str, method: str, body: Any, query: Any) -> str:
    """What an Idempotency-Key is bound to: the endpoint, the method, and the body and
    query as their models read them."""
    return idempotency.fingerprint([name, method, body, query])


def _split(spec: OwnerEndpoint, answered: Any) -> tuple[int, BaseModel]:
    """The status and model a function returned.

    Raises: ConfigurationError (a 500, its reason logged) for anything else.
    """
    status, model = (
        answered if isinstance(answered, tuple) and len(answered) == 2 else (spec.status, answered)
    )
    if not isinstance(model, spec.response):
        raise ConfigurationError(
            f"{spec.name} returned {type(model).__name__}, not its response model "
            f"{spec.response.__name__}"
        )
    if not isinstance(status, int) or not 200 <= status <= 299 or status == 204:
        raise ConfigurationError(f"{spec.name} returned status {status!r}, not a 2xx with a body")
    return status, model
