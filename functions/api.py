"""The views `main.py` exports: parse the request, call a handler, shape the reply.

Order of checks, the same for every partner function: method (405), identity (401/403),
then the request itself (400/413/415/422), then the data (404/409/412).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Request

from functions import handlers, models, openapi, store
from functions.auth import SCOPE_READ, SCOPE_WRITE, Caller, partner_required
from functions.errors import BadRequest
from functions.http import Reply, endpoint, path_id, read_json_object


@endpoint("GET")
@partner_required(SCOPE_READ)
def fetch_data(request: Request, caller: Caller) -> Reply:
    """GET a page of the caller's entries, or GET /{id} for one entry with its ETag."""
    entry_id = path_id(request)
    if entry_id is None:
        query = models.parse_list_query(request.args.to_dict(flat=False))
        return Reply(handlers.list_entries(caller, query))
    if request.args:
        raise BadRequest("Query parameters apply to lists, not to a single entry.")
    entry = handlers.get_entry(caller, entry_id)
    return Reply(entry.wire(), headers={"ETag": store.etag_of(entry.version)})


@endpoint("POST")
@partner_required(SCOPE_WRITE)
def create_entry(request: Request, caller: Caller) -> Reply:
    """POST a new entry; send an Idempotency-Key to make retries safe."""
    if path_id(request) is not None:
        raise BadRequest("POST to createEntry itself; the server assigns the id.")
    draft = models.parse_create(read_json_object(request))
    created = handlers.create_entry(caller, draft, request.headers.get("Idempotency-Key"))
    headers = {"ETag": store.etag_of(int(created.entry["version"]))}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Reply(created.entry, 201, headers)


@endpoint("PATCH")
@partner_required(SCOPE_WRITE)
def update_entry(request: Request, caller: Caller) -> Reply:
    """PATCH /{id} with the fields to change and If-Match: the ETag you read."""
    entry_id = path_id(request)
    if entry_id is None:
        raise BadRequest("Name the entry in the path: PATCH updateEntry/<id>.")
    patch = models.parse_patch(read_json_object(request))
    entry = handlers.update_entry(caller, entry_id, patch, request.headers.get("If-Match"))
    return Reply(entry.wire(), headers={"ETag": store.etag_of(entry.version)})


@endpoint("GET")
def health(request: Request) -> Reply:
    """Liveness only: it touches no data and needs no token."""
    return Reply({"status": "ok"})


@endpoint("GET")
def openapi_document(request: Request) -> Reply:
    """The OpenAPI 3.1 description of the partner API."""
    return Reply(_document())


@functools.cache
def _document() -> dict[str, Any]:
    return openapi.build()
