"""The request pipeline: every partner function goes through the same named stages,
inside the one HTTP shell (`shell`: request id, method, errors, headers, the log line).

    authenticate -> authorize -> limits -> parse -> operation -> serialize -> audit

Each stage is a small function of the exchange with one reason to change: `authorize`
refuses suspended partners and missing scopes, `limits` spends the partner's rate and,
for creates, its daily quota (429), `audit` settles the quota once the outcome is known
(the audit record itself is committed with the write, in the store). The order fixes
which error a request gets when several things are wrong with it: method (405), identity
(401, then 403), the partner's limits (429), the request itself (400/413/415/422/428),
then the data (404/409/412).
Public functions (health, the OpenAPI document, the reference page) skip the partner stages.

The shell is the only place that turns errors into HTTP answers: our errors become the
JSON envelope with their status; anything else is logged with its traceback and becomes a
500 that reveals nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from contextvars import Token
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import flask
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from functions.auth import Authenticator, Caller, authenticate, claimed_identity
from functions.auth import require_scopes as authorize_scopes
from functions.core import config, logs
from functions.core.errors import (
    ConfigurationError,
    Forbidden,
    FrameworkError,
    PartnerSuspended,
    QuotaExceeded,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from functions.core.limits import Decision, Gate, Permit, failure_source
from functions.edge import wiring
from functions.edge.http import parsing, shell
from functions.edge.http.responses import (
    Reply,
)

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[In, Out]):
    """A partner function: the scopes it needs and its three request-specific stages."""

    name: str
    method: str
    scopes: frozenset[str]
    parse: Callable[[Request, Caller], In]
    operation: Callable[[Caller, In], Out]
    serialize: Callable[[Out, In, Caller], Reply]
    creates: bool = False
    """Whether a call may create a record: it then spends the partner's daily quota."""
    replays: Callable[[Request, Caller], bool] | None = None
    """For a create: whether the request would only replay an earlier answer, asked when
    the daily quota is spent (a replay creates nothing, so the quota never refuses it)."""


@dataclass(frozen=True, slots=True)
class PublicEndpoint:
    """A function that asks for no credentials and touches no partner data."""

    name: str
    method: str
    answer: Callable[[Request], Reply]


@dataclass(eq=False)
class Exchange:
    """One request on its way through the stages; each stage fills in its part."""

    request: Request
    endpoint: Endpoint[Any, Any] | PublicEndpoint
    authenticators: Sequence[Authenticator]
    request_id: str = ""
    caller: Caller | None = None
    parsed: Any = None
    result: Any = None
    reply: Reply | None = None
    limits: Gate | None = None
    limit_headers: dict[str, str] = field(default_factory=dict)
    permit: Permit | None = None
    allowed: tuple[str, ...] = ()
    """Every method the request's route serves (Allow, CORS preflights); by default the
    endpoint's own."""
    database: Token[str] | None = None
    """Entered once the caller is known: the call's records go to its mode's database."""

    @property
    def partner_endpoint(self) -> Endpoint[Any, Any]:
        if not isinstance(self.endpoint, Endpoint):
            raise TypeError(f"{self.endpoint.name} is public")
        return self.endpoint

    @property
    def verified_caller(self) -> Caller:
        if self.caller is None:
            raise TypeError("no caller: the authenticate stage has not run")
        return self.caller


Stage = Callable[[Exchange], Response | None]
"""A stage fills in the exchange or raises; a response it returns is the answer at once."""


def identify(exchange: Exchange) -> None:
    """401 for a missing or unacceptable credential; 403 for a known non-partner; a 500
    for every call of a deployed function whose environment points at emulators."""
    config.check_local_only()
    credential = parsing.bearer_credential(exchange.request.headers.get("Authorization"))
    address = failure_source(
        parsing.forwarded_address(exchange.request),  # None without a front end
        claimed_identity(credential),
    )
    fingerprint = hashlib.sha256(credential.encode()).hexdigest()
    guard = wiring.failure_guard()
    if wait := guard.retry_after(address, fingerprint):
        raise RateLimited(
            wait, "Too many failed credentials from this address; retry after the given seconds."
        )
    try:
        exchange.caller = authenticate(credential, exchange.authenticators)
    except (Unauthorized, Forbidden):
        guard.failed(address)
        raise
    guard.passed(fingerprint)
    mode = exchange.caller.mode
    logs.bind(mode=mode)
    exchange.database = wiring.enter_mode(mode)


def authorize(exchange: Exchange) -> None:
    """403 when the caller's partner is suspended, or the caller lacks a scope the
    endpoint needs."""
    caller = exchange.verified_caller
    if caller.partner is not None and caller.partner.suspended:
        raise PartnerSuspended(reason="partner_suspended")
    authorize_scopes(caller, exchange.partner_endpoint.scopes)


