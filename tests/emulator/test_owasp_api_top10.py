"""Security regressions, one class per OWASP API Security Top 10 (2023) item we address.

API1 object-level authorization, API2 authentication, API3 property-level authorization,
API4 resource consumption, API5 function-level authorization, API8 misconfiguration.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from functions import store
from functions.store import records as records_store
from tests.emulator import cases
from tests.helpers import (
    ENTRY_WIRE_FIELDS,
    FUNCTIONS,
    PARTNER_FUNCTIONS,
    Api,
    T,
    User,
    UserFactory,
    assert_error,
    create,
    entry_body,
    function_app,
    function_url,
    list_all,
    log_lines,
    stored_entries,
)


class TestAPI1BrokenObjectLevelAuthorization:
    """Every function x another tenant's ids, lists, cursors and idempotency keys."""

    def test_another_tenants_entry_is_indistinguishable_from_a_missing_one(
        self, api: Api, acme: User, globex: User
    ) -> None:
        theirs = create(api, globex)
        foreign = api.get(f"fetchData/{theirs['id']}", headers=acme.headers())
        missing = api.get("fetchData/doesNotExist0000000", headers=acme.headers())
        a, b = assert_error(foreign, 404), assert_error(missing, 404)
        assert {**a, "request_id": ""} == {**b, "request_id": ""}

    def test_update_of_another_tenants_entry_is_404_and_changes_nothing(
        self, api: Api, acme: User, globex: User
    ) -> None:
        theirs = create(api, globex)
        response = api.patch(
            f"updateEntry/{theirs['id']}",
            json={"amount": "0.01"},
            headers=acme.headers(**{"If-Match": '"1"'}),
        )
        assert_error(response, 404, "not_found")
        assert stored_entries(T.globex)[0]["amount"] == "123.45"

    def test_list_shows_only_the_callers_entries(self, api: Api, acme: User, globex: User) -> None:
        mine = {create(api, acme, description=f"acme {i}")["id"] for i in range(3)}
        theirs = {create(api, globex, description=f"globex {i}")["id"] for i in range(2)}
        assert {e["id"] for e in list_all(api, acme)} == mine
        assert {e["id"] for e in list_all(api, globex)} == theirs

    def test_cursors_are_bound_to_partner_query_and_integrity(
        self, api: Api, acme: User, globex: User
    ) -> None:
        cases.cursors_are_bound_to_partner_query_and_integrity(api, acme, globex)

    def test_idempotency_keys_are_scoped_per_partner(
        self, api: Api, acme: User, globex: User
    ) -> None:
        key = {"Idempotency-Key": "shared-key"}
        a = api.post("createEntry", json=entry_body(), headers=acme.headers(**key)).get_json()
        b = api.post("createEntry", json=entry_body(), headers=globex.headers(**key))
        assert b.status_code == 201
        assert "Idempotent-Replayed" not in b.headers
        assert b.get_json()["id"] != a["id"]
        assert b.get_json()["partnerId"] == T.globex
        assert len(stored_entries(T.acme)) == len(stored_entries(T.globex)) == 1

    def test_filters_never_reach_another_tenant(self, api: Api, acme: User, globex: User) -> None:
        create(api, globex, category="secret", date="2026-05-05")
        assert list_all(api, acme, "category=secret") == []
        assert list_all(api, acme, "dateFrom=2026-05-01&dateTo=2026-05-31") == []

    def test_the_same_key_never_replays_another_tenants_entry(
        self, api: Api, acme: User, globex: User
    ) -> None:
        key = {"Idempotency-Key": "invoice-1"}
        theirs = api.post("createEntry", json=entry_body(), headers=globex.headers(**key))
        mine = api.post("createEntry", json=entry_body(), headers=acme.headers(**key))
        assert mine.get_json()["partnerId"] == T.acme
        assert mine.get_json()["id"] != theirs.get_json()["id"]


