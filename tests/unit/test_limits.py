"""The limiter's arithmetic on a simulated clock: several instances sharing one bucket
never admit more than the burst plus the rate times the time passed, spend few lease
operations at the limit, refuse almost nothing below it, and follow their failure rule.
(The emulator tests and `bench/limits.py` run the same with Firestore and real processes.)"""

from __future__ import annotations

import base64
import datetime as dt
import random

import pytest

from functions.core.limits import DailyQuota, RateLimiter, bucket_lease, chunk
from functions.core.models import Limits, limit_in_range
from tests.helpers import MemoryLeases, SimulatedClock

LIMITS = Limits(rate_per_s=20.0, burst=40, daily_creates=100)


def instances(count: int, clock: SimulatedClock, store: MemoryLeases) -> list[RateLimiter]:
    chance = random.Random(7)  # noqa: S311 - the limiter's jitter, not a secret
    return [RateLimiter(store, clock.monotonic, chance.random) for _ in range(count)]


def drive(
    limiters: list[RateLimiter], clock: SimulatedClock, per_second: float, seconds: float
) -> tuple[int, int]:
    """Calls spread evenly over time and round-robin over the instances."""
    admitted = refused = 0
    step = 1 / per_second
    for index in range(int(per_second * seconds)):
        clock.seconds += step
        decision = limiters[index % len(limiters)].take("acme", LIMITS)
        admitted += decision.allowed
        refused += not decision.allowed
    return admitted, refused


def one_instance() -> tuple[SimulatedClock, MemoryLeases, DailyQuota]:
    """A simulated clock, a lease store on it, and one instance's daily quota over both."""
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    return clock, store, DailyQuota(store, clock.now, clock.monotonic)


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize("processes", [1, 2, 4])
def test_at_three_times_the_rate_no_more_than_burst_plus_rate_is_admitted(
    processes: int,
) -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    admitted, refused = drive(instances(processes, clock, store), clock, 60, 60)
    ceiling = LIMITS.burst + LIMITS.rate_per_s * 60
    assert admitted <= ceiling
    assert admitted >= 0.9 * LIMITS.rate_per_s * 60  # and the partner still gets its rate
    assert store.operations / (admitted + refused) <= 0.2


@pytest.mark.parametrize("processes", [1, 2, 4])
def test_at_eighty_percent_almost_nothing_is_refused_and_leases_are_few(processes: int) -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    admitted, refused = drive(instances(processes, clock, store), clock, 16, 60)
    calls = admitted + refused
    assert refused / calls < 0.01
    assert store.operations / calls < 0.2  # Firestore operations per call


def test_another_partners_bucket_is_its_own() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = instances(1, clock, store)[0]
    drive([limiter], clock, 60, 10)
    assert limiter.take("globex", LIMITS).allowed


def test_a_refusal_says_when_to_retry_and_what_is_left() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = instances(1, clock, store)[0]
    decisions = [limiter.take("acme", LIMITS) for _ in range(LIMITS.burst + 1)]
    assert all(d.allowed for d in decisions[:-1])
    last = decisions[-1]
    assert not last.allowed
    assert last.remaining == 0
    assert 1 <= last.retry_after_s <= 2  # a chunk of 20 at 20/s, with jitter
    clock.seconds += last.retry_after_s
    assert limiter.take("acme", LIMITS).allowed


def test_when_the_state_cannot_be_read_leased_tokens_are_spent_then_refused() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = instances(1, clock, store)[0]
    assert limiter.take("acme", LIMITS).allowed  # leases a chunk of 20
    store.down = True
    in_hand = [limiter.take("acme", LIMITS) for _ in range(chunk(LIMITS) - 1)]
    assert all(d.allowed for d in in_hand)
    beyond = limiter.take("acme", LIMITS)
    assert (beyond.allowed, beyond.unavailable, beyond.retry_after_s) == (False, True, 1)
    assert limiter.take("acme", LIMITS).unavailable  # not a 429 while it cannot tell
    store.down = False
    clock.seconds += 1
    assert limiter.take("acme", LIMITS).allowed


# --- below the limit ---------------------------------------------------------------------------


@pytest.mark.parametrize("processes", [1, 2, 4])
def test_at_eighty_percent_of_the_rate_almost_nothing_is_refused(processes: int) -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    admitted, refused = drive(instances(processes, clock, store), clock, 16, 60)
    assert refused / (admitted + refused) < 0.01


