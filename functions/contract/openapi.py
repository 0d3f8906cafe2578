"""The OpenAPI 3.1 document of the partner API, generated from the declaration.

Every declared resource gets typed schemas (create, patch, record, page) and its
operations under `/api/v1/<resource>`; the `entries` resource also keeps its first URLs
(`fetchData`, `createEntry`, `updateEntry`). The `openapi` function serves the document;
`make generate` writes it to `openapi.json`, and a test keeps the file equal to it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from functions.contract import catalog, webhook_models
from functions.contract.catalog import BODY_METHODS, EVENTS_SCOPE, WEBHOOKS_SCOPE, OwnerEndpoint
from functions.core import config, cursor
from functions.core.errors import (
    ApiError,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PartnerSuspended,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    QuotaExceeded,
    RateLimited,
    ServiceUnavailable,
    StoredEntryInvalid,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.core.models import (
    ALL_EVENTS,
    ENTRY_ID_CHARS,
    EVENTS_MAX_PAGE_SIZE,
    EVENTS_PAGE_SIZE,
    IDEMPOTENCY_KEY_PATTERN,
    WRITERS,
)
from functions.resources import declaration, kinds
from functions.resources.declaration import Declaration, Resource

API_VERSION = "1.0.0"
DEFAULT_PROJECT = "demo-partner-api"
_REF = "#/components/schemas/{model}"


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
        "content": {"application/json": {"schema": _ref(ENVELOPE)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(*errors: type[ApiError]) -> dict[str, Any]:
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


_REQUEST_ID = {
    "X-Request-Id": {
        "description": "Echo of a well-formed incoming X-Request-Id, or a new one.",
        "schema": {"type": "string"},
    }
}
_ETAG = {
    "ETag": {
        "description": (
            'The record\'s revision, for If-Match: its version ("3"), or for a record '
            'stored without one an opaque "w..." that changes with every write.'
        ),
        "schema": {"type": "string"},
    }
}
_NULL = {"type": "null"}


def _title(resource: Resource) -> str:
    return "".join(word.title() for word in resource.item.split())


def _ref(model: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=model)}


def _id_parameter(resource: Resource) -> dict[str, Any]:
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


def _json_body(model: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


_RATE_LIMIT = {
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


def _ok(model: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**_REQUEST_ID, **_RATE_LIMIT, **(headers or {})},
        "content": {"application/json": {"schema": _ref(model)}},
    }


def _fields_pattern(resource: Resource) -> str:
    names = "(" + "|".join(resource.wire_fields) + ")"
    return f"^ *{names} *(, *{names} *)*$"


def _list_parameters(resource: Resource) -> list[dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": resource.max_page_size,
            "default": resource.page_size,
        },
        "cursor": {
            "type": "string",
            "minLength": 1,
            "maxLength": cursor.MAX_CHARS,
            "pattern": "^[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+$",
        },
        "fields": {"type": "string", "pattern": _fields_pattern(resource)},
    }
    for name in resource.ranges:
        schemas[f"{name}From"] = schemas[f"{name}To"] = kinds.query_schema(resource.field(name))
    for name in resource.filters:
        schemas[name] = kinds.query_schema(resource.field(name))
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": text,
            "schema": schemas[name],
        }
        for name, text in resource.query_params().items()
    ]


def _if_match() -> dict[str, Any]:
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


def _idempotency_key() -> dict[str, Any]:
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


def _operations(resource: Resource, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The operations of one resource, keyed by operation name, with the given ids."""
    title, items, item = _title(resource), resource.name, resource.item
    found: dict[str, dict[str, Any]] = {}
    if "list" in resource.operations:
        found["list"] = {
            "operationId": ids["list"],
            "summary": f"A page of the caller's {items}, {_order_words(resource)[0]}.",
            "description": (
                f"Ordered by {_order_words(resource)[1]}; by the bounded field first when a "
                "range (…From, …To) is given. Pass next_cursor back as cursor."
            ),
            "parameters": _list_parameters(resource),
            "responses": {"200": _ok(f"{title}Page", f"A page of {items}."), **_errors(BadRequest)},
        }
    if "get" in resource.operations:
        found["get"] = {
            "operationId": ids["get"],
            "summary": f"One of the caller's {items}.",
            "parameters": [_id_parameter(resource)],
            "responses": {
                "200": _ok(title, f"The {item}.", _ETAG),
                **_errors(BadRequest, NotFound, StoredEntryInvalid),
            },
        }
    if "create" in resource.operations:
        found["create"] = {
            "operationId": ids["create"],
            "summary": f"Create {_a(item)} in the caller's tenant.",
            "parameters": [_idempotency_key()],
            "requestBody": _json_body(f"{title}Create"),
            "responses": {
                "201": _ok(title, f"The stored {item}.", _ETAG),
                **_errors(
                    BadRequest,
                    Conflict,
                    PayloadTooLarge,
                    UnsupportedMediaType,
                    ValidationFailed,
                    QuotaExceeded,
                ),
            },
        }
    if "update" in resource.operations:
        found["update"] = {
            "operationId": ids["update"],
            "summary": f"Change some fields of one of the caller's {items}.",
            "parameters": [_id_parameter(resource), _if_match()],
            "requestBody": _json_body(f"{title}Patch"),
            "responses": {
                "200": _ok(title, f"The updated {item}.", _ETAG),
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
    return found


def _order_words(resource: Resource) -> tuple[str, str]:
    """How a list is ordered: for its summary, and what it is ordered by."""
    order = resource.order_field
    if order is None:
        return "in order of id", "id"
    if order == resource.bookkeeping.created_at:
        return "oldest first", "creation time, then id"
    return f"in order of {order}, then id", f"{order}, then id"


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


FIRST_URLS_TAG = "entries: first urls"


def _tags(decl: Declaration) -> list[dict[str, str]]:
    """Operations grouped by resource, `/api/v1` first; the first URLs last, as such."""
    tags = [
        {"name": r.name, "description": r.description or f"{r.name} under /api/v1"}
        for r in decl.resources
    ]
    if decl.get("entries") is not None:
        tags.append(
            {
                "name": FIRST_URLS_TAG,
                "description": (
                    "The entries operations at the URLs partners integrated with first "
                    "(fetchData, createEntry, updateEntry): the same as /api/v1/entries."
                ),
            }
        )
    return tags


def _tagged(operations: dict[str, dict[str, Any]], tag: str) -> dict[str, dict[str, Any]]:
    return {name: {**operation, "tags": [tag]} for name, operation in operations.items()}


def _paths(decl: Declaration) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    entries = decl.get("entries")
    if entries is not None:  # the first URLs partners integrated with
        names = {"list": "listEntries", "get": "getEntry", "create": "createEntry"}
        legacy = _tagged(_operations(entries, {**names, "update": "updateEntry"}), FIRST_URLS_TAG)
        for path, method, op in (
            ("/fetchData", "get", "list"),
            ("/fetchData/{id}", "get", "get"),
            ("/createEntry", "post", "create"),
            ("/updateEntry/{id}", "patch", "update"),
        ):
            if op in legacy:
                paths.setdefault(path, {})[method] = legacy[op]
    for resource in decl.resources:
        plural = "".join(word.title() for word in resource.name.split("-"))
        single = _title(resource)
        ops = _tagged(
            _operations(
                resource,
                {
                    "list": f"apiList{plural}",
                    "get": f"apiGet{single}",
                    "create": f"apiCreate{single}",
                    "update": f"apiUpdate{single}",
                },
            ),
            resource.name,
        )
        collection, item = f"/api/v1/{resource.name}", f"/api/v1/{resource.name}/{{id}}"
        for path, method, op in (
            (collection, "get", "list"),
            (collection, "post", "create"),
            (item, "get", "get"),
            (item, "patch", "update"),
        ):
            if op in ops:
                paths.setdefault(path, {})[method] = ops[op]
    return paths


OWNER_TAG_DESCRIPTION = "Operations of this app's own, behind the same gate as the rest."


def _owner_paths(
    endpoints: Sequence[OwnerEndpoint], schemas: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The owner's endpoints at `/<function name>`, their models added to `schemas`.

    Raises: ConfigurationError when a model's name is taken by another schema.
    """
    wanted: list[tuple[Any, Any]] = []
    for endpoint in endpoints:
        wanted.append((endpoint.response, "serialization"))
        if endpoint.body is not None:
            wanted.append((endpoint.body, "validation"))
    if not wanted:
        return {}
    refs, definitions = models_json_schema(wanted, ref_template=_REF)
    for name, schema in definitions.get("$defs", {}).items():
        if name in schemas:
            raise ConfigurationError(
                f"the model name {name!r} is taken by the declaration's schemas; rename it"
            )
        schemas[name] = schema
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operations = paths.setdefault(f"/{endpoint.name}", {})
        for method in endpoint.methods:
            operations[method.lower()] = _owner_operation(endpoint, method, refs)
    return paths


def _owner_operation(
    endpoint: OwnerEndpoint, method: str, refs: dict[tuple[Any, Any], Any]
) -> dict[str, Any]:
    scopes = sorted(endpoint.scopes)
    needs = ", ".join(f"`{scope}`" for scope in scopes)
    description = f"{endpoint.description}\n\nNeeds the scope(s) {needs}.".strip()
    errors: list[type[ApiError]] = [BadRequest, NotFound, ValidationFailed]
    parameters = _query_parameters(endpoint.query)
    operation: dict[str, Any] = {
        "operationId": endpoint.name
        if len(endpoint.methods) == 1
        else f"{endpoint.name}{method.title()}",
        "summary": endpoint.summary or endpoint.name,
        "description": description,
        "tags": [endpoint.tag],
        "security": [{"partnerApiKey": scopes}, {"firebaseIdToken": scopes}],
    }
    changes = method in BODY_METHODS
    if endpoint.body is not None and changes:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(endpoint.body, "validation")]}},
        }
        errors += [PayloadTooLarge, UnsupportedMediaType]
    headers: dict[str, Any] = {}
    if endpoint.idempotent and changes:
        parameters.append(_idempotency_key())
        headers["Idempotent-Replayed"] = {
            "description": "`true` when the answer is a replay of the key's first one.",
            "schema": {"type": "string", "enum": ["true"]},
        }
        errors.append(Conflict)
    if endpoint.creates:
        errors.append(QuotaExceeded)
    if parameters:
        operation["parameters"] = parameters
    answer = refs[(endpoint.response, "serialization")]
    operation["responses"] = {
        str(endpoint.status): {
            "description": endpoint.summary or "The answer.",
            "headers": {**_REQUEST_ID, **_RATE_LIMIT, **headers},
            "content": {"application/json": {"schema": answer}},
        },
        **_errors(*dict.fromkeys([*errors, *endpoint.errors])),
    }
    return operation


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
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


EVENTS_TAG = "events"


def _event_paths(decl: Declaration) -> dict[str, dict[str, Any]]:
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
                    "200": _ok("EventPage", "A page of events."),
                    **_errors(BadRequest),
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
                    "200": _ok("Event", "The event."),
                    **_errors(BadRequest, NotFound),
                },
            }
        },
    }


WEBHOOKS_TAG = "webhook endpoints"


def _webhook_paths(decl: Declaration, schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`/api/v1/webhook_endpoints[/{id}]` and `/api/v1/webhook_deliveries[/{id}]`, their
    models added to `schemas`."""
    refs, definitions = models_json_schema(
        [
            (webhook_models.NewWebhookEndpoint, "validation"),
            (webhook_models.WebhookEndpointChange, "validation"),
            (webhook_models.WebhookEndpointJson, "serialization"),
            (webhook_models.WebhookEndpointList, "serialization"),
            (webhook_models.Deleted, "serialization"),
            (webhook_models.WebhookDeliveryJson, "serialization"),
            (webhook_models.WebhookDeliveryList, "serialization"),
        ],
        ref_template=_REF,
    )
    choices = [ALL_EVENTS, *(t for r in decl.resources for t in r.event_types)]
    for name, schema in definitions.get("$defs", {}).items():
        for field in ("url", "event_types"):
            prop = schema.get("properties", {}).get(field)
            if prop is None or name == "WebhookEndpointJson":
                continue
            plain = next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)
            if field == "url":
                plain["pattern"] = "^https?://[^/?#@]+"
            else:
                plain["items"] = {"type": "string", "enum": choices}
        schemas[name] = schema
    security = [{"partnerApiKey": [WEBHOOKS_SCOPE]}, {"firebaseIdToken": [WEBHOOKS_SCOPE]}]
    needs = f"Needs the scope `{WEBHOOKS_SCOPE}`."
    id_parameter = {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "The webhook endpoint's id.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    }

    def operation(operation_id: str, summary: str, **rest: Any) -> dict[str, Any]:
        return {
            "operationId": operation_id,
            "summary": summary,
            "description": needs,
            "tags": [WEBHOOKS_TAG],
            "security": security,
            **rest,
        }

    def body(model: type[Any]) -> dict[str, Any]:
        return {
            "required": True,
            "content": {"application/json": {"schema": refs[(model, "validation")]}},
        }

    def answer(model: type[Any], text: str) -> dict[str, Any]:
        return {
            "description": text,
            "headers": {**_REQUEST_ID, **_RATE_LIMIT},
            "content": {"application/json": {"schema": refs[(model, "serialization")]}},
        }

    writes = (PayloadTooLarge, UnsupportedMediaType, ValidationFailed)
    delivery_id = {
        **id_parameter,
        "description": "The delivery's id (`dlv_...`).",
        "schema": {"type": "string", "pattern": "^dlv_[0-9a-f]{32}$"},
    }
    return {
        "/api/v1/webhook_endpoints": {
            "get": operation(
                "apiListWebhookEndpoints",
                "The caller's webhook endpoints (never their secrets).",
                responses={
                    "200": answer(webhook_models.WebhookEndpointList, "The endpoints."),
                    **_errors(BadRequest),
                },
            ),
            "post": operation(
                "apiCreateWebhookEndpoint",
                "Register a webhook endpoint; the answer holds its signing secret, once.",
                requestBody=body(webhook_models.NewWebhookEndpoint),
                responses={
                    "201": answer(webhook_models.WebhookEndpointJson, "The new endpoint."),
                    **_errors(BadRequest, Conflict, *writes),
                },
            ),
        },
        "/api/v1/webhook_endpoints/{id}": {
            "get": operation(
                "apiGetWebhookEndpoint",
                "One of the caller's webhook endpoints.",
                parameters=[id_parameter],
                responses={
                    "200": answer(webhook_models.WebhookEndpointJson, "The endpoint."),
                    **_errors(BadRequest, NotFound),
                },
            ),
            "patch": operation(
                "apiUpdateWebhookEndpoint",
                "Change a webhook endpoint: its URL, event types, status or description.",
                parameters=[id_parameter],
                requestBody=body(webhook_models.WebhookEndpointChange),
                responses={
                    "200": answer(webhook_models.WebhookEndpointJson, "The changed endpoint."),
                    **_errors(BadRequest, NotFound, Conflict, *writes),
                },
            ),
            "delete": operation(
                "apiDeleteWebhookEndpoint",
                "Delete a webhook endpoint: nothing more is delivered to it.",
                parameters=[id_parameter],
                responses={
                    "200": answer(webhook_models.Deleted, "Deleted."),
                    **_errors(BadRequest, NotFound, Conflict),
                },
            ),
        },
        "/api/v1/webhook_deliveries": {
            "get": operation(
                "apiListWebhookDeliveries",
                "One endpoint's latest deliveries, newest first, every attempt in each "
                "(time, status, latency, error, next attempt).",
                parameters=_query_parameters(webhook_models.WebhookDeliveriesQuery),
                responses={
                    "200": answer(webhook_models.WebhookDeliveryList, "The deliveries."),
                    **_errors(BadRequest, NotFound, ValidationFailed),
                },
            )
        },
        "/api/v1/webhook_deliveries/{id}": {
            "get": operation(
                "apiGetWebhookDelivery",
                "One delivery of an event to one of the caller's endpoints.",
                parameters=[delivery_id],
                responses={
                    "200": answer(webhook_models.WebhookDeliveryJson, "The delivery."),
                    **_errors(BadRequest, NotFound),
                },
            )
        },
    }


_EVENT_SCHEMAS: dict[str, Any] = {
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
            "data": {"type": "array", "items": _ref("Event")},
            "next_cursor": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
        },
    },
}


def _value(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    return {"anyOf": [schema, _NULL]} if nullable else schema


def _schemas(resource: Resource) -> dict[str, Any]:
    title = _title(resource)
    creatable = [s for s in resource.fields if s.creatable]
    updatable = [s for s in resource.fields if s.updatable]
    readable = [s for s in resource.fields if s.readable]
    system: dict[str, Any] = {
        "id": {
            "type": "string",
            "description": "Server-assigned id.",
            "examples": ["Xf3kT9aQ2Lm0PzR8wB1c"],
        },
        resource.tenant_field: {
            "type": "string",
            "description": "The tenant that owns it.",
            "examples": ["example-partner"],
        },
    }
    book = resource.bookkeeping
    absent = " Null where another writer stored the record without it."
    bookkeeping: dict[str | None, dict[str, Any]] = {
        book.created_at: {
            "type": "string",
            "format": "date-time",
            "description": "When created (UTC).",
            "examples": ["2026-03-31T09:15:00.000000Z"],
        },
        book.updated_at: {
            "type": "string",
            "format": "date-time",
            "description": "When last changed through the API (UTC).",
            "examples": ["2026-04-02T16:40:12.250000Z"],
        },
        book.created_by: {
            "type": "string",
            "description": "The uid (or key id) that created it.",
            "examples": ["key:0123456789abcdef"],
        },
        book.version: {
            "type": "integer",
            "minimum": 1,
            "description": "+1 on every update; the ETag.",
            "examples": [1],
        },
    }
    record_properties = {
        **system,
        **{s.name: _value(kinds.json_schema(s), not s.required or s.server_set) for s in readable},
        **{
            name: {"anyOf": [schema, _NULL], "description": schema.pop("description") + absent}
            for name, schema in bookkeeping.items()
            if name is not None
        },
    }
    record = {
        "type": "object",
        "description": resource.description or f"{_a(resource.item).capitalize()}.",
        "required": list(resource.wire_fields),
        "additionalProperties": False,
        "properties": record_properties,
    }
    projection = {
        **record,
        "required": ["id"],
        "description": "The fields a `fields` query asked for (and `id`).",
    }
    return {
        f"{title}Create": {
            "type": "object",
            "description": f"A new {resource.item}: the fields partners may set, no server's.",
            "required": [s.name for s in creatable if s.required],
            "additionalProperties": False,
            "properties": {s.name: kinds.json_schema(s) for s in creatable},
        },
        f"{title}Patch": {
            "type": "object",
            "description": "The fields to change; null clears an optional field.",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {s.name: _value(kinds.json_schema(s), not s.required) for s in updatable},
        },
        title: record,
        f"{title}Fields": projection,
        f"{title}Page": {
            "type": "object",
            "required": ["data", "next_cursor", "has_more", "skipped"],
            "additionalProperties": False,
            "properties": {
                "data": {
                    "type": "array",
                    "description": f"Whole {resource.name}, or with `fields` the fields asked for.",
                    "items": {"anyOf": [_ref(title), _ref(f"{title}Fields")]},
                },
                "next_cursor": {"type": ["string", "null"], "examples": [None]},
                "has_more": {"type": "boolean"},
                "skipped": {
                    "type": "array",
                    "description": (
                        "Ids of stored documents in this page's range that are not valid "
                        "records (left by another writer): left out of data, never hidden."
                    ),
                    "items": {"type": "string"},
                },
            },
        },
    }


ENVELOPE = "ErrorEnvelope"
"""Every error's body. (Named apart from its `error` member, so that generated clients do
not meet a class `Error` with an attribute `error`.)"""
_ERROR_SCHEMAS: dict[str, Any] = {
    ENVELOPE: {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {"error": {"$ref": _REF.format(model="ErrorBody")}},
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
            "details": {"type": "array", "items": {"$ref": _REF.format(model="FieldIssue")}},
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


def build(
    decl: Declaration | None = None,
    *,
    project: str = DEFAULT_PROJECT,
    region: str = config.DEFAULT_REGION,
    endpoints: Sequence[OwnerEndpoint] | None = None,
) -> dict[str, Any]:
    """The whole document, deterministic so that it can be compared with the committed one
    (which names the demo project; the served one names the project that serves it).
    `endpoints`: the owner's own (by default every registered one)."""
    decl = decl or declaration.current()
    owned = catalog.registered() if endpoints is None else tuple(endpoints)
    security: list[dict[str, list[str]]] = [{"partnerApiKey": []}, {"firebaseIdToken": []}]
    schemas: dict[str, Any] = {}
    for resource in decl.resources:
        schemas.update(_schemas(resource))
    schemas.update(_EVENT_SCHEMAS)
    schemas.update(_ERROR_SCHEMAS)
    paths = {
        **_paths(decl),
        **_event_paths(decl),
        **_webhook_paths(decl, schemas),
        **_owner_paths(owned, schemas),
    }
    tags = _tags(decl)
    tags.append({"name": EVENTS_TAG, "description": "Changes of the caller's records."})
    tags.append({"name": WEBHOOKS_TAG, "description": "Where the caller's events are sent."})
    for tag in dict.fromkeys(endpoint.tag for endpoint in owned):
        tags.append({"name": tag, "description": OWNER_TAG_DESCRIPTION})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Partner API",
            "version": API_VERSION,
            "description": (
                "The records of one partner tenant: "
                + ", ".join(r.name for r in decl.resources)
                + ". Authenticate with a partner API key, or with a Firebase ID token of a "
                "user that carries the partner claims. Every error is JSON in one envelope."
            ),
        },
        "servers": [
            {
                "url": "https://{region}-{project}.cloudfunctions.net",
                "variables": {"region": {"default": region}, "project": {"default": project}},
            },
            {
                "url": "http://127.0.0.1:5001/{project}/{region}",
                "description": "Firebase Emulator Suite",
                "variables": {"region": {"default": region}, "project": {"default": project}},
            },
        ],
        "tags": tags,
        "security": security,
        "paths": paths,
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
            "schemas": schemas,
        },
    }


def document() -> dict[str, Any]:
    """The document of the served declaration, for the project and region that serve it,
    built once (what the functions serve)."""
    try:
        project = config.project_id()
    except ConfigurationError:
        project = DEFAULT_PROJECT
    return _document_of(
        declaration.current(), project, config.function_region(), catalog.registered()
    )


@functools.cache
def _document_of(
    decl: Declaration, project: str, region: str, endpoints: tuple[OwnerEndpoint, ...]
) -> dict[str, Any]:
    return build(decl, project=project, region=region, endpoints=endpoints)


def render(
    decl: Declaration | None = None, endpoints: Sequence[OwnerEndpoint] | None = None
) -> str:
    return json.dumps(build(decl, endpoints=endpoints), indent=2, sort_keys=True) + "\n"
