"""One instance at the concurrency Cloud Run gives a partner function: 80 requests at once.

The `api` function runs under functions-framework's production server (gunicorn, one
worker) with THREADS at 4 (what the framework gives one vCPU unless THREADS is set), 16
and 80, against a fresh Firestore emulator behind the latency model (`bench.latency`:
every Firestore round trip takes a modelled 8 ms median, 40 ms p99). wrk keeps 80
connections busy, each request a page of 20 or one record of one of 8 partners, each
with its own API key. Per thread count: calls a second, p50 and p99, errors, the
server's CPU per call, and its peak memory (the master's and the worker's high-water
marks added, as Cloud Run counts the container's memory).

`make capacity` (and `make bench`); results in bench/results/capacity.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.latency import DEFAULT_DELAYS, Delay, DelayProxy
from bench.load import Load, run_wrk
from bench.servers import Server, _descendants, _vm_hwm_kib
from bench.settings import RESULTS, ROOT

PARTNERS = 8
RECORDS = 100
THREADS = (4, 16, 80)
CONNECTIONS = 80
LIMIT_MIB = 256


def seed(client: Any, project: str) -> list[tuple[str, str]]:
    """PARTNERS partners with RECORDS entries and an API key each: (partner, key)."""
    from functions.core.models import MAX_BURST, MAX_DAILY_CREATES, MAX_RATE_PER_S  # noqa: PLC0415
    from functions.operations.keys import KeyDirectory  # noqa: PLC0415

    unlimited = {"ratePerSecond": MAX_RATE_PER_S, "burst": MAX_BURST,
                 "dailyCreates": MAX_DAILY_CREATES}  # fmt: skip
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    made = []
    for p in range(PARTNERS):
        partner = f"cap{p}"
        client.collection("partners").document(partner).set(
            {"status": "active", "limits": unlimited}
        )
        batch = client.batch()
        for i in range(RECORDS):
            moment = start + dt.timedelta(seconds=i)
            batch.set(
                client.collection("entries").document(f"{partner}-{i:03d}"),
                {"description": f"Entry {i}", "amount": f"{i}.00", "currency": "EUR",
                 "date": "2026-06-01", "partnerId": partner, "createdAt": moment,
                 "updatedAt": moment, "createdBy": "seed", "version": 1},
            )  # fmt: skip
        batch.commit()
        made.append((partner, KeyDirectory(project, client).create(partner, None).key))
    return made


def script(partners: list[tuple[str, str]], folder: Path) -> Path:
    """A wrk script: partner after partner, nine pages of 20 for one record by id."""
    keys = ", ".join(f'"{key}"' for _, key in partners)
    ids = ", ".join(f'"{partner}-007"' for partner, _ in partners)
    path = folder / f"capacity-{uuid.uuid4().hex[:8]}.lua"
    path.write_text(
        f"local keys = {{{keys}}}\nlocal ids = {{{ids}}}\nlocal counter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  local p = counter % #keys + 1\n"
        '  local headers = {["Authorization"] = "Bearer " .. keys[p]}\n'
        '  if counter % 10 == 0 then return wrk.format("GET", "/v1/entries/" .. ids[p], '
        "headers, nil) end\n"
        '  return wrk.format("GET", "/v1/entries?limit=20", headers, nil)\nend\n'
    )
    return path


def peak_mib(server: Server) -> float:
    """The high-water marks of the server's processes, added (master and worker)."""
    assert server.process is not None
    pids = [server.process.pid, *_descendants(server.process.pid)]
    return round(sum(_vm_hwm_kib(pid) for pid in pids) / 1024, 1)


def measure(
    threads: int, env: dict[str, str], lua: Path, seconds: int, logs: Path
) -> dict[str, Any]:
    framework = str(Path(sys.executable).parent / "functions-framework")
    server = Server(
        f"api-threads-{threads}",
        [framework, "--target", "api", "--source", "main.py", "--host", "127.0.0.1",
         "--port", "{port}"],
        {**env, "THREADS": str(threads)},
        cwd=ROOT,
        log=logs / f"capacity-threads-{threads}.log",
        probe_path="/health",
    )  # fmt: skip
    server.start()
    try:
        run_wrk(server.url, lua, 2, CONNECTIONS)  # warm: connections, caches, leases
        before = server.cpu_s()
        load: Load = run_wrk(server.url, lua, seconds, CONNECTIONS)
        spent = server.cpu_s() - before
        return {
            "threads": threads,
            "calls_per_s": load.rps,
            "p50_ms": load.p50_ms,
            "p99_ms": load.p99_ms,
            "requests": load.requests,
            "errors": load.errors,
            "cpu_ms_per_call": round(spent * 1000 / load.requests, 2) if load.requests else None,
            "peak_mib": peak_mib(server),
        }
    finally:
        server.stop()


def render(result: dict[str, Any]) -> str:
    lines = [
        "# One instance at 80 requests at once",
        "",
        f"`api` under functions-framework (gunicorn), {CONNECTIONS} connections, "
        f"{PARTNERS} partners with API keys, 9 pages of 20 to 1 get; Firestore round trips "
        f"modelled at {result['firestore_ms'][0]:g} ms median, {result['firestore_ms'][1]:g} ms "
        f"p99; {result['seconds']} s a run; {result['cpus']} CPUs shared with the emulator, "
        "the model and wrk.",
        "",
        "| THREADS | calls/s | p50 ms | p99 ms | errors | CPU ms a call | peak MiB (of 256) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["runs"]:
        lines.append(
            f"| {row['threads']} | {row['calls_per_s']:.0f} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['errors']} | {row['cpu_ms_per_call']} | "
            f"{row['peak_mib']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--firestore-ms", default=DEFAULT_DELAYS["firestore"])
    args = parser.parse_args(argv)
    from devtools.emulators import FirestoreProcess  # noqa: PLC0415
    from functions import store  # noqa: PLC0415

    firestore = FirestoreProcess()
    firestore.start()
    stack_firestore = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore.host
    logs = RESULTS / "raw"
    logs.mkdir(parents=True, exist_ok=True)
    delay = Delay.parse(args.firestore_ms)
    proxy = DelayProxy(firestore.host, delay).start()
    try:
        partners = seed(store.client(), os.environ["GCLOUD_PROJECT"])
        lua = script(partners, logs)
        env = {**os.environ, "FIRESTORE_EMULATOR_HOST": proxy.host, "USAGE_FLUSH_SECONDS": "30"}
        runs = []
        for threads in THREADS:
            print(f"capacity: THREADS={threads} ...", flush=True)
            runs.append(measure(threads, env, lua, args.seconds, logs))
            time.sleep(2)
    finally:
        proxy.stop()
        firestore.kill()
        if stack_firestore is None:
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = stack_firestore
    result = {
        "firestore_ms": [delay.median_ms, delay.p99_ms],
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "connections": CONNECTIONS,
        "partners": PARTNERS,
        "runs": runs,
    }
    (RESULTS / "capacity.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "capacity.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
