"""Firestore: the only module that talks to it.

Every query is scoped to the caller's tenant (the `partnerId` field) and every read is
counted; backend failures become our errors (503 with Retry-After). The client is created
on first use: the Firebase CLI imports `main.py` with no credentials to discover functions.
`google.cloud.firestore.Client` honours FIRESTORE_EMULATOR_HOST by itself, so no code here
knows whether it runs on the emulator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions import config, cursor, logs
from functions.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from functions.models import Entry

if TYPE_CHECKING:
    from google.cloud import firestore

ENTRY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
CONFLICT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Page:
    entries: list[Entry]
    has_more: bool


@dataclass(frozen=True, slots=True)
class IdempotentCreate:
    """An Idempotency-Key and the fingerprint of the request it was first used with."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Created:
    """The wire form of a created entry; `replayed` when an earlier request made it."""

    entry: dict[str, Any]
    replayed: bool


_clients: dict[tuple[str, str | None], firestore.Client] = {}
_clients_lock = threading.Lock()


def client() -> firestore.Client:
    """The Firestore client for the configured project (and emulator), created once."""
    key = (config.project_id(), config.firestore_emulator_host())
    with _clients_lock:
        existing = _clients.get(key)
        if existing is None:
            from google.cloud import firestore  # noqa: PLC0415 - keeps main.py imports fast

            existing = _clients[key] = firestore.Client(project=key[0])
        return existing


def _count_reads(count: int) -> None:
    logs.bind(docs_read=count)


@contextlib.contextmanager
def _backend_errors() -> Iterator[None]:
    """Translate the SDK's transport and availability failures into a retryable 503."""
    from google.api_core import exceptions as api_exceptions  # noqa: PLC0415
    from google.auth import exceptions as auth_exceptions  # noqa: PLC0415

    try:
        yield
    except (
        api_exceptions.ServiceUnavailable,
        api_exceptions.DeadlineExceeded,
        api_exceptions.RetryError,
        api_exceptions.Aborted,
        api_exceptions.InternalServerError,
        api_exceptions.TooManyRequests,
        api_exceptions.ResourceExhausted,
        auth_exceptions.TransportError,
    ) as exc:
        raise ServiceUnavailable() from exc


def _call_options() -> dict[str, Any]:
    from google.api_core.retry import Retry  # noqa: PLC0415

    timeout = config.firestore_timeout_s()
    return {"timeout": timeout, "retry": Retry(timeout=timeout)}


def _entries() -> firestore.CollectionReference:
    return client().collection(config.entries_collection())


def _entry_from(snapshot: Any) -> Entry:
    data = snapshot.to_dict() or {}
    return Entry.model_validate({**data, "id": snapshot.id})


def _owned(snapshot: Any, partner_id: str) -> bool:
    return bool(snapshot.exists) and (snapshot.get("partnerId") == partner_id)


def get_entry(partner_id: str, entry_id: str) -> Entry:
    """Raises: NotFound when the entry is missing or belongs to another tenant (same answer)."""
    if not ENTRY_ID_PATTERN.match(entry_id):
        raise NotFound("No entry with this id.")
    with _backend_errors():
        snapshot = _entries().document(entry_id).get(**_call_options())
    _count_reads(1)
    if not _owned(snapshot, partner_id):
        raise NotFound("No entry with this id.")
    return _entry_from(snapshot)


def list_entries(
    partner_id: str,
    *,
    limit: int,
    after: list[Any] | None,
    date_from: str | None = None,
    date_to: str | None = None,
    category: str | None = None,
) -> Page:
    """One page of the tenant's entries, oldest first; reads at most `limit + 1` documents.

    The order is (createdAt, id), or (date, createdAt, id) when a date range is given, so
    entries added during pagination never shift the pages already returned.
    """
    query = list_query(
        partner_id, date_from=date_from, date_to=date_to, category=category, after=after
    )
    with _backend_errors():
        snapshots = list(query.limit(limit + 1).stream(**_call_options()))
    _count_reads(len(snapshots))
    return Page([_entry_from(s) for s in snapshots[:limit]], has_more=len(snapshots) > limit)


