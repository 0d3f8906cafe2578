"""Test mode: `pak_test_` keys and test users (claim `mode: "test"`) reach a second
database of the project (`sandbox`), with the same declaration, rules, limits, events and
webhooks, apart from the live data; `pak_live_` keys and live users reach the default
one. The directory (partners, keys, users) is one, so a suspension holds in both."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from google.cloud import firestore

from devtools import emulators
from functions.core import api_keys
from tests.emulator.test_console import csrf_of, new_owner, post, signed_in
from tests.emulator.test_webhook_delivery import Receiver, verified
from tests.helpers import (
    CONSOLE,
    PASSWORD,
    PROJECT,
    User,
    cli,
    entry_body,
    function_url,
    unique_email,
)

pytestmark = pytest.mark.emulators

SCOPES = "entries:read,entries:write,events:read,webhooks:write"
WAIT_S = 120.0


def database(name: str) -> firestore.Client:
    return firestore.Client(project=PROJECT, database=name)


def keys_of(partner_id: str) -> tuple[str, str]:
    """A live key and a test key of one new partner: (live, test)."""
    live = cli("--json", "keys", "create", "--partner", partner_id, "--create-partner",
               "--scopes", SCOPES)  # fmt: skip
    assert live.returncode == 0, live.stderr
    test = cli("--json", "--mode", "test", "keys", "create", "--partner", partner_id,
               "--scopes", SCOPES)  # fmt: skip
    assert test.returncode == 0, test.stderr
    return json.loads(live.stdout)["key"], json.loads(test.stdout)["key"]


def call(method: str, path: str, key: str, body: Any = None) -> requests.Response:
    return requests.request(
        method,
        function_url("api") + path,
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def stored(name: str, partner_id: str) -> list[str]:
    where = firestore.FieldFilter("partnerId", "==", partner_id)
    return sorted(d.id for d in database(name).collection("entries").where(filter=where).stream())


# --- refusals first ----------------------------------------------------------------------------


def test_a_live_key_relabelled_as_a_test_key_is_refused(clean: None) -> None:
    live, _ = keys_of(f"tm-{uuid.uuid4().hex[:8]}")
    parts = api_keys.parse(live)
    assert parts.mode == "live"
    relabelled = api_keys.assemble(api_keys.ParsedKey("pak_test_", parts.key_id, parts.secret))
    refused = call("GET", "/v1/entries", relabelled)
    assert refused.status_code == 401, refused.text
    assert call("GET", "/v1/entries", live).status_code == 200


def test_a_suspension_holds_in_both_modes_and_on_both_doors(clean: None) -> None:
    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    live, test = keys_of(partner_id)
    assert cli("partner", "suspend", partner_id, "--yes").returncode == 0
    for key in (live, test):
        answer = call("GET", "/v1/entries", key)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "partner_suspended"
    copies = [database(n).collection("partners").document(partner_id).get() for n in
              ("(default)", "sandbox")]  # fmt: skip
    assert [c.get("status") for c in copies] == ["suspended", "suspended"]  # the rules' copy


# --- isolation --------------------------------------------------------------------------------


def test_a_test_keys_records_are_in_the_sandbox_only_and_a_live_key_never_sees_them(
    clean: None,
) -> None:
    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    live, test = keys_of(partner_id)
    assert (live[:9], test[:9]) == ("pak_live_", "pak_test_")
    made_test = call("POST", "/v1/entries", test, entry_body(description="test mode"))
    assert made_test.status_code == 201, made_test.text
    made_live = call("POST", "/v1/entries", live, entry_body(description="live"))
    assert made_live.status_code == 201, made_live.text
    test_id, live_id = made_test.json()["id"], made_live.json()["id"]
    assert stored("sandbox", partner_id) == [test_id]
    assert stored("(default)", partner_id) == [live_id]
    assert [e["id"] for e in call("GET", "/v1/entries", live).json()["data"]] == [live_id]
    assert [e["id"] for e in call("GET", "/v1/entries", test).json()["data"]] == [test_id]
    assert call("GET", f"/v1/entries/{test_id}", live).status_code == 404
    assert call("GET", f"/v1/entries/{live_id}", test).status_code == 404
    listed = json.loads(cli("--json", "keys", "list", "--partner", partner_id).stdout)
    assert sorted(k["mode"] for k in listed) == ["live", "test"]


def test_limits_are_counted_per_mode(clean: None) -> None:
    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    live, test = keys_of(partner_id)
    limited = cli("partner", "limits", partner_id, "--rate", "0.1", "--burst", "2")
    assert limited.returncode == 0, limited.stderr
    statuses = {
        name: [call("GET", "/v1/entries", key).status_code for _ in range(3)]
        for name, key in (("live", live), ("test", test))
    }
    assert statuses == {"live": [200, 200, 429], "test": [200, 200, 429]}
    usage = {
        mode: json.loads(
            cli("--json", "--mode", mode, "usage", "--partner", partner_id, "--days", "1").stdout
        )[0]
        for mode in ("live", "test")
    }
    deadline = time.monotonic() + 60
    while any(u["calls"] < 3 for u in usage.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
        usage = {
            mode: json.loads(
                cli(
                    "--json", "--mode", mode, "usage", "--partner", partner_id, "--days", "1"
                ).stdout
            )[0]
            for mode in ("live", "test")
        }
    assert {m: (u["calls"], u["limited"]) for m, u in usage.items()} == {
        "live": (3, 1),
        "test": (3, 1),
    }


def test_events_and_deliveries_stay_in_their_mode(clean: None) -> None:
    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    live, test = keys_of(partner_id)
    receivers = {"live": Receiver(), "test": Receiver()}
    try:
        secrets = {}
        for mode, key in (("live", live), ("test", test)):
            made = call("POST", "/v1/webhook_endpoints", key, {"url": receivers[mode].url})
            assert made.status_code == 201, made.text
            secrets[mode] = made.json()["secret"]
        test_entry = call("POST", "/v1/entries", test, entry_body()).json()["id"]
        live_entry = call("POST", "/v1/entries", live, entry_body()).json()["id"]
        got = {mode: receivers[mode].wait_for(1, WAIT_S) for mode in receivers}
        time.sleep(2)  # a delivery to the other mode's receiver would have come by now
        assert {mode: len(r.received) for mode, r in receivers.items()} == {"live": 1, "test": 1}
        events = {mode: verified(secrets[mode], got[mode][0]) for mode in receivers}
        assert (events["test"]["record_id"], events["live"]["record_id"]) == (
            test_entry,
            live_entry,
        )
        listed = {
            mode: [e["id"] for e in call("GET", "/v1/events", key).json()["data"]]
            for mode, key in (("live", live), ("test", test))
        }
        assert listed == {m: [events[m]["id"]] for m in ("live", "test")}
        sandbox_deliveries = database("sandbox").collection("partnerWebhookDeliveries")
        kept = [d.get("eventId") for d in sandbox_deliveries.stream() if
                d.get("eventId") == events["test"]["id"]]  # fmt: skip
        assert kept == [events["test"]["id"]]
    finally:
        for receiver in receivers.values():
            receiver.close()


def test_a_test_user_reaches_the_sandbox_through_both_doors(clean: None, make_user: Any) -> None:
    from tests.emulator.rest import rest

    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    keys_of(partner_id)
    user: User = make_user({}, sign_in=False)
    granted = cli("--json", "--mode", "test", "grant", user.email, "--partner", partner_id)
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["claims"]["mode"] == "test"
    user = User(user.uid, user.email, emulators.sign_in(user.email, PASSWORD), partner_id)
    made = requests.post(
        function_url("api") + "/v1/entries",
        json=entry_body(),
        headers={"Authorization": f"Bearer {user.token}"},
        timeout=60,
    )
    assert made.status_code == 201, made.text
    assert stored("sandbox", partner_id) == [made.json()["id"]]
    doc = f"/entries/{made.json()['id']}"
    headers = {"Authorization": f"Bearer {user.token}"}
    sandbox = rest(doc).replace("/databases/(default)/", "/databases/sandbox/")
    assert requests.get(sandbox, headers=headers, timeout=30).status_code == 200
    live_door = requests.get(rest("/entries/anything"), headers=headers, timeout=30)
    assert live_door.status_code == 403  # the rules keep a test user out of live data
    live_user = make_user({"role": "partner", "partnerId": partner_id})
    refused = requests.get(sandbox, headers={"Authorization": f"Bearer {live_user.token}"},
                           timeout=30)  # fmt: skip
    assert refused.status_code == 403  # and a live user out of the sandbox: rules apply there
    other = make_user({"role": "partner", "partnerId": "someone-else", "mode": "test"})
    theirs = requests.get(sandbox, headers={"Authorization": f"Bearer {other.token}"}, timeout=30)
    assert theirs.status_code == 403  # another tenant's record, in the sandbox too


def test_the_console_switches_to_test_mode_and_back(clean: None) -> None:
    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    _, test = keys_of(partner_id)
    call("POST", "/v1/webhook_endpoints", test, {"url": "http://127.0.0.1:9/test-hook"})
    browser = signed_in(*new_owner())
    page = browser.get(function_url(CONSOLE) + f"/partners/{partner_id}", timeout=60).text
    assert "Live mode" in page
    assert "test-hook" not in page  # the live database has no endpoint of this partner
    switched = post(browser, "/mode", csrf=csrf_of(browser), mode="test")
    assert switched.status_code == 303
    assert "partner_api_mode=test" in switched.headers["Set-Cookie"]
    browser.cookies.set("partner_api_mode", "test")
    page = browser.get(function_url(CONSOLE) + f"/partners/{partner_id}", timeout=60).text
    assert "Test mode" in page
    assert "test-hook" in page
    back = post(browser, "/mode", csrf=csrf_of(browser), mode="live")
    assert "partner_api_mode=live" in back.headers["Set-Cookie"]


def test_a_partner_recorded_before_test_mode_is_copied_when_it_gets_a_test_user(
    clean: None, make_user: Any
) -> None:
    """A partner suspended before its sandbox copy existed (a directory from before test
    mode): granting it a test user copies its record, so the sandbox's rules shut the test
    user out as the API does."""
    from tests.emulator.rest import rest

    partner_id = f"tm-{uuid.uuid4().hex[:8]}"
    keys_of(partner_id)
    assert cli("partner", "suspend", partner_id, "--yes").returncode == 0
    database("sandbox").collection("partners").document(partner_id).delete()
    record = database("sandbox").collection("entries").document()
    record.set({**entry_body(), "partnerId": partner_id})
    user: User = make_user({}, sign_in=False)
    assert cli("--mode", "test", "grant", user.email, "--partner", partner_id).returncode == 0
    copy = database("sandbox").collection("partners").document(partner_id).get()
    assert copy.get("status") == "suspended"
    token = emulators.sign_in(user.email, PASSWORD)
    sandbox = rest(f"/entries/{record.id}").replace("/databases/(default)/", "/databases/sandbox/")
    refused = requests.get(sandbox, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert refused.status_code == 403, refused.text
    made = cli("--json", "--mode", "test", "create", unique_email(), "--partner", partner_id)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["claims"]["mode"] == "test"  # `create` makes test users too
