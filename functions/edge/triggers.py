"""Firestore triggers generated from the declaration: one per declared collection, so that
every change of a partner's record becomes one event, whoever wrote it.

The API commits its events with its writes; the trigger finds those and adds nothing. A
write of the owner's app, or of a partner straight on Firestore (where `direct_access`
allows it), gets its event here, created once however often the trigger is delivered
(`functions.domain.records.record_written`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from firebase_functions import firestore_fn, https_fn, options, tasks_fn

from functions.core import config, logs
from functions.core.models import Event
from functions.domain import records
from functions.domain.webhooks import delivery
from functions.resources import declaration
from functions.store.client import in_database
from functions.store.events import event_from

SANDBOX_SUFFIX = "Sandbox"
"""Test mode's twin of a trigger: `entriesChangedSandbox` watches the sandbox database."""

SDK_HAS_RETRY = "retry" in options.FirestoreOptions.__dataclass_fields__
"""Whether firebase-functions takes `retry` for Firestore triggers (0.6 does not:
firebase-functions-python#165); when it does, the option is passed and nothing else."""
_RETRY: dict[str, Any] = {"retry": True} if SDK_HAS_RETRY else {}


def retried(trigger: Callable[..., Any]) -> Callable[..., Any]:
    """An event trigger with the platform's retries on (Eventarc redelivers a failed run).

    firebase-functions 0.6 writes `retry: false` into the manifest entry the CLI deploys
    from, with no option to change it; this sets `retry: true` in that entry. The entry's
    shape is checked, so an SDK that changed it stops discovery with this message rather
    than deploy triggers that silently lose events.

    Raises: RuntimeError (the manifest entry is not what this expects).
    """
    endpoint = getattr(trigger, "__firebase_endpoint__", None)
    event_trigger = getattr(endpoint, "eventTrigger", None)
    if not isinstance(event_trigger, dict) or not isinstance(event_trigger.get("retry"), bool):
        raise RuntimeError(
            "firebase-functions' manifest entry of a Firestore trigger has no eventTrigger "
            "retry flag: check functions/edge/triggers.py against the installed SDK"
        )
    event_trigger["retry"] = True
    return trigger


def trigger_name(resource_name: str) -> str:
    """`entries` -> `entriesChanged`, `order-lines` -> `orderLinesChanged`."""
    first, *rest = resource_name.split("-")
    return first + "".join(word.title() for word in rest) + "Changed"


def record_triggers() -> dict[str, Callable[..., Any]]:
    """A trigger per declared resource, by deployed name (none when the declaration
    cannot be read: the HTTP functions then say why, with a 500)."""
    try:
        resources = declaration.current().resources
    except declaration.DeclarationError:
        return {}
    return {
        trigger_name(resource.name) + suffix: _trigger(
            resource.name,
            config.resource_collection(resource.name, resource.collection),
            database,
        )
        for resource in resources
        for suffix, database in _DATABASES
    }


_DATABASES = (("", config.LIVE_DATABASE), (SANDBOX_SUFFIX, config.TEST_DATABASE))
"""Each trigger watches the live database; its twin, test mode's."""


def record_changed(
    resource_name: str, doc_id: str, before: Any, after: Any, *, tenant: str | None = None
) -> list[Event]:
    """What a `<resource>Changed` trigger does with one write (its snapshots before and
    after): the write's events (two for a record moved between tenants), each made once
    however often the platform delivers the write, retries included. `tenant`: the
    tenant of the write's path, where the declaration puts the tenant there."""
    config.check_local_only()  # a deployed trigger never writes where emulators point
    resource = declaration.current().get(resource_name)
    if resource is None:
        return []
    old, new = _data(before), _data(after)
    if resource.tenant_in_path:  # as the store reads such records: the path's tenant
        for data in (old, new):
            if data is not None and tenant:
                data[resource.tenant_field] = tenant
    if old is None and new is None:
        return []
    written = (after if new is not None else before).update_time
    made = records.record_written(resource, doc_id, old, new, written=written)
    for event in made:
        logs.log(
            "INFO",
            f"{resource_name}/{doc_id} changed: {event.type} by {event.writer}",
            event_id=event.id,
            **logs.labels(partner=event.partner_id, function="trigger"),
        )
    if not made:
        logs.log(
            "INFO",
            f"{resource_name}/{doc_id} changed: evented already or unseen",
            **logs.labels(function="trigger"),
        )
    return made


def event_created(snapshot: Any) -> list[str]:
    """What `eventCreated` does with a new event: one delivery task per endpoint, named
    after both, so a retried run enqueues none twice. Returns the task names."""
    config.check_local_only()
    if snapshot is None or not snapshot.exists:
        return []
    made = event_from(snapshot.id, snapshot.to_dict() or {})
    names = delivery.fan_out(made)
    logs.log(
        "INFO",
        f"event {made.id}: {len(names)} deliveries enqueued",
        event_id=made.id,
        **logs.labels(partner=made.partner_id, function="eventCreated"),
    )
    return names


