"""Records: the business rules of the partner API, free of HTTP and of Firestore.

Each operation takes the declared resource, the verified caller and an already parsed
request, and acts only within the caller's tenant: another partner's record is "not
found", exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from functions.auth import Caller, partner_of_user
from functions.core import logs
from functions.core.errors import (
    FieldIssue,
    PreconditionFailed,
    ServiceUnavailable,
    StoredEntryInvalid,
    ValidationFailed,
)
from functions.core.models import (
    AuditEntry,
    Created,
    DocumentPath,
    Draft,
    Event,
    FieldChanges,
    KeptAnswer,
    ListQuery,
    Page,
    Record,
    Revision,
    rfc3339,
)
from functions.domain import changes, idempotency
from functions.resources import declaration, kinds, validation
from functions.resources.declaration import Resource
from functions.store import answers
from functions.store import audit as audit_store
from functions.store import events as event_store
from functions.store import records as store
from functions.store.client import UnitOfWork, WriteConflict, count_reads


def list_records(resource: Resource, caller: Caller, query: ListQuery) -> Page:
    """One page of the caller's records, in list order, after `query.after`."""
    return store.list_records(
        resource,
        caller.partner_id,
        limit=query.limit,
        after=query.after,
        equals=query.equals,
        bounds=query.bounds,
    )


def expanded(
    resource: Resource, caller: Caller, found: list[Record], fields: tuple[str, ...]
) -> tuple[list[Record], list[str]]:
    """`found` with each reference of `fields` replaced by the record it names, read in
    one batched get per field; and, for each it could not expand (null in its place),
    `<record id>.<field>: <reason>`. A record of another tenant is "not found", as a
    read of it would be; one of a resource the caller's scopes do not reach is refused
    by name, never read."""
    declared = declaration.current()
    notes: list[str] = []
    expansions: dict[str, dict[str, Record | str]] = {}
    refused: dict[str, str] = {}
    for name in fields:
        target = declared.get(dict(resource.expandable)[name])
        assert target is not None  # the declaration names only declared resources
        if target.read_scope not in caller.scopes:
            refused[name] = f"needs the scope {target.read_scope}"
            continue
        ids = {r.values[name] for r in found if isinstance(r.values.get(name), str)}
        expansions[name] = store.owned_records(target, caller.partner_id, ids)
    count_reads(len(found) + sum(len(found_ids) for found_ids in expansions.values()))
    changed = []
    for record in found:
        values = dict(record.values)
        for name in fields:
            doc_id = values.get(name)
            if doc_id is None:
                continue
            target_record = expansions.get(name, {}).get(doc_id, refused.get(name, "not found"))
            if isinstance(target_record, str):
                values[name] = None
                notes.append(f"{record.id}.{name}: {target_record}")
            else:  # times as the wire gives them, as in the record's own fields
                values[name] = {
                    key: rfc3339(value) if isinstance(value, dt.datetime) else value
                    for key, value in target_record.values.items()
                }
        changed.append(replace(record, values=values))
    return changed, notes


def get_record(resource: Resource, caller: Caller, doc_id: str) -> Record:
    """Raises: NotFound for a missing record and for another tenant's (same answer)."""
    return store.get_record(resource, caller.partner_id, doc_id)


def create_record(
    resource: Resource, caller: Caller, draft: Draft, idempotency_key: str | None
) -> Created:
    """Store `draft` for the caller's tenant, with its audit record and its event, in
    one unit of work; with an Idempotency-Key, exactly once per key and tenant (a
    repeated key replays the first answer).

    Raises:
        Conflict: the key was used before with a different request.
        ServiceUnavailable: the key kept being taken by concurrent calls.
    """
    fields = draft.stored_fields()
    _require_own_references(resource, caller, fields)
    now = dt.datetime.now(dt.UTC)
    new = _new_record(resource, caller, fields, now)
    if idempotency_key is None:
        work = UnitOfWork()
        write = _add_created(work, resource, new, now)
        try:
            written = work.commit()
        except WriteConflict as exc:  # a generated id that exists: never seen, never ignored
            raise ServiceUnavailable(f"The new {resource.item}'s id was taken; retry.") from exc
        count_reads(0)
        return Created(_as_written(new.record, written[write]), replayed=False)
    return _create_once(resource, caller, new, key=idempotency_key, fields=fields, now=now)


