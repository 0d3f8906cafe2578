"""The transport under every method: credentials, timeouts, retries and pages.

Retries: a 429 is always sent again (the gate refused it before any work), after its
`Retry-After`. A 503, a cut connection or a timeout is sent again only where sending twice
cannot do twice: reads, deletes, and writes that carry an Idempotency-Key (every create
gets one generated, kept across its retries, so a retry replays the first answer). A
connection that was never made is always sent again. Waits between tries grow
exponentially with full jitter; a `Retry-After` longer than `max_retry_wait` is not
waited for and the error is raised.
"""

from __future__ import annotations

import platform
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from ._errors import ConnectionFailed, PartnerApiError, PreconditionFailed, error_from, retry_after

T = TypeVar("T")
P = TypeVar("P")

MAX_BACKOFF_S = 8.0
"""The longest step of the exponential backoff (before jitter)."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status, headers (lower-case names) and JSON body."""

    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True)
class Tagged(Generic[T]):
    """A record with the ETag it was read at."""

    record: T
    etag: str


def segment(value: str) -> str:
    """A path parameter, escaped so that it stays one segment."""
    return quote(value, safe="")


class Transport:
    """Sends requests for the generated methods."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        id_token: Callable[[], str] | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        backoff: float = 0.5,
        http_client: httpx.Client | None = None,
        user_agent: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (api_key is None) == (id_token is None):
            raise ValueError("give exactly one of api_key and id_token")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._id_token = id_token
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.backoff = backoff
        self._sleep = sleep
        self._own_client = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self.user_agent = user_agent
        self.retries = 0
        """Requests sent again so far (all calls of this client)."""

    def close(self) -> None:
        if self._own_client:
            self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str | None] | None = None,
        idempotency_key: str | None = None,
        idempotent: bool = False,
        timeout: float | None = None,
    ) -> Answer:
        """One call, retried as the module says; raises the typed error of a failure."""
        sent = {
            "User-Agent": self.user_agent,
            "Accept": "application/json",
            **{name: value for name, value in (headers or {}).items() if value is not None},
        }
        if idempotency_key is None and idempotent:
            idempotency_key = f"sdk_{uuid.uuid4().hex}"
        if idempotency_key is not None:
            sent["Idempotency-Key"] = idempotency_key
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        resendable = method in SAFE_METHODS or idempotency_key is not None
        attempt = 0
        while True:
            sent["Authorization"] = f"Bearer {self._credential()}"
            try:
                response = self._http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    headers=sent,
                    timeout=self.timeout if timeout is None else timeout,
                )
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, httpx.ConnectError)
                if attempt < self.max_retries and (resendable or never_sent):
                    self._wait(attempt, None)
                    attempt += 1
                    continue
                raise ConnectionFailed(f"{method} {path}: {exc!r}") from exc
            status = response.status_code
            again = status == 429 or (status in RETRIED_STATUSES and resendable)
            if again and attempt < self.max_retries:
                wait = retry_after(response.headers)
                if wait is None or wait <= self.max_retry_wait:
                    self._wait(attempt, wait)
                    attempt += 1
                    continue
            if status >= 400:
                raise error_from(status, response.text, response.headers)
            data = response.json() if response.content else None
            return Answer(status, {k.lower(): v for k, v in response.headers.items()}, data)

    def pages(self, method: str, path: str, **kwargs: Any) -> Iterator[Any]:
        """Every item of a cursor-paged list, fetching each page as it is reached."""
        query = dict(kwargs.pop("query", None) or {})
        while True:
            page = self.send(method, path, query=query, **kwargs).data
            yield from page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
            query["cursor"] = cursor

    def _credential(self) -> str:
        if self._id_token is not None:
            return self._id_token()
        assert self._api_key is not None
        return self._api_key

    def _wait(self, attempt: int, retry_after_s: float | None) -> None:
        """Sleep before try `attempt + 1`: `Retry-After` when the API gave one (plus up to
        a quarter second, so that many clients do not return at once), else full jitter
        over an exponential step of at most MAX_BACKOFF_S."""
        self.retries += 1
        if retry_after_s is not None:
            self._sleep(retry_after_s + random.uniform(0, 0.25))  # noqa: S311 - not a secret
        else:
            step = min(MAX_BACKOFF_S, self.backoff * 2**attempt)
            self._sleep(random.uniform(0, step))  # noqa: S311


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def user_agent(version: str) -> str:
    """`partner-api-python/<version>`, then the runtime, as the API's logs and the owner's
    console show it."""
    return (
        f"partner-api-python/{version} "
        f"(python {platform.python_version()}; httpx {httpx.__version__})"
    )


def modify_record(
    read: Callable[[], Tagged[T]],
    update: Callable[[P, str], T],
    change: Callable[[T], P | None],
    attempts: int,
) -> T:
    """Read, change and update with If-Match, reading again after each 412."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(attempts):
        tagged = read()
        patch = change(tagged.record)
        if patch is None:
            return tagged.record
        try:
            return update(patch, tagged.etag)
        except PreconditionFailed:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


__all__ = ["Answer", "PartnerApiError", "Tagged", "Transport", "modify_record", "user_agent"]
