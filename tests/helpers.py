"""Shared helpers of the test suites: constants, the in-process API client and assertions.

Fixtures live in the `conftest.py` files; everything here is plain code they and the
tests import.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from functions.core import config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = os.environ.get("GCLOUD_PROJECT", "demo-partner-api")
REGION = config.functions_region()
"""FUNCTIONS_REGION: `make test` runs its second stack in europe-west1."""
OWNER_FUNCTIONS = ("entriesSummary",)
"""The owner endpoints main.py declares (the shipped example)."""
FUNCTIONS: tuple[str, ...] = (
    *("fetchData", "createEntry", "updateEntry", "api", "health", "openapi", "docs"),
    *OWNER_FUNCTIONS,
)
PARTNER_FUNCTIONS = ("fetchData", "createEntry", "updateEntry")
OWNER_OPERATION = "owner."
"""The prefix of the audit operations an owner's own actions record (CLI and console)."""
CONSOLE = "console"
"""The owner's console: HTML for browsers, outside the partner API's envelope."""
TRIGGERS = (
    *("entriesChanged", "entriesChangedSandbox", "eventCreated", "eventCreatedSandbox"),
    *("deliverWebhook", "deliverWebhookRetry"),
)
"""The functions main.py declares that are not HTTP: a Firestore trigger per declared
collection and the one that enqueues webhook deliveries, each with its twin on test
mode's database (`...Sandbox`), and the task queue functions of first attempts and of
retries (both modes')."""
METHODS = {"fetchData": "GET", "createEntry": "POST", "updateEntry": "PATCH"}
PASSWORD = "test-password-1"
MORE_RESOURCES = ROOT / "tests" / "fixtures" / "more_resources.toml"
EXISTING_DATA = ROOT / "tests" / "fixtures" / "existing_data.toml"
DATA_MODEL = ROOT / "tests" / "fixtures" / "data_model.toml"

counter = itertools.count()


class Tenants:
    """The tenant ids of the running emulator test, its own: `T.acme` is "acme-" and a
    suffix no other test uses, in this process, in another worker or in an earlier run
    against the same emulators. A test then finds under its tenants only what it wrote,
    so the emulators need no wiping between tests and the workers share them. A test
    that reads beyond its tenants (every user, whole collections, the rules) is marked
    `empty_database` instead: it runs on emptied emulators, with no other test beside it."""

    def __init__(self) -> None:
        import secrets

        worker = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")
        self.run = f"{secrets.token_hex(3)}{worker}"
        self._test = 0
        self.used: set[str] = set()
        self.emptied = False
        """Whether the running test has emptied emulators to itself (`empty_database`)."""

    def next_test(self, *, emptied: bool) -> None:
        self._test += 1
        self.used = set()
        self.emptied = emptied

    def of(self, name: str) -> str:
        """The running test's tenant called `name`."""
        tenant = f"{name}-{self.run}-{self._test}"
        self.used.add(tenant)
        return tenant

    def name(self, base: str) -> str:
        """A document id (or any name) no other test uses, that is not a tenant."""
        return f"{base}-{self.run}-{self._test}"

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.of(name)


T = Tenants()
"""The running test's tenants: `T.acme`, `T.globex`, `T.of("shop-2")`."""


EMULATOR_HANG_UP = b'{"code":"ECONNRESET"}'
"""What the Functions emulator answers (500) when the connection it kept alive to a
function's worker was being closed: its proxy keeps idle connections 5 s (Node's agent),
the worker's gunicorn 2 s, and a request sent on one as it closes never reaches the
function. Not an answer of ours: every one of ours is the JSON error envelope. (A worker
that dies mid-request gets the same answer; the suite kills only delivery workers, which
the task queue calls, not these requests.)"""


def resend_dropped_route(route: Any) -> None:
    """A Playwright route handler: the request, sent once more when the emulator dropped
    it (EMULATOR_HANG_UP); redirects and cookies pass to the page as they came."""
    response = route.fetch(max_redirects=0)
    if response.status == 500 and response.body() == EMULATOR_HANG_UP:
        response = route.fetch(max_redirects=0)
    route.fulfill(response=response)


