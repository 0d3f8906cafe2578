"""Calls out to partners' URLs, without the network: every address that could reach
something of ours is refused (hidden forms included), the connection goes to the
address that was checked, and a delivery's signature verifies with the reference
library (`standardwebhooks`), old and new secret alike during a rotation."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from functions.outside import outbound, signatures
from functions.outside.outbound import RefusedTarget
from tests.helpers import RawReceiver


def resolver(*addresses: str) -> outbound.Resolver:
    """A DNS answer: `addresses` for any name."""

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        family = socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    ("address", "name"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback, anywhere in 127/8"),
        ("::1", "IPv6 loopback"),
        ("10.1.2.3", "private 10/8"),
        ("172.20.0.1", "private 172.16/12"),
        ("192.168.1.1", "private 192.168/16"),
        ("169.254.169.254", "the metadata server"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "IPv6 link-local"),
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "IPv6 multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address refused, not bound
        ("::", "IPv6 unspecified"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.10", "documentation"),
        ("fc00::1", "unique local IPv6"),
        ("fd00:ec2::254", "the IPv6 metadata server"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
        ("64:ff9b::a9fe:a9fe", "NAT64 of the metadata server"),
        ("64:ff9b::7f00:1", "NAT64 of loopback"),
        ("2002:a00:1::1", "6to4 of 10.0.0.1"),
        ("::7f00:1", "IPv4-compatible loopback"),
        ("::a9fe:a9fe", "IPv4-compatible metadata"),
        ("::ffff:0:7f00:1", "IPv4-translated loopback"),
        ("::ffff:0:a9fe:a9fe", "IPv4-translated metadata"),
        ("fec0::1", "site-local (deprecated)"),
        ("5f00::1", "unallocated (SRv6 SIDs)"),
        ("4000::1", "unallocated"),
        ("3fff::1", "documentation (RFC 9637)"),
        ("2001:db8::1", "IPv6 documentation"),
        ("2001::1", "Teredo"),
        ("2001:2::1", "benchmarking"),
        ("100::1", "discard-only"),
    ],
)
def test_an_address_that_could_reach_us_is_refused(address: str, name: str) -> None:
    with pytest.raises(RefusedTarget) as refused:
        outbound.check_url("https://hooks.example.com/in", resolve=resolver(address))
    assert "not public" in str(refused.value), name


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "2606:4700::6810:84e5", "::ffff:93.184.216.34", "2002:5db8:d822::1"],
)
def test_a_public_address_is_allowed_in_each_of_its_forms(address: str) -> None:
    target = outbound.check_url("https://hooks.example.com/in", resolve=resolver(address))
    assert ipaddress.ip_address(target.address) == ipaddress.ip_address(address)
    assert target.port == 443


def test_one_private_address_among_public_ones_refuses_the_host_without_naming_it() -> None:
    """Naming the address would tell a partner what a host name resolves to inside."""
    with pytest.raises(RefusedTarget) as refused:
        outbound.check_url(
            "https://hooks.example.com/in", resolve=resolver("93.184.216.34", "10.0.0.7")
        )
    assert str(refused.value) == "hooks.example.com resolves to an address that is not public"
    assert "10.0.0.7" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "must be https"),
        ("ftp://hooks.example.com/in", "must be https://host"),
        ("https:///in", "must be https://host"),
        ("https://user:pw@hooks.example.com/in", "user name or password"),
        ("https://hooks.example.com:99999/in", "port"),
        ("https://hooks.example.com:0/in", "port is not a number from 1 to 65535"),
        ("https://hooks.example.com/in#frag", "fragment"),
        ("https://hooks.example.com/in#", "fragment"),
        ("https://hooks.example.com/" + "a" * 2100, "longer than 2048"),
    ],
)
def test_a_url_of_the_wrong_shape_is_refused(url: str, reason: str) -> None:
    with pytest.raises(RefusedTarget, match=reason):
        outbound.check_url(url, resolve=resolver("93.184.216.34"))


def test_http_reaches_loopback_only_in_a_demo_project() -> None:
    local = outbound.check_url("http://127.0.0.1:8765/hook?x=1", local=True)
    assert (local.scheme, local.address, local.port, local.path) == (
        "http", "127.0.0.1", 8765, "/hook?x=1",
    )  # fmt: skip
    with pytest.raises(RefusedTarget, match="must be https"):
        outbound.check_url("http://127.0.0.1:8765/hook")
    with pytest.raises(RefusedTarget, match="must be https"):
        outbound.check_url(
            "http://hooks.example.com/", local=True, resolve=resolver("93.184.216.34")
        )
    with pytest.raises(RefusedTarget, match="does not resolve"):
        outbound.check_url("https://no-such-host.invalid/")


def test_the_connection_goes_to_the_checked_address_not_a_new_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = outbound.check_url("https://hooks.example.com/in", resolve=resolver("93.184.216.34"))
    assert target.address == "93.184.216.34"
    dialled: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], timeout: float) -> socket.socket:
        dialled.append(address)
        raise ConnectionRefusedError("test: not dialling out")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", resolver("127.0.0.1"))  # a rebinding answer
    with pytest.raises(outbound.CallFailed, match="ConnectionRefusedError: test: not dialling"):
        outbound.post(target, b"{}", {})
    assert dialled == [("93.184.216.34", 443)]


class _Receiver(http.server.BaseHTTPRequestHandler):
    status = 204
    location = ""

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.received.append((dict(self.headers), self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(self.status)
        if self.location:
            self.send_header("Location", self.location)
        self.end_headers()
        self.wfile.write(b"x" * 100_000 if self.status == 200 else b"")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_post_reads_at_most_64_kib_and_follows_no_redirect(
    receiver: http.server.HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    target = outbound.check_url(url, local=True)
    monkeypatch.setattr(_Receiver, "status", 200)
    answer = outbound.post(target, b'{"a":1}', {"webhook-id": "evt_1"})
    assert answer.status == 200
    assert len(answer.body) == outbound.MAX_ANSWER_BYTES
    assert answer.latency_ms > 0
    headers, body = receiver.received[-1]  # type: ignore[attr-defined]
    assert (body, headers["webhook-id"], headers["Content-Type"]) == (
        b'{"a":1}', "evt_1", "application/json",
    )  # fmt: skip
    monkeypatch.setattr(_Receiver, "status", 307)
    monkeypatch.setattr(_Receiver, "location", "http://169.254.169.254/latest/meta-data")
    assert outbound.post(target, b"{}", {}).status == 307
    assert len(receiver.received) == 2  # type: ignore[attr-defined]


def test_a_delivery_verifies_with_the_reference_library_during_a_rotation() -> None:
    old, new = signatures.new_secret(), signatures.new_secret()
    assert old != new
    assert signatures.is_secret(old)
    assert not signatures.is_secret("whsec_notbase64!")
    assert not signatures.is_secret("sk_live_abc")
    at = dt.datetime.now(dt.UTC)
    body = '{"id":"evt_1","type":"entries.created"}'
    headers = signatures.signed_headers([new, old], "evt_1", at, body)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert all(part.startswith("v1,") for part in headers["webhook-signature"].split(" "))
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"id": "evt_1", "type": "entries.created"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signatures.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("created", "deleted"), headers)
    later = signatures.signed_headers(
        [new], "evt_1", at.astimezone(dt.timezone(dt.timedelta(hours=5))), body
    )
    assert later == {**headers, "webhook-signature": headers["webhook-signature"].split(" ")[0]}
    with pytest.raises(ValueError, match="no signing secret"):
        signatures.signed_headers([], "evt_1", at, body)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"SPAM 200 OK\r\n\r\n", "BadStatusLine"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-H: 1\r\n" * 101 + b"\r\n", "HTTPException: got more"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "LineTooLong"),
        (b"", "RemoteDisconnected"),
    ],
    ids=["not HTTP", "101 headers", "a header line of 70 kB", "closed at once"],
)
def test_whatever_a_receiver_sends_the_call_fails_as_one_error(reply: bytes, error: str) -> None:
    receiver = RawReceiver(reply)
    try:
        target = outbound.check_url(f"http://127.0.0.1:{receiver.port}/", local=True)
        with pytest.raises(outbound.CallFailed) as failed:
            outbound.post(target, b"{}", {}, timeout=5)
        assert error in str(failed.value)
    finally:
        receiver.close()


def test_a_dripping_receiver_is_cut_off_at_the_deadline_of_the_whole_call() -> None:
    """Two bytes a second: every read succeeds within a socket timeout, the call does
    not; it ends at the deadline, not when the receiver is done."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100
    receiver = RawReceiver(reply, drip=2, every=0.5)
    try:
        target = outbound.check_url(f"http://127.0.0.1:{receiver.port}/", local=True)
        started = time.monotonic()
        with pytest.raises(outbound.CallFailed, match=r"no whole answer within 1\.5 s"):
            outbound.post(target, b"{}", {}, timeout=1.5)
        took = time.monotonic() - started
        assert 1.4 <= took < 4.0, took  # the deadline, not the receiver's 35 s
    finally:
        receiver.close()


