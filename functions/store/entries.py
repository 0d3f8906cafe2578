"""Entries and their idempotency records in Firestore.

Every query is scoped to the caller's tenant (the `partnerId` field) and every read is
counted; every change is one unit of work. Another tenant's entry is "not found", exactly
like a missing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions import config, logs
from functions.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    StoredEntryInvalid,
)
from functions.models import Created, Entry, IdempotentCreate, Page, Position, is_document_id
from functions.store.client import (
    UnitOfWork,
    WriteConflict,
    backend_errors,
    call_options,
    client,
    count_reads,
)

if TYPE_CHECKING:
    from google.cloud import firestore

CONFLICT_ATTEMPTS = 5


def _entries() -> firestore.CollectionReference:
    return client().collection(config.entries_collection())


def _entry_from(snapshot: Any) -> Entry:
    """Raises: StoredEntryInvalid when the stored document is not a valid entry."""
    entry = _entry_or_none(snapshot.id, snapshot.to_dict() or {})
    if entry is None:
        raise StoredEntryInvalid()
    return entry


def _entry_or_none(entry_id: str, data: Mapping[str, Any]) -> Entry | None:
    """The entry a stored document holds, or None (logged) when it does not hold a valid
    one: other writers (the owner's app, an older version, a direct client) may have
    left documents the API cannot vouch for."""
    try:
        return Entry.model_validate({**data, "id": entry_id})
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        logs.log(
            "WARNING",
            f"stored entry {entry_id} is not valid ({', '.join(fields)}); left out",
            code="stored_entry_invalid",
        )
        return None


def _position_of(snapshot: Any, *, by_date: bool) -> Position | None:
    """Where a list resumes after `snapshot`, read from its stored order fields."""
    created, date = snapshot.get("createdAt"), snapshot.get("date")
    if not isinstance(created, dt.datetime) or (by_date and not isinstance(date, str)):
        return None
    return Position(created, snapshot.id, date if by_date else None)


def _owned(snapshot: Any, partner_id: str) -> bool:
    return bool(snapshot.exists) and (snapshot.get("partnerId") == partner_id)


def _not_found() -> NotFound:
    return NotFound("No entry with this id.")


def get_entry(partner_id: str, entry_id: str) -> Entry:
    """Raises:
    NotFound: the entry is missing or belongs to another tenant (same answer).
    StoredEntryInvalid: the caller's document exists but is not a valid entry.
    """
    if not is_document_id(entry_id):
        raise _not_found()
    with backend_errors():
        snapshot = _entries().document(entry_id).get(**call_options())
    count_reads(1)
    if not _owned(snapshot, partner_id):
        raise _not_found()
    return _entry_from(snapshot)


def list_entries(
    partner_id: str,
    *,
    limit: int,
    after: Position | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    category: str | None = None,
) -> Page:
    """One page of the tenant's entries in list order; reads at most `limit + 1` documents.

    Stored documents that are not valid entries are left out of the page and named in its
    `skipped`; the page still resumes after the last document read, so none is skipped
    silently and a bad one never stops the list.
    """
    by_date = date_from is not None or date_to is not None
    query = list_query(
        partner_id, date_from=date_from, date_to=date_to, category=category, after=after
    )
    with backend_errors():
        snapshots = list(query.limit(limit + 1).stream(**call_options()))
    count_reads(len(snapshots))
    page = snapshots[:limit]
    entries, skipped = [], []
    for snapshot in page:
        entry = _entry_or_none(snapshot.id, snapshot.to_dict() or {})
        if entry is None:
            skipped.append(snapshot.id)
        else:
            entries.append(entry)
    next_after = None
    if len(snapshots) > limit:
        positions = (_position_of(s, by_date=by_date) for s in reversed(page))
        next_after = next((p for p in positions if p is not None), None)
    return Page(entries, next_after, skipped)


def list_query(
    partner_id: str,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    category: str | None = None,
    after: Position | None = None,
) -> Any:
    """The query behind a list; every one of its shapes has an index in firestore.indexes.json."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    query: Any = _entries().where(filter=FieldFilter("partnerId", "==", partner_id))
    if category is not None:
        query = query.where(filter=FieldFilter("category", "==", category))
    if date_from is not None:
        query = query.where(filter=FieldFilter("date", ">=", date_from))
    if date_to is not None:
        query = query.where(filter=FieldFilter("date", "<=", date_to))
    by_date = date_from is not None or date_to is not None
    order = sort_fields(by_date=by_date)
    for field in order:
        query = query.order_by(field)
    if after is not None:
        values: dict[str, Any] = {"createdAt": after.created_at, "__name__": after.entry_id}
        if by_date:
            values["date"] = after.date
        query = query.start_after(values)
    return query


def sort_fields(*, by_date: bool) -> tuple[str, ...]:
    return ("date", "createdAt", "__name__") if by_date else ("createdAt", "__name__")


def create_entry(
    partner_id: str,
    uid: str,
    fields: Mapping[str, str],
    idempotency: IdempotentCreate | None = None,
) -> Created:
    """Store a new entry; with an Idempotency-Key, exactly once per key and tenant.

    Raises:
        Conflict: the key was used before with a different body.
    """
    now = dt.datetime.now(dt.UTC)
    reference = _entries().document()
    document = {
        **fields,
        "partnerId": partner_id,
        "createdAt": now,
        "updatedAt": now,
        "createdBy": uid,
        "version": 1,
    }
    entry = Entry.model_validate({**document, "id": reference.id})
    if idempotency is None:
        work = UnitOfWork()
        work.create(reference, document)
        try:
            work.commit()
        except WriteConflict as exc:  # a generated id that exists: never seen, never ignored
            raise ServiceUnavailable("The new entry's id was taken; retry.") from exc
        count_reads(0)
        return Created(entry, replayed=False)
    return _create_once(partner_id, reference, document, entry, idempotency=idempotency, now=now)


def _create_once(
    partner_id: str,
    reference: firestore.DocumentReference,
    document: dict[str, Any],
    entry: Entry,
    *,
    idempotency: IdempotentCreate,
    now: dt.datetime,
) -> Created:
    """Write the entry and its idempotency record in one unit of work, or replay.

    Both writes are creates, so of any number of concurrent requests with one key exactly
    one commit succeeds; the others find the record and replay it. No transaction holds
    locks, so retries under load never queue behind each other. The record's document id
    hashes the tenant with the key (keys are scoped per partner); its `expiresAt` drives a
    Firestore TTL policy, and a record past it is replaced as if absent. The entry is kept
    as JSON text: Firestore indexes every field of a map, which a replay never queries,
    and one string is cheaper to write.
    """
    key_id = hashlib.sha256(f"{partner_id}\n{idempotency.key}".encode()).hexdigest()
    key_ref = client().collection(config.idempotency_collection()).document(key_id)
    record = {
        "partnerId": partner_id,
        "fingerprint": idempotency.fingerprint,
        "entryId": reference.id,
        "response": entry.model_dump_json(),
        "createdAt": now,
        "expiresAt": now + dt.timedelta(hours=config.idempotency_ttl_hours()),
    }
    known: Any = None  # the key's record, once a create has found the key taken
    reads = 0
    for _ in range(CONFLICT_ATTEMPTS):
        work = UnitOfWork()
        if known is not None and known.exists:
            if known.get("expiresAt") > now:
                count_reads(reads)
                if known.get("fingerprint") != idempotency.fingerprint:
                    raise Conflict(
                        "This Idempotency-Key was used with a different request body; "
                        "use a new key for a new entry."
                    )
                return Created(Entry.model_validate_json(known.get("response")), replayed=True)
            work.update(key_ref, record, unchanged_since=known.update_time)
        else:
            work.create(key_ref, record)
        work.create(reference, document)
        try:
            work.commit()
        except WriteConflict:
            with backend_errors():
                known = key_ref.get(**call_options())
            reads += 1
            continue
        count_reads(reads)
        return Created(entry, replayed=False)
    raise ServiceUnavailable("Too many concurrent requests with this Idempotency-Key.")


def update_entry(
    partner_id: str,
    entry_id: str,
    *,
    sets: Mapping[str, str],
    clears: tuple[str, ...],
    expected_version: int,
) -> Entry:
    """Apply a partial update if the entry is still at `expected_version`.

    The write carries the read's update time as a precondition, so a change that lands in
    between makes this one fail instead of overwriting it (optimistic concurrency).

    Raises:
        NotFound: missing or another tenant's entry.
        PreconditionFailed: the entry changed since the caller read it.
    """
    from google.cloud import firestore  # noqa: PLC0415

    if not is_document_id(entry_id):
        raise _not_found()
    reference = _entries().document(entry_id)
    with backend_errors():
        snapshot = reference.get(**call_options())
    count_reads(1)
    if not _owned(snapshot, partner_id):
        raise _not_found()
    current = snapshot.to_dict() or {}
    _require_version(current, expected_version)
    changes: dict[str, Any] = {
        **sets,
        "updatedAt": dt.datetime.now(dt.UTC),
        "version": expected_version + 1,
    }
    merged = {k: v for k, v in {**current, **changes}.items() if k not in clears}
    updated = _entry_or_none(entry_id, merged)
    if updated is None:  # validated before anything is written
        raise StoredEntryInvalid()
    changes.update({field: firestore.DELETE_FIELD for field in clears})
    work = UnitOfWork()
    work.update(reference, changes, unchanged_since=snapshot.update_time)
    try:
        work.commit()
    except WriteConflict as exc:
        with backend_errors():
            latest = reference.get(**call_options())
        count_reads(2)
        if not _owned(latest, partner_id):
            raise _not_found() from exc
        _require_version(latest.to_dict() or {}, expected_version)
        raise PreconditionFailed("The entry changed since it was read; read it again.") from exc
    return updated


def _require_version(current: Mapping[str, Any], expected_version: int) -> None:
    """Raises: PreconditionFailed, naming the current version, when the versions differ."""
    version = current.get("version")
    if version != expected_version:
        raise PreconditionFailed(
            f"The entry is at version {version}; read it again.",
            current_version=version if isinstance(version, int) else None,
        )
