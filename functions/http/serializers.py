"""Domain values to wire shapes: the one place that decides how an entry looks in JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from functions import cursor
from functions.auth import Caller
from functions.models import Entry, ListQuery, Page


class EntryPage(TypedDict):
    """The wire shape of a list: `next_cursor` is null on the last page."""

    data: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool
    skipped: list[str]


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_json(entry: Entry, fields: frozenset[str] | None = None) -> dict[str, Any]:
    """An entry on the wire; with `fields`, only those (and always `id`)."""
    data = entry.model_dump(mode="json")
    data["createdAt"] = rfc3339(entry.createdAt)
    data["updatedAt"] = rfc3339(entry.updatedAt)
    if fields is not None:
        data = {k: v for k, v in data.items() if k in fields or k == "id"}
    return data


def page_json(page: Page, query: ListQuery, caller: Caller) -> EntryPage:
    """A page on the wire; its cursor only works for this partner and this query."""
    next_cursor = None
    if page.next_after is not None:
        next_cursor = cursor.encode(
            page.next_after.values(),
            partner_id=caller.partner_id,
            query_fingerprint=query.fingerprint(),
        )
    return {
        "data": [entry_json(entry, query.fields) for entry in page.entries],
        "next_cursor": next_cursor,
        "has_more": page.has_more,
        "skipped": list(page.skipped),
    }


def etag(version: int) -> str:
    """The strong ETag of an entry version: `"3"`."""
    return f'"{version}"'
