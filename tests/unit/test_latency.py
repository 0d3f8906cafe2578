"""The latency model's proxy on loopback: what it delays, by how much, and what it keeps
(order, content, answers at once)."""

from __future__ import annotations

import random
import socket
import socketserver
import statistics
import threading
import time
from collections.abc import Iterator

import pytest

from bench.latency import Delay, DelayProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_delay_has_the_median_and_p99_it_is_given() -> None:
    delay = Delay(8, 40)
    rng = random.Random(1)  # noqa: S311
    samples = sorted(delay.sample_s(rng) * 1000 for _ in range(20_000))
    assert statistics.median(samples) == pytest.approx(8, rel=0.05)
    assert samples[int(0.99 * len(samples))] == pytest.approx(40, rel=0.1)
    assert Delay.parse("30,120") == Delay(30, 120)
    for bad in ((0, 10), (10, 5)):
        with pytest.raises(ValueError, match="median"):
            Delay(*bad)


def test_each_request_waits_its_delay_and_answers_come_back_in_order(echo: str) -> None:
    proxy = DelayProxy(echo, Delay(50, 50.001)).start()  # a fixed 50 ms
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as connection:
            timings = []
            for i in range(5):
                started = time.perf_counter()
                connection.sendall(f"ping {i}".encode())
                assert connection.recv(100) == f"ping {i}".encode()
                timings.append(time.perf_counter() - started)
        assert min(timings) >= 0.049
        assert statistics.median(timings) < 0.2
        assert proxy.chunks == 5
    finally:
        proxy.stop()
