"""Checks that several risks share, each written once: the OWASP index
(test_owasp_api_top10.py) names the risk and calls them; no other module repeats them."""

from __future__ import annotations

from typing import Any

from tests.helpers import (
    METHODS,
    Api,
    T,
    User,
    UserFactory,
    assert_error,
    create,
    entry_body,
    first_cursor,
    stored_entries,
)

NON_PARTNER_CLAIMS: list[dict[str, Any]] = [
    {},
    {"role": "admin"},
    {"role": "admin", "partnerId": "acme"},
    {"role": "Partner", "partnerId": "acme"},
    {"role": ["partner"], "partnerId": "acme"},
    {"role": "partner"},
    {"role": "partner", "partnerId": "../globex"},
]
SERVER_FIELDS = ["id", "partnerId", "createdAt", "updatedAt", "createdBy", "version"]
STRING_LIMITS = [("description", 501), ("category", 65), ("reference", 129)]
NESTED_BODIES = [
    b'{"description":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
    b"[" * 30000 + b"]" * 30000,
]


def non_partner_is_403(
    api: Api, make_user: UserFactory, function: str, claims: dict[str, Any]
) -> None:
    """A signed-in user without valid partner claims is 403 and writes nothing."""
    user = make_user(claims)
    path = function + ("/someId" if function == "updateEntry" else "")
    response = api.call(METHODS[function], path, json=entry_body(), headers=user.headers())
    assert_error(response, 403, "permission_denied")
    assert "WWW-Authenticate" not in response.headers
    assert stored_entries() == []


def read_scope_cannot_write(api: Api, make_user: UserFactory) -> None:
    reader = make_user({"role": "partner", "partnerId": T.acme, "scopes": ["entries:read"]})
    assert api.get("fetchData", headers=reader.headers()).status_code == 200
    response = api.post("createEntry", json=entry_body(), headers=reader.headers())
    assert_error(response, 403, "permission_denied")
    assert 'scope="entries:write"' in response.headers["WWW-Authenticate"]
    assert stored_entries() == []


def cursors_are_bound_to_partner_query_and_integrity(api: Api, acme: User, globex: User) -> None:
    for user in (acme, globex):
        create(api, user, category="food")
        create(api, user, category="food")
    cursor = first_cursor(api, acme)
    assert api.get(f"fetchData?limit=1&cursor={cursor}", headers=acme.headers()).status_code == 200
    foreign = api.get(f"fetchData?limit=1&cursor={cursor}", headers=globex.headers())
    assert_error(foreign, 400)
    other_query = api.get(f"fetchData?category=food&cursor={cursor}", headers=acme.headers())
    assert_error(other_query, 400)
    other_order = api.get(f"fetchData?cursor={cursor}&dateFrom=2026-01-01", headers=acme.headers())
    assert_error(other_order, 400)
    payload, _, signature = cursor.partition(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    assert_error(api.get(f"fetchData?cursor={tampered}", headers=acme.headers()), 400)
    assert_error(api.get("fetchData?cursor=garbage", headers=acme.headers()), 400)


def create_refuses_server_field(api: Api, acme: User, field: str) -> None:
    body = {**entry_body(), field: T.globex if field == "partnerId" else "forged"}
    error = assert_error(api.post("createEntry", json=body, headers=acme.headers()), 422)
    assert error["details"] == [
        {"field": field, "message": "is set by the server and cannot be written"}
    ]
    assert stored_entries() == []


def string_length_is_bounded(api: Api, acme: User, field: str, size: int) -> None:
    body = entry_body(**{field: "x" * size})
    error = assert_error(api.post("createEntry", json=body, headers=acme.headers()), 422)
    assert error["details"] == [
        {"field": field, "message": f"is too long (at most {size - 1} characters)"}
    ]
    assert (
        api.post(
            "createEntry", json=entry_body(**{field: "x" * (size - 1)}), headers=acme.headers()
        ).status_code
        == 201
    )


def nested_body_is_400(api: Api, acme: User, raw: bytes) -> None:
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    error = assert_error(response, 400, "invalid_argument")
    assert "nested too deeply" in error["message"]
    assert stored_entries() == []


def page_size_is_capped_at_100(api: Api, acme: User) -> None:
    error = assert_error(api.get("fetchData?limit=101", headers=acme.headers()), 400)
    assert error["details"] == [{"field": "limit", "message": "must be 1 to 100"}]
    assert api.get("fetchData?limit=100", headers=acme.headers()).status_code == 200