def test_a_raised_limit_applies_to_the_next_lease() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = instances(1, clock, store)[0]
    while limiter.take("acme", LIMITS).allowed:
        pass
    clock.seconds += 2
    raised = Limits(rate_per_s=200.0, burst=400, daily_creates=100)
    admitted = sum(limiter.take("acme", raised).allowed for _ in range(200))
    assert admitted > 40


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    taken, left, document = bucket_lease(None, start, 10, 2.0, 5)
    assert (taken, left) == (5, 0.0)
    assert document is not None
    later = start + dt.timedelta(seconds=1.5)
    assert bucket_lease(document, later, 10, 2.0, 5)[:2] == (3, 0.0)
    much_later = start + dt.timedelta(hours=1)
    assert bucket_lease(document, much_later, 1, 2.0, 5)[:2] == (1, 4.0)


# --- the daily quota ---------------------------------------------------------------------------


def test_the_daily_quota_admits_exactly_its_creates_across_instances() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    quotas = [DailyQuota(store, clock.now, clock.monotonic) for _ in range(3)]
    permits = [quotas[i % 3].reserve("acme", LIMITS) for i in range(150)]
    granted = [p for p in permits if p.allowed]
    assert len(granted) <= LIMITS.daily_creates
    refused = [p for p in permits if not p.allowed]
    assert refused
    assert refused[0].reset_s == 12 * 3600  # until midnight UTC


def test_a_permit_given_back_is_spent_again_and_a_new_day_starts_afresh() -> None:
    clock, _store, quota = one_instance()
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=2)
    first, second = quota.reserve("acme", small), quota.reserve("acme", small)
    assert first.allowed
    assert second.allowed
    assert not quota.reserve("acme", small).allowed
    second.release()
    assert quota.reserve("acme", small).allowed
    clock.seconds += 12 * 3600
    assert quota.reserve("acme", small).allowed


def test_a_raised_quota_applies_within_seconds() -> None:
    clock, _store, quota = one_instance()
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=1)
    assert quota.reserve("acme", small).allowed
    assert not quota.reserve("acme", small).allowed
    raised = Limits(rate_per_s=1.0, burst=1, daily_creates=5)
    assert not quota.reserve("acme", raised).allowed  # asked again only every few seconds
    clock.seconds += 5
    assert quota.reserve("acme", raised).allowed


# --- values an operator sets: bounded where they enter, clamped where they are read -------


@pytest.mark.parametrize(
    ("name", "value", "usable"),
    [
        ("ratePerSecond", 1e-320, False),
        ("ratePerSecond", 0.0099, False),
        ("ratePerSecond", 0.01, True),
        ("ratePerSecond", 10_000, True),
        ("ratePerSecond", 10_000.1, False),
        ("ratePerSecond", float("nan"), False),
        ("ratePerSecond", float("inf"), False),
        ("ratePerSecond", float("-inf"), False),
        ("ratePerSecond", "25", False),
        ("ratePerSecond", True, False),
        ("burst", 0, False),
        ("burst", 1, True),
        ("burst", 100_000, True),
        ("burst", 100_001, False),
        ("burst", 2.0, False),
        ("dailyCreates", -1, False),
        ("dailyCreates", 0, True),
        ("dailyCreates", 100_000_000, True),
        ("dailyCreates", 100_000_001, False),
        ("dailyCreates", 10**400, False),
    ],
)
def test_each_limit_has_a_range_checked_on_both_sides(
    name: str, value: object, usable: bool
) -> None:
    assert limit_in_range(name, value) is usable
    merged = LIMITS.merged({name: value})
    field = {"ratePerSecond": "rate_per_s", "burst": "burst", "dailyCreates": "daily_creates"}
    expected = value if usable else getattr(LIMITS, field[name])
    assert getattr(merged, field[name]) == expected