def resending_hang_ups(send: Callable[..., Any], origin: str) -> Callable[..., Any]:
    """`requests.Session.send`, sending once more a request to `origin` that the emulator
    dropped (EMULATOR_HANG_UP)."""

    def resend(session: Any, request: Any, **kwargs: Any) -> Any:
        response = send(session, request, **kwargs)
        dropped = response.status_code == 500 and response.content == EMULATOR_HANG_UP
        if origin and str(request.url).startswith(origin) and dropped:
            response = send(session, request, **kwargs)
        return response

    return resend


DEPLOYMENT_SETTINGS = ("PARTNER_", "FUNCTIONS_", "THREADS")
"""What places and sizes the functions: a test that loads main.py sets these itself."""
EXPORTS = (
    "import json, main\n"
    "print(json.dumps(sorted(k for k, v in vars(main).items() "
    "if hasattr(v, '__firebase_endpoint__'))))\n"
)
"""A script printing the names of the functions main.py exports, as the CLI discovers them."""


def run_python(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in a process of its own, as the Firebase CLI loads main.py: in a demo
    project, with the deployment's settings only as `env` gives them."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(DEPLOYMENT_SETTINGS)}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**base, "GOOGLE_CLOUD_PROJECT": "demo-partner-api", **(env or {})}, check=False,
    )  # fmt: skip


def unique_email(name: str = "user") -> str:
    """An address no other test, worker or run against the same emulators uses."""
    return f"{name}{next(counter)}-{T.run}@example.test"


@dataclass(frozen=True)
class User:
    uid: str
    email: str
    token: str
    partner_id: str | None = None

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


UserFactory = Callable[..., User]


def function_app(name: str) -> Flask:
    """An exported function as functions-framework serves it, built from the real main.py."""
    from functions_framework import create_app

    app: Flask = create_app(name, str(ROOT / "main.py"))  # type: ignore[no-untyped-call]
    return app


