"""The business rules of the partner API, free of HTTP and of Firestore.

Each handler takes the verified caller and an already parsed request, and acts only
within the caller's tenant: another partner's entry is "not found", exactly like a
missing one.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, TypedDict

from functions import cursor, store
from functions.auth import Caller
from functions.errors import BadRequest, PreconditionRequired
from functions.models import Entry, EntryCreate, EntryPatch, ListQuery

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
_IF_MATCH = re.compile(r'^(?:W/)?"?([0-9]{1,12})"?$')


class EntryPage(TypedDict):
    """The wire shape of a list: `next_cursor` is null on the last page."""

    data: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


def list_entries(caller: Caller, query: ListQuery) -> EntryPage:
    """One page of the caller's entries; the cursor only works for this partner and query."""
    fingerprint = query.fingerprint()
    after = (
        cursor.decode(query.cursor, partner_id=caller.partner_id, query_fingerprint=fingerprint)
        if query.cursor
        else None
    )
    page = store.list_entries(
        caller.partner_id,
        limit=query.limit,
        after=after,
        date_from=query.date_from,
        date_to=query.date_to,
        category=query.category,
    )
    next_cursor = None
    if page.has_more and page.entries:
        position = store.position_of(page.entries[-1], by_date=query.by_date)
        next_cursor = cursor.encode(
            position, partner_id=caller.partner_id, query_fingerprint=fingerprint
        )
    return {
        "data": [entry.wire(query.fields) for entry in page.entries],
        "next_cursor": next_cursor,
        "has_more": page.has_more,
    }


def get_entry(caller: Caller, entry_id: str) -> Entry:
    """Raises: NotFound for a missing entry and for another tenant's (same answer)."""
    return store.get_entry(caller.partner_id, entry_id)


def create_entry(caller: Caller, draft: EntryCreate, idempotency_key: str | None) -> store.Created:
    """Store `draft` for the caller's tenant; a repeated key replays the first result.

    Raises:
        BadRequest: the Idempotency-Key is malformed.
        Conflict: the key was used before with a different body.
    """
    fields = draft.stored_fields()
    idempotency = None
    if idempotency_key is not None:
        if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
            raise BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                details=[{"field": "Idempotency-Key", "message": "is malformed"}],
            )
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        idempotency = store.IdempotentCreate(
            key=idempotency_key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest()
        )
    return store.create_entry(caller.partner_id, caller.uid, fields, idempotency)


def update_entry(caller: Caller, entry_id: str, patch: EntryPatch, if_match: str | None) -> Entry:
    """Change the caller's entry if it is still at the version the caller last read.

    Raises:
        PreconditionRequired: no If-Match.
        BadRequest: an If-Match that is neither an ETag nor a version of this API.
        NotFound: a missing entry, or another tenant's.
        PreconditionFailed: the entry has changed since.
    """
    if if_match is None or not if_match.strip():
        raise PreconditionRequired()
    match = _IF_MATCH.match(if_match.strip())
    if not match:
        raise BadRequest(
            'If-Match must be the entry\'s ETag (such as "3") or its version number.',
            details=[{"field": "If-Match", "message": "is malformed"}],
        )
    sets, clears = patch.changes()
    return store.update_entry(
        caller.partner_id,
        entry_id,
        sets=sets,
        clears=clears,
        expected_version=int(match.group(1)),
    )