def _trigger(resource_name: str, collection: str, database: str) -> Callable[..., Any]:
    def changed(event: firestore_fn.Event[Any]) -> None:
        tenant = event.params.get("tenant")
        with in_database(database):  # the event, its audit record: the write's database
            record_changed(
                resource_name,
                str(event.params["docId"]),
                event.data.before,
                event.data.after,
                tenant=None if tenant is None else str(tenant),
            )

    # The deployed name is the function's own: named before the decorator reads it.
    suffix = "" if database == config.LIVE_DATABASE else SANDBOX_SUFFIX
    changed.__name__ = changed.__qualname__ = trigger_name(resource_name) + suffix
    # Retried: a run that fails (a backend error, a lost worker) loses no event; the
    # event's id is derived from the write, so a retry never makes a second one.
    decorate = firestore_fn.on_document_written(
        document=f"{collection}/{{docId}}",
        database=database,
        region=config.functions_region(),
        memory=256,
        **_RETRY,
    )
    return retried(decorate(changed))


def delivery_functions() -> dict[str, Callable[..., Any]]:
    """The trigger that enqueues an event's deliveries when it is created, and the task
    queue function that makes each attempt (retried by the queue for up to three days)."""

    def eventCreated(event: firestore_fn.Event[Any]) -> None:  # noqa: N802 - deployed name
        event_created(event.data)

    def eventCreatedSandbox(event: firestore_fn.Event[Any]) -> None:  # noqa: N802
        with in_database(config.TEST_DATABASE):
            event_created(event.data)

    def deliverWebhook(request: https_fn.CallableRequest[Any]) -> None:  # noqa: N802
        run_delivery(request, delivery.FIRST_LANE)

    def deliverWebhookRetry(request: https_fn.CallableRequest[Any]) -> None:  # noqa: N802
        run_delivery(request, delivery.RETRY_LANE)

    # Retried too: a task already enqueued for an event and endpoint is not enqueued again.
    created, created_in_sandbox = (
        retried(
            firestore_fn.on_document_created(
                document=f"{config.events_collection()}/{{eventId}}",
                database=database,
                region=config.functions_region(),
                memory=256,
                **_RETRY,
            )(function)
        )
        for function, database in (
            (eventCreated, config.LIVE_DATABASE),
            (eventCreatedSandbox, config.TEST_DATABASE),
        )
    )
    retry_config = options.RetryConfig(
        max_attempts=-1,
        max_retry_seconds=int(delivery.DISABLE_AFTER.total_seconds()),
        min_backoff_seconds=int(delivery.RETRY.minimum.total_seconds()),
        max_backoff_seconds=int(delivery.RETRY.maximum.total_seconds()),
        max_doublings=delivery.RETRY.doublings,
    )

    def lane(concurrent: int, per_second: int) -> Callable[..., Any]:
        return tasks_fn.on_task_dispatched(
            retry_config=retry_config,
            rate_limits=options.RateLimits(
                max_concurrent_dispatches=concurrent, max_dispatches_per_second=per_second
            ),
            region=config.functions_region(),
            memory=256,
            timeout_sec=30,
        )

    first = lane(20, 50)(deliverWebhook)
    retries = lane(10, 20)(deliverWebhookRetry)
    return {
        "eventCreated": created,
        "eventCreated" + SANDBOX_SUFFIX: created_in_sandbox,
        delivery.DELIVERY_FUNCTION: first,
        delivery.RETRY_FUNCTION: retries,
    }


def run_delivery(request: https_fn.CallableRequest[Any], lane: str) -> None:
    """One run of a delivery task of `lane`, as its queue sends it.

    Raises: HttpsError UNAVAILABLE when the queue should run it again.
    """
    config.check_local_only()
    data = request.data if isinstance(request.data, dict) else {}
    retries = request.raw_request.headers.get("X-CloudTasks-TaskRetryCount", "0")
    before = data.get("attempts")
    task = delivery.Task(
        event_id=str(data.get("event")),
        endpoint_id=str(data.get("endpoint")),
        lane=lane,
        retry=int(retries) if retries.isdigit() else 0,
        before=before if isinstance(before, int) and 0 <= before < MAX_ATTEMPTS else 0,
        enqueued_at=_moment(data.get("enqueuedAt")),
        not_before=_moment(data.get("notBefore")),
        test=data["test"] if isinstance(data.get("test"), str) else None,
    )
    database = data.get("database")
    try:
        with in_database(config.TEST_DATABASE if database == config.TEST_DATABASE else
                         config.LIVE_DATABASE):  # fmt: skip
            outcome = delivery.deliver(task)
    except delivery.RetryLater as exc:
        raise https_fn.HttpsError(https_fn.FunctionsErrorCode.UNAVAILABLE, str(exc)) from exc
    logs.log(
        "INFO",
        f"delivery of {task.event_id} to {task.endpoint_id} ({lane} lane): {outcome.state}",
        status=outcome.status,
        **logs.labels(
            function=delivery.RETRY_FUNCTION
            if lane == delivery.RETRY_LANE
            else delivery.DELIVERY_FUNCTION
        ),
    )


MAX_ATTEMPTS = 10_000
"""More attempts than three days of retries make: a task claiming more is not believed."""


def _moment(value: Any) -> dt.datetime | None:
    """A task's RFC 3339 time; None when absent or not one (tasks enqueued before)."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _data(snapshot: Any) -> dict[str, Any] | None:
    if snapshot is None or not getattr(snapshot, "exists", False):
        return None
    return dict(snapshot.to_dict() or {})
