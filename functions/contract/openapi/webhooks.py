"""Partners' webhook endpoints and deliveries: `/api/v1/webhook_endpoints[/{id}]` and
`/api/v1/webhook_deliveries[/{id}]`, generated from a table of their operations and
their pydantic models (`functions.contract.webhook_models`), which the API itself parses
and answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from functions.contract import webhook_models as models
from functions.contract.catalog import WEBHOOKS_SCOPE
from functions.contract.openapi import parts
from functions.core.errors import (
    ApiError,
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.core.models import ALL_EVENTS
from functions.resources.declaration import Declaration

WEBHOOKS_TAG = "webhook endpoints"
ENDPOINTS: Final = "/api/v1/webhook_endpoints"
DELIVERIES: Final = "/api/v1/webhook_deliveries"
_WRITES: Final = (PayloadTooLarge, UnsupportedMediaType, ValidationFailed)
_ENDPOINT_ID: Final = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The webhook endpoint's id.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}
_DELIVERY_ID: Final = {
    **_ENDPOINT_ID,
    "description": "The delivery's id (`dlv_...`).",
    "schema": {"type": "string", "pattern": "^dlv_[0-9a-f]{32}$"},
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: where, what it is, the models it reads and answers with, and the
    errors it may answer besides the ones every call may."""

    path: str
    method: str
    operation_id: str
    summary: str
    answer: type[BaseModel]
    answered: str
    status: str = "200"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[type[ApiError], ...] = (BadRequest,)
    parameter: dict[str, Any] | None = None


OPERATIONS: Final = (
    Operation(
        ENDPOINTS,
        "get",
        "apiListWebhookEndpoints",
        "The caller's webhook endpoints (never their secrets).",
        models.WebhookEndpointList,
        "The endpoints.",
    ),
    Operation(
        ENDPOINTS,
        "post",
        "apiCreateWebhookEndpoint",
        "Register a webhook endpoint; the answer holds its signing secret, once.",
        models.WebhookEndpointJson,
        "The new endpoint.",
        status="201",
        body=models.NewWebhookEndpoint,
        errors=(BadRequest, Conflict, *_WRITES),
    ),
    Operation(
        f"{ENDPOINTS}/{{id}}",
        "get",
        "apiGetWebhookEndpoint",
        "One of the caller's webhook endpoints.",
        models.WebhookEndpointJson,
        "The endpoint.",
        errors=(BadRequest, NotFound),
        parameter=_ENDPOINT_ID,
    ),
    Operation(
        f"{ENDPOINTS}/{{id}}",
        "patch",
        "apiUpdateWebhookEndpoint",
        "Change a webhook endpoint: its URL, event types, status or description.",
        models.WebhookEndpointJson,
        "The changed endpoint.",
        body=models.WebhookEndpointChange,
        errors=(BadRequest, NotFound, Conflict, *_WRITES),
        parameter=_ENDPOINT_ID,
    ),
    Operation(
        f"{ENDPOINTS}/{{id}}",
        "delete",
        "apiDeleteWebhookEndpoint",
        "Delete a webhook endpoint: nothing more is delivered to it.",
        models.Deleted,
        "Deleted.",
        errors=(BadRequest, NotFound, Conflict),
        parameter=_ENDPOINT_ID,
    ),
    Operation(
        f"{ENDPOINTS}/{{id}}/rotate_secret",
        "post",
        "apiRotateWebhookSecret",
        "A new signing secret for an endpoint, in this answer only; the secrets in use keep "
        "signing beside it for `overlap_hours`, so a receiver switches without a miss.",
        models.WebhookEndpointJson,
        "The endpoint, with its new secret.",
        body=models.SecretRotation,
        errors=(BadRequest, NotFound, Conflict, *_WRITES),
        parameter=_ENDPOINT_ID,
    ),
    Operation(
        f"{ENDPOINTS}/{{id}}/send_test",
        "post",
        "apiSendWebhookTest",
        "Send the endpoint a test event (`<resource>.test`, empty `data`), signed and "
        "delivered as any event, whatever types it takes; not kept, so never resent.",
        models.EventTestSent,
        "The test event, on its way.",
        status="202",
        body=models.EventTestRequest,
        errors=(BadRequest, NotFound, Conflict, *_WRITES),
        parameter=_ENDPOINT_ID,
    ),
    Operation(
        DELIVERIES,
        "get",
        "apiListWebhookDeliveries",
        "One endpoint's latest deliveries, newest first, every attempt in each "
        "(time, status, latency, error, next attempt).",
        models.WebhookDeliveryList,
        "The deliveries.",
        query=models.WebhookDeliveriesQuery,
        errors=(BadRequest, NotFound, ValidationFailed),
    ),
    Operation(
        f"{DELIVERIES}/{{id}}",
        "get",
        "apiGetWebhookDelivery",
        "One delivery of an event to one of the caller's endpoints.",
        models.WebhookDeliveryJson,
        "The delivery.",
        errors=(BadRequest, NotFound),
        parameter=_DELIVERY_ID,
    ),
    Operation(
        f"{DELIVERIES}/{{id}}/resend",
        "post",
        "apiResendWebhookDelivery",
        "Deliver once more what a delivery carried (its receiver was fixed, say): one more "
        "attempt, recorded in the same delivery. No body.",
        models.DeliveryResent,
        "The delivery, resent.",
        status="202",
        errors=(BadRequest, NotFound, Conflict),
        parameter=_DELIVERY_ID,
    ),
)
"""Every webhook operation the `api` function serves (`functions.edge.http.webhooks`)."""


