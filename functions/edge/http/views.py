"""The package's own endpoints, and the routing tables main.py's functions serve them by
(`partner_endpoint(routes=...)`, as an owner writes a function).

A partner endpoint names its method and scope, then three stages of its own: parse the
request into typed values, run the domain operation, serialize the result. Everything
else (request id, method, identity, scopes, errors, headers, logs) is the pipeline's and
the shell's.

Every declared resource is served by the `api` function under `/v1/<resource>[/<id>]`
with no code of its own (`API`); `fetchData`, `createEntry` and `updateEntry` are the
same operations of the `entries` resource at the URLs partners integrated with first
(`FETCH_DATA`, `CREATE_ENTRY`, `UPDATE_ENTRY`).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import flask
from flask import Request, Response

from functions.auth import Caller
from functions.contract import openapi
from functions.contract.catalog import EVENTS_SCOPE
from functions.core import config
from functions.core.errors import (
    ApiError,
    BadRequest,
    ConfigurationError,
    MethodNotAllowed,
)
from functions.core.models import (
    Created,
    Draft,
    EventsQuery,
    FieldChanges,
    ListQuery,
    Page,
    Record,
    Revision,
)
from functions.domain import records
from functions.domain.changes import event_json
from functions.edge.http import docs, parsing
from functions.edge.http import webhooks as webhook_views
from functions.edge.http.pipeline import Endpoint, PublicEndpoint, framework_error, serve
from functions.edge.http.responses import Reply
from functions.edge.http.routes import Collections, Operations, Route, Routes
from functions.edge.http.serializers import etag, event_page_json, page_json, record_json
from functions.resources import declaration, validation
from functions.resources.declaration import Resource

# --- the four operations of a resource, for any way their target is named ----------------

IdOf = Callable[[Request], str | None]
"""How an endpoint finds the record id in its request (None: the collection itself)."""


@dataclass(frozen=True, slots=True)
class NewRecord:
    draft: Draft
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class RecordChange:
    doc_id: str
    patch: FieldChanges
    expected: Revision


@dataclass(frozen=True, slots=True)
class RecordRead:
    doc_id: str
    expand: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Expanded:
    record: Record
    skipped: tuple[str, ...] = ()


EXPAND_SKIPPED_HEADER = "Expand-Skipped"
"""Why a GET's expanded references are null: `<field>: <reason>`, `; `-separated. The
record's id stays out: an app's ids may hold characters a header cannot; field names,
scopes and nouns are ASCII by the declaration's rules."""


def read_endpoint(name: str, resource: Resource, id_of: IdOf) -> Endpoint[Any, Any]:
    """GET a page of records, or one record when the path names it (`expand` may replace
    references by the records they name)."""

    def parse(request: Request, caller: Caller) -> ListQuery | RecordRead:
        doc_id = id_of(request)
        if doc_id is None:
            if "list" not in resource.operations:
                raise MethodNotAllowed(("POST",) if "create" in resource.operations else ())
            return parsing.list_query(resource, request.args.to_dict(flat=False), caller)
        if "get" not in resource.operations:
            raise MethodNotAllowed(("PATCH",) if "update" in resource.operations else ())
        return RecordRead(doc_id, parsing.record_query(resource, request.args.to_dict(flat=False)))

    def operation(caller: Caller, target: ListQuery | RecordRead) -> Page | Expanded:
        if isinstance(target, ListQuery):
            page = records.list_records(resource, caller, target)
            if not target.expand:
                return page
            found, notes = records.expanded(resource, caller, page.records, target.expand)
            return replace(page, records=found, skipped=[*page.skipped, *notes])
        record = records.get_record(resource, caller, target.doc_id)
        if not target.expand:
            return Expanded(record)
        (one,), notes = records.expanded(resource, caller, [record], target.expand)
        return Expanded(one, tuple(notes))

    def serialize(result: Page | Expanded, target: ListQuery | RecordRead, caller: Caller) -> Reply:
        if isinstance(result, Page) and isinstance(target, ListQuery):
            return Reply(page_json(result, target, caller, resource))
        if isinstance(result, Expanded):
            headers = {"ETag": etag(result.record.revision)}
            if result.skipped:
                prefix = f"{result.record.id}."
                reasons = (note.removeprefix(prefix) for note in result.skipped)
                headers[EXPAND_SKIPPED_HEADER] = "; ".join(reasons)
            return Reply(record_json(result.record), headers=headers)
        raise TypeError("a list answers a list query, a record an id")

    return Endpoint(name, "GET", frozenset({resource.read_scope}), parse, operation, serialize)


