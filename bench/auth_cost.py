"""What token verification costs per request, in-process, with and without the session check.

Three measurements, 300 calls each after a warm-up, median and p99 in milliseconds:
- emulator token, firebase-admin's emulator path (no signature), no session check;
- emulator token with the session check (one user lookup on the Auth emulator);
- production path: an RS256 token signed by a local key and checked against a local key
  server (keys cached after the first call), no session check.
And the session check under concurrency: 8 threads of one user verifying at once, through
firebase-admin's own `check_revoked` (a lookup per call) and through ours (concurrent
calls share lookups that started after they arrived), calls per second and p50.

Run by `make bench` (after the load runs) or alone: `python -m devtools.stack exec --
bench.auth_cost`, which prints a table and writes bench/results/auth_cost.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.settings import RESULTS

CALLS = 300
THREADS = 8
CALLS_PER_THREAD = 150


def _timed(call: Callable[[], Any]) -> dict[str, float]:
    for _ in range(20):
        call()
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3),
    }


def _concurrent(call: Callable[[], Any]) -> dict[str, float]:
    """THREADS threads making CALLS_PER_THREAD calls each, all at once."""
    call()
    samples: list[float] = []
    start = threading.Barrier(THREADS + 1)

    def worker() -> None:
        start.wait()
        for _ in range(CALLS_PER_THREAD):
            began = time.perf_counter()
            call()
            samples.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "calls_per_s": round(len(samples) / elapsed, 1),
        "p50_ms": round(statistics.median(samples), 3),
    }


def measure_concurrent(token: str) -> dict[str, dict[str, float]]:
    """The session check with THREADS concurrent callers: firebase-admin's and ours."""
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415

    from functions.auth import id_tokens as auth  # noqa: PLC0415
    from functions.outside.firebase_app import admin_app  # noqa: PLC0415

    return {
        "firebase-admin check_revoked (a lookup per call)": _concurrent(
            lambda: firebase_auth.verify_id_token(token, app=admin_app(), check_revoked=True)
        ),
        "ours (concurrent calls share lookups)": _concurrent(
            lambda: auth.verify_id_token(token, check_revoked=True)
        ),
    }


def measure_api_keys() -> dict[str, dict[str, float]]:
    """An API key's cost in-process: the checks before any lookup, and the whole check
    with its record read, beside a bare read of one document for scale."""
    from functions import store  # noqa: PLC0415
    from functions.auth.api_key_auth import ApiKeyAuthenticator  # noqa: PLC0415
    from functions.core import api_keys  # noqa: PLC0415
    from functions.operations.keys import KeyDirectory  # noqa: PLC0415

    project = os.environ["GCLOUD_PROJECT"]
    key = KeyDirectory(project, store.client()).create("bench", None).key
    authenticator = ApiKeyAuthenticator()
    record = store.client().collection("partnerKeys").document(key[9:25])
    return {
        "API key, format and checksum only": _timed(lambda: api_keys.parse(key)),
        "API key, with its record read": _timed(lambda: authenticator.authenticate(key)),
        "floor: a bare read of one document": _timed(record.get),
    }


def measure() -> dict[str, dict[str, dict[str, float]]]:
    from firebase_admin import auth as firebase_auth  # noqa: PLC0415

    from devtools.emulators import sign_in  # noqa: PLC0415
    from devtools.token_rig import KeyServer, write_service_account  # noqa: PLC0415
    from functions.auth import id_tokens as auth  # noqa: PLC0415
    from functions.outside.firebase_app import admin_app  # noqa: PLC0415

    email = f"auth-cost-{os.getpid()}@bench.example"
    user = firebase_auth.create_user(email=email, password="auth-cost-1", app=admin_app())
    firebase_auth.set_custom_user_claims(
        user.uid, {"role": "partner", "partnerId": "bench"}, app=admin_app()
    )
    token = sign_in(email, "auth-cost-1")
    results = {
        "emulator token, no session check": _timed(
            lambda: auth.verify_id_token(token, check_revoked=False)
        ),
        "emulator token, with session check": _timed(
            lambda: auth.verify_id_token(token, check_revoked=True)
        ),
    }
    results.update(measure_api_keys())
    concurrent = measure_concurrent(token)
    keys = KeyServer()
    keys.add_key("bench-key")
    now = int(time.time())
    project = os.environ["GCLOUD_PROJECT"]
    signed = keys.sign(
        {
            "iss": f"https://securetoken.google.com/{project}",
            "aud": project,
            "sub": user.uid,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            "role": "partner",
            "partnerId": "bench",
        },
        "bench-key",
    )
    saved = {
        k: os.environ.get(k)
        for k in (
            "FIREBASE_AUTH_EMULATOR_HOST",
            "ID_TOKEN_CERTS_URL",
            "GOOGLE_APPLICATION_CREDENTIALS",
        )
    }
    with tempfile.TemporaryDirectory() as folder:
        try:
            os.environ.pop("FIREBASE_AUTH_EMULATOR_HOST")
            os.environ["ID_TOKEN_CERTS_URL"] = keys.url
            os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(
                write_service_account(Path(folder), project)
            )
            results["RS256 token (production path), no session check"] = _timed(
                lambda: auth.verify_id_token(signed, check_revoked=False)
            )
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            keys.close()
    return {"sequential": results, "concurrent": concurrent}


def render(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "",
        f"## Token verification, in-process ({CALLS} calls each)",
        "",
        "| path | p50 ms | p99 ms |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {f['p50_ms']} | {f['p99_ms']} |" for name, f in results["sequential"].items()
    ]
    lines += [
        "",
        f"## Session check, {THREADS} threads of one user at once ({CALLS_PER_THREAD} calls each)",
        "",
        "| path | calls/s | p50 ms |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {f['calls_per_s']} | {f['p50_ms']} |"
        for name, f in results["concurrent"].items()
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    results = measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "auth_cost.json").write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
