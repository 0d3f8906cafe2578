"""One delivery attempt's decisions, without the emulators (the store and the receiver
stand in; the emulator tests run the real ones): 2xx delivers and clears a failing
streak, 410 disables, any other answer or none is retried (with the time of the next
try), an endpoint whose deliveries have failed for three days is disabled with the
reason, and a task past its retry window ends, saying so."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import replace
from typing import Any

import pytest

from functions.contract.webhook_models import WebhookDeliveryJson
from functions.core.errors import NotFound, ServiceUnavailable, ValidationFailed
from functions.core.models import (
    Delivery,
    DeliveryAttempt,
    Event,
    SigningSecret,
    WebhookEndpoint,
    rfc3339,
)
from functions.domain import changes
from functions.domain.webhooks import delivery
from functions.edge import triggers
from functions.outside import outbound, signatures, tasks
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
        self.asked: list[tuple[str, Any]] = []
        """Every store and outside call with what it named, in order."""
        monkeypatch.setattr("functions.domain.webhooks.endpoints.endpoint", self._endpoint)
        self.earlier = 0  # attempts to the endpoint under way that began before
        self.marks: list[str] = []
        monkeypatch.setattr(delivery, "_queue", lambda lane: lane)
        monkeypatch.setattr("functions.store.deliveries.begin_attempt", self._begin)
        monkeypatch.setattr("functions.store.deliveries.end_attempt", self._end)
        monkeypatch.setattr(delivery, "_enqueue", self._enqueue)
        monkeypatch.setattr("functions.store.events.by_id", self._event)
        monkeypatch.setattr("functions.store.webhooks.mark_failing", self._mark)
        monkeypatch.setattr("functions.domain.webhooks.endpoints.update", self._update)
        monkeypatch.setattr("functions.store.deliveries.record_attempt", self._record)
        monkeypatch.setattr("functions.core.config.is_demo_project", lambda: False)
        monkeypatch.setattr(outbound, "check_url", self._check)
        monkeypatch.setattr(outbound, "post", self._post)

    def _endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        self.asked.append(("endpoint", endpoint_id))
        return self.endpoint

    def _event(self, event_id: str) -> Event:
        self.asked.append(("event", event_id))
        return EVENT

    def _begin(self, name: str, endpoint_id: str, now: dt.datetime) -> int:
        self.marks.append(f"+{name}")
        self.asked.append(("begin", (name, endpoint_id, type(now))))
        return self.earlier

    def _end(self, name: str) -> None:
        self.marks.append(f"-{name}")

    def _enqueue(self, queue: str, task: dict[str, Any], name: str) -> None:
        self.handed.append((f"{queue}:{name}", task["data"]))

    def _mark(self, endpoint_id: str, since: dt.datetime | None) -> None:
        self.failing.append(since)
        self.asked.append(("mark_failing", endpoint_id))

    def _update(self, endpoint_id: str, **changes: Any) -> None:
        self.updates.append(changes)
        self.asked.append(("update", endpoint_id))

    def _record(self, delivery_id: str, **fields: Any) -> None:
        self.records.append((fields["state"], fields["attempt"]))
        named = (fields["partner_id"], fields["event_id"], fields["endpoint_id"])
        self.asked.append(("record", (delivery_id, *named)))

    TARGET = outbound.Target("https", "hooks.example.com", 443, "/in", "93.184.216.34")

    def _check(self, url: str, *, local: bool) -> outbound.Target:
        self.asked.append(("check_url", (url, local)))
        return self.TARGET

    def _post(
        self, target: outbound.Target, body: bytes, headers: dict[str, str]
    ) -> outbound.Answer:
        self.sent.append(headers)
        self.asked.append(("post", (target, body)))
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


def test_each_call_of_an_attempt_names_its_event_endpoint_and_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, replace(ENDPOINT, failing_since=NOW))
    name = delivery.delivery_id("evt_1", "we_1")
    assert (
        delivery.deliver(delivery.Task("evt_1", "we_1", delivery.RETRY_LANE)).state == "delivered"
    )
    body = delivery.body_of(EVENT).encode()
    assert world.asked == [
        ("endpoint", "we_1"),
        ("event", "evt_1"),
        ("begin", (name, "we_1", dt.datetime)),
        ("check_url", ("https://hooks.example.com/in", False)),
        ("post", (World.TARGET, body)),
        ("record", (name, "acme", "evt_1", "we_1")),
        ("mark_failing", "we_1"),
    ]
    world.asked.clear()
    world.endpoint, world.status = ENDPOINT, 410
    delivery.deliver(delivery.Task("evt_1", "we_1"))
    assert world.asked[-2:] == [("record", (name, "acme", "evt_1", "we_1")), ("update", "we_1")]
    world.asked.clear()
    world.status = 500
    delivery.deliver(delivery.Task("evt_1", "we_1", enqueued_at=NOW))
    assert world.asked[-2:] == [
        ("mark_failing", "we_1"),
        ("record", (name, "acme", "evt_1", "we_1")),
    ]
    ((_where, data),) = world.handed
    assert data == {
        "event": "evt_1", "endpoint": "we_1", "enqueuedAt": rfc3339(NOW), "attempts": 1,
        "notBefore": data["notBefore"],
    }  # fmt: skip


def test_on_a_demo_project_the_receiver_may_be_local(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, ENDPOINT)
    monkeypatch.setattr("functions.core.config.is_demo_project", lambda: True)
    delivery.deliver(delivery.Task("evt_1", "we_1"))
    assert ("check_url", ("https://hooks.example.com/in", True)) in world.asked


def test_the_body_is_the_events_json_compact_and_in_utf8() -> None:
    event = replace(EVENT, data={"id": "r1", "description": "Café, März"})
    body = delivery.body_of(event)
    assert json.loads(body) == changes.event_json(event)
    assert "Café, März" in body
    assert ", " not in body.replace("Café, März", "")
    assert ": " not in body


def test_the_signature_covers_the_body_sent_at_the_attempts_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, ENDPOINT)
    delivery.deliver(delivery.Task("evt_1", "we_1"))
    (headers,) = world.sent
    ((_, (_, body)),) = [a for a in world.asked if a[0] == "post"]
    stamp = int(headers["webhook-timestamp"])
    expected = signatures.signed_headers(
        ENDPOINT.signing_secrets(NOW),
        "evt_1",
        dt.datetime.fromtimestamp(stamp, dt.UTC),
        body.decode(),
    )
    assert headers == expected
    assert abs(stamp - time.time()) < 60


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            outbound.RefusedTarget("the address 10.0.0.1 is private"),
            "RefusedTarget: the address 10.0.0.1 is private",
        ),
        (ValueError("x" * 400), "ValueError: " + "x" * 288),
    ],
)
def test_a_refused_receiver_is_a_failed_attempt_saying_why(
    monkeypatch: pytest.MonkeyPatch, error: Exception, said: str
) -> None:
    world = World(monkeypatch, ENDPOINT)

    def refuse(url: str, *, local: bool) -> outbound.Target:
        raise error

    monkeypatch.setattr(outbound, "check_url", refuse)
    assert delivery.deliver(delivery.Task("evt_1", "we_1", enqueued_at=NOW)) == delivery.Outcome(
        "retrying"
    )
    ((state, attempt),) = world.records
    assert (state, attempt.error, attempt.status) == ("retrying", said, None)
    assert attempt.error is not None
    assert len(attempt.error) <= 300


@pytest.mark.parametrize(
    ("status", "state"),
    [(199, "retrying"), (200, "delivered"), (299, "delivered"), (300, "retrying")],
)
def test_only_2xx_delivers(monkeypatch: pytest.MonkeyPatch, status: int, state: str) -> None:
    world = World(monkeypatch, ENDPOINT)
    world.status = status
    assert delivery.deliver(delivery.Task("evt_1", "we_1", enqueued_at=NOW)).state == state
    ((_, attempt),) = world.records
    assert (attempt.status, attempt.latency_ms) == (status, 12.5)


def test_the_latency_is_kept_to_a_tenth_of_a_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, ENDPOINT)
    monkeypatch.setattr(
        outbound, "post", lambda target, body, headers: outbound.Answer(204, 12.3456, b"")
    )
    delivery.deliver(delivery.Task("evt_1", "we_1"))
    assert world.records[0][1].latency_ms == 12.3


def test_exactly_three_days_of_failures_disable(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = dt.datetime.now(dt.UTC)
    world = World(monkeypatch, replace(ENDPOINT, failing_since=clock - delivery.DISABLE_AFTER))
    world.status = 500
    assert (
        delivery.deliver(delivery.Task("evt_1", "we_1", delivery.RETRY_LANE)).state == "abandoned"
    )
    assert world.asked[-2:] == [
        ("record", (delivery.delivery_id("evt_1", "we_1"), "acme", "evt_1", "we_1")),
        ("update", "we_1"),
    ]


def test_a_retry_due_at_the_edge_of_early_is_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, ENDPOINT)
    frozen = dt.datetime.now(dt.UTC)
    monkeypatch.setattr("functions.domain.webhooks.delivery.dt.datetime", _Frozen.at(frozen))
    due = frozen + dt.timedelta(seconds=delivery.EARLY_S)
    task = delivery.Task("evt_1", "we_1", delivery.RETRY_LANE, before=1, not_before=due)
    assert delivery.deliver(task).state == "delivered"
    later = replace(task, not_before=due + dt.timedelta(microseconds=1))
    with pytest.raises(delivery.RetryLater) as caught:
        delivery.deliver(later)
    assert str(caught.value) == "not due yet"
    assert len(world.sent) == 1


class _Frozen(dt.datetime):
    moment: dt.datetime

    @classmethod
    def at(cls, moment: dt.datetime) -> type[_Frozen]:
        return type("Frozen", (cls,), {"moment": moment})

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.moment


def test_a_deleted_event_or_endpoint_ends_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(monkeypatch, ENDPOINT)

    def gone(*_: Any, **__: Any) -> Any:
        raise NotFound("gone")

    monkeypatch.setattr("functions.store.events.by_id", gone)
    assert delivery.deliver(delivery.Task("evt_1", "we_1")) == delivery.Outcome("abandoned")
    assert world.sent == []
    assert world.records == []


def test_an_unreachable_retry_lane_keeps_the_task_in_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    World(monkeypatch, replace(ENDPOINT, failing_since=NOW))

    def unreachable(queue: str, task: dict[str, Any], name: str) -> None:
        raise tasks.QueueUnreachable("connection refused")

    monkeypatch.setattr(delivery, "_enqueue", unreachable)
    with pytest.raises(delivery.RetryLater) as caught:
        delivery.deliver(delivery.Task("evt_1", "we_1"))
    assert str(caught.value) == "the retry lane could not be reached (connection refused)"


def test_a_mark_that_cannot_be_taken_back_does_not_fail_the_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(monkeypatch, ENDPOINT)

    def unavailable(name: str) -> None:
        raise ServiceUnavailable()

    monkeypatch.setattr("functions.store.deliveries.end_attempt", unavailable)
    assert delivery.deliver(delivery.Task("evt_1", "we_1")).state == "delivered"
    assert len(world.sent) == 1


# --- fan-out and replay: the tasks an event becomes -----------------------------------------


class Queue:
    """Cloud Tasks as `functions.outside.tasks` reaches it: tasks by name, recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tasks: dict[str, tuple[str, dict[str, Any]]] = {}
        self.down = False
        monkeypatch.setattr(tasks, "enqueue", self.enqueue)

    def enqueue(self, queue: str, task: dict[str, Any], name: str) -> None:
        if self.down:
            raise tasks.QueueUnreachable("the queue is down")
        if name in self.tasks:
            raise tasks.TaskExists(name)
        self.tasks[name] = (queue, task)


