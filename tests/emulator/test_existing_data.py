"""Opening a collection the owner's app already fills (tests/fixtures/existing_data.toml).

The app wrote `dishes` with a name, a price and the tenant field, nothing of the API's
bookkeeping, under ids of its own; one document has a price of the wrong kind, one has no
tenant field. Declared as it is (no bookkeeping fields, lists ordered by id), every
tenant document must be served or named, ETags come from Firestore's update times, and a
write by the app between a partner's read and change is a 412. `inspect` must count what
the API then does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.emulator.rest import create_doc, get_doc
from tests.helpers import Api, T, User, assert_error, cli

pytestmark = [
    pytest.mark.empty_database,
    pytest.mark.usefixtures("existing_data"),
]  # it swaps the rules for a declaration of its own


def app_documents() -> dict[str, dict[str, Any]]:
    """The documents the owner's app wrote, for the running test's tenants."""
    return {
        # ids the API would never assign (a space, a dot, upper case)
        "dish 1": {"partnerId": T.acme, "name": "Margherita", "price": "9.50"},
        "dish.2": {"partnerId": T.acme, "name": "Funghi", "price": "11.00", "kitchenNote": "x"},
        "Dish-3": {"partnerId": T.acme, "name": "Diavola", "price": 12.5},  # a float, not decimal
        "dish-4": {"partnerId": T.acme, "name": "Calzone", "price": "10.00"},
        "orphan": {"name": "Nobody's", "price": "1.00"},  # no tenant field
        "globex-1": {"partnerId": T.globex, "name": "Quattro", "price": "12.00"},
    }


ACME_IN_ID_ORDER = ["Dish-3", "dish 1", "dish-4", "dish.2"]  # Firestore orders ids by bytes


def plant() -> None:
    """The owner's app writing its own documents (the server client passes the rules)."""
    from functions import store

    for doc_id, data in app_documents().items():
        store.client().collection("dishes").document(doc_id).set(data)


def stored(doc_id: str) -> dict[str, Any]:
    from functions import store

    return store.client().collection("dishes").document(doc_id).get().to_dict() or {}


def walk(api: Api, user: User) -> tuple[list[str], list[str], int]:
    """Every page of the caller's dishes: ids served, ids skipped, pages read."""
    served: list[str] = []
    skipped: list[str] = []
    cursor, pages = "", 0
    while True:
        pages += 1
        response = api.get(f"api/v1/dishes{cursor}", headers=user.headers())
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        assert len(page["data"]) + len(page["skipped"]) <= 2  # the declared page size
        served += [record["id"] for record in page["data"]]
        skipped += page["skipped"]
        if page["next_cursor"] is None:
            return served, skipped, pages
        cursor = f"?cursor={page['next_cursor']}"


# --- negative cases first -------------------------------------------------------------------


def test_a_stored_document_of_the_wrong_kind_is_named_with_the_resources_own_noun(
    api: Api, acme: User
) -> None:
    plant()
    error = assert_error(
        api.get(f"api/v1/dishes/{quote('Dish-3')}", headers=acme.headers()),
        409,
        "stored_entry_invalid",
    )
    assert error["message"] == (
        "This dish's stored data is not a valid dish; the app's owner must repair it."
    )
    assert "entry" not in error["message"]


def test_no_partner_reaches_a_document_without_the_tenant_field_or_another_tenants(
    api: Api, acme: User, globex: User
) -> None:
    plant()
    for user, doc_id in ((acme, "orphan"), (acme, "globex-1"), (globex, "dish 1")):
        assert_error(
            api.get(f"api/v1/dishes/{quote(doc_id)}", headers=user.headers()), 404, "not_found"
        )
    served, skipped, _ = walk(api, globex)
    assert (served, skipped) == (["globex-1"], [])


def test_a_change_based_on_a_read_before_the_apps_own_write_is_412(api: Api, acme: User) -> None:
    plant()
    path = f"api/v1/dishes/{quote('dish 1')}"
    read = api.get(path, headers=acme.headers())
    etag = read.headers["ETag"]
    from functions import store

    store.client().collection("dishes").document("dish 1").update({"price": "9.90"})
    stale = api.patch(path, json={"price": "8.00"}, headers=acme.headers(**{"If-Match": etag}))
    assert_error(stale, 412, "precondition_failed")
    current = stale.headers["ETag"]
    assert current != etag
    assert current.startswith('"w')
    assert stored("dish 1")["price"] == "9.90"  # the app's write stands
    fresh = api.patch(path, json={"price": "8.00"}, headers=acme.headers(**{"If-Match": current}))
    assert fresh.status_code == 200, fresh.get_data(as_text=True)
    assert stored("dish 1")["price"] == "8.00"


def test_direct_access_is_closed_when_none_is_declared(acme: User) -> None:
    plant()
    assert get_doc(acme.token, f"dishes/{quote('dish 1')}").status_code == 403
    created = create_doc(
        acme.token,
        "dish-9",
        {"partnerId": T.acme, "name": "Direct", "price": "1.00"},
        collection="dishes",
        server_times=False,
    )
    assert created.status_code == 403
    assert stored("dish-9") == {}


