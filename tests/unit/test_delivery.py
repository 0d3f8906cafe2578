"""One delivery attempt's decisions, without the emulators (the store and the receiver
stand in; the emulator tests run the real ones): 2xx delivers and clears a failing
streak, 410 disables, any other answer or none is retried (with the time of the next
try), an endpoint whose deliveries have failed for three days is disabled with the
reason, and a task past its retry window ends, saying so."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from functions.contract.webhook_models import WebhookDeliveryJson
from functions.core.models import (
    Delivery,
    DeliveryAttempt,
    Event,
    SigningSecret,
    WebhookEndpoint,
    rfc3339,
)
from functions.domain.webhooks import delivery
from functions.edge import triggers
from functions.outside import outbound
from functions.store.deliveries import EPOCH, delivery_from

NOW = dt.datetime.now(dt.UTC)
EVENT = Event(
    id="evt_1", type="entries.created", partner_id="acme", resource="entries",
    record_id="r1", version=1, data={"id": "r1"}, changed=("amount",), at=NOW, writer="api",
)  # fmt: skip
ENDPOINT = WebhookEndpoint(
    id="we_1", partner_id="acme", url="https://hooks.example.com/in", event_types=("*",),
    status="enabled", description=None, created_at=NOW, updated_at=NOW, created_by="cli:x",
    secrets=(SigningSecret("whsec_" + "A" * 44),),
)  # fmt: skip


class World:
    """What one attempt touches, recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, endpoint: WebhookEndpoint) -> None:
        self.endpoint = endpoint
        self.status: int | Exception = 204
        self.records: list[tuple[str, DeliveryAttempt]] = []
        self.failing: list[dt.datetime | None] = []
        self.updates: list[dict[str, Any]] = []
        self.sent: list[dict[str, str]] = []
        self.handed: list[tuple[str, dict[str, Any]]] = []
        monkeypatch.setattr(
            "functions.domain.webhooks.endpoints.endpoint", lambda *a, **k: self.endpoint
        )
        self.earlier = 0  # attempts to the endpoint under way that began before
        self.marks: list[str] = []
        monkeypatch.setattr(delivery, "_queue", lambda lane: lane)
        monkeypatch.setattr("functions.store.deliveries.begin_attempt", self._begin)
        monkeypatch.setattr("functions.store.deliveries.end_attempt", self._end)
        monkeypatch.setattr(delivery, "_enqueue", self._enqueue)
        monkeypatch.setattr("functions.store.events.by_id", lambda *a, **k: EVENT)
        monkeypatch.setattr("functions.store.webhooks.mark_failing", self._mark)
        monkeypatch.setattr("functions.domain.webhooks.endpoints.update", self._update)
        monkeypatch.setattr("functions.store.deliveries.record_attempt", self._record)
        monkeypatch.setattr("functions.core.config.is_demo_project", lambda: False)
        monkeypatch.setattr(outbound, "check_url", self._check)
        monkeypatch.setattr(outbound, "post", self._post)

    def _begin(self, name: str, endpoint_id: str, now: dt.datetime) -> int:
        self.marks.append(f"+{name}")
        return self.earlier

    def _end(self, name: str) -> None:
        self.marks.append(f"-{name}")

    def _enqueue(self, queue: str, task: dict[str, Any], name: str) -> None:
        self.handed.append((f"{queue}:{name}", task["data"]))

    def _mark(self, endpoint_id: str, since: dt.datetime | None) -> None:
        self.failing.append(since)

    def _update(self, endpoint_id: str, **changes: Any) -> None:
        self.updates.append(changes)

    def _record(self, delivery_id: str, **fields: Any) -> None:
        self.records.append((fields["state"], fields["attempt"]))

    def _check(self, url: str, **_: Any) -> outbound.Target:
        return outbound.Target("https", "hooks.example.com", 443, "/in", "93.184.216.34")

    def _post(
        self, target: outbound.Target, body: bytes, headers: dict[str, str]
    ) -> outbound.Answer:
        self.sent.append(headers)
        if isinstance(self.status, Exception):
            raise self.status
        return outbound.Answer(self.status, 12.5, b"")


