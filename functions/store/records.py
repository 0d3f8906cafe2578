"""Records of the declared resources, and their idempotency records, in Firestore.

Every query is scoped to the caller's tenant (the resource's tenant field) and every read
is counted; every change is one unit of work. Another tenant's record is "not found",
exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from functions import changes, config, logs
from functions.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    StoredEntryInvalid,
)
from functions.models import (
    AuditEntry,
    Bounds,
    Created,
    IdempotentCreate,
    Page,
    Position,
    Record,
    Revision,
    is_document_id,
)
from functions.resources import validation
from functions.resources.declaration import Resource
from functions.store import audit as audit_store
from functions.store import events as event_store
from functions.store import wire
from functions.store.client import (
    UnitOfWork,
    WriteConflict,
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
    resource: Resource, database: firestore.Client | None = None
) -> firestore.CollectionReference:
    database = database or client()
    return database.collection(config.resource_collection(resource.name, resource.collection))


def count(resource: Resource, database: firestore.Client) -> int:
    """How many documents the resource's collection holds (one aggregation query)."""
    with backend_errors():
        collection: Any = _collection(resource, database)
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

    query: Any = _collection(resource, database)
    if partner_id is not None:
        query = query.where(filter=FieldFilter(resource.tenant_field, "==", partner_id))
    query = query.order_by("__name__")
    last = None
    while True:
        page = query if last is None else query.start_after(last)
        with backend_errors():
            snapshots = wire.stream(page.limit(page_size))
        for snapshot in snapshots:
            yield snapshot.id, snapshot.to_dict() or {}, snapshot.update_time
        if len(snapshots) < page_size:
            return
        last = snapshots[-1]


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
    return _valid_or_none(resource, snapshot.id, snapshot.to_dict() or {}, snapshot.update_time)


