"""The store's plain-message writes (`store.wire`) are byte for byte the SDK's own, for every
kind of value and change; what it does not encode itself is left to the SDK."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

PATH = "projects/demo-partner-api/databases/(default)/documents/entries/abc"
NOW = dt.datetime(2026, 12, 2, 23, 59, 1, 123456, tzinfo=dt.UTC)


def _sdk(kind: str, data: Any, update_time: dt.datetime | None = None) -> Any:
    from google.cloud.firestore_v1 import _helpers
    from google.cloud.firestore_v1.types.write import Write

    option = _helpers.LastUpdateOption(update_time) if update_time else None
    if kind == "create":
        (write,) = _helpers.pbs_for_create(PATH, data)
    elif kind == "set":
        (write,) = _helpers.pbs_for_set_no_merge(PATH, data)
    elif kind == "update":
        (write,) = _helpers.pbs_for_update(PATH, data, option)
    else:
        (write,) = [_helpers.pb_for_delete(PATH, option)]
    return Write.pb(write)


def _documents() -> list[dict[str, Any]]:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    nanos = DatetimeWithNanoseconds(  # type: ignore[no-untyped-call]
        2026, 1, 2, 3, 4, 5, nanosecond=123456789, tzinfo=dt.UTC
    )
    return [
        {},
        {"description": "Lunch", "amount": "12.50", "version": 1, "void": False},
        {"n": -(2**63), "big": 2**63 - 1, "x": 0.1, "nan": float("inf"), "none": None},
        {"at": NOW, "naive": dt.datetime(2026, 1, 1, 12), "nanos": nanos},
        {"at": dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5)))},
        {"empty map": {}, "empty list": [], "nested": {"a": {"b": [1, {"c": []}, None]}}},
        {"a.b": "a name with a dot", "ünïcødé": "ok", "`q`": ["x", 2, 3.5, True]},
        {"old": dt.datetime(1901, 12, 13, 20, 45, 52, 1, tzinfo=dt.UTC)},
        {"bytes": b"\x00\xff"},
    ]


@pytest.mark.parametrize("kind", ["create", "set"])
def test_documents_are_written_as_the_sdk_writes_them(kind: str) -> None:
    from functions.store import wire

    for document in _documents():
        ours = wire.write_pbs(kind, PATH, document)
        assert ours == _sdk(kind, document), document
        assert ours.SerializeToString(deterministic=True) == _sdk(kind, document).SerializeToString(
            deterministic=True
        )


def test_updates_and_deletes_carry_the_sdks_preconditions() -> None:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    from functions.store import wire

    read = DatetimeWithNanoseconds(  # type: ignore[no-untyped-call]
        2026, 1, 2, 3, 4, 5, nanosecond=987654321, tzinfo=dt.UTC
    )
    changes: list[dict[str, Any]] = [
        {"status": "suspended", "updatedAt": NOW},
        {"b": 1, "a": [1, 2], "c": None},
        {"limits": {"burst": 10}},  # a map replaced: the SDK's own mask
        {"limits.burst": 10},  # a nested path
        {"a-b": 1},  # a name the mask must quote
    ]
    for change in changes:
        for since in (None, read, NOW):
            assert wire.write_pbs("update", PATH, change, update_time=since) == _sdk(
                "update", change, since
            ), (change, since)
    for since in (None, read, NOW):
        assert wire.write_pbs("delete", PATH, update_time=since) == _sdk("delete", None, since)
    ours = wire.write_pbs("update", PATH, {"x": 1}, update_time=read)
    assert ours.current_document.update_time.nanos == 987654000  # microseconds, as the SDK


def test_what_the_wire_leaves_to_the_sdk_is_the_sdks() -> None:
    from google.cloud.firestore_v1 import DELETE_FIELD, SERVER_TIMESTAMP, GeoPoint, Increment

    from functions.store import wire

    cases: list[tuple[str, dict[str, Any]]] = [
        ("create", {"at": SERVER_TIMESTAMP, "n": 1}),
        ("set", {"where": GeoPoint(1.5, 2.5), "tuple": (1, 2)}),
        ("update", {"count": Increment(3), "gone": DELETE_FIELD}),
        ("create", {"set": {1, 2}}),
    ]
    for kind, data in cases:
        with pytest.raises(wire.Unsupported):
            wire.encode(data, wire._write_class()().update.fields["probe"])
        assert wire.write_pbs(kind, PATH, data) == _sdk(kind, data), data
    ours = wire.write_pbs("create", PATH, {"at": SERVER_TIMESTAMP})
    assert [t.field_path for t in ours.update_transforms] == ["at"]


def test_the_sdks_refusals_stay_the_sdks() -> None:
    from functions.store import wire

    with pytest.raises(ValueError, match="empty document"):
        wire.write_pbs("update", PATH, {})
    with pytest.raises(TypeError):
        wire.write_pbs("create", PATH, {"x": object()})


def test_each_client_has_its_own_stubs_and_they_go_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    from google.cloud import firestore

    from functions.store import wire

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # never called here
    one, other = firestore.Client(project="p1"), firestore.Client(project="p2")
    assert wire.stubs(one) is wire.stubs(one)
    assert wire.stubs(one) is not wire.stubs(other)
    assert wire.stubs(other).database == "projects/p2/databases/(default)"
    assert ("authorization", "Bearer owner") in wire.stubs(other).metadata
    gc.collect()  # clients of earlier tests
    before = len(wire._stubs)
    del one
    gc.collect()
    assert len(wire._stubs) == before - 1  # a new client can never get a dead one's stubs


@pytest.mark.parametrize("emulator", [True, False])
def test_the_channel_is_the_sdks_with_streams_read_on_the_calling_thread(
    monkeypatch: pytest.MonkeyPatch, emulator: bool
) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    from functions.store import wire

    if emulator:
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")
    else:
        monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
    database = firestore.Client(project="p", credentials=anonymous)
    wire.install_channel(database)
    transport = database._firestore_api._transport
    assert transport is database._transport
    assert transport._host == ("127.0.0.1:9" if emulator else "firestore.googleapis.com:443")
    call = transport.grpc_channel.unary_stream("/google.firestore.v1.Firestore/RunQuery")
    assert "SingleThreaded" in type(call).__name__  # no polling thread per stream


# --- retries: exactly the SDK's, per method ----------------------------------------------------


class _RpcError(Exception):
    """A gRPC error as a call raises it (an RpcError that is also a Call)."""

    def __init__(self, code: Any) -> None:
        super().__init__(code.name)
        self._code = code

    def code(self) -> Any:
        return self._code

    def details(self) -> str:
        return str(self._code.name)

    def trailing_metadata(self) -> tuple[()]:
        return ()


def _rpc_error(code: Any) -> Exception:
    import grpc  # type: ignore[import-untyped]

    kind = type("RpcError", (_RpcError, grpc.RpcError, grpc.Call), {})
    return kind(code)  # type: ignore[no-any-return]


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client made as the store makes it (no call leaves the process)."""
    from google.cloud import firestore

    from functions.store import wire

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "3")
    monkeypatch.setenv("GCLOUD_PROJECT", "demo-partner-api")
    made = firestore.Client(project="demo-partner-api")
    wire.install_channel(made)
    return made


