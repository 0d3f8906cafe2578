"""The audit trail of partner writes in Firestore (collection `partnerAudit` by default).

A record is created in the same unit of work as the change it describes, so neither can
exist without the other; nothing ever updates or deletes one (a Firestore TTL policy on
`expiresAt` removes it after the retention period). Clients never reach the collection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from functions import config
from functions.models import AuditEntry
from functions.store.client import UnitOfWork, backend_errors, call_options, client

if TYPE_CHECKING:
    from google.cloud import firestore


def trail(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.audit_collection())


def add(work: UnitOfWork, entry: AuditEntry, at: dt.datetime) -> None:
    """Add `entry`'s record to `work`: written with the change, or not at all."""
    work.create(
        trail().document(),
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
        result = found.count().get(**call_options())
    return int(result[0][0].value)
