"""Firestore's RPCs on the client's own gRPC channel, with plain protobuf messages.

The SDK wraps every request and answer in proto-plus messages and builds each write through
a generic field extractor: the two writes of a create (the record and its event) took
430 µs to build that way, and take 35 µs as plain messages. So the hot calls (commit,
batched gets and queries) go through here: the same channel (and so the same
credentials), the same metadata, deadline, retries and errors as the SDK's calls.
Whatever this module does not encode itself (sentinels such as `SERVER_TIMESTAMP`, geo
points, references, update paths with dots) is encoded by the SDK's own helpers, so every
value the SDK accepts is written exactly as the SDK writes it.

The SDK's clients, references and queries are read here through their private attributes
(the channel, the metadata, each method's retry, a query's message): this module is the
one place that does, and `surface_problems` checks every one of them on a new client
before its first call; where one is missing (an SDK upgrade), `functions.store.calls`
serves that client through the SDK's public API instead, as it does for every client
with FIRESTORE_FAST_PATH=false. Each call is retried exactly as the SDK retries that
method (read from its transport), within our own deadline (FIRESTORE_TIMEOUT_S).
"""

# ruff: noqa: SLF001

from __future__ import annotations

import datetime as dt
import functools
import re
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from functions.core import config
from functions.core.models import DocumentPath, GeoPoint

if TYPE_CHECKING:
    from google.cloud import firestore
    from google.cloud.firestore_v1.types.write import Write

T = TypeVar("T")

_SIMPLE_FIELD: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""A top-level field name an update mask can hold as it is (no dots, no quoting)."""


class Unsupported(Exception):
    """A value this module leaves to the SDK's encoder."""


# --- encoding ----------------------------------------------------------------------------------


def encode(value: Any, out: Any, root: str = "") -> None:
    """Write `value` into the `google.firestore.v1.Value` message `out`, as the SDK's
    `encode_value` would; Unsupported for anything but plain JSON-like values, times and
    our geopoints and references (`root`: the database's `.../documents/` prefix)."""
    kind = type(value)
    if kind is str:
        out.string_value = value
    elif kind is bool:
        out.boolean_value = value
    elif kind is int:
        out.integer_value = value
    elif kind is float:
        out.double_value = value
    elif value is None:
        out.null_value = 0
    elif kind is dict:
        out.map_value.SetInParent()
        fields = out.map_value.fields
        for key, item in value.items():
            if type(key) is not str:
                raise Unsupported
            encode(item, fields[key], root)
    elif kind is list:
        out.array_value.SetInParent()
        values = out.array_value.values
        for item in value:
            encode(item, values.add(), root)
    elif kind is GeoPoint:
        out.geo_point_value.latitude = value.latitude
        out.geo_point_value.longitude = value.longitude
    elif kind is DocumentPath:
        if not root:
            raise Unsupported
        out.reference_value = root + value.path
    elif kind is dt.datetime:
        _timestamp(value, out.timestamp_value)
    elif hasattr(value, "timestamp_pb") and isinstance(value, dt.datetime):
        out.timestamp_value.CopyFrom(value.timestamp_pb())  # type: ignore[attr-defined]
    else:
        raise Unsupported


def _timestamp(moment: dt.datetime, out: Any) -> None:
    """As the SDK does: a naive time is UTC, and microseconds are kept exactly."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    delta = moment - _EPOCH
    out.seconds = delta.days * 86400 + delta.seconds
    out.nanos = delta.microseconds * 1000


_EPOCH: Final = dt.datetime(1970, 1, 1)


def _fields(data: Mapping[str, Any], document: Any, root: str) -> None:
    fields = document.fields
    for key, item in data.items():
        if type(key) is not str:
            raise Unsupported
        encode(item, fields[key], root)


def field_path(name: str) -> str:
    """A top-level field name as the SDK's paths write it: as it is when simple, else
    quoted in backticks (`my-field`)."""
    if _SIMPLE_FIELD.match(name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def root_of(document_path: str) -> str:
    """`projects/p/databases/d/documents/` of a document's full name."""
    head, _, _ = document_path.partition("/documents/")
    return head + "/documents/"