@pytest.mark.parametrize(
    ("method", "retried"),
    [
        ("commit", {"RESOURCE_EXHAUSTED", "UNAVAILABLE"}),
        ("batch_get_documents", {"DEADLINE_EXCEEDED", "INTERNAL", "UNAVAILABLE"}),
        ("run_query", {"DEADLINE_EXCEEDED", "INTERNAL", "UNAVAILABLE"}),
    ],
)
def test_each_call_is_retried_exactly_as_the_sdk_retries_its_method(
    database: Any, method: str, retried: set[str]
) -> None:
    import grpc
    from google.api_core import exceptions
    from google.cloud.firestore_v1.services.firestore.transports.grpc import (
        FirestoreGrpcTransport,
    )

    from functions.store import wire

    rpc = wire.stubs(database)
    ours = {
        "commit": rpc.commit_retry,
        "batch_get_documents": rpc.batch_get_retry,
        "run_query": rpc.run_query_retry,
    }[method]
    # The SDK's own, from a transport the SDK makes itself (not the one we installed).
    fresh = FirestoreGrpcTransport(channel=grpc.insecure_channel("127.0.0.1:1"))
    sdk = fresh._wrapped_methods[getattr(fresh, method)]._retry  # type: ignore[attr-defined]
    assert (ours._initial, ours._maximum, ours._multiplier) == (
        sdk._initial, sdk._maximum, sdk._multiplier,
    )  # fmt: skip
    codes = [code for code in grpc.StatusCode if code is not grpc.StatusCode.OK]
    errors = {code.name: exceptions.from_grpc_status(code, "x") for code in codes}  # type: ignore[no-untyped-call]
    assert {name for name, error in errors.items() if ours._predicate(error)} == retried
    assert {name for name, error in errors.items() if sdk._predicate(error)} == retried


