"""`/api/v1/webhook_endpoints[/<id>]`: partners register where their events go (scope
`webhooks:write`): create (the signing secret is in that answer only), list, get, change
(URL, event types, enabled or disabled, description) and delete; and, on one endpoint,
`rotate_secret` (a new secret, the ones in use signing beside it for an overlap) and
`send_test` (a signed `<resource>.test` event).
`/api/v1/webhook_deliveries[/<id>]`: what became of each event sent to an endpoint, every
attempt in it; `resend` delivers one once more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Request
from pydantic import BaseModel

from functions.auth import Caller
from functions.contract.catalog import WEBHOOKS_SCOPE
from functions.contract.webhook_models import (
    DeliveryResent,
    EventTestRequest,
    EventTestSent,
    NewWebhookEndpoint,
    SecretRotation,
    WebhookDeliveriesQuery,
    WebhookDeliveryJson,
    WebhookEndpointChange,
    WebhookEndpointJson,
)
from functions.core.errors import BadRequest, ValidationFailed
from functions.core.models import WebhookEndpoint, rfc3339
from functions.domain.webhooks import delivery
from functions.domain.webhooks import endpoints as webhooks
from functions.edge.http import parsing
from functions.edge.http.pipeline import Endpoint
from functions.edge.http.responses import Reply
from functions.resources import declaration

IdOf = Callable[[Request], str | None]


def endpoint_json(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    shown = WebhookEndpointJson(
        id=endpoint.id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        status="enabled" if endpoint.status == "enabled" else "disabled",
        disabled_reason=endpoint.disabled_reason,
        description=endpoint.description,
        created_at=rfc3339(endpoint.created_at),
        updated_at=rfc3339(endpoint.updated_at),
        secret=secret,
    )
    return shown.model_dump(exclude=None if secret else {"secret"})


@dataclass(frozen=True, slots=True)
class _Target:
    endpoint_id: str | None
    body: BaseModel | None = None


def endpoints(name: str, id_of: IdOf, action_id_of: IdOf) -> dict[str, Endpoint[Any, Any]]:
    """The webhook endpoints' operations, by (names one, method); `action_id_of` reads the
    endpoint's id from an action's path (`/v1/webhook_endpoints/<id>/rotate_secret`)."""
    scopes = frozenset({WEBHOOKS_SCOPE})

    def parse_read(request: Request, caller: Caller) -> _Target:
        if request.args:
            raise BadRequest("This list takes no query parameters.")
        return _Target(id_of(request))

    def read(caller: Caller, target: _Target) -> Any:
        if target.endpoint_id is None:
            return webhooks.endpoints(caller.partner_id)
        return webhooks.endpoint(target.endpoint_id, caller.partner_id)

    def show(result: Any, target: _Target, caller: Caller) -> Reply:
        if isinstance(result, list):
            return Reply({"data": [endpoint_json(e) for e in result]})
        return Reply(endpoint_json(result))

    def parse_create(request: Request, caller: Caller) -> _Target:
        if id_of(request) is not None:
            raise BadRequest("POST to /v1/webhook_endpoints itself; the server assigns the id.")
        body = parsing.model_input(NewWebhookEndpoint, parsing.json_object(request), "field")
        return _Target(None, body)

    def create(caller: Caller, target: _Target) -> tuple[WebhookEndpoint, str]:
        assert isinstance(target.body, NewWebhookEndpoint)
        return webhooks.create(
            caller.partner_id,
            target.body.url,
            target.body.event_types,
            description=target.body.description,
            created_by=caller.uid,
        )

    def created(result: tuple[WebhookEndpoint, str], target: _Target, caller: Caller) -> Reply:
        endpoint, secret = result
        return Reply(endpoint_json(endpoint, secret), 201)

    def parse_change(request: Request, caller: Caller) -> _Target:
        endpoint_id = _named(id_of(request), "PATCH")
        body = parsing.model_input(WebhookEndpointChange, parsing.json_object(request), "field")
        if not body.model_fields_set:
            raise BadRequest("Send at least one field to change.")
        return _Target(endpoint_id, body)

    def change(caller: Caller, target: _Target) -> WebhookEndpoint:
        body = target.body
        assert isinstance(body, WebhookEndpointChange)
        assert target.endpoint_id is not None
        return webhooks.update(
            target.endpoint_id,
            caller.partner_id,
            url=body.url,
            event_types=body.event_types,
            status=body.status,
            description=body.description,
            reason="disabled by the partner" if body.status == "disabled" else None,
        )

    def changed(result: WebhookEndpoint, target: _Target, caller: Caller) -> Reply:
        return Reply(endpoint_json(result))

    def parse_delete(request: Request, caller: Caller) -> _Target:
        return _Target(_named(id_of(request), "DELETE"))

    def delete(caller: Caller, target: _Target) -> WebhookEndpoint:
        assert target.endpoint_id is not None
        return webhooks.remove(target.endpoint_id, caller.partner_id)

    def deleted(result: WebhookEndpoint, target: _Target, caller: Caller) -> Reply:
        return Reply({"id": result.id, "deleted": True})

    return {
        "list": Endpoint(name, "GET", scopes, parse_read, read, show),
        "get": Endpoint(name, "GET", scopes, parse_read, read, show),
        **endpoint_actions(name, action_id_of),
        "create": Endpoint(name, "POST", scopes, parse_create, create, created),
        "update": Endpoint(name, "PATCH", scopes, parse_change, change, changed),
        "delete": Endpoint(name, "DELETE", scopes, parse_delete, delete, deleted),
    }


def endpoint_actions(name: str, action_id_of: IdOf) -> dict[str, Endpoint[Any, Any]]:
    """`rotate_secret` and `send_test`, on one of the caller's endpoints."""
    scopes = frozenset({WEBHOOKS_SCOPE})

    def parse_rotation(request: Request, caller: Caller) -> _Target:
        endpoint_id = _named(action_id_of(request), "POST", "rotate_secret")
        body = parsing.model_input(SecretRotation, parsing.json_object(request), "field")
        return _Target(endpoint_id, body)

    def rotate(caller: Caller, target: _Target) -> tuple[WebhookEndpoint, str]:
        assert isinstance(target.body, SecretRotation)
        assert target.endpoint_id is not None
        overlap = dt.timedelta(hours=target.body.overlap_hours)
        return webhooks.rotate_secret(target.endpoint_id, caller.partner_id, overlap)

    def rotated(result: tuple[WebhookEndpoint, str], target: _Target, caller: Caller) -> Reply:
        endpoint, secret = result
        return Reply(endpoint_json(endpoint, secret))

    def parse_test(request: Request, caller: Caller) -> _Target:
        endpoint_id = _named(action_id_of(request), "POST", "send_test")
        body = parsing.model_input(EventTestRequest, parsing.json_object(request), "field")
        declared = [r.name for r in declaration.current().resources]
        if (body.resource is not None and body.resource not in declared) or not declared:
            choices = ", ".join(declared) or "none is declared"
            raise ValidationFailed(
                details=[{"field": "resource", "message": f"choose a resource: {choices}"}]
            )
        return _Target(endpoint_id, EventTestRequest(resource=body.resource or declared[0]))

    def send_test(caller: Caller, target: _Target) -> tuple[str, str, str]:
        assert isinstance(target.body, EventTestRequest)
        assert target.endpoint_id is not None
        resource = str(target.body.resource)
        event_id, delivery_id = delivery.send_test(target.endpoint_id, caller.partner_id, resource)
        return event_id, f"{resource}.{delivery.TEST_TYPE}", delivery_id

    def sent(result: tuple[str, str, str], target: _Target, caller: Caller) -> Reply:
        event_id, event_type, delivery_id = result
        shown = EventTestSent(event_id=event_id, type=event_type, delivery_id=delivery_id)
        return Reply(shown.model_dump(), 202)

    return {
        "rotate_secret": Endpoint(name, "POST", scopes, parse_rotation, rotate, rotated),
        "send_test": Endpoint(name, "POST", scopes, parse_test, send_test, sent),
    }