@pytest.mark.parametrize(
    "stored",
    [-1e308, float("-inf"), float("nan"), float("inf"), "lots", None, True, 1e308],
)
def test_a_stored_bucket_is_clamped_to_what_a_bucket_can_hold(stored: object) -> None:
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    taken, left, _ = bucket_lease({"tokens": stored, "at": now}, now, 10, 20.0, 40)
    held = 40.0 if stored == 1e308 else 0.0  # anything not a finite number counts as empty
    assert (taken, left) == ((10, held - 10) if held else (0, 0.0))
    # a second later the bucket has refilled by the rate, whatever was stored
    later = now + dt.timedelta(seconds=1)
    taken, left, _ = bucket_lease({"tokens": stored, "at": now}, later, 10, 20.0, 40)
    assert taken == 10
    assert left == min(40.0, held + 20.0) - 10
    # a time in the future counts as now, never as a debt
    future = {"tokens": 5, "at": now + dt.timedelta(days=365)}
    assert bucket_lease(future, now, 10, 20.0, 40)[:2] == (5, 0.0)


def test_a_poisoned_bucket_delays_by_one_refill_at_most_and_is_read_again() -> None:
    clock = SimulatedClock()
    store = MemoryLeases(clock)
    limiter = RateLimiter(store, clock.monotonic, lambda: 1.0)  # the longest jitter
    store.documents["rate:acme"] = {"tokens": -1e308, "at": clock.now()}
    refused = limiter.take("acme", LIMITS)
    assert not refused.allowed
    assert 1 <= refused.retry_after_s <= LIMITS.refill_s == 2.0  # not a 308-digit wait
    store.documents["rate:acme"] = {"tokens": 40, "at": clock.now()}  # the operator fixes it
    clock.seconds += refused.retry_after_s
    before = store.operations
    assert limiter.take("acme", LIMITS).allowed
    assert store.operations > before  # it read the shared state again instead of refusing


