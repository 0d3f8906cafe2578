"""Commit to delivery, and what events cost a create (`make webhooks-bench`).

On the emulators (Firestore, Functions, Cloud Tasks), one partner with one webhook
endpoint (a receiver on loopback, in this process) creates N entries through
createEntry, one after another. For each, the time from the 201 (the commit is just
before it) to the verified delivery at the receiver: p50, p90, p99, max. Then what the
run left in Firestore per create, counted: records, audit records, events, delivery
records and their attempts. Prints and writes bench/results/deliveries.{json,md}.

The emulators' latency is not production's (the Functions emulator starts workers, the
Cloud Tasks emulator polls its queues): the figure to carry over is the documents a
create writes; the latency says where the time goes on one machine.
"""

from __future__ import annotations

import argparse
import http.server
import json
import statistics
import sys
import threading
import time
import uuid
from typing import Any

import requests
from standardwebhooks import Webhook

from bench.settings import RESULTS
from devtools.stack import function_url

PROJECT = "demo-partner-api"


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(creates: int, timeout_s: float) -> dict[str, Any]:
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    from functions import store  # noqa: PLC0415
    from functions.core import config  # noqa: PLC0415
    from functions.operations.operator import Operator  # noqa: PLC0415

    arrived: dict[str, float] = {}
    condition = threading.Condition()
    secret_box: list[str] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            at = time.perf_counter()
            headers = {k.lower(): v for k, v in self.headers.items()}
            event = Webhook(secret_box[0]).verify(body, headers)
            with condition:
                arrived.setdefault(str(event["record_id"]), at)
                condition.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    partner_id = f"bench-{uuid.uuid4().hex[:8]}"
    operator = Operator(PROJECT)
    operator.add_partner(partner_id, None, {"ratePerSecond": 1000, "burst": 1000})
    issued = operator.create_key(partner_id, None)
    endpoint, secret = operator.add_webhook(
        partner_id, f"http://127.0.0.1:{server.server_port}/hook", ["*"]
    )
    secret_box.append(secret)
    committed: dict[str, float] = {}
    create_ms: list[float] = []
    headers = {"Authorization": f"Bearer {issued.key}"}
    with requests.Session() as session:
        for index in range(creates):
            body = {
                "description": f"bench {index}",
                "amount": "1.00",
                "currency": "EUR",
                "date": "2026-03-01",
            }
            started = time.perf_counter()
            response = session.post(function_url(PROJECT, "createEntry"), json=body,
                                    headers=headers, timeout=60)  # fmt: skip
            done = time.perf_counter()
            if response.status_code != 201:
                raise RuntimeError(f"a create failed: {response.status_code} {response.text}")
            committed[response.json()["id"]] = done
            create_ms.append((done - started) * 1000)
    deadline = time.monotonic() + timeout_s
    with condition:
        condition.wait_for(
            lambda: len(arrived) >= creates, timeout=max(0.0, deadline - time.monotonic())
        )
    server.shutdown()
    latencies = [(arrived[i] - committed[i]) * 1000 for i in committed if i in arrived]
    database = store.client()
    mine = FieldFilter("partnerId", "==", partner_id)

    def count(collection: str) -> int:
        return len(list(database.collection(collection).where(filter=mine).stream()))

    deliveries = [
        d.to_dict() or {}
        for d in database.collection(config.deliveries_collection()).where(filter=mine).stream()
    ]
    operator.delete_webhook(endpoint.id)
    return {
        "creates": creates,
        "delivered": len(latencies),
        "create_ms": {
            "p50": round(statistics.median(create_ms), 1),
            "p99": round(_quantile(create_ms, 0.99), 1),
        },
        "commit_to_delivery_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p90": round(_quantile(latencies, 0.90), 1),
            "p99": round(_quantile(latencies, 0.99), 1),
            "max": round(max(latencies), 1),
        }
        if latencies
        else {},
        "documents_per_create": {
            "records": count("entries") / creates,
            "audit records": count(config.audit_collection()) / creates,
            "events": count(config.events_collection()) / creates,
            "delivery records": len(deliveries) / creates,
            "delivery attempts": sum(len(d.get("attempts") or []) for d in deliveries) / creates,
        },
    }


def report(found: dict[str, Any]) -> str:
    latency = found["commit_to_delivery_ms"]
    lines = [
        "# Commit to delivery, and what events cost a create",
        "",
        f"Emulators (Firestore, Functions, Cloud Tasks) on one machine: {found['creates']} "
        f"creates one after another through createEntry with an API key, one webhook "
        f"endpoint on loopback; {found['delivered']} delivered and verified.",
        "",
        "| | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|",
        f"| commit (201) to delivery | {latency.get('p50', '-')} ms | {latency.get('p90', '-')} ms "
        f"| {latency.get('p99', '-')} ms | {latency.get('max', '-')} ms |",
        f"| the create itself | {found['create_ms']['p50']} ms | | "
        f"{found['create_ms']['p99']} ms | |",
        "",
        "Documents the run left per create (counted in Firestore):",
        "",
        "| kind | per create |",
        "|---|---|",
        *(f"| {kind} | {value:g} |" for kind, value in found["documents_per_create"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make webhooks-bench", description=__doc__)
    parser.add_argument("--creates", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")
    args = parser.parse_args(argv)
    found = measure(args.creates, args.timeout)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "deliveries.json").write_text(json.dumps(found, indent=2) + "\n")
    text = report(found)
    (RESULTS / "deliveries.md").write_text(text)
    print(text)
    return 0 if found["delivered"] == found["creates"] else 1


if __name__ == "__main__":
    sys.exit(main())
