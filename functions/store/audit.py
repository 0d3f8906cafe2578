"""The audit trail of partner writes in Firestore (collection `partnerAudit` by default).

A record is created in the same unit of work as the change it describes, so neither can
exist without the other; nothing ever updates or deletes one (a Firestore TTL policy on
`expiresAt` removes it after the retention period). Clients never reach the collection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from functions.core import config
from functions.core.models import AuditEntry, is_document_id
from functions.store import calls
from functions.store.client import UnitOfWork, backend_errors, call_options, client, new_id

if TYPE_CHECKING:
    from google.cloud import firestore


def trail(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.audit_collection())


def add(
    work: UnitOfWork,
    entry: AuditEntry,
    at: dt.datetime,
    database: firestore.Client | None = None,
) -> None:
    """Add `entry`'s record to `work`: written with the change, or not at all."""
    work.create(
        trail(database).document(new_id()),
        {
            "partnerId": entry.partner_id,
            "actor": entry.actor,
            "credential": entry.credential,
            "operation": entry.operation,
            "resource": entry.resource,
            "recordId": entry.record_id,
            "versionBefore": entry.version_before,
            "versionAfter": entry.version_after,
            "fields": list(entry.fields),
            "requestId": entry.request_id,
            "at": at,
            "expiresAt": at + dt.timedelta(days=config.audit_retention_days()),
        },
    )


def record(entry: AuditEntry, database: firestore.Client | None = None) -> None:
    """Write one record on its own: an owner's action, made through firebase-admin or
    another store first (it follows the change it describes)."""
    work = UnitOfWork(database)
    add(work, entry, dt.datetime.now(dt.UTC), database)
    work.commit()


def query(
    database: firestore.Client,
    partner_id: str,
    *,
    since: dt.datetime | None = None,
    record_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """A partner's audit records, oldest first (each query shape has an index)."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    found: Any = trail(database).where(filter=FieldFilter("partnerId", "==", partner_id))
    if record_id is not None:
        found = found.where(filter=FieldFilter("recordId", "==", record_id))
    if since is not None:
        found = found.where(filter=FieldFilter("at", ">=", since))
    with backend_errors():
        for snapshot in found.order_by("at").stream():
            yield {"id": snapshot.id, **(snapshot.to_dict() or {})}


def page(
    database: firestore.Client,
    partner_id: str,
    *,
    limit: int,
    before: str | None = None,
    operation: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A partner's audit records (of one operation, or all), newest first, `limit` at a
    time: the page after the record `before` (its id), and the id to ask for the next page
    with (None: no more)."""
    from google.cloud.firestore import FieldFilter, Query  # noqa: PLC0415

    found: Any = trail(database).where(filter=FieldFilter("partnerId", "==", partner_id))
    if operation is not None:
        found = found.where(filter=FieldFilter("operation", "==", operation))
    found = found.order_by("at", direction=Query.DESCENDING)
    with backend_errors():
        if before is not None:
            if not is_document_id(before):  # from a URL: no record has such an id
                return [], None
            last = calls.get(trail(database).document(before))
            if not last.exists or (last.to_dict() or {}).get("partnerId") != partner_id:
                return [], None
            found = found.start_after(last)
        snapshots = calls.stream(found.limit(limit + 1))
    shown = [{"id": s.id, **(s.to_dict() or {})} for s in snapshots[:limit]]
    return shown, (shown[-1]["id"] if len(snapshots) > limit else None)


def count_creates(database: firestore.Client, partner_id: str, since: dt.datetime) -> int:
    """How many records the partner created through the API since `since` (one
    aggregation query: what a day's quota document is rebuilt from)."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    found: Any = (
        trail(database)
        .where(filter=FieldFilter("partnerId", "==", partner_id))
        .where(filter=FieldFilter("operation", "==", "create"))
        .where(filter=FieldFilter("at", ">=", since))
    )
    with backend_errors():
        result = found.count().get(**call_options("run_aggregation_query"))
    return int(result[0][0].value)
