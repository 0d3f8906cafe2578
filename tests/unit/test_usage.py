"""Usage metering without the emulators (the emulator tests measure it through the
functions): outcomes, when an instance writes (FLUSH_CALLS calls, or its oldest count
USAGE_FLUSH_SECONDS old), what a failed write keeps, and the writes per call that costs."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from functions.core.errors import ServiceUnavailable
from functions.core.models import USAGE_COUNTERS, DayUsage
from functions.domain import usage
from functions.store import usage as usage_store

DAY = dt.date(2026, 12, 2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Writes:
    """What the meter wrote, batch by batch, keyed (partner, day), with the database third
    where it is not the live one; `fail` makes the next write fail."""

    def __init__(self) -> None:
        self.batches: list[dict[tuple[Any, ...], dict[str, int]]] = []
        self.fail = False
        self.done = threading.Event()

    def __call__(
        self, counts: Mapping[tuple[str, dt.date, str], Mapping[str, int]], now: dt.datetime
    ) -> int:
        if self.fail:
            self.fail = False
            raise ServiceUnavailable()
        self.batches.append(
            {
                (key[:2] if key[2] == "(default)" else key): dict(value)
                for key, value in counts.items()
            }
        )
        self.done.set()
        return len(counts)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "ok"), (201, "ok"), (304, "ok"), (400, "client_errors"), (401, "client_errors"),
     (403, "client_errors"), (404, "client_errors"), (428, "client_errors"), (429, "limited"),
     (430, "client_errors"), (499, "client_errors"), (500, "errors"), (503, "errors")],
)  # fmt: skip
def test_each_status_has_its_outcome(status: int, outcome: str) -> None:
    assert usage.outcome_of(status) == outcome


def test_counts_are_held_per_partner_and_day_and_written_in_one_batch() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=1000, flush_seconds=lambda: 3600)
    meter.record("acme", 201, created=True, day=DAY)
    meter.record("acme", 429, created=False, day=DAY)
    meter.record("acme", 500, created=False, day=DAY + dt.timedelta(days=1))
    meter.record("globex", 404, created=False, day=DAY)
    assert meter.held() == 4
    assert meter.flush() == 3
    (batch,) = writes.batches
    assert batch == {
        ("acme", DAY): {"calls": 2, "ok": 1, "creates": 1, "limited": 1},
        ("acme", DAY + dt.timedelta(days=1)): {"calls": 1, "errors": 1},
        ("globex", DAY): {"calls": 1, "client_errors": 1},
    }
    assert (meter.held(), meter.writes, meter.flush()) == (0, 3, 0)


def test_calls_are_counted_by_sdk_version_and_at_most_max_sdks_versions_a_day() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=1000, flush_seconds=lambda: 3600)
    meter.record("acme", 200, created=False, day=DAY, sdk="python/1.0.0")
    meter.record("acme", 201, created=True, day=DAY, sdk="python/1.0.0")
    meter.record("acme", 200, created=False, day=DAY)  # no SDK: counted, not by version
    for n in range(usage.MAX_SDKS + 2):
        meter.record("globex", 200, created=False, day=DAY, sdk=f"typescript/1.0.{n}")
    meter.record("globex", 200, created=False, day=DAY, sdk="typescript/1.0.0")  # known
    meter.flush()
    (batch,) = writes.batches
    assert batch[("acme", DAY)] == {"calls": 3, "ok": 3, "creates": 1, "sdk:python/1.0.0": 2}
    globex = batch[("globex", DAY)]
    versions = {k: v for k, v in globex.items() if k.startswith("sdk:")}
    assert len(versions) == usage.MAX_SDKS + 1
    assert versions["sdk:other"] == 2
    assert versions["sdk:typescript/1.0.0"] == 2
    assert sum(versions.values()) == globex["calls"] == usage.MAX_SDKS + 3


def test_test_modes_calls_are_counted_apart_in_its_database() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=1000, flush_seconds=lambda: 3600)
    meter.record("acme", 200, created=False, day=DAY)
    meter.record("acme", 201, created=True, day=DAY, database="sandbox")
    meter.flush()
    (batch,) = writes.batches
    assert batch == {
        ("acme", DAY): {"calls": 1, "ok": 1},
        ("acme", DAY, "sandbox"): {"calls": 1, "ok": 1, "creates": 1},
    }


def test_sdk_totals_add_up_versions_most_used_first() -> None:
    rows = [
        DayUsage("acme", DAY, calls=5, sdks={"python/1.0.0": 2, "typescript/1.0.0": 3}),
        DayUsage("acme", DAY, calls=2, sdks={"python/1.0.0": 2}),
        DayUsage("acme", DAY, calls=9),
    ]
    assert usage.sdk_totals(rows) == [("python/1.0.0", 4), ("typescript/1.0.0", 3)]
    assert usage.sdk_totals([]) == []


def test_a_failed_write_keeps_the_counts_for_the_next() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=1000, flush_seconds=lambda: 3600)
    meter.record("acme", 200, created=False, day=DAY)
    writes.fail = True
    assert meter.flush() == 0
    meter.record("acme", 200, created=False, day=DAY)
    assert meter.held() == 2
    assert meter.flush() == 1
    assert writes.batches == [{("acme", DAY): {"calls": 2, "ok": 2}}]


def test_the_instance_writes_once_it_holds_enough_calls() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=50, flush_seconds=lambda: 3600)
    for _ in range(49):
        meter.record("acme", 200, created=False, day=DAY)
    assert not writes.done.wait(0.3)  # 49 calls, an hour to go: nothing written
    meter.record("acme", 200, created=False, day=DAY)
    assert writes.done.wait(10)
    assert writes.batches == [{("acme", DAY): {"calls": 50, "ok": 50}}]


def test_the_instance_writes_when_its_oldest_count_is_due() -> None:
    writes = Writes()
    meter = usage.Meter(writes, flush_calls=1000, flush_seconds=lambda: 0.2)
    meter.record("acme", 200, created=False, day=DAY)
    assert writes.done.wait(10)
    assert writes.batches == [{("acme", DAY): {"calls": 1, "ok": 1}}]


def test_under_load_metering_costs_a_write_per_fifty_calls() -> None:
    """1,000 calls of one partner at a steady pace, the clock the meter's own: writes per
    call, as `make test` measures through the functions."""
    writes = Writes()
    clock = Clock()
    meter = usage.Meter(
        writes, flush_calls=usage.FLUSH_CALLS, flush_seconds=lambda: 30, clock=clock
    )
    for _ in range(1000):
        meter.record("acme", 200, created=False, day=DAY)
        if meter._due_now():  # what the background thread does when woken
            meter.flush()
        clock.now += 0.01
    assert meter.writes == 1000 // usage.FLUSH_CALLS
    assert meter.writes / 1000 == 0.02


def test_a_bad_flush_setting_keeps_the_default_period() -> None:
    from functions.core.errors import ConfigurationError

    def broken() -> float:
        raise ConfigurationError("USAGE_FLUSH_SECONDS is not a number")

    meter = usage.Meter(Writes(), flush_seconds=broken)
    assert meter._period() == usage.DEFAULT_FLUSH_SECONDS


def test_a_readers_span_is_bounded_and_totals_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    for days in (0, usage.MAX_DAYS + 1):
        with pytest.raises(ValueError, match="days must be 1 to 90"):
            usage.usage(["acme"], days)
    rows = [
        DayUsage("acme", DAY, calls=3, ok=2, limited=1),
        DayUsage("acme", DAY, calls=1, errors=1),
    ]
    assert usage.totals(rows) == {
        "calls": 4, "ok": 2, "client_errors": 0, "limited": 1, "errors": 1, "creates": 0,
    }  # fmt: skip


def test_stored_counters_edited_into_other_shapes_read_as_zero() -> None:
    counters = usage_store._counters(
        {"calls": 5, "ok": "5", "clientErrors": -2, "limited": True, "errors": 1.5, "flushes": 2,
         "sdks": {"python/1.0.0": 3, "typescript/1.0.0": "4", "x": -1}}
    )  # fmt: skip
    assert counters == {
        "calls": 5, "ok": 0, "client_errors": 0, "limited": 0, "errors": 0, "creates": 0,
        "flushes": 2, "sdks": {"python/1.0.0": 3},
    }  # fmt: skip
    assert usage_store._counters({"sdks": ["python/1.0.0"]})["sdks"] == {}
    assert set(usage_store._FIELDS) == set(USAGE_COUNTERS)
    assert usage_store.document_id("acme", DAY) == "acme_2026-12-02"
