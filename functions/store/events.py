"""Change events in Firestore (collection `partnerEvents` by default): one document per
change of a partner's record, kept for EVENTS_RETENTION_DAYS (a TTL policy on
`expiresAt`). Clients never reach the collection; partners read it through the API.

`data` is kept as JSON text: the API never queries inside it, and Firestore would
otherwise index every field of the record a second time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from functions.core import config
from functions.core.errors import NotFound
from functions.core.models import AuditEntry, Event, is_document_id
from functions.store import audit as audit_store
from functions.store import calls
from functions.store.client import (
    UnitOfWork,
    WriteConflict,
    backend_errors,
    client,
    count_reads,
)

if TYPE_CHECKING:
    from google.cloud import firestore


def _events(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.events_collection())


def document_of(event: Event) -> dict[str, Any]:
    return {
        "partnerId": event.partner_id,
        "type": event.type,
        "resource": event.resource,
        "recordId": event.record_id,
        "version": event.version,
        "data": json.dumps(event.data, separators=(",", ":"), ensure_ascii=False),
        "changed": list(event.changed),
        "at": event.at,
        "writer": event.writer,
        "requestId": event.request_id,
        "expiresAt": event.at + dt.timedelta(days=config.events_retention_days()),
    }


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def event_from(event_id: str, data: dict[str, Any]) -> Event:
    """An event as stored; a field someone edited into another shape reads as empty
    rather than failing the list it is in."""
    version, at, changed = data.get("version"), data.get("at"), data.get("changed")
    try:
        shown = json.loads(data.get("data") or "{}")
    except (TypeError, ValueError):
        shown = {}
    request_id = data.get("requestId")
    return Event(
        id=event_id,
        type=str(data.get("type", "")),
        partner_id=str(data.get("partnerId", "")),
        resource=str(data.get("resource", "")),
        record_id=str(data.get("recordId", "")),
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        data=shown if isinstance(shown, dict) else {},
        changed=tuple(str(c) for c in changed) if isinstance(changed, list) else (),
        at=at if isinstance(at, dt.datetime) else EPOCH,
        writer=str(data.get("writer", "")),
        request_id=request_id if isinstance(request_id, str) and request_id else None,
    )


def add(work: UnitOfWork, event: Event) -> None:
    """Add `event` to `work`: committed with the change it describes, or not at all."""
    work.create(_events().document(event.id), document_of(event))


def committed_at(event_id: str) -> dt.datetime | None:
    """When the event was committed (its document's creation time), None if absent."""
    with backend_errors():
        snapshot = calls.get(_events().document(event_id))
    return snapshot.create_time if snapshot.exists else None


def create(event: Event, audit: AuditEntry | None = None) -> bool:
    """Create the event (with its audit record, for a partner's direct write) unless it
    exists: True when this call made it. Of a trigger delivered twice, one commit wins."""
    work = UnitOfWork()
    add(work, event)
    if audit is not None:
        audit_store.add(work, audit, event.at)
    try:
        work.commit()
    except WriteConflict:
        return False
    return True


def page(
    partner_id: str,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
    event_type: str | None = None,
) -> tuple[list[Event], tuple[dt.datetime, str] | None]:
    """The partner's events in order (time, then id), after `after`: a page and where the
    next one starts (None on the last). Reads `limit + 1` documents."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415
    from google.cloud.firestore_v1.field_path import FieldPath  # noqa: PLC0415

    query: Any = _events().where(filter=FieldFilter("partnerId", "==", partner_id))
    if event_type is not None:
        query = query.where(filter=FieldFilter("type", "==", event_type))
    query = query.order_by("at").order_by(FieldPath.document_id())
    if after is not None:
        query = query.start_after([after[0], _events().document(after[1])])
    with backend_errors():
        snapshots = calls.stream(query.limit(limit + 1))
    count_reads(len(snapshots))
    events = [event_from(s.id, s.to_dict() or {}) for s in snapshots[:limit]]
    more = len(snapshots) > limit
    return events, ((events[-1].at, events[-1].id) if more and events else None)


def one(partner_id: str, event_id: str) -> Event:
    """Raises: NotFound for a missing event and for another tenant's (same answer)."""
    if not is_document_id(event_id):
        raise NotFound("No such event.")
    with backend_errors():
        snapshot = calls.get(_events().document(event_id))
    count_reads(1)
    data = snapshot.to_dict() if snapshot.exists else None
    if not data or data.get("partnerId") != partner_id:
        raise NotFound("No such event.")
    return event_from(snapshot.id, data)


def by_id(event_id: str, database: firestore.Client | None = None) -> Event:
    """Any partner's event (for its delivery). Raises: NotFound."""
    if not is_document_id(event_id):
        raise NotFound("No such event.")
    with backend_errors():
        snapshot = calls.get(_events(database).document(event_id))
    if not snapshot.exists:
        raise NotFound("No such event.")
    return event_from(snapshot.id, snapshot.to_dict() or {})