class TestAPI2BrokenAuthentication:
    """The token matrix through the Functions emulator's own URLs (test_auth.py has it
    in full, in-process, with production-mode signature checks)."""

    @pytest.mark.parametrize("function", PARTNER_FUNCTIONS)
    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer", "Basic YTpi", "Bearer x.y.z", "Bearer " + "e30." * 3],
    )
    def test_no_valid_token_is_401_through_the_emulator(
        self,
        emulator_http: requests.Session,
        clean: None,
        function: str,
        authorization: str | None,
    ) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        method = {"fetchData": "GET", "createEntry": "POST", "updateEntry": "PATCH"}[function]
        response = emulator_http.request(
            method,
            function_url(function) + ("/someId" if function == "updateEntry" else ""),
            json=entry_body(),
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    def test_an_emulator_token_that_works_locally_does_not_pass_in_production_mode(
        self, api: Api, acme: User, request: pytest.FixtureRequest
    ) -> None:
        assert api.get("fetchData", headers=acme.headers()).status_code == 200
        request.getfixturevalue("production_mode")
        assert_error(api.get("fetchData", headers=acme.headers()), 401, "unauthenticated")


class TestAPI3BrokenObjectPropertyLevelAuthorization:
    """Server fields and partnerId are never writable, never mass-assigned."""

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"partnerId": "globex"}, "partnerId"),
            ({"version": 9}, "version"),
            ({"id": "x"}, "id"),
            ({"createdBy": "me"}, "createdBy"),
            ({"amount": None}, "amount"),
            ({"amount": 5}, "amount"),
            ({}, ""),
        ],
    )
    def test_update_refuses_server_fields_and_bad_values(
        self, api: Api, acme: User, body: dict[str, Any], field: str
    ) -> None:
        created = create(api, acme)
        response = api.patch(
            f"updateEntry/{created['id']}", json=body, headers=acme.headers(**{"If-Match": '"1"'})
        )
        error = assert_error(response, 422, "validation_failed")
        assert field in {d["field"] for d in error["details"]}
        (stored,) = stored_entries()
        assert stored["version"] == 1
        assert stored["partnerId"] == T.acme

    @pytest.mark.parametrize("field", cases.SERVER_FIELDS)
    def test_create_refuses_every_server_field(self, api: Api, acme: User, field: str) -> None:
        cases.create_refuses_server_field(api, acme, field)

    def test_responses_expose_only_entry_fields(self, api: Api, acme: User) -> None:
        created = api.post(
            "createEntry", json=entry_body(), headers=acme.headers(**{"Idempotency-Key": "k-1"})
        ).get_json()
        assert set(created) == ENTRY_WIRE_FIELDS
        page = api.get("fetchData", headers=acme.headers()).get_json()
        assert set(page["data"][0]) == set(created)
        assert "fingerprint" not in json.dumps(page)


class TestAPI4UnrestrictedResourceConsumption:
    """Limits on body size, nesting, page size and string lengths."""

    def test_body_over_the_limit_is_413(self, api: Api, acme: User) -> None:
        body = json.dumps(entry_body(description="x" * (70 * 1024)))
        response = api.post(
            "createEntry", data=body, headers=acme.headers(**{"Content-Type": "application/json"})
        )
        assert_error(response, 413, "payload_too_large")
        assert stored_entries() == []

    # --- validation --------------------------------------------------------------------------

    @pytest.mark.parametrize("raw", cases.NESTED_BODIES, ids=["object", "array"])
    def test_deeply_nested_bodies_are_400(self, api: Api, acme: User, raw: bytes) -> None:
        cases.nested_body_is_400(api, acme, raw)

    def test_page_size_is_capped_at_100(self, api: Api, acme: User) -> None:
        cases.page_size_is_capped_at_100(api, acme)

    @pytest.mark.parametrize(("field", "size"), cases.STRING_LIMITS)
    def test_string_lengths_are_bounded(self, api: Api, acme: User, field: str, size: int) -> None:
        cases.string_length_is_bounded(api, acme, field, size)

    def test_an_oversized_token_is_refused_before_verification(self, api: Api) -> None:
        huge = "Bearer " + "a" * 20000 + ".b.c"
        assert_error(api.get("fetchData", headers={"Authorization": huge}), 401)


