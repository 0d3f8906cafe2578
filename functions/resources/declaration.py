"""The owner's declaration of what partners may reach, read from one TOML file.

`resources.toml` declares each
resource: its collection, the field that names the tenant, its fields with a kind from a
closed set, what partners may do and which fields lists filter by. The validation models,
the Firestore rules block, the composite indexes and the OpenAPI document are generated
from it, so they cannot drift apart. A declaration that cannot be checked alike in Python
and in the rules language is refused here, naming the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from functions.core import config
from functions.core.errors import ConfigurationError
from functions.core.models import DocumentPath, as_document_path

DEFAULT_PATH: Final = config.PACKAGE_ROOT / "resources.toml"
"""This repository's own declaration (the demo `entries`)."""
OWNER_PATH: Final = config.OWNER_FOLDER / "resources.toml"
"""An adopted app's declaration, which `make adopt` starts (see `path`)."""

CHANGE_KINDS: Final = ("created", "updated", "deleted")
"""What happens to a record, each an event type of its resource (`entries.created`)."""
KINDS: Final = (
    "text",
    "decimal",
    "date",
    "currency",
    "integer",
    "boolean",
    "timestamp",
    "number",
    "datetime",
    "geopoint",
    "reference",
    "list",
    "map",
)
NESTED_KINDS: Final = frozenset(KINDS) - {"timestamp"}
"""What a list's items and a map's fields may be (a list's items never a list: Firestore
holds no arrays of arrays)."""
MAX_NESTING = 3
"""Lists and maps inside each other, at most this deep."""
MAX_LIST_ITEMS = 1000
RULES_UNROLLED_ITEMS = 10
"""The longest list whose items the rules check one by one (the rules have no loops, and
evaluate at most 1,000 expressions a request)."""
ACCESS: Final = ("read", "create", "update")
OPERATIONS: Final = ("list", "get", "create", "update", "delete")
DEFAULT_OPERATIONS: Final = ("list", "get", "create", "update")
"""What a resource serves unless it says: a delete is declared, never assumed."""
SYSTEM_FIELDS: Final = ("createdAt", "updatedAt", "createdBy", "version")
"""The server's own fields where a declaration does not place them elsewhere."""
BOOKKEEPING: Final = ("created_at", "updated_at", "created_by", "version")
"""The keys of a resource's `bookkeeping` table, in the order the fields are served."""
DIRECT_ACCESS: Final = ("read", "create", "delete")
ORDER_BY_ID: Final = "id"
QUERY_WORDS: Final = ("limit", "cursor", "fields", "expand")
MAX_EXPAND = 4
"""Reference fields one call may expand."""
RULES_WORDS: Final = frozenset(
    [
        "allow",
        "and",
        "as",
        "bool",
        "bytes",
        "constraint",
        "duration",
        "else",
        "false",
        "float",
        "function",
        "if",
        "in",
        "int",
        "is",
        "latlng",
        "let",
        "list",
        "map",
        "match",
        "math",
        "null",
        "number",
        "or",
        "path",
        "request",
        "resource",
        "return",
        "rules_version",
        "service",
        "string",
        "timestamp",
        "true",
    ]
)
MAX_FILTERS = 3
MAX_RANGES = 2
MAX_PAGE_SIZE_LIMIT = 500
MAX_TEXT_LENGTH = 1000  # RE2 repeats at most 1,000 times; Firestore caps strings anyway
JS_SAFE_INTEGER = 2**53 - 1

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
"""A field name as apps write them (`created_time`, `photoUrl`, `my-field`): letters,
digits, `_` and `-`, not led by a digit or `-`. Firestore reserves `__x__`; a dot would
make a path of it, so it stays out."""
_RESOURCE_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
RESERVED_RESOURCES = frozenset({"events"})
"""Paths under /api/v1 that the package serves itself."""
_COLLECTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")
_TENANT_PATH = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,99})/\{tenant\}/([A-Za-z][A-Za-z0-9_-]{0,99})")
"""`restaurants/{tenant}/orders`: the records of each tenant in its document's subcollection."""
TENANT_IN_PATH = "{tenant}"
_SCOPE = re.compile(r"[a-z][a-z0-9-]{0,62}:[a-z][a-z0-9-]{0,62}")
_ITEM_NOUN = re.compile(r"[a-z][a-z ]{0,40}")
_FILTERABLE = frozenset({"text", "currency", "date", "integer", "boolean", "reference"})
_RANGEABLE = frozenset({"date", "integer", "number", "datetime"})
_ORDERABLE = frozenset({"text", "date", "integer", "timestamp", "number", "datetime"})