def create_endpoint(
    name: str, resource: Resource, id_of: IdOf, misplaced: str
) -> Endpoint[Any, Any]:
    """POST a new record; an Idempotency-Key makes retries safe."""

    def parse(request: Request, caller: Caller) -> NewRecord:
        if id_of(request) is not None:
            raise BadRequest(misplaced)
        draft = validation.parse_create(resource, parsing.json_object(request))
        return NewRecord(
            draft, parsing.idempotency_key(request.headers.get(parsing.IDEMPOTENCY_KEY_HEADER))
        )

    def operation(caller: Caller, new: NewRecord) -> Created:
        return records.create_record(resource, caller, new.draft, new.idempotency_key)

    def serialize(created: Created, new: NewRecord, caller: Caller) -> Reply:
        headers = {"ETag": etag(created.record.revision)}
        if created.replayed:
            headers[parsing.REPLAYED_HEADER] = "true"
        return Reply(record_json(created.record), 201, headers)

    def replays(request: Request, caller: Caller) -> bool:
        try:
            key = parsing.idempotency_key(request.headers.get(parsing.IDEMPOTENCY_KEY_HEADER))
        except ApiError:
            return False  # the parse stage says what is wrong with it
        return records.replays(caller, key)

    scopes = frozenset({resource.write_scope})
    return Endpoint(
        name, "POST", scopes, parse, operation, serialize, creates=True, replays=replays
    )


def update_endpoint(name: str, resource: Resource, id_of: IdOf, missing: str) -> Endpoint[Any, Any]:
    """PATCH one record with If-Match: the ETag the change is based on."""

    def parse(request: Request, caller: Caller) -> RecordChange:
        doc_id = id_of(request)
        if doc_id is None:
            raise BadRequest(missing)
        patch = validation.parse_patch(resource, parsing.json_object(request))
        expected = parsing.expected_revision(request.headers.get("If-Match"), resource.item)
        return RecordChange(doc_id, patch, expected)

    def operation(caller: Caller, change: RecordChange) -> Record:
        return records.update_record(resource, caller, change.doc_id, change.patch, change.expected)

    def serialize(record: Record, change: RecordChange, caller: Caller) -> Reply:
        return Reply(record_json(record), headers={"ETag": etag(record.revision)})

    return Endpoint(name, "PATCH", frozenset({resource.write_scope}), parse, operation, serialize)


@dataclass(frozen=True, slots=True)
class RecordRemoval:
    doc_id: str
    expected: Revision


def delete_endpoint(name: str, resource: Resource, id_of: IdOf, missing: str) -> Endpoint[Any, Any]:
    """DELETE one record with If-Match: the ETag the deletion is based on; 204."""

    def parse(request: Request, caller: Caller) -> RecordRemoval:
        doc_id = id_of(request)
        if doc_id is None:
            raise BadRequest(missing)
        if request.args:
            raise BadRequest(f"Query parameters apply to lists, not to a single {resource.item}.")
        expected = parsing.expected_revision(request.headers.get("If-Match"), resource.item)
        return RecordRemoval(doc_id, expected)

    def operation(caller: Caller, removal: RecordRemoval) -> None:
        records.delete_record(resource, caller, removal.doc_id, removal.expected)

    def serialize(result: None, removal: RecordRemoval, caller: Caller) -> Reply:
        return Reply(None, 204)

    scopes = frozenset({resource.scope_of_delete})
    return Endpoint(name, "DELETE", scopes, parse, operation, serialize)


