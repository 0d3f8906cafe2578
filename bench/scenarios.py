"""The scenarios of one N: seed a fresh emulator, start every peer, run the loads in
alternating rounds, then cold starts, peak RSS and documents read per request."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.latency import Delay, DelayProxy
from bench.load import Load, Scenario, run_wrk, wrk_script
from bench.profile import breakdown, python_ms_per_request, start_sampling
from bench.servers import servers
from bench.settings import (
    KEY_CREATE,
    KEY_CREATE_IDEMPOTENT,
    KEY_CREATE_SDK,
    KEY_FETCH,
    KEY_FETCH_SDK,
    MAX_AGE,
    PARTNER,
    PASSWORD,
    PEER_A2_CREATE,
    PEER_A2_FETCH,
    RESULTS,
    ROOT,
    SLOW_RUN_S,
    SOLO_BARE,
    SOLO_KEY,
    SOLO_NO_REVOCATION,
    SOLO_OURS,
)


def seed(n: int, uid: str) -> None:
    import datetime as dt  # noqa: PLC0415

    from functions import store  # noqa: PLC0415

    client = store.client()
    from functions.core.models import (  # noqa: PLC0415
        MAX_BURST,
        MAX_DAILY_CREATES,
        MAX_RATE_PER_S,
        valid_overrides,
    )

    # The bench measures serving, not limiting (`make limits` does): its partner gets the
    # highest limits a record may hold (a value beyond its range would be ignored).
    unlimited = {
        "ratePerSecond": MAX_RATE_PER_S,
        "burst": MAX_BURST,
        "dailyCreates": MAX_DAILY_CREATES,
    }
    assert valid_overrides(unlimited) == unlimited, "the bench partner's limits are in range"
    client.collection("partners").document(PARTNER).set({"status": "active", "limits": unlimited})
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
    from functions.outside.firebase_app import admin_app  # noqa: PLC0415

    email = f"bench-{os.getpid()}-{n}@bench.example"
    user = auth.create_user(email=email, password=PASSWORD, app=admin_app())
    auth.set_custom_user_claims(
        user.uid, {"role": "partner", "partnerId": PARTNER}, app=admin_app()
    )
    return user.uid, sign_in(email, PASSWORD)


ENTRY = {"description": "Bench entry", "amount": "12.50", "currency": "EUR", "date": "2026-06-01"}


def scenarios() -> list[Scenario]:
    return [
        Scenario("ours fetchData page 20", "ours-fetch", "/?limit=20", credential="token"),
        Scenario("ours fetchData page 100", "ours-fetch", "/?limit=100", credential="token"),
        Scenario(
            "ours fetchData page 20, no revocation check",
            "ours-fetch-norevoke",
            "/?limit=20",
            credential="token",
        ),
        Scenario(
            f"ours fetchData page 20, {MAX_AGE}",
            "ours-fetch-max-age",
            "/?limit=20",
            credential="token",
        ),
        Scenario("ours createEntry", "ours-create", method="POST", body=ENTRY, credential="token"),
        Scenario(
            "ours createEntry with Idempotency-Key",
            "ours-create",
            method="POST",
            body=ENTRY,
            credential="token",
            unique_key=True,
        ),
        Scenario(
            f"ours createEntry, {MAX_AGE}",
            "ours-create-max-age",
            method="POST",
            body=ENTRY,
            credential="token",
        ),
        Scenario(
            f"ours createEntry with Idempotency-Key, {MAX_AGE}",
            "ours-create-max-age",
            method="POST",
            body=ENTRY,
            credential="token",
            unique_key=True,
        ),
        Scenario(KEY_FETCH, "ours-fetch", "/?limit=20", credential="key"),
        Scenario(KEY_CREATE, "ours-create", method="POST", body=ENTRY, credential="key"),
        Scenario(
            KEY_CREATE_IDEMPOTENT,
            "ours-create",
            method="POST",
            body=ENTRY,
            credential="key",
            unique_key=True,
        ),
        Scenario(KEY_FETCH_SDK, "ours-fetch-sdk", "/?limit=20", credential="key"),
        Scenario(KEY_CREATE_SDK, "ours-create-sdk", method="POST", body=ENTRY, credential="key"),
        Scenario("peer A (Node) fetchData, fetch-all", "node-fetch"),
        Scenario(PEER_A2_FETCH, "node-fetch-auth", credential="token"),
        Scenario(PEER_A2_CREATE, "node-create-auth", method="POST", body=ENTRY, credential="token"),
        Scenario("peer A (Node) createEntry", "node-create", method="POST", body=ENTRY),
        Scenario("peer B (naive Python) fetchData, fetch-all", "naive-fetch"),
        Scenario("floor: bare Python page query", "bare-page", f"/?partner={PARTNER}"),
        Scenario("floor: hello world", "hello"),
        # One connection: what auth and validation add per request, without queueing.
        Scenario(SOLO_OURS, "ours-fetch", "/?limit=20", credential="token", connections=1),
        Scenario(
            SOLO_NO_REVOCATION,
            "ours-fetch-norevoke",
            "/?limit=20",
            credential="token",
            connections=1,
        ),
        Scenario(SOLO_KEY, "ours-fetch", "/?limit=20", credential="key", connections=1),
        Scenario(SOLO_BARE, "bare-page", f"/?partner={PARTNER}", connections=1),
    ]


def _partner_key() -> str:
    """An API key of the bench partner, in the fresh emulator of this N."""
    from functions import store  # noqa: PLC0415
    from functions.operations.keys import KeyDirectory  # noqa: PLC0415

    return KeyDirectory(os.environ["GCLOUD_PROJECT"], store.client()).create(PARTNER, None).key


def _direct_floor_ms(samples: int = 60) -> float:
    """p50 of one page read by the Python client in-process: no HTTP at all."""
    from functions.resources import declaration  # noqa: PLC0415
    from functions.store import records  # noqa: PLC0415

    resource = declaration.current().get("entries")
    if resource is None:
        raise SystemExit("the benchmark needs the entries resource declared")
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        list(records.list_query(resource, PARTNER).limit(21).stream())
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def _docs_read(log: Path) -> dict[str, float]:
    counts = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"docs_read"' in line:
            record = json.loads(line)
            if record.get("function") == "fetchData":
                counts.append(int(record["docs_read"]))
    return {
        "max": max(counts, default=0),
        "mean": round(statistics.fmean(counts), 2) if counts else 0.0,
        "requests": len(counts),
    }


def import_time_s(runs: int = 5) -> float:
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


LATENCY_SCENARIOS = (
    KEY_FETCH,
    KEY_CREATE,
    "ours fetchData page 20",
    "ours createEntry",
    "peer A (Node) fetchData, fetch-all",
    "peer A (Node) createEntry",
    PEER_A2_FETCH,
    PEER_A2_CREATE,
)
"""What the latency model runs: ours with a key and with a token, and the peers."""


def latency_model(
    firestore_host: str,
    planned: list[Scenario],
    bearers: dict[str, str],
    logs: Path,
    *,
    seconds: int,
    delays: dict[str, Delay],
) -> dict[str, Any]:
    """p50 and p99 of each LATENCY_SCENARIOS at 1 connection, with every call to Firestore
    and Auth delayed as `delays` say (proxies in front of the emulators)."""
    proxies = {
        "firestore": DelayProxy(firestore_host, delays["firestore"], seed=7).start(),
        "auth": DelayProxy(
            os.environ["FIREBASE_AUTH_EMULATOR_HOST"], delays["auth"], seed=11
        ).start(),
    }
    env = {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": proxies["firestore"].host,
        "FIREBASE_AUTH_EMULATOR_HOST": proxies["auth"].host,
    }
    folder = logs / "latency"
    folder.mkdir(parents=True, exist_ok=True)
    chosen = [s for s in planned if s.name in LATENCY_SCENARIOS]
    running = {
        name: server
        for name, server in servers(env, folder).items()
        if name in {s.server for s in chosen}
    }
    found: dict[str, Any] = {}
    try:
        for server in running.values():
            if server.name.startswith("ours-fetch"):
                server.probe_headers = {"Authorization": f"Bearer {bearers['token']}"}
            server.start()
        for scenario in chosen:
            server = running[scenario.server]
            bearer = bearers["key"] if scenario.credential == "key" else bearers["token"]
            script = wrk_script(scenario, bearer)
            run_wrk(server.url, script, 1, 1)  # warm: the first calls lease and look up
            load = run_wrk(server.url, script, seconds, 1)
            found[scenario.name] = {
                "p50_ms": load.p50_ms,
                "p99_ms": load.p99_ms,
                "rps": load.rps,
                "requests": load.requests,
                "errors": load.errors,
            }
    finally:
        for server in running.values():
            server.stop()
        for proxy in proxies.values():
            proxy.stop()
    return {
        "delays_ms": {name: [d.median_ms, d.p99_ms] for name, d in delays.items()},
        "scenarios": found,
    }


def measure_n(
    n: int,
    *,
    rounds: int,
    seconds: int,
    connections: int,
    delays: dict[str, Delay] | None = None,
) -> dict[str, Any]:
    from devtools.emulators import FirestoreProcess  # noqa: PLC0415

    firestore = FirestoreProcess()
    firestore.start()
    stack_firestore = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore.host
    logs = RESULTS / "raw" / f"n{n}"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    running = servers(dict(os.environ), logs)
    try:
        uid, token = _partner_token(n)
        key = _partner_key()
        seed(n, uid)
        for server in running.values():
            if server.name.startswith("ours-fetch"):
                server.probe_headers = {"Authorization": f"Bearer {token}"}
            server.start()
        planned = scenarios()
        floors = []
        for _ in range(rounds):
            # The emulator slows down as writes pile up, so the direct floor is taken in
            # every round, beside the runs it is compared with.
            floors.append(_direct_floor_ms())
            for scenario in planned:
                server = running[scenario.server]
                script = wrk_script(scenario, key if scenario.credential == "key" else token)
                clients = scenario.connections or connections
                load = _run(server, script, seconds, clients)
                if load.requests < clients:  # too slow to finish in the run: give it time
                    time.sleep(SLOW_RUN_S / 10)
                    load = _run(server, script, SLOW_RUN_S, clients)
                scenario.loads.append(load)
                time.sleep(1.0)  # let the server and the emulator go idle
        trips = {
            s.name: round_trips(running[s.server], s, key if s.credential == "key" else token)
            for s in planned
            if s.server.startswith("ours") and s.connections is None
        }
        profiles = {
            s.name: profile(
                running[s.server], s, key, logs, seconds=seconds, connections=connections
            )
            for s in planned
            if s.name in (KEY_CREATE, KEY_FETCH)
        }
        modelled = None
        if delays:
            modelled = latency_model(
                firestore.host,
                planned,
                {"key": key, "token": token},
                logs,
                seconds=seconds * 2,
                delays=delays,
            )
        peak_rss = {name: s.peak_rss_mib() for name, s in running.items()}
        cold = {}
        for name in ("ours-fetch", "node-fetch"):
            server = running[name]
            samples = []
            for _ in range(5):
                server.stop()
                samples.append(server.start())
            cold[name] = round(statistics.median(samples), 3)
        result = {
            "n": n,
            "scenarios": {s.name: _summary(s) for s in planned},
            "cold_start_s": cold,
            "peak_rss_mib": peak_rss,
            "docs_read_per_fetch": _docs_read(logs / "ours-fetch.log"),
            "round_trips": trips,
            "latency_model": modelled,
            "cpu_by_stage": profiles,
            "direct_floor_p50_ms": round(statistics.median(floors), 2),
            "direct_floor_rounds_ms": floors,
        }
    finally:
        for server in running.values():
            server.stop()
        firestore.kill()
        # Later measurements (token and key costs) use the stack's emulator again.
        if stack_firestore is None:
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = stack_firestore
    return result


def _run(server: Any, script: Path, seconds: int, clients: int) -> Load:
    """One wrk run, with the server's CPU time over it."""
    before = server.cpu_s()
    load = run_wrk(server.url, script, seconds, clients)
    spent = server.cpu_s() - before
    load.cpu_ms_per_request = round(spent * 1000 / load.requests, 3) if load.requests else None
    return load


