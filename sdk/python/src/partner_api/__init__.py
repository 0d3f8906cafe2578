"""The partner API's Python SDK: a typed method per operation of the app's contract,
with retries that cannot write twice, pages as iterators, typed errors and webhook
verification.

    from partner_api import PartnerApi

    with PartnerApi("https://us-central1-my-app.cloudfunctions.net", api_key=KEY) as api:
        for entry in api.entries.iterate(date_from="2026-01-01"):
            print(entry["id"], entry["amount"])
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

import httpx

from ._errors import (
    BadRequest,
    Conflict,
    ConnectionFailed,
    MethodNotAllowed,
    NotFound,
    PartnerApiError,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from ._models import *  # noqa: F403 - every model of the contract
from ._models import __all__ as _models
from ._operations import RESOURCES, TITLE, VERSION, Operations
from ._runtime import Tagged, Transport, user_agent
from ._webhooks import (
    Webhook,
    WebhookForged,
    WebhookReplayed,
    WebhookStale,
    WebhookVerificationFailed,
)

__version__ = VERSION


class PartnerApi(Operations):
    """A client of one deployment: its base URL (`https://<region>-<project>.cloudfunctions.net`,
    or the emulator's `http://127.0.0.1:5001/<project>/<region>`) and one credential, an
    API key or a function that returns a fresh Firebase ID token."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        id_token: Callable[[], str] | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.transport = Transport(
            base_url,
            api_key=api_key,
            id_token=id_token,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            http_client=http_client,
            user_agent=user_agent(VERSION),
        )
        super().__init__(self.transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> PartnerApi:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [  # noqa: PLE0604 - the models' names are a list of strings
    "RESOURCES",
    "TITLE",
    "VERSION",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "MethodNotAllowed",
    "NotFound",
    "PartnerApi",
    "PartnerApiError",
    "PayloadTooLarge",
    "PermissionDenied",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "Tagged",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationFailed",
    "Webhook",
    "WebhookForged",
    "WebhookReplayed",
    "WebhookStale",
    "WebhookVerificationFailed",
    *_models,
]