def test_a_2xx_delivers_signed_and_ends_a_failing_streak(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, replace(ENDPOINT, failing_since=NOW - dt.timedelta(hours=5)))
    task = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, retry=2, before=1)
    assert delivery.deliver(task) == delivery.Outcome("delivered", 204)
    ((state, attempt),) = world.records
    assert (state, attempt.status, attempt.attempt, attempt.error) == ("delivered", 204, 3, None)
    assert (attempt.latency_ms, attempt.next_attempt_at) == (12.5, None)
    assert world.failing == [None]
    assert world.sent[0]["webhook-id"] == "evt_1"
    assert world.sent[0]["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize(
    ("answer", "error"),
    [(500, "the receiver answered 500"), (302, "the receiver answered 302"),
     (outbound.CallFailed("no whole answer within 10 s"), "no whole answer within 10 s"),
     (outbound.CallFailed("BadStatusLine: SPAM"), "BadStatusLine: SPAM")],
)  # fmt: skip
def test_a_failure_is_retried_and_starts_a_failing_streak(
    monkeypatch: pytest.MonkeyPatch, answer: int | Exception, error: str
) -> None:
    """In the retry lane: recorded with the queue's next try, and the queue retries."""
    world = World(monkeypatch, ENDPOINT)
    world.status = answer
    task = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, retry=2, before=1, enqueued_at=NOW)
    with pytest.raises(delivery.RetryLater, match=error):
        delivery.deliver(task)
    assert [(s, a.error) for s, a in world.records] == [("retrying", error)]
    ((_, attempt),) = world.records
    assert attempt.attempt == 3  # one in the first lane, then the lane's third run
    assert attempt.next_attempt_at == attempt.at + dt.timedelta(minutes=2)  # the lane's 3rd
    assert len(world.failing) == 1
    assert world.failing[0] is not None
    assert world.updates == []
    assert world.handed == []