def webhook_paths(decl: Declaration, schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every operation of `OPERATIONS`, by path and method; their models added to
    `schemas` (a URL's pattern and the declaration's event types made explicit)."""
    used: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (op.body, "validation") for op in OPERATIONS if op.body is not None
    ]
    used += [(op.answer, "serialization") for op in OPERATIONS]
    refs, definitions = models_json_schema(list(dict.fromkeys(used)), ref_template=parts.REF)
    choices = [ALL_EVENTS, *(t for r in decl.resources for t in r.event_types)]
    resources = [r.name for r in decl.resources]
    for name, schema in definitions.get("$defs", {}).items():
        if name != "WebhookEndpointJson":
            _narrowed(schema, choices, resources)
        schemas[name] = schema
    security = [{"partnerApiKey": [WEBHOOKS_SCOPE]}, {"firebaseIdToken": [WEBHOOKS_SCOPE]}]
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        operation: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "description": f"Needs the scope `{WEBHOOKS_SCOPE}`.",
            "tags": [WEBHOOKS_TAG],
            "security": security,
        }
        if op.parameter is not None:
            operation["parameters"] = [op.parameter]
        if op.query is not None:
            operation["parameters"] = parts.query_parameters(op.query)
        if op.body is not None:
            content = {"application/json": {"schema": refs[(op.body, "validation")]}}
            operation["requestBody"] = {"required": True, "content": content}
        operation["responses"] = {
            op.status: {
                "description": op.answered,
                "headers": {**parts.REQUEST_ID, **parts.RATE_LIMIT},
                "content": {"application/json": {"schema": refs[(op.answer, "serialization")]}},
            },
            **parts.errors(*op.errors),
        }
        paths.setdefault(op.path, {})[op.method] = operation
    return paths


def _narrowed(schema: dict[str, Any], choices: list[str], resources: list[str]) -> None:
    """What the models leave open and the API checks: a URL's form, and the event types and
    resources the declaration names."""
    for field in ("url", "event_types", "resource"):
        prop = schema.get("properties", {}).get(field)
        if prop is None:
            continue
        plain = next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)
        if field == "url":
            plain["pattern"] = "^https?://[^/?#@]+"
        elif field == "resource":
            plain["enum"] = resources
        else:
            plain["items"] = {"type": "string", "enum": choices}
