"""A restaurant app built the FlutterFlow way (tests/fixtures/restaurant_app), opened by
declaration alone: `inspect --collection ... --propose` reads it, the proposed blocks are
pasted as they are, generated (rules compiled by the emulator) and served. Restaurants
with auto-ids are the partners; their orders are the subcollection of their document;
the menus name their restaurant by a reference."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.conftest import _declared
from tests.emulator.rest import create_doc, delete_doc, get_doc
from tests.fixtures import restaurant_app
from tests.helpers import ROOT, Api, assert_error, cli

pytestmark = pytest.mark.empty_database  # it swaps the rules for declarations of its own

ORDER = {
    "total": 30.0,
    "tip": 3,
    "status": "placed",
    "placed_at": "2026-03-31T20:45:00+02:00",
    "delivery_location": {"latitude": 48.86, "longitude": 2.35},
    "customer": "",
    "line_items": [{"dish_name": "Calzone", "quantity": 1, "unit_price": 12.0}],
}


def proposed(collection: str) -> dict[str, Any]:
    result = cli("inspect", "--collection", collection, "--propose", "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@contextlib.contextmanager
def serving(text: str, tmp_path_factory: Any) -> Iterator[Any]:
    """The repository's declaration with `text` appended, served and enforced."""
    own = (ROOT / "resources.toml").read_text()
    with contextlib.contextmanager(_declared)(own + "\n" + text, tmp_path_factory) as served:
        yield served


@pytest.fixture
def app(clean: None) -> restaurant_app.App:
    from functions import store

    return restaurant_app.seed(store.client())


def test_the_proposal_reads_each_kind_and_where_the_tenant_lives(app: restaurant_app.App) -> None:
    orders = proposed("restaurants/*/orders")
    assert orders["sampled"] == 2 * restaurant_app.ORDERS_PER_RESTAURANT
    assert orders["types"]["tip"] == {"double": 4, "integer": 2}
    assert orders["types"]["customer"] == {"reference": 6}
    assert orders["types"]["line_items"] == {"array": 6}
    toml = orders["toml"]
    assert 'collection = "restaurants/{tenant}/orders"' in toml
    assert 'created_at = "created_time"' in toml
    for kind in ("number", "datetime", "geopoint", "reference", "list", "map"):
        assert f'kind = "{kind}"' in toml, kind
    assert "the tenant is the path: each restaurant's orders" in orders["notes"]
    menus = proposed("menus")
    assert menus["sampled"] == 2 * restaurant_app.DISHES_PER_RESTAURANT
    assert 'tenant_field = "restaurant"\ntenant_reference = "restaurants"' in menus["toml"]
    refused = cli("inspect", "--collection", "restaurants/orders", "--propose")
    assert refused.returncode == 1
    assert "restaurants/*/orders" in refused.stderr


