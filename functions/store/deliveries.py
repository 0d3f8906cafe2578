"""Deliveries of events to webhook endpoints in Firestore (collection
`partnerWebhookDeliveries` by default): one document per event and endpoint, with every
attempt (time, status, latency, error), kept as long as the event (a TTL policy)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from functions import config
from functions.store.client import backend_errors, call_options, client, count_reads

if TYPE_CHECKING:
    from google.cloud import firestore


def _deliveries(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.deliveries_collection())


def record_attempt(
    delivery_id: str,
    *,
    partner_id: str,
    event_id: str,
    endpoint_id: str,
    attempt: dict[str, Any],
    state: str,
) -> None:
    """Add one attempt and the delivery's state (`delivered`, `retrying`, `abandoned`)."""
    from google.cloud import firestore  # noqa: PLC0415

    now = attempt["at"]
    fields: dict[str, Any] = {
        "partnerId": partner_id,
        "eventId": event_id,
        "endpointId": endpoint_id,
        "state": state,
        "attempts": firestore.ArrayUnion([attempt]),
        "updatedAt": now,
        "expiresAt": now + dt.timedelta(days=config.events_retention_days()),
    }
    if state == "delivered":
        fields["deliveredAt"] = now
    with backend_errors():
        _deliveries().document(delivery_id).set(fields, merge=True, **call_options())


def of_endpoint(
    endpoint_id: str, database: firestore.Client | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """An endpoint's latest deliveries, newest first."""
    from google.cloud.firestore import FieldFilter, Query  # noqa: PLC0415

    query: Any = (
        _deliveries(database)
        .where(filter=FieldFilter("endpointId", "==", endpoint_id))
        .order_by("updatedAt", direction=Query.DESCENDING)
        .limit(limit)
    )
    with backend_errors():
        snapshots = list(query.stream(**call_options()))
    count_reads(len(snapshots))
    return [{"id": s.id, **(s.to_dict() or {})} for s in snapshots]


def one(delivery_id: str, database: firestore.Client | None = None) -> dict[str, Any] | None:
    with backend_errors():
        snapshot = _deliveries(database).document(delivery_id).get(**call_options())
    return {"id": snapshot.id, **(snapshot.to_dict() or {})} if snapshot.exists else None
