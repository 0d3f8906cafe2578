"""Delivering events to webhook endpoints, one attempt at a time.

Each event goes to every enabled endpoint of its partner that wants its type, as one
Cloud Tasks task per event and endpoint, named after both (`delivery_id`): enqueued by
the trigger on the event's creation, so nothing is lost between the commit and the
enqueue, and a second enqueue of the same pair is refused by the queue. The queue
retries a failed attempt with exponential backoff for up to three days.

An attempt POSTs the event as JSON, signed (Standard Webhooks), to the checked address
(`functions.outbound`). A 2xx answer delivers it; 410 Gone disables the endpoint (the
receiver says it is gone); anything else, or no answer, is retried, and an endpoint
whose deliveries have failed for three days is disabled, with the reason its owner and
partner see. Every attempt is recorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Any, Final

from functions import changes, config, outbound, signatures, webhooks
from functions.errors import NotFound, ValidationFailed
from functions.firebase_app import admin_app
from functions.models import DeliveryAttempt, Event, WebhookEndpoint, rfc3339
from functions.store import deliveries as delivery_store
from functions.store import events as event_store
from functions.store import webhooks as endpoint_store

DISABLE_AFTER: Final = dt.timedelta(days=3)
"""An endpoint whose deliveries all failed this long is disabled; a task is retried this
long after it was enqueued, and no longer."""
DELIVERY_ID_PREFIX: Final = "dlv_"
DELIVERY_FUNCTION: Final = "deliverWebhook"
"""The task queue function that makes the attempts (its queue bears its name)."""


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
    """Enqueue one delivery task per endpoint the event goes to; a task already enqueued
    for the pair (the trigger delivered twice) is left as it is. Returns the task names.

    Raises: firebase_admin's FirebaseError when the queue cannot be reached (the trigger
    fails, and is retried where retries are on).
    """
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415
    from firebase_admin import functions as cloud_functions  # noqa: PLC0415

    chosen = targets(event)
    if not chosen:
        return []
    queue = cloud_functions.task_queue(
        f"locations/{config.function_region()}/functions/{DELIVERY_FUNCTION}", app=admin_app()
    )
    names = []
    for endpoint in chosen:
        name = delivery_id(event.id, endpoint.id)
        # The body the queue sends is the task data as given; the task function reads
        # it as a callable request, `{"data": ...}`.
        task = task_data(event.id, endpoint.id)
        # A pair enqueued by an earlier run of the trigger stays one delivery.
        with contextlib.suppress(firebase_exceptions.AlreadyExistsError):
            _enqueue(queue, task, name)
        names.append(name)
    return names


def task_data(event_id: str, endpoint_id: str) -> dict[str, Any]:
    """A delivery task's body. When it was enqueued bounds its retries (DISABLE_AFTER)."""
    now = rfc3339(dt.datetime.now(dt.UTC))
    return {"data": {"event": event_id, "endpoint": endpoint_id, "enqueuedAt": now}}


def _enqueue(queue: Any, task: dict[str, Any], name: str) -> None:
    """Enqueue a named task. Under the Cloud Tasks emulator firebase-admin (7.7) drops the
    first character of the task name the emulator answers with and then fails to parse
    it, after the task was enqueued: that one error means done, and only there.

    Raises: AlreadyExistsError (a task of that name exists), FirebaseError."""
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415
    from firebase_admin import functions as cloud_functions  # noqa: PLC0415

    try:
        queue.enqueue(task, cloud_functions.TaskOptions(task_id=name))
    except ValueError as exc:
        if config.tasks_emulator_host() is None or "resource name" not in str(exc):
            raise
    except firebase_exceptions.ConflictError as exc:
        # Cloud Tasks answers a taken name with ALREADY_EXISTS; its emulator with a bare
        # 409, which firebase-admin reads as a conflict: the same answer, said the same.
        if "already exists" not in str(exc):
            raise
        raise firebase_exceptions.AlreadyExistsError(str(exc), exc) from exc


