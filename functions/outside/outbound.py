"""Calls out to addresses partners give us (webhook endpoints), safely.

A partner's URL must not reach anything of ours: only https, to a public address. The
host is resolved once, every address it resolves to is checked, and the connection goes
to the checked address (the TLS certificate is still verified for the host name), so a
DNS answer that changes between check and connect (rebinding) gains nothing. Public is
an allow list: IPv4 outside the special-purpose ranges, IPv6 in global unicast (2000::/3)
outside IANA's special-purpose blocks; an IPv4 address carried inside an IPv6 one
(mapped, compatible, translated, NAT64, 6to4) is judged as that IPv4 address. A refusal
never says what a host name resolved to. No redirect is followed, the whole call
(connect, headers, body) ends after 10 s, and at most 64 KiB of the answer is read.
Locally, a `demo-` project may also call http on loopback (a receiver on the developer's
machine).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from functions.contract.webhook_models import MAX_URL_CHARS

TIMEOUT_S: Final = 10.0
MAX_ANSWER_BYTES: Final = 64 * 1024
METADATA_ADDRESSES: Final = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_BLOCKED_V4: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_GLOBAL_UNICAST: Final = ipaddress.ip_network("2000::/3")
_SPECIAL_V6: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments (Teredo, benchmarking, ORCHID, ...)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
"""IANA's special-purpose IPv6 blocks inside global unicast that are not globally
reachable (the few reachable ones inside 2001::/23 are refused too: no webhook lives
there)."""
_MAPPED: Final = ipaddress.ip_network("::ffff:0:0/96")
_COMPATIBLE: Final = ipaddress.ip_network("::/96")
_TRANSLATED: Final = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIX_TO_FOUR: Final = ipaddress.ip_network("2002::/16")
NOT_PUBLIC: Final = "resolves to an address that is not public"


class RefusedTarget(ValueError):
    """The URL may not be called; the message says why (safe to show its owner)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (`address`) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    latency_ms: float
    body: bytes


def embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, translated, NAT64 or
    6to4), if any."""
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _MAPPED or address in _TRANSLATED or any(address in n for n in _NAT64):
        return low
    if address in _COMPATIBLE:
        return low
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is one the internet can reach and none of ours: allowed by
    being in global unicast, not by missing from a list of private ranges."""
    if address in METADATA_ADDRESSES:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_v4(address)
        if inner is not None:
            return public(inner)
        return (
            address in _GLOBAL_UNICAST
            and address.is_global
            and not any(address in net for net in _SPECIAL_V6)
        )
    return not any(address in net for net in _BLOCKED_V4) and address.is_global


Resolver = Callable[..., list[tuple[Any, ...]]]
"""`socket.getaddrinfo`, or a stand-in that answers as a DNS server would."""


def check_url(url: str, *, local: bool = False, resolve: Resolver = socket.getaddrinfo) -> Target:
    """The URL, checked and resolved once. `local`: a `demo-` project, which may also call
    http on loopback.

    Raises: RefusedTarget, naming the reason.
    """
    if len(url) > MAX_URL_CHARS:
        raise RefusedTarget(f"the URL is longer than {MAX_URL_CHARS} characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedTarget("the URL must be https://host/...")
    if "#" in url:
        raise RefusedTarget("the URL must not carry a fragment (#...): receivers never see it")
    if parts.username or parts.password:
        raise RefusedTarget("the URL must not carry a user name or password")
    try:
        port = parts.port
    except ValueError as exc:
        raise RefusedTarget("the URL's port is not a number from 1 to 65535") from exc
    if port == 0:
        raise RefusedTarget("the URL's port is not a number from 1 to 65535")
    port = port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "http" and not local:
        raise RefusedTarget("the URL must be https (http only to loopback, in a demo project)")
    host = parts.hostname
    try:
        found = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedTarget(f"{host} does not resolve") from exc
    addresses = sorted({ipaddress.ip_address(info[4][0].split("%")[0]) for info in found}, key=str)
    if not addresses:
        raise RefusedTarget(f"{host} does not resolve")
    loopback_ok = local and all(a.is_loopback for a in addresses)
    if parts.scheme == "http" and not loopback_ok:
        raise RefusedTarget("the URL must be https (http only to loopback, in a demo project)")
    if not all(public(a) or loopback_ok for a in addresses):
        raise RefusedTarget(f"{host} {NOT_PUBLIC}")  # never which address: no DNS oracle
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class CallFailed(Exception):
    """The call ended without a whole answer: no connection, a timeout, or an answer that
    is not HTTP (the message says which; safe to show the URL's owner)."""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address, its socket in `self.sock` from the moment it exists (so
    the watchdog of `post` can cut it), connecting within what is left of the call."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self.deadline = time.monotonic() + timeout

    def _dial(self) -> socket.socket:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock = socket.create_connection((self._target.address, self._target.port), left)
        self.sock = sock
        return sock

    def connect(self) -> None:
        self._dial()


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate verified for the host name; the
    TLS handshake is made on the socket the watchdog can cut."""

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(
            self._dial(), server_hostname=self._target.host, do_handshake_on_connect=False
        )
        self.sock.do_handshake()


def post(
    target: Target, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_S
) -> Answer:
    """POST `body` to a checked target: no redirect followed, at most MAX_ANSWER_BYTES of
    the answer read, and the whole call (connect, TLS, headers, body) over by `timeout`.

    A socket's timeout bounds each read alone, so a receiver that drips a byte at a time
    could hold a call for ever: a watchdog shuts the socket down at the deadline.

    Raises: CallFailed, whatever the receiver did (or did not) send.
    """
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TLS layer's too

    watchdog = threading.Timer(timeout, cut)
    watchdog.daemon = True
    started = time.perf_counter()
    watchdog.start()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", **headers},
        )
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER_BYTES)
        if expired.is_set():  # cut while the last bytes came: not a whole answer
            raise TimeoutError
        return Answer(response.status, (time.perf_counter() - started) * 1000, answer)
    except Exception as exc:  # anything a receiver can provoke ends here
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise CallFailed(f"no whole answer within {timeout:g} s") from exc
        raise CallFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        watchdog.cancel()
        connection.close()
