"""Who is using the console: the session cookie a request carries, and the origin of
its changes (the session itself, sign-in and CSRF token, is `functions.auth.owner_sessions`).

A change (every POST) must carry the session's CSRF token: an HMAC of the session cookie,
which a page of another site cannot read or compute; and its Origin, when the browser
sends one, must be this host. The pages carry no script, so nothing in the browser ever
holds a credential.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from flask import Request

from functions.auth.owner_sessions import SESSION_LIFETIME, Owner, owner_of_cookie

COOKIE: Final = "__session"
"""The one cookie Firebase Hosting passes on to functions."""


def current_owner(request: Request) -> Owner:
    """The owner whose session cookie the request carries.

    Raises: SignInFailed (no cookie, expired, revoked, disabled, or no longer an owner)."""
    return owner_of_cookie(request.cookies.get(COOKIE))


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
