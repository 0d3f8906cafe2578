"""The deployable shape: discovery, both serving paths and the deploy configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devtools.functions_server import serve_function
from tests.conftest import FUNCTIONS, PARTNER_FUNCTIONS, User, function_url

ROOT = Path(__file__).resolve().parent.parent
FIREBASE_JSON = json.loads((ROOT / "firebase.json").read_text())


def test_main_imports_without_credentials_or_project() -> None:
    """The CLI discovers functions by importing main.py with no credentials: it must work."""
    env = {"PATH": os.environ["PATH"], "NO_GCE_CHECK": "true", "HOME": os.environ.get("HOME", "/")}
    script = (
        "import main, json; "
        "print(json.dumps(sorted(n for n in dir(main) "
        "if hasattr(getattr(main, n), '__firebase_endpoint__'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == sorted(FUNCTIONS)


def test_firebase_json_runtime_matches_the_venv_python() -> None:
    (functions,) = FIREBASE_JSON["functions"]
    version = f"python{sys.version_info.major}{sys.version_info.minor}"
    assert functions["runtime"] == version
    assert functions["source"] == "."


@pytest.mark.parametrize(
    "path", ["venv", "node_modules", ".git", "tests", "tooling", "devtools", "*.log"]
)
def test_firebase_json_keeps_local_files_out_of_the_upload(path: str) -> None:
    (functions,) = FIREBASE_JSON["functions"]
    assert path in functions["ignore"]


def test_no_package_json_in_the_functions_source() -> None:
    """A package.json beside main.py makes the Firebase CLI treat the code as Node.js."""
    assert not (ROOT / "package.json").exists()


def test_firebase_json_deploys_rules_and_indexes_and_pins_emulator_ports() -> None:
    assert FIREBASE_JSON["firestore"] == {
        "rules": "firestore.rules",
        "indexes": "firestore.indexes.json",
    }
    emulators = FIREBASE_JSON["emulators"]
    assert emulators["auth"]["port"] == 9099
    assert emulators["firestore"]["port"] == 8080
    assert emulators["functions"]["port"] == 5001
    assert emulators["ui"] == {"enabled": False}
    assert emulators["singleProjectMode"] is True


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_emulator_discovered_and_serves_every_function(
    name: str, emulator_http: requests.Session, clean: None
) -> None:
    response = emulator_http.get(function_url(name), timeout=60)
    expected = 401 if name in PARTNER_FUNCTIONS else 200
    if name in ("createEntry",):
        response = emulator_http.post(function_url(name), json={}, timeout=60)
    if name == "updateEntry":
        response = emulator_http.patch(function_url(name) + "/abc", json={}, timeout=60)
    assert response.status_code == expected, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Request-Id"]


def test_functions_emulator_end_to_end_with_a_partner_token(
    emulator_http: requests.Session, acme: User
) -> None:
    created = emulator_http.post(
        function_url("createEntry"),
        json={
            "description": "Via emulator",
            "amount": "1.00",
            "currency": "EUR",
            "date": "2026-01-02",
        },
        headers=acme.headers(),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    entry_id = created.json()["id"]
    fetched = emulator_http.get(
        f"{function_url('fetchData')}/{entry_id}", headers=acme.headers(), timeout=60
    )
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["description"] == "Via emulator"
    assert fetched.headers["ETag"] == '"1"'


@pytest.fixture
def framework_server(emulator_hosts: dict[str, str]) -> Iterator[str]:
    """`functions-framework --target fetchData` on main.py, in its production server."""
    with serve_function("fetchData") as url:
        yield url


def test_functions_framework_serves_main_py(framework_server: str, acme: User) -> None:
    anonymous = requests.get(framework_server, timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    listed = requests.get(framework_server, headers=acme.headers(), timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"data": [], "next_cursor": None, "has_more": False}
