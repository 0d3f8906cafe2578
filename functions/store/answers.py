"""The answers of owner endpoints called with an Idempotency-Key, in the idempotency
collection the built-in creates use (one key space per partner, across endpoints).

An answer is created in the same unit of work as the writes of the call that produced
it, so a retry finds either both or neither; a record past its `expiresAt` (a TTL policy
removes it) is replaced as if absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions import config
from functions.models import KeptAnswer
from functions.store import wire
from functions.store.client import UnitOfWork, backend_errors, count_reads
from functions.store.records import idempotency_record


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a key holds: its live answer (None: none, or not one of an owner endpoint's)
    and, when a record exists, its last write time (an expired one is replaced from it)."""

    answer: KeptAnswer | None
    taken: bool
    written: dt.datetime | None


def look_up(partner_id: str, key: str) -> Lookup:
    """The record of `key` for the partner, read once."""
    with backend_errors():
        snapshot = wire.get(idempotency_record(partner_id, key))
    count_reads(1)
    if not snapshot.exists:
        return Lookup(None, taken=False, written=None)
    data = snapshot.to_dict() or {}
    expires = data.get("expiresAt")
    if not isinstance(expires, dt.datetime) or expires <= dt.datetime.now(dt.UTC):
        return Lookup(None, taken=False, written=snapshot.update_time)
    endpoint, status, body = data.get("endpoint"), data.get("status"), data.get("response")
    if not (isinstance(endpoint, str) and isinstance(status, int) and isinstance(body, str)):
        return Lookup(None, taken=True, written=snapshot.update_time)  # a built-in create's
    answer = KeptAnswer(endpoint, str(data.get("fingerprint", "")), status, body)
    return Lookup(answer, taken=True, written=snapshot.update_time)


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
    kept = {
        "partnerId": partner_id,
        "endpoint": answer.endpoint,
        "fingerprint": answer.fingerprint,
        "status": answer.status,
        "response": answer.body,
        "createdAt": now,
        "expiresAt": now + dt.timedelta(hours=config.idempotency_ttl_hours()),
    }
    reference = idempotency_record(partner_id, key)
    if replacing is None:
        work.create(reference, kept)
    else:
        work.update(reference, kept, unchanged_since=replacing)
