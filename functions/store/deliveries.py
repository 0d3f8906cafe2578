"""Deliveries of events to webhook endpoints in Firestore (collection
`partnerWebhookDeliveries` by default): one document per event and endpoint, with every
attempt (time, status, latency, error, next attempt), kept as long as the event (a TTL
policy)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

from functions.core import config
from functions.core.models import (
    DELIVERY_STATES,
    MAX_DELIVERIES_LISTED,
    Delivery,
    DeliveryAttempt,
    is_document_id,
)
from functions.store import calls
from functions.store.client import (
    UnitOfWork,
    backend_errors,
    call_options,
    client,
    count_reads,
)

if TYPE_CHECKING:
    from google.cloud import firestore

EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _deliveries(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.deliveries_collection())


def record_attempt(
    delivery_id: str,
    *,
    partner_id: str,
    event_id: str,
    endpoint_id: str,
    attempt: DeliveryAttempt,
    state: str,
) -> None:
    """Add one attempt and the delivery's state (`delivered`, `retrying`, `abandoned`)."""
    from google.cloud import firestore  # noqa: PLC0415

    now = attempt.at
    fields: dict[str, Any] = {
        "partnerId": partner_id,
        "eventId": event_id,
        "endpointId": endpoint_id,
        "state": state,
        "attempts": firestore.ArrayUnion([_attempt_document(attempt)]),
        "updatedAt": now,
        "expiresAt": now + dt.timedelta(days=config.events_retention_days()),
    }
    if state == "delivered":
        fields["deliveredAt"] = now
    with backend_errors():
        _deliveries().document(delivery_id).set(fields, merge=True, **call_options("commit"))


IN_FLIGHT_FOR: Final = dt.timedelta(seconds=15)
"""How long a mark of an attempt under way counts (longer than any attempt: a worker
that died mid-attempt leaves one that stops counting then, and goes with a TTL)."""


def begin_attempt(delivery_id: str, endpoint_id: str, now: dt.datetime) -> int:
    """Mark an attempt to the endpoint as under way, and say how many of its attempts
    under way began before this one (the earliest ones go first).

    Raises: ServiceUnavailable (backend down or too slow).
    """
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    marks = (database := client()).collection(config.in_flight_collection())
    work = UnitOfWork(database)
    work.set(
        marks.document(delivery_id),
        {"endpointId": endpoint_id, "since": now, "expiresAt": now + IN_FLIGHT_FOR},
    )
    work.commit()
    earlier: Any = (
        marks.where(filter=FieldFilter("endpointId", "==", endpoint_id))
        .where(filter=FieldFilter("since", ">", now - IN_FLIGHT_FOR))
        .where(filter=FieldFilter("since", "<", now))
    )
    with backend_errors():
        found = earlier.count().get(**call_options("run_aggregation_query"))
    return int(found[0][0].value)


def end_attempt(delivery_id: str) -> None:
    """Raises: ServiceUnavailable (backend down or too slow)."""
    work = UnitOfWork()
    work.delete(
        client().collection(config.in_flight_collection()).document(delivery_id),
        unchanged_since=None,
    )
    work.commit()


def of_endpoint(
    endpoint_id: str, database: firestore.Client | None = None, limit: int = MAX_DELIVERIES_LISTED
) -> list[Delivery]:
    """An endpoint's latest deliveries, newest first."""
    from google.cloud.firestore import FieldFilter, Query  # noqa: PLC0415

    query: Any = (
        _deliveries(database)
        .where(filter=FieldFilter("endpointId", "==", endpoint_id))
        .order_by("updatedAt", direction=Query.DESCENDING)
        .limit(limit)
    )
    with backend_errors():
        snapshots = calls.stream(query)
    count_reads(len(snapshots))
    return [delivery_from(s.id, s.to_dict() or {}) for s in snapshots]


def one(delivery_id: str, database: firestore.Client | None = None) -> Delivery | None:
    if not is_document_id(delivery_id):
        return None
    with backend_errors():
        snapshot = calls.get(_deliveries(database).document(delivery_id))
    count_reads(1)
    return delivery_from(snapshot.id, snapshot.to_dict() or {}) if snapshot.exists else None


def _attempt_document(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "at": attempt.at,
        "attempt": attempt.attempt,
        "status": attempt.status,
        "latencyMs": attempt.latency_ms,
        "error": attempt.error,
        "nextAttemptAt": attempt.next_attempt_at,
    }


def _time(value: Any) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _attempt(data: Any) -> DeliveryAttempt | None:
    if not isinstance(data, dict) or _time(data.get("at")) is None:
        return None
    latency = data.get("latencyMs")
    error = data.get("error")
    return DeliveryAttempt(
        at=data["at"],
        attempt=_whole(data.get("attempt")) or 0,
        status=_whole(data.get("status")),
        latency_ms=float(latency)
        if isinstance(latency, int | float) and not isinstance(latency, bool)
        else None,
        error=error if isinstance(error, str) else None,
        next_attempt_at=_time(data.get("nextAttemptAt")),
    )


def delivery_from(delivery_id: str, data: dict[str, Any]) -> Delivery:
    """A delivery as stored. A field edited into another shape reads as unknown (an
    unknown state as `abandoned`, odd attempts left out), never as a failing list."""
    state = data.get("state")
    attempts = data.get("attempts")
    found = [_attempt(a) for a in attempts] if isinstance(attempts, list) else []
    return Delivery(
        id=delivery_id,
        partner_id=str(data.get("partnerId", "")),
        event_id=str(data.get("eventId", "")),
        endpoint_id=str(data.get("endpointId", "")),
        state=state if state in DELIVERY_STATES else "abandoned",
        updated_at=_time(data.get("updatedAt")) or EPOCH,
        delivered_at=_time(data.get("deliveredAt")),
        attempts=tuple(sorted((a for a in found if a is not None), key=lambda a: a.at)),
    )
