"""The events part of the document: `/api/v1/events[/{id}]` and the event's schemas."""

from __future__ import annotations

from typing import Any

from functions.contract.catalog import EVENTS_SCOPE
from functions.contract.openapi import parts
from functions.core import config, cursor
from functions.core.errors import (
    BadRequest,
    NotFound,
)
from functions.core.models import (
    EVENTS_MAX_PAGE_SIZE,
    EVENTS_PAGE_SIZE,
    WRITERS,
)
from functions.resources.declaration import Declaration

EVENTS_TAG = "events"


def event_paths(decl: Declaration) -> dict[str, dict[str, Any]]:
    """`/api/v1/events`: the caller's change events, and one of them by id."""
    types = [t for resource in decl.resources for t in resource.event_types]
    security = [{"partnerApiKey": [EVENTS_SCOPE]}, {"firebaseIdToken": [EVENTS_SCOPE]}]
    parameters = [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": "Events per page.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": EVENTS_MAX_PAGE_SIZE,
                "default": EVENTS_PAGE_SIZE,
            },
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "The next_cursor of the previous page.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": cursor.MAX_CHARS,
                "pattern": "^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+$",
            },
        },
        {
            "name": "type",
            "in": "query",
            "required": False,
            "description": "Only events of this type.",
            "schema": {"type": "string", "enum": types},
        },
    ]
    needs = f"Needs the scope `{EVENTS_SCOPE}`."
    return {
        "/api/v1/events": {
            "get": {
                "operationId": "apiListEvents",
                "summary": "The caller's change events, oldest first.",
                "description": (
                    "One event per change of one of the caller's records, whoever made it "
                    "(the API, the app, a partner straight on Firestore), kept for "
                    f"{config.DEFAULT_EVENTS_RETENTION_DAYS} days by default. " + needs
                ),
                "tags": [EVENTS_TAG],
                "security": security,
                "parameters": parameters,
                "responses": {
                    "200": parts.ok("EventPage", "A page of events."),
                    **parts.errors(BadRequest),
                },
            }
        },
        "/api/v1/events/{id}": {
            "get": {
                "operationId": "apiGetEvent",
                "summary": "One of the caller's change events.",
                "description": needs,
                "tags": [EVENTS_TAG],
                "security": security,
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "The event id.",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    }
                ],
                "responses": {
                    "200": parts.ok("Event", "The event."),
                    **parts.errors(BadRequest, NotFound),
                },
            }
        },
    }


EVENT_SCHEMAS: dict[str, Any] = {
    "Event": {
        "type": "object",
        "description": "One change of one record, as its partner may see it.",
        "required": [
            "id",
            "type",
            "partner_id",
            "resource",
            "record_id",
            "version",
            "data",
            "changed_fields",
            "occurred_at",
            "writer",
            "request_id",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "examples": ["evt_4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a"]},
            "type": {"type": "string", "examples": ["entries.created"]},
            "partner_id": {"type": "string", "examples": ["example-partner"]},
            "resource": {"type": "string", "examples": ["entries"]},
            "record_id": {"type": "string", "examples": ["Xf3kT9aQ2Lm0PzR8wB1c"]},
            "version": {
                "type": ["integer", "null"],
                "description": "The record's version after the change, where it keeps one.",
            },
            "data": {
                "type": "object",
                "description": (
                    "The record's partner-visible fields after the change (before it, for "
                    "a deletion); never a hidden field."
                ),
            },
            "changed_fields": {
                "type": "array",
                "description": "The partner-visible fields the change set or removed.",
                "items": {"type": "string"},
            },
            "occurred_at": {"type": "string", "format": "date-time"},
            "writer": {
                "type": "string",
                "enum": list(WRITERS),
                "description": (
                    "Who changed it: `api` (this API), `direct` (a partner straight on "
                    "Firestore), `app` (the app's owner)."
                ),
            },
            "request_id": {
                "type": ["string", "null"],
                "description": "The API request that made the change.",
            },
        },
    },
    "EventPage": {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": parts.ref("Event")},
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
        },
    },
}
