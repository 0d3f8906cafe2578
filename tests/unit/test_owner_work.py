"""An owner's endpoint's unit of work and reads (`domain.owner`) on the real store code and a
real SDK client, against Firestore's service in memory (tests/unit/firestore_service.py):
writes and their audit records in one commit or none, the answer kept for an
Idempotency-Key and replayed, a reused key refused, the tenant's records read a page at a
time with the declaration's filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest

from functions.auth import Caller
from functions.core.errors import ConfigurationError, Conflict, NotFound, ServiceUnavailable
from functions.core.models import Bounds, KeptAnswer
from functions.domain import owner
from functions.store.client import client
from tests.helpers import PROJECT
from tests.unit.firestore_service import MemoryFirestore

ROOT = f"projects/{PROJECT}/databases/(default)/documents"
ACME = Caller("u-acme", "acme", frozenset({"orders:write"}), {}, credential="key")
GLOBEX = Caller("u-globex", "globex", frozenset(), {})
AT = [dt.datetime(2026, 3, 3, 12, minute, tzinfo=dt.UTC) for minute in (3, 2, 1)]
ENTRY = {"description": "Lunch", "amount": "12.50", "currency": "EUR", "date": "2026-03-01"}


def _stored(service: MemoryFirestore, collection: str) -> dict[str, dict[str, Any]]:
    from google.cloud.firestore_v1 import _helpers

    prefix = f"{ROOT}/{collection}/"
    return {
        name.removeprefix(prefix): _decoded(_helpers.decode_dict(document.fields, client()))
        for name, document in service.documents.items()
        if name.startswith(prefix) and "/" not in name.removeprefix(prefix)
    }


def _decoded(fields: Any) -> dict[str, Any]:
    return dict(fields)


def _answer(body: str = '{"id": "o-1"}', fingerprint: str = "f1") -> KeptAnswer:
    return KeptAnswer("placeOrder", fingerprint, 201, body)


# --- the unit of work ----------------------------------------------------------------------


def test_writes_and_their_audit_records_are_one_commit(memory_firestore: MemoryFirestore) -> None:
    work = owner.Work(ACME, "placeOrder")
    assert work.pending == 0
    work.create("orders/o-1", {"n": 1})
    work.set("orders/o-2", {"n": 2})
    work.audit("create", "orders", "o-1", fields=("n",), version_after=1)
    assert work.pending == 3
    assert work.commit(None, _answer(), None) == _answer()
    assert len(memory_firestore.calls("Commit")) == 1
    assert _stored(memory_firestore, "orders") == {"o-1": {"n": 1}, "o-2": {"n": 2}}
    (audit,) = _stored(memory_firestore, "partnerAudit").values()
    assert {k: audit[k] for k in ("partnerId", "actor", "credential", "operation", "resource")} == {
        "partnerId": "acme", "actor": "u-acme", "credential": "key",
        "operation": "create", "resource": "orders",
    }  # fmt: skip
    assert (audit["recordId"], audit["fields"], audit["versionBefore"], audit["versionAfter"]) == (
        "o-1", ["n"], None, 1,
    )  # fmt: skip
    assert _stored(memory_firestore, "partnerIdempotencyKeys") == {}


def test_a_call_without_writes_or_a_key_commits_nothing(memory_firestore: MemoryFirestore) -> None:
    work = owner.Work(ACME, "report")
    assert work.commit(None, _answer(), None) == _answer()
    assert memory_firestore.calls("Commit") == []


def test_an_update_or_delete_of_a_changed_document_writes_nothing_and_is_a_409(
    memory_firestore: MemoryFirestore,
) -> None:
    first = owner.Work(ACME, "placeOrder")
    first.create("orders/o-1", {"n": 1})
    first.commit_writes()
    read = client().document("orders/o-1").get()
    stale = read.update_time - dt.timedelta(seconds=1)
    changes: tuple[Callable[[owner.Work], None], ...] = (
        lambda w: w.update("orders/o-1", {"n": 2}, unchanged_since=stale),
        lambda w: w.delete("orders/o-1", unchanged_since=stale),
        lambda w: w.update("orders/missing", {"n": 2}),
        lambda w: w.create("orders/o-1", {"n": 3}),
    )
    for change in changes:
        work = owner.Work(ACME, "placeOrder")
        work.set("orders/other", {"n": 9})
        change(work)
        work.audit("update", "orders", "o-1")
        with pytest.raises(Conflict) as caught:
            work.commit(None, _answer(), None)
        assert caught.value.reason == "write_conflict"
        assert caught.value.message.startswith("A document this call writes changed since")
    assert _stored(memory_firestore, "orders") == {"o-1": {"n": 1}}
    assert len(_stored(memory_firestore, "partnerAudit")) == 0
    fresh = owner.Work(ACME, "placeOrder")
    fresh.update("orders/o-1", {"n": 2}, unchanged_since=read.update_time)
    fresh.commit_writes()
    assert _stored(memory_firestore, "orders") == {"o-1": {"n": 2}}
    gone = owner.Work(ACME, "placeOrder")
    gone.delete("orders/o-1", unchanged_since=client().document("orders/o-1").get().update_time)
    gone.commit_writes()
    assert _stored(memory_firestore, "orders") == {}


def test_an_answer_kept_for_a_key_is_committed_with_the_writes(
    memory_firestore: MemoryFirestore,
) -> None:
    work = owner.Work(ACME, "placeOrder")
    work.create("orders/o-1", {"n": 1})
    before = dt.datetime.now(dt.UTC)
    assert work.commit("key-1", _answer(), None) == _answer()
    assert len(memory_firestore.calls("Commit")) == 1
    (kept,) = _stored(memory_firestore, "partnerIdempotencyKeys").values()
    assert (kept["partnerId"], kept["operation"], kept["fingerprint"], kept["status"]) == (
        "acme", "placeOrder", "f1", 201,
    )  # fmt: skip
    assert kept["response"] == '{"id": "o-1"}'
    assert before <= kept["createdAt"] <= dt.datetime.now(dt.UTC)
    assert kept["expiresAt"] - kept["createdAt"] == dt.timedelta(hours=24)
    assert "recordId" not in kept


def test_the_same_key_again_replays_the_first_answer_and_writes_nothing(
    memory_firestore: MemoryFirestore,
) -> None:
    first = owner.Work(ACME, "placeOrder")
    first.create("orders/o-1", {"n": 1})
    first.commit("key-1", _answer(), None)
    earlier, replacing = owner.earlier_answer(ACME, "placeOrder", "key-1", "f1")
    assert earlier == _answer()
    assert replacing is None
    audits = sorted(_stored(memory_firestore, "partnerAudit").values(), key=lambda a: a["at"])
    assert [(a["operation"], a["resource"], a["recordId"]) for a in audits] == [
        ("replay", "placeOrder", "")
    ]
    # Two calls raced: the second commits after the first kept its answer.
    second = owner.Work(ACME, "placeOrder")
    second.create("orders/o-2", {"n": 2})
    given = second.commit("key-1", _answer('{"id": "o-2"}'), None)
    assert given == _answer()
    assert sorted(_stored(memory_firestore, "orders")) == ["o-1"]


def test_a_key_reused_for_another_request_is_a_409(memory_firestore: MemoryFirestore) -> None:
    owner.Work(ACME, "placeOrder").commit("key-1", _answer(), None)
    for endpoint, fingerprint in (("placeOrder", "f2"), ("cancelOrder", "f1")):
        with pytest.raises(Conflict) as caught:
            owner.earlier_answer(ACME, endpoint, "key-1", fingerprint)
        assert caught.value.reason == "idempotency_key_reused"
        racing = owner.Work(ACME, endpoint)
        racing.set("orders/x", {})
        with pytest.raises(Conflict) as raced:
            racing.commit("key-1", KeptAnswer(endpoint, fingerprint, 201, "{}"), None)
        assert raced.value.reason == "idempotency_key_reused"
    assert _stored(memory_firestore, "orders") == {}
    assert _stored(memory_firestore, "partnerAudit") == {}


def test_a_key_is_the_partners_own(memory_firestore: MemoryFirestore) -> None:
    owner.Work(ACME, "placeOrder").commit("key-1", _answer(), None)
    assert owner.earlier_answer(GLOBEX, "placeOrder", "key-1", "f1") == (None, None)
    assert owner.Work(GLOBEX, "placeOrder").commit("key-1", _answer(), None) == _answer()
    assert len(_stored(memory_firestore, "partnerIdempotencyKeys")) == 2


def test_an_expired_answer_is_replaced_from_its_last_write(
    memory_firestore: MemoryFirestore,
) -> None:
    from functions.store import answers

    owner.Work(ACME, "placeOrder").commit("key-1", _answer(), None)
    reference = answers.reference("acme", "key-1")
    expired = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    reference.update({"expiresAt": expired})
    written = reference.get().update_time
    earlier, replacing = owner.earlier_answer(ACME, "placeOrder", "key-1", "f2")
    assert earlier is None
    assert replacing == written
    work = owner.Work(ACME, "placeOrder")
    work.create("orders/o-9", {"n": 9})
    assert work.commit("key-1", _answer(fingerprint="f2"), replacing) == _answer(fingerprint="f2")
    (kept,) = _stored(memory_firestore, "partnerIdempotencyKeys").values()
    assert kept["fingerprint"] == "f2"
    assert kept["expiresAt"] > dt.datetime.now(dt.UTC)
    # Replaced from a read that is no longer current: another call replaced it first.
    late = owner.Work(ACME, "placeOrder")
    late.create("orders/o-10", {"n": 10})
    assert late.commit("key-1", _answer(fingerprint="f2"), written) == _answer(fingerprint="f2")
    assert sorted(_stored(memory_firestore, "orders")) == ["o-9"]


def test_a_backend_failure_of_a_commit_is_a_503_and_writes_nothing(
    memory_firestore: MemoryFirestore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "0.2")
    memory_firestore.failures = [grpc.StatusCode.UNAVAILABLE] * 1000
    work = owner.Work(ACME, "placeOrder")
    work.create("orders/o-1", {"n": 1})
    with pytest.raises(ServiceUnavailable):
        work.commit_writes()
    memory_firestore.failures = []
    assert _stored(memory_firestore, "orders") == {}


def test_the_database_is_the_packages_client(memory_firestore: MemoryFirestore) -> None:
    assert owner.Work(ACME, "x").database is client()


# --- the tenant's records -------------------------------------------------------------------


def _seed(service: MemoryFirestore, records: dict[str, dict[str, Any]]) -> None:

    from functions.store import wire

    writes = [
        wire.write_pbs("set", client().document(f"entries/{doc_id}"), data)
        for doc_id, data in records.items()
    ]
    wire.commit(client(), writes)
    service.requests.clear()


def test_a_record_is_read_only_from_the_callers_tenant(memory_firestore: MemoryFirestore) -> None:
    _seed(
        memory_firestore,
        {"a1": {**ENTRY, "partnerId": "acme"}, "g1": {**ENTRY, "partnerId": "globex"}},
    )
    records = owner.tenant_records("entries", ACME)
    found = records.get("a1")
    assert (found.id, found.values["description"]) == ("a1", "Lunch")
    for missing in ("g1", "nothing"):
        with pytest.raises(NotFound) as caught:
            records.get(missing)
        assert caught.value.message == "No entry with this id."


def test_an_undeclared_resource_filter_or_range_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"resources\.toml declares no resource 'orders'"):
        owner.tenant_records("orders", ACME)
    records = owner.tenant_records("entries", ACME)
    with pytest.raises(ConfigurationError) as caught:
        next(records.each(equals={"currency": "EUR", "amount": "1", "category": "food"}))
    assert str(caught.value) == "entries is not declared filterable by amount, currency"
    with pytest.raises(ConfigurationError, match="entries declares no range on amount"):
        next(records.each(bounds=Bounds("amount", None, None)))


def _query_answer(doc_id: str, data: dict[str, Any], seconds: int) -> Any:
    from google.cloud.firestore_v1 import _helpers
    from google.cloud.firestore_v1.types import document as document_types
    from google.cloud.firestore_v1.types import firestore as messages

    document = document_types.Document.pb()(name=f"{ROOT}/entries/{doc_id}")
    for key, value in data.items():
        document.fields[key].CopyFrom(document_types.Value.pb(_helpers.encode_value(value)))
    document.create_time.seconds = document.update_time.seconds = seconds
    return messages.RunQueryResponse.pb()(document=document)


def test_every_record_is_read_a_page_at_a_time_and_invalid_ones_are_named(
    memory_firestore: MemoryFirestore,
) -> None:
    acme = {**ENTRY, "partnerId": "acme", "category": "food"}
    memory_firestore.query_answers = [
        [
            _query_answer("a1", {**acme, "createdAt": AT[0]}, 1_900_000_001),
            _query_answer("bad", {**acme, "amount": 12.5, "createdAt": AT[1]}, 1_900_000_002),
            _query_answer("a3", {**acme, "createdAt": AT[2]}, 1_900_000_003),
        ],
        [_query_answer("a3", {**acme, "createdAt": AT[2]}, 1_900_000_003)],
    ]
    records = owner.tenant_records("entries", ACME)
    got = [record.id for record in records.each(equals={"category": "food"}, page_size=2)]
    assert got == ["a1", "a3"]
    assert records.skipped == ["bad"]
    assert records.read == 2
    first, second = memory_firestore.calls("RunQuery")
    assert first.structured_query.limit.value == second.structured_query.limit.value == 3
    filters = {
        f.field_filter.field.field_path: f.field_filter.value.string_value
        for f in first.structured_query.where.composite_filter.filters
    }
    assert filters == {"partnerId": "acme", "category": "food"}
    assert not first.structured_query.HasField("start_at")
    cursor = second.structured_query.start_at
    assert not cursor.before
    assert cursor.values[-1].reference_value == f"{ROOT}/entries/bad"
    assert cursor.values[0].timestamp_value.ToDatetime(dt.UTC) == AT[1]


def test_a_range_is_read_in_its_order(memory_firestore: MemoryFirestore) -> None:
    memory_firestore.query_answers = [[]]
    records = owner.tenant_records("entries", ACME)
    bounds = Bounds("date", "2026-03-01", None)
    assert list(records.each(bounds=bounds)) == []
    (query,) = memory_firestore.calls("RunQuery")
    assert query.structured_query.limit.value == owner.PAGE_SIZE + 1
    assert query.structured_query.order_by[0].field.field_path == "date"
    assert records.read == 0
    assert records.skipped == []
