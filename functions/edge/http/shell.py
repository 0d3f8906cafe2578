"""The one HTTP shell every function is served in, the partner API's and the console's.

Around a function's own answer it does, once: the request id (the caller's X-Request-Id
when well formed, else a new one) bound for every log line; the method check (405 with
Allow, and an allowed origin's CORS preflight where the face allows browsers); the
catch-all (the package's errors keep their status, anything else is logged with its
traceback and becomes a 500 that reveals nothing); the request id, security and CORS
headers on every answer; and the request's one log line. What an error looks like is the
function's `Face`: the JSON envelope for the API, an HTML page for the console.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Request, Response

from functions.core import config, logs
from functions.core.errors import INTERNAL, ApiError, ConfigurationError, MethodNotAllowed
from functions.domain import usage
from functions.edge.http import parsing
from functions.edge.http.responses import (
    SECURITY_HEADERS,
    cors_headers,
    error_response,
    preflight_response,
)


@dataclass(frozen=True, slots=True)
class Face:
    """How a function shows what went wrong (`error`: the error and the request id to an
    answer), and whether browsers of other origins may call it (CORS)."""

    error: Callable[[ApiError, str], Response] = error_response
    cors: bool = True


API: Face = Face()
"""The partner API's: the JSON error envelope, CORS for the configured origins."""


@dataclass(eq=False)
class Served:
    """What the shell knows of the request in hand: its id, and what the function tells
    the log line (`label` names the route, `fields` add to the line)."""

    request: Request
    request_id: str
    label: str
    fields: dict[str, Any] = field(default_factory=dict)


def serve(
    name: str,
    request: Request,
    answer: Callable[[Served], Response],
    *,
    methods: tuple[str, ...],
    face: Face = API,
    on_failure: Callable[[], None] | None = None,
    headers: Callable[[], Mapping[str, str]] | None = None,
    label: str | None = None,
) -> Response:
    """Serve `request` with `answer` inside the shell; always an answer, errors included.

    `methods`: what the route serves (405 otherwise). `on_failure`: run when the answer
    raised (a quota permit given back, say). `headers`: added to whatever the answer is
    (the rate limit's, once known). `label`: the route, for the log line (the function's
    name by default)."""
    started = time.perf_counter()
    token = logs.start_request(
        function=name,
        method=request.method,
        **logs.trace_fields(
            request.headers.get("traceparent"),
            request.headers.get("X-Cloud-Trace-Context"),
            _project_or_none(),
        ),
    )
    served = Served(request, parsing.request_id(request), label or name)
    logs.bind(request_id=served.request_id)
    try:
        try:
            response = _checked(served, methods, face) or answer(served)
        except ApiError as exc:
            if on_failure is not None:
                on_failure()
            logs.bind(code=exc.code, reason=exc.reason)
            if exc.status >= 500 and _first_report(exc):
                logs.log("ERROR", exc.message, error_type=type(exc).__name__)
            response = face.error(exc, served.request_id)
        except Exception as exc:  # noqa: BLE001 - the one place that must catch everything
            if on_failure is not None:
                on_failure()
            logs.report_error(
                f"unhandled {type(exc).__name__} in {name}",
                traceback.format_exc(),
                error_type=type(exc).__name__,
            )
            response = face.error(INTERNAL, served.request_id)
        if headers is not None:
            response.headers.update(headers())
        return finish(response, served, started, face)
    finally:
        logs.end_request(token)


def _checked(served: Served, methods: tuple[str, ...], face: Face) -> Response | None:
    """An allowed origin's CORS preflight, answered; any other method the route does not
    serve, refused (405); both name every method it serves."""
    request = served.request
    if face.cors and request.method == "OPTIONS" and methods and cors_headers(request):
        return preflight_response(methods)
    if methods and request.method not in methods:
        raise MethodNotAllowed(methods)
    return None


def finish(response: Response, served: Served, started: float, face: Face = API) -> Response:
    """Add the request id, security and CORS headers, and log the request's one line."""
    request = served.request
    response.headers[parsing.REQUEST_ID_HEADER] = served.request_id
    for header, value in SECURITY_HEADERS.items():
        response.headers.setdefault(header, value)  # a reply's own policy (a page's) wins
    if face.cors:
        response.headers.update(cors_headers(request))
    status = response.status_code
    latency_s = time.perf_counter() - started
    replayed = response.headers.get(parsing.REPLAYED_HEADER) == "true"
    sdk = parsing.sdk_of(request.headers.get("User-Agent"))
    usage.record_call(
        logs.bound("partner_id"),
        status,
        created=status == 201 and not replayed,
        sdk=sdk,
        database=config.MODES.get(logs.bound("mode") or "live", config.LIVE_DATABASE),
    )
    logs.log(
        "INFO" if status < 400 else "WARNING" if status < 500 else "ERROR",
        f"{request.method} {served.label} -> {status}",
        request_id=served.request_id,
        status=status,
        outcome="ok" if status < 400 else "rejected",
        latency_ms=round(latency_s * 1000, 2),
        round_trips=logs.round_trips(),
        sdk=sdk,
        httpRequest=logs.http_request(
            method=request.method,
            path=f"/{served.label.split('/')[0]}{request.path if request.path != '/' else ''}",
            status=status,
            latency_s=latency_s,
            user_agent=request.headers.get("User-Agent"),
            response_size=response.calculate_content_length(),
            request_size=request.content_length,
            remote_ip=parsing.client_address(request),
            protocol=request.environ.get("SERVER_PROTOCOL"),
        ),
        **served.fields,
        **logs.labels(partner=logs.bound("partner_id"), function=served.label.split("/")[0]),
    )
    return response


_reported_configuration_errors: set[str] = set()


def _first_report(error: ApiError) -> bool:
    """Whether to log an error's reason: a configuration error once per process (every
    request of a misconfigured function fails alike; its request lines still say 500)."""
    if not isinstance(error, ConfigurationError):
        return True
    if error.message in _reported_configuration_errors:
        return False
    _reported_configuration_errors.add(error.message)
    return True


def _project_or_none() -> str | None:
    try:
        return config.project_id()
    except ApiError:
        return None
