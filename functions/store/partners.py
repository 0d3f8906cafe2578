"""Partner records in Firestore (collection `partners` by default), one per partner id.

Clients never reach them (the rules deny the collection). The functions read a partner's
record on every call, with the credential's own lookup where one round trip can carry
both (an API key's record and its partner's: a batched get).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.core import config, logs
from functions.core.models import PARTNER_STATUSES, PartnerRecord, valid_overrides
from functions.store import calls
from functions.store.client import UnitOfWork, backend_errors, directory

if TYPE_CHECKING:
    from google.cloud import firestore


def partners(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or directory()).collection(config.partners_collection())


def record_from(partner_id: str, data: Mapping[str, Any] | None) -> PartnerRecord:
    """The record a stored document holds; absent when there is none."""
    if data is None:
        return PartnerRecord.absent(partner_id)
    status = data.get("status")
    if status not in PARTNER_STATUSES:
        logs.log(
            "WARNING",
            f"partner {partner_id} has no valid status; treated as suspended",
            code="partner_record_invalid",
        )
        status = "invalid"
    limits = data.get("limits")
    overrides = dict(limits) if isinstance(limits, Mapping) else {}
    valid = valid_overrides(overrides)
    if ignored := sorted(set(overrides) - set(valid)):
        logs.log(
            "WARNING",
            f"partner {partner_id} has limits out of range ({', '.join(ignored)}); "
            "the defaults apply to them",
            code="partner_limits_invalid",
        )
    return PartnerRecord(
        partner_id=partner_id,
        status=str(status),
        display_name=str(data.get("displayName") or ""),
        overrides=valid,
    )


def get_partner(partner_id: str, database: firestore.Client | None = None) -> PartnerRecord:
    """Raises: ServiceUnavailable (backend down or too slow)."""
    with backend_errors():
        snapshot = calls.get(partners(database).document(partner_id))
    return record_from(partner_id, snapshot.to_dict() if snapshot.exists else None)


def get_with(reference: firestore.DocumentReference, partner_id: str) -> tuple[Any, PartnerRecord]:
    """Another document and a partner's record in one round trip (a batched get).

    Raises: ServiceUnavailable (backend down or too slow).
    """
    partner_ref = partners().document(partner_id)
    with backend_errors():
        found_all = calls.get_all(directory(), [reference, partner_ref])
        snapshots = {s.reference.path: s for s in found_all}
    found = snapshots[partner_ref.path]
    return snapshots[reference.path], record_from(
        partner_id, found.to_dict() if found.exists else None
    )


# --- writes (the operators' command-line tool) ---------------------------------------------------


def copy(partner_id: str, source: firestore.Client, target: firestore.Client) -> None:
    """The partner's record as `source` holds it, written whole into `target` (test
    mode's database keeps a copy for its rules, which read only their own database)."""
    with backend_errors():
        snapshot = calls.get(partners(source).document(partner_id))
    if not snapshot.exists:
        return
    work = UnitOfWork(target)
    work.set(partners(target).document(partner_id), snapshot.to_dict() or {})
    work.commit()


def create(
    partner_id: str,
    display_name: str,
    limits: Mapping[str, Any],
    database: firestore.Client,
) -> None:
    """Raises: WriteConflict when the partner already has a record."""
    now = dt.datetime.now(dt.UTC)
    work = UnitOfWork(database or directory())
    work.create(
        partners(database).document(partner_id),
        {
            "status": "active",
            "displayName": display_name,
            "limits": dict(limits),
            "createdAt": now,
            "updatedAt": now,
        },
    )
    work.commit()


def update(
    partner_id: str, changes: Mapping[str, Any], database: firestore.Client, *, since: Any
) -> None:
    """Raises: WriteConflict when the record changed since it was read (`since`)."""
    work = UnitOfWork(database or directory())
    work.update(
        partners(database).document(partner_id),
        {**changes, "updatedAt": dt.datetime.now(dt.UTC)},
        unchanged_since=since,
    )
    work.commit()


def read(partner_id: str, database: firestore.Client) -> Any:
    """The raw snapshot, for read-modify-write."""
    with backend_errors():
        return partners(database).document(partner_id).get()


def every(database: firestore.Client) -> Iterator[Any]:
    with backend_errors():
        yield from partners(database).order_by("__name__").stream()
