"""Change events on the emulators: an API create, a PATCH, a write of the owner's app (REST
as the owner) and a partner's create straight on Firestore each give exactly one event,
after the trigger has seen the write; the events API lists a partner's own, in order,
by type and page, and nothing of another tenant's.

Each test works in a tenant of its own: the trigger runs after the write, so a test must
never meet the events of an earlier one's writes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from google.cloud.firestore import FieldFilter

from devtools.prerequisites import CACHE
from functions import store
from tests.corpus import VALID
from tests.emulator.rest import DOCUMENTS, create_doc, rest, value
from tests.helpers import OWNER_OPERATION, User, api_key, entry_body, function_url

TRIGGER_LOG = CACHE / "emulators.log"
TRIGGER_WAIT_S = 90.0


def tenant() -> str:
    return f"ev-{uuid.uuid4().hex[:10]}"


def key_for(partner_id: str, scopes: str = "entries:read,entries:write,events:read") -> str:
    return api_key(partner_id, scopes)


def bearer(secret: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **extra}


def seen_by_trigger(doc_id: str, times: int = 1) -> list[str]:
    """The trigger's report of each write of `doc_id` (it logs one line a write), waited
    for: the trigger runs after the write, in the Functions emulator."""
    deadline = time.monotonic() + TRIGGER_WAIT_S
    while True:
        lines = [
            line
            for line in TRIGGER_LOG.read_text(errors="replace").splitlines()
            if f"entries/{doc_id} changed:" in line
        ]
        if len(lines) >= times or time.monotonic() > deadline:
            assert len(lines) >= times, f"the trigger reported {len(lines)} of {times} writes"
            return [line.split("changed: ", 1)[1].split('"', 1)[0] for line in lines]
        time.sleep(0.2)


def stored_events(partner_id: str) -> list[dict[str, Any]]:
    found = (
        store.client()
        .collection("partnerEvents")
        .where(filter=FieldFilter("partnerId", "==", partner_id))
    )
    return sorted(
        ({"id": d.id, **(d.to_dict() or {})} for d in found.stream()), key=lambda e: e["at"]
    )


def events_api(secret: str, query: str = "") -> requests.Response:
    return requests.get(
        function_url("api") + "/v1/events" + (f"?{query}" if query else ""),
        headers=bearer(secret),
        timeout=60,
    )


def owner_write(doc_id: str, fields: dict[str, Any]) -> None:
    """The owner's app writes the document (REST as the owner: no rules)."""
    write: dict[str, Any] = {
        "update": {
            "name": f"{DOCUMENTS}/entries/{doc_id}",
            "fields": {k: value(v) for k, v in fields.items()},
        }
    }
    response = requests.post(
        rest(":commit"), json={"writes": [write]}, headers={"Authorization": "Bearer owner"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 200, response.text


# --- refusals first ------------------------------------------------------------------------


def test_events_need_the_events_scope(clean: None) -> None:
    partner_id = tenant()
    reader = key_for(partner_id, "entries:read")
    response = events_api(reader)
    assert response.status_code == 403, response.text
    assert "events:read" in response.json()["error"]["message"]
    assert events_api("").status_code == 401


def test_another_tenants_event_is_not_found_and_never_listed(clean: None) -> None:
    mine, theirs = tenant(), tenant()
    my_key, their_key = key_for(mine), key_for(theirs)
    created = requests.post(function_url("createEntry"), json=entry_body(), headers=bearer(my_key),
                            timeout=60)  # fmt: skip
    assert created.status_code == 201, created.text
    (event,) = events_api(my_key).json()["data"]
    response = requests.get(
        function_url("api") + f"/v1/events/{event['id']}", headers=bearer(their_key), timeout=60
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"]["message"] == "No such event."
    assert events_api(their_key).json() == {"data": [], "next_cursor": None, "has_more": False}


@pytest.mark.parametrize(
    ("query", "field"),
    [("type=entries.exploded", "type"), ("limit=0", "limit"), ("limit=101", "limit"),
     ("since=yesterday", "since"), ("cursor=abc.def", "cursor")],
)  # fmt: skip
def test_a_bad_events_query_is_400_naming_the_parameter(
    clean: None, query: str, field: str | None
) -> None:
    response = events_api(key_for(tenant()), query)
    assert response.status_code == 400, response.text
    details = response.json()["error"].get("details", [])
    assert [d["field"] for d in details] == ([field] if field else [])


# --- one event per change, whoever made it -----------------------------------------------


def test_an_api_create_and_patch_give_one_event_each_committed_with_the_change(
    clean: None,
) -> None:
    partner_id = tenant()
    secret = key_for(partner_id)
    created = requests.post(function_url("createEntry"), json=entry_body(category="food"),
                            headers=bearer(secret), timeout=60)  # fmt: skip
    assert created.status_code == 201, created.text
    record = created.json()
    patched = requests.patch(
        function_url("updateEntry") + f"/{record['id']}",
        json={"amount": "99.50"},
        headers=bearer(secret, **{"If-Match": created.headers["ETag"]}),
        timeout=60,
    )
    assert patched.status_code == 200, patched.text
    assert seen_by_trigger(record["id"], times=2) == ["evented already or unseen"] * 2
    events = events_api(secret).json()["data"]
    assert [(e["type"], e["writer"], e["version"]) for e in events] == [
        ("entries.created", "api", 1), ("entries.updated", "api", 2),
    ]  # fmt: skip
    first, second = events
    assert first["request_id"] == created.headers["X-Request-Id"]
    assert second["request_id"] == patched.headers["X-Request-Id"]
    assert first["data"] == record
    assert second["data"] == patched.json()
    assert second["changed_fields"] == ["amount", "updatedAt", "version"]
    assert {e["record_id"] for e in events} == {record["id"]}
    assert len(stored_events(partner_id)) == 2
    one = requests.get(function_url("api") + f"/v1/events/{first['id']}",
                       headers=bearer(secret), timeout=60)  # fmt: skip
    assert (one.status_code, one.json()) == (200, first)


def test_the_owners_app_write_and_its_change_give_one_event_each(clean: None) -> None:
    partner_id = tenant()
    secret = key_for(partner_id)
    doc_id = f"app-{uuid.uuid4().hex[:12]}"
    fields = {**VALID["minimal"], "partnerId": partner_id}
    owner_write(doc_id, fields)
    assert seen_by_trigger(doc_id) == ["entries.created by app"]
    owner_write(doc_id, {**fields, "description": "changed by the app"})
    assert seen_by_trigger(doc_id, times=2)[1] == "entries.updated by app"
    owner_write(doc_id, {**fields, "description": "changed by the app"})  # the same again
    assert seen_by_trigger(doc_id, times=3)[2] == "evented already or unseen"
    events = events_api(secret).json()["data"]
    assert [(e["type"], e["writer"], e["request_id"]) for e in events] == [
        ("entries.created", "app", None), ("entries.updated", "app", None),
    ]  # fmt: skip
    assert events[1]["changed_fields"] == ["description"]
    assert events[1]["data"]["description"] == "changed by the app"


def test_a_record_the_app_moves_to_another_tenant_leaves_one_and_joins_the_other(
    clean: None,
) -> None:
    """The tenant it left hears `entries.deleted` with its last view of the record (its
    copies would go stale otherwise); the one it joined hears `entries.created`."""
    left, joined = tenant(), tenant()
    left_key, joined_key = key_for(left), key_for(joined)
    doc_id = f"app-{uuid.uuid4().hex[:12]}"
    fields = {**VALID["minimal"], "partnerId": left}
    owner_write(doc_id, fields)
    assert seen_by_trigger(doc_id) == ["entries.created by app"]
    owner_write(doc_id, {**fields, "partnerId": joined, "description": "moved by the app"})
    assert sorted(seen_by_trigger(doc_id, times=3)[1:]) == [
        "entries.created by app", "entries.deleted by app",
    ]  # fmt: skip
    gone = events_api(left_key).json()["data"]
    assert [(e["type"], e["partner_id"]) for e in gone] == [
        ("entries.created", left), ("entries.deleted", left),
    ]  # fmt: skip
    assert gone[1]["data"]["partnerId"] == left
    assert gone[1]["data"]["description"] == VALID["minimal"]["description"]  # its last view
    (arrived,) = events_api(joined_key).json()["data"]
    assert (arrived["type"], arrived["partner_id"]) == ("entries.created", joined)
    assert arrived["data"]["description"] == "moved by the app"
    assert arrived["occurred_at"] == gone[1]["occurred_at"]  # one write, two views
    assert arrived["id"] != gone[1]["id"]
    owner_write(doc_id, {**fields, "partnerId": joined, "description": "moved by the app"})
    assert seen_by_trigger(doc_id, times=4)[3] == "evented already or unseen"
    assert len(stored_events(left)) == 2
    assert len(stored_events(joined)) == 1


def test_a_partners_direct_create_is_one_event_and_one_audit_record(
    clean: None, partner: Any
) -> None:
    partner_id = tenant()
    user: User = partner(tenant=partner_id)
    doc_id = f"direct-{uuid.uuid4().hex[:12]}"
    fields = {**VALID["minimal"], "partnerId": partner_id, "createdBy": user.uid, "version": 1}
    response = create_doc(user.token, doc_id, fields)
    assert response.status_code == 200, response.text
    assert seen_by_trigger(doc_id) == ["entries.created by direct"]
    (event,) = stored_events(partner_id)
    assert (event["writer"], event["recordId"], event["type"]) == (
        "direct", doc_id, "entries.created",
    )  # fmt: skip
    trail = (
        store.client()
        .collection("partnerAudit")
        .where(filter=FieldFilter("partnerId", "==", partner_id))
    )
    found = [d.to_dict() or {} for d in trail.stream()]
    (record,) = [r for r in found if not r["operation"].startswith(OWNER_OPERATION)]
    assert (record["actor"], record["credential"], record["operation"], record["recordId"]) == (
        user.uid, "direct", "create", doc_id,
    )  # fmt: skip


def test_events_page_in_order_and_filter_by_type(clean: None) -> None:
    partner_id = tenant()
    secret = key_for(partner_id)
    ids = []
    for amount in ("1.00", "2.00", "3.00"):
        made = requests.post(function_url("createEntry"), json=entry_body(amount=amount),
                             headers=bearer(secret), timeout=60)  # fmt: skip
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    patched = requests.patch(
        function_url("updateEntry") + f"/{ids[0]}", json={"amount": "1.50"},
        headers=bearer(secret, **{"If-Match": '"1"'}), timeout=60,
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    walked, query = [], "limit=1"
    while True:
        page = events_api(secret, query).json()
        walked += [(e["type"], e["record_id"]) for e in page["data"]]
        if not page["has_more"]:
            break
        query = f"limit=1&cursor={page['next_cursor']}"
    assert walked == [
        *(("entries.created", i) for i in ids), ("entries.updated", ids[0]),
    ]  # fmt: skip
    updates = events_api(secret, "type=entries.updated").json()["data"]
    assert [(e["type"], e["record_id"]) for e in updates] == [("entries.updated", ids[0])]
    unfiltered_cursor = events_api(secret, "limit=1").json()["next_cursor"]
    other_filter = events_api(secret, f"type=entries.created&cursor={unfiltered_cursor}")
    assert other_filter.status_code == 400  # a cursor holds to the query it was made for
