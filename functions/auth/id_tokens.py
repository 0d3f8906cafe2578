"""Firebase ID tokens: the credential of partner users (people and their sessions).

Signature, expiry, audience and issuer are checked by firebase-admin; the session check
(revoked sessions, disabled users) looks the user record up, shared between concurrent
requests of one user (see `sessions`).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from functions.auth.callers import (
    PARTNER_ID_CLAIM,
    PARTNER_ID_PATTERN,
    Caller,
    caller_from_claims,
    current_claims,
)
from functions.auth.sessions import LookupTimeout, SharedLookups
from functions.core import config, logs
from functions.core.errors import ConfigurationError, ServiceUnavailable, Unauthorized
from functions.core.models import PartnerRecord
from functions.outside.firebase_app import admin_app
from functions.store import partner_users as user_access
from functions.store import partners as partner_store

if TYPE_CHECKING:
    from firebase_admin import auth as firebase_auth

EXPIRED = "The ID token has expired; get a fresh one."
MAX_TOKEN_CHARS = 8192
CLOCK_SKEW_S = 5


def looks_like_id_token(credential: str) -> bool:
    """A JWT's shape (three dot-separated parts, of a bounded size), checked before any lookup."""
    return len(credential) <= MAX_TOKEN_CHARS and credential.count(".") == 2


class IdTokenAuthenticator:
    """Accepts Firebase ID tokens of partner users; passes on any other credential."""

    def authenticate(self, credential: str) -> Caller | None:
        """Raises: Unauthorized (token not acceptable), Forbidden (not a partner)."""
        if not looks_like_id_token(credential):
            return None
        prefetched: dict[str, Future[PartnerRecord]] = {}
        check_revoked = config.check_revoked()

        def prefetch(claims: Mapping[str, Any]) -> None:
            # The partner record is read alongside the user record (another backend, so
            # not one round trip): started for the token's partner before the lookup.
            # Without a user lookup there is nothing to overlap: it is read in line.
            partner_id = claims.get(PARTNER_ID_CLAIM)
            if isinstance(partner_id, str) and PARTNER_ID_PATTERN.fullmatch(partner_id):
                # In a copy of the request's context: its round trips are the request's.
                context = contextvars.copy_context()
                prefetched[partner_id] = _pool().submit(
                    context.run, partner_store.get_partner, partner_id
                )

        claims = verify_id_token(
            credential, check_revoked=check_revoked, on_verified=prefetch if check_revoked else None
        )
        logs.bind(uid=claims.get("uid"))
        caller = caller_from_claims(claims)
        future = prefetched.get(caller.partner_id)
        if future is None:  # moved since the token was issued: read the current partner
            return replace(caller, partner=partner_store.get_partner(caller.partner_id))
        try:
            partner = future.result(timeout=config.firestore_timeout_s() + 1)
        except FutureTimeout as exc:
            raise ServiceUnavailable("Reading the partner's record took too long.") from exc
        return replace(caller, partner=partner)


def _timed(get_user: Callable[[str], Any]) -> Callable[[str], Any]:
    """A user lookup, timed as one round trip to Auth for the request that makes it."""

    def lookup(uid: str) -> Any:
        with logs.round_trip("auth"):
            return get_user(uid)

    return lookup


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="partner-record")


