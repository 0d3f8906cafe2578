"""The gate: a bearer credential in, a partner caller out, through a list of authenticators.

Each authenticator recognises its own kind of credential (by its shape, before any
lookup) and either decides (a caller, or Unauthorized / Forbidden) or passes. The gate
tries them in order; a credential that none recognises is Unauthorized.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Protocol

from functions.auth.api_key_auth import ApiKeyAuthenticator
from functions.auth.callers import Caller
from functions.auth.id_tokens import IdTokenAuthenticator, looks_like_id_token
from functions.core import logs
from functions.core.api_keys import looks_like_key
from functions.core.errors import Unauthorized

NOT_A_CREDENTIAL = "The bearer credential is neither an API key nor an ID token of this API."


class Authenticator(Protocol):
    """Turns a bearer credential of its own kind into a caller, or passes (None)."""

    def authenticate(self, credential: str) -> Caller | None:
        """Raises: Unauthorized or Forbidden for a credential of its kind it cannot accept."""
        ...


def default_authenticators() -> tuple[Authenticator, ...]:
    """The credentials the deployed functions accept, in the order they are tried."""
    return (ApiKeyAuthenticator(), IdTokenAuthenticator())


def claimed_identity(credential: str) -> str:
    """Who a credential says it is, read from its shape with no check and no lookup: an
    API key's id, an ID token's subject (its unverified payload), else its kind. What the
    failed-credential brake counts by beside the address; never a basis to trust it."""
    if looks_like_key(credential):
        key_id = credential.split("_")[2:3]
        return f"key:{key_id[0] if key_id else ''}"
    if looks_like_id_token(credential):
        try:
            payload = json.loads(base64.urlsafe_b64decode(_padded(credential.split(".")[1])))
        except (ValueError, RecursionError):  # any bytes at all: a forged token's payload
            return "token:"
        subject = payload.get("sub") if isinstance(payload, dict) else None
        return f"token:{subject if isinstance(subject, str) else ''}"
    return "other:"


def _padded(part: str) -> str:
    return part + "=" * (-len(part) % 4)


def authenticate(credential: str, authenticators: Sequence[Authenticator]) -> Caller:
    """The caller behind `credential`.

    Raises:
        Unauthorized: no authenticator accepts it.
        Forbidden: a known identity that is not a partner.
    """
    for authenticator in authenticators:
        caller = authenticator.authenticate(credential)
        if caller is not None:
            logs.bind(partner_id=caller.partner_id, credential=caller.credential)
            return caller
    raise Unauthorized(NOT_A_CREDENTIAL, reason="unknown_credential_kind")
