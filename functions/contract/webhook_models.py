"""The wire shapes of webhook endpoints, as pydantic models: the API parses and answers
with them, and the OpenAPI document is built from the same models."""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.core.models import ALL_EVENTS, MAX_DELIVERIES_LISTED, Delivery, rfc3339

MAX_URL_CHARS: Final = 2048
MAX_DESCRIPTION_CHARS: Final = 200


class NewWebhookEndpoint(BaseModel):
    """A webhook endpoint to create."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=MAX_URL_CHARS,
        description="Where events are POSTed: https, a public address.",
        examples=["https://partner.example.com/webhooks/accounting"],
    )
    event_types: list[str] = Field(
        default=[ALL_EVENTS],
        min_length=1,
        description="The event types to deliver; `*` for all.",
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)


class WebhookEndpointChange(BaseModel):
    """What to change of a webhook endpoint (at least one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    event_types: list[str] | None = Field(default=None, min_length=1)
    status: Literal["enabled", "disabled"] | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)


class WebhookEndpointJson(BaseModel):
    """A webhook endpoint on the wire; `secret` only in the answer that creates it."""

    id: str
    url: str
    event_types: list[str]
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    description: str | None
    created_at: str
    updated_at: str
    secret: str | None = Field(
        default=None,
        description="The signing secret (whsec_...): shown once, at creation or rotation.",
    )


MAX_OVERLAP_HOURS: Final = 168
"""How long an old signing secret may keep signing after a rotation: a week at most."""


class SecretRotation(BaseModel):
    """A new signing secret for an endpoint; the ones in use keep signing for the overlap."""

    model_config = ConfigDict(extra="forbid")

    overlap_hours: int = Field(
        default=24,
        ge=0,
        le=MAX_OVERLAP_HOURS,
        description="How long the secrets in use keep signing beside the new one (0: stop "
        "at once).",
    )


class EventTestRequest(BaseModel):
    """A test event to send to an endpoint."""

    model_config = ConfigDict(extra="forbid")

    resource: str | None = Field(
        default=None,
        description="The resource the test event is about (its type is `<resource>.test`); "
        "default: the first declared.",
    )


class EventTestSent(BaseModel):
    """A test event on its way: signed and delivered as any event, whatever types the
    endpoint takes; its delivery is listed with the endpoint's. Test events are not kept:
    they are in no events list and cannot be resent."""

    event_id: str
    type: str
    delivery_id: str


class DeliveryResent(BaseModel):
    """One more attempt of a delivery, on its way (recorded in the same delivery)."""

    id: str
    resent: Literal[True]


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointJson]


class Deleted(BaseModel):
    id: str
    deleted: Literal[True]


class WebhookDeliveryAttemptJson(BaseModel):
    """One try to deliver an event."""

    at: str
    attempt: int = Field(description="The queue's retry count: 0 for the first try.")
    status: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    latency_ms: float | None
    error: str | None = Field(description="Why the try failed; null when it succeeded.")
    next_attempt_at: str | None = Field(
        description="When the queue tries again; null when it will not."
    )


class WebhookDeliveryJson(BaseModel):
    """An event's delivery to one endpoint, every attempt in it, oldest first."""

    id: str
    event_id: str
    endpoint_id: str
    state: Literal["retrying", "delivered", "abandoned"]
    delivered_at: str | None
    updated_at: str
    attempts: list[WebhookDeliveryAttemptJson]

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDeliveryJson:
        def when(moment: dt.datetime | None) -> str | None:
            return None if moment is None else rfc3339(moment)

        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            endpoint_id=delivery.endpoint_id,
            state=delivery.state,  # type: ignore[arg-type]  # one of DELIVERY_STATES
            delivered_at=when(delivery.delivered_at),
            updated_at=rfc3339(delivery.updated_at),
            attempts=[
                WebhookDeliveryAttemptJson(
                    at=rfc3339(a.at),
                    attempt=a.attempt,
                    status=a.status,
                    latency_ms=a.latency_ms,
                    error=a.error,
                    next_attempt_at=when(a.next_attempt_at),
                )
                for a in delivery.attempts
            ],
        )


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDeliveryJson]


class WebhookDeliveriesQuery(BaseModel):
    """Which deliveries to list: one endpoint's, the latest `limit`."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The webhook endpoint's id."
    )
    limit: int = Field(default=20, ge=1, le=MAX_DELIVERIES_LISTED)