def apply_limits(exchange: Exchange) -> None:
    """429 over the partner's rate or, for a create, its daily quota; the budget goes in
    the RateLimit headers of every answer (see `functions.core.limits`)."""
    caller = exchange.verified_caller
    defaults = config.default_limits()
    limits = caller.partner.limits(defaults) if caller.partner is not None else defaults
    gate = exchange.limits or wiring.limits_gate(caller.mode)
    decision = gate.rate.take(caller.partner_id, limits)
    window = max(1, math.ceil(limits.burst / limits.rate_per_s))
    policies = [f'"partner";q={limits.burst};w={window}']
    if exchange.partner_endpoint.creates:
        policies.append(f'"creates";q={limits.daily_creates};w=86400')
    exchange.limit_headers = {
        "RateLimit-Policy": ", ".join(policies),
        "RateLimit": f'"partner";r={decision.remaining};t={decision.reset_s}',
    }
    operations = decision.operations
    _refuse_unless(decision.allowed, decision.unavailable, operations, RateLimited, decision)
    if exchange.partner_endpoint.creates:
        permit = gate.creates.reserve(caller.partner_id, limits)
        operations += permit.operations
        exchange.limit_headers["RateLimit"] += (
            f', "creates";r={permit.remaining};t={permit.reset_s}'
        )
        endpoint = exchange.partner_endpoint
        replay = (
            not permit.allowed
            and not permit.unavailable
            and endpoint.replays is not None
            and endpoint.replays(exchange.request, caller)
        )
        if not replay:
            _refuse_unless(permit.allowed, permit.unavailable, operations, QuotaExceeded, permit)
            exchange.permit = permit
    if operations:
        logs.bind(limiter_operations=operations)


def _refuse_unless(
    allowed: bool,
    unavailable: bool,
    operations: int,
    refusal: type[RateLimited],
    verdict: Decision | Permit,
) -> None:
    """Raises: ServiceUnavailable when the limits could not be read (the failure rule),
    `refusal` (429) when they say no."""
    if allowed:
        return
    logs.bind(limiter_operations=operations)
    if unavailable:
        raise ServiceUnavailable(
            "The partner's limits could not be checked; retry.", reason="limits_unavailable"
        )
    wait = verdict.retry_after_s if isinstance(verdict, Decision) else verdict.reset_s
    raise refusal(wait)


def parse(exchange: Exchange) -> None:
    endpoint = exchange.partner_endpoint
    exchange.parsed = endpoint.parse(exchange.request, exchange.verified_caller)


def operate(exchange: Exchange) -> None:
    endpoint = exchange.partner_endpoint
    exchange.result = endpoint.operation(exchange.verified_caller, exchange.parsed)


def serialize(exchange: Exchange) -> None:
    endpoint = exchange.partner_endpoint
    exchange.reply = endpoint.serialize(exchange.result, exchange.parsed, exchange.verified_caller)


def record_audit(exchange: Exchange) -> None:
    """A write's audit record is committed with the write itself (the store's unit of
    work); here a replayed create gives its quota permit back: it created nothing."""
    if exchange.permit is not None and getattr(exchange.result, "replayed", False):
        exchange.permit.release()
        exchange.permit = None


def answer_public(exchange: Exchange) -> None:
    endpoint = exchange.endpoint
    if not isinstance(endpoint, PublicEndpoint):
        raise TypeError(f"{endpoint.name} is not public")
    exchange.reply = endpoint.answer(exchange.request)


PARTNER_STAGES: tuple[tuple[str, Stage], ...] = (
    ("authenticate", identify),
    ("authorize", authorize),
    ("limits", apply_limits),
    ("parse", parse),
    ("operation", operate),
    ("serialize", serialize),
    ("audit", record_audit),
)
PUBLIC_STAGES: tuple[tuple[str, Stage], ...] = (("operation", answer_public),)


def stages_of(endpoint: Endpoint[Any, Any] | PublicEndpoint) -> tuple[tuple[str, Stage], ...]:
    return PUBLIC_STAGES if isinstance(endpoint, PublicEndpoint) else PARTNER_STAGES


def serve(
    endpoint: Endpoint[Any, Any] | PublicEndpoint,
    request: Request,
    authenticators: Sequence[Authenticator] | None = None,
    limits: Gate | None = None,
    *,
    allowed: tuple[str, ...] = (),
) -> Response:
    """Run `request` through the endpoint's stages in the shell; always a JSON answer,
    errors included. `allowed`: every method of the request's route, when it serves more
    than the endpoint's."""
    exchange = Exchange(
        request,
        endpoint,
        wiring.authenticators() if authenticators is None else authenticators,
        limits=limits,
        allowed=allowed,
    )

    def answer(served: shell.Served) -> Response:
        exchange.request_id = served.request_id
        try:
            return _run(exchange)
        finally:
            if exchange.database is not None:
                wiring.leave_mode(exchange.database)
                exchange.database = None

    return shell.serve(
        endpoint.name,
        request,
        answer,
        methods=allowed or (endpoint.method,),
        on_failure=lambda: _give_back(exchange),
        headers=lambda: exchange.limit_headers,
    )


def framework_error(error: HTTPException) -> Response:
    """The web framework's own HTTP errors, raised before any function ran (an unroutable
    path, say), in the envelope with the headers every answer carries."""
    failure = FrameworkError(error.code or 500, error.name)

    def answer(served: shell.Served) -> Response:
        raise failure

    return shell.serve("framework", flask.request, answer, methods=())


def _run(exchange: Exchange) -> Response:
    for _name, stage in stages_of(exchange.endpoint):
        early = stage(exchange)
        if early is not None:
            return early
    if exchange.reply is None:
        raise ConfigurationError(f"{exchange.endpoint.name} produced no reply")
    return exchange.reply.response()


def _give_back(exchange: Exchange) -> None:
    """A call that failed created nothing: its quota permit goes back."""
    if exchange.permit is not None:
        exchange.permit.release()
        exchange.permit = None
