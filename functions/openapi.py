"""The OpenAPI 3.1 document of the partner API, generated from the models.

The `openapi` function serves it; `make openapi` (devtools) writes it to `openapi.json`,
and a test keeps the committed file equal to what the code generates.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import BaseModel

from functions.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    StoredEntryInvalid,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.http.parsing import QUERY_PARAMS
from functions.models import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Entry,
    EntryCreate,
    EntryPatch,
)

API_VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    schema.pop("title", None)
    return schema


def _error_response(*errors: type[ApiError]) -> dict[str, Any]:
    description = "; ".join(f"`{e.code}`: {e.default_message}" for e in errors)
    headers: dict[str, Any] = {}
    if any(e is Unauthorized for e in errors):
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
    if any(e is ServiceUnavailable for e in errors):
        headers["Retry-After"] = {"schema": {"type": "integer"}}
    if any(e is MethodNotAllowed for e in errors):
        headers["Allow"] = {"schema": {"type": "string"}}
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(*errors: type[ApiError]) -> dict[str, Any]:
    by_status: dict[int, list[type[ApiError]]] = {}
    common: tuple[type[ApiError], ...] = (
        Unauthorized,
        Forbidden,
        MethodNotAllowed,
        ServiceUnavailable,
    )
    for error in (*common, *errors):
        by_status.setdefault(error.status, []).append(error)
    responses = {str(status): _error_response(*group) for status, group in by_status.items()}
    responses["500"] = _error_response(ApiError)
    return responses


_REQUEST_ID = {
    "X-Request-Id": {
        "description": "Echo of a well-formed incoming X-Request-Id, or a new one.",
        "schema": {"type": "string"},
    }
}
_ETAG = {
    "ETag": {"description": "The entry's version, for If-Match.", "schema": {"type": "string"}}
}
_ENTRY_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The entry id.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"},
}


def _json_body(model: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
    }


def _ok(model: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**_REQUEST_ID, **(headers or {})},
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=model)}}},
    }


def _list_parameters() -> list[dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        },
        "cursor": {"type": "string", "minLength": 1, "maxLength": 2048},
        "dateFrom": {"type": "string", "format": "date"},
        "dateTo": {"type": "string", "format": "date"},
        "category": {"type": "string", "minLength": 1, "maxLength": 64},
        "fields": {"type": "string"},
    }
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": schemas[name],
        }
        for name, text in QUERY_PARAMS.items()
    ]


def build() -> dict[str, Any]:
    """The whole document, deterministic so that it can be compared with the committed one."""
    security: list[dict[str, list[str]]] = [{"partnerApiKey": []}, {"firebaseIdToken": []}]
    error_schema = {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "request_id"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "request_id": {"type": "string"},
                    "details": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "message"],
                            "additionalProperties": False,
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    }
    page_schema = {
        "type": "object",
        "required": ["data", "next_cursor", "has_more", "skipped"],
        "additionalProperties": False,
        "properties": {
            "data": {
                "type": "array",
                "description": "Entries, or only the requested fields of them.",
                "items": {"type": "object", "required": ["id"]},
            },
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
            "skipped": {
                "type": "array",
                "description": (
                    "Ids of stored documents in this page's range that are not valid entries "
                    "(left by another writer): left out of data, never hidden."
                ),
                "items": {"type": "string"},
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Partner API",
            "version": API_VERSION,
            "description": (
                "Entries of one partner tenant. Authenticate with a partner API key, or with "
                "a Firebase ID token of a user that carries the partner claims. Every error "
                "is JSON in one envelope."
            ),
        },
        "servers": [
            {
                "url": "https://{region}-{project}.cloudfunctions.net",
                "variables": {
                    "region": {"default": "us-central1"},
                    "project": {"default": "demo-partner-api"},
                },
            },
            {
                "url": "http://127.0.0.1:5001/{project}/us-central1",
                "description": "Firebase Emulator Suite",
                "variables": {"project": {"default": "demo-partner-api"}},
            },
        ],
        "security": security,
        "paths": {
            "/fetchData": {
                "get": {
                    "operationId": "listEntries",
                    "summary": "A page of the caller's entries, oldest first.",
                    "description": (
                        "Ordered by creation time, or by date then creation time when "
                        "dateFrom or dateTo is given. Pass next_cursor back as cursor."
                    ),
                    "parameters": _list_parameters(),
                    "responses": {
                        "200": _ok("EntryPage", "A page of entries."),
                        **_errors(BadRequest),
                    },
                }
            },
            "/fetchData/{id}": {
                "get": {
                    "operationId": "getEntry",
                    "summary": "One of the caller's entries.",
                    "parameters": [_ENTRY_ID],
                    "responses": {
                        "200": _ok("Entry", "The entry.", _ETAG),
                        **_errors(BadRequest, NotFound, StoredEntryInvalid),
                    },
                }
            },
            "/createEntry": {
                "post": {
                    "operationId": "createEntry",
                    "summary": "Create an entry in the caller's tenant.",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": (
                                "Makes retries safe: the same key and body within the retention "
                                "window return the first result and write nothing."
                            ),
                            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                        }
                    ],
                    "requestBody": _json_body("EntryCreate"),
                    "responses": {
                        "201": _ok("Entry", "The stored entry.", _ETAG),
                        **_errors(
                            BadRequest,
                            Conflict,
                            PayloadTooLarge,
                            UnsupportedMediaType,
                            ValidationFailed,
                        ),
                    },
                }
            },
            "/updateEntry/{id}": {
                "patch": {
                    "operationId": "updateEntry",
                    "summary": "Change some fields of one of the caller's entries.",
                    "parameters": [
                        _ENTRY_ID,
                        {
                            "name": "If-Match",
                            "in": "header",
                            "required": True,
                            "description": (
                                "The ETag (or version) the change is based on. Strong ETags "
                                "only: a weak one (W/...) never matches (412)."
                            ),
                            "schema": {"type": "string"},
                        },
                    ],
                    "requestBody": _json_body("EntryPatch"),
                    "responses": {
                        "200": _ok("Entry", "The updated entry.", _ETAG),
                        **_errors(
                            BadRequest,
                            NotFound,
                            StoredEntryInvalid,
                            PreconditionFailed,
                            PayloadTooLarge,
                            UnsupportedMediaType,
                            ValidationFailed,
                            PreconditionRequired,
                        ),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "partnerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Partner API key (pak_live_... or pak_test_...)",
                    "description": (
                        "A long-lived key for a partner's servers, issued by the app's owner; "
                        "scoped, revocable, optionally expiring. The recommended credential "
                        "for servers."
                    ),
                },
                "firebaseIdToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "Firebase ID token (JWT)",
                    "description": (
                        "The ID token of a partner user, refreshed before its hour ends."
                    ),
                },
            },
            "schemas": {
                "EntryCreate": _schema(EntryCreate),
                "EntryPatch": _schema(EntryPatch),
                "Entry": _schema(Entry, mode="serialization"),
                "EntryPage": page_schema,
                "Error": error_schema,
            },
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    """The document, built once per process (what the functions serve)."""
    return build()


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"
