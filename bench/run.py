"""The benchmark: our functions beside the seed's Node design and a naive Python port.

For each N (100 and 10,000; 100,000 with --large) it starts a fresh Firestore emulator
(the emulator slows down with write history), seeds N entries for one partner, starts
every peer, and runs wrk against them in rounds that alternate the peers (A B C A B C),
idling between runs. Writes go to a separate collection so N stays N. Then cold starts
(median of 5), the import time of main.py, peak RSS of each serving process, and the
documents read per fetchData request, counted by the store layer in its logs.

`make bench`; output in bench/results/ (results.md, results.json, p50_vs_n.png).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NODE_PEER = ROOT / "bench" / "peers" / "node"
PYTHON_PEERS = ROOT / "bench" / "peers" / "python_peers.py"
PARTNER = "bench"
WRITES_COLLECTION = "benchWrites"
PASSWORD = "bench-password-1"
SLOW_RUN_S = 40
MAX_AGE_S = "5"
"""AUTH_REVOCATION_MAX_AGE_S of the opt-in runs: a revoke may take this long to apply."""
MAX_AGE = f"revocation max age {MAX_AGE_S} s"
SOLO_OURS = "ours fetchData page 20, 1 connection"
SOLO_NO_REVOCATION = "ours fetchData page 20, no revocation check, 1 connection"
SOLO_BARE = "floor: bare Python page query, 1 connection"


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path = ROOT
    log: Path | None = None
    probe_path: str = "/"
    probe_headers: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and wait for the first answer; returns seconds from spawn to it."""
        from devtools.emulators import free_port  # noqa: PLC0415

        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=self.cwd,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self._first_answer(started)

    def _first_answer(self, started: float) -> float:
        """Seconds from spawn to the first 200 (the probe carries a token where needed)."""
        deadline = started + 60
        probe = urllib.request.Request(
            self.url + "/?partner=" + PARTNER, headers=self.probe_headers
        )
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(probe, timeout=30):
                    return time.monotonic() - started
            except urllib.error.HTTPError:
                return time.monotonic() - started  # up; cold starts probe for a 200
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not start")

    def peak_rss_mib(self) -> float:
        """The largest VmHWM among the server's processes (the gunicorn worker, say)."""
        assert self.process is not None
        pids = [self.process.pid, *_descendants(self.process.pid)]
        peaks = [_vm_hwm_kib(pid) for pid in pids]
        return round(max(peaks) / 1024, 1)

    def stop(self) -> None:
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


def _vm_hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


@dataclass
class Load:
    """One wrk run against one scenario."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def parse_wrk(output: str) -> Load:
    """Requests/s, p50, p99, request count and errors (non-2xx and socket errors)."""
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {q: float(v) * factor[u] for q, v, u in WRK_LATENCY.findall(output)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return Load(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=round(latency.get("50", 0.0), 2),
        p99_ms=round(latency.get("99", 0.0), 2),
        requests=int(total.group(1)) if total else 0,
        errors=errors,
    )


@dataclass
class Scenario:
    name: str
    server: str
    path: str = "/"
    method: str = "GET"
    body: dict[str, Any] | None = None
    unique_key: bool = False
    auth: bool = False
    connections: int | None = None
    """A fixed concurrency (1: latency without queueing); else the run's setting."""
    loads: list[Load] = field(default_factory=list)


def _wrk_script(scenario: Scenario, token: str, folder: Path = RESULTS / "raw") -> Path:
    """A wrk Lua script for the scenario's method, headers, body and per-request keys.

    Keys are unique across runs (wrk's Lua random numbers repeat from run to run), so
    every keyed request is a first create, never a replay of an earlier round's key.
    """
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    if scenario.auth:
        headers["Authorization"] = f"Bearer {token}"
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    body = json.dumps(scenario.body) if scenario.body is not None else ""
    key_line = (
        'headers["Idempotency-Key"] = "k" .. id .. "-" .. counter\n' if scenario.unique_key else ""
    )
    script = folder / f"{scenario.name}.lua"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        f'local counter = 0\nlocal id = "{uuid.uuid4().hex}"\n'
        "request = function()\n  counter = counter + 1\n"
        f"  local headers = {{{lua_headers}}}\n  {key_line}"
        f'  return wrk.format("{scenario.method}", "{scenario.path}", headers, '
        f"{json.dumps(body) if body else 'nil'})\nend\n"
    )
    return script


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> Load:
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "60s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + 120,
    ).stdout
    return parse_wrk(output)


