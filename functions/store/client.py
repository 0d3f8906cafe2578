"""The Firestore client, its call options, backend errors, and the unit of work.

The client is created on first use: the Firebase CLI imports `main.py` with no
credentials to discover functions. `google.cloud.firestore.Client` honours
FIRESTORE_EMULATOR_HOST by itself, so no code here knows whether it runs on the emulator.

Two databases of one project: the live one, `(default)`, and test mode's (`sandbox`, a
named database with the same rules and indexes). A call's records, events, deliveries,
limits and usage go to the database of its mode, which the gate enters from the
credential (`enter_database`); the directory of partners, keys and partner users is the
live database's (`directory()`), so that one key or one suspension holds in both modes.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.core import config, logs
from functions.core.errors import ServiceUnavailable
from functions.store import calls

if TYPE_CHECKING:
    from google.cloud import firestore

_clients: dict[tuple[str, str | None, str], firestore.Client] = {}
_clients_lock = threading.Lock()
_database: contextvars.ContextVar[str] = contextvars.ContextVar(
    "partner_api_database", default=config.LIVE_DATABASE
)


def client(database: str | None = None) -> firestore.Client:
    """The Firestore client of `database`, else of the running call's mode (the live
    database unless a test credential chose the sandbox), created once each."""
    name = database or _database.get()
    key = (config.project_id(), config.firestore_emulator_host(), name)
    with _clients_lock:
        existing = _clients.get(key)
        if existing is None:
            existing = _clients[key] = calls.new_client(key[0], name)
        return existing


def directory() -> firestore.Client:
    """The live database's client: partners, API keys and partner users, of both modes."""
    return client(config.LIVE_DATABASE)


def current_database() -> str:
    """The database the running call's records go to."""
    return _database.get()


def database_name(database: firestore.Client) -> str:
    """The database a client was made for."""
    return str(getattr(database, "_database", None) or config.LIVE_DATABASE)


def enter_database(name: str) -> contextvars.Token[str]:
    """Send the rest of this call (this thread's context) to `name`; `leave_database`
    with the token returned ends it."""
    return _database.set(name)


def leave_database(token: contextvars.Token[str]) -> None:
    _database.reset(token)


@contextlib.contextmanager
def in_database(name: str) -> Iterator[None]:
    """The block's calls go to database `name`."""
    token = enter_database(name)
    try:
        yield
    finally:
        leave_database(token)


def count_reads(count: int) -> None:
    """Record the documents a request read, for its log line."""
    logs.bind(docs_read=count)


@contextlib.contextmanager
def backend_errors() -> Iterator[None]:
    """Translate the SDK's transport and availability failures into a retryable 503; each
    block is one call to Firestore, timed for the request's round trips."""
    from google.api_core import exceptions as api_exceptions  # noqa: PLC0415
    from google.auth import exceptions as auth_exceptions  # noqa: PLC0415

    with logs.round_trip("firestore"):
        try:
            yield
        except (
            api_exceptions.ServiceUnavailable,
            api_exceptions.DeadlineExceeded,
            api_exceptions.RetryError,
            api_exceptions.Aborted,
            api_exceptions.InternalServerError,
            api_exceptions.TooManyRequests,
            api_exceptions.ResourceExhausted,
            auth_exceptions.TransportError,
        ) as exc:
            raise ServiceUnavailable() from exc


ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
ID_CHARS = 20


def new_id() -> str:
    """A random document id as Firestore makes them (20 of 62 characters), from one read of
    the system's randomness: the client's own `document()` asks for it once a character,
    which was 8% of a create's CPU."""
    kept: list[str] = []
    while len(kept) < ID_CHARS:
        # 248 is the largest multiple of 62 under 256: bytes above it would bias the draw.
        kept += [ID_ALPHABET[b % 62] for b in os.urandom(2 * ID_CHARS) if b < 248]
    return "".join(kept[:ID_CHARS])


def call_options(method: str) -> dict[str, Any]:
    """The deadline of a Firestore call made through the SDK, and its retry: the SDK's
    own for `method` (a transport method: `commit`, `run_aggregation_query`), within that
    deadline. A generic retry would retry a commit on INTERNAL, after which a commit that
    was applied (an increment) is applied twice."""
    return calls.options(client(), method)


class WriteConflict(Exception):
    """A precondition of a unit of work failed: a document to create existed, or one to
    update changed or vanished since it was read. Nothing was written."""


class UnitOfWork:
    """The writes of one change, committed in one batch: all of them or none.

    Every change goes through here, so a record that must accompany a change (an audit
    entry, an event, a kept Idempotency-Key answer) is added to the same commit and can
    never exist without it.
    """

    def __init__(self, database: firestore.Client | None = None) -> None:
        self._client = database or client()
        self._writes: list[Any] = []  # one a change, as `calls.write` made it

    def _added(self, write: Any) -> int:
        self._writes.append(write)
        return len(self._writes) - 1

    def create(self, reference: firestore.DocumentReference, data: Mapping[str, Any]) -> int:
        """Write a new document; the commit fails with WriteConflict if it exists.

        Returns the write's place in the list `commit` returns."""
        return self._added(calls.write(self._client, "create", reference, data))

    def update(
        self,
        reference: firestore.DocumentReference,
        changes: Mapping[str, Any],
        *,
        unchanged_since: dt.datetime | None,
    ) -> int:
        """Change an existing document, read at `unchanged_since` when given; the commit
        fails with WriteConflict if it vanished or changed since.

        Returns the write's place in the list `commit` returns."""
        return self._added(
            calls.write(self._client, "update", reference, changes, update_time=unchanged_since)
        )

    def set(self, reference: firestore.DocumentReference, data: Mapping[str, Any]) -> int:
        """Write a document whole, whether or not it exists.

        Returns the write's place in the list `commit` returns."""
        return self._added(calls.write(self._client, "set", reference, data))

    def delete(
        self, reference: firestore.DocumentReference, *, unchanged_since: dt.datetime | None
    ) -> int:
        """Delete a document, read at `unchanged_since` when given; the commit fails with
        WriteConflict if it changed or vanished since.

        Returns the write's place in the list `commit` returns."""
        return self._added(
            calls.write(self._client, "delete", reference, update_time=unchanged_since)
        )

    @property
    def writes(self) -> int:
        return len(self._writes)

    def commit(self) -> list[dt.datetime]:
        """When each write left its document (Firestore's update times), in the order the
        writes were added.

        Raises: WriteConflict (nothing written), ServiceUnavailable (backend failure).
        """
        from google.api_core import exceptions as api_exceptions  # noqa: PLC0415

        try:
            with backend_errors():
                times = calls.commit(self._client, self._writes)
        except (
            api_exceptions.AlreadyExists,
            api_exceptions.FailedPrecondition,
            api_exceptions.NotFound,
        ) as exc:
            raise WriteConflict(str(exc)) from exc
        return times