class TestAPI5BrokenFunctionLevelAuthorization:
    """Only partner users reach partner functions; scopes narrow what they may call."""

    @pytest.mark.parametrize("function", PARTNER_FUNCTIONS)
    @pytest.mark.parametrize("claims", cases.NON_PARTNER_CLAIMS)
    def test_non_partners_are_403_everywhere(
        self, api: Api, make_user: UserFactory, function: str, claims: dict[str, Any]
    ) -> None:
        cases.non_partner_is_403(api, make_user, function, claims)

    def test_read_scope_cannot_write(self, api: Api, make_user: UserFactory) -> None:
        cases.read_scope_cannot_write(api, make_user)

    @pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - set(PARTNER_FUNCTIONS)))
    def test_the_anonymous_functions_expose_no_data(
        self, api: Api, acme: User, function: str
    ) -> None:
        create(api, acme, description="confidential")
        body = api.get(function).get_data(as_text=True)
        assert "confidential" not in body
        assert T.acme not in body


class TestAPI8SecurityMisconfiguration:
    """No wildcard CORS, no stack traces, security headers everywhere."""

    def test_a_document_another_writer_broke_reveals_nothing(self, api: Api, acme: User) -> None:
        broken = T.name("brokenEntry1")
        store.client().collection("entries").document(broken).set(
            {"partnerId": T.acme, "description": "no amount", "internalNote": "secret"}
        )
        response = api.get(f"fetchData/{broken}", headers=acme.headers())
        assert_error(response, 409, "stored_entry_invalid")
        body = response.get_data(as_text=True)
        assert "secret" not in body
        assert "amount" not in body

    def test_unexpected_errors_are_500_without_internals(
        self,
        api: Api,
        acme: User,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("internal detail: /srv/secret.key")

        monkeypatch.setattr(records_store, "list_records", broken)
        response = api.get("fetchData", headers=acme.headers())
        error = assert_error(response, 500, "internal")
        assert error["message"] == "The server could not complete the request."
        assert "secret.key" not in response.get_data(as_text=True)
        logged, _ = log_lines(capsys)
        assert "Traceback" in logged
        assert "secret.key" in logged

    # --- CORS, headers, the contract ---------------------------------------------------------

    def test_cors_is_off_by_default(self, api: Api, acme: User) -> None:
        response = api.get("fetchData", headers=acme.headers(Origin="https://evil.example"))
        assert "Access-Control-Allow-Origin" not in response.headers
        preflight = api.call("OPTIONS", "fetchData", headers={"Origin": "https://evil.example"})
        assert_error(preflight, 405)

    def test_cors_allows_only_configured_origins(
        self, api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.partner.example")
        preflight = api.call(
            "OPTIONS",
            "createEntry",
            headers={
                "Origin": "https://app.partner.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.partner.example"
        assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
        assert "Access-Control-Allow-Credentials" not in preflight.headers
        other = api.get("fetchData", headers=acme.headers(Origin="https://evil.example"))
        assert "Access-Control-Allow-Origin" not in other.headers

    def test_security_headers_on_every_answer(self, api: Api, acme: User) -> None:
        for response in (api.get("fetchData"), api.get("fetchData", headers=acme.headers())):
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-store"
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]

    @pytest.mark.parametrize("function", FUNCTIONS)
    def test_no_debug_mode(self, function: str) -> None:
        app = function_app(function)
        assert app.debug is False
        assert app.testing is False

    def test_error_bodies_never_echo_the_input(self, api: Api, acme: User) -> None:
        marker = "<script>alert(1)</script>"
        response = api.post("createEntry", json={marker: marker}, headers=acme.headers())
        assert marker not in response.get_data(as_text=True).replace("\\u003c", "<")
        assert response.headers["Content-Type"].startswith("application/json")
