"""The store's plain-message reads (`store.wire`: batched gets and queries) against the SDK's
own calls on the Firestore emulator: the same documents, in the same order, with the same
data and times, for filters, orders, cursors, limits, offsets and projections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from google.cloud.firestore import FieldFilter

pytestmark = pytest.mark.empty_database  # its queries read whole collections

COLLECTION = "wireReads"


def _seen(snapshots: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (s.reference.path, s.exists, s.to_dict(), s.create_time, s.update_time) for s in snapshots
    ]


@pytest.fixture(scope="module")
def documents(emulator_hosts: dict[str, str]) -> Any:
    """Thirty documents of mixed shapes (written once for the module), as an app keeps
    them: numbers, times, lists, maps, missing fields, a subcollection."""
    from devtools import emulators
    from functions import store
    from tests.helpers import PROJECT

    emulators.wipe_firestore(PROJECT)
    database = store.client()
    batch = database.batch()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n in range(30):
        fields: dict[str, Any] = {
            "partnerId": "acme" if n % 3 else "globex",
            "n": n,
            "price": n * 1.5,
            "at": start + dt.timedelta(hours=n),
            "tags": ["even" if n % 2 == 0 else "odd", f"t{n % 5}"],
            "meta": {"k": n % 4, "deep": {"x": [n, None]}},
        }
        if n % 7 == 0:
            del fields["price"]  # a document the order by `price` leaves out
        batch.set(database.collection(COLLECTION).document(f"d{n:02d}"), fields)
    batch.set(
        database.collection(COLLECTION).document("d01").collection("lines").document("l1"),
        {"n": 1},
    )
    batch.commit()
    return database.collection(COLLECTION)


QUERIES: dict[str, Callable[[Any], Any]] = {
    "all": lambda c: c,
    "equality": lambda c: c.where(filter=FieldFilter("partnerId", "==", "acme")),
    "order and limit": lambda c: (
        c.where(filter=FieldFilter("partnerId", "==", "acme")).order_by("n").limit(5)
    ),
    "descending": lambda c: c.order_by("at", direction="DESCENDING").limit(7),
    "range": lambda c: c.where(filter=FieldFilter("n", ">=", 10)).where(
        filter=FieldFilter("n", "<", 20)
    ),
    "in": lambda c: c.where(filter=FieldFilter("n", "in", [1, 5, 29, 99])),
    "array contains": lambda c: c.where(filter=FieldFilter("tags", "array_contains", "t3")),
    "array contains any": lambda c: c.where(
        filter=FieldFilter("tags", "array_contains_any", ["t1", "t2"])
    ),
    "not equal": lambda c: c.where(filter=FieldFilter("partnerId", "!=", "acme")),
    "a field some lack": lambda c: c.order_by("price").limit(40),
    "nested field": lambda c: c.where(filter=FieldFilter("meta.k", "==", 2)).order_by("n"),
    "by name": lambda c: c.order_by("__name__").start_after({"__name__": c.document("d25")}),
    "start at values": lambda c: c.order_by("n").start_at({"n": 25}),
    "end before values": lambda c: c.order_by("n").end_before({"n": 3}),
    "offset": lambda c: c.order_by("n").offset(27),
    "limit zero": lambda c: c.limit(0),
    "projection": lambda c: c.select(["n", "meta.k"]).where(filter=FieldFilter("n", "<", 4)),
    "no match": lambda c: c.where(filter=FieldFilter("partnerId", "==", "nobody")),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_a_query_reads_what_the_sdks_own_query_reads(documents: Any, name: str) -> None:
    from functions.store import wire

    query = QUERIES[name](documents)
    ours, theirs = wire.stream(query), list(query.stream())
    assert _seen(ours) == _seen(theirs)
    assert (name in ("no match", "limit zero")) is (ours == [])


def test_a_cursor_from_a_snapshot_pages_as_the_sdk_does(documents: Any) -> None:
    """Pages of four after each page's last snapshot (the store's cursors), to the end."""
    from functions.store import wire

    query = documents.where(filter=FieldFilter("partnerId", "==", "acme")).order_by("at").limit(4)
    ours: list[Any] = []
    theirs: list[Any] = []
    after_ours = after_theirs = None
    while True:
        page_ours = wire.stream(query.start_after(after_ours) if after_ours else query)
        page_theirs = list((query.start_after(after_theirs) if after_theirs else query).stream())
        assert _seen(page_ours) == _seen(page_theirs)
        if not page_ours:
            break
        ours += page_ours
        theirs += page_theirs
        after_ours, after_theirs = page_ours[-1], page_theirs[-1]
    assert len(ours) == 20
    assert [s.id for s in ours] == sorted(s.id for s in ours)  # by time, which follows ids


def test_a_batched_get_reads_what_the_sdks_get_all_reads(documents: Any) -> None:
    from functions import store
    from functions.store import wire

    database = store.client()
    references = [
        documents.document("d00"),
        documents.document("d29"),
        documents.document("nosuch"),
        documents.document("d01").collection("lines").document("l1"),
        documents.document("d01").collection("lines").document("nosuch"),
    ]
    ours = {s.reference.path: s for s in wire.get_all(database, references)}
    theirs = {s.reference.path: s for s in database.get_all(references)}
    assert sorted(ours) == sorted(theirs) == sorted(r.path for r in references)
    assert _seen([ours[p] for p in sorted(ours)]) == _seen([theirs[p] for p in sorted(theirs)])
    assert [ours[r.path].exists for r in references] == [True, True, False, True, False]
    one = wire.get(documents.document("d07"))
    assert _seen([one]) == _seen([documents.document("d07").get()])
    assert "price" not in (one.to_dict() or {})


def test_a_collection_group_query_goes_through_the_sdk_with_the_same_result(
    documents: Any,
) -> None:
    from functions import store
    from functions.store import wire

    group = store.client().collection_group("lines")
    ours = wire.stream(group)
    # the SDK's collection-group snapshots carry protobuf times; ours are datetimes, as
    # every other snapshot's (a record's revision is read from them)
    assert all(isinstance(s.update_time, dt.datetime) for s in ours)
    assert _seen(ours) == [_with_times(seen) for seen in _seen(list(group.stream()))]
    assert [s.id for s in ours] == ["l1"]


def _with_times(seen: tuple[Any, ...]) -> tuple[Any, ...]:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    def time(stamp: Any) -> Any:
        if stamp is None or isinstance(stamp, dt.datetime):
            return stamp
        return DatetimeWithNanoseconds.from_timestamp_pb(stamp)  # type: ignore[no-untyped-call]

    return (*seen[:3], time(seen[3]), time(seen[4]))
