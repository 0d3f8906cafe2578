"""Small clients for the emulators' own REST endpoints (sign-in, data wipes)."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

# The Auth emulator accepts any API key; real projects need the web API key.
EMULATOR_API_KEY = "fake-api-key"


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def auth_host() -> str:
    host = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    if not host:
        raise RuntimeError("FIREBASE_AUTH_EMULATOR_HOST is not set: start the emulators first")
    return host


def firestore_host() -> str:
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host:
        raise RuntimeError("FIRESTORE_EMULATOR_HOST is not set: start the emulators first")
    return host


def sign_in(email: str, password: str) -> str:
    """A real ID token from the Auth emulator for an email/password user."""
    url = (
        f"http://{auth_host()}/identitytoolkit.googleapis.com/v1/"
        f"accounts:signInWithPassword?key={EMULATOR_API_KEY}"
    )
    reply = _request("POST", url, {"email": email, "password": password, "returnSecureToken": True})
    return str(reply["idToken"])


def wipe_firestore(project: str) -> None:
    _request(
        "DELETE",
        f"http://{firestore_host()}/emulator/v1/projects/{project}/databases/(default)/documents",
    )


def wipe_auth(project: str) -> None:
    _request("DELETE", f"http://{auth_host()}/emulator/v1/projects/{project}/accounts")