def _valid_or_none(
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
        if not isinstance(value, (str, int, dt.datetime)) or isinstance(value, bool):
            return None
        values.append(value)
    return Position(tuple(values), snapshot.id)


def _owned(resource: Resource, snapshot: Any, partner_id: str) -> bool:
    # A document another writer left without the tenant field belongs to no partner.
    data = snapshot.to_dict() if snapshot.exists else None
    return data is not None and data.get(resource.tenant_field) == partner_id


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
        snapshot = wire.get(_collection(resource).document(doc_id))
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
        snapshots = wire.stream(query.limit(limit + 1))
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

    query: Any = _collection(resource).where(
        filter=FieldFilter(resource.tenant_field, "==", partner_id)
    )
    for name, value in equals:
        query = query.where(filter=FieldFilter(name, "==", value))
    if bounds is not None:
        if bounds.low is not None:
            query = query.where(filter=FieldFilter(bounds.field, ">=", bounds.low))
        if bounds.high is not None:
            query = query.where(filter=FieldFilter(bounds.field, "<=", bounds.high))
    keys = tuple(name for name, _ in resource.order_keys(bounds.field if bounds else None))
    for name in (*keys, "__name__"):
        query = query.order_by(name)
    if after is not None:
        values: dict[str, Any] = dict(zip(keys, after.keys, strict=True))
        values["__name__"] = after.doc_id
        query = query.start_after(values)
    return query


def create_record(
    resource: Resource,
    partner_id: str,
    uid: str,
    fields: Mapping[str, Any],
    *,
    idempotency: IdempotentCreate | None = None,
    audit: AuditEntry | None = None,
) -> Created:
    """Store a new record; with an Idempotency-Key, exactly once per key and tenant.

    Raises:
        Conflict: the key was used before with a different body (or another resource).
    """
    now = dt.datetime.now(dt.UTC)
    reference = _collection(resource).document(new_id())
    book = resource.bookkeeping
    bookkeeping = {
        book.created_at: now,
        book.updated_at: now,
        book.created_by: uid,
        book.version: 1,
    }
    document = {
        **fields,
        **{spec.name: now for spec in resource.fields if spec.server_set},
        resource.tenant_field: partner_id,
        **{name: value for name, value in bookkeeping.items() if name is not None},
    }
    record = validation.record_from(resource, reference.id, document, written=now)
    if audit is not None:
        audit = replace(audit, record_id=reference.id, version_after=record.version)
    if idempotency is None:
        work = UnitOfWork()
        write = work.create(reference, document)
        if audit is not None:
            audit_store.add(work, audit, now)
            _add_event(work, resource, reference.id, None, document, now=now, audit=audit)
        try:
            written = work.commit()
        except WriteConflict as exc:  # a generated id that exists: never seen, never ignored
            raise ServiceUnavailable(f"The new {resource.item}'s id was taken; retry.") from exc
        count_reads(0)
        return Created(_as_written(record, written[write]), replayed=False)
    return _create_once(
        resource,
        partner_id,
        reference,
        document,
        record,
        idempotency=idempotency,
        now=now,
        audit=audit,
    )


def _create_once(
    resource: Resource,
    partner_id: str,
    reference: firestore.DocumentReference,
    document: dict[str, Any],
    record: Record,
    *,
    idempotency: IdempotentCreate,
    now: dt.datetime,
    audit: AuditEntry | None,
) -> Created:
    """Write the record and its idempotency record in one unit of work, or replay.

    Both writes are creates, so of any number of concurrent requests with one key exactly
    one commit succeeds; the others find the record and replay it. No transaction holds
    locks, so retries under load never queue behind each other. The record's document id
    hashes the tenant with the key (keys are scoped per partner, across resources: a key
    reused for another resource is a conflict); its `expiresAt` drives a Firestore TTL
    policy, and a record past it is replaced as if absent. The answer is kept as JSON
    text: Firestore indexes every field of a map, which a replay never queries, and one
    string is cheaper to write.
    """
    key_ref = idempotency_record(partner_id, idempotency.key)
    kept = {
        "partnerId": partner_id,
        "resource": resource.name,
        "fingerprint": idempotency.fingerprint,
        "recordId": reference.id,
        "response": json.dumps(record.values, default=_json_time, separators=(",", ":")),
        "createdAt": now,
        "expiresAt": now + dt.timedelta(hours=config.idempotency_ttl_hours()),
    }
    known: Any = None  # the key's record, once a create has found the key taken
    reads = 0
    for _ in range(CONFLICT_ATTEMPTS):
        work = UnitOfWork()
        if known is not None and known.exists:
            first = known.to_dict() or {}
            expires = first.get("expiresAt")
            if isinstance(expires, dt.datetime) and expires > now:
                count_reads(reads)
                same_resource = first.get("resource") == resource.name
                if first.get("fingerprint") != idempotency.fingerprint or not same_resource:
                    raise Conflict(
                        "This Idempotency-Key was used with a different request; "
                        f"use a new key for a new {resource.item}."
                    )
                replayed = validation.record_from_json(
                    resource, first["response"], written=known.update_time
                )
                if audit is not None:  # a replay changes nothing but is recorded all the same
                    note = UnitOfWork()
                    audit_store.add(
                        note,
                        replace(
                            audit,
                            operation="replay",
                            record_id=replayed.id,
                            version_after=replayed.version,
                            fields=(),
                        ),
                        now,
                    )
                    note.commit()
                return Created(replayed, replayed=True)
            work.update(key_ref, kept, unchanged_since=known.update_time)
        else:
            work.create(key_ref, kept)
        write = work.create(reference, document)
        if audit is not None:
            audit_store.add(work, audit, now)
            _add_event(work, resource, reference.id, None, document, now=now, audit=audit)
        try:
            written = work.commit()
        except WriteConflict:
            with backend_errors():
                known = wire.get(key_ref)
            reads += 1
            continue
        count_reads(reads)
        return Created(_as_written(record, written[write]), replayed=False)
    raise ServiceUnavailable("Too many concurrent requests with this Idempotency-Key.")


def _add_event(
    work: UnitOfWork,
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    now: dt.datetime,
    audit: AuditEntry,
) -> None:
    """The change's event, committed with it (the trigger that sees the write finds it
    by the same id and adds none)."""
    event = changes.event_of(
        resource,
        doc_id,
        before,
        after,
        event_id=changes.api_event_id(resource, doc_id, after),
        at=now,
        writer="api",
        request_id=audit.request_id,
    )
    if event is not None:
        event_store.add(work, event)


def _as_written(record: Record, written: dt.datetime) -> Record:
    """`record` with the revision its commit gave it (where it holds no version)."""
    if record.version is not None:
        return record
    return replace(record, revision=Revision.of_write(written))


def idempotency_record(partner_id: str, key: str) -> firestore.DocumentReference:
    """Keys are scoped per partner: the record's id hashes the tenant with the key."""
    key_id = hashlib.sha256(f"{partner_id}\n{key}".encode()).hexdigest()
    return client().collection(config.idempotency_collection()).document(key_id)


def has_answered(partner_id: str, key: str) -> bool:
    """Whether a create with this Idempotency-Key was already answered (and is still kept):
    sent again, it creates nothing, so a spent daily quota never refuses it."""
    with backend_errors():
        snapshot = wire.get(idempotency_record(partner_id, key))
    count_reads(1)
    expires = (snapshot.to_dict() or {}).get("expiresAt") if snapshot.exists else None
    return isinstance(expires, dt.datetime) and expires > dt.datetime.now(dt.UTC)


def _json_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def update_record(
    resource: Resource,
    partner_id: str,
    doc_id: str,
    *,
    sets: Mapping[str, Any],
    clears: tuple[str, ...],
    expected: Revision,
    audit: AuditEntry | None = None,
) -> Record:
    """Apply a partial update if the record is still at the `expected` revision.

    The write carries the read's update time as a precondition, so a change that lands in
    between (the owner's app writing the document included) makes this one fail instead
    of overwriting it (optimistic concurrency).

    Raises:
        NotFound: missing or another tenant's record.
        PreconditionFailed: the record changed since the caller read it.
    """
    from google.cloud import firestore  # noqa: PLC0415

    if not is_document_id(doc_id):
        raise _not_found(resource)
    reference = _collection(resource).document(doc_id)
    with backend_errors():
        snapshot = wire.get(reference)
    count_reads(1)
    if not _owned(resource, snapshot, partner_id):
        raise _not_found(resource)
    current = snapshot.to_dict() or {}
    before = validation.revision_of(resource, current, snapshot.update_time)
    _require(resource, before, expected)
    now = dt.datetime.now(dt.UTC)
    book = resource.bookkeeping
    changes: dict[str, Any] = {
        **sets,
        **{s.name: now for s in resource.fields if s.server_set and s.set_on == "write"},
    }
    if book.updated_at is not None:
        changes[book.updated_at] = now
    if book.version is not None and before.version is not None:
        changes[book.version] = before.version + 1
    merged = {k: v for k, v in {**current, **changes}.items() if k not in clears}
    updated = _valid_or_none(resource, doc_id, merged, now)
    if updated is None:  # validated before anything is written
        raise StoredEntryInvalid(resource.item)
    changes.update({name: firestore.DELETE_FIELD for name in clears})
    work = UnitOfWork()
    write = work.update(reference, changes, unchanged_since=snapshot.update_time)
    if audit is not None:
        changed = tuple(sorted({*sets, *clears}))
        audit_store.add(
            work,
            replace(
                audit,
                record_id=doc_id,
                version_before=before.version,
                version_after=updated.version,
                fields=changed,
            ),
            now,
        )
        _add_event(work, resource, doc_id, current, merged, now=now, audit=audit)
    try:
        written = work.commit()
    except WriteConflict as exc:
        with backend_errors():
            latest = wire.get(reference)
        count_reads(2)
        if not _owned(resource, latest, partner_id):
            raise _not_found(resource) from exc
        now_at = validation.revision_of(resource, latest.to_dict() or {}, latest.update_time)
        raise PreconditionFailed(
            f"The {resource.item} changed since it was read; read it again.", current=now_at
        ) from exc
    return _as_written(updated, written[write])


def _require(resource: Resource, current: Revision, expected: Revision) -> None:
    """Raises: PreconditionFailed, with the current revision, when the two differ."""
    if current == expected:
        return
    if current.version is not None:
        message = f"The {resource.item} is at version {current.version}; read it again."
    else:
        message = f"The {resource.item} changed since it was read; read it again."
    raise PreconditionFailed(message, current=current)