def verify_id_token(
    token: str,
    *,
    check_revoked: bool,
    on_verified: Callable[[Mapping[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The claims to authorize a Firebase ID token of this project with.

    Signature, expiry, audience and issuer are checked by firebase-admin. Under the Auth
    emulator firebase-admin checks neither signature nor expiry, so expiry is checked here
    too: token lifetimes then behave as in production. A sign-in time in the future is
    refused in every mode.

    With `check_revoked`, the user record is looked up for revoked sessions and disabled
    users, as firebase-admin's `check_revoked` does, except that concurrent requests of
    one user share the lookup (see `sessions`); and the partner claims are then taken from
    that record, not from the token's copy, so a move, a downgrade or a revoke applies to
    the very next call rather than when the token expires.

    Raises:
        Unauthorized: the token cannot be accepted.
        ServiceUnavailable: the public keys or the user record could not be fetched within
            the configured deadline.
    """
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415

    verifier = _verifier()
    try:
        claims: dict[str, Any] = verifier.client.verify_id_token(token)
        if config.auth_emulator_host():
            _check_lifetime(claims)
        _check_sign_in_time(claims)
        if on_verified is not None:
            on_verified(claims)
        if check_revoked:
            user = _check_session(verifier, claims)
            claims = current_claims(claims, user.custom_claims or {})
    except firebase_auth.ExpiredIdTokenError as exc:
        raise Unauthorized(
            "The ID token has expired; get a fresh one.", reason="token_expired"
        ) from exc
    except firebase_auth.UserNotFoundError as exc:
        _close_direct_door(str(claims.get("uid", "")), None, disabled=True, valid_after=None)
        raise Unauthorized(
            "The user of this ID token no longer exists.", reason="user_deleted"
        ) from exc
    except firebase_auth.CertificateFetchError as exc:
        raise ServiceUnavailable("Could not fetch the token signing keys.") from exc
    except firebase_auth.InvalidIdTokenError as exc:
        raise Unauthorized(_invalid_token_message(str(exc)), reason="token_invalid") from exc
    except (ValueError, RecursionError) as exc:  # RecursionError: a payload nested deep
        raise Unauthorized("The ID token is malformed.", reason="token_malformed") from exc
    except firebase_exceptions.FirebaseError as exc:
        raise ServiceUnavailable("Could not check the user's session.") from exc
    except LookupTimeout as exc:
        raise ServiceUnavailable("Checking the user's session took too long.") from exc
    return claims


def _check_session(verifier: _Verifier, claims: Mapping[str, Any]) -> firebase_auth.UserRecord:
    """The user record, once it shows the user enabled and the token's session unrevoked.

    The same test as firebase-admin's `check_revoked`: revoking stores a time in whole
    seconds, and tokens issued before it are revoked.
    """
    user = verifier.users.get(
        str(claims["uid"]), config.revocation_max_age_s(), timeout_s=config.auth_timeout_s()
    )
    revoked = claims["iat"] * 1000 < user.tokens_valid_after_timestamp
    if user.disabled or revoked:
        # Done outside the tools (the Firebase console, firebase-admin): the rules learn
        # it here, so the user's direct requests are refused from now on as well.
        current = (user.custom_claims or {}).get(PARTNER_ID_CLAIM)
        _close_direct_door(
            user.uid,
            current if isinstance(current, str) else None,
            disabled=bool(user.disabled),
            valid_after=dt.datetime.fromtimestamp(
                user.tokens_valid_after_timestamp / 1000 - 0.001, dt.UTC
            ),
        )
    if user.disabled:
        raise Unauthorized("The user is disabled.", reason="user_disabled")
    if revoked:
        raise Unauthorized("The session was revoked; sign in again.", reason="session_revoked")
    return user


def _close_direct_door(
    uid: str, partner_id: str | None, *, disabled: bool, valid_after: dt.datetime | None
) -> None:
    """Write the user's access record as the API found the account; a failure is logged
    and leaves the 401 as it is (`sync-users` aligns every record later)."""
    if not uid:
        return
    try:
        user_access.close(uid, partner_id, disabled=disabled, valid_after=valid_after)
    except ServiceUnavailable:
        logs.log(
            "WARNING",
            f"could not record user {uid}'s closed access for the rules",
            code="user_access_not_recorded",
        )


def _check_sign_in_time(claims: Mapping[str, Any]) -> None:
    """Raises: Unauthorized for a sign-in time (`auth_time`) beyond the clock skew."""
    auth_time = claims.get("auth_time")
    if auth_time is not None and (
        not isinstance(auth_time, int | float) or auth_time > time.time() + CLOCK_SKEW_S
    ):
        raise Unauthorized(
            "The ID token's sign-in time is in the future.", reason="sign_in_in_future"
        )


def _invalid_token_message(sdk_message: str) -> str:
    lowered = sdk_message.lower()
    if '"aud"' in lowered or '"iss"' in lowered:
        return "The ID token was issued for another project."
    if "custom token" in lowered:
        return "This is a custom token; exchange it for an ID token first."
    return "The ID token is invalid."


def _check_lifetime(claims: Mapping[str, Any]) -> None:
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise Unauthorized("The ID token has no valid lifetime.", reason="token_lifetime_missing")
    if exp <= now - CLOCK_SKEW_S:
        raise Unauthorized(EXPIRED, reason="token_expired")
    if iat > now + CLOCK_SKEW_S:
        raise Unauthorized("The ID token was issued in the future.", reason="issued_in_future")


@dataclass(frozen=True, slots=True)
class _Verifier:
    """firebase-admin's auth client, with the user lookups its session checks share."""

    client: firebase_auth.Client
    users: SharedLookups[firebase_auth.UserRecord]


_verifiers: dict[tuple[str, str | None, str | None], _Verifier] = {}
_verifiers_lock = threading.Lock()


def _verifier() -> _Verifier:
    """One per (project, emulator, key URL), so changing mode never reuses one."""
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415

    app = admin_app()
    certs_url = config.id_token_certs_url()
    key = (app.name, config.auth_emulator_host(), certs_url)
    with _verifiers_lock:
        verifier = _verifiers.get(key)
        if verifier is None:
            from google.auth.exceptions import DefaultCredentialsError  # noqa: PLC0415

            try:
                client = firebase_auth.Client(app)
            except DefaultCredentialsError as exc:
                raise ConfigurationError(
                    "firebase-admin found no Application Default Credentials"
                ) from exc
            if certs_url:
                # firebase-admin has no public option for the key URL; a private test rig
                # that signs its own tokens needs one, so it is set on the SDK's verifier.
                client._token_verifier.id_token_verifier.cert_url = certs_url  # noqa: SLF001
            lookups = SharedLookups(_timed(client.get_user))
            verifier = _verifiers[key] = _Verifier(client, lookups)
    return verifier


def partner_of_user(uid: str) -> str | None:
    """The partner a user belongs to now (its partner claims), None for anyone else or
    a user that does not exist."""
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415

    try:
        user = _verifier().client.get_user(uid)
    except (firebase_auth.UserNotFoundError, ValueError):
        return None
    claims = user.custom_claims or {}
    partner_id = claims.get(PARTNER_ID_CLAIM)
    if claims.get("role") != "partner" or not isinstance(partner_id, str):
        return None
    return partner_id if PARTNER_ID_PATTERN.fullmatch(partner_id) else None
