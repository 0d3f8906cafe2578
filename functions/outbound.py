"""Calls out to addresses partners give us (webhook endpoints), safely.

A partner's URL must not reach anything of ours: only https, to a public address. The
host is resolved once, every address it resolves to is checked, and the connection goes
to the checked address (the TLS certificate is still verified for the host name), so a
DNS answer that changes between check and connect (rebinding) gains nothing. Refused:
loopback, private, link-local, CGNAT, multicast, unspecified, reserved and documentation
ranges, the metadata server, and the same hidden in IPv4-mapped, NAT64 or 6to4 IPv6
addresses. No redirect is followed, the call ends after 10 s and at most 64 KiB of the
answer is read. Locally, a `demo-` project may also call http on loopback (a receiver
on the developer's machine).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from functions.webhook_models import MAX_URL_CHARS

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
_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIX_TO_FOUR: Final = ipaddress.ip_network("2002::/16")


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
    """The IPv4 address an IPv6 one carries (mapped, NAT64 or 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is one the internet can reach and none of ours."""
    if address in METADATA_ADDRESSES:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_v4(address)
        if inner is not None:
            return public(inner)
        return address.is_global and not address.is_multicast
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
    if parts.username or parts.password:
        raise RefusedTarget("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedTarget("the URL's port is not a number from 1 to 65535") from exc
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
    refused = [str(a) for a in addresses if not (public(a) or loopback_ok)]
    if refused:
        raise RefusedTarget(f"{host} resolves to an address that is not public ({refused[0]})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate verified for the host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        sock = socket.create_connection((self._target.address, self._target.port), self.timeout)
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(sock, server_hostname=self._target.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        self.sock = socket.create_connection(
            (self._target.address, self._target.port), self.timeout
        )


def post(
    target: Target, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT_S
) -> Answer:
    """POST `body` to a checked target: no redirect followed, at most MAX_ANSWER_BYTES of
    the answer read.

    Raises: OSError (and http.client's errors) when the call fails or times out.
    """
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    started = time.perf_counter()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", **headers},
        )
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER_BYTES)
        return Answer(response.status, (time.perf_counter() - started) * 1000, answer)
    finally:
        connection.close()
