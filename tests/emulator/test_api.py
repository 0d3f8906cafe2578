"""The partner API on the Firestore and Auth emulators: methods, validation, create,
idempotency, pagination, updates and failures. Security properties are in
test_owasp_api_top10.py, hostile input in test_bad_input.py."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.contract import openapi
from tests.helpers import (
    ENTRY_WIRE_FIELDS,
    Api,
    T,
    User,
    assert_error,
    closed_port,
    create,
    entry_body,
    list_all,
    log_lines,
    stored_entries,
    tenant_documents,
)


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
    ("overrides", "field", "fragment"),
    [
        ({"description": None}, "description", "required"),
        ({"description": ""}, "description", "empty"),
        ({"description": "   "}, "description", "non-space"),
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
        ({"reference": "line\nbreak"}, "reference", "control"),
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
    assert created["partnerId"] == T.acme
    assert created["createdBy"] == acme.uid
    assert created["version"] == 1
    assert created["amount"] == "123.45"
    assert created["createdAt"] == created["updatedAt"]
    assert created["createdAt"].endswith("Z")
    (document,) = tenant_documents("entries")
    assert document.id == created["id"]
    stored = document.to_dict() or {}
    assert set(stored) == ENTRY_WIRE_FIELDS - {"id"}, "the id is the document's name, not a field"
    assert stored["amount"] == "123.45"
    assert isinstance(stored["amount"], str)


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


def test_idempotency_record_carries_a_ttl(api: Api, acme: User) -> None:
    api.post("createEntry", json=entry_body(), headers=acme.headers(**{"Idempotency-Key": "ttl-1"}))
    (record,) = tenant_documents("partnerIdempotencyKeys")
    data = record.to_dict() or {}
    assert data["partnerId"] == T.acme
    hours = (data["expiresAt"] - data["createdAt"]).total_seconds() / 3600
    assert hours == 24


def test_a_create_kept_in_the_older_shape_still_replays(api: Api, acme: User) -> None:
    """A built-in create's record written before the one protocol (`resource`, no
    `operation` nor `status`) replays within its TTL, with the first answer's ETag."""
    headers = acme.headers(**{"Idempotency-Key": "older-shape"})
    first = api.post("createEntry", json=entry_body(), headers=headers)
    (record,) = tenant_documents("partnerIdempotencyKeys")
    data = record.to_dict() or {}
    assert (data["operation"], data["status"], data["recordId"]) == (
        "entries.create",
        201,
        first.get_json()["id"],
    )
    older = {k: v for k, v in data.items() if k not in {"operation", "status"}}
    record.reference.set(older | {"resource": "entries"})
    again = api.post("createEntry", json=entry_body(), headers=headers)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]
    other = api.post("createEntry", json=entry_body(amount="5.00"), headers=headers)
    assert_error(other, 409, "conflict")
    assert len(stored_entries()) == 1


def test_an_expired_key_is_used_afresh(api: Api, acme: User) -> None:
    headers = acme.headers(**{"Idempotency-Key": "reused-after-ttl"})
    first = api.post("createEntry", json=entry_body(), headers=headers).get_json()
    (record,) = tenant_documents("partnerIdempotencyKeys")
    record.reference.update({"expiresAt": datetime.now(UTC) - timedelta(minutes=1)})
    second = api.post("createEntry", json=entry_body(amount="7.00"), headers=headers)
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first["id"]
    assert sorted(e["amount"] for e in stored_entries()) == ["123.45", "7.00"]
    (record,) = tenant_documents("partnerIdempotencyKeys")
    assert record.get("recordId") == second.get_json()["id"]


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


def test_a_page_reads_at_most_limit_plus_one_documents(
    api: Api, acme: User, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(6):
        create(api, acme, description=f"e{i}")
    capsys.readouterr()
    api.get("fetchData?limit=2", headers=acme.headers())
    _, records = log_lines(capsys)
    (record,) = [r for r in records if r.get("function") == "fetchData"]
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


def test_update_without_an_id_is_400(api: Api, acme: User) -> None:
    response = api.patch("updateEntry", json={"amount": "1.00"}, headers=acme.headers())
    assert_error(response, 400)


# --- failures ------------------------------------------------------------------------------


def test_unreachable_firestore_is_503_with_retry_after(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "1")
    started = time.monotonic()
    response = api.get("fetchData", headers=acme.headers())
    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 10


def test_openapi_is_served_as_the_code_generates_it(api: Api) -> None:
    response = api.get("openapi")
    assert response.status_code == 200
    assert response.get_json() == openapi.build()


def test_health_needs_no_token_and_touches_no_data(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # With Firestore out of reach, anything that touched data would answer 503.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{closed_port()}")
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "1")
    response = api.get("health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    _, records = log_lines(capsys)
    (record,) = [r for r in records if r.get("function") == "health"]
    assert "docs_read" not in record


def test_request_ids_differ_between_requests(api: Api) -> None:
    ids = {api.get("health").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5