@dataclass(frozen=True, slots=True)
class _NewRecord:
    document: dict[str, Any]
    record: Record
    audit: AuditEntry


def _new_record(
    resource: Resource, caller: Caller, fields: Mapping[str, Any], now: dt.datetime
) -> _NewRecord:
    """The stored document of a create (the partner's fields, the server-set ones, the
    tenant and the bookkeeping), the record it is, and its audit entry."""
    doc_id = store.new_record_id()
    book = resource.bookkeeping
    bookkeeping = {
        book.created_at: now,
        book.updated_at: now,
        book.created_by: caller.uid,
        book.version: 1,
    }
    document = {
        **fields,
        **{spec.name: now for spec in resource.fields if spec.server_set},
        resource.tenant_field: resource.tenant_value(caller.partner_id),
        **{name: value for name, value in bookkeeping.items() if name is not None},
    }
    record = validation.record_from(resource, doc_id, document, written=now)
    audit = replace(
        _audit(resource, caller, "create", tuple(sorted(fields))),
        record_id=doc_id,
        version_after=record.version,
    )
    return _NewRecord(document, record, audit)


def _add_created(work: UnitOfWork, resource: Resource, new: _NewRecord, now: dt.datetime) -> int:
    write = store.add_create(work, resource, new.record.id, new.document)
    audit_store.add(work, new.audit, now)
    _add_event(work, resource, new.record.id, None, new.document, now=now, audit=new.audit)
    return write


def _create_once(
    resource: Resource,
    caller: Caller,
    new: _NewRecord,
    *,
    key: str,
    fields: Mapping[str, Any],
    now: dt.datetime,
) -> Created:
    """Write the record and its kept answer in one unit of work, or replay.

    Both writes are creates, so of any number of concurrent requests with one key exactly
    one commit succeeds; the others find the answer and replay it. No transaction holds
    locks, so retries under load never queue behind each other; the key is read only
    when a commit found it taken.
    """
    operation = idempotency.create_operation(resource)
    request = idempotency.fingerprint(fields)
    answer = KeptAnswer(
        operation,
        request,
        answers.CREATED,
        json.dumps(new.record.values, default=_json_time, separators=(",", ":")),
        new.record.id,
    )
    replacing: dt.datetime | None = None
    reads = 0
    for _ in range(idempotency.CONFLICT_ATTEMPTS):
        work = UnitOfWork()
        answers.keep(work, caller.partner_id, key, answer, now=now, replacing=replacing)
        write = _add_created(work, resource, new, now)
        try:
            written = work.commit()
        except WriteConflict:
            found = answers.look_up(caller.partner_id, key, now=now)
            reads += 1
            if found.taken:
                kept = idempotency.same_request(
                    found.answer, operation, request, anew=resource.item
                )
                assert found.written is not None  # a taken key was read from a record
                return _replayed(resource, caller, kept, found.written, now)
            replacing = found.written
            continue
        count_reads(reads)
        return Created(_as_written(new.record, written[write]), replayed=False)
    raise ServiceUnavailable("Too many concurrent requests with this Idempotency-Key.")


def _replayed(
    resource: Resource, caller: Caller, kept: KeptAnswer, written: dt.datetime, now: dt.datetime
) -> Created:
    """The first answer again; a replay changes nothing but is recorded all the same."""
    record = validation.record_from_json(resource, kept.body, written=written)
    note = UnitOfWork()
    audit = replace(
        _audit(resource, caller, "replay", ()), record_id=record.id, version_after=record.version
    )
    audit_store.add(note, audit, now)
    note.commit()
    return Created(record, replayed=True)


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


def _json_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def replays(caller: Caller, idempotency_key: str | None) -> bool:
    """Whether a create with this key would replay an earlier answer (and create nothing):
    sent again, it creates nothing, so a spent daily quota never refuses it."""
    return idempotency_key is not None and answers.look_up(caller.partner_id, idempotency_key).taken