def test_the_cli_refuses_a_limit_out_of_range_as_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.cli import commands as cli

    for name in ("FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)  # refused before any connection is made
    for flag, value, bound in (
        ("--rate", "1e-320", "--rate must be 0.01 to 10000 calls a second"),
        ("--rate", "nan", "--rate must be 0.01 to 10000 calls a second"),
        ("--rate", "inf", "--rate must be 0.01 to 10000 calls a second"),
        ("--burst", "0", "--burst must be 1 to 100000 calls"),
        ("--daily-creates", "-1", "--daily-creates must be 0 to 100000000 creates"),
    ):
        code = cli.main(["--project", "demo-x", "partner", "add", "acme", flag, value])
        assert code == 2
        assert capsys.readouterr().err.strip() == f"error: {bound}"


def test_limits_from_the_environment_out_of_range_fall_back_to_the_defaults(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.core import config

    monkeypatch.setattr(config, "_reported_limits", set())
    monkeypatch.setenv("RATE_LIMIT_PER_S", "1e-320")
    monkeypatch.setenv("RATE_LIMIT_BURST", "many")
    monkeypatch.setenv("DAILY_CREATE_QUOTA", "-5")
    assert config.default_limits() == Limits(
        config.DEFAULT_RATE_PER_S, config.DEFAULT_BURST, config.DEFAULT_DAILY_CREATES
    )
    logged = capsys.readouterr()
    assert (logged.out + logged.err).count("limits_setting_invalid") == 3
    config.default_limits()
    again = capsys.readouterr()
    assert "limits_setting_invalid" not in again.out + again.err  # once per value


@pytest.mark.parametrize(
    ("stored", "recounted"),
    [
        (None, True),  # the day's first lease, or a document an operator deleted
        ({"used": -3}, True),
        ({"used": 2.5}, True),
        ({"used": "7"}, True),
        ({"used": True}, True),
        ({}, True),
        ({"used": 7}, False),
    ],
)
def test_an_unreadable_day_count_is_rebuilt_from_the_audit_trail(
    stored: dict[str, object] | None, recounted: bool
) -> None:
    from functions.core.limits import quota_lease

    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    asked: list[int] = []

    def recount() -> int:
        asked.append(1)
        return 7  # creates the day's audit trail holds

    taken, left, document = quota_lease(stored, now, 5, 10, recount=recount)
    assert asked == ([1] if recounted else [])
    assert (taken, left) == (1, 2)  # 7 used of 10: a share of the 3 left, never locked out
    assert document is not None
    assert document["used"] == 8


# --- failed credentials, by client address ---------------------------------------------------


def test_an_address_that_keeps_failing_is_held_back_and_partners_are_not() -> None:
    from functions.core.limits import FAILURES_BURST, FailureGuard

    clock = SimulatedClock()
    guard = FailureGuard(clock.monotonic)
    for _ in range(FAILURES_BURST):
        assert guard.retry_after("203.0.113.9", "forged") == 0
        guard.failed("203.0.113.9")
    assert guard.retry_after("203.0.113.9", "forged") == 2  # one failure back every 2 s
    assert guard.retry_after("198.51.100.7", "forged") == 0  # another address: its own budget
    guard.passed("good")  # a partner's credential that passed on this instance ...
    assert guard.retry_after("203.0.113.9", "good") == 0  # ... goes through from that address
    clock.seconds += 1.9
    assert guard.retry_after("203.0.113.9", "forged") == 1
    clock.seconds += 0.2
    assert guard.retry_after("203.0.113.9", "forged") == 0  # one more attempt, not twenty
    guard.failed("203.0.113.9")
    assert guard.retry_after("203.0.113.9", "forged") == 2
    assert guard.retry_after(None, "forged") == 0  # no front end: nothing to key on


def test_the_guard_remembers_a_bounded_number_of_addresses() -> None:
    from functions.core import limits
    from functions.core.limits import FailureGuard

    guard = FailureGuard(SimulatedClock().monotonic)
    for index in range(limits.TRACKED_ADDRESSES + 50):
        guard.failed(f"10.0.{index // 256}.{index % 256}")
    assert len(guard._allowance) == limits.TRACKED_ADDRESSES


# --- quota availability: small leases near the end, permits given back ----------------------


def test_near_the_end_of_a_quota_instances_strand_few_permits() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    quotas = [DailyQuota(store, clock.now, clock.monotonic) for _ in range(3)]
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=25)
    first_leases = []
    for quota in quotas:
        quota.reserve("acme", small)
        first_leases.append(quota._quotas["acme"].permits + 1)
    assert first_leases == [4, 3, 3]  # an eighth of what is left (it was 20, 5 and 0)
    # one instance serves every call from now on; the others hold what they leased
    busy = quotas[0]
    admitted = 3 + sum(busy.reserve("acme", small).allowed for _ in range(30))
    stranded = sum(q._quotas["acme"].permits for q in quotas[1:])
    assert admitted + stranded == 25
    assert stranded == 4  # was 12 with leases of 20: 8 valid creates refused at 13


def test_unspent_permits_go_back_when_an_instance_stops_or_holds_them_too_long() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=25)
    stopping, staying = (DailyQuota(store, clock.now, clock.monotonic) for _ in range(2))
    assert stopping.reserve("acme", small).allowed  # leased 4, spent 1
    assert stopping.give_back() == 3  # at exit
    day = clock.now().date().isoformat()
    assert store.documents[f"quota:acme:{day}"]["used"] == 1
    admitted = sum(staying.reserve("acme", small).allowed for _ in range(30))
    assert admitted == 24  # the quota, whole: nothing died with the stopped instance

    clock.seconds += 86_400  # a new day; an idle instance's permits age out
    idle, busy = (DailyQuota(store, clock.now, clock.monotonic) for _ in range(2))
    assert idle.reserve("acme", small).allowed  # leased 4, holds 3
    assert sum(busy.reserve("acme", small).allowed for _ in range(30)) == 21
    clock.seconds += 61  # past the lease lifetime: its next call gives them back first
    assert idle.reserve("acme", small).allowed
    assert sum(busy.reserve("acme", small).allowed for _ in range(30)) == 2


def test_a_busy_instance_leases_seconds_of_its_creates_and_the_quota_stays_exact() -> None:
    from functions.core.limits import QUOTA_CHUNK, QUOTA_SHARE

    clock, store, quota = one_instance()
    big = Limits(rate_per_s=1000.0, burst=1000, daily_creates=1_000_000)
    asked: list[int] = []
    taken: list[int] = []
    lease = store.lease_permits

    def recorded(bucket: str, want: int, quota_: int, returned: int = 0) -> tuple[int, int, int]:
        asked.append(want)
        answer = lease(bucket, want, quota_, returned)
        taken.append(answer[0])
        return answer

    store.lease_permits = recorded  # type: ignore[method-assign,assignment]
    for _ in range(30 * 360):  # 30 s at 360 creates a second
        clock.seconds += 1 / 360
        assert quota.reserve("acme", big).allowed
    assert asked[0] == QUOTA_CHUNK  # a first lease is small
    assert 1000 <= asked[-1] <= 1100  # then about 3 s of this instance's creates (1,080)
    assert len(asked) <= 16  # was 540 with leases of 20: one create in 20 waited
    day = clock.now().date().isoformat()
    used = store.documents[f"quota:acme:{day}"]["used"]
    assert used == 30 * 360 + quota._quotas["acme"].permits  # spent plus held, no more
    # a small quota still gives a lease at most an eighth of what is left, whatever the pace
    clock.seconds += 86_400
    small = Limits(rate_per_s=1000.0, burst=1000, daily_creates=800)
    before = len(taken)
    admitted = 0
    for _ in range(1000):
        clock.seconds += 1 / 360
        admitted += quota.reserve("acme", small).allowed
    assert admitted == 800  # exactly the quota
    assert taken[before : before + 3] == [QUOTA_CHUNK, 98, 86]  # an eighth of 780, of 682
    assert max(taken[before:]) <= 800 // QUOTA_SHARE
    assert max(asked[before:]) > 800 // QUOTA_SHARE  # though the pace asked for more


