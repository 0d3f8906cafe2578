"""Load generation: wrk runs, their Lua scripts and the parsing of their output."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.settings import RESULTS


@dataclass
class Load:
    """One wrk run against one scenario."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float | None = None
    """The serving processes' user + system CPU over the run, per request answered."""


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
    credential: Literal["token", "key"] | None = None
    """What the scenario authenticates with: the partner's ID token, its API key, or none."""
    connections: int | None = None
    """A fixed concurrency (1: latency without queueing); else the run's setting."""
    loads: list[Load] = field(default_factory=list)


def wrk_script(scenario: Scenario, bearer: str, folder: Path = RESULTS / "raw") -> Path:
    """A wrk Lua script for the scenario's method, headers, body and per-request keys.

    Keys are unique across runs (wrk's Lua random numbers repeat from run to run), so
    every keyed request is a first create, never a replay of an earlier round's key.
    """
    headers = {"Content-Type": "application/json"} if scenario.body is not None else {}
    if scenario.credential is not None:
        headers["Authorization"] = f"Bearer {bearer}"
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
