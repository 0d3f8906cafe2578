"""Partner API key records in Firestore (collection `partnerKeys` by default).

One document per key, named by its key id. Clients can never reach it: the rules deny the
collection. Only the functions and the operators' command-line tool read or write it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.core import api_keys, config
from functions.core.api_keys import KEY_ID_PATTERN, ApiKey
from functions.store import calls
from functions.store.client import (
    UnitOfWork,
    WriteConflict,
    backend_errors,
    directory,
)

if TYPE_CHECKING:
    from google.cloud import firestore


def _keys(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or directory()).collection(config.api_keys_collection())


def _record(key: ApiKey) -> dict[str, Any]:
    return {
        "partnerId": key.partner_id,
        "scopes": list(key.scopes),
        "label": key.label,
        "salt": key.salt,
        "secretHash": key.secret_hash,
        "createdAt": key.created_at,
        "createdBy": key.created_by,
        "hint": key.hint,
        "expiresAt": key.expires_at,
        "revokedAt": key.revoked_at,
        "lastUsedAt": key.last_used_at,
        "replacedBy": key.replaced_by,
        "mode": key.mode,
    }


def _key_from(key_id: str, data: Mapping[str, Any]) -> ApiKey | None:
    """The record as an ApiKey, or None for a record that is not one: written by hand or
    damaged, it refuses its key like an unknown one instead of failing the call (and is
    left out of listings)."""
    moments = [data.get(name) for name in ("createdAt", "expiresAt", "revokedAt", "lastUsedAt")]
    if not isinstance(moments[0], dt.datetime) or not all(
        m is None or isinstance(m, dt.datetime) for m in moments[1:]
    ):
        return None
    return ApiKey(
        key_id=key_id,
        partner_id=str(data.get("partnerId", "")),
        scopes=tuple(s for s in data.get("scopes") or () if isinstance(s, str)),
        label=data.get("label"),
        salt=str(data.get("salt", "")),
        secret_hash=str(data.get("secretHash", "")),
        created_at=data["createdAt"],
        created_by=str(data.get("createdBy", "")),
        hint=str(data.get("hint", "")),
        expires_at=data.get("expiresAt"),
        revoked_at=data.get("revokedAt"),
        last_used_at=data.get("lastUsedAt"),
        replaced_by=replaced if isinstance(replaced := data.get("replacedBy"), str) else None,
        mode=mode
        if (mode := data.get("mode")) in ("live", "test")
        else api_keys.legacy_mode(config.project_id()),
    )


def key_reference(key_id: str) -> firestore.DocumentReference:
    return _keys().document(key_id)


def key_from_snapshot(snapshot: Any) -> ApiKey | None:
    if not snapshot.exists:
        return None
    return _key_from(snapshot.id, snapshot.to_dict() or {})


def get_key(key_id: str, database: firestore.Client | None = None) -> ApiKey | None:
    """The key's record, or None. Raises: ServiceUnavailable (backend down or too slow)."""
    if not KEY_ID_PATTERN.fullmatch(key_id):
        return None
    with backend_errors():
        snapshot = calls.get(_keys(database).document(key_id))
    if not snapshot.exists:
        return None
    return _key_from(key_id, snapshot.to_dict() or {})


def create_key(key: ApiKey, database: firestore.Client | None = None) -> None:
    """Raises: WriteConflict when the key id is taken (never seen: ids are 80 random bits)."""
    work = UnitOfWork(database or directory())
    work.create(_keys(database).document(key.key_id), _record(key))
    work.commit()


def roll_key(
    old: ApiKey, new: ApiKey, old_expires_at: dt.datetime, database: firestore.Client | None
) -> None:
    """Create `new` and cut `old` short, in one unit of work."""
    work = UnitOfWork(database or directory())
    work.create(_keys(database).document(new.key_id), _record(new))
    work.update(
        _keys(database).document(old.key_id),
        {"expiresAt": old_expires_at, "replacedBy": new.key_id},
        unchanged_since=None,
    )
    work.commit()


def revoke_key(key_id: str, moment: dt.datetime, database: firestore.Client | None) -> None:
    work = UnitOfWork(database or directory())
    work.update(_keys(database).document(key_id), {"revokedAt": moment}, unchanged_since=None)
    work.commit()


def keys(partner_id: str | None, database: firestore.Client | None = None) -> Iterator[ApiKey]:
    """Every key, or one partner's, oldest first."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    query: Any = _keys(database)
    if partner_id is not None:
        query = query.where(filter=FieldFilter("partnerId", "==", partner_id))
    with backend_errors():
        snapshots = calls.stream(query)
    found = [key for s in snapshots if (key := _key_from(s.id, s.to_dict() or {})) is not None]
    yield from sorted(found, key=lambda key: (key.created_at, key.key_id))


def record_use(key_id: str, moment: dt.datetime) -> None:
    """Stamp the key's last use (callers do this at most once a minute per key).

    Raises: WriteConflict when the key vanished meanwhile.
    """
    work = UnitOfWork(directory())
    work.update(_keys().document(key_id), {"lastUsedAt": moment}, unchanged_since=None)
    work.commit()


__all__ = [
    "WriteConflict",
    "create_key",
    "get_key",
    "keys",
    "record_use",
    "revoke_key",
    "roll_key",
]