def _seed(n: int, uid: str) -> None:
    import datetime as dt  # noqa: PLC0415

    from functions import store  # noqa: PLC0415

    client = store.client()
    collection = client.collection("entries")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for offset in range(0, n, 500):
        batch = client.batch()
        for i in range(offset, min(n, offset + 500)):
            moment = start + dt.timedelta(seconds=i)
            batch.set(
                collection.document(f"seed{i:07d}"),
                {
                    "description": f"Seeded entry {i}",
                    "amount": f"{i % 1000}.00",
                    "currency": "EUR",
                    "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "partnerId": PARTNER,
                    "createdAt": moment,
                    "updatedAt": moment,
                    "createdBy": uid,
                    "version": 1,
                },
            )
        batch.commit()


def _partner_token(n: int) -> tuple[str, str]:
    from firebase_admin import auth  # noqa: PLC0415

    from devtools.emulators import sign_in  # noqa: PLC0415
    from functions.firebase_app import admin_app  # noqa: PLC0415

    email = f"bench-{os.getpid()}-{n}@bench.example"
    user = auth.create_user(email=email, password=PASSWORD, app=admin_app())
    auth.set_custom_user_claims(
        user.uid, {"role": "partner", "partnerId": PARTNER}, app=admin_app()
    )
    return user.uid, sign_in(email, PASSWORD)


def _servers(env: dict[str, str], logs: Path) -> dict[str, Server]:
    framework = str(Path(sys.executable).parent / "functions-framework")
    python = [framework, "--host", "127.0.0.1", "--port", "{port}"]
    node_env = {
        **env,
        "NODE_OPTIONS": f"--require {NODE_PEER / 'loopback.js'}",
        "METADATA_SERVER_DETECTION": "none",
    }
    node = [str(NODE_PEER / "node_modules" / ".bin" / "functions-framework"), "--port", "{port}"]
    writes = {**env, "ENTRIES_COLLECTION": WRITES_COLLECTION}
    return {
        "ours-fetch": Server(
            "ours-fetch",
            [*python, "--source", "main.py", "--target", "fetchData"],
            env,
            log=logs / "ours-fetch.log",
        ),
        "ours-fetch-norevoke": Server(
            "ours-fetch-norevoke",
            [*python, "--source", "main.py", "--target", "fetchData"],
            {**env, "AUTH_CHECK_REVOKED": "false"},
            log=logs / "ours-fetch-norevoke.log",
        ),
        "ours-fetch-max-age": Server(
            "ours-fetch-max-age",
            [*python, "--source", "main.py", "--target", "fetchData"],
            {**env, "AUTH_REVOCATION_MAX_AGE_S": MAX_AGE_S},
        ),
        "ours-create": Server(
            "ours-create", [*python, "--source", "main.py", "--target", "createEntry"], writes
        ),
        "ours-create-max-age": Server(
            "ours-create-max-age",
            [*python, "--source", "main.py", "--target", "createEntry"],
            {**writes, "AUTH_REVOCATION_MAX_AGE_S": MAX_AGE_S},
        ),
        "node-fetch": Server(
            "node-fetch", [*node, "--target", "fetchData"], node_env, cwd=NODE_PEER
        ),
        "node-create": Server(
            "node-create",
            [*node, "--target", "createEntry"],
            {**node_env, "ENTRIES_COLLECTION": WRITES_COLLECTION},
            cwd=NODE_PEER,
        ),
        "naive-fetch": Server(
            "naive-fetch", [*python, "--source", str(PYTHON_PEERS), "--target", "naive_fetch"], env
        ),
        "bare-page": Server(
            "bare-page",
            [*python, "--source", str(PYTHON_PEERS), "--target", "bare_page"],
            env,
            probe_path=f"/?partner={PARTNER}",
        ),
        "hello": Server(
            "hello", [*python, "--source", str(PYTHON_PEERS), "--target", "hello"], env
        ),
    }