def is_field_name(name: str) -> bool:
    """Whether a declaration may name a field so (see `_FIELD_NAME`)."""
    return bool(_FIELD_NAME.fullmatch(name)) and not (
        len(name) >= 4 and name.startswith("__") and name.endswith("__")
    )


class DeclarationError(ConfigurationError):
    """The declaration cannot be served as written; the message names the place."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One declared field: its kind, the kind's bounds, and what partners may do with it."""

    name: str
    kind: str
    required: bool = False
    access: frozenset[str] = frozenset(ACCESS)
    description: str = ""
    example: Any = dataclasses.field(default=None, compare=False)
    min_length: int = 1
    max_length: int = 0
    multiline: bool = False
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    digits: int = 15
    scale: int = 2
    minimum: int = -JS_SAFE_INTEGER
    maximum: int = JS_SAFE_INTEGER
    set_on: str = "create"
    low: Any = None
    """A number's or a datetime's lower bound (a float, an aware datetime); None: none."""
    high: Any = None
    to: str = ""
    """The collection a reference points into."""
    of: FieldSpec | None = None
    """A list's item."""
    min_items: int = 0
    max_items: int = 0
    fields: tuple[FieldSpec, ...] = ()
    """A map's fields."""

    @property
    def readable(self) -> bool:
        return "read" in self.access

    @property
    def creatable(self) -> bool:
        return "create" in self.access and self.kind != "timestamp"

    @property
    def updatable(self) -> bool:
        return "update" in self.access and self.kind != "timestamp"

    @property
    def server_set(self) -> bool:
        return self.kind == "timestamp"

    @property
    def rules_checkable(self) -> bool:
        """Whether the rules can check every value as the API does: not a list of maps,
        nor a list longer than RULES_UNROLLED_ITEMS, nor anything holding either."""
        if self.kind == "list":
            assert self.of is not None
            return (
                self.max_items <= RULES_UNROLLED_ITEMS
                and self.of.kind != "map"
                and self.of.rules_checkable
            )
        return all(item.rules_checkable for item in self.fields)

    def nested_targets(self) -> frozenset[str]:
        """The collections references inside this list or map point into."""
        inner = (*self.fields, *((self.of,) if self.of is not None else ()))
        return frozenset(
            target
            for item in inner
            for target in ({item.to} if item.kind == "reference" else item.nested_targets())
        )


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """Where the server keeps its own fields in a resource's documents; None: nowhere.

    The owner's app may have written documents without them (or under other names): a
    missing one never makes a document invalid. Without a version field, a record's ETag
    is the time Firestore last wrote it.
    """

    created_at: str | None = "createdAt"
    updated_at: str | None = "updatedAt"
    created_by: str | None = "createdBy"
    version: str | None = "version"

    @property
    def fields(self) -> tuple[str, ...]:
        """The declared names, in the order they are served."""
        named = (self.created_at, self.updated_at, self.created_by, self.version)
        return tuple(name for name in named if name is not None)