# --- what the app wrote is served ----------------------------------------------------------


def test_every_tenant_document_is_served_or_named_in_id_order(api: Api, acme: User) -> None:
    plant()
    served, skipped, pages = walk(api, acme)
    assert served == ["dish 1", "dish-4", "dish.2"]
    assert skipped == ["Dish-3"]
    assert sorted(served + skipped) == sorted(ACME_IN_ID_ORDER)
    assert pages == 2  # four documents, two a page, nothing lost at the page boundary


def test_a_record_without_bookkeeping_reads_and_changes_with_its_write_time_etag(
    api: Api, acme: User
) -> None:
    plant()
    path = f"api/v1/dishes/{quote('dish.2')}"
    read = api.get(path, headers=acme.headers())
    assert read.status_code == 200
    assert read.get_json() == {
        "id": "dish.2",
        "partnerId": T.acme,
        "name": "Funghi",
        "price": "11.00",
    }
    etag = read.headers["ETag"]
    assert etag.startswith('"w')
    assert etag.endswith('"')
    assert api.get(path, headers=acme.headers()).headers["ETag"] == etag  # stable between writes

    changed = api.patch(
        path, json={"name": "Funghi e tartufo"}, headers=acme.headers(**{"If-Match": etag})
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["name"] == "Funghi e tartufo"
    new_etag = changed.headers["ETag"]
    assert new_etag != etag
    assert api.get(path, headers=acme.headers()).headers["ETag"] == new_etag
    # Nothing of the API's bookkeeping is added; the app's own undeclared field survives.
    assert stored("dish.2") == {
        "partnerId": T.acme,
        "name": "Funghi e tartufo",
        "price": "11.00",
        "kitchenNote": "x",
    }
    again = api.patch(path, json={"price": "12.00"}, headers=acme.headers(**{"If-Match": etag}))
    assert_error(again, 412, "precondition_failed")
    assert again.headers["ETag"] == new_etag


def test_a_record_created_through_the_api_has_the_apps_shape(api: Api, acme: User) -> None:
    plant()
    created = api.post(
        "api/v1/dishes",
        json={"name": "Marinara", "price": "7.00"},
        headers=acme.headers(**{"Idempotency-Key": "dish-marinara"}),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    record = created.get_json()
    assert set(record) == {"id", "partnerId", "name", "price"}
    assert stored(record["id"]) == {"partnerId": T.acme, "name": "Marinara", "price": "7.00"}
    etag = created.headers["ETag"]
    read = api.get(f"api/v1/dishes/{record['id']}", headers=acme.headers())
    assert read.headers["ETag"] == etag
    replay = api.post(
        "api/v1/dishes",
        json={"name": "Marinara", "price": "7.00"},
        headers=acme.headers(**{"Idempotency-Key": "dish-marinara"}),
    )
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (replay.get_json(), replay.headers["ETag"]) == (record, etag)
    served, skipped, _ = walk(api, acme)
    assert record["id"] in served
    assert len(served) == 4
    assert skipped == ["Dish-3"]


# --- look before you open -----------------------------------------------------------------


def test_inspect_counts_what_the_api_then_serves(api: Api, acme: User) -> None:
    plant()
    everyone = cli("inspect", "dishes", "--json")
    assert everyone.returncode == 0, everyone.stderr
    found = json.loads(everyone.stdout)
    assert found["scanned"] == 6
    assert found["complete"] is True
    assert found["served"] == {"count": 4, "examples": ["dish 1", "dish-4", "dish.2"]}
    assert found["skipped"] == {
        "count": 1,
        "reasons": {"price is not a valid decimal": {"count": 1, "examples": ["Dish-3"]}},
    }
    assert found["noTenantField"] == {"count": 1, "examples": ["orphan"]}
    assert found["outOfLists"] == {"count": 0, "examples": []}
    assert found["undeclaredFields"] == {"kitchenNote": 1}
    assert found["wrongKind"] == {"price": 1}
    assert found["order"] == "id"
    assert found["doors"]["firestore"].startswith("closed")

    mine = json.loads(cli("inspect", "dishes", "--partner", T.acme, "--json").stdout)
    served, skipped, _ = walk(api, acme)
    assert (mine["scanned"], mine["served"]["count"], mine["skipped"]["count"]) == (4, 3, 1)
    assert (mine["served"]["count"], mine["skipped"]["count"]) == (len(served), len(skipped))

    sampled = json.loads(cli("inspect", "dishes", "--sample", "2", "--json").stdout)
    assert (sampled["scanned"], sampled["complete"]) == (2, False)

    text = cli("inspect", "dishes")
    assert text.returncode == 0, text.stderr
    assert "scanned 6 documents" in text.stdout
    assert "price is not a valid decimal (e.g. Dish-3)" in text.stdout
    assert "kitchenNote (1)" in text.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("inspect", "soups"), 1, "declares no resource 'soups'"),
        (("inspect", "dishes", "--sample", "0"), 2, "must be a whole number from 1"),
        (("inspect", "dishes", "--sample", "many"), 2, "must be a whole number from 1"),
    ],
)
def test_inspect_refuses_in_one_line(args: tuple[str, ...], code: int, message: str) -> None:
    done = cli(*args)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr


