"""Signing of webhook deliveries: Standard Webhooks 1.0, with the reference library
(`standardwebhooks`), so that partners verify with any library that implements it.

A delivery carries `webhook-id` (the event's id: the same on every retry, so receivers
can drop duplicates), `webhook-timestamp` (seconds since the epoch) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret
in use, space-separated (after a rotation, the old and the new one for an overlap).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Final

from standardwebhooks import Webhook

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES: Final = 32


def new_secret() -> str:
    """A signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def is_secret(value: str) -> bool:
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        return len(base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)) >= 24
    except ValueError:
        return False


def signed_headers(
    signing_secrets: Sequence[str], message_id: str, at: dt.datetime, body: str
) -> dict[str, str]:
    """The three headers of one delivery attempt, signed with every secret in use.

    Raises: ValueError without a secret.
    """
    if not signing_secrets:
        raise ValueError("no signing secret")
    moment = at.astimezone(dt.UTC).replace(tzinfo=None)  # the library reads it as UTC
    signatures = [Webhook(secret).sign(message_id, moment, body) for secret in signing_secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
