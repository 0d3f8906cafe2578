"""What an SDK call costs the partner's process beyond a bare HTTP call.

A server in a process of its own answers every request on loopback with the same page
of 20 entries (as `GET /api/v1/entries` answers). In the client's process, rounds
alternate a bare call (the HTTP client the SDK uses, the same headers, the body parsed as
JSON) and the SDK's `entries.list(limit=20)`, CALLS calls each, and measure the
process's CPU time: Python with httpx and the Python SDK, Node with fetch and the
TypeScript SDK (its built `dist/`). The overhead is the median over rounds of the SDK's
CPU per call minus the bare call's; the target is at most 0.3 ms.

`make sdk-bench` (and `make bench`); results in bench/results/sdk_overhead.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.settings import RESULTS, ROOT

TARGET_MS = 0.3
CALLS = 2000
ROUNDS = 5
KEY = "pak_test_" + "k" * 40

SERVER = """
import http.server, json, sys
entry = {"id": "Xf3kT9aQ2Lm0PzR8wB1c", "partnerId": "acme", "description": "Catering, March",
         "amount": "123.45", "currency": "EUR", "date": "2026-03-31", "category": "food",
         "reference": None, "createdAt": "2026-03-31T09:15:00.000000Z",
         "updatedAt": "2026-03-31T09:15:00.000000Z", "createdBy": "key:0123456789abcdef",
         "version": 1}
body = json.dumps({"data": [entry] * 20, "next_cursor": None, "has_more": False,
                   "skipped": []}).encode()
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", "0123456789abcdef0123456789abcdef")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""

NODE = """
import { PartnerApi } from "%(sdk)s";
const [base, key] = [process.argv[2], process.argv[3]];
const [calls, rounds] = [+process.argv[4], +process.argv[5]];
const api = new PartnerApi({ baseUrl: base, apiKey: key });
const headers = { Authorization: `Bearer ${key}`, Accept: "application/json",
                  "User-Agent": api.transport.userAgent };
const bare = async () => (await fetch(`${base}/api/v1/entries?limit=20`, { headers })).json();
const sdk = () => api.entries.list({ limit: 20 });
const cpu = async (call) => {
  const start = process.cpuUsage();
  for (let n = 0; n < calls; n++) await call();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / calls;
};
for (let n = 0; n < 200; n++) { await bare(); await sdk(); }
const out = { bare: [], sdk: [] };
for (let r = 0; r < rounds; r++) { out.bare.push(await cpu(bare)); out.sdk.push(await cpu(sdk)); }
console.log(JSON.stringify(out));
"""


def python_rounds(base: str, calls: int, rounds: int) -> dict[str, list[float]]:
    """CPU ms per call, per round, of a bare httpx call and of the SDK's."""
    import httpx  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "sdk" / "python" / "src"))  # the SDK as committed
    from partner_api import PartnerApi  # noqa: PLC0415

    http = httpx.Client(timeout=30)
    api = PartnerApi(base, api_key=KEY, http_client=http)
    headers = {
        "Authorization": f"Bearer {KEY}",
        "Accept": "application/json",
        "User-Agent": api.transport.user_agent,
    }

    def bare() -> Any:
        return http.get(f"{base}/api/v1/entries", params={"limit": "20"}, headers=headers).json()

    def sdk() -> Any:
        return api.entries.list(limit=20)

    def cpu(call: Any) -> float:
        start = time.process_time()
        for _ in range(calls):
            call()
        return (time.process_time() - start) * 1000 / calls

    for _ in range(200):
        bare()
        sdk()
    out: dict[str, list[float]] = {"bare": [], "sdk": []}
    for _ in range(rounds):
        out["bare"].append(cpu(bare))
        out["sdk"].append(cpu(sdk))
    http.close()
    return out


def node_rounds(base: str, calls: int, rounds: int, folder: Path) -> dict[str, list[float]]:
    script = folder / "sdk_overhead.mjs"
    sdk = (ROOT / "sdk" / "typescript" / "dist" / "index.js").as_uri()
    script.write_text(NODE % {"sdk": sdk})
    ran = subprocess.run(
        ["node", str(script), base, KEY, str(calls), str(rounds)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return dict(json.loads(ran.stdout))


def summary(rounds: dict[str, list[float]]) -> dict[str, Any]:
    overhead = [s - b for s, b in zip(rounds["sdk"], rounds["bare"], strict=True)]
    median = statistics.median(overhead)
    return {
        "bare_ms": round(statistics.median(rounds["bare"]), 4),
        "sdk_ms": round(statistics.median(rounds["sdk"]), 4),
        "overhead_ms": round(median, 4),
        "overhead_by_round_ms": [round(o, 4) for o in overhead],
        "holds": median <= TARGET_MS,
    }


def render(results: dict[str, Any]) -> str:
    lines = [
        "# SDK overhead",
        "",
        f"Client CPU per call, median of {results['rounds']} rounds of {results['calls']} "
        "calls (a page of 20 entries from a server on loopback in another process); "
        f"target: the SDK adds at most {TARGET_MS} ms.",
        "",
        "| SDK | bare call | SDK call | overhead | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, label in (("python", "Python (httpx)"), ("typescript", "TypeScript (fetch)")):
        row = results[name]
        lines.append(
            f"| {label} | {row['bare_ms']:.3f} ms | {row['sdk_ms']:.3f} ms | "
            f"{row['overhead_ms']:.3f} ms | {'holds' if row['holds'] else 'MISSED'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        RESULTS.mkdir(parents=True, exist_ok=True)
        results = {
            "calls": args.calls,
            "rounds": args.rounds,
            "target_ms": TARGET_MS,
            "python": summary(python_rounds(base, args.calls, args.rounds)),
            "typescript": summary(node_rounds(base, args.calls, args.rounds, RESULTS / "raw")),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    (RESULTS / "sdk_overhead.json").write_text(json.dumps(results, indent=2) + "\n")
    report = render(results)
    (RESULTS / "sdk_overhead.md").write_text(report)
    print(report)
    return 0 if results["python"]["holds"] and results["typescript"]["holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