def test_a_tls_handshake_dripped_a_byte_at_a_time_is_cut_at_the_deadline() -> None:
    """A TLS record header announcing 16 KiB, then its bytes one every 0.2 s: the
    handshake never ends; the call does, at its deadline (the handshake runs on the socket
    the watchdog cuts, and within what is left of the call, not a fresh timeout)."""
    hello = b"\x02\x00\x3f\xfc" + b"\x03\x03" + b"\x00" * (0x4000 - 6)  # a ServerHello
    reply = b"\x16\x03\x03\x40\x00" + hello
    receiver = RawReceiver(reply, drip=1, every=0.2)
    try:
        target = outbound.Target("https", "localhost", receiver.port, "/", "127.0.0.1")
        started = time.monotonic()
        with pytest.raises(outbound.CallFailed, match=r"no whole answer within 1\.5 s"):
            outbound.post(target, b"{}", {}, timeout=1.5)
        took = time.monotonic() - started
        assert 1.4 <= took < 4.0, took
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://hooks.example.com/" + "a" * 2023, "the URL is longer than 2048 characters"),
        ("ftp://hooks.example.com/in", "the URL must be https://host/..."),
        (
            "https://hooks.example.com/in#frag",
            "the URL must not carry a fragment (#...): receivers never see it",
        ),
        ("https://user@hooks.example.com/in", "the URL must not carry a user name or password"),
        ("https://:pw@hooks.example.com/in", "the URL must not carry a user name or password"),
        ("https://hooks.example.com:99999/in", "the URL's port is not a number from 1 to 65535"),
        ("https://hooks.example.com:0/in", "the URL's port is not a number from 1 to 65535"),
        (
            "http://hooks.example.com/in",
            "the URL must be https (http only to loopback, in a demo project)",
        ),
    ],
)
def test_each_refusal_says_exactly_why(url: str, reason: str) -> None:
    """The reason is what the owner and the partner read (the CLI, the API's 422)."""
    with pytest.raises(RefusedTarget) as refused:
        outbound.check_url(url, resolve=resolver("93.184.216.34"))
    assert str(refused.value) == reason


