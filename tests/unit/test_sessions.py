"""Shared user lookups: concurrent requests share one, but never one older than themselves."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from functions.auth import sessions
from functions.auth.sessions import SharedLookups

WAIT_S = 5


class Backend:
    """A user store whose lookups can be held open, to line up arrivals around them."""

    def __init__(self) -> None:
        self.version = 0
        self.fetches: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)
        self.error: Exception | None = None

    def fetch(self, uid: str) -> tuple[str, int]:
        """The record as it is when the lookup starts, returned when the gate opens."""
        seen = self.version
        self.fetches.append(uid)
        self.entered.release()
        assert self.gate.wait(WAIT_S)
        if self.error is not None:
            raise self.error
        return uid, seen


def _started(backend: Backend) -> None:
    assert backend.entered.acquire(timeout=WAIT_S), "no lookup started"


def _held_lookup(
    pool: ThreadPoolExecutor,
    lookups: SharedLookups[tuple[str, int]],
    backend: Backend,
    *args: Any,
) -> Future[tuple[str, int]]:
    """A first call whose lookup has started and is held open until the gate is set."""
    backend.gate.clear()
    first = pool.submit(lookups.get, *args)
    _started(backend)
    return first


def _wait_queued(lookups: SharedLookups[tuple[str, int]], uid: str, callers: int) -> None:
    """Until `callers` callers queue behind the running lookup of `uid` (white-box): the
    first of them waits for the running lookup, the others for the queued one."""
    for _ in range(500):
        queue = lookups._queues.get(uid)
        if queue and queue.waiting and _waiters(queue.waiting) >= callers - 1:
            return
        threading.Event().wait(0.01)
    raise AssertionError("callers did not queue")


def _waiters(lookup: object) -> int:
    condition = lookup.done._cond  # type: ignore[attr-defined]
    return len(condition._waiters)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        yield executor


def test_one_caller_fetches_every_time() -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    for _ in range(3):
        assert lookups.get("u1") == ("u1", 0)
    assert backend.fetches == ["u1", "u1", "u1"]


def test_a_caller_arriving_during_a_lookup_gets_the_next_one(pool: ThreadPoolExecutor) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    first = _held_lookup(pool, lookups, backend, "u1")
    backend.version = 1  # a revoke lands while the first lookup is on its way
    second = pool.submit(lookups.get, "u1")
    _wait_queued(lookups, "u1", 1)
    backend.gate.set()
    assert first.result(WAIT_S) == ("u1", 0)
    assert second.result(WAIT_S) == ("u1", 1), "the later caller must not reuse the older lookup"
    assert len(backend.fetches) == 2


def test_callers_queued_behind_a_lookup_share_the_next_one(pool: ThreadPoolExecutor) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    first = _held_lookup(pool, lookups, backend, "u1")
    backend.version = 1
    queued: list[Future[tuple[str, int]]] = [pool.submit(lookups.get, "u1") for _ in range(8)]
    _wait_queued(lookups, "u1", 8)
    backend.gate.set()
    assert first.result(WAIT_S) == ("u1", 0)
    assert {f.result(WAIT_S) for f in queued} == {("u1", 1)}
    assert len(backend.fetches) == 2, "nine callers, two lookups"
    assert lookups._queues == {}


def test_users_do_not_share_lookups(pool: ThreadPoolExecutor) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    first = _held_lookup(pool, lookups, backend, "u1")
    other = pool.submit(lookups.get, "u2")
    _started(backend)  # u2 did not wait behind u1's lookup
    backend.gate.set()
    assert first.result(WAIT_S) == ("u1", 0)
    assert other.result(WAIT_S) == ("u2", 0)


def test_an_error_reaches_every_sharer_and_is_not_kept(pool: ThreadPoolExecutor) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    backend.error = ConnectionError("auth backend down")
    first = _held_lookup(pool, lookups, backend, "u1", 60.0)
    queued = [pool.submit(lookups.get, "u1", 60.0) for _ in range(3)]
    _wait_queued(lookups, "u1", 3)
    backend.gate.set()
    for future in [first, *queued]:
        with pytest.raises(ConnectionError):
            future.result(WAIT_S)
    backend.error = None
    assert lookups.get("u1", 60.0) == ("u1", 0), "a failed lookup is never reused"


def test_a_maximum_age_reuses_recent_lookups_and_no_older() -> None:
    now = [100.0]
    backend = Backend()
    lookups = SharedLookups(backend.fetch, clock=lambda: now[0])
    assert lookups.get("u1", 5.0) == ("u1", 0)
    backend.version = 1
    now[0] += 5.0
    assert lookups.get("u1", 5.0) == ("u1", 0), "within the maximum age: reused"
    assert lookups.get("u1", 0.0) == ("u1", 1), "a strict caller never reuses"
    now[0] += 5.01
    backend.version = 2
    assert lookups.get("u1", 5.0) == ("u1", 2), "past the maximum age: a new lookup"
    assert len(backend.fetches) == 3


def test_strict_lookups_are_not_remembered() -> None:
    lookups = SharedLookups(Backend().fetch)
    lookups.get("u1")
    assert not lookups._recent


def test_remembered_users_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "MAX_REMEMBERED", 3)
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    for uid in ("a", "b", "c", "d"):
        lookups.get(uid, 60.0)
    assert list(lookups._recent) == ["b", "c", "d"]
    lookups.get("a", 60.0)
    assert backend.fetches == ["a", "b", "c", "d", "a"], "the evicted user is looked up again"


def test_many_threads_each_get_their_own_users_record(pool: ThreadPoolExecutor) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    uids = [f"u{i % 3}" for i in range(600)]
    futures = [pool.submit(lookups.get, uid) for uid in uids]
    assert [f.result(WAIT_S)[0] for f in futures] == uids
    assert 3 <= len(backend.fetches) <= 600
    assert lookups._queues == {}


# --- deadlines -----------------------------------------------------------------------------


def test_callers_queued_behind_a_stalled_lookup_give_up_at_their_deadline(
    pool: ThreadPoolExecutor,
) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    first = _held_lookup(pool, lookups, backend, "u1")  # no deadline: stalls until released
    started = time.monotonic()
    queued = [pool.submit(lookups.get, "u1", timeout_s=0.3) for _ in range(4)]
    for future in queued:
        with pytest.raises(sessions.LookupTimeout):
            future.result(WAIT_S)
    assert time.monotonic() - started < 0.3 + 1.0, "nobody waited far past the deadline"
    assert len(backend.fetches) == 1, "the queued lookup never ran"
    backend.gate.set()
    assert first.result(WAIT_S) == ("u1", 0)
    assert lookups._queues == {}, "the abandoned queue is gone"
    assert lookups.get("u1", timeout_s=1.0) == ("u1", 0), "the next caller looks up afresh"


def test_callers_sharing_a_running_lookup_give_up_at_their_deadline(
    pool: ThreadPoolExecutor,
) -> None:
    backend = Backend()
    lookups = SharedLookups(backend.fetch)
    backend.gate.clear()
    leader = pool.submit(lookups.get, "u1", timeout_s=0.3)
    _started(backend)
    started = time.monotonic()
    with pytest.raises(sessions.LookupTimeout):
        lookups.get("u1", timeout_s=0.3)  # queues behind the stalled lookup
    assert time.monotonic() - started < 1.0
    backend.gate.set()
    assert leader.result(WAIT_S) == ("u1", 0), "the leader waits for the fetch it runs"
