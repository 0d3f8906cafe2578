"""The store's own work by both of its paths on the Firestore emulator: the fast one
(`store.wire`, plain protobuf messages) and the SDK's public API alone
(FIRESTORE_FAST_PATH=false, or an SDK whose private surface changed). Each path creates,
replays, lists, updates and refuses exactly alike, with the same preconditions, events,
audit records and errors."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore as sdk

from functions.auth import Caller
from functions.core.errors import Conflict, NotFound, PreconditionFailed
from functions.core.models import Draft, FieldChanges, ListQuery, Revision
from functions.domain import records
from functions.resources import declaration
from functions.store import calls
from functions.store.client import UnitOfWork, WriteConflict
from tests.helpers import T, entry_body, tenant_documents

store_client = importlib.import_module("functions.store.client")  # not the package's `client`


@pytest.fixture(params=["fast", "sdk"])
def path(
    request: pytest.FixtureRequest, emulator_hosts: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A store with a client of its own, on the path named (the process's shared client
    is left as it was)."""
    monkeypatch.setenv("FIRESTORE_FAST_PATH", "true" if request.param == "fast" else "false")
    monkeypatch.setattr(store_client, "_clients", {})
    monkeypatch.setattr(calls, "_paths", weakref.WeakKeyDictionary())
    monkeypatch.setattr(calls, "_said", threading.Event())
    yield request.param
    assert calls.fast(store_client.client()) is (request.param == "fast")


def _caller() -> Caller:
    tenant = T.of(f"paths{len(T.used)}")  # a new tenant at each call
    return Caller(f"u-{tenant}", tenant, frozenset(), {})


def _entries() -> Any:
    resource = declaration.current().get("entries")
    assert resource is not None
    return resource


def _events_of(record_id: str) -> list[str]:
    found = tenant_documents("partnerEvents")
    return sorted(d.get("type") for d in found if (d.to_dict() or {}).get("recordId") == record_id)


def _audit_of(tenant: str) -> list[str]:
    found = tenant_documents("partnerAudit")
    entries = [d.to_dict() or {} for d in found]
    return sorted(e["operation"] for e in entries if e.get("partnerId") == tenant)


def test_a_create_an_update_and_a_stale_update_take_either_path_alike(path: str) -> None:
    entries, caller = _entries(), _caller()
    created = records.create_record(entries, caller, Draft(entry_body()), None)
    assert not created.replayed
    assert created.record.version == 1
    read = records.get_record(entries, caller, created.record.id)
    assert read.values == created.record.values
    updated = records.update_record(
        entries,
        caller,
        created.record.id,
        FieldChanges({"description": "Lunch"}, ("category",)),
        Revision(version=1),
    )
    assert (updated.version, updated.values["description"]) == (2, "Lunch")
    with pytest.raises(PreconditionFailed) as stale:
        records.update_record(
            entries,
            caller,
            created.record.id,
            FieldChanges({"description": "Dinner"}),
            Revision(version=1),
        )
    assert stale.value.current == Revision(version=2)
    assert records.get_record(entries, caller, created.record.id).values["description"] == "Lunch"
    assert _events_of(created.record.id) == ["entries.created", "entries.updated"]
    assert _audit_of(caller.partner_id) == ["create", "update"]
    with pytest.raises(NotFound):
        records.get_record(entries, _caller(), created.record.id)  # another tenant's


def test_a_key_replays_its_create_and_refuses_another_body_on_either_path(path: str) -> None:
    entries, caller = _entries(), _caller()
    first = records.create_record(entries, caller, Draft(entry_body()), "k-1")
    again = records.create_record(entries, caller, Draft(entry_body()), "k-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.record == first.record
    assert records.replays(caller, "k-1")
    assert not records.replays(caller, "k-2")
    with pytest.raises(Conflict, match="different request"):
        records.create_record(entries, caller, Draft(entry_body(amount="9.99")), "k-1")
    page = records.list_records(entries, caller, ListQuery(limit=10))
    assert [r.id for r in page.records] == [first.record.id]
    assert _audit_of(caller.partner_id) == ["create", "replay"]


def test_a_list_pages_through_every_record_on_either_path(path: str) -> None:
    entries, caller = _entries(), _caller()
    made = {
        records.create_record(entries, caller, Draft(entry_body(amount=f"{n}.00")), None).record.id
        for n in range(5)
    }
    seen: list[str] = []
    query = ListQuery(limit=2)
    for _ in range(5):
        page = records.list_records(entries, caller, query)
        seen += [r.id for r in page.records]
        if page.next_after is None:
            break
        query = ListQuery(limit=2, after=page.next_after)
    assert sorted(seen) == sorted(made)
    assert len(seen) == 5


def test_a_unit_of_works_preconditions_hold_on_either_path(path: str) -> None:
    database = store_client.client()
    collection = database.collection(f"paths-{uuid.uuid4().hex[:8]}")
    one, two = collection.document("one"), collection.document("two")
    work = UnitOfWork()
    work.create(one, {"n": 1, "at": sdk.SERVER_TIMESTAMP, "deep": {"a": [1, {"b": None}]}})
    work.set(two, {"n": 2})
    first_times = work.commit()
    assert len(first_times) == 2
    snapshot = calls.get(one)
    assert snapshot.update_time == first_times[0]
    assert isinstance(snapshot.get("at"), dt.datetime)
    assert snapshot.get("deep") == {"a": [1, {"b": None}]}
    again = UnitOfWork()
    again.create(one, {"n": 9})
    with pytest.raises(WriteConflict):
        again.commit()
    stale = UnitOfWork()
    stale.update(two, {"n": 3}, unchanged_since=first_times[0] - dt.timedelta(seconds=1))
    with pytest.raises(WriteConflict):
        stale.commit()
    fresh = UnitOfWork()
    fresh.update(one, {"n": 4, "deep.a": sdk.DELETE_FIELD}, unchanged_since=snapshot.update_time)
    fresh.delete(two, unchanged_since=first_times[1])
    fresh.commit()
    found = {s.id: s.to_dict() for s in calls.get_all(database, [one, two])}
    assert found["one"] == {"n": 4, "at": snapshot.get("at"), "deep": {}}
    assert found["two"] is None
    missing = UnitOfWork()
    missing.update(two, {"n": 5}, unchanged_since=None)
    with pytest.raises(WriteConflict):
        missing.commit()
    assert [s.id for s in calls.stream(collection.order_by("n").limit(5))] == ["one"]
