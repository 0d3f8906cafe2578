"""Domain values to wire shapes: the one place that decides how a record looks in JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from functions.auth import Caller
from functions.core import cursor
from functions.core.models import Event, EventsQuery, ListQuery, Page, Record, Revision, rfc3339
from functions.domain.changes import event_json
from functions.resources.declaration import Resource


class RecordPage(TypedDict):
    """The wire shape of a list: `next_cursor` is null on the last page."""

    data: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool
    skipped: list[str]


def record_json(record: Record, fields: frozenset[str] | None = None) -> dict[str, Any]:
    """A record on the wire, in its declared order; with `fields`, only those (and `id`)."""
    data = {
        name: rfc3339(value) if isinstance(value, dt.datetime) else value
        for name, value in record.values.items()
    }
    if fields is not None:
        data = {k: v for k, v in data.items() if k in fields or k == "id"}
    return data


def page_json(page: Page, query: ListQuery, caller: Caller, resource: Resource) -> RecordPage:
    """A page on the wire; its cursor only works for this partner, resource and query."""
    next_cursor = None
    if page.next_after is not None:
        next_cursor = cursor.encode(
            page.next_after.values(),
            partner_id=caller.partner_id,
            query_fingerprint=query.fingerprint(resource.name),
        )
    return {
        "data": [record_json(record, query.fields) for record in page.records],
        "next_cursor": next_cursor,
        "has_more": page.has_more,
        "skipped": list(page.skipped),
    }


WRITE_TIME_PREFIX = "w"
"""Begins the ETag of a record without a version: `"w<nanoseconds since the epoch>"`."""


def etag(revision: Revision) -> str:
    """The strong ETag of a record revision: `"3"` for a version; for a document without
    one, the time Firestore last wrote it, as an opaque `"w1764676800123456789"`."""
    if revision.version is not None:
        return f'"{revision.version}"'
    return f'"{WRITE_TIME_PREFIX}{revision.written_ns}"'


class EventPage(TypedDict):
    data: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


def event_page_json(
    events: list[Event], after: tuple[dt.datetime, str] | None, query: EventsQuery, caller: Caller
) -> EventPage:
    """A page of events; its cursor only works for this partner and type filter."""
    next_cursor = None
    if after is not None:
        next_cursor = cursor.encode(
            [after[0].astimezone(dt.UTC).isoformat(), after[1]],
            partner_id=caller.partner_id,
            query_fingerprint=query.fingerprint(),
        )
    return {
        "data": [event_json(event) for event in events],
        "next_cursor": next_cursor,
        "has_more": after is not None,
    }