def test_a_commit_is_not_retried_on_internal_and_is_on_unavailable(database: Any) -> None:
    """A commit that failed with INTERNAL may have been applied: retried, a create would
    answer a conflict for its own write."""
    import grpc
    from google.api_core import exceptions

    from functions.store import wire

    rpc = wire.stubs(database)
    tries: list[float] = []

    def failing(*codes: Any) -> Any:
        pending = list(codes)

        def attempt(left: float) -> str:
            tries.append(left)
            if pending:
                raise _rpc_error(pending.pop(0))
            return "done"

        return attempt

    with pytest.raises(exceptions.InternalServerError):
        wire.call(failing(grpc.StatusCode.INTERNAL), rpc.commit_retry)
    assert len(tries) == 1
    tries.clear()
    assert wire.call(failing(grpc.StatusCode.UNAVAILABLE), rpc.commit_retry) == "done"
    assert len(tries) == 2
    assert all(0 < left <= 3.0 for left in tries)  # within FIRESTORE_TIMEOUT_S
    tries.clear()
    assert wire.call(failing(grpc.StatusCode.INTERNAL), rpc.batch_get_retry) == "done"
    assert len(tries) == 2  # a read is retried on INTERNAL, as the SDK does


def test_sdk_calls_get_the_sdks_retry_of_their_method_within_our_deadline(database: Any) -> None:
    import grpc
    from google.api_core import exceptions

    from functions.store import wire
    from functions.store.client import call_options

    options = call_options("commit")
    assert options["timeout"] == 3.0
    assert options["retry"]._timeout == 3.0
    internal = exceptions.from_grpc_status(grpc.StatusCode.INTERNAL, "x")  # type: ignore[no-untyped-call]
    unavailable = exceptions.from_grpc_status(grpc.StatusCode.UNAVAILABLE, "x")  # type: ignore[no-untyped-call]
    assert not options["retry"]._predicate(internal)
    assert options["retry"]._predicate(unavailable)
    assert call_options("run_aggregation_query")["retry"]._predicate(internal)
    with pytest.raises(RuntimeError, match="holds no retry for no_such_method"):
        wire.sdk_retry(database._firestore_api._transport, "no_such_method")


# --- the switch: the fast path, or the SDK's public API --------------------------------------


