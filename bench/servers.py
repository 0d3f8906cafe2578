"""The serving processes under load: ours, the Node peer, the naive Python peer, floors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.settings import MAX_AGE_S, NODE_PEER, PARTNER, PYTHON_PEERS, ROOT, WRITES_COLLECTION


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

    def cpu_s(self) -> float:
        """User and system CPU the server's processes have used so far (from /proc)."""
        assert self.process is not None
        return sum(_cpu_s(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])

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


def _cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) if match else 0


def servers(env: dict[str, str], logs: Path) -> dict[str, Server]:
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
            log=logs / "ours-fetch-max-age.log",
        ),
        "ours-create": Server(
            "ours-create",
            [*python, "--source", "main.py", "--target", "createEntry"],
            writes,
            log=logs / "ours-create.log",
        ),
        "ours-create-max-age": Server(
            "ours-create-max-age",
            [*python, "--source", "main.py", "--target", "createEntry"],
            {**writes, "AUTH_REVOCATION_MAX_AGE_S": MAX_AGE_S},
            log=logs / "ours-create-max-age.log",
        ),
        "ours-fetch-sdk": Server(
            "ours-fetch-sdk",
            [*python, "--source", "main.py", "--target", "fetchData"],
            {**env, "FIRESTORE_FAST_PATH": "false"},
            log=logs / "ours-fetch-sdk.log",
        ),
        "ours-create-sdk": Server(
            "ours-create-sdk",
            [*python, "--source", "main.py", "--target", "createEntry"],
            {**writes, "FIRESTORE_FAST_PATH": "false"},
            log=logs / "ours-create-sdk.log",
        ),
        "node-fetch": Server(
            "node-fetch", [*node, "--target", "fetchData"], node_env, cwd=NODE_PEER
        ),
        "node-fetch-auth": Server(
            "node-fetch-auth", [*node, "--target", "fetchDataAuth"], node_env, cwd=NODE_PEER
        ),
        "node-create-auth": Server(
            "node-create-auth",
            [*node, "--target", "createEntryAuth"],
            {**node_env, "ENTRIES_COLLECTION": WRITES_COLLECTION},
            cwd=NODE_PEER,
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
