"""Request and response glue: the only place that turns errors into HTTP answers.

`endpoint` wraps each exported view: it assigns the request id, binds the log context,
answers CORS preflights, enforces the method, turns our errors into the JSON envelope
(and anything else into a 500 that reveals nothing), adds the security headers and logs
one line per request.
"""

from __future__ import annotations

import functools
import json
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Request, Response

from functions import config, logs
from functions.errors import (
    INTERNAL,
    ApiError,
    BadRequest,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
)

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_PATH_ID = re.compile(r"^/?([^/]*)/?$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id"
CORS_EXPOSE_HEADERS = "ETag, Location, Retry-After, X-Request-Id, Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class Reply:
    """What a view returns: a JSON-able body, a status and extra headers."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


View = Callable[[Request], Reply]


def endpoint(*methods: str) -> Callable[[View], Callable[[Request], Response]]:
    """Make `view` an HTTP function that only ever answers JSON, errors included."""
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: View) -> Callable[[Request], Response]:
        @functools.wraps(view)
        def serve(request: Request) -> Response:
            started = time.perf_counter()
            request_id = _request_id(request)
            token = logs.start_request(
                request_id=request_id,
                function=view.__name__,
                method=request.method,
                **logs.trace_fields(
                    request.headers.get("X-Cloud-Trace-Context"), _project_or_none()
                ),
            )
            try:
                response = _answer(view, request, allowed, request_id)
                response.headers[REQUEST_ID_HEADER] = request_id
                response.headers.update(SECURITY_HEADERS)
                response.headers.update(_cors_headers(request))
                outcome = "ok" if response.status_code < 400 else "rejected"
                severity: logs.Severity = "INFO" if response.status_code < 500 else "ERROR"
                logs.log(
                    severity,
                    f"{request.method} {view.__name__} -> {response.status_code}",
                    status=response.status_code,
                    outcome=outcome,
                    latency_ms=round((time.perf_counter() - started) * 1000, 2),
                )
                return response
            finally:
                logs.end_request(token)

        return serve

    return decorate


def _answer(view: View, request: Request, allowed: tuple[str, ...], request_id: str) -> Response:
    try:
        if request.method == "OPTIONS" and _cors_headers(request):
            return Response(status=204, headers=_preflight_headers(allowed))
        if request.method not in allowed:
            raise MethodNotAllowed(allowed)
        reply = view(request)
        return json_response(reply.body, reply.status, reply.headers)
    except ApiError as exc:
        if exc.status >= 500:
            logs.log("ERROR", exc.message, error_type=type(exc).__name__, code=exc.code)
        return error_response(exc, request_id)
    except Exception as exc:  # noqa: BLE001 - the one place that must catch everything
        logs.log(
            "ERROR",
            "unhandled exception",
            error_type=type(exc).__name__,
            traceback=traceback.format_exc(),
        )
        return error_response(INTERNAL, request_id)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(
        payload, status=status, headers=dict(headers or {}), mimetype="application/json"
    )


def error_response(error: ApiError, request_id: str) -> Response:
    return json_response(error.envelope(request_id), error.status, error.headers())


def path_id(request: Request) -> str | None:
    """The single sub-path segment (`fetchData/<id>` arrives as path "/<id>"), if any.

    Raises:
        BadRequest: the path has more than one segment.
    """
    match = _PATH_ID.match(request.path or "/")
    if not match:
        raise BadRequest("The path takes at most one segment: the entry id.")
    return match.group(1) or None


def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, read within the size limit.

    Raises:
        UnsupportedMediaType: the body is not declared as UTF-8 JSON.
        PayloadTooLarge: the body exceeds the configured limit.
        BadRequest: the body is not one well-formed JSON object without duplicate keys.
    """
    mimetype = (request.mimetype or "").lower()
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if mimetype != "application/json" or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType()
    limit = config.max_body_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body may be at most {limit} bytes.")
    return parse_json_object(raw)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, no duplicate keys, no NaN or Infinity, an object at the top.

    Raises:
        BadRequest: any of the above does not hold.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The body is not valid UTF-8.") from exc
    if not text.strip():
        raise BadRequest("The body is empty; send a JSON object.")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=Decimal,
        )
    except _DuplicateKey as exc:
        raise BadRequest(f"The body repeats the key {exc.args[0]!r}.") from exc
    except RecursionError as exc:
        raise BadRequest("The body is nested too deeply.") from exc
    except ValueError as exc:
        raise BadRequest("The body is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object.")
    return value


class _DuplicateKey(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _request_id(request: Request) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _project_or_none() -> str | None:
    try:
        return config.project_id()
    except ApiError:
        return None


def _cors_headers(request: Request) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not origin or origin not in config.cors_origins():
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        "Vary": "Origin",
    }


def _preflight_headers(allowed: tuple[str, ...]) -> dict[str, str]:
    return {
        "Access-Control-Allow-Methods": ", ".join((*allowed, "OPTIONS")),
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": "600",
    }