# --- fetchData, createEntry, updateEntry: the resource marked first_urls ---------------------

FIRST_URLS_COLLECTION = "first_urls"
"""What the first URLs' tables name: the resource the declaration marks `first_urls`."""


def first_urls_served() -> bool:
    """Whether main.py defines (and so deploys) the first URLs: where the declaration
    marks a resource for them, and where it cannot be read (they then answer why)."""
    try:
        return declaration.current().first_urls is not None
    except declaration.DeclarationError:
        return True


def _first_urls(name: str) -> Collections:
    def collections(collection: str) -> Operations | None:
        resource = declaration.current().first_urls
        return None if resource is None else _first_url_endpoints(resource)[name]

    return collections


@functools.cache
def _first_url_endpoints(resource: Resource) -> dict[str, dict[str, Endpoint[Any, Any]]]:
    return {
        "fetchData": {"read": read_endpoint("fetchData", resource, parsing.path_id)},
        "createEntry": {
            "create": create_endpoint(
                "createEntry",
                resource,
                parsing.path_id,
                "POST to createEntry itself; the server assigns the id.",
            )
        },
        "updateEntry": {
            "update": update_endpoint(
                "updateEntry",
                resource,
                parsing.path_id,
                f"Name the {resource.item} in the path: PATCH updateEntry/<id>.",
            )
        },
    }


def _first_url_routes(name: str, method: str, operation: str) -> Routes:
    return Routes(
        name,
        (Route(method, "*", operation),),
        _first_urls(name),
        collection=FIRST_URLS_COLLECTION,
        unknown="This app marks no resource first_urls = true.",
    )


FETCH_DATA = _first_url_routes("fetchData", "GET", "read")
"""GET a page of entries, or the one its path names (`fetchData/<id>`)."""
CREATE_ENTRY = _first_url_routes("createEntry", "POST", "create")
"""POST a new entry to `createEntry` itself."""
UPDATE_ENTRY = _first_url_routes("updateEntry", "PATCH", "update")
"""PATCH the entry its path names (`updateEntry/<id>`)."""


# --- api: every declared resource under /v1/<resource>[/<id>] ----------------------------

API_VERSION_PREFIX = "v1"
_ROUTE = re.compile(r"/v1/([a-z][a-z0-9_-]{0,62})(?:/([^/]+))?/?")
"""`/v1/<resource>[/<id>]`; `_` only in the package's own (`webhook_endpoints`,
`webhook_deliveries`)."""


def _api_id(request: Request) -> str | None:
    match = _ROUTE.fullmatch(request.path or "/")
    return match.group(2) if match else None


_ACTION_ROUTE = re.compile(r"/v1/([a-z][a-z0-9_-]{0,62})/([^/]+)/([a-z_]{1,32})/?")
"""`/v1/<collection>/<id>/<action>`: an action on one of the package's own records."""


def _api_action_id(request: Request) -> str | None:
    match = _ACTION_ROUTE.fullmatch(request.path or "/")
    return match.group(2) if match else None


def _api_collection(name: str) -> Operations | None:
    """What one path's collection serves: the package's own, or a declared resource."""
    if name in PACKAGE_COLLECTIONS:
        return PACKAGE_COLLECTIONS[name]
    resource = declaration.current().get(name)
    return None if resource is None else _resource_operations(resource)


@functools.cache
def _resource_operations(resource: Resource) -> dict[str, Endpoint[Any, Any]]:
    name, ops = resource.name, resource.operations
    read = read_endpoint("api", resource, _api_id)
    found: dict[str, Endpoint[Any, Any]] = {}
    if "list" in ops:
        found["list"] = read
    if "get" in ops:
        found["get"] = read
    if "create" in ops:
        found["create"] = create_endpoint(
            "api", resource, _api_id, f"POST to /v1/{name} itself; the server assigns the id."
        )
    if "update" in ops:
        found["update"] = update_endpoint(
            "api", resource, _api_id, f"Name the {resource.item}: PATCH /v1/{name}/<id>."
        )
    if "delete" in ops:
        found["delete"] = delete_endpoint(
            "api", resource, _api_id, f"Name the {resource.item}: DELETE /v1/{name}/<id>."
        )
    return found


