"""The benchmark's report: each target with its figures, the markdown tables and the plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.profile import STAGES
from bench.settings import (
    KEY_CREATE,
    KEY_CREATE_IDEMPOTENT,
    KEY_CREATE_SDK,
    KEY_FETCH,
    KEY_FETCH_SDK,
    MAX_AGE,
    PEER_A2_CREATE,
    PEER_A2_FETCH,
    SOLO_BARE,
    SOLO_KEY,
    SOLO_NO_REVOCATION,
    SOLO_OURS,
)


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
    checks += key_targets(results)
    checks += cost_targets(results)
    checks.append(("import of main.py <= 0.6 s", import_s <= 0.6, f"{import_s} s"))
    return checks


def key_targets(results: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The targets of partner API keys: against peer A (no auth) and peer A2 (the seed's
    design with `verifyIdToken(token, true)` and a role check)."""
    checks: list[tuple[str, bool, str]] = []

    def ratio(ours: float, peer: float) -> str:
        return f"{ours} vs {peer} req/s = {ours / peer:.2f}x" if peer else "no peer"

    for r in results:
        n, scenarios = r["n"], r["scenarios"]
        fetch = scenarios[KEY_FETCH]["rps"]
        if n == 100:
            peer_a = scenarios["peer A (Node) fetchData, fetch-all"]["rps"]
            checks.append(
                (
                    f"fetchData page 20 with a key >= 1.5x peer A at N={n}",
                    fetch >= 1.5 * peer_a,
                    ratio(fetch, peer_a),
                )
            )
        a2_fetch = scenarios[PEER_A2_FETCH]["rps"]
        checks.append(
            (
                f"fetchData page 20 with a key >= 1.0x peer A2 at N={n}",
                fetch >= a2_fetch,
                ratio(fetch, a2_fetch),
            )
        )
        a2_create = scenarios[PEER_A2_CREATE]["rps"]
        for name in (KEY_CREATE, KEY_CREATE_IDEMPOTENT):
            ours = scenarios[name]["rps"]
            checks.append(
                (f"{name} >= 1.0x peer A2 at N={n}", ours >= a2_create, ratio(ours, a2_create))
            )
        added = scenarios[SOLO_KEY]["p50_ms"] - scenarios[SOLO_BARE]["p50_ms"]
        checks.append(
            (
                f"key verification adds <= 2 ms p50 over the bare query at N={n}",
                added <= 2.0,
                f"{added:.2f} ms at 1 connection (with a key {scenarios[SOLO_KEY]['p50_ms']} ms, "
                f"bare {scenarios[SOLO_BARE]['p50_ms']} ms)",
            )
        )
    return checks


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _times(share: float, value: float | None) -> float | None:
    return None if value is None else share * value


def _own_stages(n: int, shares: dict[str, float], cpu_ms: float | None) -> tuple[str, bool, str]:
    """Our stages' CPU against the whole CPU of a call (from /proc): their share of the
    Python CPU py-spy sampled, times that Python CPU a request. Where that is unknown, the
    share of the samples stands for it (it can only be larger: gRPC's native work and the
    interpreter's own are never in our stages)."""
    name = f"our own stages <= 25% of our CPU per create with a key at N={n}"
    sampled = (
        f"{shares['ours']:.0%} of the Python CPU py-spy sampled ({shares['samples']:g} samples)"
    )
    python_ms = shares.get("python_ms_per_request")
    if python_ms is None or not cpu_ms:
        return name, shares["ours"] <= 0.25, sampled
    ours_ms = shares["ours"] * python_ms
    return (
        name,
        ours_ms <= 0.25 * cpu_ms,
        f"{ours_ms:.2f} of {cpu_ms} ms a request = {ours_ms / cpu_ms:.0%}; {sampled}, "
        f"{python_ms} ms a request",
    )


