"""Usage metering: each instance counts its partners' calls in memory and writes the
counts in aggregate, one Firestore write per partner and day it saw, when it holds
FLUSH_CALLS calls or its oldest count is USAGE_FLUSH_SECONDS old (and when the process
exits). A write per call would double what a read costs; this costs a write per 50 calls
under load, and one per partner every half minute when calls are sparse.

Counts are best effort: an instance killed before it writes loses what it held (at most
FLUSH_CALLS calls or half a minute of them). Limits and quotas never depend on them.
"""

from __future__ import annotations

import atexit
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from functions.core import config, logs
from functions.core.errors import ConfigurationError
from functions.core.models import USAGE_COUNTERS, DayUsage
from functions.store import usage as store

FLUSH_CALLS: Final = 50
MAX_SDKS: Final = 8
"""Distinct SDK versions counted per partner and day by one instance; calls of more
count as `other`, so that an agent string cannot grow a usage document."""
SDK_PREFIX: Final = store.SDK_PREFIX
DEFAULT_FLUSH_SECONDS: Final = 30.0
MAX_DAYS: Final = 90
"""The longest span a reader may ask for."""

Writer = Callable[[Mapping[tuple[str, dt.date, str], Mapping[str, int]], dt.datetime], int]
"""Writes counts by (partner, day, database): test mode's usage is its database's."""


def outcome_of(status: int) -> str:
    """A call's outcome counter: `ok`, `limited` (429), `client_errors`, `errors`."""
    if status < 400:
        return "ok"
    if status == 429:
        return "limited"
    return "client_errors" if status < 500 else "errors"


class Meter:
    """One instance's counts, written in aggregate by a background thread."""

    def __init__(
        self,
        write: Writer = store.add,
        flush_calls: int = FLUSH_CALLS,
        flush_seconds: Callable[[], float] = config.usage_flush_seconds,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._flush_calls = flush_calls
        self._flush_seconds = flush_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, dt.date, str], Counter[str]] = {}
        self._pending = 0
        self._oldest: float | None = None
        self._due = threading.Event()
        self._thread: threading.Thread | None = None
        self.writes = 0
        """Documents written so far (what metering cost this instance)."""

    def record(
        self,
        partner_id: str,
        status: int,
        *,
        created: bool,
        day: dt.date,
        sdk: str | None = None,
        database: str = config.LIVE_DATABASE,
    ) -> None:
        """Count one answered call of a partner (and of the SDK version it came from), in
        the usage of the call's database."""
        with self._lock:
            counts = self._counts.setdefault((partner_id, day, database), Counter())
            counts["calls"] += 1
            counts[outcome_of(status)] += 1
            if created:
                counts["creates"] += 1
            if sdk is not None:
                known = sum(1 for name in counts if name.startswith(SDK_PREFIX))
                name = SDK_PREFIX + sdk
                counts[name if name in counts or known < MAX_SDKS else SDK_PREFIX + "other"] += 1
            self._pending += 1
            if self._oldest is None:
                self._oldest = self._clock()
            if self._pending >= self._flush_calls:
                self._due.set()
            self._start()

    def flush(self) -> int:
        """Write what is held; on a failure keep it for the next try. Returns documents
        written."""
        with self._lock:
            taken, self._counts = self._counts, {}
            self._pending, self._oldest = 0, None
        if not taken:
            return 0
        try:
            written = self._write(taken, dt.datetime.now(dt.UTC))
        except Exception as exc:  # noqa: BLE001 - metering never fails a call or an exit
            with self._lock:
                for key, counts in taken.items():
                    self._counts.setdefault(key, Counter()).update(counts)
                    self._pending += counts["calls"]
                self._oldest = self._oldest or self._clock()
            logs.log("WARNING", f"usage counts kept for the next write: {exc}")
            return 0
        self.writes += written
        return written

    def held(self) -> int:
        """Calls counted and not yet written."""
        with self._lock:
            return self._pending

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="usage-meter", daemon=True)
            self._thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._due.wait(self._wait())
            self._due.clear()
            if self._due_now():
                self.flush()

    def _wait(self) -> float:
        with self._lock:
            oldest = self._oldest
        period = self._period()
        return period if oldest is None else max(0.05, oldest + period - self._clock())

    def _due_now(self) -> bool:
        with self._lock:
            if self._pending >= self._flush_calls:
                return True
            oldest = self._oldest
        return oldest is not None and self._clock() - oldest >= self._period()

    def _period(self) -> float:
        try:
            return float(self._flush_seconds())
        except ConfigurationError:  # the functions answer 500 and say why; keep counting
            return DEFAULT_FLUSH_SECONDS


METER: Final = Meter()


def record_call(
    partner_id: str | None,
    status: int,
    *,
    created: bool,
    sdk: str | None = None,
    database: str = config.LIVE_DATABASE,
) -> None:
    """Count a call of the instance's meter; calls of no known partner are not counted."""
    if partner_id:
        today = dt.datetime.now(dt.UTC).date()
        METER.record(partner_id, status, created=created, day=today, sdk=sdk, database=database)


def usage(partner_ids: Sequence[str], days: int, database: Any = None) -> list[DayUsage]:
    """Each partner's usage over the last `days` days (today included), oldest first,
    partner by partner.

    Raises: ValueError when `days` is outside 1 to MAX_DAYS."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS}")
    today = dt.datetime.now(dt.UTC).date()
    found = store.days(partner_ids, today - dt.timedelta(days=days - 1), today, database)
    return sorted(found.values(), key=lambda u: (partner_ids.index(u.partner_id), u.day))


def totals(rows: Sequence[DayUsage]) -> dict[str, int]:
    """The counters summed over `rows`."""
    return {name: sum(getattr(r, name) for r in rows) for name in USAGE_COUNTERS}


def sdk_totals(rows: Sequence[DayUsage]) -> list[tuple[str, int]]:
    """Calls by SDK version over `rows`, most used first."""
    summed: Counter[str] = Counter()
    for row in rows:
        summed.update(row.sdks)
    return sorted(summed.items(), key=lambda item: (-item[1], item[0]))
