"""The declared resources' part of the document: each one's schemas (create, patch,
record, page) and operations under `/api/v1/<resource>`, and the first URLs of
`entries`."""

from __future__ import annotations

from typing import Any

from functions.contract.openapi import parts
from functions.core import cursor
from functions.core.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    QuotaExceeded,
    StoredEntryInvalid,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.resources import kinds
from functions.resources.declaration import (
    MAX_EXPAND,
    Declaration,
    Resource,
    expand_description,
)


def _fields_pattern(resource: Resource) -> str:
    names = "(" + "|".join(resource.wire_fields) + ")"
    return f"^ *{names} *(, *{names} *)*$"


def _expand_schema(resource: Resource) -> dict[str, Any]:
    names = "(" + "|".join(name for name, _ in resource.expandable) + ")"
    return {"type": "string", "pattern": f"^ *{names} *(, *{names} *){{0,{MAX_EXPAND - 1}}}$"}


def _expand_parameter(resource: Resource) -> list[dict[str, Any]]:
    """The `expand` parameter of a GET of one record, where the resource has any."""
    if not resource.expandable:
        return []
    return [
        {
            "name": "expand",
            "in": "query",
            "required": False,
            "description": expand_description(resource),
            "schema": _expand_schema(resource),
        }
    ]


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
    if resource.expandable:
        schemas["expand"] = _expand_schema(resource)
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


def _operations(resource: Resource, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The operations of one resource, keyed by operation name, with the given ids."""
    title, items, item = parts.title(resource), resource.name, resource.item
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
            "responses": {
                "200": parts.ok(f"{title}Page", f"A page of {items}."),
                **parts.errors(BadRequest),
            },
        }
    if "get" in resource.operations:
        found["get"] = {
            "operationId": ids["get"],
            "summary": f"One of the caller's {items}.",
            "parameters": [parts.id_parameter(resource), *_expand_parameter(resource)],
            "responses": {
                "200": parts.ok(title, f"The {item}.", parts.ETAG | _expand_header(resource)),
                **parts.errors(BadRequest, NotFound, StoredEntryInvalid),
            },
        }
    if "create" in resource.operations:
        found["create"] = {
            "operationId": ids["create"],
            "summary": f"Create {parts.a(item)} in the caller's tenant.",
            "parameters": [parts.idempotency_key()],
            "requestBody": parts.json_body(f"{title}Create"),
            "responses": {
                "201": parts.ok(title, f"The stored {item}.", parts.ETAG),
                **parts.errors(
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
            "parameters": [parts.id_parameter(resource), parts.if_match()],
            "requestBody": parts.json_body(f"{title}Patch"),
            "responses": {
                "200": parts.ok(title, f"The updated {item}.", parts.ETAG),
                **parts.errors(
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
    if "delete" in resource.operations:
        found["delete"] = {
            "operationId": ids["delete"],
            "summary": f"Delete one of the caller's {items}.",
            "description": (
                f"If-Match names the {item} as read: a change since is 412. The deletion "
                f"is audited and evented ({resource.name}.deleted, with the {item} as it "
                "was) in the same commit."
            ),
            "parameters": [parts.id_parameter(resource), parts.if_match()],
            "responses": {
                "204": {"description": f"The {item} is deleted."},
                **parts.errors(BadRequest, NotFound, PreconditionFailed, PreconditionRequired),
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


def tags(decl: Declaration) -> list[dict[str, str]]:
    """Operations grouped by resource, `/api/v1` first; the first URLs last, as such."""
    tags = [
        {"name": r.name, "description": r.description or f"{r.name} under /api/v1"}
        for r in decl.resources
    ]
    first = decl.first_urls
    if first is not None:
        tags.append(
            {
                "name": first_urls_tag(first),
                "description": (
                    f"The {first.name} operations at the URLs partners integrated with first "
                    f"(fetchData, createEntry, updateEntry): the same as /api/v1/{first.name}."
                ),
            }
        )
    return tags


def first_urls_tag(resource: Resource) -> str:
    return f"{resource.name}: first urls"


def _tagged(operations: dict[str, dict[str, Any]], tag: str) -> dict[str, dict[str, Any]]:
    return {name: {**operation, "tags": [tag]} for name, operation in operations.items()}


def paths(decl: Declaration) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    first = decl.first_urls
    if first is not None:  # the first URLs partners integrated with
        names = {"list": "listEntries", "get": "getEntry", "create": "createEntry"}
        names |= {"update": "updateEntry", "delete": "deleteEntry"}
        legacy = _tagged(_operations(first, names), first_urls_tag(first))
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
        single = parts.title(resource)
        ops = _tagged(
            _operations(
                resource,
                {
                    "list": f"apiList{plural}",
                    "get": f"apiGet{single}",
                    "create": f"apiCreate{single}",
                    "update": f"apiUpdate{single}",
                    "delete": f"apiDelete{single}",
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
            (item, "delete", "delete"),
        ):
            if op in ops:
                paths.setdefault(path, {})[method] = ops[op]
    return paths


def _expandable(schema: dict[str, Any], target: Resource | None) -> dict[str, Any]:
    """A reference's schema: its id, or with `expand` the record it names."""
    if target is None:
        return schema
    description = schema.pop("description", "")
    record = parts.ref(parts.title(target))
    return {
        "anyOf": [schema, record],
        "description": description + " With `expand`, the record itself (or null).",
    }


def _expand_header(resource: Resource) -> dict[str, Any]:
    if not resource.expandable:
        return {}
    return {
        "Expand-Skipped": {
            "description": "Why an expanded reference is null: `<field>: <reason>`, "
            "`; `-separated.",
            "schema": {"type": "string"},
        }
    }


def schemas(resource: Resource, decl: Declaration) -> dict[str, Any]:
    title = parts.title(resource)
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
            "description": "The tenant that owns it"
            + (
                f" (stored as a reference to {resource.tenant_reference}/<tenant id>)."
                if resource.tenant_reference
                else "."
            ),
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
    expandable = {name: decl.get(target) for name, target in resource.expandable}
    record_properties = {
        **system,
        **{
            s.name: parts.value(
                _expandable(kinds.json_schema(s), expandable.get(s.name)),
                not s.required or s.server_set,
            )
            for s in readable
        },
        **{
            name: {"anyOf": [schema, parts.NULL], "description": schema.pop("description") + absent}
            for name, schema in bookkeeping.items()
            if name is not None
        },
    }
    record = {
        "type": "object",
        "description": resource.description or f"{parts.a(resource.item).capitalize()}.",
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
            "properties": {
                s.name: parts.value(kinds.json_schema(s), not s.required) for s in updatable
            },
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
                    "items": {"anyOf": [parts.ref(title), parts.ref(f"{title}Fields")]},
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
