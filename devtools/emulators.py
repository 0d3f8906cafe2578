"""Small clients for the emulators' own REST endpoints (sign-in, data wipes)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from devtools.prerequisites import find_java, firestore_launcher

# The Auth emulator accepts any API key; real projects need the web API key.
EMULATOR_API_KEY = "fake-api-key"


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def auth_host() -> str:
    host = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    if not host:
        raise RuntimeError("FIREBASE_AUTH_EMULATOR_HOST is not set: start the emulators first")
    return host


def firestore_host() -> str:
    host = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if not host:
        raise RuntimeError("FIRESTORE_EMULATOR_HOST is not set: start the emulators first")
    return host


def sign_in(email: str, password: str) -> str:
    """A real ID token from the Auth emulator for an email/password user."""
    url = (
        f"http://{auth_host()}/identitytoolkit.googleapis.com/v1/"
        f"accounts:signInWithPassword?key={EMULATOR_API_KEY}"
    )
    reply = _request("POST", url, {"email": email, "password": password, "returnSecureToken": True})
    return str(reply["idToken"])


def wipe_firestore(project: str) -> None:
    _request(
        "DELETE",
        f"http://{firestore_host()}/emulator/v1/projects/{project}/databases/(default)/documents",
    )


def wipe_auth(project: str) -> None:
    _request("DELETE", f"http://{auth_host()}/emulator/v1/projects/{project}/accounts")


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _emulator_jar() -> Path:
    launcher = firestore_launcher()
    if launcher is not None:
        return launcher
    downloaded = sorted(Path.home().glob(".cache/firebase/emulators/cloud-firestore-emulator*.jar"))
    if not downloaded:
        raise RuntimeError("no Firestore emulator JAR found; `make test` sets one up")
    return downloaded[-1]


class FirestoreProcess:
    """A Firestore emulator process of one's own, on its own port: fresh data, and
    something a test may pause (SIGSTOP) or kill."""

    def __init__(self) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(find_java()),
                "-jar",
                str(_emulator_jar()),
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--project_id=demo-partner-api",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{self.host}/", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the Firestore emulator did not start")

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        if self.process is not None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=20)
            self.process = None


def load_rules(project: str, source: str) -> None:
    """Replace the Firestore emulator's rules (as the Emulator Suite's test SDKs do).

    Raises: requests.HTTPError when the emulator refuses them (they do not compile).
    """
    import requests  # noqa: PLC0415

    response = requests.put(
        f"http://{firestore_host()}/emulator/v1/projects/{project}:securityRules",
        json={"rules": {"files": [{"name": "firestore.rules", "content": source}]}},
        timeout=30,
    )
    response.raise_for_status()
