"""Changes of records as events: their type, what a partner may see of them, their one
wire shape (the events API and webhook deliveries both use `event_json`), and ids that
make each change one event, whoever made it.

An API write commits its event with the change, under an id derived from the record and
its content after the change (`api_event_id`). The trigger that sees every write of a
declared collection derives the same id; when that event exists and was committed with
the write (same commit time), the change is the API's and is not evented again.
Otherwise (the owner's app, a partner straight on Firestore) the trigger creates the
event under an id derived from the record and the write's time (`write_event_id`),
only if absent: a trigger delivered twice makes one event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from functions.core.models import Event, as_document_path, as_geopoint, rfc3339
from functions.resources import kinds
from functions.resources.declaration import FieldSpec, Resource

EVENT_ID_PREFIX = "evt_"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def canonical(value: Any) -> Any:
    """A stored value in one JSON form, as written by the API and as read back from
    Firestore (a timestamp to its microsecond, whichever class carries it; the SDK's
    geopoints and references as ours)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return _canonical_scalar(value)


def _canonical_scalar(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return {"$t": (moment - _EPOCH) // _MICROSECOND}
    if isinstance(value, bytes):
        return {"$b": value.hex()}
    if (point := as_geopoint(value)) is not None:
        return {"$g": [point.latitude, point.longitude]}
    if (path := as_document_path(value)) is not None:
        return {"$r": path.path}  # never an object's repr: the same in every process
    if isinstance(value, float) and value.is_integer():
        return {"$f": repr(value)}  # 1.0 is stored as a double, 1 as an integer
    return value


def content_key(document: Mapping[str, Any]) -> str:
    """The content of a stored document, hashed."""
    text = json.dumps(canonical(document), sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _event_id(*parts: str) -> str:
    return EVENT_ID_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def api_event_id(resource: Resource, doc_id: str, after: Mapping[str, Any]) -> str:
    """The id of the event the API commits with a write that leaves `after`."""
    return _event_id(resource.name, doc_id, "content", content_key(after))


def write_event_id(resource: Resource, doc_id: str, kind: str, written: dt.datetime) -> str:
    """The id of the event of another writer's change, committed at `written`."""
    return _event_id(resource.name, doc_id, kind, str(canonical(written)))


def same_instant(one: dt.datetime, other: dt.datetime) -> bool:
    """Whether two commit times are one (to the microsecond Firestore keeps)."""
    return bool(canonical(one) == canonical(other))


def visible(resource: Resource, document: Mapping[str, Any], doc_id: str) -> dict[str, Any]:
    """What a partner may read of a stored document, on the wire and in the shape the API
    gives a record: `id`, the tenant, the readable declared fields and the bookkeeping
    (null where absent); hidden fields never."""
    shown: dict[str, Any] = {"id": doc_id}
    specs = {spec.name: spec for spec in resource.fields}
    for name in resource.wire_fields[1:]:
        value, spec = document.get(name), specs.get(name)
        shown[name] = _plain(value) if spec is None else _wire(spec, value)
    shown[resource.tenant_field] = resource.tenant_of(document)
    return shown


def _wire(spec: FieldSpec, value: Any) -> Any:
    """A field as the API gives it; a value not of its kind (another writer's) as it is."""
    if value is None:
        return None
    if isinstance(kinds.kind_of(spec), kinds.Flat):  # stored as it travels
        return _plain(value)
    try:
        checked = kinds.stored_adapter(spec).validate_python(value)
    except ValidationError:
        return _plain(value)
    wire = kinds.to_wire(spec, checked)
    return rfc3339(wire) if isinstance(wire, dt.datetime) else wire


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return _plain_object(value)


def _plain_object(value: Any) -> Any:
    if (point := as_geopoint(value)) is not None:
        return {"latitude": point.latitude, "longitude": point.longitude}
    if (path := as_document_path(value)) is not None:
        return path.path
    return str(value)


def changed_fields(
    resource: Resource, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """The partner-visible fields a change set, changed or removed, in declared order."""
    before, after = before or {}, after or {}
    return tuple(
        name
        for name in resource.wire_fields
        if name != "id"
        and (name in before or name in after)
        and canonical(before.get(name)) != canonical(after.get(name))
    )


def kind_of(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    if before is None:
        return "created"
    return "deleted" if after is None else "updated"


def moved(
    resource: Resource, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> bool:
    """Whether an update takes a record from one tenant to another (or out of, or into,
    any tenant): each side then hears of it as a deletion or a creation."""
    if before is None or after is None:
        return False
    return resource.tenant_of(before) != resource.tenant_of(after)


def event_of(
    resource: Resource,
    doc_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    event_id: str,
    at: dt.datetime,
    writer: str,
    request_id: str | None = None,
) -> Event | None:
    """The event of a change of a stored document, or None when it is no record's (no
    tenant) or changes nothing a partner sees."""
    kind = kind_of(before, after)
    current = after if after is not None else before
    if current is None:
        return None
    partner_id = resource.tenant_of(current)
    if partner_id is None:
        return None
    changed = changed_fields(resource, before, after)
    if kind == "updated" and not changed:
        return None
    version_field = resource.bookkeeping.version
    version = current.get(version_field) if version_field else None
    return Event(
        id=event_id,
        type=f"{resource.name}.{kind}",
        partner_id=partner_id,
        resource=resource.name,
        record_id=doc_id,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        data=visible(resource, current, doc_id),
        changed=changed,
        at=at,
        writer=writer,
        request_id=request_id or None,
    )


def event_json(event: Event) -> dict[str, Any]:
    """An event on the wire (and the body a webhook delivers)."""
    return {
        "id": event.id,
        "type": event.type,
        "partner_id": event.partner_id,
        "resource": event.resource,
        "record_id": event.record_id,
        "version": event.version,
        "data": dict(event.data),
        "changed_fields": list(event.changed),
        "occurred_at": rfc3339(event.at),
        "writer": event.writer,
        "request_id": event.request_id,
    }
