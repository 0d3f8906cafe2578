"""The routes a declaration gives: what is not declared is answered in the envelope, before
any credential is read (no emulator needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PROJECT, assert_error, function_app

ONLY_MENUS = """
[menus]
operations = ["list", "create"]
[menus.fields.name]
kind = "text"
max_length = 80
required = true
"""


@pytest.fixture(autouse=True)
def only_menus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    declared = tmp_path / "resources.toml"
    declared.write_text(ONLY_MENUS)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("PARTNER_RESOURCES", str(declared))


@pytest.mark.parametrize("name", ["fetchData", "createEntry", "updateEntry"])
def test_the_first_urls_are_not_defined_where_no_resource_is_marked_for_them(name: str) -> None:
    from functions_framework.exceptions import MissingTargetException

    with pytest.raises(MissingTargetException, match=name):
        function_app(name)


def test_the_first_urls_serve_the_resource_marked_for_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marked = tmp_path / "marked.toml"
    marked.write_text(ONLY_MENUS.replace("[menus]\n", "[menus]\nfirst_urls = true\n", 1))
    monkeypatch.setenv("PARTNER_RESOURCES", str(marked))
    response = function_app("fetchData").test_client().get("/")
    assert_error(response, 401)  # served: it asks for a credential
    missing = function_app("updateEntry").test_client().patch("/")
    assert assert_error(missing, 401)["code"] in {"unauthenticated", "missing_credential"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/v1/menus", "GET, POST"),
        ("GET", "/v1/menus/abc", ""),
        ("DELETE", "/v1/menus/abc", ""),
    ],
)
def test_undeclared_operations_are_405_naming_what_is_allowed(
    method: str, path: str, allow: str
) -> None:
    response = function_app("api").test_client().open(path, method=method)
    error = assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow
    if not allow:
        assert error["message"] == "Nothing may be done here."


@pytest.mark.parametrize("path", ["/v1/entries", "/v2/menus", "/v1/menus/a/b", "/"])
def test_undeclared_resources_and_paths_are_404(path: str) -> None:
    assert_error(function_app("api").test_client().get(path), 404, "not_found")


def test_a_declared_operation_asks_for_a_credential() -> None:
    response = function_app("api").test_client().get("/v1/menus")
    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("path", "methods"), [("/v1/menus", "GET, POST"), ("/v1/menus/abc", "GET, PATCH")]
)
def test_options_and_preflights_name_every_method_the_route_serves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str, methods: str
) -> None:
    declared = tmp_path / "all.toml"
    declared.write_text(
        ONLY_MENUS.replace('["list", "create"]', '["list", "get", "create", "update"]')
    )
    monkeypatch.setenv("PARTNER_RESOURCES", str(declared))
    client = function_app("api").test_client()
    plain = client.open(path, method="OPTIONS")
    assert_error(plain, 405, "method_not_allowed")
    assert plain.headers["Allow"] == methods  # not only the first endpoint's
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://partner.example")
    preflight = client.open(
        path,
        method="OPTIONS",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Methods"] == f"{methods}, OPTIONS"
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://partner.example"


# --- the routing tables themselves, as data ----------------------------------------------


def _table() -> Any:
    from functions.edge.http.pipeline import Endpoint
    from functions.edge.http.routes import Route, Routes

    def endpoint(method: str) -> Any:
        never: Any = lambda *a: None  # noqa: E731 - no stage runs: only routing is under test
        return Endpoint("t", method, frozenset(), never, never, never)

    shelves = {"list": endpoint("GET"), "create": endpoint("POST"), "get": endpoint("GET")}
    return Routes(
        "t",
        (
            Route("GET", "/v1/{collection}", "list"),
            Route("POST", "/v1/{collection}", "create"),
            Route("GET", "/v1/{collection}/{id}", "get"),
            Route("DELETE", "/v1/{collection}/{id}", "delete"),
        ),
        lambda name: shelves if name == "shelves" else None,
    ), shelves


@pytest.mark.parametrize(
    ("method", "path", "chosen", "allowed"),
    [
        ("GET", "/v1/shelves", "list", ("GET", "POST")),
        ("GET", "/v1/shelves/", "list", ("GET", "POST")),
        ("POST", "/v1/shelves", "create", ("GET", "POST")),
        ("OPTIONS", "/v1/shelves", "list", ("GET", "POST")),
        ("GET", "/v1/shelves/s1", "get", ("GET",)),
    ],
)
def test_a_table_routes_each_method_and_path_to_its_operation(
    method: str, path: str, chosen: str, allowed: tuple[str, ...]
) -> None:
    from flask import Flask

    table, shelves = _table()
    with Flask("t").test_request_context(path, method=method):
        from flask import request

        endpoint, methods = table.resolve(request)
    assert endpoint is shelves[chosen]
    assert methods == allowed


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("PATCH", "/v1/shelves", 405, "GET, POST"),
        ("DELETE", "/v1/shelves/s1", 405, "GET"),  # a route whose operation it lacks
        ("GET", "/v1/books", 404, None),
        ("GET", "/v1/shelves/s1/extra", 404, None),
        ("GET", "/v2/shelves", 404, None),
        ("GET", "/v1/Shelves", 404, None),
    ],
)
def test_a_table_refuses_what_it_does_not_route(
    method: str, path: str, status: int, allow: str | None
) -> None:
    from flask import Flask

    from functions.core.errors import ApiError
    from functions.edge.http.pipeline import PublicEndpoint

    table, _ = _table()
    with Flask("t").test_request_context(path, method=method):
        from flask import request

        endpoint, _methods = table.resolve(request)
        assert isinstance(endpoint, PublicEndpoint)
        with pytest.raises(ApiError) as refused:
            endpoint.answer(request)
    assert refused.value.status == status
    assert refused.value.headers().get("Allow") == allow


MAIN_AS_DEPLOYED = """
import inspect
import main
from functions.edge.http import views

tables = {
    "fetchData": views.FETCH_DATA,
    "createEntry": views.CREATE_ENTRY,
    "updateEntry": views.UPDATE_ENTRY,
    "api": views.API,
}
for name, table in tables.items():
    function = getattr(main, name)
    assert function.__wrapped__.routes is table, name
    body = inspect.getsource(function.__wrapped__.__wrapped__)
    assert body.count("\\n") <= 6, body
    assert "return call.serve()" in body, body
assert main.entriesSummary.__wrapped__.owner_endpoint.name == "entriesSummary"
print("checked", len(tables))
"""


def test_main_serves_every_partner_function_through_the_public_decorator() -> None:
    """fetchData, createEntry, updateEntry and api are written as an owner writes an
    endpoint: `partner_endpoint` over a body that serves the route the request chose.
    (main.py as deployed with this repository's declaration, which marks entries for the
    first URLs: in a process of its own, as the Functions runtime loads it.)"""
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    env = {**os.environ, "PARTNER_RESOURCES": str(ROOT / "resources.toml")}
    checked = subprocess.run(
        [sys.executable, "-c", MAIN_AS_DEPLOYED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert checked.stdout.strip() == "checked 4"
