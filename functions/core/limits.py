"""Rate limits and daily quotas per partner that hold across serving instances.

Each partner has one token bucket (its sustained rate and burst) and one daily count of
created records, kept in Firestore. No call writes to them: an instance leases tokens in
chunks (one transaction: read the bucket, refill it for the time passed, take up to a
chunk, write it back) and spends them locally. Whatever the number of instances, the
partner can never be admitted more than its burst plus its rate times the time passed,
because every token admitted was taken from the one bucket; tokens an instance holds and
does not use are lost when its lease ends (never more than a chunk per instance).

When the bucket is empty, the instance does not ask again until the bucket should hold
a chunk (with jitter, so instances do not all ask at once), and answers 429 meanwhile with
the wait in `Retry-After`. When Firestore cannot be reached, the rule is: tokens already
leased are still spent (fail open within the lease), and beyond them the call is refused
with 503 and `Retry-After` (fail closed), never a 500; the data store the call needs is
then most likely down too.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from functions.core.models import Limits

LEASE_SECONDS = 3.0
"""A lease asks for about this many seconds of the calls this instance has been serving."""
LEASE_LIFETIME_S = 30.0
"""Leased tokens an instance has not spent after this long are dropped."""
FIRST_CHUNK = 10
"""What an instance's first lease of a bucket asks for (before it knows its own rate)."""


class LeaseStore(Protocol):
    """Where buckets live: Firestore in production (`functions.store.limits`)."""

    def lease_tokens(
        self, bucket: str, want: int, rate_per_s: float, burst: int, least: int
    ) -> tuple[int, float, int]:
        """Take up to `want` tokens, none if fewer than `least` are there: (taken, tokens
        left in the bucket, operations spent).

        Raises: LimitsUnavailable.
        """
        ...

    def lease_permits(
        self, bucket: str, want: int, quota: int, returned: int = 0
    ) -> tuple[int, int, int]:
        """Give `returned` unused permits back, then take up to `want` of a daily quota:
        (taken, permits left, operations spent).

        Raises: LimitsUnavailable.
        """
        ...


def bucket_lease(
    stored: Mapping[str, Any] | None,
    now: dt.datetime,
    want: int,
    rate_per_s: float,
    burst: int,
    *,
    least: int = 1,
) -> tuple[int, float, dict[str, Any] | None]:
    """A lease on a token bucket as stored: refilled for the time passed (up to `burst`),
    up to `want` whole tokens taken, none if fewer than `least` are there.
    (taken, tokens left, the document to write or None).

    What is read is clamped to what a bucket can hold (0 to `burst`; anything that is not
    a finite number counts as empty, a time in the future as now): a document an operator
    edited can delay a partner by one refill at most, never lock it out.
    """
    tokens = float(burst)
    if stored and isinstance(stored.get("at"), dt.datetime):
        passed = min(max(0.0, (now - stored["at"]).total_seconds()), burst / rate_per_s)
        tokens = min(
            float(burst), _stored_tokens(stored.get("tokens"), burst) + passed * rate_per_s
        )
    taken = min(want, math.floor(tokens))
    if taken < max(1, least):
        return 0, tokens, None
    return taken, tokens - taken, {"tokens": tokens - taken, "at": now}


