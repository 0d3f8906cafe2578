"""The kinds an app's Firestore holds beyond flat values (number, datetime, geopoint,
reference, list, map): what each accepts and refuses with which message, the stored
form it gives and reads back (the SDK's classes and ours alike), its one wire form, its
rules expression and its schema, pinned; and names as apps write them."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.core.errors import ValidationFailed
from functions.core.models import DocumentPath, GeoPoint, Position, as_document_path
from functions.domain import changes, idempotency
from functions.edge.http.parsing import parse_json_object
from functions.resources import declaration, kinds, rules, validation
from functions.resources.declaration import DeclarationError, FieldSpec, parse_moment
from tests.helpers import data_model_declaration

TOTAL = FieldSpec("total", "number", low=0.0, high=100.0)
ANY_NUMBER = FieldSpec("tip", "number")
PLACED = FieldSpec(
    "placed_at",
    "datetime",
    low=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    high=dt.datetime(2030, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC),
)
SPOT = FieldSpec("spot", "geopoint")
CUSTOMER = FieldSpec("customer", "reference", to="users")
TAG = FieldSpec("", "text", max_length=4, required=True)
TAGS = FieldSpec("tags", "list", of=TAG, min_items=1, max_items=2)
LINE = FieldSpec(
    "",
    "map",
    required=True,
    fields=(
        FieldSpec("name", "text", max_length=10, required=True),
        FieldSpec("qty", "integer", minimum=1, maximum=9),
        FieldSpec("my-note", "text", max_length=5),
    ),
)
LINES = FieldSpec("lines", "list", of=LINE, max_items=20)
DELIVERIES = data_model_declaration().get("deliveries")


def offline_client() -> Any:
    """A Firestore client that never calls out (it only makes references here)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.firestore_v1 import Client

    return Client(project="demo-partner-api", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]


def check(spec: FieldSpec, value: Any) -> Any:
    return TypeAdapter(kinds.annotation(spec)).validate_python(value)


def stored(spec: FieldSpec, value: Any, *, kept: bool = False) -> Any:
    adapter = TypeAdapter(kinds.stored_annotation(spec))
    return adapter.validate_python(value, context={kinds.KEPT: kept})


def refusal(spec: FieldSpec, value: Any, *, store: bool = False) -> str:
    with pytest.raises(ValidationError) as caught:
        stored(spec, value) if store else check(spec, value)
    return str(caught.value.errors()[0]["msg"]).removeprefix("Value error, ")


def parsed(body: str) -> Any:
    return parse_json_object(body.encode())


# --- negative cases first -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        (TOTAL, "12.5", "must be a finite number"),
        (TOTAL, True, "must be a finite number"),
        (TOTAL, None, "must be a finite number"),
        (TOTAL, -0.01, "must be at least 0"),
        (TOTAL, 100.5, "must be at most 100"),
        (TOTAL, Decimal("1e400"), "must be a finite number"),
        (ANY_NUMBER, float("nan"), "must be a finite number"),
        (ANY_NUMBER, float("inf"), "must be a finite number"),
        (PLACED, "2026-03-31T18:45:00", 'must be an RFC 3339 time with an offset, such as "'),
        (PLACED, "2026-03-31 18:45:00Z", "must be an RFC 3339 time"),
        (PLACED, "2026-02-29T00:00:00Z", "must be an RFC 3339 time"),
        (PLACED, "2026-03-31T24:00:00Z", "must be an RFC 3339 time"),
        (PLACED, "2026-03-31T18:45:00+2:00", "must be an RFC 3339 time"),
        (PLACED, "2026-03-31T18:45:00.Z", "must be an RFC 3339 time"),
        (PLACED, 1774982700, "must be an RFC 3339 time"),
        (PLACED, "2019-12-31T23:59:59.999999Z", "must be at or after 2020-01-01T00:00:00Z"),
        (PLACED, "2030-01-01T00:00:00.500001Z", "must be at or before 2030-01-01T00:00:00.500000Z"),
        (SPOT, {"latitude": 90.0001, "longitude": 0}, 'must be {"latitude": -90 to 90, '),
        (SPOT, {"latitude": 0, "longitude": -180.5}, "must be {"),
        (SPOT, {"latitude": 0}, "must be {"),
        (SPOT, {"latitude": 0, "longitude": 0, "x": 1}, "must be {"),
        (SPOT, {"latitude": "0", "longitude": 0}, "must be {"),
        (SPOT, {"latitude": True, "longitude": 0}, "must be {"),
        (SPOT, [1, 2], "must be {"),
        (CUSTOMER, "a/b", "must be the id of a document of users"),
        (CUSTOMER, "", "must be the id of a document of users"),
        (CUSTOMER, "..", "must be the id of a document of users"),
        (CUSTOMER, "__id__", "must be the id of a document of users"),
        (CUSTOMER, "tab\there", "must be the id of a document of users"),
        (CUSTOMER, 12, "must be the id of a document of users"),
        (CUSTOMER, "é" * 376, "must be the id of a document of users"),  # 375 at most
    ],
)
def test_a_wrong_value_is_refused_with_the_kinds_message(
    spec: FieldSpec, value: Any, message: str
) -> None:
    assert refusal(spec, value).startswith(message)