def events_endpoint(name: str, id_of: IdOf) -> Endpoint[Any, Any]:
    """GET a page of the caller's change events, or one event when the path names it."""

    def parse(request: Request, caller: Caller) -> EventsQuery | str:
        event_id = id_of(request)
        if event_id is None:
            types = tuple(t for r in declaration.current().resources for t in r.event_types)
            return parsing.events_query(request.args.to_dict(flat=False), caller, types)
        if request.args:
            raise BadRequest("Query parameters apply to lists, not to a single event.")
        return event_id

    def operation(caller: Caller, target: EventsQuery | str) -> Any:
        if isinstance(target, EventsQuery):
            return records.list_events(
                caller, limit=target.limit, after=target.after, event_type=target.event_type
            )
        return records.get_event(caller, target)

    def serialize(result: Any, target: EventsQuery | str, caller: Caller) -> Reply:
        if isinstance(target, EventsQuery):
            events, after = result
            return Reply(event_page_json(events, after, target, caller))
        return Reply(event_json(result))

    return Endpoint(name, "GET", frozenset({EVENTS_SCOPE}), parse, operation, serialize)


EVENTS = "events"
_EVENTS = events_endpoint("api", _api_id)
WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_DELIVERIES = "webhook_deliveries"
PACKAGE_COLLECTIONS: dict[str, Operations] = {
    EVENTS: {"list": _EVENTS, "get": _EVENTS},
    WEBHOOK_ENDPOINTS: webhook_views.endpoints("api", _api_id, _api_action_id),
    WEBHOOK_DELIVERIES: webhook_views.deliveries("api", _api_id, _api_action_id),
}
"""The package's own collections under /v1, beside the declared resources."""

API = Routes(
    "api",
    (
        Route("GET", "/v1/{collection}", "list"),
        Route("POST", "/v1/{collection}", "create"),
        Route("GET", "/v1/{collection}/{id}", "get"),
        Route("PATCH", "/v1/{collection}/{id}", "update"),
        Route("DELETE", "/v1/{collection}/{id}", "delete"),
        Route("POST", "/v1/{collection}/{id}/rotate_secret", "rotate_secret"),
        Route("POST", "/v1/{collection}/{id}/send_test", "send_test"),
        Route("POST", "/v1/{collection}/{id}/resend", "resend"),
    ),
    _api_collection,
)
"""Every declared resource and the package's own collections, versioned."""


# --- public: liveness, the contract and its reference page ------------------------------

HEALTH = PublicEndpoint("health", "GET", lambda request: Reply({"status": "ok"}))
OPENAPI_DOCUMENT = PublicEndpoint("openapi", "GET", lambda request: Reply(openapi.document()))
DOCS = PublicEndpoint("docs", "GET", docs.answer)


__all__ = [
    "API",
    "CREATE_ENTRY",
    "FETCH_DATA",
    "UPDATE_ENTRY",
    "check_start_up",
    "docs_page",
    "framework_error",
    "health",
    "openapi_document",
]


def check_start_up() -> None:
    """Exit with one line when functions-framework builds its app around main.py without a
    project id, or with a declaration it cannot serve. (The Firebase CLI imports main.py
    without a project to discover the functions, outside any app: that import must and
    does go through.)"""
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
    try:
        declaration.current()
    except declaration.DeclarationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None


def health(request: Request) -> Response:
    return serve(HEALTH, request)


def openapi_document(request: Request) -> Response:
    return serve(OPENAPI_DOCUMENT, request)


def docs_page(request: Request) -> Response:
    return serve(DOCS, request)