# --- the numbers around each verdict ---------------------------------------------------------


def test_the_first_call_reports_the_shared_budget_and_its_reset() -> None:
    from functions.core import limits

    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)
    first = limiter.take("acme", LIMITS)
    # a first lease takes FIRST_CHUNK of the 40: one spent, 9 in hand, 30 in the bucket
    assert limits.FIRST_CHUNK == 10
    assert (first.allowed, first.remaining, first.reset_s, first.operations) == (True, 39, 1, 2)
    assert store.documents["rate:acme"]["tokens"] == 30.0
    second = limiter.take("acme", LIMITS)
    assert (second.remaining, second.reset_s, second.operations) == (38, 1, 0)
    clock.seconds += 0.5  # the bucket refills 10 meanwhile, never beyond the burst
    third = limiter.take("acme", LIMITS)
    assert (third.remaining, third.reset_s) == (40, 0)


def test_leased_tokens_expire_with_their_lease() -> None:
    from functions.core import limits

    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)
    assert limiter.take("acme", LIMITS).operations == 2  # leased 10
    clock.seconds += limits.LEASE_LIFETIME_S - 0.01
    assert limiter.take("acme", LIMITS).operations == 0  # still in hand
    clock.seconds += 0.01
    assert limiter.take("acme", LIMITS).operations == 2, "dropped: leased again"
    assert limits.LEASE_LIFETIME_S == 30.0
    assert limits.LEASE_SECONDS == 3.0


@pytest.mark.parametrize(
    ("limits", "first"),
    [
        (Limits(20.0, 40, 1), 10),  # FIRST_CHUNK
        (Limits(1.0, 1, 1), 1),  # never 0
        (Limits(2.0, 6, 1), 3),  # half the burst
        (Limits(1.0, 100, 1), 3),  # LEASE_SECONDS of the rate
        (Limits(100.0, 1000, 1), 10),
    ],
)
def test_a_first_lease_asks_for_a_bounded_chunk(limits: Limits, first: int) -> None:
    assert chunk(limits) == first


def test_a_lease_asks_for_the_calls_of_the_last_seconds_and_whole_chunks_at_the_limit() -> None:
    from functions.core.limits import _Bucket

    limits = Limits(100.0, 1000, 1)  # ceiling: min(500, 300) = 300
    bucket = _Bucket(calls=30, leased_at=0.0)
    assert bucket.chunk(limits, 3.0) == 30  # 10 calls a second for LEASE_SECONDS
    assert bucket.chunk(limits, 0.1) == 180  # elapsed counts as at least 0.5 s
    assert _Bucket(calls=10_000, leased_at=0.0).chunk(limits, 1.0) == 300
    assert _Bucket(calls=0, leased_at=0.0).chunk(limits, 5.0) == 1
    assert _Bucket(short=True, calls=1, leased_at=0.0).chunk(limits, 1.0) == 300


def test_a_refusal_never_asks_to_wait_longer_than_a_whole_refill() -> None:
    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    tight = Limits(rate_per_s=0.5, burst=2, daily_creates=1)  # refills in 4 s
    limiter = RateLimiter(store, clock.monotonic, lambda: 1.0)
    verdicts = [limiter.take("acme", tight) for _ in range(6)]
    refused = [v for v in verdicts if not v.allowed]
    assert refused
    assert all(v.reset_s == 4 and 1 <= v.retry_after_s <= 4 for v in refused)
    assert all(v.remaining == 0 for v in refused)


