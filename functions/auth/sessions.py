"""User lookups for the session check (revoked sessions, disabled users), shared safely.

firebase-admin's `check_revoked` looks the user up once per request: one round trip to
the Auth backend, which under load roughly halves the rate of creates a server sustains.
Here, concurrent requests of one user share a lookup, but only one that started after
each of them arrived: a request never trusts a user record read before it came in, so
the very next call after a revoke is refused. While a lookup runs, the requests that
arrive queue for the next one; each user has at most one lookup running and one queued.

An owner who accepts a bounded delay can set a maximum age: a request may then use a
lookup that started at most that many seconds before it arrived.

No request waits past its deadline: one that would (a stalled backend) gets
LookupTimeout, whether it runs the lookup, waits for it, or queues behind another.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from functions.core import logs

T = TypeVar("T")

MAX_REMEMBERED = 4096
"""Users whose last record is kept for the maximum age; the least recent go first."""


class LookupTimeout(TimeoutError):
    """The lookup a request shares did not finish within the request's deadline."""


@dataclass(eq=False)
class _Lookup(Generic[T]):
    started: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None

    def outcome(self, timeout_s: float | None) -> T:
        if not self.done.wait(timeout_s):
            raise LookupTimeout("the user lookup did not finish in time")
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


@dataclass(eq=False)
class _Queue(Generic[T]):
    running: _Lookup[T]
    waiting: _Lookup[T] | None = None


class SharedLookups(Generic[T]):
    """`fetch(uid)` results shared by the concurrent requests of one user."""

    def __init__(
        self,
        fetch: Callable[[str], T],
        clock: Callable[[], float] = time.monotonic,
        *,
        service: str = "auth",
    ) -> None:
        self._fetch = fetch
        self._service = service
        self._clock = clock
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue[T]] = {}
        self._recent: OrderedDict[str, _Lookup[T]] = OrderedDict()

    def get(self, uid: str, max_age_s: float = 0.0, *, timeout_s: float | None = None) -> T:
        """The user's record from a lookup that started at most `max_age_s` before now.

        Raises whatever `fetch` raised for the lookup this call shares, or LookupTimeout
        when that lookup has not finished `timeout_s` after this call arrived. (`fetch`
        itself must honour a deadline too: a call that runs it waits for it.)
        """
        arrived = self._clock()
        deadline = None if timeout_s is None else arrived + timeout_s
        leading: _Queue[T] | None = None  # set when this call runs the lookup itself
        after: _Lookup[T] | None = None
        with self._lock:
            recent = self._recent.get(uid) if max_age_s > 0 else None
            if recent is not None and arrived - recent.started <= max_age_s:
                self._recent.move_to_end(uid)
                lookup = recent
            elif (queue := self._queues.get(uid)) is None:
                lookup = _Lookup(started=arrived)
                self._queues[uid] = leading = _Queue(running=lookup)
            elif queue.waiting is not None:
                lookup = queue.waiting
            else:
                lookup = queue.waiting = _Lookup()
                leading, after = queue, queue.running
        if leading is not None:  # `fetch` times its own calls
            self._run(uid, leading, lookup, after, remember=max_age_s > 0, deadline=deadline)
        elif lookup is not recent:  # waiting for another request's call: one round trip
            with logs.round_trip(self._service):
                return lookup.outcome(self._left(deadline))
        return lookup.outcome(self._left(deadline))

    def _left(self, deadline: float | None) -> float | None:
        return None if deadline is None else max(0.0, deadline - self._clock())

    def _run(
        self,
        uid: str,
        queue: _Queue[T],
        lookup: _Lookup[T],
        after: _Lookup[T] | None,
        *,
        remember: bool,
        deadline: float | None,
    ) -> None:
        """Fetch for everyone sharing `lookup`, once the lookup before it has finished."""
        if after is not None:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            if not after.done.wait(remaining):
                self._give_up(uid, queue, lookup, after)
                return
            with self._lock:
                queue.running, queue.waiting = lookup, None
                lookup.started = self._clock()
        try:
            lookup.value = self._fetch(uid)
        except BaseException as exc:  # noqa: BLE001 - handed to every request sharing it
            lookup.error = exc
        finally:
            # The bookkeeping comes before `done`: the queued lookup's leader takes over the
            # queue as soon as `done` is set, and must find it still registered.
            with self._lock:
                if queue.waiting is None:
                    del self._queues[uid]
                if remember and lookup.error is None:
                    self._remember(uid, lookup)
            lookup.done.set()

    def _give_up(self, uid: str, queue: _Queue[T], lookup: _Lookup[T], after: _Lookup[T]) -> None:
        """The lookup before this queued one outlived the deadline: fail everyone sharing
        the queued one, and leave the queue as if it had never been joined."""
        with self._lock:
            if queue.waiting is lookup:
                queue.waiting = None
                if after.done.is_set() and self._queues.get(uid) is queue:
                    del self._queues[uid]
        lookup.error = LookupTimeout("the lookup before this one did not finish in time")
        lookup.done.set()

    def _remember(self, uid: str, lookup: _Lookup[T]) -> None:
        self._recent[uid] = lookup
        self._recent.move_to_end(uid)
        while len(self._recent) > MAX_REMEMBERED:
            self._recent.popitem(last=False)