def test_a_first_attempt_that_fails_hands_the_delivery_to_the_retry_lane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first lane never keeps a failing delivery: its queue is done with it, and the
    retry lane holds it from then on (named once, due after the first backoff)."""
    world = World(monkeypatch, ENDPOINT)
    world.status = 500
    task = delivery.Task("evt_1", "we_1", enqueued_at=NOW)
    assert delivery.deliver(task) == delivery.Outcome("retrying", 500)
    ((state, attempt),) = world.records
    assert (state, attempt.attempt) == ("retrying", 0)
    assert attempt.next_attempt_at == attempt.at + dt.timedelta(seconds=30)
    ((where, data),) = world.handed
    assert where == f"retry:{delivery.delivery_id('evt_1', 'we_1')}-retry1"
    assert data["attempts"] == 1
    assert data["enqueuedAt"] == rfc3339(NOW)  # the three days count from the first enqueue
    assert data["notBefore"] == rfc3339(attempt.next_attempt_at)


def test_a_handed_over_retry_waits_until_it_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, ENDPOINT)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    early = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, before=1, not_before=due)
    with pytest.raises(delivery.RetryLater, match="not due yet"):
        delivery.deliver(early)
    assert (world.sent, world.records) == ([], [])  # no attempt, nothing recorded
    # brought back by the queue's backoff: tried, whatever the clock says
    assert delivery.deliver(replace(early, retry=1)) == delivery.Outcome("delivered", 204)
    almost = replace(early, not_before=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3))
    assert delivery.deliver(almost) == delivery.Outcome("delivered", 204)  # within EARLY_S


@pytest.mark.parametrize("earlier", [delivery.MAX_IN_FLIGHT, delivery.MAX_IN_FLIGHT + 7])
def test_a_busy_endpoint_gets_no_more_first_lane_attempts(
    monkeypatch: pytest.MonkeyPatch, earlier: int
) -> None:
    """A slow receiver holds its attempts: once MAX_IN_FLIGHT began earlier, the next goes
    to the retry lane with no attempt, so it never takes another partner's slot; and the
    mark of its attempt is always taken back."""
    world = World(monkeypatch, ENDPOINT)
    world.earlier = earlier
    assert delivery.deliver(delivery.Task("evt_1", "we_1")) == delivery.Outcome("retrying")
    assert (world.sent, world.records) == ([], [])
    name = delivery.delivery_id("evt_1", "we_1")
    assert world.handed == [(f"retry:{name}-retry0", world.handed[0][1])]
    assert "notBefore" not in world.handed[0][1]
    assert world.marks == [f"+{name}", f"-{name}"]
    world.earlier = delivery.MAX_IN_FLIGHT - 1  # one slot left: it goes
    assert delivery.deliver(delivery.Task("evt_1", "we_1")) == delivery.Outcome("delivered", 204)
    assert world.marks[2:] == [f"+{name}", f"-{name}"]


def test_a_busy_endpoint_waits_in_the_retry_lane_without_an_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, replace(ENDPOINT, failing_since=NOW))
    world.earlier = delivery.MAX_IN_FLIGHT
    task = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, retry=1, before=1)
    with pytest.raises(delivery.RetryLater, match="8 attempts to the endpoint are under way"):
        delivery.deliver(task)
    assert (world.sent, world.records, world.handed) == ([], [], [])
    name = delivery.delivery_id("evt_1", "we_1")
    assert world.marks == [f"+{name}", f"-{name}"]


def test_a_failing_endpoints_first_lane_task_moves_on_without_an_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, replace(ENDPOINT, failing_since=NOW))
    assert delivery.deliver(delivery.Task("evt_1", "we_1")) == delivery.Outcome("retrying")
    assert (world.sent, world.records, world.marks) == ([], [], [])
    ((where, _),) = world.handed
    assert where.startswith("retry:")


def test_three_days_of_failures_disable_the_endpoint_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    since = NOW - delivery.DISABLE_AFTER - dt.timedelta(seconds=1)
    world = World(monkeypatch, replace(ENDPOINT, failing_since=since))
    world.status = 503
    outcome = delivery.deliver(delivery.Task("evt_1", "we_1", delivery.RETRY_LANE))
    assert outcome == delivery.Outcome("abandoned", 503)
    (update,) = world.updates
    assert update["status"] == "disabled"
    assert update["reason"] == (
        f"every delivery failed since {since.isoformat()} (the receiver answered 503)"
    )
    assert [s for s, _ in world.records] == ["abandoned"]
    world.endpoint = replace(ENDPOINT, failing_since=NOW - dt.timedelta(days=2))
    with pytest.raises(delivery.RetryLater):
        delivery.deliver(delivery.Task("evt_1", "we_1", delivery.RETRY_LANE))  # two days


def test_410_disables_at_once_and_a_disabled_endpoint_gets_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, ENDPOINT)
    world.status = 410
    first = delivery.Task("evt_1", "we_1")
    assert delivery.deliver(first) == delivery.Outcome("abandoned", 410)
    assert world.updates == [{"status": "disabled", "reason": "the receiver answered 410 Gone"}]
    world.endpoint = replace(ENDPOINT, status="disabled")
    assert delivery.deliver(first) == delivery.Outcome("abandoned")
    world.endpoint = replace(ENDPOINT, partner_id="globex")
    assert delivery.deliver(first) == delivery.Outcome("abandoned")
    assert len(world.sent) == 1


def test_a_delivery_is_named_after_its_event_and_endpoint() -> None:
    one = delivery.delivery_id("evt_1", "we_1")
    assert one == delivery.delivery_id("evt_1", "we_1")
    assert one.startswith("dlv_")
    assert (
        len({one, delivery.delivery_id("evt_2", "we_1"), delivery.delivery_id("evt_1", "we_2")})
        == 3
    )


def test_the_retry_schedule_is_the_queues() -> None:
    """Cloud Tasks' documented example (10 s, 300 s, 3 doublings) and ours, try by try."""
    example = delivery.Backoff(dt.timedelta(seconds=10), dt.timedelta(seconds=300), 3)
    assert [example.delay(n).total_seconds() for n in range(8)] == [
        10, 20, 40, 80, 160, 240, 300, 300,
    ]  # fmt: skip
    ours = [delivery.RETRY.delay(n).total_seconds() for n in range(10)]
    assert ours == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert delivery.RETRY.delay(10_000) == dt.timedelta(hours=1)


