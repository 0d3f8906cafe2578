"""A latency model of production on one machine: a user-space TCP proxy in front of an
emulator that holds every chunk a client sends for a delay drawn from a distribution,
before passing it on (answers come back at once). gRPC (Firestore) and HTTP (Auth) pass
through unchanged; a request therefore costs one modelled round trip, and requests that
overlap in time overlap their delays, as they would across a network.

The delays are log-normal, set by their median and 99th percentile: parameters, since
the right figures depend on the region and the day (`--firestore-ms`, `--auth-ms`).
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from dataclasses import dataclass
from typing import Final

DEFAULT_DELAYS: Final = {"firestore": "8,40", "auth": "25,100"}
"""Round trips from a function to Firestore and to Identity Toolkit in its own region, as
median,p99 in ms: assumptions to be replaced by figures of the owner's own region. No
per-call figures are published; the one measurement found (firebase-admin-java#430: an
App Engine endpoint verifying an ID token with its user lookup, timed from US West at a
71 ms median end to end) bounds the Auth figure from above."""
Z_99: Final = 2.3263
"""The standard normal's 99th percentile."""


@dataclass(frozen=True)
class Delay:
    """A log-normal delay by its median and 99th percentile, in milliseconds."""

    median_ms: float
    p99_ms: float

    def __post_init__(self) -> None:
        if not 0 < self.median_ms <= self.p99_ms:
            raise ValueError("a delay needs 0 < median <= p99")

    def sample_s(self, rng: random.Random) -> float:
        sigma = math.log(self.p99_ms / self.median_ms) / Z_99
        return rng.lognormvariate(math.log(self.median_ms), sigma) / 1000

    @classmethod
    def parse(cls, text: str) -> Delay:
        """`8,40`: median 8 ms, p99 40 ms."""
        median, p99 = (float(part) for part in text.split(","))
        return cls(median, p99)


class DelayProxy:
    """Listens on a loopback port and forwards to `target`, delaying what clients send."""

    def __init__(self, target: str, delay: Delay, seed: int = 7) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.delay = delay
        self.rng = random.Random(seed)  # noqa: S311 - a delay, not a secret
        self.port = 0
        self.chunks = 0
        """Chunks delayed so far (about one per request)."""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True, name="delay-proxy")
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DelayProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delaying proxy did not start")
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then the loop."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_w)
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        self._writers.add(upstream_w)
        await asyncio.gather(
            self._delayed(client_r, upstream_w),
            self._plain(upstream_r, client_w),
            return_exceptions=True,
        )

    async def _delayed(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Forward each chunk once its delay has passed, in order: a chunk is never sent
        before the one read before it (TCP keeps order)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        release = 0.0

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    sink.close()
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                sink.write(data)
                await sink.drain()

        sender = asyncio.ensure_future(send())
        while True:
            data = await source.read(65536)
            if data:
                self.chunks += 1
                release = max(release, time.monotonic() + self.delay.sample_s(self.rng))
            await queue.put((release, data))
            if not data:
                break
        await sender

    @staticmethod
    async def _plain(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
        sink.close()