def test_a_list_or_map_names_the_item_or_field_that_is_wrong() -> None:
    def issues(body: dict[str, Any]) -> list[Any]:
        assert DELIVERIES is not None
        with pytest.raises(ValidationFailed) as caught:
            validation.parse_create(DELIVERIES, parsed(json.dumps(body)))
        return list(caught.value.details)

    base = {"total": 1, "placed_at": "2026-01-01T00:00:00Z"}
    assert issues({**base, "tags": ["ok", "x" * 17, 3]}) == [
        {"field": "tags.1", "message": "is too long (at most 16 characters)"},
        {"field": "tags.2", "message": "must be a string"},
    ]
    assert issues({**base, "tags": ["a", "b", "c", "d"]}) == [
        {"field": "tags", "message": "must hold at most 3 items"}
    ]
    assert issues({**base, "items": []}) == [
        {"field": "items", "message": "must hold at least 1 items"}
    ]
    assert issues({**base, "items": [{"qty": 0, "size": "L"}]}) == [
        {"field": "items.0.name", "message": "is required"},
        {"field": "items.0.qty", "message": "must be at least 1"},
        {"field": "items.0.size", "message": "is not a field of a delivery"},
    ]
    assert issues({**base, "address": {"street": "x", "door": {"code": None}}}) == [
        {"field": "address.door.code", "message": "must not be null; omit the field instead"}
    ]
    assert issues({**base, "address": []}) == [
        {"field": "address", "message": "must be an object of the declared fields"}
    ]


def test_a_stored_value_of_another_type_is_refused_never_coerced() -> None:
    assert refusal(PLACED, "2026-01-01T00:00:00Z", store=True) == "must be a timestamp"
    assert refusal(SPOT, {"latitude": 1.0, "longitude": 2.0}, store=True) == "must be a geopoint"
    assert refusal(CUSTOMER, "u1", store=True) == "must be a reference"
    other = DocumentPath("couriers/u1")
    assert refusal(CUSTOMER, other, store=True) == "must be a reference into users"
    deeper = DocumentPath("users/u1/cards/c1")
    assert refusal(CUSTOMER, deeper, store=True) == "must be a reference into users"
    assert refusal(TOTAL, "12", store=True) == "must be a finite number"
    assert refusal(TOTAL, True, store=True) == "must be a finite number"
    assert refusal(TOTAL, 101, store=True) == "must be at most 100"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('kind = "number"\nminimum = 5\nmaximum = 1', "need minimum <= maximum"),
        ('kind = "number"\nminimum = nan', "a number's bounds are finite"),
        ('kind = "datetime"\nminimum = "2026-01-01"', "minimum must be an RFC 3339 time"),
        (
            'kind = "datetime"\nminimum = "2026-01-02T00:00:00Z"\nmaximum = "2026-01-01T00:00:00Z"',
            "need minimum <= maximum",
        ),
        ('kind = "reference"\nto = "a/b"', "a reference names the collection"),
        ('kind = "list"\nmax_items = 1001\nof = { kind = "boolean" }', "a list needs max_items"),
        ('kind = "list"\nmax_items = 2\nmin_items = 3\nof = { kind = "boolean" }', "a list needs"),
        ('kind = "list"\nmax_items = 2', "of: kind '' is not one of"),
        ('kind = "list"\nmax_items = 2\nof = { kind = "boolean", required = true }', "of: unknown"),
    ],
)
def test_a_kinds_options_are_checked_by_name(fragment: str, expected: str) -> None:
    text = f"[menus]\n[menus.fields.x]\n{fragment}\n"
    with pytest.raises(DeclarationError) as caught:
        declaration.parse(tomllib.loads(text))
    assert expected in str(caught.value), str(caught.value)