def _stored_tokens(value: Any, burst: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return min(max(float(value), 0.0), float(burst))


def quota_lease(
    stored: Mapping[str, Any] | None,
    now: dt.datetime,
    want: int,
    quota: int,
    *,
    recount: Callable[[], int] = lambda: 0,
    returned: int = 0,
) -> tuple[int, int, dict[str, Any] | None]:
    """A lease on a day's count of creates: up to `want` more within `quota`.
    (taken, permits left, the document to write or None).

    A day's document that is missing (the day's first lease, or deleted by an operator)
    or whose count is not a whole number from 0 is rebuilt from `recount`, the creates the
    day's audit trail holds: an edit neither opens the quota nor locks the partner out.
    """
    used = stored.get("used") if stored else None
    if type(used) is not int or used < 0:
        used = max(0, recount())
    elif returned:
        used = max(0, used - returned)
    # Near the end of the quota a lease is a share of what is left, so the permits an
    # instance may strand (stop before spending them) shrink with what remains.
    want = min(want, max(1, math.ceil((quota - used) / QUOTA_SHARE)))
    taken = max(0, min(want, quota - used))
    if taken < 1:
        document = {"used": used, "expiresAt": now + dt.timedelta(days=2)} if returned else None
        return 0, max(0, quota - used), document
    return (
        taken,
        quota - used - taken,
        {"used": used + taken, "expiresAt": now + dt.timedelta(days=2)},
    )


class LimitsUnavailable(Exception):
    """The shared state of the limits could not be read or written in time."""


@dataclass(frozen=True, slots=True)
class Decision:
    """One call's verdict and what the client is told about its budget."""

    allowed: bool
    remaining: int
    reset_s: int
    retry_after_s: int = 0
    operations: int = 0
    unavailable: bool = False


@dataclass(slots=True)
class _Bucket:
    """One instance's view of one shared bucket."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: int = 0
    expires: float = 0.0
    shared_left: float = 0.0
    shared_seen: float = -math.inf
    next_try: float = 0.0
    short: bool = False
    """The last lease drained the bucket: the partner is at its limit."""
    calls: int = 0
    leased_at: float = -math.inf
    misses: int = 0
    """Leases in a row that found too little: each waits longer (instances spread out)."""
    unreachable: bool = False
    """The last lease could not reach the shared state (refusals until `next_try` are 503)."""

    def chunk(self, limits: Limits, now: float) -> int:
        """Tokens to ask for: about LEASE_SECONDS of the calls this instance served since
        its last lease (so instances share a bucket by their own traffic), or at the limit
        the most a lease may take; never more than half the burst or LEASE_SECONDS of the
        partner's rate, at least 1."""
        ceiling = math.floor(min(limits.burst // 2, limits.rate_per_s * LEASE_SECONDS))
        elapsed = now - self.leased_at
        if self.short:  # at the limit: whole chunks, the fewest leases
            wanted = float(ceiling)
        elif elapsed == math.inf:
            wanted = FIRST_CHUNK
        else:
            wanted = self.calls / max(elapsed, 0.5) * LEASE_SECONDS
        return max(1, min(math.ceil(wanted), ceiling))


def chunk(limits: Limits) -> int:
    """What an instance's first lease asks for (see `_Bucket.chunk`)."""
    return _Bucket().chunk(limits, 0.0)


class RateLimiter:
    """The per-process side of the shared token buckets."""

    def __init__(
        self,
        store: LeaseStore,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._clock = clock
        self._jitter = jitter
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, name: str) -> _Bucket:
        with self._lock:
            return self._buckets.setdefault(name, _Bucket())

    def take(self, name: str, limits: Limits) -> Decision:
        """Spend one token of bucket `name`, leasing more when this instance has none."""
        bucket = self._bucket(name)
        with bucket.lock:
            now = self._clock()
            bucket.calls += 1
            if bucket.tokens >= 1 and now < bucket.expires:
                bucket.tokens -= 1
                return self._allowed(bucket, limits, now, operations=0)
            if now < bucket.next_try:
                if bucket.unreachable:
                    return Decision(False, 0, 1, retry_after_s=1, unavailable=True)
                return self._refused(bucket, limits, now, operations=0)
            want = bucket.chunk(limits, now)
            bucket.calls, bucket.leased_at = 0, now
            # At the limit, wait for a whole chunk rather than lease crumbs: a lease costs
            # two operations whatever it takes.
            least = want if bucket.short else 1
            try:
                taken, left, operations = self._store.lease_tokens(
                    name, want, limits.rate_per_s, limits.burst, least
                )
            except LimitsUnavailable:
                bucket.next_try, bucket.unreachable = now + 1.0, True
                return Decision(False, 0, 1, retry_after_s=1, unavailable=True)
            bucket.unreachable = False
            bucket.shared_left, bucket.shared_seen = left, now
            bucket.short = left < 1
            if taken >= 1:
                bucket.tokens, bucket.expires = taken - 1, now + LEASE_LIFETIME_S
                bucket.misses = 0
                if bucket.short:  # the bucket is drained: it holds a chunk again only then
                    refill = (want - left) / limits.rate_per_s * (0.75 + self._jitter() / 2)
                    bucket.next_try = now + min(refill, limits.refill_s)
                return self._allowed(bucket, limits, now, operations=operations)
            # Empty: ask again when a chunk should have refilled, later after each miss and
            # with jitter, so that instances at the limit do not all ask at once; never
            # later than a whole refill, so a refusing instance reads the shared state again.
            bucket.misses += 1
            wait = max(want - left, 1) / limits.rate_per_s * min(bucket.misses, 4)
            wait = min(wait * (0.5 + self._jitter()), limits.refill_s)
            bucket.next_try = now + wait
            return self._refused(bucket, limits, now, operations=operations)

    def _estimate(self, bucket: _Bucket, limits: Limits, now: float) -> float:
        shared = bucket.shared_left + (now - bucket.shared_seen) * limits.rate_per_s
        return min(limits.burst, bucket.tokens + max(0.0, shared))

    def _allowed(self, bucket: _Bucket, limits: Limits, now: float, operations: int) -> Decision:
        remaining = math.floor(self._estimate(bucket, limits, now))
        reset = math.ceil((limits.burst - remaining) / limits.rate_per_s)
        return Decision(True, remaining, reset, operations=operations)

    def _refused(self, bucket: _Bucket, limits: Limits, now: float, operations: int) -> Decision:
        reset = math.ceil(limits.refill_s)
        retry = min(max(1, math.ceil(bucket.next_try - now)), reset)
        return Decision(False, 0, reset, retry_after_s=retry, operations=operations)


@dataclass(slots=True)
class _Quota:
    lock: threading.Lock = field(default_factory=threading.Lock)
    day: str = ""
    permits: int = 0
    shared_left: int = 0
    next_try: float = 0.0
    leased_at: float = 0.0
    quota: int = 0
    spent: int = 0
    """Creates reserved since the last lease: the instance's own pace."""

    def chunk(self, now: float) -> int:
        """Permits to ask for: about LEASE_SECONDS of the creates this instance reserved
        since its last lease, at least QUOTA_CHUNK (an instance's first lease), at most
        QUOTA_MAX_CHUNK; the shared count gives at most a share of what is left."""
        wanted = self.spent / max(now - self.leased_at, 0.5) * LEASE_SECONDS
        return max(QUOTA_CHUNK, min(math.ceil(wanted), QUOTA_MAX_CHUNK))


@dataclass(frozen=True, slots=True)
class Permit:
    """A create the daily quota allows; given back if nothing was created."""

    allowed: bool
    remaining: int
    reset_s: int
    release: Callable[[], None] = lambda: None
    operations: int = 0
    unavailable: bool = False


@dataclass(frozen=True, slots=True)
class Gate:
    """An instance's limiters: the rate of every call, the daily quota of creates."""

    rate: RateLimiter
    creates: DailyQuota

    @classmethod
    def over(cls, store: LeaseStore) -> Gate:
        return cls(RateLimiter(store), DailyQuota(store))


QUOTA_CHUNK = 20
"""The fewest permits a quota lease asks for, and an instance's first lease. A busy instance
asks for about LEASE_SECONDS of its own creates instead: with leases of 20, at 360 creates
a second one create in 20 waited for a lease (two more round trips)."""
QUOTA_MAX_CHUNK = 10_000
"""The most one quota lease takes, whatever the pace."""
QUOTA_SHARE = 8
"""A lease takes at most 1/8 of what is left of the day's quota."""
QUOTA_LEASE_LIFETIME_S = 60.0
"""Permits an instance has held this long unspent go back to the shared count."""
QUOTA_RECHECK_S = 5.0
"""An exhausted quota is asked again this often, so a raised quota applies in seconds."""


class DailyQuota:
    """The per-process side of the shared daily counts of created records (UTC days)."""

    def __init__(
        self,
        store: LeaseStore,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._now = now
        self._clock = clock
        self._quotas: dict[str, _Quota] = {}
        self._lock = threading.Lock()

    def reserve(self, partner_id: str, limits: Limits) -> Permit:
        """One create of today's quota, leasing permits in chunks."""
        now = self._now()
        day = now.date().isoformat()
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        until_midnight = max(1, math.ceil((midnight - now).total_seconds()))
        with self._lock:
            quota = self._quotas.setdefault(partner_id, _Quota())
        with quota.lock:
            if quota.day != day:
                quota.day, quota.permits, quota.shared_left, quota.next_try = day, 0, 0, 0.0
                quota.spent = 0
            operations, returned = 0, 0
            if quota.permits and self._clock() - quota.leased_at > QUOTA_LEASE_LIFETIME_S:
                returned, quota.permits = quota.permits, 0  # aged: back with the next lease
            if quota.permits < 1 and (returned or self._clock() >= quota.next_try):
                want = min(limits.daily_creates, quota.chunk(self._clock()))
                try:
                    taken, quota.shared_left, operations = self._store.lease_permits(
                        f"{partner_id}:{day}", max(1, want), limits.daily_creates, returned
                    )
                except LimitsUnavailable:
                    quota.permits += returned  # nothing was given back
                    return Permit(False, 0, 1, unavailable=True)
                quota.permits += taken
                quota.leased_at, quota.quota = self._clock(), limits.daily_creates
                quota.spent = 0
                if taken < 1:
                    quota.next_try = self._clock() + QUOTA_RECHECK_S
            if quota.permits < 1:
                return Permit(False, 0, until_midnight, operations=operations)
            quota.permits -= 1
            quota.spent += 1

            def release() -> None:
                with quota.lock:
                    if quota.day == day:
                        quota.permits += 1

            remaining = quota.permits + quota.shared_left
            return Permit(True, remaining, until_midnight, release, operations)

    def give_back(self) -> int:
        """Return every unspent permit of today to the shared counts (an instance that
        stops: Cloud Run sends SIGTERM and the process exits); the permits returned."""
        day = self._now().date().isoformat()
        returned = 0
        with self._lock:
            quotas = list(self._quotas.items())
        for partner_id, quota in quotas:
            with quota.lock:
                if quota.day != day or quota.permits < 1:
                    continue
                try:
                    self._store.lease_permits(f"{partner_id}:{day}", 0, quota.quota, quota.permits)
                except LimitsUnavailable:
                    continue
                returned += quota.permits
                quota.permits = 0
        return returned


FAILURES_BURST = 20
"""Failed credentials one client address may present at once, per instance."""
FAILURES_PER_S = 0.5
"""How fast that allowance comes back: one failure every two seconds, sustained."""
TRACKED_ADDRESSES = 10_000
"""Addresses (and recently good credentials) an instance remembers at most."""
GOOD_CREDENTIAL_S = 600.0
"""How long a credential that passed stays exempt on this instance."""


def failure_source(address: str | None, claimed: str) -> str | None:
    """What the failed-credential brake counts by: a client address and the identity a
    credential claims there (a key's id, a token's subject, an account's email), so that
    one identity's failures never brake another's; None without an address."""
    if address is None:
        return None
    return f"{address}|{claimed[:MAX_CLAIMED_CHARS]}"


MAX_CLAIMED_CHARS = 256


class FailureGuard:
    """Per-instance brakes on failed credentials, with no Firestore operation: a forged
    key or a non-partner's token costs a lookup each, so a source that keeps failing is
    refused before any lookup until its allowance comes back. A source is a client
    address with the identity a credential claims there (`failure_source`): guesses at one
    key or account hold back that one, never another's from the same (NAT) address. A
    credential that passed on this instance lately is never held back either."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._allowance: dict[str, tuple[float, float]] = {}  # address: (left, when)
        self._good: dict[str, float] = {}  # credential fingerprint: until

    def retry_after(self, address: str | None, fingerprint: str) -> int:
        """0 when the call may go on, else the seconds until this source (`address`) may
        fail again."""
        if address is None:
            return 0
        now = self._clock()
        with self._lock:
            if self._good.get(fingerprint, -math.inf) > now:
                return 0
            left = self._left(address, now)
        return 0 if left >= 1 else math.ceil((1 - left) / FAILURES_PER_S)

    def failed(self, address: str | None) -> None:
        if address is None:
            return
        now = self._clock()
        with self._lock:
            left = self._left(address, now)
            self._remember(self._allowance, address, (max(0.0, left - 1), now))

    def passed(self, fingerprint: str) -> None:
        with self._lock:
            self._remember(self._good, fingerprint, self._clock() + GOOD_CREDENTIAL_S)

    def _left(self, address: str, now: float) -> float:
        left, when = self._allowance.get(address, (float(FAILURES_BURST), now))
        return min(float(FAILURES_BURST), left + (now - when) * FAILURES_PER_S)

    @staticmethod
    def _remember(table: dict[str, Any], key: str, value: Any) -> None:
        table.pop(key, None)
        table[key] = value  # newest last: the oldest goes first when the table is full
        while len(table) > TRACKED_ADDRESSES:
            del table[next(iter(table))]
