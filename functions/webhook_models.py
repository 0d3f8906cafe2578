"""The wire shapes of webhook endpoints, as pydantic models: the API parses and answers
with them, and the OpenAPI document is built from the same models."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.models import ALL_EVENTS

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
        default=None, description="The signing secret (whsec_...): shown once, at creation."
    )


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointJson]


class Deleted(BaseModel):
    id: str
    deleted: Literal[True]
