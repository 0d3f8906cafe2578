"""The benchmark: our functions beside the seed's Node design and a naive Python port.

For each N (100 and 10,000; 100,000 with --large) it starts a fresh Firestore emulator
(the emulator slows down with write history), seeds N entries for one partner, starts
every peer, and runs wrk against them in rounds that alternate the peers (A B C A B C),
idling between runs. Writes go to a separate collection so N stays N. Then cold starts
(median of 5), the import time of main.py, peak RSS of each serving process, and the
documents read per fetchData request, counted by the store layer in its logs.

Then `bench.capacity`: one instance at 80 calls at once, by server threads; last,
`bench.sdk_overhead`: the client CPU an SDK call adds to a bare HTTP call.

`make bench`; output in bench/results/ (results.md, results.json, p50_vs_n.png,
capacity.md, capacity.json, sdk_overhead.md, sdk_overhead.json).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

from bench import auth_cost, capacity, page_cost, sdk_overhead
from bench.latency import DEFAULT_DELAYS, Delay
from bench.report import plot, render, targets
from bench.scenarios import import_time_s, measure_n
from bench.settings import NODE_PEER, RESULTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also N = 100,000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sizes", type=int, nargs="*", help="override the N values")
    parser.add_argument(
        "--firestore-ms",
        default=DEFAULT_DELAYS["firestore"],
        help="the latency model's Firestore round trip: median,p99 in ms",
    )
    parser.add_argument(
        "--auth-ms",
        default=DEFAULT_DELAYS["auth"],
        help="the latency model's Auth (Identity Toolkit) round trip: median,p99 in ms",
    )
    parser.add_argument("--no-latency-model", action="store_true", help="skip the model")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if not (NODE_PEER / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_PEER, check=True
        )
    sizes = args.sizes or ([100, 10_000, 100_000] if args.large else [100, 10_000])
    settings = {"rounds": args.rounds, "seconds": args.seconds, "connections": args.connections}
    import_s = import_time_s()
    results = []
    for n in sizes:
        print(f"N = {n:,} ...", flush=True)
        delays = None
        if not args.no_latency_model:
            delays = {
                "firestore": Delay.parse(args.firestore_ms),
                "auth": Delay.parse(args.auth_ms),
            }
        results.append(measure_n(n, **settings, delays=delays))
    checks = targets(results, import_s)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # The loads are written first: they take most of the run, and survive a later failure.
    (RESULTS / "results.json").write_text(
        json.dumps(
            {
                "settings": settings,
                "import_main_s": import_s,
                "results": results,
                "targets": [{"target": n, "holds": ok, "figures": f} for n, ok, f in checks],
            },
            indent=2,
        )
        + "\n"
    )
    plot(results, RESULTS / "p50_vs_n.png")
    verification = auth_cost.measure()
    page = page_cost.measure()
    (RESULTS / "page_cost.json").write_text(json.dumps(page, indent=2) + "\n")
    report = (
        render(results, import_s, checks, settings)
        + auth_cost.render(verification)
        + page_cost.render(page)
    )
    (RESULTS / "results.md").write_text(report)
    print(report)
    # One instance at 80 calls at once, by server threads: the production defaults' figures.
    held = capacity.main(["--seconds", str(max(15, args.seconds * 2))])
    return sdk_overhead.main([]) or held


if __name__ == "__main__":
    sys.exit(main())