def test_the_next_attempt_is_none_past_the_tasks_window() -> None:
    backoff = dt.timedelta(seconds=30)
    assert delivery.next_attempt(NOW, backoff, None) == NOW + backoff
    assert delivery.next_attempt(NOW, backoff, NOW) == NOW + backoff
    late = NOW - delivery.DISABLE_AFTER + dt.timedelta(seconds=29)
    assert delivery.next_attempt(NOW, backoff, late) is None
    just = NOW - delivery.DISABLE_AFTER + dt.timedelta(seconds=30)
    assert delivery.next_attempt(NOW, backoff, just) == NOW + backoff
    retry_lane = delivery.Task("e", "w", delivery.RETRY_LANE, retry=3, before=1)
    assert delivery.retry_delay(retry_lane) == dt.timedelta(minutes=4)
    assert delivery.retry_delay(delivery.Task("e", "w", retry=3)) == backoff  # handed over


def test_a_task_without_a_retry_left_ends_recorded_as_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A receiver that fails one event for three days while others succeed (the endpoint
    is not failing): the task's last try ends it rather than leaving it to the queue."""
    world = World(monkeypatch, ENDPOINT)
    world.status = 500
    enqueued = NOW - delivery.DISABLE_AFTER + dt.timedelta(minutes=10)
    task = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, 79, 1, enqueued_at=enqueued)
    outcome = delivery.deliver(task)
    assert outcome == delivery.Outcome("abandoned", 500)
    ((state, attempt),) = world.records
    assert state == "abandoned"
    assert attempt.error == "the receiver answered 500; no retry left after 3 days"
    assert attempt.next_attempt_at is None
    assert world.updates == []  # the endpoint stays enabled


def test_a_stored_delivery_edited_into_other_shapes_reads_as_harmless() -> None:
    good = {"at": NOW, "attempt": 1, "status": 204, "latencyMs": 8, "error": None}
    odd = delivery_from(
        "dlv_1",
        {
            "state": "lost",
            "updatedAt": "yesterday",
            "attempts": [
                "x", {"at": "now"}, {**good, "at": NOW + dt.timedelta(seconds=1), "attempt": True},
                good,
            ],
        },
    )  # fmt: skip
    assert (odd.state, odd.updated_at, odd.delivered_at, odd.partner_id) == (
        "abandoned", EPOCH, None, "",
    )  # fmt: skip
    assert [(a.attempt, a.status, a.latency_ms) for a in odd.attempts] == [
        (1, 204, 8.0),
        (0, 204, 8.0),
    ]
    assert delivery_from("dlv_2", {"attempts": "many"}).attempts == ()


def test_a_delivery_on_the_wire() -> None:
    attempts = (
        DeliveryAttempt(
            NOW, 0, 500, 2.5, "the receiver answered 500", NOW + dt.timedelta(seconds=30)
        ),
        DeliveryAttempt(NOW + dt.timedelta(seconds=31), 1, 204, 3.0, None),
    )
    shown = WebhookDeliveryJson.of(
        Delivery("dlv_1", "acme", "evt_1", "we_1", "delivered", NOW, NOW, attempts)
    ).model_dump()
    assert list(shown) == [
        "id", "event_id", "endpoint_id", "state", "delivered_at", "updated_at", "attempts",
    ]  # fmt: skip
    assert shown["attempts"][0]["next_attempt_at"].endswith("Z")
    assert shown["attempts"][1] == {
        "at": shown["attempts"][1]["at"], "attempt": 1, "status": 204, "latency_ms": 3.0,
        "error": None, "next_attempt_at": None,
    }  # fmt: skip
    assert "partner_id" not in shown


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2026-12-01T10:00:00.000000Z", dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)),
     ("2026-12-01T10:00:00", None), ("soon", None), (17, None), (None, None)],
)  # fmt: skip
def test_a_tasks_enqueue_time_is_read_or_left_unknown(given: Any, expected: Any) -> None:
    assert triggers._moment(given) == expected
