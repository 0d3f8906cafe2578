"""The contract's models. Generated from openapi.json by `make sdk`; do not edit."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "Deleted",
    "DeliveryResent",
    "Entry",
    "EntryCreate",
    "EntryFields",
    "EntryPage",
    "EntryPatch",
    "ErrorBody",
    "ErrorEnvelope",
    "Event",
    "EventPage",
    "EventTestRequest",
    "EventTestSent",
    "FieldIssue",
    "NewWebhookEndpoint",
    "SecretRotation",
    "Summary",
    "Total",
    "WebhookDeliveryAttemptJson",
    "WebhookDeliveryJson",
    "WebhookDeliveryList",
    "WebhookEndpointChange",
    "WebhookEndpointJson",
    "WebhookEndpointList",
]


class Deleted(TypedDict):
    deleted: Literal[True]
    id: str


class DeliveryResent(TypedDict):
    """One more attempt of a delivery, on its way (recorded in the same delivery)."""

    id: str
    resent: Literal[True]


class Entry(TypedDict):
    """Entries of one partner tenant."""

    amount: str
    category: str | None
    createdAt: str | None
    createdBy: str | None
    currency: str
    date: str
    description: str
    id: str
    partnerId: str
    reference: str | None
    updatedAt: str | None
    version: int | None


class EntryCreate(TypedDict):
    """A new entry: the fields partners may set, no server's."""

    amount: str
    category: NotRequired[str]
    currency: str
    date: str
    description: str
    reference: NotRequired[str]


class EntryFields(TypedDict):
    """The fields a `fields` query asked for (and `id`)."""

    amount: NotRequired[str]
    category: NotRequired[str | None]
    createdAt: NotRequired[str | None]
    createdBy: NotRequired[str | None]
    currency: NotRequired[str]
    date: NotRequired[str]
    description: NotRequired[str]
    id: str
    partnerId: NotRequired[str]
    reference: NotRequired[str | None]
    updatedAt: NotRequired[str | None]
    version: NotRequired[int | None]


class EntryPage(TypedDict):
    data: list[Entry | EntryFields]
    has_more: bool
    next_cursor: str | None
    skipped: list[str]


class EntryPatch(TypedDict):
    """The fields to change; null clears an optional field."""

    amount: NotRequired[str]
    category: NotRequired[str | None]
    currency: NotRequired[str]
    date: NotRequired[str]
    description: NotRequired[str]
    reference: NotRequired[str | None]


class ErrorBody(TypedDict):
    code: str
    details: NotRequired[list[FieldIssue]]
    message: str
    request_id: str
    status: int


class ErrorEnvelope(TypedDict):
    error: ErrorBody


class Event(TypedDict):
    """One change of one record, as its partner may see it."""

    changed_fields: list[str]
    data: dict[str, Any]
    id: str
    occurred_at: str
    partner_id: str
    record_id: str
    request_id: str | None
    resource: str
    type: str
    version: int | None
    writer: Literal["api", "direct", "app"]


class EventPage(TypedDict):
    data: list[Event]
    has_more: bool
    next_cursor: str | None


class EventTestRequest(TypedDict):
    """A test event to send to an endpoint."""

    resource: NotRequired[Literal["entries"] | None]


class EventTestSent(TypedDict):
    """A test event on its way: signed and delivered as any event, whatever types the endpoint takes; its delivery is listed with the endpoint's. Test events are not kept: they are in no events list and cannot be resent."""

    delivery_id: str
    event_id: str
    type: str


class FieldIssue(TypedDict):
    field: str
    message: str


class NewWebhookEndpoint(TypedDict):
    """A webhook endpoint to create."""

    description: NotRequired[str | None]
    event_types: NotRequired[
        list[Literal["*", "entries.created", "entries.updated", "entries.deleted"]]
    ]
    url: str


class SecretRotation(TypedDict):
    """A new signing secret for an endpoint; the ones in use keep signing for the overlap."""

    overlap_hours: NotRequired[int]


Summary = TypedDict(
    "Summary",
    {
        "entries": "int",
        "from": "str",
        "skipped": "list[str]",
        "to": "str",
        "totals": "list[Total]",
    },
)


class Total(TypedDict):
    amount: str
    category: str | None
    currency: str
    entries: int


class WebhookDeliveryAttemptJson(TypedDict):
    """One try to deliver an event."""

    at: str
    attempt: int
    error: str | None
    latency_ms: float | None
    next_attempt_at: str | None
    status: int | None


class WebhookDeliveryJson(TypedDict):
    """An event's delivery to one endpoint, every attempt in it, oldest first."""

    attempts: list[WebhookDeliveryAttemptJson]
    delivered_at: str | None
    endpoint_id: str
    event_id: str
    id: str
    state: Literal["retrying", "delivered", "abandoned"]
    updated_at: str


class WebhookDeliveryList(TypedDict):
    data: list[WebhookDeliveryJson]


class WebhookEndpointChange(TypedDict):
    """What to change of a webhook endpoint (at least one)."""

    description: NotRequired[str | None]
    event_types: NotRequired[
        list[Literal["*", "entries.created", "entries.updated", "entries.deleted"]] | None
    ]
    status: NotRequired[Literal["enabled", "disabled"] | None]
    url: NotRequired[str | None]


class WebhookEndpointJson(TypedDict):
    """A webhook endpoint on the wire; `secret` only in the answer that creates it."""

    created_at: str
    description: str | None
    disabled_reason: str | None
    event_types: list[str]
    id: str
    secret: NotRequired[str | None]
    status: Literal["enabled", "disabled"]
    updated_at: str
    url: str


class WebhookEndpointList(TypedDict):
    data: list[WebhookEndpointJson]
