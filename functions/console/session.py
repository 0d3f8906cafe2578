"""Who is using the console: sign-in with Firebase Auth, a session cookie, and the CSRF
token of every change.

Sign-in posts the email and password to this function, which asks Identity Toolkit
(`accounts:signInWithPassword`, the Auth emulator locally) for an ID token, lets in only
a user holding the owner claim and no partner role, and trades the token for a Firebase
session cookie (firebase-admin `create_session_cookie`): HttpOnly, Secure,
SameSite=Strict, checked for revocation on every request, so `owners remove` or a
sign-out ends it at once. The pages carry no script, so nothing in the browser ever
holds a credential.

A change (every POST) must carry the session's CSRF token: an HMAC of the session cookie,
which a page of another site cannot read or compute; and its Origin, when the browser
sends one, must be this host.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from flask import Request

from functions import config
from functions.admin.users import revoke_sessions
from functions.auth.callers import OWNER_CLAIM, PARTNER_ROLE, ROLE_CLAIM
from functions.firebase_app import admin_app

COOKIE: Final = "__session"
"""The one cookie Firebase Hosting passes on to functions."""
SESSION_LIFETIME: Final = dt.timedelta(hours=8)
SIGN_IN_TIMEOUT_S: Final = 10.0
MAX_EMAIL_CHARS: Final = 254
MAX_PASSWORD_CHARS: Final = 4096


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


def current_owner(request: Request) -> Owner:
    """The owner whose session cookie the request carries, judged by the user's current
    record (one lookup, the one the revocation check needs anyway): a claim taken away by
    hand, not through `owners remove`, ends the session on its next request too.

    Raises: SignInFailed (no cookie, expired, revoked, disabled, or no longer an owner)."""
    from firebase_admin import auth  # noqa: PLC0415

    cookie = request.cookies.get(COOKIE)
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


def same_origin(request: Request) -> bool:
    """Whether a POST comes from this host's pages (an absent Origin passes: SameSite
    and the CSRF token still hold)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == (request.host or "").lower()


def cookie_options() -> dict[str, Any]:
    return {
        "httponly": True,
        "secure": True,
        "samesite": "Strict",
        "path": "/",
        "max_age": int(SESSION_LIFETIME.total_seconds()),
    }
