"""One exported function served as in production: functions-framework on gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from devtools.emulators import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def serve_function(
    target: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`functions-framework --target TARGET` on main.py, as deployed (gunicorn, no debug);
    its output (one JSON line per request) goes to `log` when given."""
    with serving_process(target, log, env) as (url, _):
        yield url


@contextmanager
def serving_process(
    target: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serve_function`, with the server's process (gunicorn's master; its worker is the
    child): for what a test reads of it, such as its memory."""
    port = free_port()
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    binary = Path(sys.executable).parent / "functions-framework"
    process = subprocess.Popen(
        [
            str(binary),
            "--target",
            target,
            "--source",
            "main.py",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{target} did not start on {url}")
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not None and not isinstance(output, int):
            output.close()
