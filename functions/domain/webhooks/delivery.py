"""Delivering events to webhook endpoints, one attempt at a time.

Each event goes to every enabled endpoint of its partner that wants its type, as one
Cloud Tasks task per event and endpoint, named after both (`delivery_id`): enqueued by
the trigger on the event's creation, so nothing is lost between the commit and the
enqueue, and a second enqueue of the same pair is refused by the queue. The queue
retries a failed attempt with exponential backoff for up to three days.

An attempt POSTs the event as JSON, signed (Standard Webhooks), to the checked address
(`functions.outside.outbound`). A 2xx answer delivers it; 410 Gone disables the endpoint (the
receiver says it is gone); anything else, or no answer, is retried, and an endpoint
whose deliveries have failed for three days is disabled, with the reason its owner and
partner see. Every attempt is recorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Final

from functions.core import config
from functions.core.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from functions.core.models import DeliveryAttempt, Event, WebhookEndpoint, rfc3339
from functions.domain import changes
from functions.domain.webhooks import endpoints as webhooks
from functions.outside import outbound, signatures, tasks
from functions.store import deliveries as delivery_store
from functions.store import events as event_store
from functions.store import webhooks as endpoint_store
from functions.store.client import current_database, database_name

DISABLE_AFTER: Final = dt.timedelta(days=3)
"""An endpoint whose deliveries all failed this long is disabled; a task is retried this
long after it was enqueued, and no longer."""
DELIVERY_ID_PREFIX: Final = "dlv_"
DELIVERY_FUNCTION: Final = "deliverWebhook"
"""The task queue function of first attempts, every partner's (its queue bears its name)."""
RETRY_FUNCTION: Final = "deliverWebhookRetry"
"""The retry lane: every retry, and every delivery to an endpoint that is failing. A
failing or slow receiver then never keeps other partners' first attempts waiting: in
the first lane each of its deliveries makes one attempt (at most MAX_IN_FLIGHT of them at
once), then moves here."""
MAX_IN_FLIGHT: Final = 8
"""Attempts to one endpoint under way at once (each lane's slots: 20 and 10)."""
EARLY_S: Final = 5.0
"""How early a retry may run before it is due (clocks), rather than wait a whole backoff."""

FIRST_LANE: Final = "first"
RETRY_LANE: Final = "retry"


@dataclass(frozen=True, slots=True)
class Backoff:
    """The queue's retry schedule, as Cloud Tasks (and its emulator) apply it: the wait
    starts at `minimum`, doubles `doublings` times, then grows by that last step, and never
    exceeds `maximum`."""

    minimum: dt.timedelta
    maximum: dt.timedelta
    doublings: int

    def delay(self, retry: int) -> dt.timedelta:
        """The wait after try number `retry` (0: the first) failed."""
        steps: int = (
            2 ** min(retry, self.doublings) + max(0, retry - self.doublings) * 2**self.doublings
        )
        return min(self.maximum, self.minimum * steps)


RETRY: Final = Backoff(dt.timedelta(seconds=30), dt.timedelta(hours=1), doublings=7)
"""30 s, 1 min, 2, 4, 8, 16, 32 min, then hourly, for DISABLE_AFTER."""


class RetryLater(Exception):
    """The attempt failed; the queue tries again later (the message says why)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str
    """`delivered`, `abandoned` (endpoint gone, disabled or deleted) or `retrying`."""
    status: int | None = None


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """The name of the one task (and delivery record) of an event to an endpoint."""
    digest = hashlib.sha256(f"{event_id}\n{endpoint_id}".encode()).hexdigest()[:32]
    return DELIVERY_ID_PREFIX + digest


def targets(event: Event) -> list[WebhookEndpoint]:
    """The endpoints an event goes to: its partner's, enabled, wanting its type."""
    return [e for e in endpoint_store.of_partner(event.partner_id) if e.wants(event.type)]


def fan_out(event: Event) -> list[str]:
    """Enqueue one delivery task per endpoint the event goes to: in the first lane, or in
    the retry lane for an endpoint that is failing; a task already enqueued for the pair
    (the trigger delivered twice) is left as it is. Returns the task names.

    Raises: QueueUnreachable when the queue cannot be reached (the trigger fails, and is
    retried).
    """
    chosen = targets(event)
    names = []
    for endpoint in chosen:
        name = delivery_id(event.id, endpoint.id)
        lane = RETRY_LANE if endpoint.failing_since is not None else FIRST_LANE
        # The body the queue sends is the task data as given; the task function reads
        # it as a callable request, `{"data": ...}`.
        task = task_data(event.id, endpoint.id)
        # A pair enqueued by an earlier run of the trigger stays one delivery.
        with contextlib.suppress(tasks.TaskExists):
            _enqueue(_queue(lane), task, name)
        names.append(name)
    return names


