"""The emulator suite's resend of a request the Functions emulator dropped: once, only
for that exact answer, only to the emulator's origin."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.helpers import EMULATOR_HANG_UP, resending_hang_ups


class Answers:
    """A loopback server that answers the queued (status, body) pairs in turn."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, bytes]] = []
        self.bodies: list[bytes] = []
        answers = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                answers.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                status, body = answers.queue.pop(0) if answers.queue else (201, b"{}")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def answers() -> Iterator[Answers]:
    made = Answers()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _post(answers: Answers, origin: str) -> requests.Response:
    send = resending_hang_ups(requests.Session.send, origin)
    with requests.Session() as session:
        request = session.prepare_request(
            requests.Request("POST", answers.origin + "/p/r/createEntry", json={"n": 1})
        )
        return send(session, request, timeout=10)  # type: ignore[no-any-return]


def test_a_dropped_request_is_sent_once_more_with_its_body(answers: Answers) -> None:
    answers.queue = [(500, EMULATOR_HANG_UP), (500, EMULATOR_HANG_UP)]
    answer = _post(answers, answers.origin)
    assert answer.status_code == 500  # the second drop is the answer: once, not a loop
    assert answers.bodies == [b'{"n": 1}', b'{"n": 1}']
    answers.queue = [(500, EMULATOR_HANG_UP)]
    assert _post(answers, answers.origin).status_code == 201


@pytest.mark.parametrize(
    ("body", "origin"),
    [
        (b'{"error":{"code":"internal"}}', None),  # our own 500: an answer, kept
        (b'{"code":"ECONNRESET"} ', None),  # not exactly the emulator's
        (EMULATOR_HANG_UP, "http://127.0.0.1:1"),  # another origin than the emulator's
        (EMULATOR_HANG_UP, ""),  # no emulator known
    ],
)
def test_anything_else_is_the_answer(answers: Answers, body: bytes, origin: str | None) -> None:
    answers.queue = [(500, body)]
    answer = _post(answers, answers.origin if origin is None else origin)
    assert (answer.status_code, answer.content) == (500, body)
    assert len(answers.bodies) == 1
