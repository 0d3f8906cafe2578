"""A method per operation of the contract. Generated from openapi.json by `make sdk`; do not edit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, cast

from ._models import (
    Deleted,
    DeliveryResent,
    Entry,
    EntryCreate,
    EntryFields,
    EntryPage,
    EntryPatch,
    Event,
    EventPage,
    EventTestRequest,
    EventTestSent,
    NewWebhookEndpoint,
    SecretRotation,
    Summary,
    WebhookDeliveryJson,
    WebhookDeliveryList,
    WebhookEndpointChange,
    WebhookEndpointJson,
    WebhookEndpointList,
)
from ._runtime import Tagged, Transport, modify_record, segment

VERSION = "1.0.0"
"""The contract this SDK was generated from (its `info.version`)."""
TITLE = "Partner API"


class Endpoints:
    """The app's own endpoints, behind the same gate as the rest."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def entries_summary(
        self,
        *,
        from_: str,
        to: str,
        timeout: float | None = None,
    ) -> Summary:
        """GET /entriesSummary. Totals of the caller's entries per currency and category, for a date range."""
        return cast(
            Summary,
            self._transport.send(
                "GET", "/entriesSummary", query={"from": from_, "to": to}, timeout=timeout
            ).data,
        )


class Entries:
    """Entries of one partner tenant."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        category: str | None = None,
        fields: str | None = None,
        timeout: float | None = None,
    ) -> EntryPage:
        """GET /api/v1/entries. A page of the caller's entries, oldest first."""
        return cast(
            EntryPage,
            self._transport.send(
                "GET",
                "/api/v1/entries",
                query={
                    "limit": limit,
                    "cursor": cursor,
                    "dateFrom": date_from,
                    "dateTo": date_to,
                    "category": category,
                    "fields": fields,
                },
                timeout=timeout,
            ).data,
        )

    def iterate(
        self,
        *,
        limit: int | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        category: str | None = None,
        fields: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[Entry | EntryFields]:
        """Every record of the list, page after page (follows next_cursor)."""
        return cast(
            Iterator[Entry | EntryFields],
            self._transport.pages(
                "GET",
                "/api/v1/entries",
                query={
                    "limit": limit,
                    "dateFrom": date_from,
                    "dateTo": date_to,
                    "category": category,
                    "fields": fields,
                },
                timeout=timeout,
            ),
        )

    def create(
        self,
        body: EntryCreate,
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> Entry:
        """POST /api/v1/entries. Create an entry in the caller's tenant."""
        return cast(
            Entry,
            self._transport.send(
                "POST",
                "/api/v1/entries",
                body=body,
                idempotency_key=idempotency_key,
                idempotent=True,
                timeout=timeout,
            ).data,
        )

    def get(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> Entry:
        """GET /api/v1/entries/{id}. One of the caller's entries."""
        return cast(
            Entry,
            self._transport.send("GET", f"/api/v1/entries/{segment(id)}", timeout=timeout).data,
        )

    def get_with_etag(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> Tagged[Entry]:
        """The record and its ETag, for If-Match."""
        answer = self._transport.send("GET", f"/api/v1/entries/{segment(id)}", timeout=timeout)
        return Tagged(cast(Entry, answer.data), answer.headers.get("etag", ""))

    def update(
        self,
        id: str,
        body: EntryPatch,
        *,
        if_match: str,
        timeout: float | None = None,
    ) -> Entry:
        """PATCH /api/v1/entries/{id}. Change some fields of one of the caller's entries."""
        return cast(
            Entry,
            self._transport.send(
                "PATCH",
                f"/api/v1/entries/{segment(id)}",
                body=body,
                headers={"If-Match": if_match},
                timeout=timeout,
            ).data,
        )

    def modify(
        self,
        id: str,
        change: Callable[[Entry], EntryPatch | None],
        *,
        attempts: int = 5,
        timeout: float | None = None,
    ) -> Entry:
        """Read the record, ask `change` for a patch, and send it with the record's ETag; when another writer came first (412), read again and ask again, up to `attempts` times. `change` returning None sends nothing and returns the record as read."""
        return modify_record(
            lambda: self.get_with_etag(id, timeout=timeout),
            lambda patch, etag: self.update(id, patch, if_match=etag, timeout=timeout),
            change,
            attempts,
        )


class Events:
    """Changes of the caller's records."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        type: Literal["entries.created", "entries.updated", "entries.deleted"] | None = None,
        timeout: float | None = None,
    ) -> EventPage:
        """GET /api/v1/events. The caller's change events, oldest first."""
        return cast(
            EventPage,
            self._transport.send(
                "GET",
                "/api/v1/events",
                query={"limit": limit, "cursor": cursor, "type": type},
                timeout=timeout,
            ).data,
        )

    def iterate(
        self,
        *,
        limit: int | None = None,
        type: Literal["entries.created", "entries.updated", "entries.deleted"] | None = None,
        timeout: float | None = None,
    ) -> Iterator[Event]:
        """Every record of the list, page after page (follows next_cursor)."""
        return cast(
            Iterator[Event],
            self._transport.pages(
                "GET", "/api/v1/events", query={"limit": limit, "type": type}, timeout=timeout
            ),
        )

    def get(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> Event:
        """GET /api/v1/events/{id}. One of the caller's change events."""
        return cast(
            Event,
            self._transport.send("GET", f"/api/v1/events/{segment(id)}", timeout=timeout).data,
        )


class WebhookDeliveries:
    """Where the caller's events are sent."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(
        self,
        *,
        endpoint: str,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> WebhookDeliveryList:
        """GET /api/v1/webhook_deliveries. One endpoint's latest deliveries, newest first, every attempt in each (time, status, latency, error, next attempt)."""
        return cast(
            WebhookDeliveryList,
            self._transport.send(
                "GET",
                "/api/v1/webhook_deliveries",
                query={"endpoint": endpoint, "limit": limit},
                timeout=timeout,
            ).data,
        )

    def get(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> WebhookDeliveryJson:
        """GET /api/v1/webhook_deliveries/{id}. One delivery of an event to one of the caller's endpoints."""
        return cast(
            WebhookDeliveryJson,
            self._transport.send(
                "GET", f"/api/v1/webhook_deliveries/{segment(id)}", timeout=timeout
            ).data,
        )

    def resend(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> DeliveryResent:
        """POST /api/v1/webhook_deliveries/{id}/resend. Deliver once more what a delivery carried (its receiver was fixed, say): one more attempt, recorded in the same delivery. No body."""
        return cast(
            DeliveryResent,
            self._transport.send(
                "POST", f"/api/v1/webhook_deliveries/{segment(id)}/resend", timeout=timeout
            ).data,
        )


class WebhookEndpoints:
    """Where the caller's events are sent."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(
        self,
        *,
        timeout: float | None = None,
    ) -> WebhookEndpointList:
        """GET /api/v1/webhook_endpoints. The caller's webhook endpoints (never their secrets)."""
        return cast(
            WebhookEndpointList,
            self._transport.send("GET", "/api/v1/webhook_endpoints", timeout=timeout).data,
        )

    def create(
        self,
        body: NewWebhookEndpoint,
        *,
        timeout: float | None = None,
    ) -> WebhookEndpointJson:
        """POST /api/v1/webhook_endpoints. Register a webhook endpoint; the answer holds its signing secret, once."""
        return cast(
            WebhookEndpointJson,
            self._transport.send(
                "POST", "/api/v1/webhook_endpoints", body=body, timeout=timeout
            ).data,
        )

    def delete(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> Deleted:
        """DELETE /api/v1/webhook_endpoints/{id}. Delete a webhook endpoint: nothing more is delivered to it."""
        return cast(
            Deleted,
            self._transport.send(
                "DELETE", f"/api/v1/webhook_endpoints/{segment(id)}", timeout=timeout
            ).data,
        )

    def get(
        self,
        id: str,
        *,
        timeout: float | None = None,
    ) -> WebhookEndpointJson:
        """GET /api/v1/webhook_endpoints/{id}. One of the caller's webhook endpoints."""
        return cast(
            WebhookEndpointJson,
            self._transport.send(
                "GET", f"/api/v1/webhook_endpoints/{segment(id)}", timeout=timeout
            ).data,
        )

    def update(
        self,
        id: str,
        body: WebhookEndpointChange,
        *,
        timeout: float | None = None,
    ) -> WebhookEndpointJson:
        """PATCH /api/v1/webhook_endpoints/{id}. Change a webhook endpoint: its URL, event types, status or description."""
        return cast(
            WebhookEndpointJson,
            self._transport.send(
                "PATCH", f"/api/v1/webhook_endpoints/{segment(id)}", body=body, timeout=timeout
            ).data,
        )

    def rotate_secret(
        self,
        id: str,
        body: SecretRotation,
        *,
        timeout: float | None = None,
    ) -> WebhookEndpointJson:
        """POST /api/v1/webhook_endpoints/{id}/rotate_secret. A new signing secret for an endpoint, in this answer only; the secrets in use keep signing beside it for `overlap_hours`, so a receiver switches without a miss."""
        return cast(
            WebhookEndpointJson,
            self._transport.send(
                "POST",
                f"/api/v1/webhook_endpoints/{segment(id)}/rotate_secret",
                body=body,
                timeout=timeout,
            ).data,
        )

    def send_test(
        self,
        id: str,
        body: EventTestRequest,
        *,
        timeout: float | None = None,
    ) -> EventTestSent:
        """POST /api/v1/webhook_endpoints/{id}/send_test. Send the endpoint a test event (`<resource>.test`, empty `data`), signed and delivered as any event, whatever types it takes; not kept, so never resent."""
        return cast(
            EventTestSent,
            self._transport.send(
                "POST",
                f"/api/v1/webhook_endpoints/{segment(id)}/send_test",
                body=body,
                timeout=timeout,
            ).data,
        )


class Operations:
    """The resources of the contract, one attribute each."""

    endpoints: Endpoints
    entries: Entries
    events: Events
    webhook_deliveries: WebhookDeliveries
    webhook_endpoints: WebhookEndpoints

    def __init__(self, transport: Transport) -> None:
        self.endpoints = Endpoints(transport)
        self.entries = Entries(transport)
        self.events = Events(transport)
        self.webhook_deliveries = WebhookDeliveries(transport)
        self.webhook_endpoints = WebhookEndpoints(transport)


RESOURCES = ["endpoints", "entries", "events", "webhook_deliveries", "webhook_endpoints"]