def update_record(
    resource: Resource, caller: Caller, doc_id: str, patch: FieldChanges, expected: Revision
) -> Record:
    """Change the caller's record if it is still at the revision the caller last read.

    The write carries the read's update time as a precondition, so a change that lands in
    between (the owner's app writing the document included) makes this one fail instead
    of overwriting it (optimistic concurrency).

    Raises:
        NotFound: a missing record, or another tenant's.
        PreconditionFailed: the record has changed since.
        StoredEntryInvalid: the change would leave the document not a valid record.
    """
    sets, clears = patch.changes()
    stored = store.read_owned(resource, caller.partner_id, doc_id)
    _require_own_references(resource, caller, sets)
    before = validation.revision_of(resource, stored.data, stored.written)
    _require(resource, before, expected)
    now = dt.datetime.now(dt.UTC)
    book = resource.bookkeeping
    fields: dict[str, Any] = {
        **sets,
        **{s.name: now for s in resource.fields if s.server_set and s.set_on == "write"},
    }
    if book.updated_at is not None:
        fields[book.updated_at] = now
    if book.version is not None and before.version is not None:
        fields[book.version] = before.version + 1
    merged = {k: v for k, v in {**stored.data, **fields}.items() if k not in clears}
    updated = store.valid_or_none(resource, doc_id, merged, now)
    if updated is None:  # validated before anything is written
        raise StoredEntryInvalid(resource.item)
    work = UnitOfWork()
    write = store.add_update(
        work,
        resource,
        doc_id,
        fields,
        clears=clears,
        unchanged_since=stored.written,
        partner_id=caller.partner_id,
    )
    audit = replace(
        _audit(resource, caller, "update", ()),
        record_id=doc_id,
        version_before=before.version,
        version_after=updated.version,
        fields=tuple(sorted({*sets, *clears})),
    )
    audit_store.add(work, audit, now)
    _add_event(work, resource, doc_id, stored.data, merged, now=now, audit=audit)
    try:
        written = work.commit()
    except WriteConflict as exc:
        raise _changed_since(resource, caller, doc_id) from exc
    return _as_written(updated, written[write])


def delete_record(resource: Resource, caller: Caller, doc_id: str, expected: Revision) -> None:
    """Delete the caller's record if it is still at the revision the caller last read,
    with its audit record and its `<resource>.deleted` event (the record as it was) in
    the same commit.

    The event's id is the one the trigger derives for this deletion (from the deleted
    document's last update time), so the trigger that sees it adds none.

    Raises:
        NotFound: a missing record, or another tenant's.
        PreconditionFailed: the record has changed since.
    """
    stored = store.read_owned(resource, caller.partner_id, doc_id)
    before = validation.revision_of(resource, stored.data, stored.written)
    _require(resource, before, expected)
    now = dt.datetime.now(dt.UTC)
    work = UnitOfWork()
    store.add_delete(
        work, resource, doc_id, unchanged_since=stored.written, partner_id=caller.partner_id
    )
    audit = replace(
        _audit(resource, caller, "delete", ()),
        record_id=doc_id,
        version_before=before.version,
        version_after=None,
    )
    audit_store.add(work, audit, now)
    event = changes.event_of(
        resource,
        doc_id,
        stored.data,
        None,
        event_id=changes.write_event_id(resource, doc_id, "deleted", stored.written),
        at=now,
        writer="api",
        request_id=audit.request_id,
    )
    if event is not None:
        event_store.add(work, event)
    try:
        work.commit()
    except WriteConflict as exc:
        raise _changed_since(resource, caller, doc_id) from exc
    count_reads(1)


def _changed_since(resource: Resource, caller: Caller, doc_id: str) -> PreconditionFailed:
    """A change that lost to another write since the read: 412 with the current revision.

    Raises: NotFound when the record is gone since."""
    latest = store.read_owned(resource, caller.partner_id, doc_id)
    count_reads(2)
    now_at = validation.revision_of(resource, latest.data, latest.written)
    return PreconditionFailed(
        f"The {resource.item} changed since it was read; read it again.", current=now_at
    )


def _require_own_references(resource: Resource, caller: Caller, fields: Mapping[str, Any]) -> None:
    """A reference into a declared collection names one of the caller's own records:
    another tenant's is refused as a missing one is, exactly as reading it would be.

    Raises: ValidationFailed naming each field that holds such a reference.
    """
    declared = declaration.current()
    wanted: dict[str, list[DocumentPath]] = {}
    targets: dict[DocumentPath, Resource] = {}
    for spec in resource.fields:
        if spec.name not in fields:
            continue
        for path in kinds.references(spec, fields[spec.name]):
            target = declared.at(path.collection)
            if target is not None:
                wanted.setdefault(spec.name, []).append(path)
                targets[path] = target
    if not targets:
        return
    owned = store.owned_paths(caller.partner_id, targets)
    issues: list[FieldIssue] = [
        {"field": name, "message": f"must be the id of one of your {paths[0].collection}"}
        for name, paths in wanted.items()
        if not set(paths) <= owned
    ]
    if issues:
        raise ValidationFailed(details=issues)


