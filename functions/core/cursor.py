"""Opaque pagination cursors: bound to one partner and one query, and signed.

A cursor carries the sort key of the last entry of a page. It is HMAC-signed with the
configured key over the partner id and the query's fingerprint, so a modified cursor, one
from another partner or one from another query is refused as the same 400, which tells
the caller nothing about any data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from functions.core import config
from functions.core.errors import BadRequest

MAX_CHARS = 2048
"""The longest cursor accepted: far above any this module makes."""
_VERSION = 1
_MAC_BYTES = 16


def encode(position: list[Any], *, partner_id: str, query_fingerprint: str) -> str:
    """A cursor that resumes after `position` (a list of JSON-able sort values)."""
    payload = _b64(json.dumps([_VERSION, position], separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(payload, partner_id, query_fingerprint))}"


def decode(cursor: str, *, partner_id: str, query_fingerprint: str) -> list[Any]:
    """The position a cursor resumes after.

    Raises:
        BadRequest: the cursor is malformed, altered, or issued for another partner or query.
    """
    invalid = invalid_cursor()
    payload, _, signature = cursor.partition(".")
    try:
        given = _unb64(signature)
        expected = _mac(payload, partner_id, query_fingerprint)
        if not hmac.compare_digest(given, expected):
            raise invalid
        version, position = json.loads(_unb64(payload))
    except (ValueError, TypeError) as exc:
        raise invalid from exc
    if version != _VERSION or not isinstance(position, list):
        raise invalid
    return position


def invalid_cursor() -> BadRequest:
    """The one answer to every unusable cursor, whatever is wrong with it."""
    return BadRequest(
        "The cursor is not valid for this query; start again without a cursor.",
        details=[{"field": "cursor", "message": "is not a cursor of this query"}],
    )


def _mac(payload: str, partner_id: str, query_fingerprint: str) -> bytes:
    message = "\n".join((payload, partner_id, query_fingerprint)).encode()
    return hmac.new(config.cursor_key(), message, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
