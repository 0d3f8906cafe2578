"""The shared state of rate limits and daily quotas in Firestore (collection
`partnerLimits` by default): one document per bucket, changed only by leases, never by a
call itself. Clients never reach it (the rules deny the collection).

A lease is a read and a write conditioned on the read (the write fails if another
instance leased in between, and is then retried on a fresh read after a short random
wait, until the Firestore deadline): no transaction holds a lock, and every step has the
Firestore deadline. Only a Firestore that does not answer in time makes the limits
unavailable, never instances that happen to lease at once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

from functions.core import config, limits
from functions.core.errors import ServiceUnavailable
from functions.store import audit, calls
from functions.store.client import UnitOfWork, WriteConflict, backend_errors, client

CONFLICT_BACKOFF_S = 0.01
"""The first wait after a conflicting lease; it doubles (with jitter) up to a quarter second."""


def _lease(
    database: Any,
    name: str,
    decide: Callable[[dict[str, Any] | None, dt.datetime], tuple[Any, Any, Any]],
) -> tuple[Any, Any, int]:
    """Read the bucket, let `decide` compute (taken, left, new document or None), and write
    the document if the bucket is unchanged since the read; retried on a conflict.

    Raises: LimitsUnavailable.
    """
    reference = database.collection(config.limits_collection()).document(name)
    operations = 0
    deadline = time.monotonic() + config.firestore_timeout_s()
    backoff = CONFLICT_BACKOFF_S
    try:
        while time.monotonic() < deadline:
            with backend_errors():
                snapshot = calls.get(reference)
            operations += 1
            now = dt.datetime.now(dt.UTC)
            taken, left, document = decide(snapshot.to_dict() if snapshot.exists else None, now)
            if document is None:
                return taken, left, operations
            work = UnitOfWork(database)
            if snapshot.exists:
                work.update(reference, document, unchanged_since=snapshot.update_time)
            else:
                work.create(reference, document)
            operations += 1
            try:
                work.commit()
            except WriteConflict:  # another instance leased in between: read again
                jitter = 0.5 + random.random()  # noqa: S311 - spreading retries, not a secret
                time.sleep(max(0.0, min(backoff * jitter, deadline - time.monotonic())))
                backoff = min(backoff * 2, 0.25)
                continue
            return taken, left, operations
    except ServiceUnavailable as exc:
        raise limits.LimitsUnavailable() from exc
    raise limits.LimitsUnavailable()


class FirestoreLeases:
    """Leases on the bucket documents (see `functions.core.limits`)."""

    def __init__(self, database: Any = None, name: str | None = None) -> None:
        self._database = database
        self._name = name

    @property
    def database(self) -> Any:
        """The client given, else database `name`'s, else the running call's."""
        return self._database or client(self._name)

    def lease_tokens(
        self, bucket: str, want: int, rate_per_s: float, burst: int, least: int
    ) -> tuple[int, float, int]:
        """Raises: LimitsUnavailable."""
        taken, left, operations = _lease(
            self.database,
            f"rate:{bucket}",
            lambda stored, now: limits.bucket_lease(
                stored, now, want, rate_per_s, burst, least=least
            ),
        )
        return int(taken), float(left), operations

    def lease_permits(
        self, bucket: str, want: int, quota: int, returned: int = 0
    ) -> tuple[int, int, int]:
        """Raises: LimitsUnavailable."""
        partner_id, _, day = bucket.rpartition(":")
        recounts = 0

        def recount() -> int:
            nonlocal recounts
            recounts += 1
            since = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.UTC)
            return audit.count_creates(self.database, partner_id, since)

        taken, left, operations = _lease(
            self.database,
            f"quota:{bucket}",
            lambda stored, now: limits.quota_lease(
                stored, now, want, quota, recount=recount, returned=returned
            ),
        )
        return int(taken), int(left), operations + recounts