def replay(event_id: str, endpoint_id: str, *, database: Any = None) -> str:
    """Enqueue one more delivery of an event to an endpoint (after the receiver was
    fixed, say): a task of its own name, recorded in the same delivery record.

    Raises: NotFound (event or endpoint), ValidationFailed (another partner's endpoint
    or an event it does not take).
    """
    from firebase_admin import functions as cloud_functions  # noqa: PLC0415

    event = event_store.by_id(event_id, database)
    endpoint = webhooks.endpoint(endpoint_id, database=database)
    if endpoint.partner_id != event.partner_id:
        raise ValidationFailed(
            details=[{"field": "endpoint", "message": "belongs to another partner"}]
        )
    queue = cloud_functions.task_queue(
        f"locations/{config.function_region()}/functions/{DELIVERY_FUNCTION}", app=admin_app()
    )
    name = f"{delivery_id(event.id, endpoint.id)}-r{time.time_ns()}"
    _enqueue(queue, task_data(event.id, endpoint.id), name)
    return name


def body_of(event: Event) -> str:
    """The event as delivered: the JSON the events API gives it."""
    return json.dumps(changes.event_json(event), separators=(",", ":"), ensure_ascii=False)


def deliver(
    event_id: str, endpoint_id: str, attempt: int = 0, enqueued_at: dt.datetime | None = None
) -> Outcome:
    """One attempt to deliver an event to an endpoint: try number `attempt` (the queue's
    retry count) of a task enqueued at `enqueued_at` (None: not known).

    Raises: RetryLater when the attempt failed and the queue should try again.
    """
    now = dt.datetime.now(dt.UTC)
    try:
        endpoint = webhooks.endpoint(endpoint_id)
        event = event_store.by_id(event_id)
    except NotFound:
        return Outcome("abandoned")  # deleted meanwhile: nothing to deliver, or to
    if endpoint.status != "enabled" or event.partner_id != endpoint.partner_id:
        return Outcome("abandoned")
    record = DeliveryAttempt(at=now, attempt=attempt, status=None, latency_ms=None, error=None)
    body = body_of(event)
    try:
        target = outbound.check_url(endpoint.url, local=config.is_demo_project())
        headers = signatures.signed_headers(endpoint.signing_secrets(now), event.id, now, body)
        answer = outbound.post(target, body.encode(), headers)
    except (outbound.CallFailed, outbound.RefusedTarget, ValueError) as exc:
        said = str(exc) if isinstance(exc, outbound.CallFailed) else f"{type(exc).__name__}: {exc}"
        return _failed(endpoint, event, replace(record, error=said[:300]), enqueued_at)
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
    return _failed(endpoint, event, failed, enqueued_at)


def next_attempt(attempt: DeliveryAttempt, enqueued_at: dt.datetime | None) -> dt.datetime | None:
    """When the queue tries a failed attempt again; None past the task's retry window."""
    due = attempt.at + RETRY.delay(attempt.attempt)
    if enqueued_at is not None and due > enqueued_at + DISABLE_AFTER:
        return None
    return due


def _failed(
    endpoint: WebhookEndpoint,
    event: Event,
    record: DeliveryAttempt,
    enqueued_at: dt.datetime | None,
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
    due = next_attempt(record, enqueued_at)
    if due is None:  # the queue would not try again: say so, and end the task
        ended = replace(
            record, error=f"{record.error}; no retry left after {DISABLE_AFTER.days} days"
        )
        _record(endpoint, event, ended, "abandoned")
        return Outcome("abandoned", record.status)
    _record(endpoint, event, replace(record, next_attempt_at=due), "retrying")
    raise RetryLater(str(record.error))


def _record(endpoint: WebhookEndpoint, event: Event, record: DeliveryAttempt, state: str) -> None:
    delivery_store.record_attempt(
        delivery_id(event.id, endpoint.id),
        partner_id=event.partner_id,
        event_id=event.id,
        endpoint_id=endpoint.id,
        attempt=record,
        state=state,
    )
