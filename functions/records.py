"""Records: the business rules of the partner API, free of HTTP and of Firestore.

Each operation takes the declared resource, the verified caller and an already parsed
request, and acts only within the caller's tenant: another partner's record is "not
found", exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from functions import logs
from functions.auth import Caller
from functions.models import (
    AuditEntry,
    Created,
    Draft,
    Event,
    FieldChanges,
    IdempotentCreate,
    ListQuery,
    Page,
    Record,
    Revision,
)
from functions.resources.declaration import Resource
from functions.store import events as event_store
from functions.store import records as store


def list_records(resource: Resource, caller: Caller, query: ListQuery) -> Page:
    """One page of the caller's records, in list order, after `query.after`."""
    return store.list_records(
        resource,
        caller.partner_id,
        limit=query.limit,
        after=query.after,
        equals=query.equals,
        bounds=query.bounds,
    )


def get_record(resource: Resource, caller: Caller, doc_id: str) -> Record:
    """Raises: NotFound for a missing record and for another tenant's (same answer)."""
    return store.get_record(resource, caller.partner_id, doc_id)


def create_record(
    resource: Resource, caller: Caller, draft: Draft, idempotency_key: str | None
) -> Created:
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
    audit = _audit(resource, caller, "create", tuple(sorted(fields)))
    return store.create_record(
        resource, caller.partner_id, caller.uid, fields, idempotency=idempotency, audit=audit
    )


def replays(caller: Caller, idempotency_key: str | None) -> bool:
    """Whether a create with this key would replay an earlier answer (and create nothing)."""
    return idempotency_key is not None and store.has_answered(caller.partner_id, idempotency_key)


def update_record(
    resource: Resource, caller: Caller, doc_id: str, patch: FieldChanges, expected: Revision
) -> Record:
    """Change the caller's record if it is still at the revision the caller last read.

    Raises:
        NotFound: a missing record, or another tenant's.
        PreconditionFailed: the record has changed since.
    """
    sets, clears = patch.changes()
    return store.update_record(
        resource,
        caller.partner_id,
        doc_id,
        sets=sets,
        clears=clears,
        expected=expected,
        audit=_audit(resource, caller, "update", ()),
    )


def list_events(
    caller: Caller,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None,
    event_type: str | None,
) -> tuple[list[Event], tuple[dt.datetime, str] | None]:
    """A page of the caller's events, oldest first, and where the next page starts."""
    return event_store.page(caller.partner_id, limit=limit, after=after, event_type=event_type)


def get_event(caller: Caller, event_id: str) -> Event:
    """Raises: NotFound for a missing event and for another tenant's (same answer)."""
    return event_store.one(caller.partner_id, event_id)


def _audit(
    resource: Resource, caller: Caller, operation: str, fields: tuple[str, ...]
) -> AuditEntry:
    """Who is writing, for the audit record the store commits with the write."""
    return AuditEntry(
        actor=caller.uid,
        credential=caller.credential,
        partner_id=caller.partner_id,
        operation=operation,
        resource=resource.name,
        record_id="",
        version_before=None,
        version_after=0,
        fields=fields,
        request_id=str(logs.bound("request_id") or ""),
    )
