"""Rate limits shared by serving processes (`make limits`): one partner at 3x and at 80%
of its limit for 60 s against 1, 2 and 4 functions-framework processes, another partner
calling alongside.

For each run it prints and writes to bench/results/limits.{json,md}: calls admitted
against the ceiling (limit x 1.1 + burst), the share refused at 80%, the Firestore
operations the limiter spent per call (counted by the functions in their request logs),
and the bystander's 429s. Runs under the emulators (`devtools.stack exec`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

from bench.settings import RESULTS
from devtools.functions_server import serve_function

RATE, BURST = 20.0, 40
"""The limited partner's limits (a record override): 20 calls a second, 40 at once."""
BYSTANDER_RATE = 2.0


def _partner(partner_id: str, limits: dict[str, Any] | None) -> str:
    """A partner record and an API key of it."""
    from functions import store  # noqa: PLC0415
    from functions.operations.keys import KeyDirectory  # noqa: PLC0415

    record: dict[str, Any] = {"status": "active"}
    if limits:
        record["limits"] = limits
    store.client().collection("partners").document(partner_id).set(record)
    return KeyDirectory(os.environ["GCLOUD_PROJECT"], store.client()).create(partner_id, None).key


def _paced(rate: float, seconds: float, call: Callable[[int], int]) -> Counter[int]:
    """Open-loop load: calls started at `rate` a second whatever the answers' speed."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one(index: int) -> None:
        status = call(index)
        with lock:
            statuses[status] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        for index in range(int(rate * seconds)):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, index)
    return statuses


def _run(processes: int, load: float, seconds: float, workdir: Path) -> dict[str, Any]:
    tag = f"p{processes}-{int(load * 100)}-{int(time.time())}"
    limited = _partner(f"limited-{tag}", {"ratePerSecond": RATE, "burst": BURST})
    bystander = _partner(f"bystander-{tag}", None)
    logs = [workdir / f"{tag}-{i}.log" for i in range(processes)]
    with ExitStack() as stack:
        urls = [stack.enter_context(serve_function("fetchData", log)) for log in logs]
        session = requests.Session()

        def call(key: str) -> Callable[[int], int]:
            def send(index: int) -> int:
                url = urls[index % len(urls)]
                headers = {"Authorization": f"Bearer {key}"}
                return requests.get(url, headers=headers, timeout=30).status_code

            return send

        by_stander: dict[str, Counter[int]] = {}
        side = threading.Thread(
            target=lambda: by_stander.setdefault(
                "statuses", _paced(BYSTANDER_RATE, seconds, call(bystander))
            )
        )
        started = time.monotonic()
        side.start()
        statuses = _paced(RATE * load, seconds, call(limited))
        elapsed = time.monotonic() - started
        side.join()
        session.close()
    operations = 0
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and f"limited-{tag}" in line:
                operations += json.loads(line).get("limiter_operations", 0)
    calls = sum(statuses.values())
    admitted = statuses.get(200, 0)
    ceiling = RATE * elapsed * 1.1 + BURST
    return {
        "processes": processes,
        "load": load,
        "seconds": round(elapsed, 1),
        "calls": calls,
        "admitted": admitted,
        "refused": statuses.get(429, 0),
        "other": {str(k): v for k, v in statuses.items() if k not in (200, 429)},
        "ceiling": round(ceiling, 1),
        "refused_share": round(statuses.get(429, 0) / calls, 4) if calls else None,
        "operations": operations,
        "operations_per_call": round(operations / calls, 3) if calls else None,
        "operations_per_admitted": round(operations / admitted, 3) if admitted else None,
        "bystander_429": by_stander["statuses"].get(429, 0),
        "bystander_calls": sum(by_stander["statuses"].values()),
    }


def _verdicts(run: dict[str, Any]) -> dict[str, bool]:
    found = {"bystander never refused": run["bystander_429"] == 0}
    if run["load"] > 1:
        found["admitted <= limit x 1.1 + burst"] = run["admitted"] <= run["ceiling"]
        found["operations <= 0.2 per call"] = run["operations_per_call"] <= 0.2
    else:
        found["under 1% refused at 80%"] = run["refused_share"] < 0.01
    return found


def render(runs: list[dict[str, Any]]) -> str:
    lines = [
        f"# Shared rate limits: {RATE:g}/s, burst {BURST}, one partner, 1/2/4 processes",
        "",
        "| processes | load | calls | admitted | ceiling | refused | ops/call | ops/admitted "
        "| bystander 429 | holds |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        verdicts = _verdicts(run)
        holds = (
            "yes"
            if all(verdicts.values())
            else "no: " + ", ".join(name for name, ok in verdicts.items() if not ok)
        )
        lines.append(
            f"| {run['processes']} | {run['load']:.0%} | {run['calls']} | {run['admitted']} "
            f"| {run['ceiling']} | {run['refused_share']:.2%} | {run['operations_per_call']} "
            f"| {run['operations_per_admitted']} | {run['bystander_429']} "
            f"of {run['bystander_calls']} | {holds} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as workdir:
        for processes in args.processes:
            for load in (3.0, 0.8):
                run = _run(processes, load, args.seconds, Path(workdir))
                print(json.dumps(run), file=sys.stderr)
                runs.append(run)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "limits.json").write_text(json.dumps(runs, indent=2) + "\n")
    table = render(runs)
    (RESULTS / "limits.md").write_text(table)
    print(table)
    return 0 if all(all(_verdicts(run).values()) for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