def sdk_value(value: Any, root: str) -> Any:
    """`value` with our geopoints and references as the SDK's classes (a reference made
    without a client, its full name given, as the SDK's encoder reads it)."""
    from google.cloud.firestore_v1 import DocumentReference  # noqa: PLC0415
    from google.cloud.firestore_v1 import GeoPoint as SdkGeoPoint  # noqa: PLC0415

    kind = type(value)
    if kind is dict:
        return {key: sdk_value(item, root) for key, item in value.items()}
    if kind is list:
        return [sdk_value(item, root) for item in value]
    if kind is GeoPoint:
        return SdkGeoPoint(value.latitude, value.longitude)
    if kind is DocumentPath:
        reference = DocumentReference(*value.path.split("/"))
        reference._document_path_internal = root + value.path
        return reference
    return value


def _sdk_write(kind: str, path: str, data: Mapping[str, Any] | None, option: Any) -> Any:
    """The SDK's own write message for what `encode` leaves to it (one a change, its
    transforms included)."""
    from google.cloud.firestore_v1 import _helpers  # noqa: PLC0415
    from google.cloud.firestore_v1.types.write import Write  # noqa: PLC0415

    if data is not None:
        data = sdk_value(dict(data), root_of(path))

    if kind == "create":
        writes = _helpers.pbs_for_create(path, data)
    elif kind == "set":
        writes = _helpers.pbs_for_set_no_merge(path, data)
    else:
        writes = _helpers.pbs_for_update(path, data, option)
    (write,) = writes
    return Write.pb(write)


def write_pbs(
    kind: str,
    document: firestore.DocumentReference | str,
    data: Mapping[str, Any] | None = None,
    *,
    update_time: dt.datetime | None = None,
) -> Any:
    """The write message for a create, set, update or delete of `document` (a reference
    or its full name); `update_time` is the precondition of an update or delete (else an
    update needs the document to exist)."""
    path = document if isinstance(document, str) else document._document_path
    write = _write_class()()
    try:
        if kind == "delete":
            write.delete = path
        elif kind in {"create", "set"}:
            assert data is not None
            write.update.name = path
            _fields(data, write.update, root_of(path))
            if kind == "create":
                write.current_document.exists = False
        elif kind == "update":
            assert data is not None
            if not data or not all(type(key) is str and _SIMPLE_FIELD.match(key) for key in data):
                raise Unsupported  # a field path
            write.update.name = path
            for key, item in data.items():
                if type(item) is dict:
                    raise Unsupported  # a map replaced by an update
                encode(item, write.update.fields[key], root_of(path))
            write.update_mask.field_paths.extend(sorted(data))
        else:
            raise ValueError(kind)
    except Unsupported:  # never for a delete
        return _sdk_write(kind, path, data, _option(update_time))
    if kind in {"update", "delete"}:
        if update_time is not None:  # to the microsecond, as the SDK sends it
            _timestamp(update_time, write.current_document.update_time)
        elif kind == "update":
            write.current_document.exists = True
    return write


def _option(update_time: dt.datetime | None) -> Any:
    if update_time is None:
        return None
    from google.cloud.firestore_v1._helpers import LastUpdateOption  # noqa: PLC0415

    return LastUpdateOption(update_time)


@functools.cache
def _write_class() -> type[Write]:
    """The plain `Write` message class (the SDK's types are imported on first use)."""
    from google.cloud.firestore_v1.types.write import Write  # noqa: PLC0415

    return Write.pb()  # type: ignore[no-any-return]


# --- calls -------------------------------------------------------------------------------------