# --- entries the owner's app wrote -----------------------------------------------------------


def test_entries_the_app_wrote_without_the_apis_bookkeeping_are_listed_read_and_changed(
    api: Api, acme: User
) -> None:
    import datetime as dt

    from functions import store
    from tests.helpers import create, entry_body, list_all

    day = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    entries = store.client().collection("entries")
    entries.document("app-1").set({**entry_body(), "partnerId": T.acme, "createdAt": day})
    ours = create(api, acme, description="Through the API")
    entries.document("app-3").set({**entry_body(description="No time"), "partnerId": T.acme})

    listed = list_all(api, acme, "limit=1")
    assert [e["id"] for e in listed] == ["app-1", ours["id"]]  # creation order kept
    assert listed[0]["version"] is None
    assert listed[0]["createdBy"] is None
    assert listed[1] == ours
    assert ours["version"] == 1

    read = api.get("fetchData/app-1", headers=acme.headers())
    assert read.status_code == 200
    assert read.headers["ETag"].startswith('"w')
    assert api.get("fetchData/app-3", headers=acme.headers()).status_code == 200  # get serves it
    changed = api.patch(
        "updateEntry/app-1",
        json={"category": "food"},
        headers=acme.headers(**{"If-Match": read.headers["ETag"]}),
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["category"] == "food"
    after = entries.document("app-1").get().to_dict() or {}
    assert "version" not in after
    assert "createdBy" not in after
    assert isinstance(after["updatedAt"], dt.datetime)
    assert changed.headers["ETag"].startswith('"w')
    mine = api.patch(
        f"updateEntry/{ours['id']}",
        json={"category": "food"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert mine.headers["ETag"] == '"2"'

    found = json.loads(cli("inspect", "entries", "--partner", T.acme, "--json").stdout)
    assert found["outOfLists"] == {"count": 1, "examples": ["app-3"]}
    assert (found["scanned"], found["served"]["count"]) == (3, 3)
    assert "createdAt" in cli("inspect", "entries").stdout


# --- the app's own names for the server's fields -----------------------------------------------


def test_bookkeeping_under_the_apps_own_names_on_both_doors(
    api: Api, acme: User, existing_data: Any
) -> None:
    import datetime as dt

    from functions import store

    created = api.post("api/v1/specials", json={"title": "Soup of the day"}, headers=acme.headers())
    assert created.status_code == 201, created.get_data(as_text=True)
    record = created.get_json()
    assert set(record) == {"id", "partnerId", "title", "until", "created", "rev"}
    assert (record["rev"], created.headers["ETag"]) == (1, '"1"')
    kept = store.client().collection("specials").document(record["id"]).get().to_dict() or {}
    assert set(kept) == {"partnerId", "title", "created", "rev"}
    changed = api.patch(
        f"api/v1/specials/{record['id']}",
        json={"until": "2026-12-31"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert (changed.status_code, changed.headers["ETag"]) == (200, '"2"')

    # Straight on Firestore, the rules check the same names: `created` is the request time.
    fields = {"partnerId": T.acme, "title": "Direct", "rev": 1}
    assert (
        create_doc(
            acme.token, "direct1", fields, collection="specials", times=("created",)
        ).status_code
        == 200
    )
    refused = create_doc(acme.token, "direct2", fields, collection="specials", times=("createdAt",))
    assert refused.status_code == 403
    assert get_doc(acme.token, "specials/direct1").status_code == 200

    # Ordered by `created`: a special the app wrote without it is out of lists, and named.
    store.client().collection("specials").document("app-1").set(
        {"partnerId": T.acme, "title": "Old"}
    )
    listed = api.get("api/v1/specials", headers=acme.headers()).get_json()
    assert [r["id"] for r in listed["data"]] == [record["id"], "direct1"]
    found = json.loads(cli("inspect", "specials", "--json").stdout)
    assert found["outOfLists"] == {"count": 1, "examples": ["app-1"]}
    assert isinstance(kept["created"], dt.datetime)


def test_rules_and_model_accept_the_same_specials(acme: User, existing_data: Any) -> None:
    from hypothesis import given

    from tests.emulator.parity import assert_parity, documents
    from tests.emulator.test_parity import PARITY

    resource = existing_data.get("specials")

    @PARITY
    @given(drawn=documents(resource))
    def agree(drawn: tuple[str, dict[str, Any]]) -> None:
        assert_parity(resource, acme, T.acme, drawn)

    agree()
