"""Structured logs in the shape Cloud Logging and Error Reporting read, one JSON line each.

Each request binds its context (request id, trace and span, the deployed function,
partner, credential) once; every line logged while it runs carries that context. What goes
into a line is decided here: only the fields below, so a token, key, password or body can
never be logged.

Lines take firebase-functions' `LogEntry` shape and its streams (errors to stderr, the
rest to stdout), but are written here, each in one write under a lock: its logger
`print`s the text and the newline separately, and under gunicorn's threads two lines then
run together into one that Cloud Logging cannot parse (seen under load).

- The request line carries `httpRequest` (method, path without the query, status,
  latency, user agent, request and response sizes, protocol, the client's address as
  Google's front end saw it), the labels `partner` and `function`, and, on 401 and 403, a
  `reason`: which check failed. It is a WARNING for a 4xx, as Cloud Run's own request
  logs are, an ERROR for a 5xx.
- Trace and span come from a W3C `traceparent` header, else `X-Cloud-Trace-Context`.
- An unhandled error is a `ReportedErrorEvent` with its stack in `stack_trace`, which Cloud
  Error Reporting picks up.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal, cast

from firebase_functions import logger

Severity = Literal["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]

ALLOWED_FIELDS = frozenset(
    {
        "round_trips",
        "request_id",
        "partner_id",
        "uid",
        "key_id",
        "credential",
        "function",
        "method",
        "status",
        "code",
        "reason",
        "outcome",
        "latency_ms",
        "docs_read",
        "limiter_operations",
        "replayed",
        "resource",
        "sdk",
        "mode",
        "error_type",
        "stack_trace",
        "httpRequest",
        "serviceContext",
        "@type",
    }
)
REPORTED_ERROR_EVENT = (
    "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
)

_CLOUD_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/([0-9]{1,40}))?(?:;o=([01]))?")
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "partner_api_log_context", default=None
)


def trace_fields(
    traceparent: str | None, cloud_trace: str | None, project: str | None
) -> dict[str, Any]:
    """Cloud Logging's trace, span and sampling fields, from the W3C `traceparent` header
    when it is well formed, else from `X-Cloud-Trace-Context: TRACE/SPAN;o=1`."""
    if not project:
        return {}
    trace = span = None
    sampled: bool | None = None
    if (w3c := _TRACEPARENT.fullmatch((traceparent or "").strip())) and w3c.group(1) != "0" * 32:
        trace, span, sampled = w3c.group(1), w3c.group(2), bool(int(w3c.group(3), 16) & 1)
    elif cloud := _CLOUD_TRACE.fullmatch((cloud_trace or "").strip()):
        trace = cloud.group(1).lower()
        if cloud.group(2) and int(cloud.group(2)) < 2**64:
            span = f"{int(cloud.group(2)):016x}"
        if cloud.group(3) is not None:
            sampled = cloud.group(3) == "1"
    if trace is None:
        return {}
    fields: dict[str, Any] = {"logging.googleapis.com/trace": f"projects/{project}/traces/{trace}"}
    if span is not None:
        fields["logging.googleapis.com/spanId"] = span
    if sampled is not None:
        fields["logging.googleapis.com/trace_sampled"] = sampled
    return fields


def http_request(
    *,
    method: str,
    path: str,
    status: int,
    latency_s: float,
    user_agent: str | None,
    response_size: int | None,
    request_size: int | None = None,
    remote_ip: str | None = None,
    protocol: str | None = None,
) -> dict[str, Any]:
    """Cloud Logging's `httpRequest`: the path only, never the query string."""
    request: dict[str, Any] = {
        "requestMethod": method,
        "requestUrl": path,
        "status": status,
        "latency": f"{latency_s:.6f}s",
    }
    if user_agent:
        request["userAgent"] = user_agent[:256]
    if response_size is not None:
        request["responseSize"] = str(response_size)
    if request_size is not None:
        request["requestSize"] = str(request_size)
    if remote_ip:
        request["remoteIp"] = remote_ip[:64]
    if protocol:
        request["protocol"] = protocol[:16]
    return request


def labels(**values: str | None) -> dict[str, dict[str, str]]:
    """Cloud Logging's labels of a line (strings only; indexed, so cheap to filter on)."""
    kept = {name: value for name, value in values.items() if value}
    return {"logging.googleapis.com/labels": kept} if kept else {}


def start_request(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Bind the context for one request; pass the token to `end_request`."""
    return _context.set({**fields, _TRIPS: []})


_TRIPS = "_round_trips"
"""The context's list of (service, started, ended): never written to a log line as such."""


@contextlib.contextmanager
def round_trip(service: str) -> Iterator[None]:
    """Time one call to a backend (`firestore`, `auth`) for the current request, if any.
    Calls made in another thread count when it runs in a copy of the request's context."""
    trips = (_context.get() or {}).get(_TRIPS)
    started = time.perf_counter()
    try:
        yield
    finally:
        if trips is not None:
            trips.append((service, started, time.perf_counter()))


def round_trips() -> dict[str, int]:
    """The current request's calls to each backend, and how many of them ran one after
    another (`sequential`: calls that overlap in time count once)."""
    trips = sorted((_context.get() or {}).get(_TRIPS) or [], key=lambda t: t[1])
    counts: dict[str, int] = {}
    sequential, reach = 0, -math.inf
    for service, started, ended in trips:
        counts[service] = counts.get(service, 0) + 1
        if started >= reach:
            sequential += 1
            reach = ended
        else:
            reach = max(reach, ended)
    return {**counts, "sequential": sequential}


def bind(**fields: Any) -> None:
    """Add fields (for example the partner id once known) to the current request's context."""
    current = _context.get()
    if current is not None:
        current.update(fields)


def bound(name: str) -> Any:
    """A field of the current request's context (the request id, say), or None."""
    return (_context.get() or {}).get(name)


def end_request(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


def log(severity: Severity, message: str, **fields: Any) -> None:
    """Write one structured line (Cloud Run and the emulator collect stdout and stderr)."""
    record: dict[str, Any] = {**(_context.get() or {}), **fields}
    record.pop(_TRIPS, None)
    entry: dict[str, Any] = {
        key: value
        for key, value in record.items()
        if value is not None
        and (key in ALLOWED_FIELDS or key.startswith("logging.googleapis.com/"))
    }
    entry["severity"] = severity
    entry["message"] = message
    entry["time"] = timestamp()
    _write(cast(logger.LogEntry, entry))


_write_lock = threading.Lock()


def _write(entry: logger.LogEntry) -> None:
    line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
    stream = sys.stderr if entry["severity"] == "ERROR" else sys.stdout
    with _write_lock:
        stream.write(line)
        stream.flush()


def report_error(message: str, stack_trace: str, **fields: Any) -> None:
    """An unhandled error, in the shape Cloud Error Reporting groups and counts."""
    function = (_context.get() or {}).get("function", "partner-api")
    service = {"service": function}
    if revision := os.environ.get("K_REVISION", "").strip():  # the deployed revision
        service["version"] = revision[:100]
    log(
        "ERROR",
        message,
        stack_trace=stack_trace,
        serviceContext=service,
        **{"@type": REPORTED_ERROR_EVENT},
        **fields,
    )


def timestamp() -> str:
    """Now, in RFC 3339 with microseconds: `2026-11-26T05:01:32.123456Z`."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