class Api:
    """Calls functions in-process; paths are `<function>[/<id>][?query]`."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self._clients: dict[str, FlaskClient] = {n: a.test_client() for n, a in apps.items()}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        name, _, rest = path.partition("/")
        name, _, query = name.partition("?")
        target = "/" + rest
        if query:
            target += "?" + query
        return self._clients[name].open(target, method=method, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.call("PATCH", path, **kwargs)


def function_url(name: str) -> str:
    origin = os.environ["FUNCTIONS_EMULATOR_ORIGIN"]
    return f"{origin}/{PROJECT}/{REGION}/{name}"


def entry_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": "Catering, March",
        "amount": "123.45",
        "currency": "EUR",
        "date": "2026-03-31",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error envelope, with the right status and a request id that matches the header."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["status"] == status
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    if code is not None:
        assert error["code"] == code
    return dict(error)


def create(api: Api, user: User, **overrides: Any) -> dict[str, Any]:
    response = api.post("createEntry", json=entry_body(**overrides), headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def tenant_documents(collection: str, field: str = "partnerId") -> list[Any]:
    """The snapshots in `collection` of the running test's tenants (`field` names the
    tenant), or all of them for a test that has the emulators to itself."""
    from google.cloud.firestore import FieldFilter

    from functions import store

    documents = store.client().collection(collection)
    if T.emptied:
        return list(documents.stream())
    if not T.used:
        return []
    return list(documents.where(filter=FieldFilter(field, "in", sorted(T.used))).stream())


def stored_entries(partner_id: str | None = None) -> list[dict[str, Any]]:
    """The stored entries of `partner_id`, or of every tenant of the running test (all of
    them, for a test that has the emulators to itself)."""
    from google.cloud.firestore import FieldFilter

    from functions import store

    if partner_id is None:
        docs = tenant_documents("entries")
    else:
        where = FieldFilter("partnerId", "==", partner_id)
        docs = list(store.client().collection("entries").where(filter=where).stream())
    return [{**(d.to_dict() or {}), "id": d.id} for d in docs]


def list_all(api: Api, user: User, query: str = "") -> list[dict[str, Any]]:
    """Walk every page of a list."""
    entries: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params = query + (f"&cursor={cursor}" if cursor else "")
        response = api.get(f"fetchData?{params}", headers=user.headers())
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        entries.extend(page["data"])
        cursor = page["next_cursor"]
        assert page["has_more"] == (cursor is not None)
        if cursor is None:
            return entries
    raise AssertionError("pagination did not end")


def first_cursor(api: Api, user: User, query: str = "limit=1") -> str:
    page = api.get(f"fetchData?{query}", headers=user.headers()).get_json()
    assert page["next_cursor"]
    return str(page["next_cursor"])


def reply(handler: Any, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Answer an `http.server` request with a body of known length, so that a kept-alive
    client reads exactly it."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def closed_port() -> int:
    from devtools.emulators import free_port

    return free_port()


def unsigned_token(payload: dict[str, Any]) -> str:
    """An `alg: none` JWT: what the Auth emulator issues, never acceptable in production."""

    def b64(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def token_claims(uid: str, **overrides: Any) -> dict[str, Any]:
    """The claims of a partner ID token of this project, for `uid`."""
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{PROJECT}",
        "aud": PROJECT,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "sub": uid,
        "user_id": uid,
        "role": "partner",
        "partnerId": "acme",
        "firebase": {"sign_in_provider": "password", "identities": {}},
    }
    claims.update(overrides)
    return claims


class Blackhole:
    """A loopback server that accepts connections and never answers: a stalled backend."""

    def __init__(self) -> None:
        import socket
        import threading

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.host = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._closed = False
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with self._lock:  # one accepted as it closes is closed, never left to leak
                if self._closed:
                    connection.close()
                    return
                self._held.append(connection)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            held, self._held = self._held, []
        self._socket.close()
        for connection in held:
            connection.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m functions.partners ARGS`, run in this process (no terminal: stdin is empty,
    and stdout and stderr are captured), or with `env`, as operators run it: a process of
    its own with exactly that environment."""
    if env is not None:
        return cli_process(*args, env=env)
    import contextlib
    import io
    from unittest import mock

    from functions.cli import commands as tool

    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch.object(sys, "stdin", io.StringIO("")),  # empty, and no terminal
    ):
        try:
            code = tool.main(list(args))
        except SystemExit as exc:  # argparse: --help, and usage errors
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def api_key(partner_id: str, scopes: str) -> str:
    """A new API key of the partner (its record made if missing), with `scopes`
    (comma-separated), as `keys create --json` prints it."""
    made = cli("--json", "keys", "create", "--partner", partner_id, "--create-partner",
               "--scopes", scopes)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return str(json.loads(made.stdout)["key"])


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m functions.partners ARGS` in a process of its own, as operators run it."""
    return subprocess.run(
        [sys.executable, "-m", "functions.partners", *args],
        cwd=ROOT,
        env=env or dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def log_lines(capsys: Any) -> tuple[str, list[dict[str, Any]]]:
    """What the code under test logged (stdout and stderr): the raw text, and the JSON
    records in it."""
    captured = capsys.readouterr()
    text = captured.out + captured.err
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return text, records


def hammer_during(change: Callable[[], object], accepted: Callable[[], bool]) -> Hammered:
    """Call `accepted` from 8 threads without pause while `change` runs: each call's start
    and end (relative to the moment `change` returned), whether it was accepted, and when
    `change` began (relative to the same moment)."""
    import threading

    stop = threading.Event()
    calls: list[tuple[float, float, bool]] = []

    def caller() -> None:
        while not stop.is_set():
            started = time.monotonic()
            ok = accepted()
            calls.append((started, time.monotonic(), ok))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    began = time.monotonic()
    change()
    changed_at = time.monotonic()
    # At least 0.3 s and 8 whole calls after the change: a loaded machine stretches calls.
    deadline = changed_at + 30
    while time.monotonic() < deadline:
        after = sum(1 for start, _, _ in list(calls) if start >= changed_at)
        if after >= 8 and time.monotonic() - changed_at >= 0.3:
            break
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(10)
    return Hammered(
        [(start - changed_at, end - changed_at, ok) for start, end, ok in calls],
        began - changed_at,
    )


@dataclass(frozen=True)
class Hammered:
    calls: list[tuple[float, float, bool]]
    """(start, end, accepted), in seconds relative to the moment the change returned."""
    began: float
    """When the change began, relative to the same moment (negative)."""


def assert_nothing_passed_after(hammered: Hammered, change: str) -> None:
    """Calls that ended before the change began passed; none that started after it
    returned did. (Calls that overlap the change may go either way: a loaded machine
    stretches both.)"""
    before = [ok for start, end, ok in hammered.calls if end < hammered.began]
    after = [ok for start, end, ok in hammered.calls if start >= 0]
    assert before, "calls ran before the change"
    assert all(before), f"{before.count(False)} call(s) before the {change} were refused"
    assert len(after) >= 8, "the check ran concurrently after the change"
    assert not any(after), f"{after.count(True)} call(s) started after the {change} passed"


ENTRY_WIRE_FIELDS = frozenset(
    {
        "id",
        "partnerId",
        "description",
        "amount",
        "currency",
        "date",
        "category",
        "reference",
        "createdAt",
        "updatedAt",
        "createdBy",
        "version",
    }
)
"""An entry as partners see it; stored, it is the same less `id` (the document's name)."""


def more_declaration_text() -> str:
    """The repository's declaration with the test suite's two more resources."""
    return (ROOT / "resources.toml").read_text() + "\n" + MORE_RESOURCES.read_text()


def existing_declaration_text() -> str:
    """The repository's declaration with a collection the owner's app already fills."""
    return (ROOT / "resources.toml").read_text() + "\n" + EXISTING_DATA.read_text()


def data_model_declaration_text() -> str:
    """The repository's declaration with every field kind (tests/fixtures/data_model.toml)."""
    return (ROOT / "resources.toml").read_text() + "\n" + DATA_MODEL.read_text()


def data_model_declaration() -> Any:
    import tomllib

    from functions.resources import declaration

    return declaration.parse(tomllib.loads(data_model_declaration_text()))


def more_declaration() -> Any:
    import tomllib

    from functions.resources import declaration

    return declaration.parse(tomllib.loads(more_declaration_text()))


class SimulatedClock:
    """One clock for a limiter and its lease store: seconds that pass only when told."""

    def __init__(self) -> None:
        self.seconds = 1_000.0
        self.start = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.seconds - 1_000.0)


class MemoryLeases:
    """The lease arithmetic of `functions.core.limits` over a dict: the Firestore store's
    stand-in for pure-logic tests (the emulator tests use the real one)."""

    def __init__(self, clock: SimulatedClock | None = None) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.clock = clock
        self.down = False
        self.operations = 0

    def _now(self) -> dt.datetime:
        return self.clock.now() if self.clock else dt.datetime.now(dt.UTC)

    def lease_tokens(
        self, bucket: str, want: int, rate_per_s: float, burst: int, least: int = 1
    ) -> tuple[int, float, int]:
        from functions.core.limits import LimitsUnavailable, bucket_lease

        if self.down:
            raise LimitsUnavailable()
        name = f"rate:{bucket}"
        taken, left, document = bucket_lease(
            self.documents.get(name), self._now(), want, rate_per_s, burst, least=least
        )
        if document is not None:
            self.documents[name] = document
        spent = 1 if document is None else 2
        self.operations += spent
        return taken, left, spent

    def lease_permits(
        self, bucket: str, want: int, quota: int, returned: int = 0
    ) -> tuple[int, int, int]:
        from functions.core.limits import LimitsUnavailable, quota_lease

        if self.down:
            raise LimitsUnavailable()
        name = f"quota:{bucket}"
        taken, left, document = quota_lease(
            self.documents.get(name), self._now(), want, quota, returned=returned
        )
        if document is not None:
            self.documents[name] = document
        spent = 1 if document is None else 2
        self.operations += spent
        return taken, left, spent


class RawReceiver:
    """A raw TCP receiver on loopback that answers anything with `reply` (bytes, HTTP or
    not), dripped `drip` bytes at a time every `every` seconds, one connection at a time;
    `connections` counts them, and `arrived` is set at the first."""

    def __init__(self, reply: bytes, *, drip: int = 0, every: float = 0.0) -> None:
        self.reply, self.drip, self.every = reply, drip, every
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.stop = threading.Event()
        self.arrived = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.connections += 1
                self.arrived.set()
                conn.recv(65536)
                step = self.drip or max(1, len(self.reply))
                for start in range(0, len(self.reply), step):
                    try:
                        conn.sendall(self.reply[start : start + step])
                    except OSError:
                        break
                    if self.stop.wait(self.every):
                        break

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)
