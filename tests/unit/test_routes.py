"""The routes a declaration gives: what is not declared is answered in the envelope, before
any credential is read (no emulator needed)."""

from __future__ import annotations

from pathlib import Path

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


def test_the_first_urls_answer_404_when_no_entries_are_declared() -> None:
    response = function_app("fetchData").test_client().get("/")
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "This app declares no entries resource."


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