ENTRY = {"description": "Bench entry", "amount": "12.50", "currency": "EUR", "date": "2026-06-01"}


def _scenarios() -> list[Scenario]:
    return [
        Scenario("ours fetchData page 20", "ours-fetch", "/?limit=20", auth=True),
        Scenario("ours fetchData page 100", "ours-fetch", "/?limit=100", auth=True),
        Scenario(
            "ours fetchData page 20, no revocation check",
            "ours-fetch-norevoke",
            "/?limit=20",
            auth=True,
        ),
        Scenario(
            f"ours fetchData page 20, {MAX_AGE}", "ours-fetch-max-age", "/?limit=20", auth=True
        ),
        Scenario("ours createEntry", "ours-create", method="POST", body=ENTRY, auth=True),
        Scenario(
            "ours createEntry with Idempotency-Key",
            "ours-create",
            method="POST",
            body=ENTRY,
            auth=True,
            unique_key=True,
        ),
        Scenario(
            f"ours createEntry, {MAX_AGE}",
            "ours-create-max-age",
            method="POST",
            body=ENTRY,
            auth=True,
        ),
        Scenario(
            f"ours createEntry with Idempotency-Key, {MAX_AGE}",
            "ours-create-max-age",
            method="POST",
            body=ENTRY,
            auth=True,
            unique_key=True,
        ),
        Scenario("peer A (Node) fetchData, fetch-all", "node-fetch"),
        Scenario("peer A (Node) createEntry", "node-create", method="POST", body=ENTRY),
        Scenario("peer B (naive Python) fetchData, fetch-all", "naive-fetch"),
        Scenario("floor: bare Python page query", "bare-page", f"/?partner={PARTNER}"),
        Scenario("floor: hello world", "hello"),
        # One connection: what auth and validation add per request, without queueing.
        Scenario(SOLO_OURS, "ours-fetch", "/?limit=20", auth=True, connections=1),
        Scenario(SOLO_NO_REVOCATION, "ours-fetch-norevoke", "/?limit=20", auth=True, connections=1),
        Scenario(SOLO_BARE, "bare-page", f"/?partner={PARTNER}", connections=1),
    ]


def _direct_floor_ms(samples: int = 60) -> float:
    """p50 of one page read by the Python client in-process: no HTTP at all."""
    from functions import store  # noqa: PLC0415

    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        list(store.list_query(PARTNER).limit(21).stream())
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def _docs_read(log: Path) -> dict[str, float]:
    counts = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"docs_read"' in line:
            record = json.loads(line)
            if record.get("function") == "fetch_data":
                counts.append(int(record["docs_read"]))
    return {
        "max": max(counts, default=0),
        "mean": round(statistics.fmean(counts), 2) if counts else 0.0,
        "requests": len(counts),
    }


def _import_time_s(runs: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import main; print(time.perf_counter() - t)"
    env = {"PATH": os.environ["PATH"], "NO_GCE_CHECK": "true"}
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
        )
        for _ in range(runs)
    ]
    return round(statistics.median(times), 3)


def measure_n(n: int, *, rounds: int, seconds: int, connections: int) -> dict[str, Any]:
    from devtools.emulators import FirestoreProcess  # noqa: PLC0415

    firestore = FirestoreProcess()
    firestore.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore.host
    logs = RESULTS / "raw" / f"n{n}"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    servers = _servers(dict(os.environ), logs)
    try:
        uid, token = _partner_token(n)
        _seed(n, uid)
        for server in servers.values():
            if server.name.startswith("ours-fetch"):
                server.probe_headers = {"Authorization": f"Bearer {token}"}
            server.start()
        scenarios = _scenarios()
        floors = []
        for _ in range(rounds):
            # The emulator slows down as writes pile up, so the direct floor is taken in
            # every round, beside the runs it is compared with.
            floors.append(_direct_floor_ms())
            for scenario in scenarios:
                server = servers[scenario.server]
                script = _wrk_script(scenario, token)
                clients = scenario.connections or connections
                load = run_wrk(server.url, script, seconds, clients)
                if load.requests < clients:  # too slow to finish in the run: give it time
                    time.sleep(SLOW_RUN_S / 10)
                    load = run_wrk(server.url, script, SLOW_RUN_S, clients)
                scenario.loads.append(load)
                time.sleep(1.0)  # let the server and the emulator go idle
        peak_rss = {name: s.peak_rss_mib() for name, s in servers.items()}
        cold = {}
        for name in ("ours-fetch", "node-fetch"):
            server = servers[name]
            samples = []
            for _ in range(5):
                server.stop()
                samples.append(server.start())
            cold[name] = round(statistics.median(samples), 3)
        result = {
            "n": n,
            "scenarios": {s.name: _summary(s) for s in scenarios},
            "cold_start_s": cold,
            "peak_rss_mib": peak_rss,
            "docs_read_per_fetch": _docs_read(logs / "ours-fetch.log"),
            "direct_floor_p50_ms": round(statistics.median(floors), 2),
            "direct_floor_rounds_ms": floors,
        }
    finally:
        for server in servers.values():
            server.stop()
        firestore.kill()
    return result


