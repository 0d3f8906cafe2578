"""Every field kind of a real app's Firestore, opened by declaration alone
(tests/fixtures/data_model.toml): numbers as doubles, datetimes as timestamps, geopoints,
references (into a declared collection: within the tenant), lists, maps nested in lists
and maps, and snake_case, dashed and rules-word names. Each is checked by the API and by
the rules alike, stored as the Firestore SDK stores it, read back from documents the SDK
wrote, and given to partners in one wire form (records, lists, events, replays)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given

from functions.core.models import DocumentPath, GeoPoint
from functions.resources import declaration
from tests.emulator.parity import assert_parity, documents
from tests.emulator.rest import create_doc, get_doc
from tests.emulator.test_parity import PARITY
from tests.helpers import Api, T, User, assert_error, data_model_declaration

pytestmark = [
    pytest.mark.empty_database,
    pytest.mark.usefixtures("data_model"),
]  # it swaps the rules for a declaration of its own

DELIVERIES = data_model_declaration().get("deliveries")
SPECIALS = data_model_declaration().get("specials")
DELIVERY: dict[str, Any] = {
    "total": 41.5,
    "placed_at": "2026-03-31T20:45:00.123456+02:00",
    "drop_off": {"latitude": 48.8584, "longitude": 2.2945},
    "customer": "u1",
    "tags": ["vegan", "late"],
    "stops": [{"latitude": -33.86, "longitude": 151.2}],
    "items": [
        {"name": "Margherita", "qty": 2, "unit_price": 9.5},
        {"name": "Water", "qty": 1},
    ],
    "address": {"street": "1 Rue X", "postal-code": "75007", "door": {"code": "4B"}},
    "is-rush": True,
    "in": False,
}


def create(api: Api, user: User, body: dict[str, Any], **headers: str) -> Any:
    return api.post("api/v1/deliveries", json=body, headers=user.headers(**headers))


def make_delivery(api: Api, user: User, **changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in {**DELIVERY, **changes}.items() if v is not None}
    response = create(api, user, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def make_courier(api: Api, user: User) -> str:
    response = api.post("api/v1/couriers", json={"display_name": "Ana"}, headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def stored(collection: str, doc_id: str) -> dict[str, Any]:
    from functions import store

    return store.client().collection(collection).document(doc_id).get().to_dict() or {}


# --- negative cases first -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"total": "41.5"}, "total", "must be a finite number"),
        ({"total": True}, "total", "must be a finite number"),
        ({"total": -0.5}, "total", "must be at least 0"),
        ({"total": 100000.01}, "total", "must be at most 100000"),
        ({"placed_at": "2026-03-31T18:45:00"}, "placed_at", "must be an RFC 3339 time"),
        ({"placed_at": "2026-02-30T18:45:00Z"}, "placed_at", "must be an RFC 3339 time"),
        ({"placed_at": "0001-01-01T00:30:00+01:00"}, "placed_at", "must be an RFC 3339 time"),
        ({"placed_at": 1774982700}, "placed_at", "must be an RFC 3339 time"),
        ({"promised_for": "2019-12-31T23:59:59Z"}, "promised_for", "must be at or after"),
        ({"drop_off": {"latitude": 91, "longitude": 0}}, "drop_off", "must be {"),
        ({"drop_off": {"latitude": 1, "longitude": 2, "alt": 3}}, "drop_off", "must be {"),
        ({"drop_off": [48.8, 2.3]}, "drop_off", "must be {"),
        ({"customer": "a/b"}, "customer", "must be the id of a document of users"),
        ({"customer": ".."}, "customer", "must be the id of a document of users"),
        ({"customer": "__x__"}, "customer", "must be the id of a document of users"),
        ({"customer": 7}, "customer", "must be the id of a document of users"),
        ({"tags": ["a", "b", "c", "d"]}, "tags", "must hold at most 3 items"),
        ({"tags": ["x" * 17]}, "tags.0", "is too long (at most 16 characters)"),
        ({"tags": "vegan"}, "tags", "must be a list of 0 to 3 items"),
        ({"items": []}, "items", "must hold at least 1 items"),
        ({"items": [{"name": "Pizza"}]}, "items.0.qty", "is required"),
        ({"items": [{"name": "Pizza", "qty": 1, "size": "L"}]}, "items.0.size", "is not a"),
        ({"items": [{"name": "Pizza", "qty": 100}]}, "items.0.qty", "must be at most 99"),
        ({"address": {"postal-code": "1"}}, "address.street", "is required"),
        ({"address": {"street": "x", "door": {"code": "4b"}}}, "address.door.code", "does not"),
        ({"address": {"street": "x", "postal-code": None}}, "address.postal-code", "must not"),
        ({"address": "1 Rue X"}, "address", "must be an object of the declared fields"),
    ],
)
def test_a_bad_value_of_each_kind_is_422_naming_the_field_and_stores_nothing(
    api: Api, acme: User, changes: dict[str, Any], field: str, message: str
) -> None:
    response = create(api, acme, {**DELIVERY, **changes})
    error = assert_error(response, 422, "validation_failed")
    fields = {issue["field"]: issue["message"] for issue in error["details"]}
    assert field in fields, error["details"]
    assert fields[field].startswith(message.replace("is not a", "is not a")), fields[field]
    assert tenant_documents() == []


def tenant_documents() -> list[str]:
    from google.cloud.firestore import FieldFilter

    from functions import store

    query = (
        store.client()
        .collection("deliveries")
        .where(filter=FieldFilter("restaurant_id", "==", T.acme))
    )
    return [snapshot.id for snapshot in query.stream()]


def test_a_number_beyond_a_double_is_422_not_infinity(api: Api, acme: User) -> None:
    body = json.dumps(DELIVERY).replace('"total": 41.5', '"total": 1e400')
    response = api.post(
        "api/v1/deliveries",
        data=body,
        headers=acme.headers(**{"Content-Type": "application/json"}),
    )
    error = assert_error(response, 422, "validation_failed")
    assert error["details"] == [{"field": "total", "message": "must be a finite number"}]
    assert tenant_documents() == []


def test_a_reference_to_another_tenants_or_a_missing_record_is_refused_alike(
    api: Api, acme: User, globex: User
) -> None:
    theirs = make_courier(api, globex)
    for courier in (theirs, "no-such-courier"):
        error = assert_error(create(api, acme, {**DELIVERY, "courier": courier}), 422)
        assert error["details"] == [
            {"field": "courier", "message": "must be the id of one of your couriers"}
        ]
    mine = make_delivery(api, acme)
    changed = api.patch(
        f"api/v1/deliveries/{mine['id']}",
        json={"courier": theirs},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert assert_error(changed, 422)["details"][0]["field"] == "courier"
    assert "courier" not in stored("deliveries", mine["id"])


def test_the_rules_refuse_what_the_api_refuses_on_the_direct_door(
    api: Api, acme: User, globex: User
) -> None:
    theirs = make_courier(api, globex)
    base = {
        "restaurant_id": T.acme,
        "total": 12.0,
        "placed_at": dt.datetime(2026, 3, 31, tzinfo=dt.UTC),
        "created_by": acme.uid,
        "version": 1,
    }
    times = ("created_time", "updated_time")

    def direct(doc_id: str, **fields: Any) -> int:
        response = create_doc(
            acme.token, doc_id, {**base, **fields}, collection="deliveries", times=times
        )
        return response.status_code

    assert direct("ok1", drop_off=GeoPoint(1.5, 2.5), customer=DocumentPath("users/u1")) == 200
    assert direct("bad1", customer=DocumentPath("couriers/u1")) == 403  # another collection
    assert direct("bad2", courier=DocumentPath(f"couriers/{theirs}")) == 403  # another tenant
    assert direct("bad3", placed_at="2026-03-31T00:00:00Z") == 403  # a string, not a time
    assert direct("bad4", total=float("nan")) == 403
    assert direct("bad4b", tip=float("inf")) == 403
    assert direct("bad5", items=[{"name": "x", "qty": 1}]) == 403  # through the API only
    assert direct("bad6", tags=["a", "b", "c", "d"]) == 403
    assert direct("bad7", address={"street": "x", "floor": 2}) == 403  # an unknown key
    assert direct("ok2", address={"street": "x", "door": {"code": "4B"}}, **{"in": True}) == 200
    mine = make_courier(api, acme)
    assert direct("ok3", courier=DocumentPath(f"couriers/{mine}")) == 200
    assert get_doc(globex.token, "deliveries/ok1").status_code == 403


# --- what partners get ------------------------------------------------------------------------


def test_each_kind_is_stored_as_the_firestore_sdk_stores_it(api: Api, acme: User) -> None:
    from google.cloud.firestore import DocumentReference
    from google.cloud.firestore import GeoPoint as SdkGeoPoint

    courier = make_courier(api, acme)
    record = make_delivery(api, acme, total=41, courier=courier)
    document = stored("deliveries", record["id"])
    assert type(document["total"]) is float
    assert document["total"] == 41.0
    assert isinstance(document["placed_at"], dt.datetime)
    assert document["placed_at"] == dt.datetime(2026, 3, 31, 18, 45, 0, 123456, tzinfo=dt.UTC)
    assert document["drop_off"] == SdkGeoPoint(48.8584, 2.2945)
    assert isinstance(document["customer"], DocumentReference)
    assert document["customer"].path == "users/u1"
    assert document["courier"].path == f"couriers/{courier}"
    assert document["stops"] == [SdkGeoPoint(-33.86, 151.2)]
    assert document["items"] == [
        {"name": "Margherita", "qty": 2, "unit_price": 9.5},
        {"name": "Water", "qty": 1},
    ]
    assert document["address"] == {
        "street": "1 Rue X",
        "postal-code": "75007",
        "door": {"code": "4B"},
    }
    assert document["is-rush"] is True
    assert document["in"] is False
    assert document["restaurant_id"] == T.acme
    assert document["version"] == 1
    assert isinstance(document["created_time"], dt.datetime)


def test_a_record_reads_back_in_one_wire_form(api: Api, acme: User) -> None:
    record = make_delivery(api, acme)
    assert record["total"] == 41.5
    assert record["placed_at"] == "2026-03-31T18:45:00.123456Z"  # UTC, with Z
    assert record["drop_off"] == {"latitude": 48.8584, "longitude": 2.2945}
    assert record["customer"] == "u1"
    assert record["items"][1] == {"name": "Water", "qty": 1}
    assert record["address"]["door"] == {"code": "4B"}
    assert record["restaurant_id"] == T.acme
    read = api.get(f"api/v1/deliveries/{record['id']}", headers=acme.headers())
    assert read.status_code == 200
    assert read.get_json() == record
    listed = api.get("api/v1/deliveries", headers=acme.headers()).get_json()
    assert listed["data"] == [record]
    assert listed["skipped"] == []


def test_a_replayed_create_answers_the_same_record(api: Api, acme: User) -> None:
    key = {"Idempotency-Key": f"k-{T.acme}"}
    first = create(api, acme, DELIVERY, **key)
    again = create(api, acme, DELIVERY, **key)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_a_patch_replaces_a_map_or_list_and_answers_times_in_utc(api: Api, acme: User) -> None:
    record = make_delivery(api, acme)
    changed = api.patch(
        f"api/v1/deliveries/{record['id']}",
        json={
            "promised_for": "2026-04-01T00:30:00-05:00",
            "address": {"street": "2 Main St"},
            "tags": [],
            "tip": 3,
            "drop_off": None,
        },
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    body = changed.get_json()
    assert body["promised_for"] == "2026-04-01T05:30:00.000000Z"
    assert body["address"] == {"street": "2 Main St"}  # replaced, not merged
    assert body["tags"] == []
    assert body["tip"] == 3.0
    assert body["drop_off"] is None
    document = stored("deliveries", record["id"])
    assert document["address"] == {"street": "2 Main St"}
    assert "drop_off" not in document
    assert type(document["tip"]) is float


def plant_app_documents() -> None:
    """Documents the app wrote with the SDK's own types: an integer total, a timestamp, a
    geopoint, a reference, a map with a key of the app's own; then a date kept as a
    string, and a reference into another collection."""
    from google.cloud.firestore import GeoPoint as SdkGeoPoint

    from functions import store

    database = store.client()
    common = {
        "restaurant_id": T.acme,
        "items": [{"name": "Soup", "qty": 1}],
        "created_time": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # the app's own
    }
    database.collection("deliveries").document("app-1").set(
        {
            **common,
            "total": 20,
            "placed_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "drop_off": SdkGeoPoint(10.0, 20.0),
            "customer": database.document("users/u9"),
            "address": {"street": "x", "extra": "kept by the app"},
        }
    )
    database.collection("deliveries").document("app-2").set(
        {**common, "total": 5.0, "placed_at": "2026-01-02"}
    )
    database.collection("deliveries").document("app-3").set(
        {
            **common,
            "total": 5.0,
            "placed_at": dt.datetime(2026, 1, 3, tzinfo=dt.UTC),
            "customer": database.document("couriers/c1"),
        }
    )


def test_the_apps_own_documents_are_served_and_a_wrong_type_is_skipped_by_name(
    api: Api, acme: User
) -> None:
    """An integer total reads as a number; a string where a timestamp belongs makes the
    record skipped, never a 500."""
    plant_app_documents()
    page = api.get("api/v1/deliveries?limit=10", headers=acme.headers()).get_json()
    assert [record["id"] for record in page["data"]] == ["app-1"]
    assert sorted(page["skipped"]) == ["app-2", "app-3"]
    app = page["data"][0]
    assert app["total"] == 20
    assert app["placed_at"] == "2026-01-02T03:04:05.000000Z"
    assert app["drop_off"] == {"latitude": 10.0, "longitude": 20.0}
    assert app["customer"] == "u9"
    assert app["address"] == {"street": "x"}
    assert app["created_time"] == "2026-01-01T00:00:00.000000Z"
    assert app["version"] is None


def test_lists_bound_and_order_by_a_datetime_and_a_number_across_pages(
    api: Api, acme: User
) -> None:
    made = [
        make_delivery(api, acme, placed_at=f"2026-03-0{day}T12:00:00+01:00", total=float(day))
        for day in (3, 1, 2, 4)
    ]
    by_day = sorted(made, key=lambda record: record["placed_at"])
    query = "placed_atFrom=2026-03-02T00:00:00Z&placed_atTo=2026-03-04T11:00:00Z&limit=1"
    seen, cursor = [], ""
    while True:
        page = api.get(f"api/v1/deliveries?{query}{cursor}", headers=acme.headers()).get_json()
        seen += [record["id"] for record in page["data"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [record["id"] for record in by_day[1:4]]
    totals = api.get("api/v1/deliveries?totalFrom=2.5&totalTo=4", headers=acme.headers())
    assert [r["total"] for r in totals.get_json()["data"]] == [3.0, 4.0]
    bad = api.get("api/v1/deliveries?placed_atFrom=yesterday", headers=acme.headers())
    assert assert_error(bad, 400)["details"][0]["field"] == "placed_atFrom"


def test_a_list_filters_by_a_reference_as_the_id_it_names(api: Api, acme: User) -> None:
    first = make_delivery(api, acme, customer="u1")
    make_delivery(api, acme, customer="u2")
    found = api.get("api/v1/deliveries?customer=u1", headers=acme.headers()).get_json()
    assert [record["id"] for record in found["data"]] == [first["id"]]
    for bad in ("a/b", "__x__", ".."):
        error = assert_error(
            api.get(f"api/v1/deliveries?customer={bad}", headers=acme.headers()), 400
        )
        assert error["details"] == [
            {"field": "customer", "message": "must be the id of a document of users"}
        ]


def test_an_event_carries_the_record_in_its_wire_form(api: Api, acme: User) -> None:
    record = make_delivery(api, acme)
    events = api.get("api/v1/events?type=deliveries.created", headers=acme.headers()).get_json()
    (event,) = events["data"]
    assert event["record_id"] == record["id"]
    assert event["data"]["placed_at"] == "2026-03-31T18:45:00.123456Z"
    assert event["data"]["drop_off"] == {"latitude": 48.8584, "longitude": 2.2945}
    assert event["data"]["customer"] == "u1"
    assert event["data"]["items"] == record["items"]


def test_the_contract_types_each_kind(api: Api) -> None:
    from functions.contract import openapi

    schemas = openapi.build(declaration.current())["components"]["schemas"]
    fields = schemas["DeliveryCreate"]["properties"]
    assert fields["total"]["type"] == "number"
    assert fields["total"]["minimum"] == 0
    assert fields["placed_at"] == fields["placed_at"] | {"type": "string", "format": "date-time"}
    assert fields["drop_off"]["required"] == ["latitude", "longitude"]
    assert "couriers" in fields["courier"]["description"]
    assert fields["items"]["items"]["properties"]["qty"]["maximum"] == 99
    assert fields["address"]["properties"]["door"]["additionalProperties"] is False
    assert set(fields) >= {"is-rush", "in"}


@PARITY
@given(drawn=documents(DELIVERIES))
def test_rules_and_model_accept_the_same_deliveries(
    acme: User, drawn: tuple[str, dict[str, Any]]
) -> None:
    assert_parity(DELIVERIES, acme, T.acme, drawn)


@PARITY
@given(drawn=documents(SPECIALS))
def test_rules_and_model_accept_the_same_specials(
    acme: User, drawn: tuple[str, dict[str, Any]]
) -> None:
    assert_parity(SPECIALS, acme, T.acme, drawn)


def test_inspect_reports_each_field_by_kind_with_the_types_it_found(api: Api, acme: User) -> None:
    from tests.helpers import cli

    plant_app_documents()
    make_delivery(api, acme)
    result = cli("inspect", "deliveries", "--partner", T.acme, "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["scanned"], found["served"]["count"], found["skipped"]["count"]) == (4, 2, 2)
    fields = found["fields"]
    assert fields["placed_at"] == {
        "kind": "datetime",
        "present": 4,
        "valid": 3,
        "types": {"timestamp": 3, "string": 1},
    }
    assert fields["customer"] == {
        "kind": "reference",
        "present": 3,
        "valid": 2,
        "types": {"reference": 3},
    }
    assert fields["total"] == {
        "kind": "number",
        "present": 4,
        "valid": 4,
        "types": {"double": 3, "integer": 1},
    }
    assert fields["items"]["types"] == {"array": 4}
    assert fields["drop_off"] == {
        "kind": "geopoint",
        "present": 2,
        "valid": 2,
        "types": {"geopoint": 2},
    }
    assert fields["tip"] == {"kind": "number", "present": 0, "valid": 0, "types": {}}
    assert found["skipped"]["reasons"]["placed_at is not a valid datetime"]["examples"] == ["app-2"]
    text = cli("inspect", "deliveries", "--partner", T.acme).stdout
    assert "  placed_at       datetime        3 of 4      timestamp 3, string 1" in text


# --- tenants whose ids are the app's own ---------------------------------------------------


def test_tenants_with_auto_ids_and_ids_differing_in_case_are_separate_partners(
    api: Api, partner: Any
) -> None:
    """An app's restaurants have Firestore auto-ids; `Acme…` and `acme…` are two
    partners, through the CLI, the API and the rules alike."""
    from tests.helpers import cli

    auto_id = f"hG7s9KqLm2Pq8RtW_{T.acme}"
    capital = T.acme.capitalize()
    added = cli("--json", "partner", "add", auto_id, "--name", "Trattoria")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["id"] == auto_id
    restaurant, lower, upper = (
        partner(tenant=auto_id),
        partner(tenant=T.acme),
        partner(tenant=capital),
    )
    for user in (restaurant, lower, upper):
        make_delivery(api, user, tags=[user.partner_id[:16]])
    for user in (restaurant, lower, upper):
        page = api.get("api/v1/deliveries", headers=user.headers()).get_json()
        assert [record["restaurant_id"] for record in page["data"]] == [user.partner_id]
    theirs = make_delivery(api, upper)
    assert_error(api.get(f"api/v1/deliveries/{theirs['id']}", headers=lower.headers()), 404)
    assert get_doc(lower.token, f"deliveries/{theirs['id']}").status_code == 403
    assert get_doc(upper.token, f"deliveries/{theirs['id']}").status_code == 200
    base = {"total": 1.0, "placed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "version": 1}
    direct = create_doc(
        restaurant.token,
        f"d-{T.acme}",
        {**base, "restaurant_id": auto_id, "created_by": restaurant.uid},
        collection="deliveries",
        times=("created_time", "updated_time"),
    )
    assert direct.status_code == 200, direct.text[:300]


# --- a tenant kept as a reference to its document ------------------------------------------


def test_a_tenant_kept_as_a_reference_is_served_stored_and_ruled_as_one(
    api: Api, acme: User, globex: User
) -> None:
    from google.cloud.firestore import DocumentReference

    from functions import store

    made = api.post(
        "api/v1/specials", json={"title": "Truffle", "price": 24}, headers=acme.headers()
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    special = made.get_json()
    assert special["restaurant"] == T.acme  # the id on the wire
    document = stored("specials", special["id"])
    assert isinstance(document["restaurant"], DocumentReference)
    assert document["restaurant"].path == f"restaurants/{T.acme}"
    assert_error(api.get(f"api/v1/specials/{special['id']}", headers=globex.headers()), 404)
    assert api.get("api/v1/specials", headers=globex.headers()).get_json()["data"] == []
    # the app's own document, the tenant as a string: no partner's
    database = store.client()
    database.collection("specials").document(f"s-{T.acme}").set(
        {"restaurant": T.acme, "title": "Soup", "createdAt": dt.datetime.now(dt.UTC)}
    )
    listed = api.get("api/v1/specials", headers=acme.headers()).get_json()
    assert [record["id"] for record in listed["data"]] == [special["id"]]
    assert_error(api.get(f"api/v1/specials/s-{T.acme}", headers=acme.headers()), 404)
    events = api.get("api/v1/events?type=specials.created", headers=acme.headers()).get_json()
    assert [event["data"]["restaurant"] for event in events["data"]] == [T.acme]
    # the direct door: own reference only, reads of own records only
    base = {"title": "Tart", "createdBy": acme.uid, "version": 1}

    def direct(doc_id: str, tenant: str) -> int:
        fields = {**base, "restaurant": DocumentPath(f"restaurants/{tenant}")}
        return create_doc(acme.token, doc_id, fields, collection="specials").status_code

    assert direct(f"own-{T.acme}", T.acme) == 200
    assert direct(f"theirs-{T.acme}", T.globex) == 403
    plain = create_doc(
        acme.token, f"str-{T.acme}", {**base, "restaurant": T.acme}, collection="specials"
    )
    assert plain.status_code == 403  # the id where the reference belongs
    assert get_doc(acme.token, f"specials/{special['id']}").status_code == 200
    assert get_doc(globex.token, f"specials/{special['id']}").status_code == 403


# --- each tenant's records in the subcollection of its document ------------------------------

ORDER = {"status": "open", "total": 12.5, "placed_at": "2026-03-31T12:00:00Z"}
ORDERS = data_model_declaration().get("orders")


def make_order(api: Api, user: User, **changes: Any) -> dict[str, Any]:
    response = api.post("api/v1/orders", json={**ORDER, **changes}, headers=user.headers())
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def test_a_tenants_subcollection_is_its_records_and_no_one_elses(
    api: Api, acme: User, globex: User
) -> None:
    from functions import store

    database = store.client()
    mine = make_order(api, acme)
    assert mine["restaurant_id"] == T.acme  # the tenant of the path, on the wire
    document = database.document(f"restaurants/{T.acme}/orders/{mine['id']}").get()
    assert document.exists
    assert "restaurant_id" not in (document.to_dict() or {})  # the path says it
    theirs = make_order(api, globex, status="paid")
    # the app's own orders, in a tenant's subcollection and in a same-named one elsewhere
    database.document(f"restaurants/{T.acme}/orders/app-1").set(
        {
            "status": "paid",
            "total": 3,
            "placed_at": dt.datetime(2026, 3, 30, tzinfo=dt.UTC),
            "createdAt": dt.datetime(2026, 3, 30, tzinfo=dt.UTC),
        }
    )
    database.document(f"kitchens/{T.acme}/orders/elsewhere").set(
        {"status": "open", "total": 1, "createdAt": dt.datetime.now(dt.UTC)}
    )
    listed = api.get("api/v1/orders", headers=acme.headers()).get_json()
    assert [record["id"] for record in listed["data"]] == ["app-1", mine["id"]]
    assert {record["restaurant_id"] for record in listed["data"]} == {T.acme}
    assert_error(api.get(f"api/v1/orders/{theirs['id']}", headers=acme.headers()), 404)
    paid = api.get("api/v1/orders?status=paid", headers=acme.headers()).get_json()
    assert [record["id"] for record in paid["data"]] == ["app-1"]
    ranged = api.get(
        "api/v1/orders?placed_atFrom=2026-03-31T00:00:00Z", headers=acme.headers()
    ).get_json()
    assert [record["id"] for record in ranged["data"]] == [mine["id"]]
    changed = api.patch(
        f"api/v1/orders/{mine['id']}",
        json={"status": "paid"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    stored_after = database.document(f"restaurants/{T.acme}/orders/{mine['id']}").get()
    assert (stored_after.to_dict() or {})["status"] == "paid"
    assert "restaurant_id" not in (stored_after.to_dict() or {})
    events = api.get("api/v1/events?type=orders.created", headers=acme.headers()).get_json()
    assert [(e["record_id"], e["data"]["restaurant_id"]) for e in events["data"]] == [
        (mine["id"], T.acme)
    ]


def test_the_rules_keep_each_tenant_to_its_own_subcollection(
    api: Api, acme: User, globex: User
) -> None:
    base = {"status": "open", "total": 1.0, "placed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    base |= {"createdBy": acme.uid, "version": 1}

    def direct(tenant: str, doc_id: str, **extra: Any) -> int:
        path = f"restaurants/{tenant}/orders"
        return create_doc(acme.token, doc_id, {**base, **extra}, collection=path).status_code

    assert direct(T.acme, f"d-{T.acme}") == 200
    assert direct(T.globex, f"d-{T.globex}") == 403  # another tenant's subcollection
    assert direct(T.acme, f"e-{T.acme}", restaurant_id=T.acme) == 403  # the path says it
    assert get_doc(acme.token, f"restaurants/{T.acme}/orders/d-{T.acme}").status_code == 200
    assert get_doc(globex.token, f"restaurants/{T.acme}/orders/d-{T.acme}").status_code == 403
    served = api.get(f"api/v1/orders/d-{T.acme}", headers=acme.headers())
    assert served.status_code == 200, served.get_data(as_text=True)
    assert served.get_json()["restaurant_id"] == T.acme


def test_the_trigger_of_a_tenants_subcollection_events_the_apps_writes_once(
    api: Api, acme: User
) -> None:
    """What the `ordersChanged` trigger does, with the snapshots the SDK reads: the
    tenant comes from the path; the API's own write is evented once, by the API."""
    from functions import store
    from functions.edge import triggers

    database = store.client()
    reference = database.document(f"restaurants/{T.acme}/orders/app-2")
    reference.set(
        {"status": "open", "total": 4.0, "placed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    )
    (made,) = triggers.record_changed("orders", "app-2", None, reference.get(), tenant=T.acme)
    assert (made.partner_id, made.type, made.writer) == (T.acme, "orders.created", "app")
    assert made.data["restaurant_id"] == T.acme
    assert made.data["placed_at"] == "2026-01-01T00:00:00.000000Z"
    # delivered again: no second event
    assert triggers.record_changed("orders", "app-2", None, reference.get(), tenant=T.acme) == []
    listed = api.get("api/v1/events?type=orders.created", headers=acme.headers()).get_json()
    assert [event["id"] for event in listed["data"]] == [made.id]
    mine = make_order(api, acme)
    api_write = database.document(f"restaurants/{T.acme}/orders/{mine['id']}").get()
    assert triggers.record_changed("orders", mine["id"], None, api_write, tenant=T.acme) == []


def test_inspect_reads_every_tenants_subcollection_and_only_those(api: Api, acme: User) -> None:
    from functions import store
    from tests.helpers import cli

    make_order(api, acme)
    store.client().document(f"kitchens/{T.acme}/orders/elsewhere").set({"status": "open"})
    mine = json.loads(cli("inspect", "orders", "--partner", T.acme, "--json").stdout)
    assert (mine["scanned"], mine["served"]["count"]) == (1, 1)
    everyone = json.loads(cli("inspect", "orders", "--json").stdout)
    assert everyone["scanned"] == 1  # the kitchen's `orders` is another collection
    assert everyone["noTenantField"]["count"] == 0


@PARITY
@given(drawn=documents(ORDERS))
def test_rules_and_model_accept_the_same_orders(
    acme: User, drawn: tuple[str, dict[str, Any]]
) -> None:
    assert_parity(ORDERS, acme, T.acme, drawn)


# --- delete -------------------------------------------------------------------------------


def test_a_delete_needs_if_match_the_callers_record_and_the_delete_scope(
    api: Api, acme: User, globex: User, partner: Any
) -> None:
    record = make_delivery(api, acme)
    path = f"api/v1/deliveries/{record['id']}"
    assert_error(api.call("DELETE", path, headers=acme.headers()), 428)
    stale = api.call("DELETE", path, headers=acme.headers(**{"If-Match": '"2"'}))
    assert assert_error(stale, 412)["code"] == "precondition_failed"
    assert stale.headers["ETag"] == '"1"'
    assert_error(api.call("DELETE", path, headers=globex.headers(**{"If-Match": '"1"'})), 404)
    writer = partner("acme", scopes=["deliveries:read", "deliveries:write"])
    refused = assert_error(
        api.call("DELETE", path, headers=writer.headers(**{"If-Match": '"1"'})), 403
    )
    assert "deliveries:delete" in refused["message"]
    assert_error(api.call("DELETE", "api/v1/deliveries", headers=acme.headers()), 405)
    assert_error(api.call("DELETE", "api/v1/couriers/x", headers=acme.headers()), 405)
    assert stored("deliveries", record["id"])["total"] == 41.5  # nothing was deleted


def test_a_delete_is_204_audited_and_evented_with_the_record_as_it_was(
    api: Api, acme: User
) -> None:
    from functions import store
    from functions.edge import triggers
    from tests.helpers import cli

    record = make_delivery(api, acme)
    before = store.client().collection("deliveries").document(record["id"]).get()
    deleted = api.call(
        "DELETE", f"api/v1/deliveries/{record['id']}", headers=acme.headers(**{"If-Match": '"1"'})
    )
    assert deleted.status_code == 204
    assert deleted.get_data() == b""
    assert not store.client().collection("deliveries").document(record["id"]).get().exists
    assert_error(api.get(f"api/v1/deliveries/{record['id']}", headers=acme.headers()), 404)
    again = api.call(
        "DELETE", f"api/v1/deliveries/{record['id']}", headers=acme.headers(**{"If-Match": '"1"'})
    )
    assert_error(again, 404)
    events = api.get("api/v1/events?type=deliveries.deleted", headers=acme.headers()).get_json()
    (event,) = events["data"]
    assert event["record_id"] == record["id"]
    assert event["writer"] == "api"
    assert event["data"] == record  # the record as it was
    # the trigger that sees the deletion adds no second event
    assert triggers.record_changed("deliveries", record["id"], before, None) == []
    trail = json.loads(cli("--json", "audit", "--partner", T.acme).stdout)
    by_operation = {r["operation"]: r for r in trail if r["recordId"] == record["id"]}
    assert sorted(by_operation) == ["create", "delete"]
    removal = by_operation["delete"]
    assert (removal["versionBefore"], removal["versionAfter"]) == (1, None)


def test_a_direct_delete_is_the_callers_own_where_declared(
    api: Api, acme: User, globex: User
) -> None:
    from tests.emulator.rest import delete_doc

    mine = make_order(api, acme)
    theirs = make_order(api, globex)
    assert delete_doc(globex.token, f"restaurants/{T.acme}/orders/{mine['id']}").status_code == 403
    assert (
        delete_doc(acme.token, f"restaurants/{T.globex}/orders/{theirs['id']}").status_code == 403
    )
    assert delete_doc(acme.token, f"restaurants/{T.acme}/orders/{mine['id']}").status_code == 200
    assert_error(api.get(f"api/v1/orders/{mine['id']}", headers=acme.headers()), 404)
    delivery = make_delivery(api, acme)  # deliveries: deleted through the API only
    assert delete_doc(acme.token, f"deliveries/{delivery['id']}").status_code == 403


# --- expand -----------------------------------------------------------------------------------


def test_expand_replaces_a_reference_by_the_callers_own_record(
    api: Api, acme: User, globex: User, partner: Any
) -> None:
    from functions import store

    courier = make_courier(api, acme)
    record = make_delivery(api, acme, courier=courier)
    shown = api.get(f"api/v1/couriers/{courier}", headers=acme.headers()).get_json()
    one = api.get(f"api/v1/deliveries/{record['id']}?expand=courier", headers=acme.headers())
    assert one.status_code == 200, one.get_data(as_text=True)
    assert one.get_json()["courier"] == shown
    assert "Expand-Skipped" not in one.headers
    listed = api.get("api/v1/deliveries?expand=courier", headers=acme.headers()).get_json()
    assert listed["data"][0]["courier"] == shown
    assert listed["skipped"] == []
    # the app points one delivery at another tenant's courier, and one at a missing one
    theirs = make_courier(api, globex)
    database = store.client().collection("deliveries")
    database.document(record["id"]).update(
        {"courier": store.client().document(f"couriers/{theirs}")}
    )
    other = make_delivery(api, acme, courier=courier)
    store.client().collection("couriers").document(courier).delete()
    page = api.get("api/v1/deliveries?expand=courier", headers=acme.headers()).get_json()
    assert [r["courier"] for r in page["data"]] == [None, None]
    assert sorted(page["skipped"]) == sorted(
        [f"{record['id']}.courier: not found", f"{other['id']}.courier: not found"]
    )
    one = api.get(f"api/v1/deliveries/{other['id']}?expand=courier", headers=acme.headers())
    assert one.headers["Expand-Skipped"] == "courier: not found"
    # an app's id that no header could carry: the header names the field only
    store.client().collection("deliveries").document("配達-1").set(
        {
            "restaurant_id": T.acme,
            "total": 1.0,
            "placed_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "courier": store.client().document("couriers/nobody"),
        }
    )
    far = api.get("api/v1/deliveries/配達-1?expand=courier", headers=acme.headers())
    assert far.status_code == 200, far.get_data(as_text=True)
    assert far.get_json()["courier"] is None
    assert far.headers["Expand-Skipped"] == "courier: not found"
    # a caller whose scopes do not reach couriers: refused by name, never read
    narrow = partner("acme", scopes=["deliveries:read"])
    page = api.get("api/v1/deliveries?expand=courier", headers=narrow.headers()).get_json()
    assert f"{other['id']}.courier: needs the scope couriers:read" in page["skipped"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("expand=customer", "cannot expand: customer"),  # users are not a declared resource
        ("expand=nothing", "cannot expand: nothing"),
        ("expand=", "cannot expand: (empty)"),
    ],
)
def test_expand_names_only_references_to_declared_resources(
    api: Api, acme: User, query: str, message: str
) -> None:
    record = make_delivery(api, acme)
    for path in (f"api/v1/deliveries?{query}", f"api/v1/deliveries/{record['id']}?{query}"):
        error = assert_error(api.get(path, headers=acme.headers()), 400)
        assert error["details"] == [{"field": "expand", "message": message}]
    refused = assert_error(
        api.get(f"api/v1/deliveries/{record['id']}?limit=2", headers=acme.headers()), 400
    )
    assert "(but for expand)" in refused["message"]