def profile(
    server: Any, scenario: Scenario, bearer: str, logs: Path, *, seconds: int, connections: int
) -> dict[str, float]:
    """The scenario's CPU by stage (`bench.profile`) while wrk loads it; empty where py-spy
    cannot sample."""
    output = logs / f"profile-{uuid.uuid4().hex[:8]}.txt"
    sampler = start_sampling(server.process.pid, seconds, output)
    if sampler is None:
        return {}
    time.sleep(0.5)  # attached before the load starts
    load = run_wrk(server.url, wrk_script(scenario, bearer), seconds, connections)
    try:
        sampler.wait(timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        sampler.kill()
        return {}
    shares = breakdown(output.read_text()) if output.exists() else {}
    python_ms = python_ms_per_request(shares.get("samples", 0), load.requests)
    if shares and python_ms is not None:
        shares["python_ms_per_request"] = python_ms
    return shares


TRIP_SAMPLES = 20


def round_trips(server: Any, scenario: Scenario, bearer: str) -> dict[str, float]:
    """The calls one request of the scenario makes to Firestore and Auth, as the server
    logs them (`round_trips` of its request line): medians of TRIP_SAMPLES requests sent
    one at a time, each with a request id of its own."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    marker = uuid.uuid4().hex[:8]
    for i in range(TRIP_SAMPLES):
        headers = {
            "Authorization": f"Bearer {bearer}",
            "Content-Type": "application/json",
            "X-Request-Id": f"trips-{marker}-{i}",
        }
        if scenario.unique_key:
            headers["Idempotency-Key"] = f"trips-{marker}-{i}"
        body = json.dumps(scenario.body).encode() if scenario.body is not None else None
        request = urllib.request.Request(
            server.url + scenario.path, data=body, headers=headers, method=scenario.method
        )
        try:
            with urllib.request.urlopen(request, timeout=60):
                pass
        except urllib.error.HTTPError:
            pass
    assert server.log is not None
    found: dict[str, list[int]] = {}
    for line in server.log.read_text(errors="replace").splitlines():
        if f'"trips-{marker}-' not in line or '"round_trips"' not in line:
            continue
        for name, count in json.loads(line)["round_trips"].items():
            found.setdefault(name, []).append(count)
    return {name: statistics.median(counts) for name, counts in sorted(found.items())}


def _summary(scenario: Scenario) -> dict[str, Any]:
    loads = scenario.loads
    cpu = [load.cpu_ms_per_request for load in loads if load.cpu_ms_per_request is not None]
    return {
        "rps": round(statistics.median(load.rps for load in loads), 2),
        "cpu_ms_per_request": round(statistics.median(cpu), 3) if cpu else None,
        "p50_ms": round(statistics.median(load.p50_ms for load in loads), 2),
        "p99_ms": round(statistics.median(load.p99_ms for load in loads), 2),
        "requests": sum(load.requests for load in loads),
        "errors": sum(load.errors for load in loads),
        "rounds": [load.__dict__ for load in loads],
    }
