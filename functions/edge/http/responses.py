"""Responses: JSON bodies, the error envelope and the headers every answer carries."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Request, Response

from functions.core import config
from functions.core.errors import ApiError, PreconditionFailed
from functions.edge.http.serializers import etag

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id"
CORS_EXPOSE_HEADERS = (
    "ETag, Location, Retry-After, X-Request-Id, Idempotent-Replayed, Expand-Skipped"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What an operation's serializer returns: a body (JSON-able, or text or bytes of another
    media type), a status and extra headers (which win over the defaults)."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    media_type: str = "application/json"

    def response(self) -> Response:
        if self.status == 204:  # no content: no body, no media type
            return Response(status=204, headers=dict(self.headers))
        if self.media_type == "application/json":
            return json_response(self.body, self.status, self.headers)
        return Response(
            self.body, status=self.status, headers=dict(self.headers), mimetype=self.media_type
        )


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(
        payload, status=status, headers=dict(headers or {}), mimetype="application/json"
    )


def error_response(error: ApiError, request_id: str) -> Response:
    """The envelope with the error's status and headers (a stale revision's current ETag)."""
    headers = error.headers()
    if isinstance(error, PreconditionFailed) and error.current is not None:
        headers["ETag"] = etag(error.current)
    return json_response(error.envelope(request_id), error.status, headers)


def cors_headers(request: Request) -> dict[str, str]:
    """CORS headers for an allowed browser origin; none (CORS off) otherwise."""
    origin = request.headers.get("Origin")
    if not origin or origin not in config.cors_origins():
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS,
        "Vary": "Origin",
    }


def preflight_response(methods: Sequence[str]) -> Response:
    """The answer to an allowed origin's CORS preflight: every method the route serves."""
    return Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        },
    )