@dataclass(frozen=True, slots=True)
class Resource:
    """A collection partners may reach, and how."""

    name: str
    collection: str
    item: str
    tenant_field: str
    operations: frozenset[str]
    read_scope: str
    write_scope: str
    fields: tuple[FieldSpec, ...]
    delete_scope: str = ""
    """The scope a delete takes (empty: the write scope); see `scope_of_delete`."""
    filters: tuple[str, ...] = ()
    ranges: tuple[str, ...] = ()
    page_size: int = 20
    max_page_size: int = 100
    description: str = ""
    bookkeeping: Bookkeeping = Bookkeeping()
    order: str = "createdAt"
    """The field a list is ordered by (then by id), or `id` alone."""
    direct_access: frozenset[str] = frozenset()
    """What partners may do straight on Firestore with an ID token: read, create."""
    tenant_reference: str = ""
    """Where the tenant field holds a reference to the tenant's document (`restaurants`:
    `restaurants/<tenant id>`) instead of the id itself; empty: the id."""
    first_urls: bool = False
    """Whether `fetchData`, `createEntry` and `updateEntry` serve this resource (the URLs
    partners integrated with first; at most one resource, none in a new app)."""
    expandable: tuple[tuple[str, str], ...] = ()
    """The readable reference fields into a declared resource's collection, each with that
    resource's name: `?expand=` replaces such an id by the record (the caller's own)."""
    api_only: tuple[str, ...] = ()
    """Fields a direct create may not hold: the rules cannot check them as the API does
    (see `FieldSpec.rules_checkable`, and references to a tenant's records inside lists
    or maps, which the rules cannot look up)."""

    def field(self, name: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.name == name)

    @property
    def scope_of_delete(self) -> str:
        return self.delete_scope or self.write_scope

    @property
    def tenant_in_path(self) -> bool:
        """Whether each tenant's records are the subcollection of its document
        (`restaurants/{tenant}/orders`): they then hold no tenant field, and the store
        gives each document read the tenant of its path under `tenant_field`."""
        return TENANT_IN_PATH in self.collection

    def collection_of(self, partner_id: str) -> str:
        """The collection a tenant's records are in."""
        return self.collection.replace(TENANT_IN_PATH, partner_id)

    @property
    def collection_id(self) -> str:
        """The last segment of the collection (a collection group's name)."""
        return self.collection.rsplit("/", 1)[-1]

    def tenant_value(self, partner_id: str) -> Any:
        """What a record of `partner_id` stores in its tenant field (as the store gives it,
        for records whose tenant is in their path)."""
        if self.tenant_reference:
            return DocumentPath(f"{self.tenant_reference}/{partner_id}")
        return partner_id

    def tenant_of(self, data: Mapping[str, Any]) -> str | None:
        """The tenant a stored document belongs to; None: no partner's (no tenant field,
        or not a value of the declared form)."""
        value = data.get(self.tenant_field)
        if self.tenant_reference:
            path = as_document_path(value)
            if path is None or path.collection != self.tenant_reference:
                return None
            return path.id
        return value if isinstance(value, str) and value else None

    @property
    def event_types(self) -> tuple[str, ...]:
        """The resource's change events, as partners subscribe to them."""
        return tuple(f"{self.name}.{kind}" for kind in CHANGE_KINDS)

    @property
    def order_field(self) -> str | None:
        """The stored field a list is ordered by before the document id; None: by id."""
        return None if self.order == ORDER_BY_ID else self.order

    def order_keys(self, leading: str | None = None) -> tuple[tuple[str, str], ...]:
        """The fields a list is ordered by before the document id, with their kinds: the
        range field a list bounds (if any), then the order field (a bookkeeping time is a
        timestamp)."""
        keys = [] if leading is None else [(leading, self.field(leading).kind)]
        field = self.order_field
        if field is not None and field != leading:
            kind = "timestamp" if field in self.bookkeeping.fields else self.field(field).kind
            keys.append((field, kind))
        return tuple(keys)

    @property
    def order_always_written(self) -> bool:
        """Whether every record the API writes holds the order field (its own documents
        always reach a list; other writers' documents may not)."""
        field = self.order_field
        if field is None or field == self.bookkeeping.created_at:
            return True
        if field in self.bookkeeping.fields:
            return False
        spec = self.field(field)
        return spec.required or (spec.server_set and spec.set_on in ("create", "write"))

    @property
    def hidden(self) -> tuple[str, ...]:
        """Fields partners never see: the rules then deny direct reads of the collection."""
        return tuple(spec.name for spec in self.fields if not spec.readable)

    @property
    def server_fields(self) -> tuple[str, ...]:
        return ("id", self.tenant_field, *self.bookkeeping.fields)

    @property
    def wire_fields(self) -> tuple[str, ...]:
        """What a partner reads, in order: id, tenant, the readable fields, bookkeeping."""
        readable = tuple(spec.name for spec in self.fields if spec.readable)
        return ("id", self.tenant_field, *readable, *self.bookkeeping.fields)

    def query_params(self) -> dict[str, str]:
        """The query parameters of the resource's list, with their descriptions: what the
        parser accepts and the contract documents."""
        items = self.name
        params = {
            "limit": f"Page size, 1 to {self.max_page_size} (default {self.page_size}).",
            "cursor": "The next_cursor of the previous page.",
        }
        for name in self.ranges:
            params[f"{name}From"] = f"Only {items} whose {name} is on or after this value."
            params[f"{name}To"] = f"Only {items} whose {name} is on or before this value."
        for name in self.filters:
            params[name] = f"Only {items} whose {name} is this value."
        params["fields"] = (
            "Comma-separated fields to return (id is always returned): "
            + ", ".join(self.wire_fields)
            + "."
        )
        if self.expandable:
            params["expand"] = expand_description(self)
        return params

    @property
    def stored_fields(self) -> tuple[str, ...]:
        """Every field a stored document of this resource may hold."""
        names = (spec.name for spec in self.fields)
        return (self.tenant_field, *names, *self.bookkeeping.fields)


