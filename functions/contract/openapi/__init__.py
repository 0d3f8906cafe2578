"""The OpenAPI 3.1 document of the partner API, generated from the declaration.

Every declared resource gets typed schemas (create, patch, record, page) and its
operations under `/api/v1/<resource>`; the `entries` resource also keeps its first URLs
(`fetchData`, `createEntry`, `updateEntry`). The `openapi` function serves the document;
`make generate` writes it to `openapi.json`, and a test keeps the file equal to it.

By part: `resources` (the declared resources' paths and schemas), `events`, `webhooks`
(partners' webhook endpoints and deliveries, from their pydantic models), `owner` (the
owner's own endpoints), and `parts` (what they share: the error responses, headers and
parameters).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from functions.contract import catalog
from functions.contract.catalog import OwnerEndpoint
from functions.contract.openapi import events, owner, parts, resources, webhooks
from functions.core import config
from functions.core.errors import ConfigurationError
from functions.core.version import VERSION
from functions.resources import declaration
from functions.resources.declaration import Declaration

API_VERSION = VERSION


DEFAULT_PROJECT = "demo-partner-api"


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
        schemas.update(resources.schemas(resource, decl))
    schemas.update(events.EVENT_SCHEMAS)
    schemas.update(parts.ERROR_SCHEMAS)
    paths = {
        **resources.paths(decl),
        **events.event_paths(decl),
        **webhooks.webhook_paths(decl, schemas),
        **owner.owner_paths(owned, schemas),
    }
    tags = resources.tags(decl)
    tags.append({"name": events.EVENTS_TAG, "description": "Changes of the caller's records."})
    tags.append(
        {"name": webhooks.WEBHOOKS_TAG, "description": "Where the caller's events are sent."}
    )
    for tag in dict.fromkeys(endpoint.tag for endpoint in owned):
        tags.append({"name": tag, "description": owner.OWNER_TAG_DESCRIPTION})
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
        declaration.current(), project, config.functions_region(), catalog.registered()
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


OWNER_TAG_DESCRIPTION = owner.OWNER_TAG_DESCRIPTION
