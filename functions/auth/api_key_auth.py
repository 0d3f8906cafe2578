"""Partner API keys at the gate: recognised by their prefix, checked by checksum before any
lookup, then against their record.

Revocation and expiry apply at once, as for ID tokens: concurrent calls with one key share
a record lookup, but only one that started after they arrived (see `sessions`); an owner
who accepts a delay opts in with AUTH_REVOCATION_MAX_AGE_S. Every refusal is the same 401,
so a caller learns nothing about which keys exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
import time
from dataclasses import dataclass

from functions.auth.callers import Caller
from functions.auth.sessions import LookupTimeout, SharedLookups
from functions.core import api_keys, config, logs
from functions.core.api_keys import ApiKey, MalformedKey
from functions.core.errors import ApiError, ServiceUnavailable, Unauthorized
from functions.core.models import PartnerRecord
from functions.store import keys as key_store
from functions.store import partners as partner_store

INVALID_KEY = "The API key is not valid."
LAST_USED_EVERY_S = 60.0
"""A key's last use is written at most this often (per key and serving instance)."""


@dataclass(frozen=True, slots=True)
class _Found:
    key: ApiKey | None
    partner: PartnerRecord | None = None


class ApiKeyAuthenticator:
    """Accepts partner API keys (`pak_live_...`, `pak_test_...`); passes on anything else."""

    def authenticate(self, credential: str) -> Caller | None:
        """Raises: Unauthorized (not an acceptable key), ServiceUnavailable (lookup failed)."""
        if not api_keys.looks_like_key(credential):
            return None
        try:
            parsed = api_keys.parse(credential)
        except MalformedKey as exc:
            raise Unauthorized(INVALID_KEY, reason=exc.reason) from exc
        try:
            found = _lookups().get(
                parsed.key_id,
                config.revocation_max_age_s(),
                timeout_s=config.auth_timeout_s(),
            )
        except LookupTimeout as exc:
            raise ServiceUnavailable("Checking the API key took too long.") from exc
        key = found.key
        now = dt.datetime.now(dt.UTC)
        if key is None:
            raise Unauthorized(INVALID_KEY, reason="key_unknown")
        if not key.matches(parsed.secret):
            raise Unauthorized(INVALID_KEY, reason="key_secret_mismatch")
        if key.mode != parsed.mode:  # a live key relabelled pak_test_, or the other way
            raise Unauthorized(INVALID_KEY, reason="key_other_mode")
        if refusal := key.refusal_at(now):
            raise Unauthorized(INVALID_KEY, reason=refusal)
        logs.bind(key_id=key.key_id)
        _note_use(key, now)
        return Caller(
            uid=f"key:{key.key_id}",
            partner_id=key.partner_id,
            scopes=frozenset(key.scopes),
            claims={},
            credential="key",
            credential_id=key.key_id,
            partner=found.partner,
            mode=key.mode,
        )


@functools.cache
def _lookups() -> SharedLookups[_Found]:
    return SharedLookups(_find, service="firestore")


_partner_of_key: dict[str, str] = {}
"""Key id -> partner id, as learnt from key records: a key never changes partner, so once
known, the key's record and its partner's are read in one round trip."""


def _find(key_id: str) -> _Found:
    """The key's record and its partner's record, fresh."""
    known = _partner_of_key.get(key_id)
    if known is not None:
        snapshot, partner = partner_store.get_with(key_store.key_reference(key_id), known)
        key = key_store.key_from_snapshot(snapshot)
        if key is None or key.partner_id == known:
            return _Found(key, partner)
    key = key_store.get_key(key_id)
    if key is None:
        return _Found(None)
    _partner_of_key[key_id] = key.partner_id
    return _Found(key, partner_store.get_partner(key.partner_id))


_last_noted: dict[str, float] = {}
_last_noted_lock = threading.Lock()


def _note_use(key: ApiKey, now: dt.datetime) -> None:
    """Stamp the key's last use, at most once a minute: never a write on every call."""
    stale = key.last_used_at is None or now - key.last_used_at > dt.timedelta(
        seconds=LAST_USED_EVERY_S
    )
    if not stale:
        return
    with _last_noted_lock:
        noted = _last_noted.get(key.key_id)
        if noted is not None and time.monotonic() - noted < LAST_USED_EVERY_S:
            return
        _last_noted[key.key_id] = time.monotonic()
    # A missed stamp is harmless: the call itself was verified.
    with contextlib.suppress(ApiError, key_store.WriteConflict):
        key_store.record_use(key.key_id, now)
