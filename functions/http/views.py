"""The exported functions, each declared as an endpoint of the pipeline.

A partner endpoint names its method and scope, then three stages of its own: parse the
request into typed values, run the domain operation, serialize the result. Everything
else (request id, method, identity, scopes, errors, headers, logs) is the pipeline's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import flask
from flask import Request, Response

from functions import config, entries, models, openapi
from functions.auth import SCOPE_READ, SCOPE_WRITE, Caller
from functions.errors import BadRequest, ConfigurationError
from functions.http import docs, parsing
from functions.http.pipeline import Endpoint, PublicEndpoint, framework_error, serve
from functions.http.responses import Reply
from functions.http.serializers import entry_json, etag, page_json
from functions.models import Created, Entry, EntryCreate, EntryPatch, ListQuery, Page

# --- fetchData: GET a page of entries, or GET /{id} for one ------------------------------


def _parse_fetch(request: Request, caller: Caller) -> ListQuery | str:
    entry_id = parsing.path_id(request)
    if entry_id is None:
        return parsing.list_query(request.args.to_dict(flat=False), caller)
    if request.args:
        raise BadRequest("Query parameters apply to lists, not to a single entry.")
    return entry_id


def _fetch(caller: Caller, target: ListQuery | str) -> Page | Entry:
    if isinstance(target, ListQuery):
        return entries.list_entries(caller, target)
    return entries.get_entry(caller, target)


def _fetch_reply(result: Page | Entry, target: ListQuery | str, caller: Caller) -> Reply:
    if isinstance(result, Page) and isinstance(target, ListQuery):
        return Reply(page_json(result, target, caller))
    if isinstance(result, Entry):
        return Reply(entry_json(result), headers={"ETag": etag(result.version)})
    raise TypeError("a list answers a list query, an entry an id")


FETCH_DATA = Endpoint(
    name="fetchData",
    method="GET",
    scopes=frozenset({SCOPE_READ}),
    parse=_parse_fetch,
    operation=_fetch,
    serialize=_fetch_reply,
)

# --- createEntry: POST a new entry; an Idempotency-Key makes retries safe ----------------


@dataclass(frozen=True, slots=True)
class NewEntry:
    draft: EntryCreate
    idempotency_key: str | None


def _parse_create(request: Request, caller: Caller) -> NewEntry:
    if parsing.path_id(request) is not None:
        raise BadRequest("POST to createEntry itself; the server assigns the id.")
    draft = models.parse_create(parsing.json_object(request))
    return NewEntry(draft, parsing.idempotency_key(request.headers.get("Idempotency-Key")))


def _create(caller: Caller, new: NewEntry) -> Created:
    return entries.create_entry(caller, new.draft, new.idempotency_key)


def _create_reply(created: Created, new: NewEntry, caller: Caller) -> Reply:
    headers = {"ETag": etag(created.entry.version)}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Reply(entry_json(created.entry), 201, headers)


CREATE_ENTRY = Endpoint(
    name="createEntry",
    method="POST",
    scopes=frozenset({SCOPE_WRITE}),
    parse=_parse_create,
    operation=_create,
    serialize=_create_reply,
)

# --- updateEntry: PATCH /{id} with If-Match: the ETag the change is based on -------------


@dataclass(frozen=True, slots=True)
class EntryChange:
    entry_id: str
    patch: EntryPatch
    expected_version: int


def _parse_update(request: Request, caller: Caller) -> EntryChange:
    entry_id = parsing.path_id(request)
    if entry_id is None:
        raise BadRequest("Name the entry in the path: PATCH updateEntry/<id>.")
    patch = models.parse_patch(parsing.json_object(request))
    return EntryChange(entry_id, patch, parsing.expected_version(request.headers.get("If-Match")))


def _update(caller: Caller, change: EntryChange) -> Entry:
    return entries.update_entry(caller, change.entry_id, change.patch, change.expected_version)


def _update_reply(entry: Entry, change: EntryChange, caller: Caller) -> Reply:
    return Reply(entry_json(entry), headers={"ETag": etag(entry.version)})


UPDATE_ENTRY = Endpoint(
    name="updateEntry",
    method="PATCH",
    scopes=frozenset({SCOPE_WRITE}),
    parse=_parse_update,
    operation=_update,
    serialize=_update_reply,
)

# --- public: liveness, the contract and its reference page ------------------------------

HEALTH = PublicEndpoint("health", "GET", lambda request: Reply({"status": "ok"}))
OPENAPI_DOCUMENT = PublicEndpoint("openapi", "GET", lambda request: Reply(openapi.document()))
DOCS = PublicEndpoint("docs", "GET", docs.answer)


__all__ = [
    "check_start_up",
    "create_entry",
    "docs_page",
    "fetch_data",
    "framework_error",
    "health",
    "openapi_document",
    "update_entry",
]


def check_start_up() -> None:
    """Exit with one line when functions-framework builds its app around main.py without a
    project id. (The Firebase CLI imports main.py without one to discover the functions,
    outside any app: that import must and does go through.)"""
    if not flask.has_app_context():
        return
    try:
        config.project_id()
    except ConfigurationError:
        print(
            "error: no Firebase project id: set GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT) "
            "to your project id, for example demo-partner-api",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def fetch_data(request: Request) -> Response:
    return serve(FETCH_DATA, request)


def create_entry(request: Request) -> Response:
    return serve(CREATE_ENTRY, request)


def update_entry(request: Request) -> Response:
    return serve(UPDATE_ENTRY, request)


def health(request: Request) -> Response:
    return serve(HEALTH, request)


def openapi_document(request: Request) -> Response:
    return serve(OPENAPI_DOCUMENT, request)


def docs_page(request: Request) -> Response:
    return serve(DOCS, request)