@pytest.fixture
def fresh_paths(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`functions.store.calls` as a new process finds it: no client judged, nothing said."""
    import threading
    import weakref

    from functions.store import calls

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "3")
    monkeypatch.setattr(calls, "_paths", weakref.WeakKeyDictionary())
    monkeypatch.setattr(calls, "_said", threading.Event())
    return calls


def test_the_installed_sdk_has_every_private_part_the_fast_path_reads(
    fresh_paths: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.store import wire

    made = fresh_paths.new_client("demo-partner-api")
    assert fresh_paths.fast(made) is True
    assert wire.surface_problems(made, install=False) == []
    assert "firestore_fast_path_off" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "part",
    [
        ("google.cloud.firestore_v1.base_client", "_GRPC_MSG_SIZE_OPTIONS", "channel"),
        ("google.cloud.firestore_v1._helpers", "pbs_for_update", "writes"),
        ("google.cloud.firestore_v1._helpers", "decode_dict", "reads"),
        ("google.cloud.firestore_v1.base_query.BaseQuery", "_to_protobuf", "queries"),
    ],
)
def test_a_missing_private_part_falls_back_to_the_sdk_with_one_log_line(
    fresh_paths: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    part: tuple[str, str, str],
) -> None:
    """An SDK upgrade that renames one part the fast path reads: the check finds it before
    any call, the client is a plain SDK client, and the process says so once."""
    import importlib
    import json

    module, name, probe = part
    owner_name, _, attribute = f"{module}.{name}".rpartition(".")
    try:
        owner: Any = importlib.import_module(owner_name)
    except ModuleNotFoundError:
        parent, _, cls = owner_name.rpartition(".")
        owner = getattr(importlib.import_module(parent), cls)
    monkeypatch.delattr(owner, attribute)
    made = fresh_paths.new_client("demo-partner-api")
    again = fresh_paths.new_client("demo-partner-api")
    assert (fresh_paths.fast(made), fresh_paths.fast(again)) == (False, False)
    assert not hasattr(made, "_transport"), "a plain client: no channel of ours half-installed"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    said = [line for line in lines if line.get("code") == "firestore_fast_path_off"]
    assert len(said) == 1, lines
    assert f"{probe}: " in said[0]["message"]
    assert attribute in said[0]["message"]
    assert said[0]["severity"] == "WARNING"


def test_the_switch_off_serves_every_client_through_the_sdk(
    fresh_paths: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from google.cloud import firestore

    from functions.store.calls import SdkWrite

    monkeypatch.setenv("FIRESTORE_FAST_PATH", "false")
    made = fresh_paths.new_client("demo-partner-api")
    elsewhere = firestore.Client(project="demo-partner-api")  # the tools' own
    assert (fresh_paths.fast(made), fresh_paths.fast(elsewhere)) == (False, False)
    reference = made.collection("entries").document("abc")
    assert fresh_paths.write(made, "create", reference, {"a": 1}) == SdkWrite(
        "create", reference, {"a": 1}, None
    )
    options = fresh_paths.options(made, "commit")
    assert options["timeout"] == 3.0
    assert options["retry"]._timeout == 3.0
    assert "firestore_fast_path_off" not in capsys.readouterr().out
    monkeypatch.setenv("FIRESTORE_FAST_PATH", "sometimes")  # a typo keeps the default
    assert fresh_paths.fast(fresh_paths.new_client("demo-partner-api")) is True


@pytest.mark.parametrize(
    ("method", "retried"),
    [
        ("commit", {"RESOURCE_EXHAUSTED", "UNAVAILABLE"}),
        ("batch_get_documents", {"DEADLINE_EXCEEDED", "INTERNAL", "UNAVAILABLE"}),
        ("run_query", {"DEADLINE_EXCEEDED", "INTERNAL", "UNAVAILABLE"}),
        ("run_aggregation_query", {"DEADLINE_EXCEEDED", "INTERNAL", "UNAVAILABLE"}),
    ],
)
def test_the_sdk_path_retries_each_method_as_the_fast_path_does(
    fresh_paths: Any, monkeypatch: pytest.MonkeyPatch, method: str, retried: set[str]
) -> None:
    """The public path's retries are the SDK transport's defaults, which the fast path
    reads from the transport itself: the same errors retried for every method."""
    import grpc
    from google.api_core import exceptions

    fast = fresh_paths.new_client("demo-partner-api")
    monkeypatch.setenv("FIRESTORE_FAST_PATH", "false")
    monkeypatch.setattr(fresh_paths, "_paths", type(fresh_paths._paths)())
    public = fresh_paths.options(None, method)["retry"]
    monkeypatch.setenv("FIRESTORE_FAST_PATH", "true")
    monkeypatch.setattr(fresh_paths, "_paths", type(fresh_paths._paths)())
    own = fresh_paths.options(fast, method)["retry"]
    for code in grpc.StatusCode:
        error = exceptions.from_grpc_status(code, "x")  # type: ignore[no-untyped-call]
        assert public._predicate(error) == own._predicate(error), code
        assert public._predicate(error) == (code.name in retried), code
