"""One protocol for every call made with an Idempotency-Key, a built-in create's or an
owner endpoint's: the answer is kept with the call's writes, in one unit of work; a call
with the same key and the same request replays it; the same key with another request is
a 409. What a key holds, in which shape and until when, is `functions.store.answers`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.core.errors import Conflict
from functions.core.models import KeptAnswer
from functions.domain import changes
from functions.resources.declaration import Resource

CONFLICT_ATTEMPTS = 5
"""Commits a create tries before it gives up on a key other calls keep taking (503)."""


def create_operation(resource: Resource) -> str:
    """The operation a built-in create keeps its answer under (owner endpoints: their
    names, which hold no dot)."""
    return f"{resource.name}.create"


def fingerprint(request: Any) -> str:
    """What a key is bound to: the request as JSON values, canonical (no two requests
    share one)."""
    canonical = json.dumps(changes.canonical(request), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_request(
    kept: KeptAnswer | None, operation: str, request: str, *, anew: str = "request"
) -> KeptAnswer:
    """The kept answer, when it answered the same request (`request`: its fingerprint) to
    the same operation.

    Raises: Conflict otherwise; `anew` names what a new key is for."""
    if kept is None or kept.operation != operation or kept.fingerprint != request:
        raise Conflict(
            f"This Idempotency-Key was used with a different request; use a new key for "
            f"a new {anew}.",
            reason="idempotency_key_reused",
        )
    return kept
