"""`make listen`'s receiver without the emulators: a delivery signed with the endpoint's
secret is printed and answered 204; a forged or unsigned one is refused with 400."""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import threading
from collections.abc import Iterator

import pytest

from devtools import listen
from functions.outside import signatures

BODY = (
    '{"id":"evt_1","type":"entries.created","record_id":"r1","writer":"app",'
    '"occurred_at":"2026-12-02T19:00:00.000000Z","data":{"amount":"1.00"}}'
)


@pytest.fixture
def running() -> Iterator[tuple[int, str, list[str]]]:
    secret = signatures.new_secret()
    lines: list[str] = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), listen.receiver(secret, lines.append, show_data=True)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, secret, lines
    server.shutdown()
    server.server_close()


def post(port: int, body: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/hook", body=body.encode(), headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_a_signed_delivery_is_printed_and_a_forged_one_refused(
    running: tuple[int, str, list[str]],
) -> None:
    port, secret, lines = running
    headers = signatures.signed_headers([secret], "evt_1", dt.datetime.now(dt.UTC), BODY)
    assert post(port, BODY, headers) == 204
    assert lines == [
        "2026-12-02T19:00:00.000000Z  entries.created          r1  writer=app  id=evt_1",
        '    {"amount": "1.00"}',
    ]
    forged = BODY.replace("1.00", "9.00")
    assert post(port, forged, headers) == 400
    other = signatures.signed_headers(
        [signatures.new_secret()], "evt_1", dt.datetime.now(dt.UTC), BODY
    )
    assert post(port, BODY, other) == 400
    assert post(port, BODY, {}) == 400
    assert [line.split(":")[0] for line in lines[2:]] == ["REFUSED  evt_1"] * 2 + ["REFUSED  ?"]
