"""The fast path's calls (`store.wire`) on a real SDK client and a real gRPC channel, to
Firestore's service held in memory (tests/unit/firestore_service.py): what each call sends
(database, documents, metadata, a deadline), how each answer reads back (found, missing,
update times, a query's documents), which failures are tried again and which are not,
and every private part of the SDK the fast path reads, each one missed in turn."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import Any, ClassVar

import grpc  # type: ignore[import-untyped]
import pytest
from google.api_core import exceptions
from google.cloud.firestore import FieldFilter
from google.cloud.firestore_v1.types import document as document_types
from google.cloud.firestore_v1.types import firestore as messages

from functions.store import calls, wire
from functions.store.client import client
from tests.helpers import PROJECT

ROOT = f"projects/{PROJECT}/databases/(default)/documents"


def _read(service: Any, name: str) -> dict[str, Any]:
    from google.cloud.firestore_v1 import _helpers

    decoded: Any = _helpers.decode_dict(service.documents[f"{ROOT}/{name}"].fields, client())
    return dict(decoded)


def test_a_commit_sends_every_write_in_one_request_and_reads_back_each_update_time(
    memory_firestore: Any,
) -> None:
    database = client()
    assert calls.fast(database)
    entries = database.collection("entries")
    times = wire.commit(
        database,
        [
            wire.write_pbs("create", entries.document("a"), {"n": 1, "s": "x"}),
            wire.write_pbs("set", entries.document("b"), {"n": 2}),
        ],
    )
    (request,) = memory_firestore.calls("Commit")
    assert request.database == f"projects/{PROJECT}/databases/(default)"
    assert [w.update.name for w in request.writes] == [f"{ROOT}/entries/a", f"{ROOT}/entries/b"]
    assert len(times) == 2
    assert times[0] == times[1]
    assert times[0] == dt.datetime.fromtimestamp(memory_firestore.seconds, dt.UTC).replace(
        microsecond=123456
    )
    assert _read(memory_firestore, "entries/a") == {"n": 1, "s": "x"}
    (metadata,) = memory_firestore.metadata
    assert metadata["x-goog-request-params"] == (
        f"database=projects/{PROJECT}/databases/%28default%29"
    )
    assert metadata["authorization"] == "Bearer owner"
    assert metadata["google-cloud-resource-prefix"] == f"projects/{PROJECT}/databases/(default)"


def test_a_commit_whose_precondition_fails_raises_the_sdks_error_and_writes_nothing(
    memory_firestore: Any,
) -> None:
    database = client()
    entries = database.collection("entries")
    wire.commit(database, [wire.write_pbs("create", entries.document("a"), {"n": 1})])
    with pytest.raises(exceptions.AlreadyExists):
        wire.commit(
            database,
            [
                wire.write_pbs("create", entries.document("new"), {"n": 2}),
                wire.write_pbs("create", entries.document("a"), {"n": 3}),
            ],
        )
    assert sorted(memory_firestore.documents) == [f"{ROOT}/entries/a"]
    with pytest.raises(exceptions.NotFound):
        wire.commit(database, [wire.write_pbs("update", entries.document("gone"), {"n": 1})])
    stale = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(exceptions.FailedPrecondition):
        wire.commit(
            database, [wire.write_pbs("update", entries.document("a"), {"n": 9}, update_time=stale)]
        )
    assert _read(memory_firestore, "entries/a") == {"n": 1}
    assert len(memory_firestore.calls("Commit")) == 4  # none of them retried


def test_a_commit_is_tried_again_after_unavailable_within_the_deadline(
    memory_firestore: Any,
) -> None:
    database = client()
    memory_firestore.failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
    (when,) = wire.commit(
        database, [wire.write_pbs("set", database.collection("c").document("d"), {"a": 1})]
    )
    assert len(memory_firestore.calls("Commit")) == 3
    assert when.year >= 2027
    memory_firestore.failures = [grpc.StatusCode.INTERNAL]
    with pytest.raises(exceptions.InternalServerError, match="Commit failed as the test asked"):
        wire.commit(database, [wire.write_pbs("set", database.collection("c").document("e"), {})])
    assert len(memory_firestore.calls("Commit")) == 4


def test_the_deadline_ends_the_retries(
    memory_firestore: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "0.3")
    database = client()
    memory_firestore.failures = [grpc.StatusCode.UNAVAILABLE] * 1000
    with pytest.raises((exceptions.RetryError, exceptions.ServiceUnavailable)):
        wire.commit(database, [wire.write_pbs("set", database.collection("c").document("d"), {})])
    assert 1 < len(memory_firestore.calls("Commit")) < 1000


def test_a_batched_get_reads_found_and_missing_documents_with_their_times(
    memory_firestore: Any,
) -> None:
    database = client()
    entries = database.collection("entries")
    wire.commit(
        database, [wire.write_pbs("create", entries.document("a"), {"n": 1, "m": {"k": [1, 2]}})]
    )
    wire.commit(database, [wire.write_pbs("update", entries.document("a"), {"n": 2})])
    snapshots = wire.get_all(
        database, [entries.document("a"), entries.document("b"), entries.document("a")]
    )
    (request,) = memory_firestore.calls("BatchGetDocuments")
    assert list(request.documents) == [f"{ROOT}/entries/a", f"{ROOT}/entries/b"]  # once each
    assert request.database == f"projects/{PROJECT}/databases/(default)"
    by_id = {snapshot.id: snapshot for snapshot in snapshots}
    found, missing = by_id["a"], by_id["b"]
    assert found.exists
    assert found.to_dict() == {"n": 2, "m": {"k": [1, 2]}}
    assert found.reference.path == "entries/a"
    stored = memory_firestore.documents[f"{ROOT}/entries/a"]
    assert found.update_time.timestamp() == stored.update_time.seconds + 0.123456
    assert found.create_time.timestamp() == stored.create_time.seconds + 0.123456
    assert found.create_time < found.update_time < found.read_time
    assert not missing.exists
    assert missing.to_dict() is None
    assert missing.update_time is None
    assert missing.create_time is None
    assert missing.reference.path == "entries/b"
    assert missing.read_time == found.read_time
    one = wire.get(entries.document("a"))
    assert one.exists
    assert one.to_dict()["n"] == 2


def test_a_batched_get_is_tried_again_on_internal(memory_firestore: Any) -> None:
    database = client()
    memory_firestore.failures = [grpc.StatusCode.INTERNAL]
    (snapshot,) = wire.get_all(database, [database.collection("c").document("x")])
    assert not snapshot.exists
    assert len(memory_firestore.calls("BatchGetDocuments")) == 2
    memory_firestore.failures = [grpc.StatusCode.PERMISSION_DENIED]
    with pytest.raises(exceptions.PermissionDenied):
        wire.get(database.collection("c").document("x"))


def _found(name: str, fields: dict[str, Any], seconds: int) -> Any:
    from google.cloud.firestore_v1 import _helpers

    document = document_types.Document.pb()(name=f"{ROOT}/{name}")
    for key, value in fields.items():
        document.fields[key].CopyFrom(document_types.Value.pb(_helpers.encode_value(value)))
    document.create_time.seconds = seconds - 1
    document.update_time.seconds = seconds
    answer = messages.RunQueryResponse.pb()(document=document)
    answer.read_time.seconds = seconds + 5
    return answer


def test_a_query_sends_its_structured_query_and_reads_each_document(memory_firestore: Any) -> None:
    database = client()
    query = database.collection("entries").where(filter=FieldFilter("partnerId", "==", "acme"))
    query = query.limit(2)
    memory_firestore.query_answers = [
        [
            messages.RunQueryResponse.pb()(skipped_results=0),  # progress without a document
            _found("entries/a", {"partnerId": "acme", "n": 1}, 1_900_000_000),
            _found("entries/b", {"partnerId": "acme", "n": 2}, 1_900_000_010),
        ]
    ]
    snapshots = wire.stream(query)
    (request,) = memory_firestore.calls("RunQuery")
    assert request.parent == ROOT
    assert request.structured_query.limit.value == 2
    assert request.structured_query.from_[0].collection_id == "entries"
    assert request.structured_query.where.field_filter.field.field_path == "partnerId"
    assert [(s.id, s.to_dict()["n"]) for s in snapshots] == [("a", 1), ("b", 2)]
    assert [s.reference.path for s in snapshots] == ["entries/a", "entries/b"]
    first = snapshots[0]
    assert first.exists
    assert first.update_time == dt.datetime.fromtimestamp(1_900_000_000, dt.UTC)
    assert first.create_time == dt.datetime.fromtimestamp(1_899_999_999, dt.UTC)
    assert first.read_time == dt.datetime.fromtimestamp(1_900_000_005, dt.UTC)


def test_a_query_of_a_subcollection_names_its_parent_and_reads_its_documents(
    memory_firestore: Any,
) -> None:
    database = client()
    orders = database.collection("restaurants").document("r1").collection("orders")
    memory_firestore.query_answers = [[_found("restaurants/r1/orders/o1", {"n": 1}, 1_900_000_000)]]
    (snapshot,) = wire.stream(orders.limit(5))
    assert memory_firestore.calls("RunQuery")[0].parent == f"{ROOT}/restaurants/r1"
    assert snapshot.reference.path == "restaurants/r1/orders/o1"


def test_a_document_outside_the_queried_collection_is_refused(memory_firestore: Any) -> None:
    database = client()
    memory_firestore.query_answers = [[_found("other/a", {"n": 1}, 1_900_000_000)]]
    with pytest.raises(ValueError, match="Unexpected document name"):
        wire.stream(database.collection("entries").limit(1))
    memory_firestore.query_answers = [[_found("entriesX/a", {"n": 1}, 1_900_000_000)]]
    with pytest.raises(ValueError, match="entriesX/a"):
        wire.stream(database.collection("entries").limit(1))


def test_a_query_is_tried_again_on_unavailable(memory_firestore: Any) -> None:
    database = client()
    memory_firestore.failures = [grpc.StatusCode.UNAVAILABLE]
    memory_firestore.query_answers = [[_found("entries/a", {"n": 1}, 1_900_000_000)]]
    (snapshot,) = wire.stream(database.collection("entries").limit(1))
    assert snapshot.id == "a"
    assert len(memory_firestore.calls("RunQuery")) == 2


@pytest.mark.parametrize("shape", ["collection group", "limit to last"])
def test_queries_the_fast_path_leaves_go_through_the_sdk(memory_firestore: Any, shape: str) -> None:
    database = client()
    if shape == "collection group":
        query: Any = database.collection_group("orders").limit(3)
    else:
        query = database.collection("entries").order_by("n").limit_to_last(3)
    memory_firestore.query_answers = [[_found("entries/a", {"n": 1}, 1_900_000_000)]]
    snapshots = wire.stream(query)
    (request,) = memory_firestore.calls("RunQuery")
    if shape == "collection group":
        assert request.structured_query.from_[0].all_descendants
        assert [s.id for s in snapshots] == ["a"]
    else:  # the SDK reverses the order to read the last ones first, then back
        assert request.structured_query.order_by[0].direction == 2
        assert [s.id for s in snapshots] == ["a"]
    memory_firestore.failures = [grpc.StatusCode.UNAVAILABLE]
    wire.stream(query)
    assert len(memory_firestore.calls("RunQuery")) == 3  # the SDK's call, with the SDK's retry


# --- the private surface ------------------------------------------------------------------


def test_a_new_client_has_everything_the_fast_path_reads(memory_firestore: Any) -> None:
    from google.cloud import firestore

    database = firestore.Client(project=PROJECT)
    assert wire.surface_problems(database) == []
    assert memory_firestore.requests == []  # checked without a call
    assert wire.stubs(database).database == f"projects/{PROJECT}/databases/(default)"


SURFACE = [
    ("channel", "_emulator_host", "channel: AttributeError"),
    ("stubs", "_rpc_metadata", "stubs: AttributeError"),
    ("references", "_database_string", "references: AttributeError"),
    ("retries", "_firestore_api_internal", "retries: "),
    ("reads", "_document_path", "reads: AttributeError"),
]


@pytest.mark.parametrize(("probe", "attribute", "said"), SURFACE)
def test_each_missing_private_part_is_named_by_its_probe(
    memory_firestore: Any, monkeypatch: pytest.MonkeyPatch, probe: str, attribute: str, said: str
) -> None:
    from google.cloud import firestore
    from google.cloud.firestore_v1 import base_client, base_document

    database = firestore.Client(project=PROJECT)
    if attribute == "_document_path":
        monkeypatch.delattr(base_document.BaseDocumentReference, "_document_path")
    elif attribute in {"_database_string", "_rpc_metadata"}:
        monkeypatch.delattr(base_client.BaseClient, attribute)
    elif attribute == "_emulator_host":
        monkeypatch.delattr(database, "_emulator_host")
    else:
        database._firestore_api_internal = None
        monkeypatch.setattr(type(database), "_firestore_api", property(lambda self: object()))
    problems = wire.surface_problems(database)
    assert any(line.startswith(said) for line in problems), problems
    assert all(
        line.split(":")[0]
        in {"references", "channel", "stubs", "retries", "writes", "reads", "queries"}
        for line in problems
    )


def test_a_transport_without_the_sdks_retry_is_said_at_once() -> None:
    class Transport:
        _wrapped_methods: ClassVar[dict[Any, Any]] = {}
        commit = object()

    with pytest.raises(RuntimeError) as caught:
        wire.sdk_retry(Transport(), "commit")
    assert str(caught.value) == (
        "google-cloud-firestore's transport holds no retry for commit: check "
        "functions/store/wire.py against the installed SDK"
    )
    with pytest.raises(RuntimeError, match="no retry for run_query"):
        wire.sdk_retry(object(), "run_query")


def test_queries_and_writes_that_cannot_be_made_are_named(
    memory_firestore: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud import firestore
    from google.cloud.firestore_v1 import _helpers, base_query

    database = firestore.Client(project=PROJECT)
    monkeypatch.delattr(base_query.BaseQuery, "_to_protobuf")
    monkeypatch.setattr(_helpers, "pbs_for_update", None)
    problems = wire.surface_problems(database, install=False)
    assert [line.split(":")[0] for line in problems] == ["writes", "queries"]
    assert problems[0].startswith("writes: TypeError")
    assert problems[1].startswith("queries: AttributeError")


# --- what each call carries: its deadline, its metadata; what reads back --------------------


@pytest.mark.parametrize("method", ["Commit", "BatchGetDocuments", "RunQuery"])
def test_every_call_carries_the_deadline_and_the_clients_metadata(
    memory_firestore: Any, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "0.4")
    database = client()
    reference = database.collection("c").document("d")
    run: Callable[[], Any] = {
        "Commit": lambda: wire.commit(database, [wire.write_pbs("set", reference, {})]),
        "BatchGetDocuments": lambda: wire.get(reference),
        "RunQuery": lambda: wire.stream(database.collection("c").limit(1)),
    }[method]
    run()
    metadata = memory_firestore.metadata[-1]
    assert metadata["authorization"] == "Bearer owner"
    assert metadata["x-goog-request-params"].startswith(f"database=projects/{PROJECT}/")
    assert "x-goog-api-client" not in metadata  # our stub made the call, not the SDK's client
    memory_firestore.delays = [3.0] * 5
    started = time.monotonic()
    with pytest.raises((exceptions.DeadlineExceeded, exceptions.RetryError)):
        run()
    assert time.monotonic() - started < 2.5  # the deadline ended it, not the answer


def test_a_read_decodes_references_with_the_client_and_says_what_is_missing(
    memory_firestore: Any,
) -> None:
    database = client()
    orders = database.collection("orders")
    wire.commit(
        database,
        [wire.write_pbs("set", orders.document("o1"), {"customer": database.document("users/u1")})],
    )
    found, missing = sorted(
        wire.get_all(database, [orders.document("o1"), orders.document("o2")]), key=lambda s: s.id
    )
    customer = found.to_dict()["customer"]
    assert customer.path == "users/u1"
    assert customer._client is database
    assert missing.exists is False
    assert found.exists is True
    memory_firestore.query_answers = [
        [_found("orders/o1", {"customer": database.document("users/u1")}, 1_900_000_000)]
    ]
    (queried,) = wire.stream(orders.limit(1))
    assert queried.to_dict()["customer"]._client is database


@pytest.mark.parametrize("shape", ["collection group", "limit to last"])
def test_the_sdks_own_query_keeps_our_deadline(
    memory_firestore: Any, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "0.4")
    database = client()
    if shape == "collection group":
        query: Any = database.collection_group("orders").limit(3)
    else:
        query = database.collection("entries").order_by("n").limit_to_last(3)
    wire.stream(query)
    assert "x-goog-api-client" in memory_firestore.metadata[-1]  # the SDK's client made it
    memory_firestore.delays = [3.0] * 5
    started = time.monotonic()
    with pytest.raises((exceptions.DeadlineExceeded, exceptions.RetryError)):
        wire.stream(query)
    assert time.monotonic() - started < 2.5


def test_what_the_wire_encodes_itself_and_what_it_leaves_to_the_sdks_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds
    from google.cloud.firestore import SERVER_TIMESTAMP

    class Moment(dt.datetime):
        """A datetime of another library: no `timestamp_pb`."""

    left: list[str] = []
    sdk_write = wire._sdk_write

    def spy(kind: str, *rest: Any) -> Any:
        left.append(kind)
        return sdk_write(kind, *rest)

    monkeypatch.setattr(wire, "_sdk_write", spy)
    path = f"{ROOT}/entries/a"
    nanos = DatetimeWithNanoseconds(2026, 1, 2, 3, 4, 5, nanosecond=123456789, tzinfo=dt.UTC)  # type: ignore[no-untyped-call]
    ours = [
        (
            "create",
            {"s": "x", "n": 1, "f": 0.5, "b": True, "none": None, "m": {"k": [1, {"j": 2}]}},
        ),
        (
            "set",
            {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "nanos": nanos, "a.b": "dots are fine"},
        ),
        ("update", {"n": 2, "s": "y", "list": [1, 2]}),
        ("delete", None),
    ]
    for kind, data in ours:
        wire.write_pbs(kind, path, data)
    assert left == []
    sdks: list[tuple[str, dict[str, Any]]] = [
        ("create", {"at": SERVER_TIMESTAMP}),
        ("set", {"raw": b"\x00"}),
        ("set", {"m": {1: "a key that is not text"}}),
        ("update", {"a.b": 1}),
        ("update", {"m": {"k": 1}}),
        ("update", {}),
        ("set", {"when": Moment(2026, 1, 1, tzinfo=dt.UTC)}),
    ]
    for kind, given in sdks:
        with contextlib.suppress(TypeError, ValueError):  # the SDK's own refusal
            wire.write_pbs(kind, path, given)
    assert left == [kind for kind, _ in sdks]
    with pytest.raises(ValueError, match="merge"):
        wire.write_pbs("merge", path, {})


def test_the_channel_is_made_with_the_sdks_own_options_and_one_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore
    from google.cloud.firestore_v1.services.firestore import client as gapic

    made: list[tuple[str, list[Any]]] = []
    insecure = grpc.insecure_channel

    def spy(target: str, options: Any = None, **kwargs: Any) -> Any:
        made.append((target, list(options or [])))
        return insecure(target, options=options, **kwargs)

    monkeypatch.setattr(grpc, "insecure_channel", spy)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")

    class Signed(AnonymousCredentials):
        id_token = "a-custom-token"

    for credentials in (AnonymousCredentials(), Signed()):  # type: ignore[no-untyped-call]
        sdk = firestore.Client(project="p", credentials=credentials)
        sdk._firestore_api  # noqa: B018 - the SDK makes its own channel
        ours = firestore.Client(project="p", credentials=credentials)
        wire.install_channel(ours)
        (sdk_target, sdk_options), (our_target, our_options) = made[-2:]
        assert our_target == sdk_target == "127.0.0.1:9"
        single = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)
        assert our_options == [*sdk_options, single]
        assert ours._firestore_api._transport is ours._transport
        assert gapic._client_info is ours._client_info  # type: ignore[attr-defined]
    assert ("Authorization", "Bearer a-custom-token") in made[-1][1]
    assert ("Authorization", "Bearer owner") in made[-3][1]


def test_a_client_that_made_calls_keeps_the_sdks_channel(memory_firestore: Any) -> None:
    from google.cloud import firestore

    database = firestore.Client(project=PROJECT)
    channel = database._firestore_api._transport.grpc_channel
    assert wire.surface_problems(database, install=False) == []
    assert database._firestore_api._transport.grpc_channel is channel
    assert wire.surface_problems(database) == []
    assert database._firestore_api._transport.grpc_channel is not channel