def test_a_required_field_the_rules_cannot_check_refuses_direct_create() -> None:
    text = """
[menus]
direct_access = ["create"]
[menus.fields.lines]
kind = "list"
max_items = 20
required = true
of = { kind = "integer" }
"""
    with pytest.raises(DeclarationError) as caught:
        declaration.parse(tomllib.loads(text))
    assert str(caught.value) == (
        "resources.toml: menus: direct_access: create: the rules cannot check the required "
        "field 'lines' as the API does (a list of maps, a list longer than 10, or a "
        "reference to a tenant's records inside a list or map); partners create through "
        "the API only"
    )


# --- what each kind accepts, stores and answers ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31T18:45:00Z", dt.datetime(2026, 3, 31, 18, 45, tzinfo=dt.UTC)),
        ("2026-03-31t18:45:00z", dt.datetime(2026, 3, 31, 18, 45, tzinfo=dt.UTC)),
        ("2026-03-31T20:45:00+02:00", dt.datetime(2026, 3, 31, 18, 45, tzinfo=dt.UTC)),
        ("2026-03-31T18:45:00.5-01:30", dt.datetime(2026, 3, 31, 20, 15, 0, 500000, tzinfo=dt.UTC)),
        (
            "2026-03-31T18:45:00.123456789Z",
            dt.datetime(2026, 3, 31, 18, 45, 0, 123456, tzinfo=dt.UTC),
        ),
        ("9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
        ("0001-01-01T00:00:00Z", dt.datetime(1, 1, 1, tzinfo=dt.UTC)),
        ("0001-01-01T00:30:00+01:00", None),  # before year 1 in UTC
        ("9999-12-31T23:30:00-01:00", None),  # after 9999 in UTC
        ("2026-03-31T18:45:60Z", None),
        ("2026-3-31T18:45:00Z", None),
    ],
)
def test_an_rfc_3339_time_is_read_to_the_microsecond_in_utc(
    text: str, expected: dt.datetime | None
) -> None:
    assert parse_moment(text) == expected


def test_each_kind_stores_a_domain_value_and_answers_one_wire_form() -> None:
    assert check(TOTAL, 12) == 12.0
    assert type(check(TOTAL, 12)) is float
    assert check(TOTAL, Decimal("12.25")) == 12.25
    placed = check(PLACED, "2026-03-31T20:45:00.000001+02:00")
    assert placed == dt.datetime(2026, 3, 31, 18, 45, 0, 1, tzinfo=dt.UTC)
    assert kinds.to_wire(PLACED, placed) == "2026-03-31T18:45:00.000001Z"
    spot = check(SPOT, {"latitude": -33, "longitude": Decimal("151.25")})
    assert spot == GeoPoint(-33.0, 151.25)
    assert kinds.to_wire(SPOT, spot) == {"latitude": -33.0, "longitude": 151.25}
    assert check(CUSTOMER, "é" * 375) == DocumentPath("users/" + "é" * 375)  # 750 bytes
    customer = check(CUSTOMER, "hG7s9KqLm2Pq8RtW3xYz")
    assert customer == DocumentPath("users/hG7s9KqLm2Pq8RtW3xYz")
    assert kinds.to_wire(CUSTOMER, customer) == "hG7s9KqLm2Pq8RtW3xYz"
    assert check(TAGS, ["a", "b"]) == ["a", "b"]
    lines = check(LINES, [{"name": "Soup", "my-note": "hot"}])
    assert lines == [{"name": "Soup", "my-note": "hot"}]  # an unsent field stays absent
    assert kinds.to_wire(LINES, lines) == lines