def _require(resource: Resource, current: Revision, expected: Revision) -> None:
    """Raises: PreconditionFailed, with the current revision, when the two differ."""
    if current == expected:
        return
    if current.version is not None:
        message = f"The {resource.item} is at version {current.version}; read it again."
    else:
        message = f"The {resource.item} changed since it was read; read it again."
    raise PreconditionFailed(message, current=current)


def list_events(
    caller: Caller,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None,
    event_type: str | None,
) -> tuple[list[Event], tuple[dt.datetime, str] | None]:
    """A page of the caller's events, oldest first, and where the next page starts."""
    return event_store.page(caller.partner_id, limit=limit, after=after, event_type=event_type)


def get_event(caller: Caller, event_id: str) -> Event:
    """Raises: NotFound for a missing event and for another tenant's (same answer)."""
    return event_store.one(caller.partner_id, event_id)


def record_written(
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    written: dt.datetime,
) -> list[Event]:
    """The events of a write to a declared collection, seen by its trigger, each created
    once however often the trigger runs: none when the API already committed its event
    with the write, or nothing a partner sees changed. A partner's direct create (its own
    user, its own tenant, where `direct_access` allows it) is evented as `direct` and gets
    its audit record with the event; anything else is the app's.

    A record the app moves to another tenant is two events: `<resource>.deleted` for the
    tenant it left (its last view of the record, so its copies do not go stale) and
    `<resource>.created` for the one it joined.

    `written`: when the write was committed (the document's update time; for a
    deletion, the last update time of the deleted document).
    """
    if changes.moved(resource, before, after):
        halves = ((before, None), (None, after))
        made = [_written(resource, doc_id, old, new, written, moved=True) for old, new in halves]
        return [event for event in made if event is not None]
    event = _written(resource, doc_id, before, after, written, moved=False)
    return [event] if event is not None else []


def _written(
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    written: dt.datetime,
    *,
    moved: bool,
) -> Event | None:
    kind = changes.kind_of(before, after)
    if after is not None and not moved:
        committed = event_store.committed_at(changes.api_event_id(resource, doc_id, after))
        if committed is not None and changes.same_instant(committed, written):
            return None  # the API's own write: evented in its commit
    writer, audit = "app", None
    partner_id = resource.tenant_of(after or before or {})
    author = None if moved else _direct_author(resource, kind, after, partner_id)
    event = changes.event_of(
        resource,
        doc_id,
        before,
        after,
        event_id=changes.write_event_id(resource, doc_id, kind, written),
        at=written,
        writer="direct" if author else writer,
    )
    if event is None:
        return None
    if author:
        audit = AuditEntry(
            actor=author,
            credential="direct",
            partner_id=event.partner_id,
            operation="create",
            resource=resource.name,
            record_id=doc_id,
            version_before=None,
            version_after=event.version,
            fields=event.changed,
            request_id="",
        )
    return event if event_store.create(event, audit) else None


def _direct_author(
    resource: Resource, kind: str, after: Mapping[str, Any] | None, partner_id: Any
) -> str | None:
    """The partner user who created the record straight on Firestore, or None. The rules
    let a partner create only where `direct_access` allows it, in its own tenant, naming
    itself in the created-by field; a create that does so is taken as the partner's."""
    created_by = resource.bookkeeping.created_by
    if kind != "created" or "create" not in resource.direct_access or created_by is None:
        return None
    author = (after or {}).get(created_by)
    if not isinstance(author, str) or author.startswith("key:") or not partner_id:
        return None
    return author if partner_of_user(author) == partner_id else None


def _audit(
    resource: Resource, caller: Caller, operation: str, fields: tuple[str, ...]
) -> AuditEntry:
    """Who is writing, for the audit record the store commits with the write."""
    return AuditEntry(
        actor=caller.uid,
        credential=caller.credential,
        partner_id=caller.partner_id,
        operation=operation,
        resource=resource.name,
        record_id="",
        version_before=None,
        version_after=0,
        fields=fields,
        request_id=str(logs.bound("request_id") or ""),
    )