def cost_targets(results: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """What a call costs: CPU per create against the Node peer with auth, and the
    sequential round trips of a create and a read with a key."""
    checks: list[tuple[str, bool, str]] = []
    for r in results:
        n, scenarios, trips = r["n"], r["scenarios"], r.get("round_trips") or {}
        ours_cpu = scenarios[KEY_CREATE].get("cpu_ms_per_request")
        peer_cpu = scenarios[PEER_A2_CREATE].get("cpu_ms_per_request")
        if ours_cpu is not None and peer_cpu is not None:
            checks.append(
                (
                    f"CPU per create with a key <= peer A2's at N={n}",
                    ours_cpu <= peer_cpu,
                    f"{ours_cpu} vs {peer_cpu} ms a request = {ours_cpu / peer_cpu:.2f}x",
                )
            )
        model = (r.get("latency_model") or {}).get("scenarios") or {}
        if KEY_CREATE in model and PEER_A2_CREATE in model:
            ours, peer = model[KEY_CREATE]["p50_ms"], model[PEER_A2_CREATE]["p50_ms"]
            checks.append(
                (
                    f"{KEY_CREATE} p50 <= peer A2's in the latency model at N={n}",
                    ours <= peer,
                    f"{ours} vs {peer} ms",
                )
            )
        for fast, public, label in (
            (KEY_CREATE, KEY_CREATE_SDK, "a create"),
            (KEY_FETCH, KEY_FETCH_SDK, "a read of 20"),
        ):
            gain = _fast_path_gain(scenarios.get(fast), scenarios.get(public))
            if gain is not None:
                checks.append(
                    (f"the fast path costs less CPU than the SDK path for {label}, N={n}", *gain)
                )
        shares = (r.get("cpu_by_stage") or {}).get(KEY_CREATE) or {}
        if "ours" in shares:
            checks.append(_own_stages(n, shares, ours_cpu))
        for name, label in ((KEY_CREATE, "a create"), (KEY_FETCH, "a read")):
            if name in trips:
                count = trips[name].get("sequential", 0)
                checks.append(
                    (
                        f"<= 2 sequential round trips for {label} with a key at N={n}",
                        count <= 2,
                        f"{count:g} ({trips[name]})",
                    )
                )
    return checks


def _fast_path_gain(
    fast: dict[str, Any] | None, public: dict[str, Any] | None
) -> tuple[bool, str] | None:
    """The fast path's CPU and throughput beside the SDK's public path (FIRESTORE_FAST_PATH
    =false), for the same call; None when either was not run."""
    if not fast or not public:
        return None
    ours, theirs = fast.get("cpu_ms_per_request"), public.get("cpu_ms_per_request")
    if ours is None or theirs is None:
        return None
    rps = f"; {fast['rps']} vs {public['rps']} req/s" if "rps" in fast and "rps" in public else ""
    return ours <= theirs, f"{ours} vs {theirs} ms CPU a request = {ours / theirs:.2f}x{rps}"


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
            "| scenario | req/s | p50 ms | p99 ms | errors | req/s vs ours page 20 "
            "| CPU ms/request |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, s in r["scenarios"].items():
            ratio = s["rps"] / ours["rps"] if ours["rps"] else 0
            cpu = s.get("cpu_ms_per_request")
            lines.append(
                f"| {name} | {s['rps']} | {s['p50_ms']} | {s['p99_ms']} | "
                f"{s['errors']} | {ratio:.2f} | {'-' if cpu is None else cpu} |"
            )
        trips = r.get("round_trips") or {}
        if trips:
            lines += [
                "",
                "Calls per request to Firestore and Auth, from the servers' own request lines "
                "(medians of 20 requests sent one at a time); `sequential` counts calls that "
                "overlap once:",
                "",
                "| scenario | sequential | firestore | auth |",
                "| --- | ---: | ---: | ---: |",
            ]
            lines += [
                f"| {name} | {t.get('sequential', 0):g} | {t.get('firestore', 0):g} "
                f"| {t.get('auth', 0):g} |"
                for name, t in trips.items()
            ]
        stages = {name: shares for name, shares in (r.get("cpu_by_stage") or {}).items() if shares}
        if stages:
            names = [n for n in STAGES if any(n in shares for shares in stages.values())]
            lines += [
                "",
                "Where our CPU goes (py-spy samples while wrk loads the scenario; each sample "
                "charged to its innermost frame of a known stage; the Firestore client "
                "includes `functions/store/wire.py`, our plain-message calls that do its work; "
                "`ours` is the sum of our package's other stages; `Python ms` is the "
                "sampled time the GIL was held, a request; `ours ms` its share of it):",
                "",
                "| scenario | " + " | ".join(names) + " | ours | samples | Python ms | ours ms |",
                "| --- |" + " ---: |" * (len(names) + 4),
            ]
            lines += [
                f"| {scenario} | "
                + " | ".join(f"{shares.get(n, 0):.0%}" for n in names)
                + f" | {shares['ours']:.0%} | {shares['samples']:g} | "
                + _ms(shares.get("python_ms_per_request"))
                + " | "
                + _ms(_times(shares["ours"], shares.get("python_ms_per_request")))
                + " |"
                for scenario, shares in stages.items()
            ]
        model = r.get("latency_model")
        if model:
            delays = model["delays_ms"]
            lines += [
                "",
                "Latency model, 1 connection: every call to Firestore delayed by a log-normal "
                f"round trip of median {delays['firestore'][0]:g} ms and p99 "
                f"{delays['firestore'][1]:g} ms, every call to Auth by one of median "
                f"{delays['auth'][0]:g} ms and p99 {delays['auth'][1]:g} ms:",
                "",
                "| scenario | p50 ms | p99 ms | req/s | requests |",
                "| --- | ---: | ---: | ---: | ---: |",
            ]
            lines += [
                f"| {name} | {m['p50_ms']} | {m['p99_ms']} | {m['rps']} | {m['requests']} |"
                for name, m in model["scenarios"].items()
            ]
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
    colormap = plt.get_cmap("tab20")
    colors = [colormap(i) for i in range(colormap.N)]
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
