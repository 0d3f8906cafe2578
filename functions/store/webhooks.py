"""Partners' webhook endpoints in Firestore (collection `partnerWebhookEndpoints` by
default): one document each, holding its signing secrets. Clients never reach the
collection (the rules deny it); the secrets leave it only to sign deliveries, and once,
in the answer that creates or rotates one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from functions.core import config
from functions.core.errors import Conflict, NotFound
from functions.core.models import (
    WEBHOOK_ENDPOINT_STATUSES,
    SigningSecret,
    WebhookEndpoint,
    is_document_id,
)
from functions.store import calls
from functions.store.client import (
    UnitOfWork,
    WriteConflict,
    backend_errors,
    call_options,
    client,
    count_reads,
)

if TYPE_CHECKING:
    from google.cloud import firestore


def _endpoints(database: firestore.Client | None) -> firestore.CollectionReference:
    return (database or client()).collection(config.webhooks_collection())


def _document(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "partnerId": endpoint.partner_id,
        "url": endpoint.url,
        "eventTypes": list(endpoint.event_types),
        "status": endpoint.status,
        "description": endpoint.description,
        "createdAt": endpoint.created_at,
        "updatedAt": endpoint.updated_at,
        "createdBy": endpoint.created_by,
        "secrets": [{"value": s.value, "expiresAt": s.expires_at} for s in endpoint.secrets],
        "disabledReason": endpoint.disabled_reason,
        "failingSince": endpoint.failing_since,
    }


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _time(value: Any) -> dt.datetime | None:
    return value if isinstance(value, dt.datetime) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _endpoint(endpoint_id: str, data: dict[str, Any]) -> WebhookEndpoint:
    """An endpoint as stored. A field edited into another shape reads as harmless: an
    unknown status as disabled, odd event types or secrets as none (nothing delivered,
    nothing signed), odd times as unknown; never a failing list."""
    status = data.get("status")
    types = data.get("eventTypes")
    return WebhookEndpoint(
        id=endpoint_id,
        partner_id=str(data.get("partnerId", "")),
        url=str(data.get("url", "")),
        event_types=tuple(t for t in types if isinstance(t, str))
        if isinstance(types, list)
        else (),
        status=status if status in WEBHOOK_ENDPOINT_STATUSES else "disabled",
        description=_text(data.get("description")),
        created_at=_time(data.get("createdAt")) or EPOCH,
        updated_at=_time(data.get("updatedAt")) or EPOCH,
        created_by=str(data.get("createdBy", "")),
        secrets=tuple(
            SigningSecret(s["value"], _time(s.get("expiresAt")))
            for s in data.get("secrets") or ()
            if isinstance(s, dict) and isinstance(s.get("value"), str) and s["value"]
        ),
        disabled_reason=_text(data.get("disabledReason")),
        failing_since=_time(data.get("failingSince")),
    )


def add(endpoint: WebhookEndpoint, database: firestore.Client | None = None) -> None:
    """Raises: Conflict if the (random) id is taken."""
    work = UnitOfWork(database)
    work.create(_endpoints(database).document(endpoint.id), _document(endpoint))
    try:
        work.commit()
    except WriteConflict as exc:
        raise Conflict("A webhook endpoint with this id exists; retry.") from exc


def of_partner(
    partner_id: str | None = None, database: firestore.Client | None = None
) -> list[WebhookEndpoint]:
    """A partner's endpoints (every partner's with None), oldest first."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    query: Any = _endpoints(database)
    if partner_id is not None:
        query = query.where(filter=FieldFilter("partnerId", "==", partner_id))
    with backend_errors():
        snapshots = calls.stream(query)
    count_reads(len(snapshots))
    found = [_endpoint(s.id, s.to_dict() or {}) for s in snapshots]
    return sorted(found, key=lambda e: (e.created_at, e.id))


def one(
    endpoint_id: str, partner_id: str | None = None, database: firestore.Client | None = None
) -> tuple[WebhookEndpoint, dt.datetime]:
    """The endpoint and its last write time (for a change that must not overwrite
    another). Raises: NotFound, also for another partner's (with `partner_id`)."""
    if not is_document_id(endpoint_id):
        raise NotFound("No such webhook endpoint.")
    with backend_errors():
        snapshot = calls.get(_endpoints(database).document(endpoint_id))
    count_reads(1)
    data = snapshot.to_dict() if snapshot.exists else None
    if not data or (partner_id is not None and data.get("partnerId") != partner_id):
        raise NotFound("No such webhook endpoint.")
    return _endpoint(snapshot.id, data), snapshot.update_time


def replace(
    endpoint: WebhookEndpoint, read_at: dt.datetime, database: firestore.Client | None = None
) -> None:
    """Write the changed endpoint, unless it changed since `read_at`.

    Raises: Conflict (nothing written)."""
    work = UnitOfWork(database)
    reference = _endpoints(database).document(endpoint.id)
    work.update(reference, _document(endpoint), unchanged_since=read_at)
    try:
        work.commit()
    except WriteConflict as exc:
        raise Conflict("The webhook endpoint changed meanwhile; read it again.") from exc


def delete(
    endpoint_id: str, read_at: dt.datetime, database: firestore.Client | None = None
) -> None:
    work = UnitOfWork(database)
    work.delete(_endpoints(database).document(endpoint_id), unchanged_since=read_at)
    try:
        work.commit()
    except WriteConflict as exc:
        raise Conflict("The webhook endpoint changed meanwhile; read it again.") from exc


def mark_failing(endpoint_id: str, since: dt.datetime | None) -> None:
    """Note since when deliveries to the endpoint fail (None: they succeed again)."""
    with backend_errors():
        _endpoints(None).document(endpoint_id).update(
            {"failingSince": since}, **call_options("commit")
        )