def test_an_event_becomes_one_task_per_endpoint_that_wants_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = Queue(monkeypatch)
    failing = replace(ENDPOINT, id="we_2", failing_since=NOW)
    endpoints = [
        ENDPOINT, failing, replace(ENDPOINT, id="we_3", status="disabled"),
        replace(ENDPOINT, id="we_4", event_types=("entries.updated",)),
    ]  # fmt: skip
    asked: list[str] = []

    def of_partner(partner: str) -> list[WebhookEndpoint]:
        asked.append(partner)
        return endpoints

    monkeypatch.setattr("functions.store.webhooks.of_partner", of_partner)
    assert [e.id for e in delivery.targets(EVENT)] == ["we_1", "we_2"]
    names = delivery.fan_out(EVENT)
    assert names == [delivery.delivery_id("evt_1", "we_1"), delivery.delivery_id("evt_1", "we_2")]
    assert asked == ["acme", "acme"]
    first, second = (queue.tasks[name] for name in names)
    assert (first[0], second[0]) == (delivery.DELIVERY_FUNCTION, delivery.RETRY_FUNCTION)
    assert first[1] == {
        "data": {"event": "evt_1", "endpoint": "we_1", "enqueuedAt": first[1]["data"]["enqueuedAt"]}
    }
    enqueued = dt.datetime.fromisoformat(first[1]["data"]["enqueuedAt"])
    assert abs(enqueued - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert second[1]["data"]["endpoint"] == "we_2"
    assert delivery.fan_out(EVENT) == names  # the trigger ran twice: still one task each
    assert len(queue.tasks) == 2
    queue.down = True
    with pytest.raises(tasks.QueueUnreachable):
        delivery.fan_out(replace(EVENT, id="evt_2"))


def test_a_replay_is_a_task_of_its_own_in_the_endpoints_lane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue = Queue(monkeypatch)
    endpoint = ENDPOINT
    looked: list[tuple[str, Any]] = []

    def by_id(event_id: str, database: Any = None) -> Event:
        looked.append((event_id, database))
        return EVENT

    def endpoint_of(endpoint_id: str, *, database: Any = None) -> WebhookEndpoint:
        looked.append((endpoint_id, database))
        return endpoint

    monkeypatch.setattr("functions.store.events.by_id", by_id)
    monkeypatch.setattr("functions.domain.webhooks.endpoints.endpoint", endpoint_of)
    first = delivery.replay("evt_1", "we_1", database="db")
    assert looked == [("evt_1", "db"), ("we_1", "db")]
    prefix = delivery.delivery_id("evt_1", "we_1") + "-r"
    assert first.startswith(prefix)
    assert first.removeprefix(prefix).isdigit()
    assert queue.tasks[first][0] == delivery.DELIVERY_FUNCTION
    assert queue.tasks[first][1]["data"]["event"] == "evt_1"
    endpoint = replace(ENDPOINT, failing_since=NOW)
    second = delivery.replay("evt_1", "we_1")
    assert second != first
    assert queue.tasks[second][0] == delivery.RETRY_FUNCTION
    endpoint = replace(ENDPOINT, partner_id="globex")
    with pytest.raises(ValidationFailed) as caught:
        delivery.replay("evt_1", "we_1")
    assert caught.value.details == [{"field": "endpoint", "message": "belongs to another partner"}]
    assert len(queue.tasks) == 2


def test_a_delivery_id_is_the_prefix_and_32_hex_digits() -> None:
    one = delivery.delivery_id("evt_1", "we_1")
    digest = hashlib.sha256(b"evt_1\nwe_1").hexdigest()[:32]
    assert one == "dlv_" + digest


def test_a_tasks_data_says_only_what_it_was_given() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert delivery.task_data("e", "w", enqueued_at=at) == {
        "data": {"event": "e", "endpoint": "w", "enqueuedAt": rfc3339(at)}
    }
    full = delivery.task_data("e", "w", enqueued_at=at, attempts=2, not_before=at)
    assert full["data"]["attempts"] == 2
    assert full["data"]["notBefore"] == rfc3339(at)
    now = delivery.task_data("e", "w")["data"]["enqueuedAt"]
    assert dt.datetime.fromisoformat(now).tzinfo is not None