def _queue(lane: str) -> str:
    """The task queue function of a lane."""
    return RETRY_FUNCTION if lane == RETRY_LANE else DELIVERY_FUNCTION


def task_data(
    event_id: str,
    endpoint_id: str,
    *,
    enqueued_at: dt.datetime | None = None,
    attempts: int = 0,
    not_before: dt.datetime | None = None,
    test: str | None = None,
    database: str | None = None,
) -> dict[str, Any]:
    """A delivery task's body: when the delivery was first enqueued (it bounds the retries,
    DISABLE_AFTER), the attempts made before this task, when it may try (a retry handed
    to the retry lane), and test mode's database for a delivery of test mode (by default
    the running call's)."""
    data: dict[str, Any] = {
        "event": event_id,
        "endpoint": endpoint_id,
        "enqueuedAt": rfc3339(enqueued_at or dt.datetime.now(dt.UTC)),
    }
    name = database or current_database()
    if name != config.LIVE_DATABASE:
        data["database"] = name
    if attempts:
        data["attempts"] = attempts
    if not_before is not None:
        data["notBefore"] = rfc3339(not_before)
    if test is not None:
        data["test"] = test
    return {"data": data}


def _enqueue(queue: str, task: dict[str, Any], name: str) -> None:
    """Raises: TaskExists (a task of that name exists), QueueUnreachable."""
    tasks.enqueue(queue, task, name)


def replay(event_id: str, endpoint_id: str, *, database: Any = None) -> str:
    """Enqueue one more delivery of an event to an endpoint (after the receiver was
    fixed, say): a task of its own name, recorded in the same delivery record.

    Raises: NotFound (event or endpoint), ValidationFailed (another partner's endpoint
    or an event it does not take).
    """
    event = event_store.by_id(event_id, database)
    endpoint = webhooks.endpoint(endpoint_id, database=database)
    if endpoint.partner_id != event.partner_id:
        raise ValidationFailed(
            details=[{"field": "endpoint", "message": "belongs to another partner"}]
        )
    lane = RETRY_LANE if endpoint.failing_since is not None else FIRST_LANE
    name = f"{delivery_id(event.id, endpoint.id)}-r{time.time_ns()}"
    task = task_data(event.id, endpoint.id, database=_name_of(database))
    _enqueue(_queue(lane), task, name)
    return name


def _name_of(database: Any) -> str | None:
    """The database of a client given by an operator (None: the running call's)."""
    return None if database is None else database_name(database)


TEST_EVENT_PREFIX: Final = "evt_test_"
TEST_TYPE: Final = "test"
"""A test event's type is `<resource>.test`."""


def send_test(
    endpoint_id: str, partner_id: str | None, resource: str, database: Any = None
) -> tuple[str, str]:
    """Enqueue a test event about `resource` to one of the partner's endpoints, signed and
    delivered as any event, whatever types the endpoint takes: (event id, delivery id).
    A test event is not kept: it is in no events list and cannot be resent.

    Raises: NotFound (another partner's endpoint), Conflict (a disabled endpoint),
    ServiceUnavailable (the queue did not answer).
    """
    endpoint = webhooks.endpoint(endpoint_id, partner_id, database)
    if endpoint.status != "enabled":
        raise Conflict("The endpoint is disabled: enable it before sending it a test event.")
    now = dt.datetime.now(dt.UTC)
    event_id = f"{TEST_EVENT_PREFIX}{now.strftime('%Y%m%d%H%M%S%f')}{secrets.token_hex(4)}"
    task = task_data(
        event_id, endpoint.id, enqueued_at=now, test=resource, database=_name_of(database)
    )
    lane = RETRY_LANE if endpoint.failing_since is not None else FIRST_LANE
    with _queue_answers():
        _enqueue(_queue(lane), task, delivery_id(event_id, endpoint.id))
    return event_id, delivery_id(event_id, endpoint.id)


@contextlib.contextmanager
def _queue_answers() -> Iterator[None]:
    """A queue that does not take the task, as the API answers it: 503, try again."""
    try:
        yield
    except tasks.QueueUnreachable as exc:
        raise ServiceUnavailable("The delivery queue did not answer; retry later.") from exc


