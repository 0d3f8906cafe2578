"""An owner's console session: sign-in with Firebase Auth's email and password, a Firebase
session cookie, its CSRF token, and the revocation that ends it.

Sign-in asks Identity Toolkit (`accounts:signInWithPassword`, the Auth emulator locally)
for an ID token, lets in only a user holding the owner claim and no partner role, and
trades the token for a session cookie (firebase-admin `create_session_cookie`), checked
against the user's current record on every request, so `owners remove` or a sign-out ends
it at once. The console (`functions.edge.console`) carries the cookie; this module never
sees a request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from typing import Any, Final

import requests

from functions.auth.callers import OWNER_CLAIM, PARTNER_ROLE, ROLE_CLAIM
from functions.core import config
from functions.outside.firebase_app import admin_app

SESSION_LIFETIME: Final = dt.timedelta(hours=8)
SIGN_IN_TIMEOUT_S: Final = 10.0
MAX_EMAIL_CHARS: Final = 254
MAX_PASSWORD_CHARS: Final = 4096
REVOKE_MARGIN_S = 0.05
"""How far into the next second a revoke is made (clocks of this host and Firebase's)."""


class SignInFailed(Exception):
    """Why a sign-in or a session was refused (shown to the person)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Owner:
    uid: str
    email: str
    csrf: str


def owner_from_claims(claims: dict[str, Any]) -> str | None:
    """Why these claims may not use the console, or None when they may."""
    if claims.get(ROLE_CLAIM) == PARTNER_ROLE:
        return "A partner's account cannot use the owner's console."
    if claims.get(OWNER_CLAIM) is not True:
        return "This account is not an owner of this app."
    return None


def sign_in(email: str, password: str) -> tuple[str, Owner]:
    """The session cookie of an owner's email and password.

    Raises: SignInFailed (wrong password, unknown user, not an owner, not configured)."""
    from firebase_admin import auth  # noqa: PLC0415

    email = email.strip()
    if not email or not password:
        raise SignInFailed("Enter your email and password.", 400)
    if len(email) > MAX_EMAIL_CHARS or len(password) > MAX_PASSWORD_CHARS:
        raise SignInFailed("Email or password is too long.", 400)
    id_token = _password_sign_in(email, password)
    try:
        claims = auth.verify_id_token(id_token, app=admin_app())
    except (auth.InvalidIdTokenError, ValueError) as exc:  # pragma: no cover - Google's token
        raise SignInFailed("Sign-in failed; try again.") from exc
    refusal = owner_from_claims(claims)
    if refusal is not None:
        raise SignInFailed(refusal, 403)
    cookie = auth.create_session_cookie(id_token, SESSION_LIFETIME, app=admin_app())
    cookie = cookie.decode() if isinstance(cookie, bytes) else str(cookie)
    return cookie, Owner(claims["uid"], str(claims.get("email", email)), csrf_token(cookie))


def _password_sign_in(email: str, password: str) -> str:
    emulator = config.auth_emulator_host()
    key = config.console_api_key()
    if emulator is None and key is None:
        raise SignInFailed(
            "The console is not configured: set CONSOLE_API_KEY to the project's Web API key.",
            503,
        )
    base = (
        f"http://{emulator}/identitytoolkit.googleapis.com"
        if emulator
        else "https://identitytoolkit.googleapis.com"
    )
    try:
        answer = requests.post(
            f"{base}/v1/accounts:signInWithPassword",
            params={"key": key or "emulator"},
            json={"email": email, "password": password, "returnSecureToken": True},
            timeout=SIGN_IN_TIMEOUT_S,
        )
    except requests.RequestException as exc:
        raise SignInFailed("Firebase Auth did not answer; try again.", 503) from exc
    if answer.status_code != 200:
        raise SignInFailed("Wrong email or password.")
    token = answer.json().get("idToken")
    if not isinstance(token, str):
        raise SignInFailed("Sign-in failed; try again.")
    return token


def owner_of_cookie(cookie: str | None) -> Owner:
    """The owner whose session cookie the request carries, judged by the user's current
    record (one lookup, the one the revocation check needs anyway): a claim taken away by
    hand, not through `owners remove`, ends the session on its next request too.

    Raises: SignInFailed (no cookie, expired, revoked, disabled, or no longer an owner)."""
    from firebase_admin import auth  # noqa: PLC0415

    if not cookie:
        raise SignInFailed("Sign in to use the console.")
    ended = "Your session has ended; sign in again."
    try:
        claims = auth.verify_session_cookie(cookie, check_revoked=False, app=admin_app())
        user = auth.get_user(claims["uid"], app=admin_app())
    except (auth.InvalidSessionCookieError, auth.UserNotFoundError, ValueError) as exc:
        raise SignInFailed(ended) from exc
    # firebase-admin's own revocation test (`check_revoked`), on the record read here.
    if user.disabled or claims["iat"] * 1000 < (user.tokens_valid_after_timestamp or 0):
        raise SignInFailed(ended)
    refusal = owner_from_claims(dict(user.custom_claims or {}))
    if refusal is not None:
        raise SignInFailed(refusal, 403)
    return Owner(claims["uid"], str(claims.get("email", claims["uid"])), csrf_token(cookie))


def end_session(owner: Owner) -> None:
    """Revoke the owner's sessions: this cookie (and any other, including one made in this
    very second) stops working at once."""
    revoke_sessions(owner.uid, admin_app())


def csrf_token(cookie: str) -> str:
    """The CSRF token of a session: what only a page holding the cookie can know."""
    digest = hmac.new(cookie.encode(), b"partner-api console csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def revoke_sessions(uid: str, app: Any) -> None:
    """End every session cookie and ID token of `uid` issued up to this moment.

    Firebase keeps the revocation time in whole seconds and refuses tokens issued in
    earlier seconds only: a revoke made in the second of a sign-in would leave that
    sign-in's token valid. So the revoke waits for the next second to begin (1 s at most),
    and every token issued up to the call is then of an earlier second.
    """
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415

    now = time.time()
    time.sleep(math.floor(now) + 1 - now + REVOKE_MARGIN_S)
    firebase_auth.revoke_refresh_tokens(uid, app=app)