@dataclass(frozen=True, slots=True)
class Declaration:
    resources: tuple[Resource, ...]
    source: str = ""

    def get(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name), None)

    @property
    def first_urls(self) -> Resource | None:
        """The resource the first URLs serve; None: they are not deployed."""
        return next((r for r in self.resources if r.first_urls), None)

    def at(self, collection: str) -> Resource | None:
        """The resource declared on `collection`: its records are a tenant's, so a
        reference into it must stay within the caller's tenant."""
        return next((r for r in self.resources if r.collection == collection), None)

    def scopes(self) -> frozenset[str]:
        return frozenset(
            s for r in self.resources for s in (r.read_scope, r.write_scope, r.scope_of_delete)
        )


def path() -> Path:
    """The file PARTNER_RESOURCES names, else the owner's (`owner/resources.toml`, where
    adoption made one), else this repository's own `resources.toml`."""
    raw = os.environ.get("PARTNER_RESOURCES", "").strip()
    if raw:
        return Path(raw)
    return OWNER_PATH if OWNER_PATH.is_file() else DEFAULT_PATH


@functools.cache
def _load_cached(location: str) -> Declaration:
    return load(Path(location))


def current() -> Declaration:
    """The declaration this process serves (read once per file).

    Raises:
        DeclarationError: the file is missing, unparsable or not expressible.
    """
    return _load_cached(str(path()))