def _summary(scenario: Scenario) -> dict[str, Any]:
    loads = scenario.loads
    return {
        "rps": round(statistics.median(load.rps for load in loads), 2),
        "p50_ms": round(statistics.median(load.p50_ms for load in loads), 2),
        "p99_ms": round(statistics.median(load.p99_ms for load in loads), 2),
        "requests": sum(load.requests for load in loads),
        "errors": sum(load.errors for load in loads),
        "rounds": [load.__dict__ for load in loads],
    }


def targets(results: list[dict[str, Any]], import_s: float) -> list[tuple[str, bool, str]]:
    """Each target of the benchmark, whether it holds, and the figures behind it."""
    by_n = {r["n"]: r for r in results}
    checks: list[tuple[str, bool, str]] = []

    def sc(n: int, name: str) -> dict[str, Any]:
        return dict(by_n[n]["scenarios"][name])

    def opt_in(n: int, name: str, peer: float) -> str:
        """The same figure under the opt-in revocation max age (not what the target judges)."""
        rps = sc(n, f"{name}, {MAX_AGE}")["rps"]
        return f"; {MAX_AGE}: {rps} req/s = {rps / peer:.2f}x" if peer else ""

    for n, factor in ((100, 1.5), (10_000, 10.0)):
        if n in by_n:
            ours = sc(n, "ours fetchData page 20")["rps"]
            peer = sc(n, "peer A (Node) fetchData, fetch-all")["rps"]
            ratio = ours / peer if peer else float("inf")
            checks.append(
                (
                    f"fetchData page 20 >= {factor}x peer A at N={n}",
                    ratio >= factor,
                    f"{ours} vs {peer} req/s = {ratio:.2f}x"
                    + opt_in(n, "ours fetchData page 20", peer),
                )
            )
    for r in results:
        docs = r["docs_read_per_fetch"]["max"]
        checks.append(
            (
                f"docs read per fetchData <= limit + 1 at N={r['n']}",
                docs <= 101,
                f"max {docs} (limit 20 and 100 runs)",
            )
        )
    if 100 in by_n and 10_000 in by_n:
        ratios = {
            n: sc(n, "ours fetchData page 20")["p50_ms"] / by_n[n]["direct_floor_p50_ms"]
            for n in (100, 10_000)
        }
        growth = ratios[10_000] / ratios[100]
        checks.append(
            (
                "p50 / direct floor at 10,000 within 1.2x of that at 100",
                growth <= 1.2,
                f"{ratios[100]:.2f} -> {ratios[10_000]:.2f} ({growth:.2f}x)",
            )
        )
    for r in results:
        n = r["n"]
        peer = sc(n, "peer A (Node) createEntry")["rps"]
        for label, name, factor in (
            ("createEntry", "ours createEntry", 0.8),
            ("createEntry with key", "ours createEntry with Idempotency-Key", 0.5),
        ):
            ours = sc(n, name)["rps"]
            checks.append(
                (
                    f"{label} >= {factor}x peer A at N={n}",
                    ours >= factor * peer,
                    f"{ours} vs {peer} req/s = {ours / peer:.2f}x" + opt_in(n, name, peer)
                    if peer
                    else "no peer",
                )
            )
        without_revocation = sc(n, SOLO_NO_REVOCATION)["p50_ms"]
        overhead = without_revocation - sc(n, SOLO_BARE)["p50_ms"]
        revocation = sc(n, SOLO_OURS)["p50_ms"] - without_revocation
        checks.append(
            (
                f"auth + validation overhead <= 2 ms p50 at N={n}",
                overhead <= 2.0,
                f"{overhead:.2f} ms at 1 connection "
                f"(the revocation check adds {revocation:.2f} ms)",
            )
        )
        cold = r["cold_start_s"]
        checks.append(
            (
                f"cold start <= peer A at N={n}",
                cold["ours-fetch"] <= cold["node-fetch"],
                f"{cold['ours-fetch']} s vs {cold['node-fetch']} s",
            )
        )
        rss = r["peak_rss_mib"]["ours-fetch"]
        checks.append(
            (f"peak RSS of one serving process <= 100 MiB at N={n}", rss <= 100, f"{rss} MiB")
        )
    checks.append(("import of main.py <= 0.6 s", import_s <= 0.6, f"{import_s} s"))
    return checks