def deliveries(name: str, id_of: IdOf, action_id_of: IdOf) -> dict[str, Endpoint[Any, Any]]:
    """An endpoint's latest deliveries (`?endpoint=<id>&limit=`), or one delivery; and
    `resend` of one (`/v1/webhook_deliveries/<id>/resend`)."""
    scopes = frozenset({WEBHOOKS_SCOPE})

    def parse(request: Request, caller: Caller) -> WebhookDeliveriesQuery | str:
        delivery_id = id_of(request)
        if delivery_id is not None:
            if request.args:
                raise BadRequest("Query parameters apply to lists, not to a single delivery.")
            return delivery_id
        values = parsing.query_values(request.args.to_dict(flat=False))
        return parsing.model_input(WebhookDeliveriesQuery, values, "query parameter")

    def read(caller: Caller, target: WebhookDeliveriesQuery | str) -> Any:
        if isinstance(target, str):
            return webhooks.delivery(target, caller.partner_id)
        return webhooks.deliveries(target.endpoint, caller.partner_id, limit=target.limit)

    def show(result: Any, target: WebhookDeliveriesQuery | str, caller: Caller) -> Reply:
        if isinstance(result, list):
            return Reply({"data": [WebhookDeliveryJson.of(d).model_dump() for d in result]})
        return Reply(WebhookDeliveryJson.of(result).model_dump())

    def parse_resend(request: Request, caller: Caller) -> str:
        delivery_id = action_id_of(request)
        if delivery_id is None:
            raise BadRequest("Name the delivery: POST /v1/webhook_deliveries/<id>/resend.")
        if request.get_data():
            raise BadRequest("A resend takes no body.")
        return delivery_id

    def resend(caller: Caller, delivery_id: str) -> str:
        delivery.resend(delivery_id, caller.partner_id)
        return delivery_id

    def resent(result: str, delivery_id: str, caller: Caller) -> Reply:
        return Reply(DeliveryResent(id=result, resent=True).model_dump(), 202)

    return {
        "list": Endpoint(name, "GET", scopes, parse, read, show),
        "get": Endpoint(name, "GET", scopes, parse, read, show),
        "resend": Endpoint(name, "POST", scopes, parse_resend, resend, resent),
    }


def _named(endpoint_id: str | None, method: str, action: str = "") -> str:
    if endpoint_id is None:
        suffix = f"/{action}" if action else ""
        raise BadRequest(f"Name the webhook endpoint: {method} /v1/webhook_endpoints/<id>{suffix}.")
    return endpoint_id
