"""Identity changes that apply at once, and data other writers left behind: on the Auth and
Firestore emulators, through the real functions."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
import requests
from firebase_admin import auth as firebase_auth

from devtools import emulators
from functions import store
from functions.auth import id_tokens
from functions.core.errors import Unauthorized
from functions.operations.users import PartnerDirectory
from functions.outside.firebase_app import admin_app
from tests.helpers import (
    PASSWORD,
    PROJECT,
    Api,
    T,
    User,
    UserFactory,
    assert_error,
    create,
    entry_body,
    list_all,
)

# --- claim changes apply on the very next call ----------------------------------------------


def test_a_move_applies_on_the_very_next_call(api: Api, acme: User, globex: User) -> None:
    mine = create(api, acme, description="acme's")
    theirs = create(api, globex, description="globex's")
    PartnerDirectory(PROJECT).grant(acme.uid, T.globex, None, move=True)
    # The same ID token, still carrying partnerId T.acme, now acts for globex.
    assert {e["id"] for e in list_all(api, acme)} == {theirs["id"]}
    assert_error(api.get(f"fetchData/{mine['id']}", headers=acme.headers()), 404)
    created = create(api, acme)
    assert created["partnerId"] == T.globex


def test_a_downgrade_applies_on_the_very_next_call(api: Api, acme: User) -> None:
    create(api, acme)
    PartnerDirectory(PROJECT).grant(acme.uid, T.acme, ["entries:read"])
    response = api.post("createEntry", json=entry_body(), headers=acme.headers())
    assert_error(response, 403, "permission_denied")
    assert api.get("fetchData", headers=acme.headers()).status_code == 200


def test_removed_claims_apply_on_the_very_next_call(api: Api, acme: User) -> None:
    firebase_auth.set_custom_user_claims(acme.uid, {"tier": "gold"}, app=admin_app())
    assert_error(api.get("fetchData", headers=acme.headers()), 403, "permission_denied")


def test_without_the_session_check_the_tokens_claims_decide(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented trade-off of AUTH_CHECK_REVOKED=false: changes wait for the token."""
    monkeypatch.setenv("AUTH_CHECK_REVOKED", "false")
    PartnerDirectory(PROJECT).grant(acme.uid, T.acme, ["entries:read"])
    assert api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code == 201


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_a_revoke_leaves_no_fresh_token_with_partner_claims(make_user: UserFactory) -> None:
    """Tokens minted while `revoke` runs, by refresh or by a new sign-in: none that still
    carries partner claims is accepted afterwards."""
    user = make_user({"role": "partner", "partnerId": T.acme}, sign_in=False)
    base = f"http://{emulators.auth_host()}"
    key = emulators.EMULATOR_API_KEY
    signed_in = requests.post(
        f"{base}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key={key}",
        json={"email": user.email, "password": PASSWORD, "returnSecureToken": True},
        timeout=30,
    ).json()
    refresh = signed_in["refreshToken"]
    minted: list[str] = [signed_in["idToken"]]
    stop = threading.Event()

    def mint() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                refreshed = http.post(
                    f"{base}/securetoken.googleapis.com/v1/token?key={key}",
                    data={"grant_type": "refresh_token", "refresh_token": refresh},
                    timeout=30,
                )
                if refreshed.status_code == 200:
                    minted.append(refreshed.json()["id_token"])
                again = http.post(
                    f"{base}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword"
                    f"?key={key}",
                    json={"email": user.email, "password": PASSWORD, "returnSecureToken": True},
                    timeout=30,
                )
                if again.status_code == 200:
                    minted.append(again.json()["idToken"])

    minters = [threading.Thread(target=mint) for _ in range(3)]
    for thread in minters:
        thread.start()
    time.sleep(0.3)
    PartnerDirectory(PROJECT).revoke(user.uid)
    time.sleep(0.3)
    stop.set()
    for thread in minters:
        thread.join(30)
    with_claims = [t for t in minted if _payload(t).get("partnerId") == T.acme]
    without = [t for t in minted if "partnerId" not in _payload(t)]
    assert len(with_claims) > 1, "tokens were minted before the revoke"
    assert without, "tokens were minted after the claims came off"
    for token in with_claims:
        with pytest.raises(Unauthorized, match="revoked"):
            id_tokens.verify_id_token(token, check_revoked=True)


