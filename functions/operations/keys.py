"""Manage partner API keys: the logic behind `python -m functions.partners keys ...`.

Keys are created here, shown once, and kept only as records (see `functions.core.api_keys`);
the tool talks to Firestore with the operator's credentials, or to the emulator when
FIRESTORE_EMULATOR_HOST is set.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.auth.callers import PARTNER_ID_PATTERN, known_scopes
from functions.core import api_keys
from functions.core.api_keys import ApiKey
from functions.operations.errors import Refused, UsageError
from functions.store import keys as key_store

if TYPE_CHECKING:
    from functions.operations.clients import Database

DEFAULT_OVERLAP = "24h"


@dataclass(frozen=True)
class IssuedKey:
    """A key just made: the only moment its full value exists outside the caller's hands."""

    key: str
    record: ApiKey

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, **key_json(self.record)}


def key_json(key: ApiKey) -> dict[str, Any]:
    """A key's record for people: never the secret, its hash or its salt."""
    return {
        "id": key.key_id,
        "partnerId": key.partner_id,
        "scopes": list(key.scopes),
        "label": key.label,
        "hint": key.hint,
        "createdAt": _time(key.created_at),
        "createdBy": key.created_by,
        "expiresAt": _time(key.expires_at),
        "lastUsedAt": _time(key.last_used_at),
        "revokedAt": _time(key.revoked_at),
        "replacedBy": key.replaced_by,
        "status": status(key, dt.datetime.now(dt.UTC)),
        "mode": key.mode,
    }


def status(key: ApiKey, now: dt.datetime) -> str:
    """revoked, expired, rolling (replaced, working until it expires) or active."""
    if key.revoked_at is not None and key.revoked_at <= now:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "rolling" if key.replaced_by is not None else "active"


def _time(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


class KeyDirectory:
    """The API keys of one Firebase project."""

    def __init__(self, project: str, database: Database, actor: str | None = None) -> None:
        self.project = project
        self.database = database
        self.actor = actor or f"cli:{operator_name()}"

    def create(
        self,
        partner_id: str,
        scopes: Sequence[str] | None,
        *,
        expires_in: str | None = None,
        label: str | None = None,
        mode: str = "live",
    ) -> IssuedKey:
        """A key of `mode` (`live`, or `test`: its calls reach test mode's database).

        Raises: Refused (malformed partner id, scopes, duration, label or mode)."""
        if not PARTNER_ID_PATTERN.fullmatch(partner_id):
            raise Refused(f"partner id {partner_id!r} is malformed")
        if mode not in api_keys.PREFIXES:
            raise Refused(f"mode {mode!r} is neither live nor test")
        now = dt.datetime.now(dt.UTC)
        expires_at = None if expires_in is None else now + duration(expires_in)
        return self._issue(partner_id, _scopes(scopes), label, expires_at, now, mode=mode)

    def _issue(
        self,
        partner_id: str,
        scopes: tuple[str, ...],
        label: str | None,
        expires_at: dt.datetime | None,
        now: dt.datetime,
        *,
        mode: str,
        replacing: tuple[ApiKey, dt.datetime] | None = None,
    ) -> IssuedKey:
        if label is not None and not 1 <= len(label) <= 100:
            raise Refused("a label is 1 to 100 characters")
        key, parsed = api_keys.new_key(mode)
        salt = api_keys.new_salt()
        record = ApiKey(
            key_id=parsed.key_id,
            partner_id=partner_id,
            scopes=scopes,
            label=label,
            salt=salt,
            secret_hash=api_keys.secret_hash(parsed.secret, salt),
            created_at=now,
            created_by=self.actor,
            hint=api_keys.hint(key),
            expires_at=expires_at,
            mode=mode,
        )
        if replacing is None:
            key_store.create_key(record, self.database)
        else:
            key_store.roll_key(replacing[0], record, replacing[1], self.database)
        return IssuedKey(key, record)

    def find(self, key_id: str) -> ApiKey:
        """Raises: Refused when there is no such key."""
        key = key_store.get_key(key_id, self.database)
        if key is None:
            raise Refused(f"no key {key_id!r} in this project")
        return key

    def list(self, partner_id: str | None = None) -> list[ApiKey]:
        return list(key_store.keys(partner_id, self.database))

    def revoke(self, key_id: str) -> ApiKey:
        """The very next call with the key is refused. Raises: Refused (unknown, revoked)."""
        key = self.find(key_id)
        if key.revoked_at is not None:
            raise Refused(f"key {key_id!r} was already revoked")
        key_store.revoke_key(key_id, dt.datetime.now(dt.UTC), self.database)
        return self.find(key_id)

    def roll(self, key_id: str, overlap: str = DEFAULT_OVERLAP) -> IssuedKey:
        """A new key with the same partner, scopes, label and lifetime; the old one works
        until the overlap ends. Raises: Refused (unknown, revoked or expired key)."""
        old = self.find(key_id)
        now = dt.datetime.now(dt.UTC)
        if status(old, now) == "rolling":
            raise Refused(
                f"key {key_id!r} is already rolling: {old.replaced_by!r} replaced it and it "
                f"stops working at {_time(old.expires_at)}; roll {old.replaced_by!r} instead"
            )
        if status(old, now) != "active":
            raise Refused(f"key {key_id!r} is {status(old, now)}; create a new one instead")
        lifetime = None if old.expires_at is None else old.expires_at - old.created_at
        cut = now + duration(overlap)
        if old.expires_at is not None:
            cut = min(cut, old.expires_at)
        return self._issue(
            old.partner_id,
            old.scopes,
            old.label,
            None if lifetime is None else now + lifetime,
            now,
            mode=old.mode,
            replacing=(old, cut),
        )


def duration(text: str) -> dt.timedelta:
    """Raises: UsageError (exit 2): the flag's own words are off."""
    try:
        return api_keys.parse_duration(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _scopes(scopes: Sequence[str] | None) -> tuple[str, ...]:
    try:
        return api_keys.normalized_scopes(
            sorted(known_scopes()) if scopes is None else scopes, known_scopes()
        )
    except ValueError as exc:
        raise Refused(str(exc)) from exc


def operator_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