def test_the_pasted_proposal_is_served_to_each_restaurant(
    api: Api, partner: Any, app: restaurant_app.App, tmp_path_factory: Any
) -> None:
    from google.cloud.firestore import DocumentReference, GeoPoint

    from functions import store

    blocks = proposed("restaurants/*/orders")["toml"] + "\n" + proposed("menus")["toml"]
    first, second = app.restaurants
    with serving(blocks, tmp_path_factory):
        one, two = partner(tenant=first), partner(tenant=second)
        listed = api.get("api/v1/orders", headers=one.headers()).get_json()
        assert sorted(r["id"] for r in listed["data"]) == sorted(app.orders[first])
        assert listed["skipped"] == []
        assert {r["restaurant_id"] for r in listed["data"]} == {first}
        sample = listed["data"][0]
        assert isinstance(sample["customer"], str)
        assert sample["placed_at"].endswith("Z")
        assert set(sample["line_items"][0]) == {"dish_name", "quantity", "unit_price"}
        menus = api.get("api/v1/menus", headers=two.headers()).get_json()
        assert sorted(r["id"] for r in menus["data"]) == sorted(app.dishes[second])
        assert {r["restaurant"] for r in menus["data"]} == {second}
        assert_error(api.get(f"api/v1/orders/{app.orders[second][0]}", headers=one.headers()), 404)
        # a create and a patch, stored as the app's own documents are
        customer = sample["customer"]
        made = api.post(
            "api/v1/orders", json={**ORDER, "customer": customer}, headers=one.headers()
        )
        assert made.status_code == 201, made.get_data(as_text=True)
        order = made.get_json()
        stored = store.client().document(f"restaurants/{first}/orders/{order['id']}").get()
        data = stored.to_dict() or {}
        assert type(data["total"]) is float
        assert type(data["tip"]) is float
        assert isinstance(data["placed_at"], dt.datetime)
        assert data["delivery_location"] == GeoPoint(48.86, 2.35)
        assert isinstance(data["customer"], DocumentReference)
        assert data["customer"].path == f"users/{customer}"
        assert "restaurant_id" not in data
        changed = api.patch(
            f"api/v1/orders/{order['id']}",
            json={"status": "delivered"},
            headers=one.headers(**{"If-Match": made.headers["ETag"]}),
        )
        assert changed.status_code == 200, changed.get_data(as_text=True)
        dish = api.post(
            "api/v1/menus",
            json={"dish_name": "Soup", "price": 6, "tags": ["hot"], "available": True},
            headers=two.headers(),
        )
        assert dish.status_code == 201, dish.get_data(as_text=True)
        kept = store.client().collection("menus").document(dish.get_json()["id"]).get()
        assert (kept.to_dict() or {})["restaurant"].path == f"restaurants/{second}"
        events = api.get("api/v1/events", headers=one.headers()).get_json()
        assert [e["type"] for e in events["data"]] == ["orders.created", "orders.updated"]
        inspected = json.loads(cli("inspect", "orders", "--json").stdout)
        assert inspected["scanned"] == 2 * restaurant_app.ORDERS_PER_RESTAURANT + 1
        assert inspected["served"]["count"] == inspected["scanned"]


def test_with_deletes_and_the_direct_door_opened_both_doors_hold(
    api: Api, partner: Any, app: restaurant_app.App, tmp_path_factory: Any
) -> None:
    """The one edit README's walk-through makes after pasting: deletes declared, and the
    direct door opened to partners' ID tokens (reads and deletes of orders; reads and
    creates of menus: an order's line items, a list of maps, are beyond the rules)."""
    from functions.core.models import DocumentPath

    operations = 'operations = ["list", "get", "create", "update"]'
    orders = proposed("restaurants/*/orders")["toml"].replace(
        operations,
        'operations = ["list", "get", "create", "update", "delete"]\n'
        'direct_access = ["read", "delete"]',
    )
    menus = proposed("menus")["toml"].replace(
        operations, operations + '\ndirect_access = ["read", "create"]'
    )
    first, second = app.restaurants
    with serving(orders + "\n" + menus, tmp_path_factory):
        one, two = partner(tenant=first), partner(tenant=second)
        mine, theirs = app.orders[first][0], app.orders[second][0]
        assert get_doc(one.token, f"restaurants/{first}/orders/{mine}").status_code == 200
        assert get_doc(one.token, f"restaurants/{second}/orders/{theirs}").status_code == 403
        read = api.get(f"api/v1/orders/{mine}", headers=one.headers())
        etag = {"If-Match": read.headers["ETag"]}
        removed = api.call("DELETE", f"api/v1/orders/{mine}", headers=one.headers(**etag))
        assert removed.status_code == 204
        assert delete_doc(one.token, f"restaurants/{second}/orders/{theirs}").status_code == 403
        other = app.orders[first][1]
        assert delete_doc(one.token, f"restaurants/{first}/orders/{other}").status_code == 200
        left = api.get("api/v1/orders", headers=one.headers()).get_json()["data"]
        assert [r["id"] for r in left] == [app.orders[first][2]]
        assert len(api.get("api/v1/orders", headers=two.headers()).get_json()["data"]) == 3
        dish = {"dish_name": "Tart", "price": 7.5, "tags": ["sweet"], "available": True}
        times = ("created_time",)

        def direct(doc_id: str, restaurant: str) -> int:
            fields = {**dish, "restaurant": DocumentPath(f"restaurants/{restaurant}")}
            return create_doc(
                one.token, doc_id, fields, collection="menus", times=times
            ).status_code

        assert direct("direct-own", first) == 200
        assert direct("direct-theirs", second) == 403
        served = api.get("api/v1/menus/direct-own", headers=one.headers())
        assert served.status_code == 200, served.get_data(as_text=True)
        assert served.get_json()["restaurant"] == first