def list_query(
    partner_id: str,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    category: str | None = None,
    after: list[Any] | None = None,
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
    order = sort_fields(by_date=date_from is not None or date_to is not None)
    for field in order:
        query = query.order_by(field)
    if after is not None:
        query = query.start_after(_position_values(order, after))
    return query


def sort_fields(*, by_date: bool) -> tuple[str, ...]:
    return ("date", "createdAt", "__name__") if by_date else ("createdAt", "__name__")


def position_of(entry: Entry, *, by_date: bool) -> list[Any]:
    """The JSON-able sort key of `entry`, for a cursor."""
    created = entry.createdAt.astimezone(dt.UTC).isoformat()
    return [entry.date, created, entry.id] if by_date else [created, entry.id]


def _position_values(order: tuple[str, ...], position: list[Any]) -> dict[str, Any]:
    """Raises: BadRequest when the position does not fit the order (a forged cursor)."""
    if len(position) != len(order) or not all(isinstance(v, str) for v in position):
        raise cursor.invalid_cursor()
    values: dict[str, Any] = dict(zip(order, position, strict=True))
    try:
        values["createdAt"] = dt.datetime.fromisoformat(values["createdAt"])
    except ValueError as exc:
        raise cursor.invalid_cursor() from exc
    if not ENTRY_ID_PATTERN.match(values["__name__"]):
        raise cursor.invalid_cursor()
    return values


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
    wire = Entry.model_validate({**document, "id": reference.id}).wire()
    if idempotency is None:
        with _backend_errors():
            reference.create(document, **_call_options())
        _count_reads(0)
        return Created(wire, replayed=False)
    return _create_once(
        partner_id, reference, document, wire=wire, idempotency=idempotency, now=now
    )


def _create_once(
    partner_id: str,
    reference: firestore.DocumentReference,
    document: dict[str, Any],
    *,
    wire: dict[str, Any],
    idempotency: IdempotentCreate,
    now: dt.datetime,
) -> Created:
    """Write the entry and its idempotency record in one atomic batch, or replay.

    Both writes are creates, so of any number of concurrent requests with one key exactly
    one batch commits; the others find the record and replay it. No transaction holds
    locks, so retries under load never queue behind each other. The record's document id
    hashes the tenant with the key (keys are scoped per partner); its `expiresAt` drives a
    Firestore TTL policy, and a record past it is replaced as if absent. The response is
    kept as JSON text: Firestore indexes every field of a map, which a replay never
    queries, and one string is cheaper to write.
    """
    from google.api_core import exceptions as api_exceptions  # noqa: PLC0415

    key_id = hashlib.sha256(f"{partner_id}\n{idempotency.key}".encode()).hexdigest()
    key_ref = client().collection(config.idempotency_collection()).document(key_id)
    record = {
        "partnerId": partner_id,
        "fingerprint": idempotency.fingerprint,
        "entryId": reference.id,
        "response": json.dumps(wire, separators=(",", ":")),
        "createdAt": now,
        "expiresAt": now + dt.timedelta(hours=config.idempotency_ttl_hours()),
    }
    options = _call_options()
    known: Any = None  # the key's record, once a create has found the key taken
    reads = 0
    for _ in range(CONFLICT_ATTEMPTS):
        batch = client().batch()
        if known is not None and known.exists:
            if known.get("expiresAt") > now:
                _count_reads(reads)
                if known.get("fingerprint") != idempotency.fingerprint:
                    raise Conflict(
                        "This Idempotency-Key was used with a different request body; "
                        "use a new key for a new entry."
                    )
                return Created(json.loads(known.get("response")), replayed=True)
            unchanged = client().write_option(last_update_time=known.update_time)
            batch.update(key_ref, record, option=unchanged)
        else:
            batch.create(key_ref, record)
        batch.create(reference, document)
        try:
            with _backend_errors():
                batch.commit(**options)
        except (api_exceptions.AlreadyExists, api_exceptions.FailedPrecondition):
            with _backend_errors():
                known = key_ref.get(**options)
            reads += 1
            continue
        _count_reads(reads)
        return Created(wire, replayed=False)
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
    from google.api_core import exceptions as api_exceptions  # noqa: PLC0415
    from google.cloud import firestore  # noqa: PLC0415

    if not ENTRY_ID_PATTERN.match(entry_id):
        raise NotFound("No entry with this id.")
    reference = _entries().document(entry_id)
    options = _call_options()
    with _backend_errors():
        snapshot = reference.get(**options)
    _count_reads(1)
    if not _owned(snapshot, partner_id):
        raise NotFound("No entry with this id.")
    current = snapshot.to_dict() or {}
    _require_version(current, expected_version)
    changes: dict[str, Any] = {
        **sets,
        "updatedAt": dt.datetime.now(dt.UTC),
        "version": expected_version + 1,
    }
    changes.update({field: firestore.DELETE_FIELD for field in clears})
    unchanged_since_read = client().write_option(last_update_time=snapshot.update_time)
    try:
        with _backend_errors():
            reference.update(changes, option=unchanged_since_read, **options)
    except (api_exceptions.FailedPrecondition, api_exceptions.NotFound) as exc:
        with _backend_errors():
            latest = reference.get(**options)
        _count_reads(2)
        if not _owned(latest, partner_id):
            raise NotFound("No entry with this id.") from exc
        _require_version(latest.to_dict() or {}, expected_version)
        raise PreconditionFailed("The entry changed since it was read; read it again.") from exc
    merged = {k: v for k, v in {**current, **changes}.items() if k not in clears}
    return Entry.model_validate({**merged, "id": entry_id})


def _require_version(current: Mapping[str, Any], expected_version: int) -> None:
    """Raises: PreconditionFailed, with the current ETag, when the versions differ."""
    version = current.get("version")
    if version != expected_version:
        raise PreconditionFailed(
            f"The entry is at version {version}; read it again.",
            headers={"ETag": etag_of(int(version or 0))},
        )


def etag_of(version: int) -> str:
    return f'"{version}"'
