"""The store's calls to Firestore, by one of two paths: the fast one (`wire`: plain
protobuf messages on the SDK's channel) or the SDK's public API alone.

The fast path relies on the SDK's private surface. Each client is checked once, before
its first call (`wire.surface_problems`); a client found wanting, or every client with
FIRESTORE_FAST_PATH=false, goes through the SDK's public API: the same writes,
preconditions, reads and errors, at the SDK's cost. The fall-back is said in one log line
(`firestore_fast_path_off`), once per process.

On the public path each call is retried as the SDK's generated transport retries that
method by default (its errors, its backoff), within our own deadline
(FIRESTORE_TIMEOUT_S): the same policy the fast path reads from the transport itself.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from functions.core import config, logs
from functions.store import wire

if TYPE_CHECKING:
    from google.cloud import firestore

_WRITES_RETRIED: Final = ("ResourceExhausted", "ServiceUnavailable")
"""A commit is retried only on errors that mean it was not applied."""
_READS_RETRIED: Final = ("DeadlineExceeded", "InternalServerError", "ServiceUnavailable")
_READS: Final = frozenset({"batch_get_documents", "run_query", "run_aggregation_query"})

_paths: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_said = threading.Event()


def new_client(project: str, name: str = "(default)") -> firestore.Client:
    """A client for database `name` of `project` on the path it can take: the fast one with
    its channel installed when the switch is on and the SDK's surface checks out, else a
    plain SDK client (a new one, if a failed check left the first half changed)."""
    from google.cloud import firestore  # noqa: PLC0415 - keeps main.py imports fast

    database = firestore.Client(project=project, database=name)
    if not config.firestore_fast_path():
        _paths[database] = False
        return database
    problems = wire.surface_problems(database)
    if not problems:
        _paths[database] = True
        return database
    _fall_back(problems)
    database = firestore.Client(project=project, database=name)
    _paths[database] = False
    return database


def fast(database: Any) -> bool:
    """Whether `database` takes the fast path (a client made elsewhere, the tools', is
    checked on its first call, its channel left as the SDK made it)."""
    found = _paths.get(database)
    if found is None:
        if not config.firestore_fast_path():
            found = _paths[database] = False
            return found
        problems = wire.surface_problems(database, install=False)
        if problems:
            _fall_back(problems)
        found = _paths[database] = not problems
    return found


def _fall_back(problems: list[str]) -> None:
    if _said.is_set():
        return
    _said.set()
    logs.log(
        "WARNING",
        "Firestore's fast path is off: the installed google-cloud-firestore is not the one "
        f"functions/store/wire.py expects ({'; '.join(problems)}); every call goes through "
        "the SDK's public API",
        code="firestore_fast_path_off",
    )


@dataclass(frozen=True, slots=True)
class SdkWrite:
    """A write kept for the SDK's batch (the public path)."""

    kind: str
    reference: Any
    data: Mapping[str, Any] | None
    update_time: dt.datetime | None


def write(
    database: Any,
    kind: str,
    reference: firestore.DocumentReference,
    data: Mapping[str, Any] | None = None,
    *,
    update_time: dt.datetime | None = None,
) -> Any:
    """A create, set, update or delete of `reference`, for `commit`; `update_time` is the
    precondition of an update or delete (else an update needs the document to exist)."""
    if fast(database):
        return wire.write_pbs(kind, reference, data, update_time=update_time)
    if kind not in {"create", "set", "update", "delete"}:
        raise ValueError(kind)
    if data is not None:  # our geopoints and references as the SDK's classes
        data = wire.sdk_value(dict(data), wire.root_of(reference._document_path))  # noqa: SLF001
    return SdkWrite(kind, reference, data, update_time)


def commit(database: Any, writes: Sequence[Any]) -> list[dt.datetime]:
    """Commit `writes` in one request: each write's update time, in order."""
    if fast(database):
        return wire.commit(database, writes)
    batch = database.batch()
    for item in writes:
        option = (
            database.write_option(last_update_time=item.update_time)
            if item.update_time is not None
            else None
        )
        if item.kind == "create":
            batch.create(item.reference, item.data)
        elif item.kind == "set":
            batch.set(item.reference, item.data)
        elif item.kind == "update":
            batch.update(item.reference, item.data, option=option)
        else:
            batch.delete(item.reference, option=option)
    results = batch.commit(**options(database, "commit"))
    return [result.update_time for result in results]


def get_all(database: Any, references: Iterable[firestore.DocumentReference]) -> list[Any]:
    """Snapshots of `references` (existing or not) from one batched get, in no set order."""
    if fast(database):
        return wire.get_all(database, references)
    return list(database.get_all(list(references), **options(database, "batch_get_documents")))


def get(reference: firestore.DocumentReference) -> Any:
    """One document's snapshot (`exists` False when there is none)."""
    database = getattr(reference, "_client", None)  # the SDK has no public name for it
    if database is not None and fast(database):
        return wire.get(reference)
    return reference.get(**options(None, "batch_get_documents"))


def stream(query: firestore.Query) -> list[Any]:
    """Every snapshot `query` finds, from one RunQuery."""
    database = getattr(getattr(query, "_parent", None), "_client", None)
    if database is not None and fast(database):
        return wire.stream(query)
    return list(query.get(**options(None, "run_query")))  # `stream` refuses limit_to_last


def options(database: Any | None, method: str) -> dict[str, Any]:
    """The deadline of a call made through the SDK (a transport method: `commit`,
    `run_aggregation_query`), and its retry: the SDK's own, within that deadline."""
    from google.api_core import exceptions  # noqa: PLC0415
    from google.api_core.retry import Retry, if_exception_type  # noqa: PLC0415

    timeout = config.firestore_timeout_s()
    if database is not None and fast(database):
        retry = wire.sdk_retry(database._firestore_api._transport, method)  # noqa: SLF001
        return {"timeout": timeout, "retry": retry.with_timeout(timeout)}
    names = _READS_RETRIED if method in _READS else _WRITES_RETRIED
    retried = if_exception_type(*(getattr(exceptions, name) for name in names))
    retry = Retry(initial=0.1, maximum=60.0, multiplier=1.3, predicate=retried)
    return {"timeout": timeout, "retry": retry.with_timeout(timeout)}