def test_a_bucket_with_fewer_tokens_than_asked_at_least_gives_none() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stored = {"tokens": 3.0, "at": now}
    assert bucket_lease(stored, now, 10, 1.0, 40, least=4) == (0, 3.0, None)
    assert bucket_lease(stored, now, 10, 1.0, 40, least=3)[:2] == (3, 0.0)
    assert bucket_lease(stored, now, 2, 1.0, 40, least=0)[:2] == (2, 1.0)
    assert bucket_lease({"tokens": 0.5, "at": now}, now, 1, 1.0, 40) == (0, 0.5, None)


def test_a_quota_lease_takes_a_share_of_what_is_left_and_keeps_the_day_two_days() -> None:
    from functions.core.limits import QUOTA_SHARE, quota_lease

    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    assert QUOTA_SHARE == 8
    taken, left, document = quota_lease({"used": 20}, now, 20, 100)
    assert (taken, left) == (10, 70)  # 80 left: an eighth of it
    assert document == {"used": 30, "expiresAt": now + dt.timedelta(days=2)}
    assert quota_lease({"used": 99}, now, 20, 100)[:2] == (1, 0)
    assert quota_lease({"used": 100}, now, 20, 100) == (0, 0, None)
    assert quota_lease({"used": 150}, now, 20, 100) == (0, 0, None)
    # permits given back first, then the lease: the count never goes below 0
    given = quota_lease({"used": 100}, now, 0, 100, returned=4)
    assert given == (0, 4, {"used": 96, "expiresAt": now + dt.timedelta(days=2)})
    assert quota_lease({"used": 2}, now, 1, 100, returned=9)[2] == {
        "used": 1,
        "expiresAt": now + dt.timedelta(days=2),
    }
    assert quota_lease(None, now, 5, 0) == (0, 0, None)


def test_the_daily_quota_fails_closed_beyond_the_permits_in_hand() -> None:
    _clock, store, quota = one_instance()
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=16)
    first = quota.reserve("acme", small)  # leases 2 (an eighth of 16), spends 1
    assert (first.allowed, first.remaining, first.reset_s, first.operations) == (
        True,
        15,
        12 * 3600,
        2,
    )
    store.down = True
    in_hand = quota.reserve("acme", small)
    assert (in_hand.allowed, in_hand.operations) == (True, 0)
    beyond = quota.reserve("acme", small)
    assert (beyond.allowed, beyond.unavailable, beyond.reset_s, beyond.remaining) == (
        False,
        True,
        1,
        0,
    )


def test_aged_permits_are_kept_when_they_cannot_be_given_back() -> None:
    clock, store, quota = one_instance()
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=40)
    assert quota.reserve("acme", small).allowed  # leases 5, holds 4
    clock.seconds += 61
    store.down = True
    assert quota.reserve("acme", small).unavailable
    assert quota._quotas["acme"].permits == 4, "nothing was given back"
    assert quota.give_back() == 0
    store.down = False
    assert quota.give_back() == 4
    assert quota.give_back() == 0


def test_a_permit_released_after_midnight_is_not_yesterdays() -> None:
    clock, _store, quota = one_instance()
    small = Limits(rate_per_s=1.0, burst=1, daily_creates=16)
    permit = quota.reserve("acme", small)
    clock.seconds += 12 * 3600 + 1  # 00:00:01 the next day
    today = quota.reserve("acme", small)
    assert today.reset_s == 24 * 3600 - 1
    held = quota._quotas["acme"].permits
    permit.release()
    assert quota._quotas["acme"].permits == held


def test_a_good_credential_is_exempt_for_ten_minutes() -> None:
    from functions.core import limits
    from functions.core.limits import FailureGuard

    clock = SimulatedClock()
    guard = FailureGuard(clock.monotonic)
    for _ in range(limits.FAILURES_BURST):
        guard.failed("203.0.113.9")
    guard.passed("good")
    clock.seconds += limits.GOOD_CREDENTIAL_S - 1
    assert guard.retry_after("203.0.113.9", "good") == 0
    for _ in range(limits.FAILURES_BURST):
        guard.failed("203.0.113.9")
    clock.seconds += 1  # the exemption is over; half a failure came back meanwhile
    assert guard.retry_after("203.0.113.9", "good") == 1
    assert limits.GOOD_CREDENTIAL_S == 600.0
    assert limits.FAILURES_PER_S == 0.5
    guard.failed(None)
    assert None not in guard._allowance