# --- documents other writers left -----------------------------------------------------------


def _plant(doc_id: str, **fields: Any) -> None:
    """A document written around the API and the rules (as the owner's app can)."""
    store.client().collection("entries").document(doc_id).set(fields)


def _valid_stored(partner_id: str, created: str, **overrides: Any) -> dict[str, Any]:
    from datetime import datetime

    moment = datetime.fromisoformat(created)
    return {
        **entry_body(),
        "partnerId": partner_id,
        "createdAt": moment,
        "updatedAt": moment,
        "createdBy": "owner-app",
        "version": 1,
        **overrides,
    }


@pytest.mark.empty_database  # planted documents of fixed ids
def test_a_list_names_bad_documents_and_pages_past_them(api: Api, acme: User) -> None:
    _plant("good1", **_valid_stored(T.acme, "2026-01-01T00:00:01+00:00"))
    _plant(
        "noAmount",
        **{
            k: v
            for k, v in _valid_stored(T.acme, "2026-01-01T00:00:02+00:00").items()
            if k != "amount"
        },
    )
    _plant("blank", **_valid_stored(T.acme, "2026-01-01T00:00:03+00:00", description="\u00a0"))
    _plant("odd.id é", **_valid_stored(T.acme, "2026-01-01T00:00:04+00:00"))
    _plant("numeric", **_valid_stored(T.acme, "2026-01-01T00:00:05+00:00", amount=12.5))
    _plant("good2", **_valid_stored(T.acme, "2026-01-01T00:00:06+00:00"))
    seen: list[str] = []
    skipped: list[str] = []
    cursor = None
    for _ in range(10):
        query = "fetchData?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(query, headers=acme.headers())
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        seen += [e["id"] for e in page["data"]]
        skipped += page["skipped"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["good1", "odd.id é", "good2"]
    assert skipped == ["noAmount", "blank", "numeric"]


@pytest.mark.empty_database  # planted documents of fixed ids
def test_a_bad_document_is_409_to_read_and_to_change_and_is_never_half_written(
    api: Api, acme: User
) -> None:
    _plant(
        "broken1",
        **{
            k: v
            for k, v in _valid_stored(T.acme, "2026-01-01T00:00:01+00:00").items()
            if k != "currency"
        },
    )
    response = api.get("fetchData/broken1", headers=acme.headers())
    assert_error(response, 409, "stored_entry_invalid")
    assert "currency" not in response.get_data(as_text=True)
    patch = api.patch(
        "updateEntry/broken1",
        json={"amount": "1.00"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert_error(patch, 409, "stored_entry_invalid")
    stored = store.client().collection("entries").document("broken1").get().to_dict() or {}
    assert stored["amount"] == "123.45", "nothing was written"
    assert stored["version"] == 1
    repaired = api.patch(
        "updateEntry/broken1",
        json={"currency": "EUR"},
        headers=acme.headers(**{"If-Match": '"1"'}),
    )
    assert repaired.status_code == 200, repaired.get_data(as_text=True)
    assert repaired.get_json()["currency"] == "EUR"


@pytest.mark.empty_database  # planted documents of fixed ids
def test_another_tenants_bad_document_is_still_just_not_found(api: Api, acme: User) -> None:
    _plant("theirs", partnerId=T.globex, description="no other fields")
    assert_error(api.get("fetchData/theirs", headers=acme.headers()), 404, "not_found")


@pytest.mark.empty_database  # planted documents of fixed ids
def test_an_odd_id_the_owner_wrote_reads_like_any_other(api: Api, acme: User) -> None:
    _plant("odd.id é", **_valid_stored(T.acme, "2026-01-01T00:00:01+00:00"))
    response = api.get("fetchData/odd.id%20%C3%A9", headers=acme.headers())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["id"] == "odd.id é"


# --- If-Match and error sizes ---------------------------------------------------------------


def test_a_weak_etag_is_412_and_changes_nothing(api: Api, acme: User) -> None:
    created = create(api, acme)
    response = api.patch(
        f"updateEntry/{created['id']}",
        json={"amount": "1.00"},
        headers=acme.headers(**{"If-Match": 'W/"1"'}),
    )
    error = assert_error(response, 412, "precondition_failed")
    assert "weak" in error["message"]
    assert api.get(f"fetchData/{created['id']}", headers=acme.headers()).get_json()["version"] == 1


# --- failed credentials are braked per client address and claimed identity ------------------


def test_guesses_at_one_key_are_held_back_before_any_lookup_and_no_other_key_is(
    api: Api, acme: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An office behind one NAT address: someone guesses the secret of one key (its id
    known), and someone else presents made-up keys; a colleague's fresh, valid key from
    the same address is never refused, and the guesses stop costing lookups."""
    from functions.core import api_keys
    from functions.core.limits import FAILURES_BURST
    from functions.store import keys as key_store
    from tests.helpers import api_key

    lookups: list[str] = []
    real_get_key = key_store.get_key

    def counted(key_id: str, *args: Any, **kwargs: Any) -> Any:  # the real lookup, counted
        lookups.append(key_id)
        return real_get_key(key_id, *args, **kwargs)

    monkeypatch.setattr(key_store, "get_key", counted)
    _, target = api_keys.new_key()
    key_id = target.key_id
    statuses = []
    for index in range(FAILURES_BURST + 10):  # guesses at one key id's secret
        guess = api_keys.assemble(replace(target, secret=f"{index:032d}"))
        spoofed = f"10.9.{index}.1, 203.0.113.9"  # the client's own words change nothing
        headers = {"Authorization": f"Bearer {guess}", "X-Forwarded-For": spoofed}
        statuses.append(api.get("fetchData", headers=headers).status_code)
    assert statuses == [401] * FAILURES_BURST + [429] * 10
    assert lookups == [key_id] * FAILURES_BURST  # the ten held back cost no Firestore read
    held = api.get("fetchData", headers={"Authorization": f"Bearer {guess}",
                                         "X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert_error(held, 429, "rate_limited")
    assert held.headers["Retry-After"] == "2"
    for _ in range(6):  # made-up keys of other ids: each its own allowance, each a 401
        other, _ = api_keys.new_key()
        answer = api.get("fetchData", headers={"Authorization": f"Bearer {other}",
                                               "X-Forwarded-For": "203.0.113.9"})  # fmt: skip
        assert_error(answer, 401)
    fresh = api_key(T.acme, "entries:read")  # a colleague's key, never used before
    answer = api.get("fetchData", headers={"Authorization": f"Bearer {fresh}",
                                           "X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    assert api.get("fetchData", headers=acme.headers(**{"X-Forwarded-For": "203.0.113.9"})
                   ).status_code == 200  # fmt: skip
    elsewhere = api.get("fetchData", headers={"Authorization": f"Bearer {guess}",
                                              "X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert_error(elsewhere, 401)  # another address keeps its own allowance


def test_a_signed_up_non_partner_is_held_back_too(api: Api, make_user: Any) -> None:
    from functions.core.limits import FAILURES_BURST

    stranger = make_user({})
    headers = stranger.headers(**{"X-Forwarded-For": "203.0.113.10"})
    statuses = [
        api.get("fetchData", headers=headers).status_code for _ in range(FAILURES_BURST + 2)
    ]
    assert statuses == [403] * FAILURES_BURST + [429] * 2