def install_channel(database: firestore.Client) -> None:
    """Give a new client the channel the SDK would make, plus one option: a stream (a
    batched get, a query) is read on the calling thread instead of through the channel's
    polling thread, which started and stopped around every call and doubled a stream's CPU
    (600 to 300 µs for a get of two documents). The SDK and this module share it."""
    import grpc  # type: ignore[import-untyped]  # noqa: PLC0415
    from google.cloud.firestore_v1 import base_client  # noqa: PLC0415
    from google.cloud.firestore_v1.services.firestore import client as gapic  # noqa: PLC0415
    from google.cloud.firestore_v1.services.firestore.transports.grpc import (  # noqa: PLC0415
        FirestoreGrpcTransport,
    )

    single_threaded = (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1)
    if database._emulator_host is not None:  # as `BaseClient._emulator_channel`
        token = getattr(database._credentials, "id_token", None) or "owner"
        channel = grpc.insecure_channel(
            database._emulator_host,
            options=[
                ("Authorization", f"Bearer {token}"),
                *base_client._GRPC_MSG_SIZE_OPTIONS,
                single_threaded,
            ],
        )
    else:  # as `BaseClient._firestore_api_helper`
        channel = FirestoreGrpcTransport.create_channel(
            database._target,
            credentials=database._credentials,
            options=[*base_client._DEFAULT_CHANNEL_OPTIONS, single_threaded],
        )
    database._transport = FirestoreGrpcTransport(host=database._target, channel=channel)
    database._firestore_api_internal = gapic.FirestoreClient(
        transport=database._transport, client_options=database._client_options
    )
    gapic._client_info = database._client_info  # type: ignore[attr-defined]


class _Stubs:
    """One client's plain-message RPCs, made once (stubs cost nothing to call)."""

    def __init__(self, database: firestore.Client) -> None:
        from google.api_core.gapic_v1 import routing_header  # noqa: PLC0415
        from google.cloud.firestore_v1.types import firestore as messages  # noqa: PLC0415

        channel = database._firestore_api._transport.grpc_channel
        service = "/google.firestore.v1.Firestore/"
        self.commit = channel.unary_unary(
            service + "Commit",
            request_serializer=messages.CommitRequest.pb().SerializeToString,
            response_deserializer=messages.CommitResponse.pb().FromString,
        )
        self.batch_get = channel.unary_stream(
            service + "BatchGetDocuments",
            request_serializer=messages.BatchGetDocumentsRequest.pb().SerializeToString,
            response_deserializer=messages.BatchGetDocumentsResponse.pb().FromString,
        )
        self.run_query = channel.unary_stream(
            service + "RunQuery",
            request_serializer=messages.RunQueryRequest.pb().SerializeToString,
            response_deserializer=messages.RunQueryResponse.pb().FromString,
        )
        transport = database._firestore_api._transport
        self.commit_retry = sdk_retry(transport, "commit")
        self.batch_get_retry = sdk_retry(transport, "batch_get_documents")
        self.run_query_retry = sdk_retry(transport, "run_query")
        self.commit_request = messages.CommitRequest.pb()
        self.batch_get_request = messages.BatchGetDocumentsRequest.pb()
        self.run_query_request = messages.RunQueryRequest.pb()
        self.database = database._database_string
        self.metadata = (
            *database._rpc_metadata,
            routing_header.to_grpc_metadata((("database", self.database),)),  # type: ignore[no-untyped-call]
        )


_stubs: weakref.WeakKeyDictionary[firestore.Client, _Stubs] = weakref.WeakKeyDictionary()


def stubs(database: firestore.Client) -> _Stubs:
    """The client's stubs, made on its first call (and gone with the client)."""
    found = _stubs.get(database)
    if found is None:
        found = _stubs[database] = _Stubs(database)
    return found


def sdk_retry(transport: Any, method: str) -> Any:
    """The retry the SDK's transport gives `method` (what its own calls use unless told
    otherwise): which errors are tried again, and the backoff. A commit is retried only
    on errors that mean it was not applied (RESOURCE_EXHAUSTED, UNAVAILABLE); reads on
    more (INTERNAL, DEADLINE_EXCEEDED too).

    Raises: RuntimeError when the transport no longer keeps it where this reads it (an
    SDK upgrade): said at the first call, never guessed at.
    """
    from google.api_core.retry import Retry  # noqa: PLC0415

    wrapped = getattr(transport, "_wrapped_methods", {}).get(getattr(transport, method, None))
    retry = getattr(wrapped, "_retry", None)
    if not isinstance(retry, Retry):
        raise RuntimeError(
            f"google-cloud-firestore's transport holds no retry for {method}: check "
            "functions/store/wire.py against the installed SDK"
        )
    return retry


