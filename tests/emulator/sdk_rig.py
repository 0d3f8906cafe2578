"""What the SDK tests of both languages share: the base URL of the running functions,
partners with keys, and a proxy that loses the answer of a create after the functions
committed it."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import uuid
from typing import Any

import requests

from tests.helpers import PROJECT, REGION, cli, reply

SDK_SCOPES = "entries:read,entries:write,events:read,webhooks:write"
HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
)
LOST_BODY = json.dumps(
    {
        "error": {
            "status": 503,
            "code": "unavailable",
            "message": "The answer was lost on the way (a proxy of the test).",
            "request_id": "proxy-lost-answer",
        }
    }
).encode()


def base_url() -> str:
    """The SDKs' base URL on the emulator: function URLs are `<base>/<function>`."""
    return f"{os.environ['FUNCTIONS_EMULATOR_ORIGIN']}/{PROJECT}/{REGION}"


def sdk_partner(scopes: str = SDK_SCOPES) -> tuple[str, str]:
    """A partner of its own and a key: (partner id, key)."""
    partner_id = f"sdk-{uuid.uuid4().hex[:10]}"
    made = cli("--json", "keys", "create", "--partner", partner_id, "--create-partner",
               "--scopes", scopes)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return partner_id, str(json.loads(made.stdout)["key"])


class LosingProxy:
    """Forwards every request to the functions. The answer of a POST is lost after the
    functions answered it: with `mode` "503", a 503 in the API's envelope; with "cut", the
    connection closed without a word. A POST that carries an Idempotency-Key loses only
    its first answer (its retries pass); one without loses every answer. `forwarded`
    counts each key's tries."""

    def __init__(self, upstream: str, mode: str = "503") -> None:
        self.forwarded: dict[str, int] = {}
        self.lost: list[str] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.request(
                    self.command, upstream + self.path, data=body, headers=headers, timeout=120
                )
                key = self.headers.get("Idempotency-Key")
                with proxy.lock:
                    lose = self.command == "POST" and key not in proxy.forwarded
                    if key is not None:
                        proxy.forwarded[key] = proxy.forwarded.get(key, 0) + 1
                    if lose:
                        proxy.lost.append(answer.text)
                if lose:
                    if mode == "cut":
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    reply(self, 503, LOST_BODY, {"Content-Type": "application/json"})
                    return
                passed = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
                reply(self, answer.status_code, answer.content, passed)

            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def do_PATCH(self) -> None:
                self._relay()

            def do_DELETE(self) -> None:
                self._relay()

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
