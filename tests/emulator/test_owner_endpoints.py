"""Owner endpoints through the Functions emulator: the test codebase (owner_app/main.py)
declares three in a few lines each, and gets every refusal of the gate without writing
any of it: 401, 403 (scope, suspended), 405, 415, 422, 429 (rate, quota), the 500
envelope; its writes carry their audit record in the same commit, and an
Idempotency-Key replays the first answer."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import flask
import pytest
import requests
from google.cloud.firestore import FieldFilter

from functions import store
from functions.auth import known_scopes
from functions.contract import catalog
from tests.helpers import (
    OWNER_OPERATION,
    ROOT,
    T,
    User,
    UserFactory,
    api_key,
    cli,
    function_url,
    tenant_documents,
)

OWNER_APP = ROOT / "tests" / "emulator" / "owner_app" / "main.py"
ORDER: dict[str, Any] = {"item": "Espresso beans", "quantity": 3}


@pytest.fixture(scope="module", autouse=True)
def owner_scopes() -> Iterator[frozenset[str]]:
    """The owner app's endpoints registered in this process too, as `python -m
    functions.partners` finds them by loading main.py: their scopes become known."""
    spec = importlib.util.spec_from_file_location("owner_app_main", OWNER_APP)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["owner_app_main"] = module
    spec.loader.exec_module(module)
    loaded.append(module)
    try:
        yield known_scopes()
    finally:
        for name in ("placeOrder", "getOrder", "brokenReport"):
            catalog.unregister(name)
        del sys.modules["owner_app_main"]
        loaded.clear()


loaded: list[Any] = []
"""The owner app's module, as loaded in this process."""


def in_process(name: str, method: str = "POST", **kwargs: Any) -> Any:
    """The owner's function called in this process, as functions-framework calls it (the
    same code the Functions emulator runs, measured by this process's coverage)."""
    app = flask.Flask("owner-app")
    with app.test_request_context("/", method=method, **kwargs):
        return getattr(loaded[0], name)(flask.request)


def bearer(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


def place(secret: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.post(
        function_url("placeOrder"),
        json=ORDER if body is None else body,
        headers=bearer(secret, **headers),
        timeout=60,
    )


def envelope(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (status, code)
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.text
    return dict(error)


def orders() -> list[dict[str, Any]]:
    return [d.to_dict() or {} for d in tenant_documents("ownerOrders", field="partner")]


def audit_records(partner_id: str) -> list[dict[str, Any]]:
    """The partner's API audit records, oldest first (the owner's own actions, such as the
    key this test made, are left out: `test_console` checks those)."""
    trail = (
        store.client()
        .collection("partnerAudit")
        .where(filter=FieldFilter("partnerId", "==", partner_id))
    )
    found = (d.to_dict() or {} for d in trail.stream())
    api = (r for r in found if not r["operation"].startswith(OWNER_OPERATION))
    return sorted(api, key=lambda r: r["at"])


# --- refusals, negative cases first ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"), [("POST", "placeOrder"), ("GET", "getOrder"), ("GET", "brokenReport")]
)
def test_without_a_credential_every_owner_endpoint_is_401(
    clean: None, method: str, name: str
) -> None:
    response = requests.request(method, function_url(name), json=ORDER, timeout=60)
    error = envelope(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="partner-api"')
    assert "Bearer" in error["message"]
    assert orders() == []


def test_a_key_without_the_endpoints_scope_is_403_naming_it(clean: None) -> None:
    secret = api_key(T.acme, "orders:read")
    response = place(secret)
    error = envelope(response, 403, "permission_denied")
    assert "orders:write" in error["message"]
    assert 'scope="orders:write"' in response.headers["WWW-Authenticate"]
    assert orders() == []


def test_a_suspended_partner_is_403_until_resumed(clean: None) -> None:
    secret = api_key(T.acme, "orders:write")
    assert cli("partner", "suspend", T.acme, "--yes").returncode == 0
    error = envelope(place(secret), 403, "partner_suspended")
    assert "suspended" in error["message"]
    assert orders() == []
    assert cli("partner", "resume", T.acme).returncode == 0
    assert place(secret).status_code == 201
    assert len(orders()) == 1


def test_a_method_the_endpoint_does_not_declare_is_405_with_allow(clean: None) -> None:
    secret = api_key(T.acme, "orders:write,orders:read")
    response = requests.get(function_url("placeOrder"), headers=bearer(secret), timeout=60)
    envelope(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
    response = requests.delete(function_url("getOrder"), headers=bearer(secret), timeout=60)
    assert (response.status_code, response.headers["Allow"]) == (405, "GET")


def test_a_body_that_is_not_json_is_415(clean: None) -> None:
    secret = api_key(T.acme, "orders:write")
    response = requests.post(
        function_url("placeOrder"),
        data="item=beans",
        headers=bearer(secret, **{"Content-Type": "text/plain"}),
        timeout=60,
    )
    envelope(response, 415, "unsupported_media_type")
    assert orders() == []


def test_bad_fields_and_parameters_are_one_422_naming_each(clean: None) -> None:
    secret = api_key(T.acme, "orders:write,orders:read")
    response = place(secret, {"item": "", "quantity": 101, "colour": "red"})
    error = envelope(response, 422, "validation_failed")
    named = {issue["field"]: issue["message"] for issue in error["details"]}
    assert set(named) == {"item", "quantity", "colour"}, named
    assert named["colour"] == "is not a field of this endpoint"
    assert "100" in named["quantity"]
    assert "at least 1 character" in named["item"]
    response = requests.get(
        function_url("getOrder") + "?id=XYZ&sort=asc", headers=bearer(secret), timeout=60
    )
    named = {
        i["field"]: i["message"] for i in envelope(response, 422, "validation_failed")["details"]
    }
    assert set(named) == {"id", "sort"}
    assert named["sort"] == "is not a query parameter of this endpoint"
    missing = requests.get(function_url("getOrder"), headers=bearer(secret), timeout=60)
    details = envelope(missing, 422, "validation_failed")["details"]
    assert details == [{"field": "id", "message": "is required"}]
    assert orders() == []


def test_over_the_partners_rate_is_429_with_its_headers(clean: None) -> None:
    partner_id = T.of("rate")  # no lease an earlier test left in a worker
    assert cli("partner", "add", partner_id, "--rate", "0.01", "--burst", "1").returncode == 0
    secret = api_key(partner_id, "orders:read")
    url = function_url("getOrder") + f"?id={uuid.uuid4().hex}"
    first = requests.get(url, headers=bearer(secret), timeout=60)
    envelope(first, 404, "not_found")  # the one call the burst allows reaches the function
    second = requests.get(url, headers=bearer(secret), timeout=60)
    envelope(second, 429, "rate_limited")
    assert 1 <= int(second.headers["Retry-After"]) <= 100
    assert second.headers["RateLimit-Policy"] == '"partner";q=1;w=100'
    assert second.headers["RateLimit"].startswith('"partner";r=0;')


def test_a_spent_daily_quota_is_429_but_a_replay_passes(clean: None) -> None:
    partner_id = T.of("quota")
    assert cli("partner", "add", partner_id, "--daily-creates", "1").returncode == 0
    secret = api_key(partner_id, "orders:write")
    first = place(secret, **{"Idempotency-Key": "order-1"})
    assert first.status_code == 201, first.text
    assert '"creates";q=1;w=86400' in first.headers["RateLimit-Policy"]
    refused = place(secret, {"item": "Milk", "quantity": 1}, **{"Idempotency-Key": "order-2"})
    envelope(refused, 429, "quota_exceeded")
    replayed = place(secret, **{"Idempotency-Key": "order-1"})
    assert replayed.status_code == 201, replayed.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == first.json()
    assert len(orders()) == 1


def test_an_exception_in_the_function_is_a_500_that_reveals_nothing(clean: None) -> None:
    secret = api_key(T.acme, "orders:read")
    response = requests.get(function_url("brokenReport"), headers=bearer(secret), timeout=60)
    error = envelope(response, 500, "internal")
    assert error["message"] == "The server could not complete the request."
    for secret_detail in ("hunter2", "report.py", "RuntimeError"):
        assert secret_detail not in response.text


def test_another_tenants_order_is_not_found(clean: None) -> None:
    acme_order = place(api_key(T.acme, "orders:write")).json()
    globex = api_key(T.globex, "orders:read")
    response = requests.get(
        function_url("getOrder") + f"?id={acme_order['id']}", headers=bearer(globex), timeout=60
    )
    assert envelope(response, 404, "not_found")["message"] == "No such order."


# --- what the function does, once through the gate -----------------------------------------


def test_a_write_carries_its_audit_record_in_the_same_commit(clean: None) -> None:
    secret = api_key(T.acme, "orders:write,orders:read")
    response = place(secret)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order == {"id": order["id"], "partner": T.acme, **ORDER}
    assert orders() == [order]
    (record,) = audit_records(T.acme)
    assert (record["operation"], record["resource"], record["recordId"]) == (
        "create", "orders", order["id"],
    )  # fmt: skip
    assert record["fields"] == ["item", "quantity"]
    assert record["credential"] == "key"
    assert record["requestId"] == response.headers["X-Request-Id"]
    read = requests.get(
        function_url("getOrder") + f"?id={order['id']}", headers=bearer(secret), timeout=60
    )
    assert (read.status_code, read.json()) == (200, order)


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    clean: None,
) -> None:
    secret = api_key(T.acme, "orders:write")
    first = place(secret, **{"Idempotency-Key": "k-1"})
    again = place(secret, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = place(secret, {"item": "Tea", "quantity": 1}, **{"Idempotency-Key": "k-1"})
    assert "different request" in envelope(other, 409, "conflict")["message"]
    assert len(orders()) == 1
    assert [r["operation"] for r in audit_records(T.acme)] == ["create", "replay"]


def test_an_answer_kept_in_the_older_shape_still_replays_and_a_new_one_has_one_shape(
    clean: None,
) -> None:
    """Answers kept before the one protocol (`endpoint` instead of `operation`) replay
    within their TTL; a key used by an owner endpoint is refused to a built-in create."""
    secret = api_key(T.acme, "orders:write,entries:write")
    first = place(secret, **{"Idempotency-Key": "k-old"})
    assert first.status_code == 201, first.text
    (kept,) = tenant_documents("partnerIdempotencyKeys")
    data = kept.to_dict() or {}
    assert (data["operation"], data["status"]) == ("placeOrder", 201)
    assert json.loads(data["response"]) == first.json()
    assert "endpoint" not in data
    assert "recordId" not in data
    older = {k: v for k, v in data.items() if k != "operation"} | {"endpoint": "placeOrder"}
    kept.reference.set(older)
    again = place(secret, **{"Idempotency-Key": "k-old"})
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json() == first.json()
    assert len(orders()) == 1
    other = requests.post(
        function_url("createEntry"),
        json={"description": "x", "amount": "1.00", "currency": "EUR", "date": "2026-03-20"},
        headers={**bearer(secret), "Idempotency-Key": "k-old"},
        timeout=60,
    )
    assert "different request" in envelope(other, 409, "conflict")["message"]


def test_a_partner_user_with_an_id_token_passes_the_same_gate(
    clean: None, partner: Any, make_user: UserFactory
) -> None:
    every: User = partner("acme")  # no scopes claim: every known scope, the owner's too
    response = requests.post(
        function_url("placeOrder"), json=ORDER, headers=every.headers(), timeout=60
    )
    assert response.status_code == 201, response.text
    reader: User = partner("acme", scopes=["entries:read"])
    response = requests.post(
        function_url("placeOrder"), json=ORDER, headers=reader.headers(), timeout=60
    )
    assert "orders:write" in envelope(response, 403, "permission_denied")["message"]
    assert [o["partner"] for o in orders()] == [T.acme]


def test_the_owners_scopes_are_known_to_the_command_line_tool(
    clean: None, owner_scopes: frozenset[str]
) -> None:
    assert {"orders:read", "orders:write", "entries:read"} <= owner_scopes
    made = cli("--json", "keys", "create", "--partner", T.acme, "--create-partner",
               "--scopes", "orders:write")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["scopes"] == ["orders:write"]
    refused = cli("keys", "create", "--partner", T.acme, "--scopes", "orders:cancel")
    assert refused.returncode == 1
    assert "orders:cancel" in refused.stderr
    assert "orders:read" in refused.stderr


# --- the same code in this process: a race of two calls with one key ------------------------


def test_two_calls_racing_with_one_key_write_once_and_answer_alike(clean: None) -> None:
    secret = api_key(T.acme, "orders:write")
    headers = bearer(secret, **{"Idempotency-Key": "race-1"})
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def call() -> None:
        barrier.wait()
        response = in_process("placeOrder", json=ORDER, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [201] * 4, answers
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert len(orders()) == 1
    operations = [r["operation"] for r in audit_records(T.acme)]
    assert operations.count("create") == 1
    assert operations.count("replay") <= 3


def test_in_process_a_changed_body_is_409_and_a_failed_precondition_writes_nothing(
    clean: None,
) -> None:
    secret = api_key(T.acme, "orders:write,orders:read")
    first = in_process("placeOrder", json=ORDER, headers=bearer(secret, **{"Idempotency-Key": "a"}))
    assert first.status_code == 201
    other = in_process(
        "placeOrder",
        json={**ORDER, "quantity": 4},
        headers=bearer(secret, **{"Idempotency-Key": "a"}),
    )
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "conflict"
    found = in_process(
        "getOrder",
        method="GET",
        query_string={"id": first.get_json()["id"]},
        headers=bearer(secret),
    )
    assert (found.status_code, found.get_json()) == (200, first.get_json())
    broken = in_process("brokenReport", method="GET", headers=bearer(secret))
    assert broken.status_code == 500
    assert "hunter2" not in broken.get_data(as_text=True)
    assert len(orders()) == 1