def call(attempt: Callable[[float], T], retry: Any) -> T:
    """`attempt(seconds left)` within the Firestore deadline, tried again as `retry` (the
    SDK's own for the method) says, until the deadline; gRPC errors come out as the SDK's
    exceptions (`google.api_core.exceptions`)."""
    import grpc  # noqa: PLC0415
    from google.api_core import exceptions  # noqa: PLC0415

    timeout = config.firestore_timeout_s()
    deadline = time.monotonic() + timeout

    def once() -> T:
        try:
            return attempt(max(deadline - time.monotonic(), 0.001))
        except grpc.RpcError as exc:
            raise exceptions.from_grpc_error(exc) from exc  # type: ignore[no-untyped-call]

    return retry.with_timeout(timeout)(once)()  # type: ignore[no-any-return]


def commit(database: firestore.Client, writes: Sequence[Any]) -> list[dt.datetime]:
    """Commit `writes` (plain write messages) in one request: each write's update time."""
    rpc = stubs(database)
    request = rpc.commit_request(database=rpc.database, writes=writes)
    response = call(
        lambda left: rpc.commit(request, timeout=left, metadata=rpc.metadata), rpc.commit_retry
    )
    return [_time(result.update_time) for result in response.write_results]


def get_all(
    database: firestore.Client, references: Iterable[firestore.DocumentReference]
) -> list[Any]:
    """Snapshots of `references` (existing or not) from one batched get, in no set order."""
    from google.cloud.firestore_v1 import _helpers  # noqa: PLC0415
    from google.cloud.firestore_v1.base_document import DocumentSnapshot  # noqa: PLC0415

    rpc = stubs(database)
    by_path = {reference._document_path: reference for reference in references}
    request = rpc.batch_get_request(database=rpc.database, documents=list(by_path))

    def attempt(left: float) -> list[Any]:
        return list(rpc.batch_get(request, timeout=left, metadata=rpc.metadata))

    snapshots = []
    for answer in call(attempt, rpc.batch_get_retry):
        read_time = _time(answer.read_time)
        if answer.WhichOneof("result") == "found":
            found = answer.found
            snapshots.append(
                DocumentSnapshot(
                    by_path[found.name],
                    _helpers.decode_dict(found.fields, database),
                    exists=True,
                    read_time=read_time,
                    create_time=_time(found.create_time),
                    update_time=_time(found.update_time),
                )
            )
        else:
            snapshots.append(
                DocumentSnapshot(
                    by_path[answer.missing],
                    None,
                    exists=False,
                    read_time=read_time,
                    create_time=None,
                    update_time=None,
                )
            )
    return snapshots


def get(reference: firestore.DocumentReference) -> Any:
    """One document's snapshot (`exists` False when there is none)."""
    (snapshot,) = get_all(reference._client, [reference])
    return snapshot


def stream(query: firestore.Query) -> list[Any]:
    """Every snapshot `query` finds, from one RunQuery; a collection-group query or one
    limited to its last results goes through the SDK."""
    from google.cloud.firestore_v1 import _helpers  # noqa: PLC0415
    from google.cloud.firestore_v1.base_document import DocumentSnapshot  # noqa: PLC0415
    from google.cloud.firestore_v1.query import Query  # noqa: PLC0415
    from google.cloud.firestore_v1.types.query import StructuredQuery  # noqa: PLC0415

    if not isinstance(query, Query) or query._all_descendants or query._limit_to_last:
        timeout = config.firestore_timeout_s()
        retry = sdk_retry(query._client._firestore_api._transport, "run_query")
        # `get`, not `stream`: the SDK streams no query limited to its last results.
        found = list(query.get(timeout=timeout, retry=retry.with_timeout(timeout)))
        for snapshot in found:  # a collection group's carry protobuf times: as ours
            for name in ("read_time", "create_time", "update_time"):
                stamp = getattr(snapshot, name, None)
                if stamp is not None and not isinstance(stamp, dt.datetime):
                    setattr(snapshot, name, _time(stamp))
        return found
    collection = query._parent
    database = collection._client
    rpc = stubs(database)
    parent, prefix = collection._parent_info()
    request = rpc.run_query_request(
        parent=parent, structured_query=StructuredQuery.pb(query._to_protobuf())
    )

    def attempt(left: float) -> list[Any]:
        return list(rpc.run_query(request, timeout=left, metadata=rpc.metadata))

    snapshots = []
    start = len(prefix) + 1
    for answer in call(attempt, rpc.run_query_retry):
        if not answer.HasField("document"):
            continue
        found = answer.document
        if not found.name.startswith(prefix + "/"):
            raise ValueError(f"Unexpected document name {found.name!r} for {prefix!r}")
        snapshots.append(
            DocumentSnapshot(
                collection.document(found.name[start:]),
                _helpers.decode_dict(found.fields, database),
                exists=True,
                read_time=_time(answer.read_time),
                create_time=_time(found.create_time),
                update_time=_time(found.update_time),
            )
        )
    return snapshots