def test_the_sdks_classes_read_as_ours() -> None:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds
    from google.cloud.firestore_v1 import GeoPoint as SdkGeoPoint

    database = offline_client()
    reference = database.document("users/u1")
    assert stored(CUSTOMER, reference) == DocumentPath("users/u1")
    assert as_document_path(database.collection("users")) is None  # a collection is not one
    assert stored(SPOT, SdkGeoPoint(1.5, -2.5)) == GeoPoint(1.5, -2.5)
    nanos = DatetimeWithNanoseconds(2026, 1, 2, 3, 4, 5, nanosecond=123456789, tzinfo=dt.UTC)  # type: ignore[no-untyped-call]
    assert kinds.to_wire(PLACED, stored(PLACED, nanos)) == "2026-01-02T03:04:05.123456Z"
    assert stored(TOTAL, 7) == 7  # another writer's integer
    assert type(stored(TOTAL, 7)) is int
    stored_lines = stored(LINES, [{"name": "Soup", "qty": 2, "extra": "the app's"}])
    assert stored_lines == [{"name": "Soup", "qty": 2}]
    assert kinds.to_wire(LINES, stored_lines) == [{"name": "Soup", "qty": 2}]


def test_a_kept_answer_reads_back_from_its_wire_form() -> None:
    assert stored(SPOT, {"latitude": 1, "longitude": 2}, kept=True) == GeoPoint(1.0, 2.0)
    assert stored(CUSTOMER, "u1", kept=True) == DocumentPath("users/u1")
    moment = stored(PLACED, "2026-03-31T18:45:00.123456Z", kept=True)
    assert moment == dt.datetime(2026, 3, 31, 18, 45, 0, 123456, tzinfo=dt.UTC)


def test_the_sdks_values_and_ours_are_one_content_and_one_request() -> None:
    from google.cloud.firestore_v1 import GeoPoint as SdkGeoPoint

    database = offline_client()
    ours = {"at": DocumentPath("users/u1"), "spot": GeoPoint(1.0, 2.0), "n": [1.5]}
    sdk = {"at": database.document("users/u1"), "spot": SdkGeoPoint(1.0, 2.0), "n": [1.5]}
    assert changes.content_key(ours) == changes.content_key(sdk)
    assert changes.canonical(ours)["at"] == {"$r": "users/u1"}
    other = {**ours, "at": DocumentPath("users/u2")}
    assert changes.content_key(other) != changes.content_key(ours)
    assert idempotency.fingerprint(ours) == idempotency.fingerprint(dict(ours))
    assert idempotency.fingerprint(ours) != idempotency.fingerprint(other)


