"""Entries: the business rules of the partner API, free of HTTP and of Firestore.

Each operation takes the verified caller and an already parsed request, and acts only
within the caller's tenant: another partner's entry is "not found", exactly like a
missing one.
"""

from __future__ import annotations

import hashlib
import json

from functions.auth import Caller
from functions.models import (
    Created,
    Entry,
    EntryCreate,
    EntryPatch,
    IdempotentCreate,
    ListQuery,
    Page,
)
from functions.store import entries as store


def list_entries(caller: Caller, query: ListQuery) -> Page:
    """One page of the caller's entries, in list order, after `query.after`."""
    return store.list_entries(
        caller.partner_id,
        limit=query.limit,
        after=query.after,
        date_from=query.date_from,
        date_to=query.date_to,
        category=query.category,
    )


def get_entry(caller: Caller, entry_id: str) -> Entry:
    """Raises: NotFound for a missing entry and for another tenant's (same answer)."""
    return store.get_entry(caller.partner_id, entry_id)


def create_entry(caller: Caller, draft: EntryCreate, idempotency_key: str | None) -> Created:
    """Store `draft` for the caller's tenant; a repeated key replays the first result.

    Raises:
        Conflict: the key was used before with a different body.
    """
    fields = draft.stored_fields()
    idempotency = None
    if idempotency_key is not None:
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        idempotency = IdempotentCreate(
            key=idempotency_key, fingerprint=hashlib.sha256(canonical.encode()).hexdigest()
        )
    return store.create_entry(caller.partner_id, caller.uid, fields, idempotency)


def update_entry(caller: Caller, entry_id: str, patch: EntryPatch, expected_version: int) -> Entry:
    """Change the caller's entry if it is still at the version the caller last read.

    Raises:
        NotFound: a missing entry, or another tenant's.
        PreconditionFailed: the entry has changed since.
    """
    sets, clears = patch.changes()
    return store.update_entry(
        caller.partner_id, entry_id, sets=sets, clears=clears, expected_version=expected_version
    )
