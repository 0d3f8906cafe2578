"""A declaration proposed from an app's documents (`inspect --collection --propose`): each
kind read from the stored types, where the tenant lives, the bookkeeping names, and what
it could not decide said in comments; the block always loads."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

from functions.core.models import DocumentPath, GeoPoint
from functions.operations import proposal
from functions.resources import declaration

AT = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def loads(found: proposal.Proposal) -> declaration.Resource:
    (resource,) = declaration.parse(tomllib.loads(found.render())).resources
    return resource


def test_disagreeing_types_nulls_and_names_the_rules_cannot_address_are_said() -> None:
    documents: list[tuple[str, dict[str, Any]]] = [
        (f"shops/s{n}", {"shopId": "s1", "price": "9.50" if n else 9.5, "gone": None})
        for n in range(3)
    ]
    documents[0][1]["a.b"] = 1
    documents[1][1]["blob"] = b"\x00"
    found = proposal.propose("shops", documents)
    assert (
        "price: types disagree (string 2, double 1); proposed string, the others are skipped"
        in found.notes
    )
    assert "left out gone: only nulls seen" in found.notes
    assert "left out 'a.b': the rules language cannot address that name" in found.notes
    assert "left out blob: no field kind holds a bytes" in found.notes
    assert "the tenant is a string field: shopId (check it is your tenant's id)" in found.notes
    assert "no creation time found: lists are ordered by document id" in found.notes
    resource = loads(found)
    assert (resource.tenant_field, resource.order) == ("shopId", "id")
    assert resource.field("price").kind == "text"
    assert {spec.name for spec in resource.fields} == {"price"}


def test_each_stored_type_becomes_its_kind_with_room_to_grow() -> None:
    data = {
        "owner": DocumentPath("restaurants/r1"),
        "name": "x" * 20,
        "note": "two\nlines",
        "day": "2026-03-01",
        "count": 3,
        "price": 9.5,
        "open": True,
        "at": AT,
        "spot": GeoPoint(1.0, 2.0),
        "tags": ["a", "b"],
        "lines": [{"dish": "soup", "qty": 1}],
        "address": {"street": "x", "door": {"code": "4B"}},
        "createdAt": AT,
        "version": 3,
    }
    found = proposal.propose("orders", [("orders/o1", data), ("orders/o2", dict(data))])
    resource = loads(found)
    kinds = {spec.name: spec.kind for spec in resource.fields}
    assert kinds == {
        "name": "text",
        "note": "text",
        "day": "date",
        "count": "integer",
        "price": "number",
        "open": "boolean",
        "at": "datetime",
        "spot": "geopoint",
        "tags": "list",
        "lines": "list",
        "address": "map",
    }
    assert (resource.tenant_field, resource.tenant_reference) == ("owner", "restaurants")
    assert resource.field("name").max_length == 48  # twice the longest, in steps of 16
    assert resource.field("note").multiline is True
    assert resource.field("tags").max_items == 10
    assert resource.bookkeeping.created_at == "createdAt"
    assert resource.bookkeeping.version == "version"
    assert all(spec.required for spec in resource.fields)


def test_a_text_longer_than_a_text_holds_is_said_and_no_tenant_is_guessed_blindly() -> None:
    found = proposal.propose("notes", [("notes/n1", {"body": "x" * 1500})])
    resource = loads(found)
    assert resource.field("body").max_length == 1000
    assert "1500 characters were seen" in resource.field("body").description
    assert any(note.startswith("could not tell where the tenant lives") for note in found.notes)
    assert resource.tenant_field == "partnerId"


def test_a_subcollection_of_each_tenant_is_declared_by_its_path() -> None:
    documents = [("restaurants/r1/orders/o1", {"total": 1.5, "created_time": AT})]
    resource = loads(proposal.propose("restaurants/*/orders", documents))
    assert resource.collection == "restaurants/{tenant}/orders"
    assert resource.tenant_field == "restaurant_id"  # as the app names its fields
    assert resource.bookkeeping.created_at == "created_time"
    assert loads(proposal.propose("restaurants/*/order_lines", documents)).name == "order-lines"
