"""`make listen PARTNER=acme`: a local webhook receiver, as `stripe listen` is.

Against the emulators of `make serve`, it registers a webhook endpoint for the partner
that points at itself (http on loopback, which a demo project allows), verifies every
delivery's signature with the reference library (`standardwebhooks`) and prints each
event; on Ctrl-C it deletes the endpoint again. A delivery that does not verify is
answered 400 and printed as refused.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from devtools.stack import DEFAULT_PROJECT, client_env

Printer = Callable[[str], None]


def describe(event: dict[str, Any]) -> str:
    """One line of a verified event: its type, record, writer and id."""
    return (
        f"{event.get('occurred_at', '?')}  {event.get('type', '?'):<24} "
        f"{event.get('record_id', '?')}  writer={event.get('writer', '?')}  "
        f"id={event.get('id', '?')}"
    )


def receiver(
    secret: str, say: Printer, show_data: bool = False
) -> type[http.server.BaseHTTPRequestHandler]:
    """A request handler that verifies and prints each delivery."""
    hook = Webhook(secret)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                event = hook.verify(body, headers)
            except (WebhookVerificationError, ValueError) as exc:
                say(f"REFUSED  {headers.get('webhook-id', '?')}: {exc}")
                self.send_response(400)
                self.end_headers()
                return
            say(describe(event))
            if show_data:
                say("    " + json.dumps(event.get("data"), ensure_ascii=False))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make listen", description=__doc__.splitlines()[0])
    parser.add_argument("--partner", required=True, help="whose events to receive")
    parser.add_argument("--events", default="*", help="comma-separated event types (default *)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any)")
    parser.add_argument("--data", action="store_true", help="print each event's data too")
    parser.add_argument("--project", default=os.environ.get("PROJECT") or DEFAULT_PROJECT)
    args = parser.parse_args(argv)
    os.environ.update(client_env(args.project))
    from functions.operations.errors import Refused  # noqa: PLC0415 - after the environment is set
    from functions.operations.operator import Operator  # noqa: PLC0415

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.port), http.server.BaseHTTPRequestHandler
    )
    url = f"http://127.0.0.1:{server.server_port}/hook"
    operator = Operator(args.project)
    events = [e.strip() for e in args.events.split(",") if e.strip()]
    try:
        endpoint, secret = operator.add_webhook(args.partner, url, events, "make listen")
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    server.RequestHandlerClass = receiver(secret, lambda line: print(line, flush=True), args.data)
    print(f"listening on {url} for {args.partner}'s events (endpoint {endpoint.id}); Ctrl-C stops")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        operator.delete_webhook(endpoint.id)
        print(f"endpoint {endpoint.id} deleted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