def test_the_checked_target_is_the_one_the_call_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver is asked for the URL's port (443 or 80 by default) and stream
    sockets; a URL at the limit passes; an empty path is `/`; a scoped IPv6 answer is
    judged without its zone."""
    asked: list[tuple[str, int, Any]] = []

    def resolve(host: str, port: int, **options: Any) -> list[tuple[Any, ...]]:
        asked.append((host, port, options.get("type")))
        address = "127.0.0.1" if host == "localhost" else "93.184.216.34"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    longest = "https://hooks.example.com/" + "a" * 2022
    assert len(longest) == 2048
    assert outbound.check_url(longest, resolve=resolve).path == "/" + "a" * 2022
    bare = outbound.check_url("https://hooks.example.com", resolve=resolve)
    assert (bare.port, bare.path, bare.address) == (443, "/", "93.184.216.34")
    local = outbound.check_url("http://localhost", local=True, resolve=resolve)
    assert (local.scheme, local.port, local.path) == ("http", 80, "/")
    assert asked == [
        ("hooks.example.com", 443, socket.SOCK_STREAM),
        ("hooks.example.com", 443, socket.SOCK_STREAM),
        ("localhost", 80, socket.SOCK_STREAM),
    ]
    with pytest.raises(RefusedTarget) as unresolved:
        outbound.check_url("https://nowhere.example/", resolve=resolver())
    assert str(unresolved.value) == "nowhere.example does not resolve"
