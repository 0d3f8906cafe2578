"""Records of the declared resources in Firestore, persistence only.

Every query is scoped to the caller's tenant (the resource's tenant field) and every read
is counted. A change is added to the unit of work the domain hands over (`add_create`,
`add_update`): what the record holds, its audit entry and its event are decided there
(`functions.domain.records`). Another tenant's record is "not found", exactly like a
missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.core import config, logs
from functions.core.errors import (
    NotFound,
    StoredEntryInvalid,
)
from functions.core.models import (
    Bounds,
    DocumentPath,
    Page,
    Position,
    Record,
    is_document_id,
)
from functions.resources import validation
from functions.resources.declaration import TENANT_IN_PATH, Resource
from functions.store import calls, wire
from functions.store.client import (
    UnitOfWork,
    backend_errors,
    call_options,
    client,
    count_reads,
    new_id,
)

if TYPE_CHECKING:
    from google.cloud import firestore

CONFLICT_ATTEMPTS = 5


def _collection(
    resource: Resource, database: firestore.Client | None = None, *, partner_id: str = ""
) -> firestore.CollectionReference:
    """The resource's collection; where the tenant is in the path, `partner_id`'s (its
    records only: never a collection group, for a partner)."""
    database = database or client()
    path = config.resource_collection(resource.name, resource.collection)
    if resource.tenant_in_path:
        if not partner_id:
            raise ValueError(f"{resource.name}: whose records? the tenant is in the path")
        path = path.replace(TENANT_IN_PATH, partner_id)
    return database.collection(path)


def _data(resource: Resource, snapshot: Any) -> dict[str, Any]:
    """A read document's data; where the tenant is in the path, with the tenant of its
    path under `tenant_field` (what the domain reads a record's tenant from)."""
    data: dict[str, Any] = snapshot.to_dict() or {}
    if resource.tenant_in_path:
        data[resource.tenant_field] = snapshot.reference.parent.parent.id
    return data


def _written(resource: Resource, document: Mapping[str, Any]) -> dict[str, Any]:
    """What is stored of a document: where the tenant is in the path, no tenant field."""
    if resource.tenant_in_path:
        return {k: v for k, v in document.items() if k != resource.tenant_field}
    return dict(document)


def count(resource: Resource, database: firestore.Client) -> int:
    """How many documents the resource's collection holds (one aggregation query); for a
    tenant's subcollection, every subcollection of that name (the group is counted)."""
    with backend_errors():
        collection: Any = _every_tenant(resource, database)
        found = collection.count().get(**call_options("run_aggregation_query"))
    return int(found[0][0].value)


def scan(
    resource: Resource,
    database: firestore.Client,
    *,
    partner_id: str | None = None,
    page_size: int = 300,
) -> Iterator[tuple[str, dict[str, Any], dt.datetime]]:
    """Every document of the resource's collection (or of one tenant), in id order, a page
    at a time: the owner's view, for `inspect`; a stop after any page costs no more reads.
    """
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    if resource.tenant_in_path:
        query: Any = (
            _every_tenant(resource, database)
            if partner_id is None
            else _collection(resource, database, partner_id=partner_id)
        )
    else:
        query = _collection(resource, database)
        if partner_id is not None:
            tenant = _stored(resource.tenant_value(partner_id), database)
            query = query.where(
                filter=FieldFilter(wire.field_path(resource.tenant_field), "==", tenant)
            )
    query = query.order_by("__name__")
    last = None
    while True:
        page = query if last is None else query.start_after(last)
        with backend_errors():
            snapshots = calls.stream(page.limit(page_size))
        for snapshot in snapshots:
            if _in_declared_path(resource, snapshot):
                yield snapshot.id, _data(resource, snapshot), snapshot.update_time
        if len(snapshots) < page_size:
            return
        last = snapshots[-1]


def sample(
    database: firestore.Client, collection: str, *, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """At most `limit` documents of `collection` (`restaurants/*/orders`: the `orders` of
    every restaurant, none of a same-named subcollection elsewhere), in path order, as
    (path, data): read only, for a proposed declaration."""
    segments = collection.strip("/").split("/")
    if len(segments) == 1:
        query: Any = database.collection(segments[0]).order_by("__name__").limit(limit)
        with backend_errors():
            return [(s.reference.path, s.to_dict() or {}) for s in calls.stream(query)]
    parent, records = segments[0], segments[2]
    group = database.collection_group(records).order_by("__name__")
    found: list[tuple[str, dict[str, Any]]] = []
    last = None
    while len(found) < limit:
        page = group if last is None else group.start_after(last)
        with backend_errors():
            snapshots = calls.stream(page.limit(300))
        for snapshot in snapshots:
            path = snapshot.reference.path.split("/")
            if len(path) == 4 and path[0] == parent and len(found) < limit:
                found.append((snapshot.reference.path, snapshot.to_dict() or {}))
        if len(snapshots) < 300:
            break
        last = snapshots[-1]
    return found


def _every_tenant(resource: Resource, database: firestore.Client) -> Any:
    """Every tenant's records, for the owner's `inspect`: where the tenant is in the path,
    the collection group (documents of a same-named subcollection elsewhere are left out
    as they are read)."""
    if resource.tenant_in_path:
        return database.collection_group(resource.collection_id)
    return _collection(resource, database)


def _in_declared_path(resource: Resource, snapshot: Any) -> bool:
    if not resource.tenant_in_path:
        return True
    parent = snapshot.reference.parent.parent
    return (
        parent is not None
        and parent.parent.id == resource.collection.split("/", 1)[0]
        and (parent.parent.parent is None)
    )


def _record_from(resource: Resource, snapshot: Any) -> Record:
    """Raises: StoredEntryInvalid when the stored document is not a valid record."""
    record = _record_or_none(resource, snapshot)
    if record is None:
        raise StoredEntryInvalid(resource.item)
    return record


def _record_or_none(resource: Resource, snapshot: Any) -> Record | None:
    """The record a stored document holds, or None (logged) when it does not hold a valid
    one: other writers (the owner's app, an older version, a direct client) may have
    left documents the API cannot vouch for."""
    return valid_or_none(resource, snapshot.id, _data(resource, snapshot), snapshot.update_time)


def valid_or_none(
    resource: Resource, doc_id: str, data: Mapping[str, Any], written: dt.datetime
) -> Record | None:
    try:
        return validation.record_from(resource, doc_id, data, written=written)
    except validation.InvalidStored as exc:
        logs.log(
            "WARNING",
            f"stored {resource.item} {doc_id} is not valid ({', '.join(exc.fields)}); left out",
            code="stored_record_invalid",
            resource=resource.name,
        )
        return None


def _position_of(snapshot: Any, keys: tuple[str, ...]) -> Position | None:
    """Where a list resumes after `snapshot`, read from its stored order fields."""
    data, values = snapshot.to_dict() or {}, []
    for name in keys:
        value = data.get(name)
        if not isinstance(value, (str, int, float, dt.datetime)) or isinstance(value, bool):
            return None
        values.append(value)
    return Position(tuple(values), snapshot.id)


def _owned(resource: Resource, snapshot: Any, partner_id: str) -> bool:
    # A document another writer left without the tenant field belongs to no partner.
    data = _data(resource, snapshot) if snapshot.exists else None
    return data is not None and resource.tenant_of(data) == partner_id


def _not_found(resource: Resource) -> NotFound:
    return NotFound(f"No {resource.item} with this id.")


def get_record(resource: Resource, partner_id: str, doc_id: str) -> Record:
    """Raises:
    NotFound: the record is missing or belongs to another tenant (same answer).
    StoredEntryInvalid: the caller's document exists but is not a valid record.
    """
    if not is_document_id(doc_id):
        raise _not_found(resource)
    with backend_errors():
        snapshot = calls.get(_collection(resource, partner_id=partner_id).document(doc_id))
    count_reads(1)
    if not _owned(resource, snapshot, partner_id):
        raise _not_found(resource)
    return _record_from(resource, snapshot)


def list_records(
    resource: Resource,
    partner_id: str,
    *,
    limit: int,
    after: Position | None = None,
    equals: tuple[tuple[str, Any], ...] = (),
    bounds: Bounds | None = None,
) -> Page:
    """One page of the tenant's records in list order; reads at most `limit + 1` documents.

    Stored documents that are not valid records are left out of the page and named in its
    `skipped`; the page still resumes after the last document read, so none is skipped
    silently and a bad one never stops the list.
    """
    query = list_query(resource, partner_id, equals=equals, bounds=bounds, after=after)
    with backend_errors():
        snapshots = calls.stream(query.limit(limit + 1))
    count_reads(len(snapshots))
    page = snapshots[:limit]
    records, skipped = [], []
    for snapshot in page:
        record = _record_or_none(resource, snapshot)
        if record is None:
            skipped.append(snapshot.id)
        else:
            records.append(record)
    next_after = None
    if len(snapshots) > limit:
        keys = tuple(name for name, _ in resource.order_keys(bounds.field if bounds else None))
        positions = (_position_of(s, keys) for s in reversed(page))
        next_after = next((p for p in positions if p is not None), None)
    return Page(records, next_after, skipped)


def list_query(
    resource: Resource,
    partner_id: str,
    *,
    equals: tuple[tuple[str, Any], ...] = (),
    bounds: Bounds | None = None,
    after: Position | None = None,
) -> Any:
    """The query behind a list; every shape of it has a generated composite index."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    path = wire.field_path
    collection = _collection(resource, partner_id=partner_id)
    database = collection._client  # noqa: SLF001 - the SDK names no public way to it
    query: Any = collection
    if not resource.tenant_in_path:  # a tenant's subcollection holds only its records
        tenant = _stored(resource.tenant_value(partner_id), database)
        query = collection.where(filter=FieldFilter(path(resource.tenant_field), "==", tenant))
    for name, value in equals:  # a reference as the SDK's
        query = query.where(filter=FieldFilter(path(name), "==", _stored(value, database)))
    if bounds is not None:
        if bounds.low is not None:
            query = query.where(filter=FieldFilter(path(bounds.field), ">=", bounds.low))
        if bounds.high is not None:
            query = query.where(filter=FieldFilter(path(bounds.field), "<=", bounds.high))
    keys = tuple(path(name) for name, _ in resource.order_keys(bounds.field if bounds else None))
    for name in (*keys, "__name__"):
        query = query.order_by(name)
    if after is not None:
        values: dict[str, Any] = dict(zip(keys, after.keys, strict=True))
        values["__name__"] = after.doc_id
        query = query.start_after(values)
    return query


def new_record_id() -> str:
    """The id of a record about to be created (Firestore's own form)."""
    return new_id()


def add_create(
    work: UnitOfWork, resource: Resource, doc_id: str, document: Mapping[str, Any]
) -> int:
    """Add the creation of a record to `work` (the commit fails if the id exists), in its
    tenant's subcollection where the tenant is in the path. Returns the write's place in
    what `work.commit()` returns."""
    partner_id = resource.tenant_of(document) or ""
    reference = _collection(resource, partner_id=partner_id).document(doc_id)
    return work.create(reference, _written(resource, document))


@dataclass(frozen=True, slots=True)
class Stored:
    """A tenant's stored document, as read for a change: its data and when it was
    last written (the change's precondition)."""

    data: dict[str, Any]
    written: dt.datetime


def read_owned(resource: Resource, partner_id: str, doc_id: str) -> Stored:
    """The tenant's document, read once.

    Raises: NotFound for a missing record and for another tenant's (same answer)."""
    if not is_document_id(doc_id):
        raise _not_found(resource)
    with backend_errors():
        snapshot = calls.get(_collection(resource, partner_id=partner_id).document(doc_id))
    count_reads(1)
    if not _owned(resource, snapshot, partner_id):
        raise _not_found(resource)
    return Stored(_data(resource, snapshot), snapshot.update_time)


def add_delete(
    work: UnitOfWork,
    resource: Resource,
    doc_id: str,
    *,
    unchanged_since: dt.datetime,
    partner_id: str,
) -> int:
    """Add the deletion of a record to `work`, only if the document is still as written
    at `unchanged_since`. Returns the write's place."""
    reference = _collection(resource, partner_id=partner_id).document(doc_id)
    return work.delete(reference, unchanged_since=unchanged_since)


def _stored(value: Any, database: Any) -> Any:
    """A value as a query compares it (our reference as the SDK's)."""
    return wire.sdk_value(value, database._database_string + "/documents/")  # noqa: SLF001


def owned_records(
    resource: Resource, partner_id: str, doc_ids: set[str]
) -> dict[str, Record | str]:
    """The tenant's records of `doc_ids`, from one batched get; where there is none, why:
    "not found" for a missing one and another tenant's (the same answer), "not a valid
    <item>" for a stored document that is no valid record (logged)."""
    if not doc_ids:
        return {}
    collection = _collection(resource, partner_id=partner_id)
    references = [collection.document(doc_id) for doc_id in sorted(doc_ids)]
    with backend_errors():
        snapshots = calls.get_all(collection._client, references)  # noqa: SLF001
    found: dict[str, Record | str] = dict.fromkeys(doc_ids, "not found")
    for snapshot in snapshots:
        if _owned(resource, snapshot, partner_id):
            record = _record_or_none(resource, snapshot)
            found[snapshot.id] = record or f"not a valid {resource.item}"
    return found


def owned_paths(partner_id: str, targets: Mapping[DocumentPath, Resource]) -> set[DocumentPath]:
    """Of the referenced documents (each with the resource it is a record of), those
    that exist and are the tenant's: one batched get."""
    if not targets:
        return set()
    database = client()
    references = {target: database.document(target.path) for target in targets}
    with backend_errors():
        snapshots = calls.get_all(database, references.values())
    tenants = {
        snapshot.reference.path: (snapshot.to_dict() or {}) if snapshot.exists else {}
        for snapshot in snapshots
    }
    return {
        target
        for target, resource in targets.items()
        if resource.tenant_of(tenants.get(target.path, {})) == partner_id
    }


def add_update(
    work: UnitOfWork,
    resource: Resource,
    doc_id: str,
    changes: Mapping[str, Any],
    *,
    clears: tuple[str, ...],
    unchanged_since: dt.datetime,
    partner_id: str,
) -> int:
    """Add a partial update to `work`: `changes` set, `clears` removed, only if the
    document is still as written at `unchanged_since`. Returns the write's place."""
    from google.cloud import firestore  # noqa: PLC0415

    fields = {**changes, **{name: firestore.DELETE_FIELD for name in clears}}
    fields = {wire.field_path(name): value for name, value in fields.items()}  # one name each
    reference = _collection(resource, partner_id=partner_id).document(doc_id)
    return work.update(reference, fields, unchanged_since=unchanged_since)