def sample_event(task: Task, endpoint: WebhookEndpoint) -> Event:
    """The test event a task carries, rebuilt from its id (which holds its time)."""
    stamp = task.event_id.removeprefix(TEST_EVENT_PREFIX)[:20]
    try:
        at = dt.datetime.strptime(stamp, "%Y%m%d%H%M%S%f").replace(tzinfo=dt.UTC)
    except ValueError:
        at = task.enqueued_at or dt.datetime.now(dt.UTC)
    return Event(
        id=task.event_id,
        type=f"{task.test}.{TEST_TYPE}",
        partner_id=endpoint.partner_id,
        resource=str(task.test),
        record_id="test",
        version=None,
        data={},
        changed=(),
        at=at,
        writer="test",
    )


def resend(delivery_id_: str, partner_id: str | None, database: Any = None) -> str:
    """Deliver once more what one of the partner's deliveries carried (its receiver was
    fixed, say): a new attempt, recorded in the same delivery. Returns the task's name.

    Raises: NotFound (another partner's delivery, or its event or endpoint gone), Conflict
    (a test event's delivery: test events are not kept), ServiceUnavailable.
    """
    found = webhooks.delivery(delivery_id_, partner_id, database)
    if found.event_id.startswith(TEST_EVENT_PREFIX):
        raise Conflict("Test events are not kept, so they cannot be resent: send another test.")
    with _queue_answers():
        return replay(found.event_id, found.endpoint_id, database=database)


