"""Fixtures: the real emulators (started by `make test`), clean data, real partner users.

Nothing here stands in for Firestore or Auth: users are created on the Auth emulator,
ID tokens come from its sign-in endpoint, and requests go either through the Functions
emulator or through functions-framework's app built from the real `main.py`.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from devtools import emulators
from devtools.token_rig import KeyServer, write_service_account
from functions import store

PROJECT = os.environ.get("GCLOUD_PROJECT", "demo-partner-api")
REGION = "us-central1"
FUNCTIONS = ("fetchData", "createEntry", "updateEntry", "health", "openapi")
PARTNER_FUNCTIONS = ("fetchData", "createEntry", "updateEntry")
PASSWORD = "test-password-1"

_counter = itertools.count()


def _reachable(host: str) -> bool:
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def emulator_hosts() -> dict[str, str]:
    """The running emulators; fails fast with what to do when they are not there."""
    hosts = {
        "firestore": os.environ.get("FIRESTORE_EMULATOR_HOST", ""),
        "auth": os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", ""),
        "functions": os.environ.get("FUNCTIONS_EMULATOR_ORIGIN", "").removeprefix("http://"),
    }
    missing = [name for name, host in hosts.items() if not host or not _reachable(host)]
    if missing:
        pytest.fail(
            f"emulators not running ({', '.join(missing)}): run the tests with `make test`, "
            "which starts them",
            pytrace=False,
        )
    return hosts


@pytest.fixture
def clean(emulator_hosts: dict[str, str]) -> None:
    """Every emulator test starts from empty Firestore and Auth."""
    emulators.wipe_firestore(PROJECT)
    emulators.wipe_auth(PROJECT)


@dataclass(frozen=True)
class User:
    uid: str
    email: str
    token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}


UserFactory = Callable[..., User]


@pytest.fixture
def make_user(clean: None) -> UserFactory:
    """Create a real user on the Auth emulator with `claims`, signed in: a real ID token."""
    from firebase_admin import auth

    from functions.firebase_app import admin_app

    def make(claims: dict[str, Any] | None = None, *, sign_in: bool = True) -> User:
        email = f"user{next(_counter)}@example.test"
        user = auth.create_user(email=email, password=PASSWORD, app=admin_app())
        if claims:
            auth.set_custom_user_claims(user.uid, claims, app=admin_app())
        token = emulators.sign_in(email, PASSWORD) if sign_in else ""
        return User(uid=user.uid, email=email, token=token)

    return make


@pytest.fixture
def partner(make_user: UserFactory) -> Callable[[str], User]:
    """A partner user of the given tenant."""

    def make(partner_id: str = "acme", **claims: Any) -> User:
        return make_user({"role": "partner", "partnerId": partner_id, **claims})

    return make


@pytest.fixture
def acme(partner: Callable[[str], User]) -> User:
    return partner("acme")


@pytest.fixture
def globex(partner: Callable[[str], User]) -> User:
    return partner("globex")


@pytest.fixture(scope="session")
def apps() -> dict[str, Any]:
    """Each exported function as functions-framework serves it, built from the real main.py."""
    from functions_framework import create_app

    return {name: create_app(name, "main.py") for name in FUNCTIONS}


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


@pytest.fixture
def api(apps: dict[str, Any], clean: None) -> Api:
    return Api(apps)


def function_url(name: str) -> str:
    origin = os.environ["FUNCTIONS_EMULATOR_ORIGIN"]
    return f"{origin}/{PROJECT}/{REGION}/{name}"


@pytest.fixture
def emulator_http(emulator_hosts: dict[str, str]) -> Iterator[requests.Session]:
    """A session for calls through the Functions emulator's URLs."""
    with requests.Session() as session:
        yield session


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
    return error


def create(api: Api, user: User, **overrides: Any) -> dict[str, Any]:
    response = api.post("createEntry", json=entry_body(**overrides), headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def stored_entries(partner_id: str | None = None) -> list[dict[str, Any]]:
    docs = store.client().collection("entries").stream()
    found = [{**d.to_dict(), "id": d.id} for d in docs]
    return [e for e in found if partner_id is None or e["partnerId"] == partner_id]


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


def closed_port() -> int:
    return emulators.free_port()


# --- production-mode token verification, offline ----------------------------------------


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    server.add_key("key-1")
    yield server
    server.close()


@pytest.fixture
def production_mode(
    key_server: KeyServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> KeyServer:
    """No Auth emulator: tokens are verified for real, against the local key server.

    firebase-admin builds its auth client with the app's credentials, so a locally
    generated service-account file stands in for the platform's; it is never used to call
    anything here.
    """
    account = write_service_account(tmp_path, PROJECT)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(account))
    monkeypatch.setenv("ID_TOKEN_CERTS_URL", key_server.url)
    monkeypatch.setenv("AUTH_CHECK_REVOKED", "false")
    return key_server