def render(
    results: list[dict[str, Any]],
    import_s: float,
    checks: list[tuple[str, bool, str]],
    settings: dict[str, Any],
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"wrk, {settings['connections']} connections (1 where a scenario says so), "
        f"{settings['seconds']} s per run, "
        f"{settings['rounds']} rounds alternating the peers; medians of the rounds. "
        f"Import of main.py: {import_s} s (median of 5).",
        "",
    ]
    for r in results:
        ours = r["scenarios"]["ours fetchData page 20"]
        lines += [
            f"## N = {r['n']:,}",
            "",
            "| scenario | req/s | p50 ms | p99 ms | errors | req/s vs ours page 20 |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, s in r["scenarios"].items():
            ratio = s["rps"] / ours["rps"] if ours["rps"] else 0
            lines.append(
                f"| {name} | {s['rps']} | {s['p50_ms']} | {s['p99_ms']} | "
                f"{s['errors']} | {ratio:.2f} |"
            )
        lines += [
            "",
            f"- direct Python client, one page, no HTTP: p50 {r['direct_floor_p50_ms']} ms "
            "(median of the rounds; taken in each round)",
            f"- documents read per fetchData request: {r['docs_read_per_fetch']}",
            f"- cold start (spawn to first answer, median of 5): {r['cold_start_s']}",
            f"- peak RSS (MiB): {r['peak_rss_mib']}",
            "",
        ]
    lines += ["## Targets", "", "| target | holds | figures |", "| --- | --- | --- |"]
    lines += [f"| {name} | {'yes' if ok else 'NO'} | {figures} |" for name, ok, figures in checks]
    return "\n".join(lines) + "\n"


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axis = plt.subplots(figsize=(11, 5.5))
    ns = [r["n"] for r in results]
    names = list(results[0]["scenarios"])
    colors = plt.get_cmap("tab20").colors
    for index, name in enumerate(names):
        axis.plot(
            ns,
            [r["scenarios"][name]["p50_ms"] for r in results],
            marker="o",
            color=colors[index % len(colors)],
            linestyle="-" if name.startswith("ours") else ":",
            label=name,
        )
    axis.plot(
        ns,
        [r["direct_floor_p50_ms"] for r in results],
        marker="x",
        linestyle="--",
        label="floor: direct client, no HTTP",
    )
    axis.set(
        xscale="log",
        yscale="log",
        xlabel="entries in the collection (N)",
        ylabel="p50 latency (ms)",
        title="p50 latency against N",
    )
    axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also N = 100,000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--sizes", type=int, nargs="*", help="override the N values")
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
    import_s = _import_time_s()
    results = []
    for n in sizes:
        print(f"N = {n:,} ...", flush=True)
        results.append(measure_n(n, **settings))
    checks = targets(results, import_s)
    from bench import auth_cost  # noqa: PLC0415 - needs the emulators, like the loads

    verification = auth_cost.measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = render(results, import_s, checks, settings) + auth_cost.render(verification)
    (RESULTS / "results.md").write_text(report)
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
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
