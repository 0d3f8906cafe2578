"""The partner API on the Firestore and Auth emulators: statuses, isolation, retries."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions import openapi, store
from tests.conftest import Api, User, assert_error, entry_body


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


# --- methods and media types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "method", "allow"),
    [
        ("fetchData", "POST", "GET"),
        ("fetchData", "DELETE", "GET"),
        ("createEntry", "GET", "POST"),
        ("createEntry", "PUT", "POST"),
        ("updateEntry", "POST", "PATCH"),
        ("updateEntry", "GET", "PATCH"),
    ],
)
def test_wrong_method_is_405_with_allow(
    api: Api, acme: User, function: str, method: str, allow: str
) -> None:
    response = api.call(method, function, headers=acme.headers())
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
def test_create_requires_json_content_type(api: Api, acme: User, content_type: str | None) -> None:
    headers = acme.headers(**({"Content-Type": content_type} if content_type else {}))
    response = api.post("createEntry", data=json.dumps(entry_body()), headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert stored_entries() == []


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"description": "x", ', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"a string"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b"", "empty"),
        (b'{"amount": "1", "amount": "2"}', "repeats the key"),
        (b'{"description": "\xff\xfe"}', "UTF-8"),
        (b'{"amount": NaN}', "not valid JSON"),
        (b'{"amount": Infinity}', "not valid JSON"),
        (b"[" * 30000 + b"]" * 30000, "nested too deeply"),
    ],
)
def test_create_rejects_malformed_bodies_with_400(
    api: Api, acme: User, raw: bytes, fragment: str
) -> None:
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    error = assert_error(response, 400, "invalid_argument")
    assert fragment in error["message"]
    assert stored_entries() == []


def test_deeply_nested_object_is_a_clean_4xx(api: Api, acme: User) -> None:
    raw = b'{"description":' + b'{"a":' * 20000 + b"1" + b"}" * 20000 + b"}"
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    assert response.status_code in (400, 413, 422)
    assert_error(response, response.status_code)


def test_body_over_the_limit_is_413(api: Api, acme: User) -> None:
    body = json.dumps(entry_body(description="x" * (70 * 1024)))
    response = api.post(
        "createEntry", data=body, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    assert_error(response, 413, "payload_too_large")
    assert stored_entries() == []


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"description": None}, "description", "required"),
        ({"description": ""}, "description", "empty"),
        ({"description": "   "}, "description", "non-space"),
        ({"description": "x" * 501}, "description", "too long"),
        ({"description": "nul\x00byte"}, "description", "control"),
        ({"amount": 12.5}, "amount", "string"),
        ({"amount": "12.345"}, "amount", "decimal"),
        ({"amount": "1,000.00"}, "amount", "decimal"),
        ({"amount": "-0"}, "amount", "negative zero"),
        ({"amount": "01.00"}, "amount", "decimal"),
        ({"amount": "1" * 16}, "amount", "decimal"),
        ({"currency": "eur"}, "currency", "ISO 4217"),
        ({"currency": "EURO"}, "currency", "ISO 4217"),
        ({"date": "2026-02-30"}, "date", "calendar"),
        ({"date": "31/03/2026"}, "date", "YYYY-MM-DD"),
        ({"category": ""}, "category", "empty"),
        ({"reference": "r" * 129}, "reference", "too long"),
        ({"reference": "line\nbreak"}, "reference", "control"),
        ({"partnerId": "globex"}, "partnerId", "set by the server"),
        ({"version": 7}, "version", "set by the server"),
        ({"createdAt": "2020-01-01T00:00:00Z"}, "createdAt", "set by the server"),
        ({"isAdmin": True}, "isAdmin", "not a field"),
    ],
)
def test_create_validation_names_the_field_and_writes_nothing(
    api: Api, acme: User, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    body = entry_body(**{k: v for k, v in overrides.items() if v is not None})
    if overrides.get("description", "") is None:
        body.pop("description")
    response = api.post("createEntry", json=body, headers=acme.headers())
    error = assert_error(response, 422, "validation_failed")
    issues = {d["field"]: d["message"] for d in error["details"]}
    assert field in issues, issues
    assert fragment in issues[field]
    assert stored_entries() == []


@pytest.mark.parametrize("number", [b"1e309", b"-0", b"12.5", b"123456789012345678901234567890"])
def test_json_numbers_are_never_amounts(api: Api, acme: User, number: bytes) -> None:
    raw = (
        b'{"description": "x", "currency": "EUR", "date": "2026-01-01", "amount": ' + number + b"}"
    )
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    error = assert_error(response, 422, "validation_failed")
    assert error["details"] == [{"field": "amount", "message": "must be a string"}]
    assert stored_entries() == []


def test_every_bad_field_is_named_at_once(api: Api, acme: User) -> None:
    response = api.post(
        "createEntry", json={"amount": 1, "currency": "x", "extra": 1}, headers=acme.headers()
    )
    error = assert_error(response, 422)
    assert {d["field"] for d in error["details"]} >= {
        "description",
        "amount",
        "currency",
        "date",
        "extra",
    }


# --- create ------------------------------------------------------------------------------


def test_create_stores_the_entry_with_server_fields(api: Api, acme: User) -> None:
    response = api.post(
        "createEntry", json=entry_body(category="food", reference="INV-1"), headers=acme.headers()
    )
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["ETag"] == '"1"'
    assert created["partnerId"] == "acme"
    assert created["createdBy"] == acme.uid
    assert created["version"] == 1
    assert created["amount"] == "123.45"
    assert created["createdAt"] == created["updatedAt"]
    assert created["createdAt"].endswith("Z")
    (stored,) = stored_entries()
    assert stored["id"] == created["id"]
    assert stored["amount"] == "123.45"
    assert isinstance(stored["amount"], str)
    assert "id" not in {k for k in stored if k != "id"}


def test_idempotent_retry_returns_the_first_result_and_writes_once(api: Api, acme: User) -> None:
    headers = acme.headers(**{"Idempotency-Key": "order-42"})
    first = api.post("createEntry", json=entry_body(), headers=headers)
    second = api.post("createEntry", json=entry_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(stored_entries()) == 1


def test_same_key_with_another_body_is_409_and_writes_nothing(api: Api, acme: User) -> None:
    headers = acme.headers(**{"Idempotency-Key": "order-43"})
    assert api.post("createEntry", json=entry_body(), headers=headers).status_code == 201
    response = api.post("createEntry", json=entry_body(amount="999.00"), headers=headers)
    assert_error(response, 409, "conflict")
    assert len(stored_entries()) == 1


def test_idempotency_keys_are_scoped_per_partner(api: Api, acme: User, globex: User) -> None:
    key = {"Idempotency-Key": "shared-key"}
    a = api.post("createEntry", json=entry_body(), headers=acme.headers(**key)).get_json()
    b = api.post("createEntry", json=entry_body(), headers=globex.headers(**key))
    assert b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert b.get_json()["id"] != a["id"]
    assert b.get_json()["partnerId"] == "globex"
    assert len(stored_entries("acme")) == len(stored_entries("globex")) == 1


def test_idempotency_record_carries_a_ttl(api: Api, acme: User) -> None:
    api.post("createEntry", json=entry_body(), headers=acme.headers(**{"Idempotency-Key": "ttl-1"}))
    (record,) = list(store.client().collection("partnerIdempotencyKeys").stream())
    data = record.to_dict()
    assert data["partnerId"] == "acme"
    hours = (data["expiresAt"] - data["createdAt"]).total_seconds() / 3600
    assert hours == 24


def test_concurrent_requests_with_one_key_create_exactly_one_entry(api: Api, acme: User) -> None:
    headers = acme.headers(**{"Idempotency-Key": "burst-1"})

    def send(_: int) -> tuple[int, str]:
        response = api.post("createEntry", json=entry_body(), headers=headers)
        return response.status_code, response.get_json().get("id", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, range(16)))
    assert {status for status, _ in results} == {201}
    assert len({entry_id for _, entry_id in results}) == 1
    assert len(stored_entries()) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\tkey", "ümlaut"])
def test_malformed_idempotency_key_is_400(api: Api, acme: User, key: str) -> None:
    response = api.post(
        "createEntry", json=entry_body(), headers=acme.headers(**{"Idempotency-Key": key})
    )
    assert response.status_code == 400
    assert stored_entries() == []


# --- fetch ---------------------------------------------------------------------------------


def test_get_one_entry_with_etag(api: Api, acme: User) -> None:
    created = create(api, acme)
    response = api.get(f"fetchData/{created['id']}", headers=acme.headers())
    assert response.status_code == 200
    assert response.get_json() == created
    assert response.headers["ETag"] == '"1"'


def test_another_tenants_entry_is_indistinguishable_from_a_missing_one(
    api: Api, acme: User, globex: User
) -> None:
    theirs = create(api, globex)
    foreign = api.get(f"fetchData/{theirs['id']}", headers=acme.headers())
    missing = api.get("fetchData/doesNotExist0000000", headers=acme.headers())
    a, b = assert_error(foreign, 404), assert_error(missing, 404)
    assert {**a, "request_id": ""} == {**b, "request_id": ""}


@pytest.mark.parametrize("path", ["fetchData/a/b", "fetchData/__name__x/"])
def test_odd_paths_are_clean_4xx(api: Api, acme: User, path: str) -> None:
    response = api.get(path, headers=acme.headers())
    assert response.status_code in (400, 404)
    assert_error(response, response.status_code)


def test_list_shows_only_the_callers_entries(api: Api, acme: User, globex: User) -> None:
    mine = {create(api, acme, description=f"acme {i}")["id"] for i in range(3)}
    theirs = {create(api, globex, description=f"globex {i}")["id"] for i in range(2)}
    assert {e["id"] for e in list_all(api, acme)} == mine
    assert {e["id"] for e in list_all(api, globex)} == theirs


def test_pagination_has_no_duplicate_or_gap_while_entries_are_added(api: Api, acme: User) -> None:
    before = [create(api, acme, description=f"before {i}")["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    added: list[str] = []
    while True:
        query = "fetchData?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(query, headers=acme.headers()).get_json()
        seen.extend(e["id"] for e in page["data"])
        added.append(create(api, acme, description=f"during {len(added)}")["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "an entry was returned twice"
    assert seen[: len(before)] == before, "the pre-existing entries came in order, none missing"
    assert set(seen) <= set(before) | set(added)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=1.5",
        "limit=-1",
        "limit=",
        "colour=red",
        "limit=5&limit=6",
        "dateFrom=2026-13-01",
        "dateFrom=2026-03-02&dateTo=2026-03-01",
        "fields=id,password",
        "fields=",
        "cursor=" + "x" * 3000,
    ],
)
def test_bad_list_parameters_are_400_naming_them(api: Api, acme: User, query: str) -> None:
    error = assert_error(api.get(f"fetchData?{query}", headers=acme.headers()), 400)
    assert error["details"]


def test_limit_filters_and_field_selection(api: Api, acme: User) -> None:
    create(api, acme, date="2026-01-10", category="food")
    create(api, acme, date="2026-02-10", category="rent")
    create(api, acme, date="2026-03-10", category="food")
    by_date = list_all(api, acme, "dateFrom=2026-02-01&dateTo=2026-03-31")
    assert [e["date"] for e in by_date] == ["2026-02-10", "2026-03-10"]
    food = list_all(api, acme, "category=food")
    assert [e["date"] for e in food] == ["2026-01-10", "2026-03-10"]
    both = list_all(api, acme, "category=food&dateFrom=2026-02-01")
    assert [e["date"] for e in both] == ["2026-03-10"]
    slim = api.get("fetchData?fields=amount,date&limit=1", headers=acme.headers()).get_json()
    assert set(slim["data"][0]) == {"id", "amount", "date"}
    assert slim["has_more"] is True


def _cursor(api: Api, user: User, query: str = "limit=1") -> str:
    page = api.get(f"fetchData?{query}", headers=user.headers()).get_json()
    assert page["next_cursor"]
    return str(page["next_cursor"])


def test_cursors_are_bound_to_partner_query_and_integrity(
    api: Api, acme: User, globex: User
) -> None:
    for user in (acme, globex):
        create(api, user, category="food")
        create(api, user, category="food")
    cursor = _cursor(api, acme)
    assert api.get(f"fetchData?limit=1&cursor={cursor}", headers=acme.headers()).status_code == 200
    foreign = api.get(f"fetchData?limit=1&cursor={cursor}", headers=globex.headers())
    assert_error(foreign, 400)
    other_query = api.get(f"fetchData?category=food&cursor={cursor}", headers=acme.headers())
    assert_error(other_query, 400)
    payload, _, signature = cursor.partition(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    assert_error(api.get(f"fetchData?cursor={tampered}", headers=acme.headers()), 400)
    assert_error(api.get("fetchData?cursor=garbage", headers=acme.headers()), 400)


def test_a_page_reads_at_most_limit_plus_one_documents(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(6):
        create(api, acme, description=f"e{i}")
    capsys.readouterr()
    api.get("fetchData?limit=2", headers=acme.headers())
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    (record,) = [r for r in records if r.get("function") == "fetch_data"]
    assert record["docs_read"] == 3


# --- update --------------------------------------------------------------------------------


def test_update_with_if_match_bumps_the_version(api: Api, acme: User) -> None:
    created = create(api, acme, category="food")
    response = api.patch(
        f"updateEntry/{created['id']}",
        json={"amount": "99.99", "category": None},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    updated = response.get_json()
    assert updated["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert updated["amount"] == "99.99"
    assert updated["category"] is None
    assert updated["createdAt"] == created["createdAt"]
    assert updated["updatedAt"] > created["updatedAt"]
    (stored,) = stored_entries()
    assert "category" not in stored
    assert stored["version"] == 2


def test_stale_if_match_is_412_and_missing_is_428(api: Api, acme: User) -> None:
    created = create(api, acme)
    path = f"updateEntry/{created['id']}"
    ok = api.patch(path, json={"amount": "1.00"}, headers=acme.headers(**{"If-Match": "1"}))
    assert ok.status_code == 200
    stale = api.patch(path, json={"amount": "2.00"}, headers=acme.headers(**{"If-Match": '"1"'}))
    assert_error(stale, 412, "precondition_failed")
    assert stale.headers["ETag"] == '"2"'
    missing = api.patch(path, json={"amount": "2.00"}, headers=acme.headers())
    assert_error(missing, 428, "precondition_required")
    bad = api.patch(path, json={"amount": "2.00"}, headers=acme.headers(**{"If-Match": "*"}))
    assert_error(bad, 400)
    assert stored_entries()[0]["amount"] == "1.00"


def test_concurrent_updates_on_one_version_let_exactly_one_win(api: Api, acme: User) -> None:
    created = create(api, acme)
    path = f"updateEntry/{created['id']}"

    def send(i: int) -> int:
        response = api.patch(
            path, json={"amount": f"{i}.00"}, headers=acme.headers(**{"If-Match": '"1"'})
        )
        return int(response.status_code)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(send, range(6)))
    assert statuses == [200] + [412] * 5
    assert stored_entries()[0]["version"] == 2


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
    api: Api, acme: User, body: dict[str, Any], field: str
) -> None:
    created = create(api, acme)
    response = api.patch(
        f"updateEntry/{created['id']}", json=body, headers=acme.headers(**{"If-Match": '"1"'})
    )
    error = assert_error(response, 422, "validation_failed")
    assert field in {d["field"] for d in error["details"]}
    (stored,) = stored_entries()
    assert stored["version"] == 1
    assert stored["partnerId"] == "acme"


def test_update_of_another_tenants_entry_is_404_and_changes_nothing(
    api: Api, acme: User, globex: User
) -> None:
    theirs = create(api, globex)
    response = api.patch(
        f"updateEntry/{theirs['id']}",
        json={"amount": "0.01"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert_error(response, 404, "not_found")
    assert stored_entries("globex")[0]["amount"] == "123.45"


def test_update_without_an_id_is_400(api: Api, acme: User) -> None:
    response = api.patch("updateEntry", json={"amount": "1.00"}, headers=acme.headers())
    assert_error(response, 400)


# --- failures ------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_firestore_is_503_with_retry_after(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "1")
    started = time.monotonic()
    response = api.get("fetchData", headers=acme.headers())
    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 10


def test_unexpected_errors_are_500_without_internals(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str]
) -> None:
    # A document another writer left without required fields cannot be shown as an entry.
    store.client().collection("entries").document("brokenEntry1").set(
        {"partnerId": "acme", "description": "no amount"}
    )
    response = api.get("fetchData/brokenEntry1", headers=acme.headers())
    error = assert_error(response, 500, "internal")
    assert error["message"] == "The server could not complete the request."
    assert "amount" not in response.get_data(as_text=True)
    logged = capsys.readouterr().out
    assert "Traceback" in logged
    assert "ValidationError" in logged


# --- CORS, headers, the contract ---------------------------------------------------------


def test_cors_is_off_by_default(api: Api, acme: User) -> None:
    response = api.get("fetchData", headers=acme.headers(Origin="https://evil.example"))
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = api.call("OPTIONS", "fetchData", headers={"Origin": "https://evil.example"})
    assert_error(preflight, 405)


def test_cors_allows_only_configured_origins(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.partner.example")
    preflight = api.call(
        "OPTIONS",
        "createEntry",
        headers={"Origin": "https://app.partner.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.partner.example"
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    other = api.get("fetchData", headers=acme.headers(Origin="https://evil.example"))
    assert "Access-Control-Allow-Origin" not in other.headers


def test_security_headers_on_every_answer(api: Api, acme: User) -> None:
    for response in (api.get("fetchData"), api.get("fetchData", headers=acme.headers())):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_openapi_is_served_and_matches_the_committed_document(api: Api) -> None:
    served = api.get("openapi").get_json()
    assert served == openapi.build()
    assert json.loads(openapi.DOCUMENT_PATH.read_text()) == served, (
        "openapi.json is stale: run `make openapi`"
    )
    assert set(served["paths"]) == {
        "/fetchData",
        "/fetchData/{id}",
        "/createEntry",
        "/updateEntry/{id}",
    }


def test_health_needs_no_token_and_touches_no_data(api: Api) -> None:
    response = api.get("health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_request_ids_differ_between_requests(api: Api) -> None:
    ids = {api.get("health").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5