class Scripted:
    """A lease store that answers from a script and records what it was asked."""

    def __init__(self, *answers: tuple[int, float, int] | None) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, int, int]] = []

    def lease_tokens(
        self, bucket: str, want: int, rate_per_s: float, burst: int, least: int
    ) -> tuple[int, float, int]:
        from functions.core.limits import LimitsUnavailable

        self.asked.append((bucket, want, least))
        answer = self.answers.pop(0)
        if answer is None:
            raise LimitsUnavailable()
        return answer

    def lease_permits(
        self, bucket: str, want: int, quota: int, returned: int = 0
    ) -> tuple[int, int, int]:
        raise NotImplementedError


TEN = Limits(rate_per_s=10.0, burst=100, daily_creates=1)  # refills in 10 s; chunks of 30


def test_an_unreachable_store_is_asked_again_after_a_second_and_said_so_meanwhile() -> None:
    from functions.core.limits import Decision

    clock = SimulatedClock()
    store = Scripted(None, (10, 30.0, 2))
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)
    unavailable = Decision(False, 0, 1, retry_after_s=1, operations=0, unavailable=True)
    assert limiter.take("acme", TEN) == unavailable
    clock.seconds += 0.999
    assert limiter.take("acme", TEN) == unavailable
    assert len(store.asked) == 1, "not asked again within the second"
    clock.seconds += 0.001
    assert limiter.take("acme", TEN).allowed
    assert len(store.asked) == 2


def test_an_empty_bucket_is_asked_again_later_after_each_miss() -> None:
    from functions.core.limits import Decision

    clock = SimulatedClock()
    store = Scripted((0, 0.0, 1), (0, 5.0, 1), (1, 20.0, 2))
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)  # jitter factor 1.0
    first = limiter.take("acme", TEN)  # 10 wanted, the bucket is empty
    assert first == Decision(False, 0, 10, retry_after_s=1, operations=1)
    clock.seconds += 0.99
    assert limiter.take("acme", TEN) == Decision(False, 0, 10, retry_after_s=1, operations=0)
    clock.seconds += 0.01  # a chunk of 10 at 10/s: asked again after 1 s
    second = limiter.take("acme", TEN)  # at the limit: a whole chunk (30), nothing less
    assert store.asked[1] == ("acme", 30, 30)
    assert second == Decision(False, 0, 10, retry_after_s=5, operations=1)  # (30-5)/10 x 2
    clock.seconds += 4.99
    assert limiter.take("acme", TEN).operations == 0
    clock.seconds += 0.01
    third = limiter.take("acme", TEN)  # 2 calls in 5 s since the last lease: 2 wanted
    assert store.asked[2] == ("acme", 2, 1)
    assert third == Decision(True, 20, 8, operations=2)


def test_a_lease_that_drains_the_bucket_waits_for_a_refill_before_the_next() -> None:
    from functions.core.limits import Decision

    clock = SimulatedClock()
    store = Scripted((10, 0.0, 2), (30, 0.0, 2))
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)
    verdicts = [limiter.take("acme", TEN) for _ in range(11)]
    assert all(v.allowed for v in verdicts[:10])
    assert verdicts[10] == Decision(False, 0, 10, retry_after_s=1, operations=0)
    assert len(store.asked) == 1
    clock.seconds += 1.0  # 10 tokens at 10/s
    assert limiter.take("acme", TEN).allowed
    assert store.asked[1] == ("acme", 30, 30)


def test_each_partner_has_its_own_tokens_in_hand() -> None:
    clock = SimulatedClock()
    store = Scripted((10, 30.0, 2), (10, 30.0, 2))
    limiter = RateLimiter(store, clock.monotonic, lambda: 0.5)
    assert limiter.take("acme", TEN).allowed
    assert limiter.take("acme", TEN).operations == 0
    assert limiter.take("globex", TEN).operations == 2
    assert [bucket for bucket, _, _ in store.asked] == ["acme", "globex"]


def test_the_gate_limits_rate_and_creates_over_one_store() -> None:
    from functions.core.limits import Gate

    clock, store = SimulatedClock(), MemoryLeases()
    store.clock = clock
    gate = Gate.over(store)
    assert gate.rate.take("acme", LIMITS).allowed
    assert gate.creates.reserve("acme", LIMITS).allowed
    assert set(store.documents) == {"rate:acme", f"quota:acme:{dt.date.today().isoformat()}"}


