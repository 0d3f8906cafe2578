"""Firestore's gRPC service in memory, for unit tests of the code that talks to it.

The client under test is the real SDK client with the real channel (pointed here through
FIRESTORE_EMULATOR_HOST), so every request is a real protobuf on a real gRPC call. The
service keeps documents by name and applies a commit as Firestore does: all its writes or
none, with the preconditions a write carries (must exist, must not exist, unchanged since
an update time), an update mask, and server timestamps. A batched get answers found and
missing documents. A query answers what the test queued for it (this service evaluates no
filters: the emulator suite runs real queries). Each request is recorded, and a test can
queue gRPC failures that the next calls answer with, or delays before they answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.cloud.firestore_v1.types import document as document_types
from google.cloud.firestore_v1.types import firestore as messages
from google.cloud.firestore_v1.types import write as write_types
from google.protobuf import timestamp_pb2

SERVICE = "google.firestore.v1.Firestore"
Document = document_types.Document.pb()
WriteResult = write_types.WriteResult.pb()


@dataclass
class MemoryFirestore:
    """The documents (full names to `Document` messages) and what was asked of them."""

    documents: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    failures: list[grpc.StatusCode] = field(default_factory=list)
    """Codes the next calls fail with, first one first."""
    delays: list[float] = field(default_factory=list)
    """Seconds the next calls wait before they answer, first one first."""
    query_answers: list[list[Any]] = field(default_factory=list)
    """Per RunQuery call, the `RunQueryResponse` messages it streams back."""
    seconds: int = 1_800_000_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> Any:
        self.seconds += 1
        return timestamp_pb2.Timestamp(seconds=self.seconds, nanos=123456000)

    def calls(self, method: str) -> list[Any]:
        return [request for name, request in self.requests if name == method]

    def _heard(self, method: str, request: Any, context: Any) -> None:
        with self.lock:
            self.requests.append((method, request))
            self.metadata.append(dict(context.invocation_metadata()))
            code = self.failures.pop(0) if self.failures else None
            delay = self.delays.pop(0) if self.delays else 0.0
        time.sleep(delay)
        if code is not None:
            context.abort(code, f"{method} failed as the test asked ({code.name})")

    # --- the RPCs ------------------------------------------------------------------------

    def commit(self, request: Any, context: Any) -> Any:
        self._heard("Commit", request, context)
        with self.lock:
            staged = dict(self.documents)
            now = self.now()
            results = []
            for write in request.writes:
                problem = self._apply(write, staged, now)
                if problem is not None:
                    context.abort(*problem)
                results.append(WriteResult(update_time=now))
            self.documents = staged
        return messages.CommitResponse.pb()(write_results=results, commit_time=now)

    def _apply(self, write: Any, staged: dict[str, Any], now: Any) -> tuple[Any, str] | None:
        operation = write.WhichOneof("operation")
        name = write.update.name if operation == "update" else write.delete
        existing = staged.get(name)
        condition = write.current_document
        if condition.HasField("exists"):
            if condition.exists and existing is None:
                return grpc.StatusCode.NOT_FOUND, f"no entity to update: {name}"
            if not condition.exists and existing is not None:
                return grpc.StatusCode.ALREADY_EXISTS, f"entity already exists: {name}"
        if condition.HasField("update_time") and (
            existing is None or existing.update_time != condition.update_time
        ):
            return grpc.StatusCode.FAILED_PRECONDITION, f"the stored version differs: {name}"
        if operation == "delete":
            staged.pop(name, None)
            return None
        document = Document()
        if write.HasField("update_mask") and existing is not None:
            document.CopyFrom(existing)
            for path in write.update_mask.field_paths:
                if path in write.update.fields:
                    document.fields[path].CopyFrom(write.update.fields[path])
                else:
                    document.fields.pop(path, None)
        else:
            for key, value in write.update.fields.items():
                document.fields[key].CopyFrom(value)
        for transform in write.update_transforms:
            if transform.WhichOneof("transform_type") != "set_to_server_value":
                return grpc.StatusCode.UNIMPLEMENTED, "only server timestamps are kept here"
            document.fields[transform.field_path].timestamp_value.CopyFrom(now)
        document.name = name
        document.create_time.CopyFrom(existing.create_time if existing is not None else now)
        document.update_time.CopyFrom(now)
        staged[name] = document
        return None

    def batch_get(self, request: Any, context: Any) -> Iterator[Any]:
        self._heard("BatchGetDocuments", request, context)
        answer = messages.BatchGetDocumentsResponse.pb()
        with self.lock:
            read_time = self.now()
            found = {name: self.documents.get(name) for name in request.documents}
        for name, document in found.items():
            if document is None:
                yield answer(missing=name, read_time=read_time)
            else:
                yield answer(found=document, read_time=read_time)

    def run_query(self, request: Any, context: Any) -> Iterator[Any]:
        self._heard("RunQuery", request, context)
        with self.lock:
            answers = self.query_answers.pop(0) if self.query_answers else []
        yield from answers

    # --- serving -------------------------------------------------------------------------

    def handler(self) -> Any:
        def unary(method: Any, request: Any, response: Any) -> Any:
            return grpc.unary_unary_rpc_method_handler(
                method,
                request_deserializer=request.FromString,
                response_serializer=response.SerializeToString,
            )

        def streamed(method: Any, request: Any, response: Any) -> Any:
            return grpc.unary_stream_rpc_method_handler(
                method,
                request_deserializer=request.FromString,
                response_serializer=response.SerializeToString,
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Commit": unary(
                    self.commit, messages.CommitRequest.pb(), messages.CommitResponse.pb()
                ),
                "BatchGetDocuments": streamed(
                    self.batch_get,
                    messages.BatchGetDocumentsRequest.pb(),
                    messages.BatchGetDocumentsResponse.pb(),
                ),
                "RunQuery": streamed(
                    self.run_query, messages.RunQueryRequest.pb(), messages.RunQueryResponse.pb()
                ),
            },
        )


def serve(service: MemoryFirestore) -> tuple[Any, str]:
    """A gRPC server of `service` on a free loopback port: the server and its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((service.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"
