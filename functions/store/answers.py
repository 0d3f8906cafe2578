"""Answers kept for an Idempotency-Key, one record per partner and key (its id hashes
both: one key space per partner, across the built-in creates and owner endpoints).

Every operation keeps its answer in one shape: `operation` (`entries.create`, an owner
endpoint's name), `fingerprint` (what the request was), `status`, `response` (the
answer's JSON text: Firestore indexes every field of a map, which a replay never
queries), `recordId` for a create, `createdAt` and `expiresAt`. A record past its
`expiresAt` counts as absent, here and nowhere else, and is replaced (a TTL policy also
removes it). The answer is created in the same unit of work as the writes that produced
it, so a retry finds either both or neither.

Records written before this shape, a built-in create's (`resource`, `recordId`,
`response` holding the record) or an owner endpoint's (`endpoint`, `status`,
`response`), are read as this shape while they live: a retry within their TTL still
replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.core import config
from functions.core.models import KeptAnswer
from functions.store import calls
from functions.store.client import UnitOfWork, backend_errors, client, count_reads

if TYPE_CHECKING:
    from google.cloud import firestore

CREATED = 201


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a key holds: its live answer (None: none, or expired) and, when a record
    exists, its last write time (an expired one is replaced from it)."""

    answer: KeptAnswer | None
    written: dt.datetime | None

    @property
    def taken(self) -> bool:
        return self.answer is not None


def reference(partner_id: str, key: str) -> firestore.DocumentReference:
    key_id = hashlib.sha256(f"{partner_id}\n{key}".encode()).hexdigest()
    return client().collection(config.idempotency_collection()).document(key_id)


def look_up(partner_id: str, key: str, *, now: dt.datetime | None = None) -> Lookup:
    """The record of `key` for the partner, read once."""
    with backend_errors():
        snapshot = calls.get(reference(partner_id, key))
    count_reads(1)
    if not snapshot.exists:
        return Lookup(None, written=None)
    return Lookup(answer_of(snapshot.to_dict() or {}, now=now), written=snapshot.update_time)


def answer_of(data: dict[str, Any], *, now: dt.datetime | None = None) -> KeptAnswer | None:
    """The live answer a stored record holds, in any shape it was written in; None when
    it expired (or holds no answer this package wrote)."""
    expires = data.get("expiresAt")
    if not isinstance(expires, dt.datetime) or expires <= (now or dt.datetime.now(dt.UTC)):
        return None
    fingerprint, body = str(data.get("fingerprint", "")), data.get("response")
    operation, status = data.get("operation"), data.get("status")
    if operation is None and isinstance(data.get("endpoint"), str):  # an owner endpoint's
        operation = data["endpoint"]
    if operation is None and isinstance(data.get("resource"), str):  # a built-in create's
        operation, status = f"{data['resource']}.create", CREATED
    if not (isinstance(operation, str) and type(status) is int and isinstance(body, str)):
        return None
    record_id = data.get("recordId")
    return KeptAnswer(
        operation, fingerprint, status, body, record_id if isinstance(record_id, str) else None
    )


def keep(
    work: UnitOfWork,
    partner_id: str,
    key: str,
    answer: KeptAnswer,
    *,
    now: dt.datetime,
    replacing: dt.datetime | None,
) -> None:
    """Add the answer to `work`: a create (the commit fails if another call kept one
    first), or the replacement of an expired record read at `replacing`."""
    kept: dict[str, Any] = {
        "partnerId": partner_id,
        "operation": answer.operation,
        "fingerprint": answer.fingerprint,
        "status": answer.status,
        "response": answer.body,
        "createdAt": now,
        "expiresAt": now + dt.timedelta(hours=config.idempotency_ttl_hours()),
    }
    if answer.record_id is not None:
        kept["recordId"] = answer.record_id
    if replacing is None:
        work.create(reference(partner_id, key), kept)
    else:
        work.update(reference(partner_id, key), kept, unchanged_since=replacing)