def test_a_quota_refusal_reports_nothing_left_and_its_lease_operations() -> None:
    clock, _store, quota = one_instance()
    one = Limits(rate_per_s=1.0, burst=1, daily_creates=1)
    assert quota.reserve("acme", one).allowed
    refused = quota.reserve("acme", one)
    assert (refused.allowed, refused.remaining, refused.operations) == (False, 0, 1)
    again = quota.reserve("acme", one)  # asked again only after QUOTA_RECHECK_S
    assert (again.allowed, again.remaining, again.operations) == (False, 0, 0)
    clock.seconds += 43_199.5  # 23:59:59.5
    assert quota.reserve("acme", one).reset_s == 1


def test_a_new_day_asks_at_once_even_right_after_a_refusal() -> None:
    clock, _store, quota = one_instance()
    one = Limits(rate_per_s=1.0, burst=1, daily_creates=1)
    clock.seconds += 43_199.0  # 23:59:59
    assert quota.reserve("acme", one).allowed
    assert not quota.reserve("acme", one).allowed
    clock.seconds += 1.0  # midnight: well within the recheck pause
    assert quota.reserve("acme", one).allowed


def test_permits_age_after_exactly_their_lifetime() -> None:
    from functions.core.limits import QUOTA_LEASE_LIFETIME_S

    clock, _store, quota = one_instance()
    limits = Limits(rate_per_s=1.0, burst=1, daily_creates=80)
    assert quota.reserve("acme", limits).operations == 2  # leases 10
    clock.seconds += QUOTA_LEASE_LIFETIME_S
    assert quota.reserve("acme", limits).operations == 0, "not aged yet"
    clock.seconds += 0.01
    assert quota.reserve("acme", limits).operations == 2, "aged: given back with a lease"


def test_a_released_permit_adds_exactly_one() -> None:
    _clock, _store, quota = one_instance()
    limits = Limits(rate_per_s=1.0, burst=1, daily_creates=80)
    permit = quota.reserve("acme", limits)
    held = quota._quotas["acme"].permits
    assert (held, permit.remaining) == (9, 79)
    permit.release()
    assert quota._quotas["acme"].permits == held + 1


def test_give_back_returns_todays_permits_of_every_partner() -> None:
    clock, store, quota = one_instance()
    limits = Limits(rate_per_s=1.0, burst=1, daily_creates=16)  # leases 2: holds 1
    assert quota.reserve("early", limits).allowed  # yesterday's, by the time it gives back
    clock.seconds += 43_200.0  # midnight
    assert quota.reserve("acme", limits).allowed
    big = Limits(rate_per_s=1.0, burst=1, daily_creates=32)  # leases 4: holds 3
    assert quota.reserve("globex", big).allowed
    assert quota.give_back() == 4
    day = clock.now().date().isoformat()
    assert store.documents[f"quota:acme:{day}"]["used"] == 1
    assert store.documents[f"quota:globex:{day}"]["used"] == 1
    assert quota._quotas["early"].permits == 1, "yesterday's are not today's"


@pytest.mark.parametrize(
    ("credential", "claimed"),
    [
        ("pak_test_0123456789abcdef_" + "A" * 38, "key:0123456789abcdef"),
        ("pak_", "key:"),
        (
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.",  # {"sub":"user-1"}
            "token:user-1",
        ),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOjF9.", "token:"),  # a subject that is no string
        ("x.%%%.z", "token:"),
        ("x." + base64.urlsafe_b64encode(b"[" * 6000).decode() + ".z", "token:"),  # deep JSON
        ("x." + base64.urlsafe_b64encode(b"\xff\xfe").decode() + ".z", "token:"),  # not UTF-8
        ("x.y.z", "token:"),
        ("opaque", "other:"),
    ],
)
def test_the_brake_counts_by_address_and_the_identity_a_credential_claims(
    credential: str, claimed: str
) -> None:
    from functions.auth import claimed_identity
    from functions.core.limits import failure_source

    assert claimed_identity(credential) == claimed
    assert failure_source("203.0.113.9", claimed) == f"203.0.113.9|{claimed}"
    assert failure_source(None, claimed) is None
    assert failure_source("203.0.113.9", "x" * 1000) == "203.0.113.9|" + "x" * 256
