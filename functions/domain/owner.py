"""What an owner's endpoint does within one call, free of HTTP: read the caller's records
(never another tenant's), write in the call's unit of work with audit records, and replay
an answer kept for an Idempotency-Key.

The writes a function adds to its `Work` are committed after it returns, in one batch
with their audit records and, for an Idempotency-Key, the answer: all of them or none. A
function that raises commits nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from functions.auth import Caller
from functions.core import logs
from functions.core.errors import ConfigurationError, Conflict
from functions.core.models import AuditEntry, Bounds, KeptAnswer, ListQuery, Record
from functions.domain import idempotency, records
from functions.resources import declaration
from functions.resources.declaration import Resource
from functions.store import answers
from functions.store import audit as audit_store
from functions.store.client import UnitOfWork, WriteConflict, client

PAGE_SIZE = 200
"""Records read per query by `TenantRecords.each`: memory stays bounded by one page."""


class TenantRecords:
    """The caller's records of one declared resource: the same tenant scoping, validation
    and skipping of invalid documents as the built-in list and get."""

    def __init__(self, resource: Resource, caller: Caller) -> None:
        self.resource = resource
        self._caller = caller
        self.skipped: list[str] = []
        """Ids of stored documents met by `each` that are not valid records."""
        self.read = 0
        """Records `each` has returned so far."""

    def get(self, record_id: str) -> Record:
        """Raises: NotFound for a missing record and for another tenant's (same answer)."""
        return records.get_record(self.resource, self._caller, record_id)

    def each(
        self,
        *,
        equals: Mapping[str, Any] | None = None,
        bounds: Bounds | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Iterator[Record]:
        """Every matching record in list order, read a page at a time. `equals` may name
        the resource's declared filters, `bounds` one of its declared ranges.

        Raises: ConfigurationError for a field the declaration does not allow (its
        index would be missing in production).
        """
        equals = dict(equals or {})
        unknown = sorted(set(equals) - set(self.resource.filters))
        if unknown:
            raise ConfigurationError(
                f"{self.resource.name} is not declared filterable by {', '.join(unknown)}"
            )
        if bounds is not None and bounds.field not in self.resource.ranges:
            raise ConfigurationError(f"{self.resource.name} declares no range on {bounds.field}")
        query = ListQuery(limit=page_size, equals=tuple(sorted(equals.items())), bounds=bounds)
        while True:
            page = records.list_records(self.resource, self._caller, query)
            self.skipped.extend(page.skipped)
            self.read += len(page.records)
            yield from page.records
            if page.next_after is None:
                return
            query = ListQuery(
                limit=page_size, after=page.next_after, equals=query.equals, bounds=bounds
            )


def tenant_records(resource_name: str, caller: Caller) -> TenantRecords:
    """Raises: ConfigurationError when the declaration has no such resource."""
    resource = declaration.current().get(resource_name)
    if resource is None:
        raise ConfigurationError(f"resources.toml declares no resource {resource_name!r}")
    return TenantRecords(resource, caller)


class Work:
    """The writes of one call of an owner's endpoint, committed after it returns.

    Documents are named by their path (`orders/o-1`); what the function reads before it
    writes, it reads with `database` (the same client), and `unchanged_since` (the read's
    `update_time`) makes the commit fail with a 409 if the document changed meanwhile.
    """

    def __init__(self, caller: Caller, endpoint: str) -> None:
        self._caller = caller
        self._endpoint = endpoint
        self._unit: UnitOfWork | None = None
        self._audits: list[AuditEntry] = []

    @property
    def database(self) -> Any:
        """The Firestore client the package uses (the emulator's, locally)."""
        return client()

    @property
    def unit(self) -> UnitOfWork:
        if self._unit is None:
            self._unit = UnitOfWork()
        return self._unit

    @property
    def pending(self) -> int:
        """Writes and audit records added so far."""
        return (self._unit.writes if self._unit is not None else 0) + len(self._audits)

    def create(self, path: str, data: Mapping[str, Any]) -> None:
        """A new document; the commit fails (409) if it exists."""
        self.unit.create(client().document(path), data)

    def set(self, path: str, data: Mapping[str, Any]) -> None:
        """A document written whole, whether or not it exists."""
        self.unit.set(client().document(path), data)

    def update(
        self, path: str, changes: Mapping[str, Any], *, unchanged_since: dt.datetime | None = None
    ) -> None:
        """Change fields of an existing document; the commit fails (409) if it is missing
        or, with `unchanged_since`, if it changed since it was read."""
        self.unit.update(client().document(path), changes, unchanged_since=unchanged_since)

    def delete(self, path: str, *, unchanged_since: dt.datetime | None = None) -> None:
        """Delete a document (with `unchanged_since`, only as it was read)."""
        self.unit.delete(client().document(path), unchanged_since=unchanged_since)

    def audit(
        self,
        operation: str,
        resource: str,
        record_id: str,
        *,
        fields: tuple[str, ...] = (),
        version_before: int | None = None,
        version_after: int | None = None,
    ) -> None:
        """An audit record of this call's caller, committed with the writes (`partners
        audit` lists it beside the API's own). `operation` "create" counts towards the
        day's quota when the quota document is rebuilt."""
        self._audits.append(
            AuditEntry(
                actor=self._caller.uid,
                credential=self._caller.credential,
                partner_id=self._caller.partner_id,
                operation=operation,
                resource=resource,
                record_id=record_id,
                version_before=version_before,
                version_after=version_after,
                fields=tuple(fields),
                request_id=str(logs.bound("request_id") or ""),
            )
        )

    def commit(self, key: str | None, answer: KeptAnswer, replacing: Any) -> KeptAnswer:
        """Commit the writes, their audit records and, with `key`, the answer to keep.

        Returns the answer to give: this call's, or the one another call with the same
        key committed first (then nothing of this call is written).

        Raises: Conflict when a precondition of the function's writes failed, or the key
        was meanwhile used for another request.
        """
        if key is None:
            if self.pending:
                self.commit_writes()
            return answer
        now = dt.datetime.now(dt.UTC)
        answers.keep(self.unit, self._caller.partner_id, key, answer, now=now, replacing=replacing)
        self._add_audits(now)
        try:
            self.unit.commit()
        except WriteConflict:
            first = answers.look_up(self._caller.partner_id, key)
            if first.taken:
                return self._same_request(first.answer, answer.fingerprint)
            raise _changed_since() from None
        return answer

    def commit_writes(self) -> None:
        """Commit the writes and audit records added so far.

        Raises: Conflict when a precondition of the writes failed (nothing written)."""
        self._add_audits(dt.datetime.now(dt.UTC))
        try:
            self.unit.commit()
        except WriteConflict:
            raise _changed_since() from None

    def _add_audits(self, now: dt.datetime) -> None:
        for entry in self._audits:
            audit_store.add(self.unit, entry, now)

    def _same_request(self, first: KeptAnswer | None, fingerprint: str) -> KeptAnswer:
        return idempotency.same_request(first, self._endpoint, fingerprint)


def _changed_since() -> Conflict:
    return Conflict(
        "A document this call writes changed since it was read, or one it creates exists "
        "already; nothing was written. Read again and retry.",
        reason="write_conflict",
    )


def earlier_answer(
    caller: Caller, endpoint: str, key: str, fingerprint: str
) -> tuple[KeptAnswer | None, Any]:
    """The answer kept for `key` (then the call is a replay: recorded in the audit trail,
    nothing else written), or None and the expired record to replace (if any).

    Raises: Conflict when the key was used for another request.
    """
    found = answers.look_up(caller.partner_id, key)
    if not found.taken:
        return None, found.written
    first = idempotency.same_request(found.answer, endpoint, fingerprint)
    work = Work(caller, endpoint)
    work.audit("replay", endpoint, "")
    work.commit_writes()
    return first, None
