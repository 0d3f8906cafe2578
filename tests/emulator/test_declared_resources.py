"""A second declaration (tests/fixtures/more_resources.toml) served, validated,
rule-checked and documented with no code beyond the declaration: `menus` (an enum, a
pattern, numbers, a boolean and a field hidden from partners) and `orders` (the tenant
field is the app's own `restaurantId`, no updates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given

from functions.contract import openapi
from functions.resources.declaration import Declaration
from tests.emulator.parity import assert_parity, documents
from tests.emulator.rest import create_doc, get_doc
from tests.emulator.test_parity import PARITY
from tests.helpers import REGION, Api, T, User, assert_error, more_declaration

pytestmark = [
    pytest.mark.empty_database,
    pytest.mark.usefixtures("more_resources"),
]  # it swaps the rules for a declaration of its own

MENU = {"name": "Margherita", "course": "main", "price": "9.50", "vegetarian": True}
ORDER = {"table": 12, "status": "open", "total": "41.00", "currency": "EUR"}


def make_menu(api: Api, user: User, **changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in {**MENU, **changes}.items() if v is not None}
    response = api.post("api/v1/menus", json=body, headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def make_order(api: Api, user: User, **changes: Any) -> dict[str, Any]:
    response = api.post("api/v1/orders", json={**ORDER, **changes}, headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


# --- negative cases first -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"course": "brunch"}, "course", "must be one of: starter, main, dessert, drink"),
        ({"sku": "piz-1"}, "sku", "does not have the required form"),
        ({"price": "-0.00"}, "price", "must not be negative zero"),
        (
            {"price": "10000"},
            "price",
            'must be a decimal string such as "123.45" (at most 2 decimals)',
        ),
        ({"vegetarian": "yes"}, "vegetarian", "must be true or false"),
        ({"calories": 5001}, "calories", "must be at most 5000"),
        ({"calories": 1.5}, "calories", "must be a whole number"),
        ({"calories": True}, "calories", "must be a whole number"),
        ({"costPrice": "1.00"}, "costPrice", "is not a field of a menu item"),
        ({"partnerId": "globex"}, "partnerId", "is set by the server and cannot be written"),
        ({"name": "\u2003\u200b"}, "name", "must contain a non-space character"),
    ],
)
def test_a_bad_menu_item_is_422_naming_the_field(
    api: Api, acme: User, changes: dict[str, Any], field: str, message: str
) -> None:
    response = api.post("api/v1/menus", json={**MENU, **changes}, headers=acme.headers())
    error = assert_error(response, 422, "validation_failed")
    assert {"field": field, "message": message} in error["details"]


def test_unknown_resources_and_undeclared_operations_are_answered_in_the_envelope(
    api: Api, acme: User
) -> None:
    assert_error(api.get("api/v1/invoices", headers=acme.headers()), 404, "not_found")
    assert_error(api.get("api/v2/menus", headers=acme.headers()), 404, "not_found")
    assert_error(api.get("api/v1/menus/a/b", headers=acme.headers()), 404, "not_found")
    order = make_order(api, acme)
    refused = api.patch(
        f"api/v1/orders/{order['id']}",
        json={"status": "paid"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert_error(refused, 405, "method_not_allowed")
    assert refused.headers["Allow"] == "GET"
    assert_error(api.call("DELETE", "api/v1/menus"), 405, "method_not_allowed")


def test_each_resource_has_its_own_scopes(api: Api, partner: Callable[..., User]) -> None:
    entries_only = partner("acme", scopes=["entries:read", "entries:write"])
    error = assert_error(api.get("api/v1/menus", headers=entries_only.headers()), 403)
    assert "menus:read" in error["message"]
    reader = partner("acme", scopes=["orders:read"])
    assert api.get("api/v1/orders", headers=reader.headers()).status_code == 200
    assert_error(api.post("api/v1/orders", json=ORDER, headers=reader.headers()), 403)


def test_another_tenants_record_is_not_found(api: Api, acme: User, globex: User) -> None:
    order = make_order(api, acme)
    assert_error(api.get(f"api/v1/orders/{order['id']}", headers=globex.headers()), 404)
    assert api.get("api/v1/orders", headers=globex.headers()).get_json()["data"] == []


def test_a_cursor_works_only_for_the_resource_and_query_it_came_from(api: Api, acme: User) -> None:
    for _ in range(3):
        make_menu(api, acme)
        make_order(api, acme)
    first = api.get("api/v1/menus?limit=1", headers=acme.headers()).get_json()
    cursor = first["next_cursor"]
    assert cursor
    assert_error(api.get(f"api/v1/orders?limit=1&cursor={cursor}", headers=acme.headers()), 400)
    assert_error(
        api.get(f"api/v1/menus?limit=1&course=main&cursor={cursor}", headers=acme.headers()), 400
    )


# --- what partners get ------------------------------------------------------------------------


def test_a_hidden_field_is_never_shown_and_survives_a_partners_change(api: Api, acme: User) -> None:
    from functions import store

    menu = make_menu(api, acme, sku="PIZ-0001", calories=800)
    assert "costPrice" not in menu
    document = store.client().collection("menus").document(menu["id"])
    document.update({"costPrice": "3.10"})  # the owner's app
    read = api.get(f"api/v1/menus/{menu['id']}", headers=acme.headers())
    assert read.status_code == 200
    assert "costPrice" not in read.get_json()
    listed = api.get("api/v1/menus", headers=acme.headers()).get_json()["data"]
    assert all("costPrice" not in item for item in listed)
    changed = api.patch(
        f"api/v1/menus/{menu['id']}",
        json={"price": "10.00", "sku": None},
        headers=acme.headers(**{"If-Match": read.headers["ETag"]}),
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["sku"] is None
    stored = document.get().to_dict() or {}
    assert (stored["costPrice"], stored["price"], stored["version"]) == ("3.10", "10.00", 2)
    assert "sku" not in stored


def test_an_owner_named_tenant_field_and_a_server_timestamp(api: Api, acme: User) -> None:
    order = make_order(api, acme, deliveryDate="2026-12-24", note="Ring twice")
    assert order["restaurantId"] == T.acme
    assert "partnerId" not in order
    assert order["placedAt"] == order["createdAt"]
    assert list(order) == [
        "id", "restaurantId", "table", "status", "total", "currency", "deliveryDate", "note",
        "placedAt", "createdAt", "updatedAt", "createdBy", "version",
    ]  # fmt: skip
    fetched = api.get(f"api/v1/orders/{order['id']}", headers=acme.headers())
    assert fetched.get_json() == order
    assert fetched.headers["ETag"] == '"1"'


def test_lists_filter_by_declared_fields_and_page_through_a_range(api: Api, acme: User) -> None:
    for calories, course, vegetarian in [
        (900, "main", False), (300, "starter", True), (600, "main", True), (150, "dessert", True),
    ]:  # fmt: skip
        make_menu(api, acme, calories=calories, course=course, vegetarian=vegetarian)
    make_menu(api, acme, calories=None, course="drink")

    def names(query: str) -> list[tuple[Any, ...]]:
        found, cursor = [], None
        while True:
            page_query = query + (f"&cursor={cursor}" if cursor else "")
            page = api.get(f"api/v1/menus?{page_query}", headers=acme.headers()).get_json()
            found += [(item.get("calories"), item.get("course")) for item in page["data"]]
            cursor = page["next_cursor"]
            if not cursor:
                return found

    assert names("limit=1&course=main") == [(900, "main"), (600, "main")]
    assert names("limit=2&vegetarian=true&caloriesFrom=200") == [(300, "starter"), (600, "main")]
    assert names("limit=1&caloriesTo=650") == [(150, "dessert"), (300, "starter"), (600, "main")]
    assert len(names("limit=50")) == 5
    assert_error(api.get("api/v1/menus?limit=51", headers=acme.headers()), 400)
    assert_error(api.get("api/v1/menus?vegetarian=yes", headers=acme.headers()), 400)
    assert_error(api.get("api/v1/menus?caloriesFrom=9&caloriesTo=1", headers=acme.headers()), 400)
    assert_error(api.get("api/v1/menus?price=9.50", headers=acme.headers()), 400)


def test_an_idempotency_key_replays_within_its_resource_and_conflicts_across(
    api: Api, acme: User
) -> None:
    key = {"Idempotency-Key": "order-77"}
    first = api.post("api/v1/orders", json=ORDER, headers=acme.headers(**key))
    again = api.post("api/v1/orders", json=ORDER, headers=acme.headers(**key))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    elsewhere = api.post("api/v1/menus", json=MENU, headers=acme.headers(**key))
    assert_error(elsewhere, 409, "conflict")


def test_the_document_served_is_the_declarations(api: Api, more_resources: Declaration) -> None:
    served = api.get("openapi").get_json()
    assert served == openapi.build(more_resources, region=REGION)  # the stack's region
    assert {"/api/v1/menus", "/api/v1/orders/{id}"} <= set(served["paths"])


# --- the rules: direct clients -----------------------------------------------------------------


def test_rules_close_direct_reads_of_a_collection_with_a_hidden_field(api: Api, acme: User) -> None:
    menu = make_menu(api, acme)
    assert get_doc(acme.token, f"menus/{menu['id']}").status_code == 403
    order = make_order(api, acme)
    assert get_doc(acme.token, f"orders/{order['id']}").status_code == 200


def test_rules_check_an_owner_named_tenant_and_server_times(acme: User, globex: User) -> None:
    def order(user: User, tenant: str, times: tuple[str, ...]) -> int:
        fields = {**ORDER, "restaurantId": tenant, "createdBy": user.uid, "version": 1}
        response = create_doc(user.token, "o1", fields, collection="orders", times=times)
        return response.status_code

    all_times = ("createdAt", "updatedAt", "placedAt")
    assert order(globex, T.acme, all_times) == 403
    assert order(acme, T.acme, ("createdAt", "updatedAt")) == 403  # placedAt missing
    assert order(acme, T.acme, all_times) == 200
    assert get_doc(globex.token, "orders/o1").status_code == 403
    assert get_doc(acme.token, "orders/o1").status_code == 200


# --- parity of the rules and the model on drawn documents -------------------------------------

MORE = more_declaration()


@pytest.mark.parametrize("name", ["menus", "orders"])
def test_rules_and_model_accept_the_same_records(acme: User, name: str) -> None:
    resource = MORE.get(name)
    assert resource is not None

    @PARITY
    @given(drawn=documents(resource))
    def agree(drawn: tuple[str, dict[str, Any]]) -> None:
        assert_parity(resource, acme, T.acme, drawn)

    agree()
