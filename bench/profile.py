"""Where a call's CPU goes: py-spy samples the serving process while wrk loads it, and
each sample is charged to a stage by the innermost frame that belongs to one (a frame of
the standard library is charged to the code that called it). Only samples of the thread
holding the GIL count (`--gil`: a thread waiting for it, or for a lock, a queue or a
socket, spends no CPU); work of native threads that release the GIL (gRPC's core) is not
seen, so the shares are of the Python CPU.

The stages of our package are its own modules (`functions/...`); the libraries' stages are
the web framework, the Firestore client (gRPC and protobuf included), the auth libraries
and pydantic. "Ours" in the report is the sum of our package's stages. The Firestore client
stage also holds `functions/store/wire.py`, our plain-message calls on the SDK's channel:
they do the client's work (encoding writes, decoding answers) instead of the SDK's own
layers, so they are charged where that work was before.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Final

WIRE: Final = (("Firestore client", ("functions/store/wire.py",)),)
"""Our module that does the Firestore client's work (charged to that stage)."""
OURS: Final = (
    ("auth", ("functions/auth/", "functions/core/api_keys.py")),
    (
        "limits",
        ("functions/core/limits.py", "functions/store/limits.py", "functions/edge/wiring.py"),
    ),
    ("validation", ("functions/resources/", "functions/edge/http/parsing.py")),
    ("logging", ("functions/core/logs.py",)),
    ("our code", ("functions/", "main.py")),
)
"""Our package's stages, by path (the first that matches)."""
LIBRARIES: Final = (
    (
        "framework",
        ("flask/", "werkzeug/", "gunicorn/", "functions_framework/", "firebase_functions/"),
    ),
    (
        "Firestore client",
        ("firestore_v1/", "google/cloud/", "api_core/", "grpc/", "protobuf/", "proto/"),
    ),
    (
        "auth libraries",
        ("firebase_admin/", "google/auth/", "jwt/", "cryptography/", "cachecontrol/"),
    ),
    ("pydantic", ("pydantic/", "pydantic_core/")),
)
STAGES: Final = (*(name for name, _ in OURS + LIBRARIES), "other")
FRAME: Final = re.compile(r"\((?P<file>[^():]+)(?::\d+)?\)$")
IDLE: Final = re.compile(
    r"^(Condition\.wait|Condition\.__enter__|Event\.wait|_worker|\w*Selector\.select"
    r"|_wait_once) \((threading|selectors|concurrent/futures/thread|grpc/_common)\.py"
)
"""Leaves of a thread that waits (a lock, a queue, a socket): no CPU, so not counted."""


def stage_of(stack: list[str]) -> str:
    """The stage one sample is charged to: its innermost frame of a known stage."""
    for frame in reversed(stack):  # py-spy's raw stacks run from the outermost frame in
        found = FRAME.search(frame)
        path = found.group("file") if found else ""
        for name, markers in WIRE + OURS + LIBRARIES:
            if any(_at(marker, path) for marker in markers) and _in_package(path, name):
                return name
    return "other"


def _at(marker: str, path: str) -> bool:
    """Whether `path` is in the folder `marker` (py-spy shows paths from their package:
    `functions/...` is ours, `firebase_functions/...` is not)."""
    return path.startswith(marker) or f"/{marker}" in path


def _in_package(path: str, stage: str) -> bool:
    """Our stages (and our Firestore module) only for our own files, never for a library's
    `functions/` folder."""
    ours = stage in dict(OURS) or any(_at(m, path) for _, markers in WIRE for m in markers)
    return "site-packages" not in path if ours else True


def breakdown(raw: str) -> dict[str, float]:
    """Each stage's share of the samples in py-spy's raw (collapsed) output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if IDLE.match(frames[-1]):
            continue
        counts[stage_of(frames)] += int(count)
    total = sum(counts.values())
    if not total:
        return {}
    shares = {name: round(counts[name] / total, 4) for name in STAGES if counts[name]}
    shares["ours"] = round(sum(counts[name] for name, _ in OURS) / total, 4)
    shares["samples"] = total
    return shares


SAMPLE_RATE_HZ: Final = 250
"""py-spy's samples a second: samples / rate is the time the GIL was held."""


def python_ms_per_request(samples: float, requests: int) -> float | None:
    """The Python CPU of one request, from py-spy's `--gil` samples of the load that
    answered `requests` (each sample stands for 1 / SAMPLE_RATE_HZ of held GIL)."""
    return round(samples / SAMPLE_RATE_HZ / requests * 1000, 3) if requests else None


def start_sampling(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording `pid` and its children for `seconds`; None where py-spy is not
    installed or may not attach (it needs ptrace)."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        return None
    return subprocess.Popen(
        [
            binary, "record", "--pid", str(pid), "--subprocesses", "--duration", str(seconds),
            "--rate", str(SAMPLE_RATE_HZ), "--gil", "--format", "raw", "--output", str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
