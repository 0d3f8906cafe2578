"""Records: the business rules of the partner API, free of HTTP and of Firestore.

Each operation takes the declared resource, the verified caller and an already parsed
request, and acts only within the caller's tenant: another partner's record is "not
found", exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from functions import changes, logs
from functions.auth import Caller, partner_of_user
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


def record_written(
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    written: dt.datetime,
) -> list[Event]:
    """The events of a write to a declared collection, seen by its trigger, each created
    once however often the trigger runs: none when the API already committed its event
    with the write, or nothing a partner sees changed. A partner's direct create (its own
    user, its own tenant, where `direct_access` allows it) is evented as `direct` and gets
    its audit record with the event; anything else is the app's.

    A record the app moves to another tenant is two events: `<resource>.deleted` for the
    tenant it left (its last view of the record, so its copies do not go stale) and
    `<resource>.created` for the one it joined.

    `written`: when the write was committed (the document's update time; for a
    deletion, the last update time of the deleted document).
    """
    if changes.moved(resource, before, after):
        halves = ((before, None), (None, after))
        made = [_written(resource, doc_id, old, new, written, moved=True) for old, new in halves]
        return [event for event in made if event is not None]
    event = _written(resource, doc_id, before, after, written, moved=False)
    return [event] if event is not None else []


def _written(
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    written: dt.datetime,
    *,
    moved: bool,
) -> Event | None:
    kind = changes.kind_of(before, after)
    if after is not None and not moved:
        committed = event_store.committed_at(changes.api_event_id(resource, doc_id, after))
        if committed is not None and changes.same_instant(committed, written):
            return None  # the API's own write: evented in its commit
    writer, audit = "app", None
    partner_id = (after or before or {}).get(resource.tenant_field)
    author = None if moved else _direct_author(resource, kind, after, partner_id)
    event = changes.event_of(
        resource,
        doc_id,
        before,
        after,
        event_id=changes.write_event_id(resource, doc_id, kind, written),
        at=written,
        writer="direct" if author else writer,
    )
    if event is None:
        return None
    if author:
        audit = AuditEntry(
            actor=author,
            credential="direct",
            partner_id=event.partner_id,
            operation="create",
            resource=resource.name,
            record_id=doc_id,
            version_before=None,
            version_after=event.version,
            fields=event.changed,
            request_id="",
        )
    return event if event_store.create(event, audit) else None


def _direct_author(
    resource: Resource, kind: str, after: Mapping[str, Any] | None, partner_id: Any
) -> str | None:
    """The partner user who created the record straight on Firestore, or None. The rules
    let a partner create only where `direct_access` allows it, in its own tenant, naming
    itself in the created-by field; a create that does so is taken as the partner's."""
    created_by = resource.bookkeeping.created_by
    if kind != "created" or "create" not in resource.direct_access or created_by is None:
        return None
    author = (after or {}).get(created_by)
    if not isinstance(author, str) or author.startswith("key:") or not partner_id:
        return None
    return author if partner_of_user(author) == partner_id else None


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
