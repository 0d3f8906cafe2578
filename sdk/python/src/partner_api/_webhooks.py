"""Webhook verification (Standard Webhooks, as the API signs every delivery).

A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret
while a rotated secret overlaps its successor). Written here rather than taken from the
`standardwebhooks` package so that the SDK needs nothing but httpx; the test suite
checks it against that package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import cast

from ._models import Event

PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationFailed(Exception):
    """A delivery that must not be acted on; answer it 400."""


class WebhookForged(WebhookVerificationFailed):
    """No signature matches a secret: the body or a header was not the API's."""


class WebhookStale(WebhookVerificationFailed):
    """Signed too long ago (or in the future): a delivery captured and sent again later."""


class WebhookReplayed(WebhookVerificationFailed):
    """Signed correctly, but this delivery id was verified before by this verifier.
    The API sends a delivery again only when the first try did not get a 2xx, so a
    receiver that failed after verifying should call `forget(id)` first."""


class Webhook:
    """Verifies deliveries for one endpoint's secret (or several, across a rotation)."""

    def __init__(
        self,
        secret: str | list[str],
        *,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        secrets = [secret] if isinstance(secret, str) else list(secret)
        if not secrets:
            raise ValueError("give at least one secret")
        self._keys = [_key(s) for s in secrets]
        self._tolerance = tolerance_s
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> Event:
        """The event of a delivery, once its signature, age and id are checked.

        Raises: WebhookForged, WebhookStale, WebhookReplayed."""
        raw = body.encode() if isinstance(body, str) else body
        lower = {k.lower(): v for k, v in headers.items()}
        message_id = lower.get("webhook-id", "")
        stamp = lower.get("webhook-timestamp", "")
        given = lower.get("webhook-signature", "")
        if not (message_id and stamp and given):
            raise WebhookForged("missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            signed_at = int(stamp)
        except ValueError:
            raise WebhookForged("webhook-timestamp is not a number") from None
        content = f"{message_id}.{signed_at}.".encode() + raw
        expected = [
            base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
            for key in self._keys
        ]
        offered = [part.split(",", 1)[1] for part in given.split() if part.startswith("v1,")]
        if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
            raise WebhookForged("no signature matches the secret")
        now = self._clock()
        if abs(now - signed_at) > self._tolerance:
            age = int(now - signed_at)
            raise WebhookStale(f"signed {age} s ago; tolerance {self._tolerance} s")
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if now - t <= 2 * self._tolerance}
            if message_id in self._seen:
                raise WebhookReplayed(f"delivery {message_id} was verified before")
            self._seen[message_id] = now
        try:
            return cast(Event, json.loads(raw))
        except ValueError:
            raise WebhookForged("the body is not JSON") from None

    def forget(self, message_id: str) -> None:
        """Accept this delivery id again (after a failure that answered the API non-2xx)."""
        with self._lock:
            self._seen.pop(message_id, None)


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except ValueError:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
