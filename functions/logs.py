"""Structured logs: one JSON object per line, in the fields Cloud Logging understands.

Each request binds its context (request id, trace, partner) once; every line logged while
it runs carries that context. Tokens, passwords and bodies are never logged: callers pass
only the fields below, and `log` drops any key it does not know.
"""

from __future__ import annotations

import contextvars
import json
import re
import sys
import time
from typing import Any, Literal

Severity = Literal["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"]

ALLOWED_FIELDS = frozenset(
    {
        "request_id",
        "partner_id",
        "uid",
        "key_id",
        "function",
        "method",
        "path",
        "status",
        "code",
        "outcome",
        "latency_ms",
        "docs_read",
        "replayed",
        "error_type",
        "traceback",
    }
)

_TRACE_HEADER = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "partner_api_log_context", default=None
)


def trace_fields(header: str | None, project: str | None) -> dict[str, Any]:
    """Cloud Logging's trace fields from an `X-Cloud-Trace-Context: TRACE/SPAN;o=1` header."""
    match = _TRACE_HEADER.match(header or "")
    if not match or not project:
        return {}
    fields: dict[str, Any] = {
        "logging.googleapis.com/trace": f"projects/{project}/traces/{match.group(1).lower()}"
    }
    if match.group(2):
        fields["logging.googleapis.com/spanId"] = match.group(2)
    return fields


def start_request(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Bind the context for one request; pass the token to `end_request`."""
    return _context.set(dict(fields))


def bind(**fields: Any) -> None:
    """Add fields (for example the partner id once known) to the current request's context."""
    current = _context.get()
    if current is not None:
        current.update(fields)


def end_request(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


def log(severity: Severity, message: str, **fields: Any) -> None:
    """Write one JSON line to stdout (Cloud Run and the emulator collect stdout)."""
    record: dict[str, Any] = {"severity": severity, "message": message}
    record.update(_context.get() or {})
    record.update(fields)
    safe = {
        key: value
        for key, value in record.items()
        if key in ALLOWED_FIELDS
        or key in ("severity", "message", "time")
        or key.startswith("logging.googleapis.com/")
    }
    safe.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    sys.stdout.write(json.dumps(safe, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()
