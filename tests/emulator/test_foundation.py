"""The deployable shape: discovery, both serving paths and the deploy configuration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from devtools.functions_server import serve_function
from tests.helpers import FUNCTIONS, OWNER_FUNCTIONS, PARTNER_FUNCTIONS, User, function_url


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_emulator_discovered_and_serves_every_function(
    name: str, emulator_http: requests.Session, clean: None
) -> None:
    response = emulator_http.get(function_url(name), timeout=60)
    expected = 401 if name in (*PARTNER_FUNCTIONS, *OWNER_FUNCTIONS) else 200
    if name == "api":
        response = emulator_http.get(function_url(name) + "/v1/entries", timeout=60)
        expected = 401
    if name in ("createEntry",):
        response = emulator_http.post(function_url(name), json={}, timeout=60)
    if name == "updateEntry":
        response = emulator_http.patch(function_url(name) + "/abc", json={}, timeout=60)
    assert response.status_code == expected, response.text
    media = "text/html" if name == "docs" else "application/json"
    assert response.headers["Content-Type"].startswith(media)
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
    assert listed.json() == {"data": [], "next_cursor": None, "has_more": False, "skipped": []}