def _time(stamp: Any) -> dt.datetime:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds  # noqa: PLC0415

    return DatetimeWithNanoseconds.from_timestamp_pb(stamp)  # type: ignore[no-any-return,no-untyped-call]


# --- the SDK's private surface, checked once -------------------------------------------------


def surface_problems(database: firestore.Client, *, install: bool = True) -> list[str]:
    """What of the SDK's private surface this module relies on is missing or changed, one
    line each (empty when all of it is there), checked on a new client before its first
    call and without one: its channel is installed (`install_channel`), its stubs and
    retries read, a write of each kind built (one through the SDK's own encoder), and a
    snapshot, a query message and an update time made. With `install` False (a client
    that has made calls already, the tools') its channel is left as the SDK made it. A
    client found wanting is left to the SDK (`functions.store.calls`)."""
    from google.cloud.firestore import SERVER_TIMESTAMP, FieldFilter  # noqa: PLC0415
    from google.cloud.firestore_v1 import _helpers  # noqa: PLC0415
    from google.cloud.firestore_v1.base_document import DocumentSnapshot  # noqa: PLC0415
    from google.cloud.firestore_v1.types.query import StructuredQuery  # noqa: PLC0415

    # The probes' sample values are never sent: a mutation of one changes nothing.
    # pragma: no mutate start
    try:
        reference = database.collection("surface").document("probe")
    except Exception as exc:  # noqa: BLE001 - said like every other probe's failure
        return [f"references: {type(exc).__name__}: {exc}"]
    now = dt.datetime.now(dt.UTC)

    def writes() -> None:
        write_pbs("create", reference, {"a": 1, "at": SERVER_TIMESTAMP})
        write_pbs("update", reference, {"a.b": 1}, update_time=now)
        write_pbs("set", reference, {"a": [1.5, None]})
        write_pbs("delete", reference, update_time=now)

    def reads() -> None:
        DocumentSnapshot(
            reference,
            _helpers.decode_dict({}, database),
            exists=True,
            read_time=_time(_write_class()().current_document.update_time),
            create_time=None,
            update_time=None,
        )
        (reference._document_path, reference._client)  # noqa: B018 - what `get` reads

    def queries() -> None:
        query: Any = database.collection("surface").where(filter=FieldFilter("a", "==", 1)).limit(1)
        (query._all_descendants, query._limit_to_last)  # noqa: B018
        query._parent._parent_info()
        StructuredQuery.pb(query._to_protobuf())

    # pragma: no mutate end

    def retries() -> None:
        transport = database._firestore_api._transport
        for method in ("commit", "batch_get_documents", "run_query", "run_aggregation_query"):
            sdk_retry(transport, method)

    probes: tuple[tuple[str, Callable[[], Any]], ...] = (
        *((("channel", lambda: install_channel(database)),) if install else ()),
        ("stubs", lambda: _Stubs(database)),
        ("retries", retries),
        ("writes", writes),
        ("reads", reads),
        ("queries", queries),
    )
    problems = []
    for name, probe in probes:
        try:
            probe()
        except Exception as exc:  # noqa: BLE001 - any failure is a reason to leave it to the SDK
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    return problems
