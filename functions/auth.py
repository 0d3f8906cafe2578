"""Who is calling: Firebase ID tokens in, a typed partner caller out.

`partner_required` is the one gate in front of every partner function. It raises
Unauthorized (401: we cannot tell who you are) or Forbidden (403: we know you, and you
may not); turning those into responses is the HTTP layer's job.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from functions import config, logs
from functions.errors import ConfigurationError, Forbidden, ServiceUnavailable, Unauthorized
from functions.firebase_app import admin_app
from functions.sessions import SharedLookups

if TYPE_CHECKING:
    from firebase_admin import auth as firebase_auth
    from flask import Request

PARTNER_ROLE = "partner"
ROLE_CLAIM = "role"
PARTNER_ID_CLAIM = "partnerId"
SCOPES_CLAIM = "scopes"
SCOPE_READ = "entries:read"
SCOPE_WRITE = "entries:write"
ALL_SCOPES = frozenset({SCOPE_READ, SCOPE_WRITE})
PARTNER_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""Partner ids: lowercase letters, digits and inner hyphens, 1 to 63 characters."""

MAX_TOKEN_CHARS = 8192
CLOCK_SKEW_S = 5

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified partner user: the only identity handlers ever see."""

    uid: str
    partner_id: str
    scopes: frozenset[str]
    claims: Mapping[str, Any]


def bearer_token(header: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header.

    Raises:
        Unauthorized: the header is missing, uses another scheme or is malformed.
    """
    if not header:
        raise Unauthorized("Send 'Authorization: Bearer <Firebase ID token>'.", token_given=False)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Use the Bearer scheme with a Firebase ID token.", token_given=False)
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise Unauthorized("The bearer token is not a well-formed ID token.")
    return token


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The partner behind verified claims.

    Raises:
        Forbidden: the user is not a partner, or carries no valid partner id or scopes.
    """
    if claims.get(ROLE_CLAIM) != PARTNER_ROLE:
        raise Forbidden("This user does not have the partner role.")
    partner_id = claims.get(PARTNER_ID_CLAIM)
    if not isinstance(partner_id, str) or not PARTNER_ID_PATTERN.match(partner_id):
        raise Forbidden("This partner user is not assigned to a partner.")
    raw_scopes = claims.get(SCOPES_CLAIM)
    if raw_scopes is None:
        scopes = ALL_SCOPES
    elif isinstance(raw_scopes, list) and all(isinstance(s, str) for s in raw_scopes):
        scopes = frozenset(raw_scopes) & ALL_SCOPES
    else:
        raise Forbidden("This partner user's scopes are malformed.")
    return Caller(uid=str(claims["uid"]), partner_id=partner_id, scopes=scopes, claims=claims)


def require_scopes(caller: Caller, scopes: frozenset[str]) -> None:
    """Raises: Forbidden when the caller lacks one of `scopes`."""
    missing = sorted(scopes - caller.scopes)
    if missing:
        raise Forbidden(
            f"This partner user lacks the scope(s): {', '.join(missing)}.",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="partner-api", error="insufficient_scope", '
                    f'scope="{" ".join(missing)}"'
                )
            },
        )


def verify_id_token(token: str, *, check_revoked: bool) -> dict[str, Any]:
    """Verified claims of a Firebase ID token, for this project.

    Signature, expiry, audience and issuer are checked by firebase-admin. Under the Auth
    emulator firebase-admin checks neither signature nor expiry, so expiry is checked here
    too: token lifetimes then behave as in production. With `check_revoked`, the user
    record is looked up for revoked sessions and disabled users, as firebase-admin's
    `check_revoked` does, except that concurrent requests of one user share the lookup
    (see `functions.sessions`).

    Raises:
        Unauthorized: the token cannot be accepted.
        ServiceUnavailable: the public keys or the user record could not be fetched.
    """
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415
    from firebase_admin import exceptions as firebase_exceptions  # noqa: PLC0415

    verifier = _verifier()
    try:
        claims: dict[str, Any] = verifier.client.verify_id_token(token)
        if config.auth_emulator_host():
            _check_lifetime(claims)
        if check_revoked:
            _check_session(verifier, claims)
    except firebase_auth.ExpiredIdTokenError as exc:
        raise Unauthorized("The ID token has expired; get a fresh one.") from exc
    except firebase_auth.UserNotFoundError as exc:
        raise Unauthorized("The user of this ID token no longer exists.") from exc
    except firebase_auth.CertificateFetchError as exc:
        raise ServiceUnavailable("Could not fetch the token signing keys.") from exc
    except firebase_auth.InvalidIdTokenError as exc:
        raise Unauthorized(_invalid_token_message(str(exc))) from exc
    except ValueError as exc:
        raise Unauthorized("The ID token is malformed.") from exc
    except firebase_exceptions.FirebaseError as exc:
        raise ServiceUnavailable("Could not check the user's session.") from exc
    return claims


def _check_session(verifier: _Verifier, claims: Mapping[str, Any]) -> None:
    """Refuse disabled users and tokens issued before the user's sessions were revoked.

    The same test as firebase-admin's `check_revoked`: revoking stores a time in whole
    seconds, and tokens issued before it are revoked.
    """
    user = verifier.users.get(str(claims["uid"]), config.revocation_max_age_s())
    if user.disabled:
        raise Unauthorized("The user is disabled.")
    if claims["iat"] * 1000 < user.tokens_valid_after_timestamp:
        raise Unauthorized("The session was revoked; sign in again.")


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
        raise Unauthorized("The ID token has no valid lifetime.")
    if exp <= now - CLOCK_SKEW_S:
        raise Unauthorized("The ID token has expired; get a fresh one.")
    if iat > now + CLOCK_SKEW_S:
        raise Unauthorized("The ID token was issued in the future.")


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
            verifier = _verifiers[key] = _Verifier(client, SharedLookups(client.get_user))
    return verifier


def authenticate(request: Request, scopes: frozenset[str] = frozenset()) -> Caller:
    """The partner making `request`.

    Raises:
        Unauthorized: no acceptable ID token.
        Forbidden: a valid user that is not a partner of any tenant, or lacks a scope.
    """
    token = bearer_token(request.headers.get("Authorization"))
    claims = verify_id_token(token, check_revoked=config.check_revoked())
    logs.bind(uid=claims.get("uid"))
    caller = caller_from_claims(claims)
    logs.bind(partner_id=caller.partner_id)
    require_scopes(caller, scopes)
    return caller


def partner_required(
    *scopes: str,
) -> Callable[[Callable[Concatenate[Request, Caller, P], R]], Callable[Concatenate[Request, P], R]]:
    """Let only partner users with `scopes` through; the view receives the typed caller."""
    required = frozenset(scopes)
    unknown = required - ALL_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")

    def decorate(
        view: Callable[Concatenate[Request, Caller, P], R],
    ) -> Callable[Concatenate[Request, P], R]:
        @functools.wraps(view)
        def wrapper(request: Request, /, *args: P.args, **kwargs: P.kwargs) -> R:
            caller = authenticate(request, required)
            return view(request, caller, *args, **kwargs)

        return wrapper

    return decorate