def test_the_stored_document_encodes_as_the_sdk_encodes_it() -> None:
    from google.cloud.firestore_v1 import _helpers
    from google.cloud.firestore_v1.types.write import Write

    from functions.store import wire

    path = "projects/demo-partner-api/databases/(default)/documents/deliveries/d1"
    root = "projects/demo-partner-api/databases/(default)/documents/"
    data = {
        "spot": GeoPoint(1.5, -2.5),
        "customer": DocumentPath("users/u1"),
        "lines": [{"name": "Soup", "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}],
        "total": 1.0,
    }
    (expected,) = _helpers.pbs_for_create(path, wire.sdk_value(data, root))
    assert wire.write_pbs("create", path, data) == Write.pb(expected)
    assert wire.write_pbs("create", path, data).update.fields["customer"].reference_value == (
        root + "users/u1"
    )


def test_a_list_position_keys_numbers_and_datetimes() -> None:
    at = "2026-03-31T18:45:00.000001+00:00"
    position = Position.from_values([2.5, at, "d1"], kinds=("number", "datetime"))
    assert position.keys == (2.5, dt.datetime(2026, 3, 31, 18, 45, 0, 1, tzinfo=dt.UTC))
    for forged in ([True, at, "d1"], [float("inf"), at, "d1"], [1, "yesterday", "d1"]):
        with pytest.raises(ValueError, match="not a"):
            Position.from_values(forged, kinds=("number", "datetime"))


# --- the rules ----------------------------------------------------------------------------


def test_each_kind_has_its_rules_expression_pinned() -> None:
    assert kinds.rules_check(TOTAL, "v") == (
        "(v is int || (v is float && v * 0.0 == 0.0)) && v >= 0.0 && v <= 100.0"
    )
    assert kinds.rules_check(FieldSpec("x", "number", low=1e-7, high=1e21), "v").endswith(
        "v >= 0.0000001 && v <= 1000000000000000000000.0"
    )
    assert kinds.rules_check(PLACED, "v") == (
        "v is timestamp && v >= timestamp.value(1577836800000) "
        "&& v <= timestamp.value(1893456000500)"
    )
    assert kinds.rules_check(SPOT, "v") == "v is latlng"
    assert kinds.rules_check(CUSTOMER, "v") == (
        "v is path && v == /databases/$(database)/documents/users/$(v[4])"
    )
    assert kinds.rules_check(TAGS, "v") == (
        "v is list && v.size() <= 2 && v.size() >= 1"
        " && (v.size() <= 0 || (partnerApiText(v[0], 1, 4, "
        + kinds.rules_string(kinds.text_pattern_re2(TAG))
        + ")))"
        " && (v.size() <= 1 || (partnerApiText(v[1], 1, 4, "
        + kinds.rules_string(kinds.text_pattern_re2(TAG))
        + ")))"
    )


def test_names_that_are_not_rules_identifiers_are_quoted() -> None:
    assert rules.member("photo_url") == ".photo_url"
    assert rules.member("my-field") == "['my-field']"
    assert rules.member("in") == "['in']"
    assert rules.member("_x") == "._x"
    block = rules.block(data_model_declaration())
    assert "(!('is-rush' in data) || data['is-rush'] is bool)" in block
    assert "(!('in' in data) || data['in'] is bool)" in block
    assert "data.created_time == request.time" in block
    assert "get(data.courier).data.restaurant_id == request.auth.token.partnerId" in block
    assert "&& !('items' in data)" in block  # a list of maps: through the API only
    assert "// Through the API only: items" in block


@pytest.mark.parametrize(
    ("name", "accepted"),
    [
        ("created_time", True),
        ("photo_url", True),
        ("display-name", True),
        ("_private", True),
        ("Total", True),
        ("in", True),
        ("a.b", False),
        ("__name__", False),
        ("1st", False),
        ("-x", False),
        ("", False),
        ("x" * 65, False),
        ("ü", False),
    ],
)
def test_a_field_name_is_any_the_rules_and_firestore_can_address(name: str, accepted: bool) -> None:
    assert declaration.is_field_name(name) is accepted


def test_the_schema_types_each_kind() -> None:
    assert kinds.json_schema(TOTAL) | {"description": ""} == {
        "type": "number",
        "format": "double",
        "minimum": 0.0,
        "maximum": 100.0,
        "description": "",
    }
    assert kinds.json_schema(PLACED)["format"] == "date-time"
    assert kinds.json_schema(SPOT)["required"] == ["latitude", "longitude"]
    assert "users" in kinds.json_schema(CUSTOMER)["description"]
    lines = kinds.json_schema(LINES)
    assert lines["maxItems"] == 20
    assert "minItems" not in lines
    assert lines["items"]["required"] == ["name"]
    assert lines["items"]["additionalProperties"] is False
    assert set(lines["items"]["properties"]) == {"name", "qty", "my-note"}


# --- where the tenant lives -------------------------------------------------------------------


def test_a_tenant_kept_as_a_reference_is_read_and_written_as_one() -> None:
    specials = data_model_declaration().get("specials")
    assert specials is not None
    assert specials.tenant_value("hG7s") == DocumentPath("restaurants/hG7s")
    assert specials.tenant_of({"restaurant": DocumentPath("restaurants/hG7s")}) == "hG7s"
    assert specials.tenant_of({"restaurant": offline_client().document("restaurants/x")}) == "x"
    for not_a_tenant in (
        "hG7s",
        DocumentPath("users/hG7s"),
        DocumentPath("restaurants/a/b/c"),
        None,
    ):
        assert specials.tenant_of({"restaurant": not_a_tenant}) is None
    deliveries = data_model_declaration().get("deliveries")
    assert deliveries is not None
    assert deliveries.tenant_value("hG7s") == "hG7s"
    assert deliveries.tenant_of({"restaurant_id": DocumentPath("restaurants/hG7s")}) is None
    assert deliveries.tenant_of({"restaurant_id": ""}) is None
    block = rules.block(data_model_declaration())
    assert (
        "resource.data.restaurant == "
        "/databases/$(database)/documents/restaurants/$(request.auth.token.partnerId)"
    ) in block
    record = validation.record_from(
        specials,
        "s1",
        {"restaurant": DocumentPath("restaurants/hG7s"), "title": "Tart"},
        written=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert record.values["restaurant"] == "hG7s"
    event = changes.visible(specials, {"restaurant": DocumentPath("restaurants/hG7s")}, "s1")
    assert event["restaurant"] == "hG7s"


def test_a_tenant_reference_names_a_collection() -> None:
    text = '[menus]\ntenant_reference = "a/b"\n[menus.fields.x]\nkind = "boolean"\n'
    with pytest.raises(DeclarationError, match="tenant_reference 'a/b' is not a collection"):
        declaration.parse(tomllib.loads(text))


def test_a_tenants_subcollection_is_ruled_and_indexed_by_its_path() -> None:
    from functions.resources import indexes

    orders = data_model_declaration().get("orders")
    assert orders is not None
    assert orders.tenant_in_path
    assert orders.collection_of("hG7s") == "restaurants/hG7s/orders"
    assert orders.collection_id == "orders"
    block = rules.block(data_model_declaration())
    start = block.index("match /restaurants/{tenant}/orders/{docId} {")
    rule = block[start : block.index("\n    }\n", start)]
    # get, list, create and delete: the match's {tenant} is the caller's
    assert rule.count("&& tenant == request.auth.token.partnerId") == 4
    assert "resource.data." not in rule  # no tenant field is read
    valid = block[block.index("function partnerApiValid_orders") :]
    assert "'restaurant_id'" not in valid[: valid.index("}")]  # the path says it
    made = indexes.indexes_of(orders)
    assert {index["collectionGroup"] for index in made} == {"orders"}
    assert [[field["fieldPath"] for field in index["fields"]] for index in made] == [
        ["placed_at", "createdAt"],
        ["status", "createdAt"],
        ["status", "placed_at", "createdAt"],
    ]  # a tenant's own collection: never a tenant field in an index


@pytest.mark.parametrize(
    ("collection", "expected"),
    [
        ("restaurants/{tenant}/orders/{id}/lines", "a subcollection is declared as"),
        ("restaurants/{id}/orders", "a subcollection is declared as"),
        ("restaurants/orders", "a subcollection is declared as"),
        ("{tenant}/orders", "a subcollection is declared as"),
        ("partners/{tenant}/orders", "is not a collection partners may reach"),
    ],
)
def test_a_subcollection_is_declared_under_its_tenants_documents(
    collection: str, expected: str
) -> None:
    text = f'[menus]\ncollection = "{collection}"\n[menus.fields.x]\nkind = "boolean"\n'
    with pytest.raises(DeclarationError, match=expected):
        declaration.parse(tomllib.loads(text))
    both = (
        '[menus]\ncollection = "r/{tenant}/m"\ntenant_reference = "r"\n'
        '[menus.fields.x]\nkind = "boolean"\n'
    )
    with pytest.raises(DeclarationError, match="tenant_reference has no use"):
        declaration.parse(tomllib.loads(both))


def test_an_event_shows_each_field_as_the_api_serves_it() -> None:
    """What an event says of a stored document: the wire form of each kind, and of a map
    only its declared keys (the app's others stay out, as in the API's records)."""
    deliveries = data_model_declaration().get("deliveries")
    assert deliveries is not None
    stored_document = {
        "restaurant_id": "r1",
        "total": 3,
        "placed_at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        "drop_off": GeoPoint(1.0, 2.0),
        "customer": DocumentPath("users/u1"),
        "address": {"street": "x", "app_only": "secret"},
        "items": [{"name": "Soup", "qty": 1, "cost": 2}],
        "tags": "not a list",  # the app's wrong type: shown as stored
    }
    shown = changes.visible(deliveries, stored_document, "d1")
    assert shown["placed_at"] == "2026-01-02T00:00:00.000000Z"
    assert shown["drop_off"] == {"latitude": 1.0, "longitude": 2.0}
    assert shown["customer"] == "u1"
    assert shown["address"] == {"street": "x"}
    assert shown["items"] == [{"name": "Soup", "qty": 1}]
    assert shown["tags"] == "not a list"
    assert shown["total"] == 3