def body_of(event: Event) -> str:
    """The event as delivered: the JSON the events API gives it."""
    return json.dumps(changes.event_json(event), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Task:
    """One run of a delivery task, as its queue hands it over."""

    event_id: str
    endpoint_id: str
    lane: str = FIRST_LANE
    retry: int = 0
    """The queue's retry count of this task (0: its first run)."""
    before: int = 0
    """Attempts made before this task (by the first lane, for a task it handed over)."""
    enqueued_at: dt.datetime | None = None
    not_before: dt.datetime | None = None
    test: str | None = None
    """For a test event (never stored): the resource it is about."""

    @property
    def attempt(self) -> int:
        """The delivery's try number, over both lanes."""
        return self.before + self.retry


def deliver(task: Task) -> Outcome:
    """One run of a delivery task: at most one attempt to deliver its event.

    An endpoint never has more than MAX_IN_FLIGHT attempts under way (in either lane), so
    a slow receiver holds a few of a lane's slots at most. In the first lane, a delivery
    to an endpoint that is failing, or busy, gets no attempt: it goes to the retry lane
    at once, so it never holds a first-lane slot another partner's delivery waits for.
    In the retry lane, a busy endpoint's delivery waits for the backoff, as does a retry
    handed over before it is due.

    Raises: RetryLater when the queue should run the task again.
    """
    now = dt.datetime.now(dt.UTC)
    early = task.not_before is not None and now < task.not_before - dt.timedelta(seconds=EARLY_S)
    if early and task.retry == 0:
        raise RetryLater("not due yet")  # the queue's backoff brings it back when due
    try:
        endpoint = webhooks.endpoint(task.endpoint_id)
        event = sample_event(task, endpoint) if task.test else event_store.by_id(task.event_id)
    except NotFound:
        return Outcome("abandoned")  # deleted meanwhile: nothing to deliver, or to
    if endpoint.status != "enabled" or event.partner_id != endpoint.partner_id:
        return Outcome("abandoned")
    if task.lane == FIRST_LANE and endpoint.failing_since is not None:
        _hand_off(endpoint, event, task, attempts=task.attempt, not_before=None)
        return Outcome("retrying")
    name = delivery_id(event.id, endpoint.id)
    try:
        if delivery_store.begin_attempt(name, endpoint.id, now) < MAX_IN_FLIGHT:
            return _attempt(endpoint, event, task, now)
    finally:
        with contextlib.suppress(ServiceUnavailable):  # the mark stops counting by itself
            delivery_store.end_attempt(name)
    if task.lane == RETRY_LANE:  # busy in this lane too: the queue's backoff, no attempt
        raise RetryLater(f"{MAX_IN_FLIGHT} attempts to the endpoint are under way")
    _hand_off(endpoint, event, task, attempts=task.attempt, not_before=None)
    return Outcome("retrying")


def _attempt(endpoint: WebhookEndpoint, event: Event, task: Task, now: dt.datetime) -> Outcome:
    record = DeliveryAttempt(at=now, attempt=task.attempt, status=None, latency_ms=None, error=None)
    body = body_of(event)
    try:
        target = outbound.check_url(endpoint.url, local=config.is_demo_project())
        headers = signatures.signed_headers(endpoint.signing_secrets(now), event.id, now, body)
        answer = outbound.post(target, body.encode(), headers)
    except (outbound.CallFailed, outbound.RefusedTarget, ValueError) as exc:
        said = str(exc) if isinstance(exc, outbound.CallFailed) else f"{type(exc).__name__}: {exc}"
        return _failed(endpoint, event, replace(record, error=said[:300]), task)
    record = replace(record, status=answer.status, latency_ms=round(answer.latency_ms, 1))
    if 200 <= answer.status < 300:
        _record(endpoint, event, record, "delivered")
        if endpoint.failing_since is not None:
            endpoint_store.mark_failing(endpoint.id, None)
        return Outcome("delivered", answer.status)
    if answer.status == 410:
        _record(endpoint, event, record, "abandoned")
        webhooks.update(endpoint.id, status="disabled", reason="the receiver answered 410 Gone")
        return Outcome("abandoned", 410)
    failed = replace(record, error=f"the receiver answered {answer.status}")
    return _failed(endpoint, event, failed, task)


def next_attempt(
    at: dt.datetime, delay: dt.timedelta, enqueued_at: dt.datetime | None
) -> dt.datetime | None:
    """When a failed attempt at `at` is tried again, `delay` later; None past the
    delivery's retry window."""
    due = at + delay
    if enqueued_at is not None and due > enqueued_at + DISABLE_AFTER:
        return None
    return due


def retry_delay(task: Task) -> dt.timedelta:
    """How long after a failed run its next try comes: the retry lane's backoff for a
    retry-lane task; for a first-lane one, the first backoff (its hand-over waits that
    long, in the retry lane)."""
    return RETRY.delay(task.retry if task.lane == RETRY_LANE else 0)


def _failed(
    endpoint: WebhookEndpoint, event: Event, record: DeliveryAttempt, task: Task
) -> Outcome:
    now = record.at
    since = endpoint.failing_since or now
    if endpoint.failing_since is None:
        endpoint_store.mark_failing(endpoint.id, now)
    if now - since >= DISABLE_AFTER:
        _record(endpoint, event, record, "abandoned")
        webhooks.update(
            endpoint.id,
            status="disabled",
            reason=f"every delivery failed since {since.isoformat()} ({record.error})",
        )
        return Outcome("abandoned", record.status)
    due = next_attempt(now, retry_delay(task), task.enqueued_at)
    if due is None:  # the queue would not try again: say so, and end the task
        ended = replace(
            record, error=f"{record.error}; no retry left after {DISABLE_AFTER.days} days"
        )
        _record(endpoint, event, ended, "abandoned")
        return Outcome("abandoned", record.status)
    _record(endpoint, event, replace(record, next_attempt_at=due), "retrying")
    if task.lane == RETRY_LANE:
        raise RetryLater(str(record.error))
    _hand_off(endpoint, event, task, attempts=task.attempt + 1, not_before=due)
    return Outcome("retrying", record.status)


def _hand_off(
    endpoint: WebhookEndpoint,
    event: Event,
    task: Task,
    *,
    attempts: int,
    not_before: dt.datetime | None,
) -> None:
    """Continue a delivery in the retry lane (named after it and the attempts made, so a
    first-lane task run twice hands over once).

    Raises: RetryLater when the retry lane cannot be reached: the first lane keeps the
    task and runs it again after its own backoff.
    """
    name = f"{delivery_id(event.id, endpoint.id)}-retry{attempts}"
    data = task_data(
        event.id,
        endpoint.id,
        enqueued_at=task.enqueued_at,
        attempts=attempts,
        not_before=not_before,
        test=task.test,
    )
    try:
        _enqueue(_queue(RETRY_LANE), data, name)
    except tasks.TaskExists:
        return
    except (tasks.QueueUnreachable, ValueError) as exc:
        raise RetryLater(f"the retry lane could not be reached ({exc})") from exc


def _record(endpoint: WebhookEndpoint, event: Event, record: DeliveryAttempt, state: str) -> None:
    delivery_store.record_attempt(
        delivery_id(event.id, endpoint.id),
        partner_id=event.partner_id,
        event_id=event.id,
        endpoint_id=endpoint.id,
        attempt=record,
        state=state,
    )
