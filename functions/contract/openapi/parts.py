"""What every part of the document shares: error responses by status, the headers
every answer carries, common parameters, and the error envelope's schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from functions.core.errors import (
    ApiError,
    Forbidden,
    MethodNotAllowed,
    PartnerSuspended,
    QuotaExceeded,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from functions.core.models import (
    ENTRY_ID_CHARS,
    IDEMPOTENCY_KEY_PATTERN,
)
from functions.resources.declaration import Resource

REF = "#/components/schemas/{model}"


def _error_response(*errors: type[ApiError]) -> dict[str, Any]:
    description = "; ".join(f"`{e.code}`: {e.default_message}" for e in errors)
    headers: dict[str, Any] = {}
    if any(e is Unauthorized for e in errors):
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
    if any(e in (ServiceUnavailable, RateLimited, QuotaExceeded) for e in errors):
        headers["Retry-After"] = {"schema": {"type": "integer"}}
    if any(e is MethodNotAllowed for e in errors):
        headers["Allow"] = {"schema": {"type": "string"}}
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref(ENVELOPE)}},
    }
    if headers:
        response["headers"] = headers
    return response


def errors(*errors: type[ApiError]) -> dict[str, Any]:
    by_status: dict[int, list[type[ApiError]]] = {}
    common: tuple[type[ApiError], ...] = (
        Unauthorized,
        Forbidden,
        PartnerSuspended,
        MethodNotAllowed,
        RateLimited,
        ServiceUnavailable,
    )
    for error in (*common, *errors):
        by_status.setdefault(error.status, []).append(error)
    responses = {str(status): _error_response(*group) for status, group in by_status.items()}
    responses["431"] = {
        "description": (
            "The request line or headers are too large: refused by the web server in front "
            "of the functions before any of them runs, so not in the JSON envelope."
        )
    }
    responses["500"] = _error_response(ApiError)
    return responses


REQUEST_ID = {
    "X-Request-Id": {
        "description": "Echo of a well-formed incoming X-Request-Id, or a new one.",
        "schema": {"type": "string"},
    }
}


ETAG = {
    "ETag": {
        "description": (
            'The record\'s revision, for If-Match: its version ("3"), or for a record '
            'stored without one an opaque "w..." that changes with every write.'
        ),
        "schema": {"type": "string"},
    }
}


NULL = {"type": "null"}


def title(resource: Resource) -> str:
    return "".join(word.title() for word in resource.item.split())


def ref(model: str) -> dict[str, str]:
    return {"$ref": REF.format(model=model)}


def id_parameter(resource: Resource) -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": f"The {resource.item} id.",
        "schema": {
            "type": "string",
            "pattern": f"^{ENTRY_ID_CHARS}$",
            "examples": ["Xf3kT9aQ2Lm0PzR8wB1c"],
        },
    }


def json_body(model: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


RATE_LIMIT = {
    "RateLimit-Policy": {
        "description": (
            'The partner\'s limits: `"partner";q=BURST;w=SECONDS_TO_REFILL`, and on creates '
            '`"creates";q=DAILY_QUOTA;w=86400` (draft-ietf-httpapi-ratelimit-headers).'
        ),
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "What is left (r) and seconds until full (t), per policy.",
        "schema": {"type": "string"},
    },
}


def ok(model: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**REQUEST_ID, **RATE_LIMIT, **(headers or {})},
        "content": {"application/json": {"schema": ref(model)}},
    }


def if_match() -> dict[str, Any]:
    return {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": (
            'The ETag the change is based on, as read ("3", or "w..." for a record '
            "stored without a version), or a bare version number. Strong ETags only: a "
            "weak one (W/...) never matches (412)."
        ),
        "schema": {
            "type": "string",
            "pattern": '^"?([0-9]{1,12}|w[0-9]{1,21})"?$',
            "examples": ['"3"'],
        },
    }


def idempotency_key() -> dict[str, Any]:
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "Makes retries safe: the same key and body within the retention window return "
            "the first result and write nothing."
        ),
        "schema": {
            "type": "string",
            "pattern": f"^{IDEMPOTENCY_KEY_PATTERN.pattern}$",
            "examples": ["order-2026-0042"],
        },
    }


def a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI query parameters."""
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    parameters = []
    for name, given in schema.get("properties", {}).items():
        prop = {k: v for k, v in given.items() if k != "title"}
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameters.append(parameter)
    return parameters


def value(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    return {"anyOf": [schema, NULL]} if nullable else schema


ENVELOPE = "ErrorEnvelope"
"""Every error's body. (Named apart from its `error` member, so that generated clients do
not meet a class `Error` with an attribute `error`.)"""


ERROR_SCHEMAS: dict[str, Any] = {
    ENVELOPE: {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {"error": {"$ref": REF.format(model="ErrorBody")}},
    },
    "ErrorBody": {
        "type": "object",
        "required": ["status", "code", "message", "request_id"],
        "additionalProperties": False,
        "properties": {
            "status": {"type": "integer", "examples": [422]},
            "code": {"type": "string", "examples": ["validation_failed"]},
            "message": {"type": "string", "examples": ["Some fields are invalid."]},
            "request_id": {"type": "string", "examples": ["5f0c9a7e2b8d4c1e9f3a6b7c8d9e0f1a"]},
            "details": {"type": "array", "items": {"$ref": REF.format(model="FieldIssue")}},
        },
    },
    "FieldIssue": {
        "type": "object",
        "required": ["field", "message"],
        "additionalProperties": False,
        "properties": {
            "field": {"type": "string", "examples": ["amount"]},
            "message": {"type": "string", "examples": ["is required"]},
        },
    },
}
