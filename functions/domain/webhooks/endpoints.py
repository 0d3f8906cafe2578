"""Webhook endpoints: where partners want their events delivered. Partners manage their
own through the API, the owner any partner's through the command-line tool; both go
through these rules.

An endpoint's URL is checked when it is set (https, a public address: see
`functions.outside.outbound`). Its signing secret is made here and shown once; rotating it keeps
the old one signing beside the new one for ROTATION_OVERLAP, so a receiver can switch
without missing a delivery.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from functions.contract.webhook_models import MAX_DESCRIPTION_CHARS
from functions.core import config
from functions.core.errors import Conflict, NotFound, ValidationFailed
from functions.core.models import (
    ALL_EVENTS,
    MAX_DELIVERIES_LISTED,
    MAX_WEBHOOK_ENDPOINTS,
    WEBHOOK_ENDPOINT_STATUSES,
    Delivery,
    SigningSecret,
    WebhookEndpoint,
)
from functions.outside import outbound, signatures
from functions.resources import declaration
from functions.store import deliveries as delivery_store
from functions.store import webhooks as store

ROTATION_OVERLAP = dt.timedelta(hours=24)
ENDPOINT_ID_PREFIX = "we_"


def event_type_choices() -> tuple[str, ...]:
    """Every event type there is, and `*` for all of them."""
    kinds = (t for r in declaration.current().resources for t in r.event_types)
    return (ALL_EVENTS, *kinds)


def checked_types(event_types: Sequence[str]) -> tuple[str, ...]:
    """Raises: ValidationFailed naming each unknown type (or none given)."""
    choices = event_type_choices()
    unknown = [t for t in event_types if t not in choices]
    if unknown or not event_types:
        message = (
            f"unknown event type(s): {', '.join(unknown)[:200]}; choose from {', '.join(choices)}"
            if unknown
            else "give at least one event type, or * for all"
        )
        raise ValidationFailed(details=[{"field": "event_types", "message": message}])
    return tuple(dict.fromkeys(event_types))


def checked_url(url: str) -> str:
    """Raises: ValidationFailed saying why the URL cannot be called."""
    try:
        outbound.check_url(url, local=config.is_demo_project())
    except outbound.RefusedTarget as exc:
        raise ValidationFailed(details=[{"field": "url", "message": str(exc)}]) from exc
    return url


def checked_description(description: str | None) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION_CHARS:
        raise ValidationFailed(
            details=[
                {"field": "description", "message": f"at most {MAX_DESCRIPTION_CHARS} characters"}
            ]
        )
    return description


def create(
    partner_id: str,
    url: str,
    event_types: Sequence[str] = (ALL_EVENTS,),
    *,
    description: str | None = None,
    created_by: str,
    database: Any = None,
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret (shown this once).

    Raises: ValidationFailed (URL, types, description), Conflict (too many endpoints).
    """
    types = checked_types(event_types)
    checked_url(url)
    checked_description(description)
    if len(store.of_partner(partner_id, database)) >= MAX_WEBHOOK_ENDPOINTS:
        raise Conflict(f"A partner may keep at most {MAX_WEBHOOK_ENDPOINTS} webhook endpoints.")
    now = dt.datetime.now(dt.UTC)
    secret = signatures.new_secret()
    endpoint = WebhookEndpoint(
        id=ENDPOINT_ID_PREFIX + secrets.token_hex(12),
        partner_id=partner_id,
        url=url,
        event_types=types,
        status="enabled",
        description=description,
        created_at=now,
        updated_at=now,
        created_by=created_by,
        secrets=(SigningSecret(secret),),
    )
    store.add(endpoint, database)
    return endpoint, secret


def endpoints(partner_id: str | None, database: Any = None) -> list[WebhookEndpoint]:
    """A partner's endpoints (every partner's with None)."""
    return store.of_partner(partner_id, database)


def endpoint(
    endpoint_id: str, partner_id: str | None = None, database: Any = None
) -> WebhookEndpoint:
    """Raises: NotFound, also for another partner's (with `partner_id`)."""
    return store.one(endpoint_id, partner_id, database)[0]


def update(
    endpoint_id: str,
    partner_id: str | None = None,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    status: str | None = None,
    description: str | None = None,
    reason: str | None = None,
    database: Any = None,
) -> WebhookEndpoint:
    """Change what is given; `reason` says why an endpoint is disabled.

    Raises: NotFound, ValidationFailed, Conflict (changed meanwhile).
    """
    current, read_at = store.one(endpoint_id, partner_id, database)
    if status is not None and status not in WEBHOOK_ENDPOINT_STATUSES:
        raise ValidationFailed(
            details=[{"field": "status", "message": "must be enabled or disabled"}]
        )
    changed = replace(
        current,
        url=checked_url(url) if url is not None else current.url,
        event_types=checked_types(event_types) if event_types is not None else current.event_types,
        status=status or current.status,
        description=checked_description(description)
        if description is not None
        else current.description,
        disabled_reason=(reason if status == "disabled" else None)
        if status is not None
        else current.disabled_reason,
        failing_since=None if status == "enabled" else current.failing_since,
        updated_at=dt.datetime.now(dt.UTC),
    )
    store.replace(changed, read_at, database)
    return changed


def rotate_secret(
    endpoint_id: str,
    partner_id: str | None = None,
    overlap: dt.timedelta = ROTATION_OVERLAP,
    database: Any = None,
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (shown this once); the ones in use keep signing for `overlap`.

    Raises: NotFound, Conflict (changed meanwhile).
    """
    current, read_at = store.one(endpoint_id, partner_id, database)
    now = dt.datetime.now(dt.UTC)
    secret = signatures.new_secret()
    kept = tuple(
        SigningSecret(s.value, min(s.expires_at or now + overlap, now + overlap))
        for s in current.secrets
        if s.expires_at is None or s.expires_at > now
    )
    changed = replace(current, secrets=(SigningSecret(secret), *kept), updated_at=now)
    store.replace(changed, read_at, database)
    return changed, secret


def remove(
    endpoint_id: str, partner_id: str | None = None, database: Any = None
) -> WebhookEndpoint:
    """Raises: NotFound, Conflict (changed meanwhile)."""
    current, read_at = store.one(endpoint_id, partner_id, database)
    store.delete(endpoint_id, read_at, database)
    return current


def deliveries(
    endpoint_id: str,
    partner_id: str | None = None,
    limit: int = MAX_DELIVERIES_LISTED,
    database: Any = None,
) -> list[Delivery]:
    """An endpoint's latest deliveries, newest first, every attempt in each.

    Raises: NotFound (no such endpoint, or another partner's with `partner_id`).
    """
    endpoint(endpoint_id, partner_id, database)
    return delivery_store.of_endpoint(endpoint_id, database, limit=limit)


def delivery(delivery_id: str, partner_id: str | None = None, database: Any = None) -> Delivery:
    """Raises: NotFound, also for another partner's (with `partner_id`)."""
    found = delivery_store.one(delivery_id, database)
    if found is None or (partner_id is not None and found.partner_id != partner_id):
        raise NotFound("No such webhook delivery.")
    return found