def load(location: Path) -> Declaration:
    """Raises: DeclarationError naming the file and the place of the first problem."""
    try:
        raw = tomllib.loads(location.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(f"{location.name}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationError(f"{location.name}: not valid TOML ({exc})") from exc
    return parse(raw, source=location.name)


def parse(raw: Mapping[str, Any], *, source: str = "resources.toml") -> Declaration:
    """Raises: DeclarationError naming the place of the first problem."""
    resources = tuple(_resource(name, table, source) for name, table in raw.items())
    collections = {resource.collection for resource in resources}
    resources = tuple(_with_api_only(resource, collections, source) for resource in resources)
    named = {r.collection: r.name for r in resources if not r.tenant_in_path}
    resources = tuple(_with_expandable(resource, named) for resource in resources)
    marked = [resource.name for resource in resources if resource.first_urls]
    if len(marked) > 1:
        raise DeclarationError(
            f"{source}: {marked[1]}: first_urls: {marked[0]} has them already (fetchData, "
            "createEntry and updateEntry serve one resource)"
        )
    seen: dict[str, str] = {}
    for resource in resources:
        if resource.collection in seen:
            raise DeclarationError(
                f"{source}: {resource.name}: collection {resource.collection!r} is already "
                f"declared by {seen[resource.collection]}"
            )
        seen[resource.collection] = resource.name
    return Declaration(resources, source)


def expand_description(resource: Resource) -> str:
    names = ", ".join(name for name, _ in resource.expandable)
    return (
        f"Comma-separated reference fields to replace by the record they name (one level, "
        f"at most {MAX_EXPAND}): {names}. A record the caller may not read (another "
        "tenant's, a missing one, one of a resource its scopes do not reach) is null, with "
        "the reason in `skipped` (a list) or the Expand-Skipped header (one record)."
    )


def _with_expandable(resource: Resource, declared: Mapping[str, str]) -> Resource:
    """`resource` with its expandable fields (`declared`: each top-level collection's
    resource name)."""
    found = tuple(
        (spec.name, declared[spec.to])
        for spec in resource.fields
        if spec.kind == "reference" and spec.readable and spec.to in declared
    )
    return dataclasses.replace(resource, expandable=found)


def _with_api_only(resource: Resource, collections: set[str], source: str) -> Resource:
    api_only = tuple(
        spec.name
        for spec in resource.fields
        if spec.creatable and (not spec.rules_checkable or spec.nested_targets() & collections)
    )
    if "create" in resource.direct_access:
        for name in api_only:
            if resource.field(name).required:
                raise DeclarationError(
                    f"{source}: {resource.name}: direct_access: create: the rules cannot "
                    f"check the required field {name!r} as the API does (a list of maps, a "
                    f"list longer than {RULES_UNROLLED_ITEMS}, or a reference to a tenant's "
                    "records inside a list or map); partners create through the API only"
                )
    return dataclasses.replace(resource, api_only=api_only)


class _Table:
    """Reads one TOML table, refusing unknown keys and wrong types with their place."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise DeclarationError(f"{where}: must be a table")
        self.raw, self.where, self.used = raw, where, set[str]()

    def fail(self, message: str) -> DeclarationError:
        return DeclarationError(f"{self.where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        self.used.add(key)
        if key not in self.raw:
            return default
        value = self.raw[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(f"{key} must be a {names}")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, list, list(default))
        if not all(isinstance(item, str) for item in value):
            raise self.fail(f"{key} must be a list of strings")
        if len(set(value)) != len(value):
            raise self.fail(f"{key} repeats a value")
        return tuple(value)

    def finish(self) -> None:
        unknown = sorted(set(self.raw) - self.used)
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r}")


def _resource(name: str, raw: Any, source: str) -> Resource:
    where = f"{source}: {name}"
    if not _RESOURCE_NAME.fullmatch(name):
        raise DeclarationError(f"{where}: a resource name is lower-case letters, digits and -")
    if name in RESERVED_RESOURCES:
        raise DeclarationError(f"{where}: /api/v1/{name} is the package's own; choose another name")
    table = _Table(raw, where)
    collection, tenant, tenant_reference = _tenancy(table, name)
    operations = table.strings("operations", DEFAULT_OPERATIONS)
    if unknown := sorted(set(operations) - set(OPERATIONS)):
        raise table.fail(f"operation {unknown[0]!r} is not one of {', '.join(OPERATIONS)}")
    if not operations:
        raise table.fail("operations is empty: declare at least one")
    scopes = (table.get("read_scope", str, f"{name}:read"), table.get("write_scope", str, ""))
    read_scope, write_scope = scopes[0], scopes[1] or f"{name}:write"
    delete_scope = table.get("delete_scope", str, "")
    if delete_scope and "delete" not in operations:
        raise table.fail("delete_scope needs the delete operation")
    for scope in (read_scope, write_scope, *([delete_scope] if delete_scope else [])):
        if not _SCOPE.fullmatch(scope):
            raise table.fail(f"scope {scope!r} is not of the form resource:access")
    item = table.get("item", str, name.removesuffix("s").replace("-", " "))
    if not _ITEM_NOUN.fullmatch(item):
        raise table.fail("item must be a short lower-case noun, such as 'entry'")
    fields_table = _Table(table.get("fields", Mapping, {}), f"{where}.fields")
    fields = tuple(
        _field(field_name, spec, f"{where}.fields.{field_name}", tenant)
        for field_name, spec in fields_table.raw.items()
    )
    fields_table.used.update(fields_table.raw)
    if not fields:
        raise table.fail("declares no fields")
    page_size = table.get("page_size", int, 20)
    max_page_size = table.get("max_page_size", int, 100)
    if not 1 <= page_size <= max_page_size <= MAX_PAGE_SIZE_LIMIT:
        raise table.fail(f"need 1 <= page_size <= max_page_size <= {MAX_PAGE_SIZE_LIMIT}")
    bookkeeping = _bookkeeping(table, tenant, fields)
    direct_access = table.strings("direct_access")
    if unknown := sorted(set(direct_access) - set(DIRECT_ACCESS)):
        raise table.fail(
            f"direct_access {unknown[0]!r} is not one of {', '.join(DIRECT_ACCESS)} "
            "(partners update records through the API only)"
        )
    default_order = bookkeeping.created_at or ORDER_BY_ID
    resource = Resource(
        name=name,
        collection=collection,
        item=item,
        tenant_field=tenant,
        tenant_reference=tenant_reference,
        operations=frozenset(operations),
        read_scope=read_scope,
        write_scope=write_scope,
        delete_scope=delete_scope,
        fields=fields,
        filters=table.strings("filters"),
        ranges=table.strings("ranges"),
        page_size=page_size,
        max_page_size=max_page_size,
        description=table.get("description", str, ""),
        bookkeeping=bookkeeping,
        order=table.get("order", str, default_order),
        direct_access=frozenset(direct_access),
        first_urls=table.get("first_urls", bool, False),
    )
    table.finish()
    _check_lists(resource, table)
    _check_order(resource, table)
    _check_direct_access(resource, table)
    return resource


def _tenancy(table: _Table, name: str) -> tuple[str, str, str]:
    """Where a resource's records are and where their tenant is: the collection (a
    tenant's subcollection with `{tenant}`), the tenant field, the tenant reference."""
    collection = table.get("collection", str, name)
    top = collection.split("/", 1)[0]
    if "/" in collection and not _TENANT_PATH.fullmatch(collection):
        raise table.fail(
            f"collection {collection!r}: a subcollection is declared as "
            '"<tenants>/{tenant}/<records>", such as "restaurants/{tenant}/orders"'
        )
    if not _COLLECTION.fullmatch(top) or top in config.own_collections():
        raise table.fail(f"collection {collection!r} is not a collection partners may reach")
    tenant = table.get("tenant_field", str, "partnerId")
    if not is_field_name(tenant):
        raise table.fail(f"tenant_field {tenant!r} is not a field name")
    tenant_reference = table.get("tenant_reference", str, "")
    if tenant_reference and not _COLLECTION.fullmatch(tenant_reference):
        raise table.fail(
            f"tenant_reference {tenant_reference!r} is not a collection: name the one your "
            'tenants\' documents are in, such as "restaurants"'
        )
    if tenant_reference and TENANT_IN_PATH in collection:
        raise table.fail("the tenant is in the collection's path; tenant_reference has no use")
    return collection, tenant, tenant_reference


def _bookkeeping(table: _Table, tenant: str, fields: tuple[FieldSpec, ...]) -> Bookkeeping:
    """The `bookkeeping` table: each key a field name, or false where there is none."""
    raw = _Table(table.get("bookkeeping", Mapping, {}), f"{table.where}.bookkeeping")
    defaults = Bookkeeping()
    names: dict[str, str | None] = {}
    for key in BOOKKEEPING:
        value = raw.get(key, (str, bool), getattr(defaults, key))
        if value is True:
            raise raw.fail(f"{key} takes a field name, or false where there is none")
        name = value or None
        if name is not None:
            if not is_field_name(name):
                raise raw.fail(f"{key}: {name!r} is not a field name")
            if name in (tenant, "id", *QUERY_WORDS):
                raise raw.fail(f"{key}: {name!r} is set by the server or reserved")
            if any(spec.name == name for spec in fields):
                raise DeclarationError(
                    f"{table.where}.fields.{name}: {name!r} is where the server keeps "
                    f"{key}; declare bookkeeping.{key} = false (or another name) to use it"
                )
            if name in names.values():
                raise raw.fail(f"{key}: {name!r} is named twice")
        names[key] = name
    raw.finish()
    return Bookkeeping(**names)


def _check_order(resource: Resource, table: _Table) -> None:
    order = resource.order
    if order in (ORDER_BY_ID, resource.bookkeeping.created_at):
        return
    if order in resource.bookkeeping.fields:
        raise table.fail(
            f"order: {order!r} changes with every write; order by the creation time, "
            "a declared field or id"
        )
    _check_usable(resource, table, "order", order, _ORDERABLE)
    if order in resource.ranges:
        raise table.fail(f"order: {order!r} is a range; a bounded list is ordered by it anyway")


def _check_direct_access(resource: Resource, table: _Table) -> None:
    if "read" in resource.direct_access:
        if not {"get", "list"} & resource.operations:
            raise table.fail("direct_access: read needs the get or list operation")
        if resource.hidden:
            raise table.fail(
                f"direct_access: read would show the hidden field {resource.hidden[0]!r} "
                "(rules cannot hide a field); partners read through the API only"
            )
    if "create" in resource.direct_access and "create" not in resource.operations:
        raise table.fail("direct_access: create needs the create operation")
    if "delete" in resource.direct_access and "delete" not in resource.operations:
        raise table.fail("direct_access: delete needs the delete operation")


def _check_usable(
    resource: Resource, table: _Table, what: str, name: str, allowed: frozenset[str]
) -> None:
    """A field a list filters, bounds or orders by: declared, readable (a list would
    reveal it otherwise) and of a kind `what` takes."""
    if name not in {spec.name for spec in resource.fields}:
        raise table.fail(f"{what}: {name!r} is not a declared field")
    spec = resource.field(name)
    if not spec.readable:
        raise table.fail(f"{what}: {name!r} is hidden; the list would reveal it")
    if spec.kind not in allowed:
        raise table.fail(
            f"{what}: {name!r} is a {spec.kind}; {what} takes {', '.join(sorted(allowed))}"
        )


def _check_lists(resource: Resource, table: _Table) -> None:
    if len(resource.filters) > MAX_FILTERS or len(resource.ranges) > MAX_RANGES:
        raise table.fail(
            f"at most {MAX_FILTERS} filters and {MAX_RANGES} ranges (each combination needs "
            "a composite index)"
        )
    for kind, allowed, listed in (
        ("filters", _FILTERABLE, resource.filters),
        ("ranges", _RANGEABLE, resource.ranges),
    ):
        for name in listed:
            _check_usable(resource, table, kind, name, allowed)
    params = [*resource.filters, *(f"{r}{end}" for r in resource.ranges for end in ("From", "To"))]
    for param in params:
        if param in QUERY_WORDS or params.count(param) > 1:
            raise table.fail(f"the query parameter {param!r} would be ambiguous")
    if set(resource.filters) & set(resource.ranges):
        raise table.fail("a field is either a filter or a range, not both")


def _field(name: str, raw: Any, where: str, tenant: str) -> FieldSpec:
    if name in (tenant, "id", *QUERY_WORDS):
        raise DeclarationError(f"{where}: {name!r} is set by the server or reserved")
    return _value_spec(name, raw, where, depth=0, nested=False)


def _check_name(name: str, where: str) -> None:
    if not is_field_name(name):
        raise DeclarationError(
            f"{where}: a field name is letters, digits, _ and - (at most 64, not led by a "
            "digit or -, never __x__)"
        )


def _value_spec(name: str, raw: Any, where: str, *, depth: int, nested: bool) -> FieldSpec:
    """One field, or a list's item or a map's field (`nested`) at `depth` containers in."""
    if name:
        _check_name(name, where)
    table = _Table(raw, where)
    kind = table.get("kind", str, "")
    allowed = NESTED_KINDS if nested else frozenset(KINDS)
    if kind not in allowed:
        raise table.fail(
            f"kind {kind!r} is not one of {', '.join(k for k in KINDS if k in allowed)}"
        )
    if kind in ("list", "map") and depth >= MAX_NESTING:
        raise table.fail(f"lists and maps nest at most {MAX_NESTING} deep")
    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "required": table.get("required", bool, False) if name else True,
        "description": table.get("description", str, ""),
        "example": table.get("example", (str, int, float, bool, list, Mapping), None),
    }
    if not nested:
        access = table.strings("access", ("read",) if kind == "timestamp" else ACCESS)
        if unknown := sorted(set(access) - set(ACCESS)):
            raise table.fail(f"access {unknown[0]!r} is not one of {', '.join(ACCESS)}")
        values["access"] = frozenset(access)
    if kind == "text":
        values |= _text_options(table)
    elif kind == "decimal":
        values["digits"] = table.get("digits", int, 15)
        values["scale"] = table.get("scale", int, 2)
        if not 1 <= values["digits"] <= 18 or not 0 <= values["scale"] <= 9:
            raise table.fail("digits must be 1 to 18 and scale 0 to 9")
    elif kind == "integer":
        values["minimum"] = table.get("minimum", int, -JS_SAFE_INTEGER)
        values["maximum"] = table.get("maximum", int, JS_SAFE_INTEGER)
        if not -JS_SAFE_INTEGER <= values["minimum"] <= values["maximum"] <= JS_SAFE_INTEGER:
            raise table.fail("need minimum <= maximum, both within +/-(2**53 - 1)")
    elif kind == "number":
        values |= _number_bounds(table)
    elif kind == "datetime":
        values |= _datetime_bounds(table)
    elif kind == "reference":
        values["to"] = table.get("to", str, "")
        if not _COLLECTION.fullmatch(values["to"]):
            raise table.fail('a reference names the collection it points into: to = "users"')
    elif kind == "list":
        values |= _list_options(table, where, depth)
    elif kind == "map":
        values["fields"] = _map_fields(table, where, depth)
    elif kind == "timestamp":
        values["set_on"] = table.get("set_on", str, "create")
        if values["set_on"] not in ("create", "write"):
            raise table.fail("set_on must be 'create' or 'write'")
        if set(values["access"]) - {"read"} or values["required"]:
            raise table.fail("a timestamp is set by the server: access may only be ['read']")
    table.finish()
    spec = FieldSpec(**values)
    if spec.required and not spec.creatable and not spec.server_set:
        raise table.fail("a required field must be one partners may set on create")
    return spec


def _number_bounds(table: _Table) -> dict[str, Any]:
    low = table.get("minimum", (int, float), None)
    high = table.get("maximum", (int, float), None)
    for bound in (low, high):
        if bound is not None and not math.isfinite(bound):
            raise table.fail("a number's bounds are finite")
    if low is not None and high is not None and low > high:
        raise table.fail("need minimum <= maximum")
    return {
        "low": None if low is None else float(low),
        "high": None if high is None else float(high),
    }


def _datetime_bounds(table: _Table) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for key, attribute in (("minimum", "low"), ("maximum", "high")):
        raw = table.get(key, (str, dt.datetime), None)
        if raw is None:
            continue
        moment = parse_moment(raw) if isinstance(raw, str) else raw
        if moment is None or moment.tzinfo is None:
            raise table.fail(
                f"{key} must be an RFC 3339 time with an offset, such as 2026-01-01T00:00:00Z"
            )
        if moment.microsecond % 1000:
            raise table.fail(
                f"{key}: the rules compare times to the millisecond; drop the microseconds"
            )
        bounds[attribute] = moment.astimezone(dt.UTC)
    if len(bounds) == 2 and bounds["low"] > bounds["high"]:
        raise table.fail("need minimum <= maximum")
    return bounds


def _list_options(table: _Table, where: str, depth: int) -> dict[str, Any]:
    max_items = table.get("max_items", int, 0)
    min_items = table.get("min_items", int, 0)
    if not 0 <= min_items <= max_items or not 1 <= max_items <= MAX_LIST_ITEMS:
        raise table.fail(
            f"a list needs max_items (1 to {MAX_LIST_ITEMS}) and 0 <= min_items <= max_items"
        )
    item = _value_spec(
        "", table.get("of", Mapping, None) or {}, f"{where}.of", depth=depth + 1, nested=True
    )
    if item.kind == "list":
        raise table.fail("of: a list's items are never lists (Firestore has no arrays of arrays)")
    return {"of": item, "min_items": min_items, "max_items": max_items}


def _map_fields(table: _Table, where: str, depth: int) -> tuple[FieldSpec, ...]:
    raw = table.get("fields", Mapping, {})
    fields = tuple(
        _value_spec(key, value, f"{where}.fields.{key}", depth=depth + 1, nested=True)
        for key, value in raw.items()
    )
    if not fields:
        raise table.fail("a map declares its fields")
    return fields


_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def parse_moment(text: str) -> dt.datetime | None:
    """An RFC 3339 time with its offset (`Z` or `+02:00`, up to nanoseconds, which
    Firestore keeps to the microsecond), or None. Years 0001 to 9999 in UTC, as
    Firestore holds them."""
    if not _MOMENT.fullmatch(text):
        return None
    fraction = ""
    head, _, rest = text.partition(".")
    if rest:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        fraction, zone = digits[:6], rest[len(digits) :]
        text = f"{head}.{fraction.ljust(6, '0')}{zone}"
    text = text.upper().replace("Z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _text_options(table: _Table) -> dict[str, Any]:
    max_length = table.get("max_length", int, 0)
    min_length = table.get("min_length", int, 1)
    if not 1 <= min_length <= max_length <= MAX_TEXT_LENGTH:
        raise table.fail(f"text needs 1 <= min_length <= max_length <= {MAX_TEXT_LENGTH}")
    pattern = table.get("pattern", str, None)
    if pattern is not None:
        check_portable_pattern(pattern, table)
    enum = table.strings("enum")
    for value in enum:
        if not value.strip() or any(c in value for c in "'\\") or not value.isprintable():
            raise table.fail(f"enum value {value!r} must be printable, not blank, without ' or \\")
        if not min_length <= len(value.encode("utf-16-le")) // 2 <= max_length:
            raise table.fail(f"enum value {value!r} is outside min_length..max_length")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise table.fail(f"enum value {value!r} does not match the pattern")
    return {
        "max_length": max_length,
        "min_length": min_length,
        "multiline": table.get("multiline", bool, False),
        "pattern": pattern,
        "enum": enum,
    }


_ESCAPE = re.compile(r"\\(.)")
_ALLOWED_ESCAPES = frozenset(".^$*+?()[]{}|-/\\ntrx")
_COUNT = re.compile(r"\{(\d*)(,?)(\d*)\}")


def check_portable_pattern(pattern: str, table: _Table) -> None:
    """Refuse what Python's `re` and RE2 (the rules' regular expressions) read differently.

    Only a common subset passes: anchored, no lookaround or backreference, no class
    shorthands (`\\d` is any Unicode digit in Python, ASCII only in RE2), no `\\u`
    escapes, no POSIX classes, repetition counts up to 1,000.
    """
    if not pattern.isprintable():
        raise table.fail(
            "pattern holds a control or invisible character; write it as an escape "
            "(\\n, \\x09) so the rules can hold it"
        )
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise table.fail("pattern must be anchored: start with ^ and end with $")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise table.fail(f"pattern is not a regular expression ({exc})") from exc
    if "(?" in pattern.replace("(?:", ""):
        raise table.fail("pattern may not use (?...) groups other than (?:...)")
    if "[:" in pattern:
        raise table.fail("pattern may not use POSIX classes such as [:alpha:]")
    for match in _ESCAPE.finditer(pattern):
        if match.group(1) not in _ALLOWED_ESCAPES:
            raise table.fail(
                f"pattern escape \\{match.group(1)} reads differently in the rules; "
                "write a class such as [0-9] instead"
            )
    if re.search(r"\\x(?![0-9A-Fa-f]{2})", pattern):
        raise table.fail("pattern: write \\x with exactly two hex digits")
    for low, comma, high in _COUNT.findall(pattern):
        if (comma and not low) or max(int(low or 0), int(high or 0)) > MAX_TEXT_LENGTH:
            raise table.fail("pattern: repetition counts are {n}, {n,} or {n,m} up to 1,000")
