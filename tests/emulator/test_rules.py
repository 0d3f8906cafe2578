"""firestore.rules on the Firestore emulator, through its REST API with real ID tokens.

Principals x operations, each cell allow or deny; then the shared corpus through both the
rules and the API's model, so the two walls judge entries alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from functions.core.models import Bounds
from functions.resources import declaration
from functions.store import records as store
from tests.corpus import INVALID, VALID, model_accepts, unicode_samples
from tests.emulator.rest import DOCUMENTS, create_doc, headers, rest, value
from tests.helpers import ROOT, Api, T, User, UserFactory


def run_query(token: str | None, partner_id: str | None, limit: int = 10) -> requests.Response:
    query: dict[str, Any] = {"from": [{"collectionId": "entries"}], "limit": limit}
    if partner_id is not None:
        query["where"] = {
            "fieldFilter": {
                "field": {"fieldPath": "partnerId"},
                "op": "EQUAL",
                "value": {"stringValue": partner_id},
            }
        }
    return requests.post(
        rest(":runQuery"), json={"structuredQuery": query}, headers=headers(token), timeout=30
    )


def entry_fields(
    partner_id: str, uid: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        **(payload if payload is not None else VALID["minimal"]),
        "partnerId": partner_id,
        "createdBy": uid,
        "version": 1,
    }


def seed_entry(partner_id: str, doc_id: str) -> None:
    """Written with the server client, which the emulator lets past the rules."""
    from functions import store as firestore

    firestore.client().collection("entries").document(doc_id).set(
        {**VALID["minimal"], "partnerId": partner_id, "createdBy": "seed", "version": 1}
    )
    firestore.client().collection("partnerIdempotencyKeys").document("k1").set(
        {"partnerId": partner_id}
    )
    firestore.client().collection("partnerKeys").document("0123456789abcdef").set(
        {"partnerId": partner_id, "secretHash": "x", "salt": "y", "scopes": ["entries:read"]}
    )


# --- the matrix ------------------------------------------------------------------------

PRINCIPALS: dict[str, dict[str, Any] | None] = {
    "unauthenticated": None,
    "signed-in non-partner": {},
    "partner A": {"role": "partner", "partnerId": "acme"},
    "partner B": {"role": "partner", "partnerId": "globex"},
    "partner role without partnerId": {"role": "partner"},
    "partner A, suspended": {"role": "partner", "partnerId": "acme"},
    "partner A, a record of unknown status": {"role": "partner", "partnerId": "acme"},
}
"""Each principal's claims; a partnerId names the running test's tenant (`claims_of`)."""


def claims_of(principal: str) -> dict[str, Any] | None:
    """The principal's claims, with the running test's tenant for its partnerId."""
    claims = PRINCIPALS[principal]
    if claims is None or "partnerId" not in claims:
        return claims
    return {**claims, "partnerId": T.of(claims["partnerId"])}


IS_PARTNER = {"partner A", "partner B"}
PARTNER_RECORDS = {
    # the record the test stores for acme before it acts: the API's own reading of it
    "partner A": {"status": "active", "displayName": "Acme"},
    "partner A, suspended": {"status": "suspended"},
    "partner A, a record of unknown status": {"status": "paused"},
}


def _own(principal: str) -> str:
    return T.globex if principal == "partner B" else T.acme


def _other(principal: str) -> str:
    return T.acme if principal == "partner B" else T.globex


Operation = Callable[[str, str | None, str], requests.Response]

OPERATIONS: dict[str, tuple[Operation, bool]] = {
    # name: (operation(principal, token, uid), allowed for a partner)
    "create own": (lambda p, t, u: create_doc(t, T.name("new1"), entry_fields(_own(p), u)), True),
    "create for the other tenant": (
        lambda p, t, u: create_doc(t, T.name("new2"), entry_fields(_other(p), u)),
        False,
    ),
    "create own with an id the API cannot read": (
        lambda p, t, u: create_doc(t, T.name("odd") + ".id", entry_fields(_own(p), u)),
        False,
    ),
    "create invalid": (
        lambda p, t, u: create_doc(
            t, T.name("new3"), entry_fields(_own(p), u, INVALID["amount as number"])
        ),
        False,
    ),
    "get own": (
        lambda p, t, u: requests.get(rest(f"/entries/{_own(p)}-1"), headers=headers(t), timeout=30),
        True,
    ),
    "get other": (
        lambda p, t, u: requests.get(
            rest(f"/entries/{_other(p)}-1"), headers=headers(t), timeout=30
        ),
        False,
    ),
    "list filtered to own": (lambda p, t, u: run_query(t, _own(p)), True),
    "list filtered to other": (lambda p, t, u: run_query(t, _other(p)), False),
    "list unfiltered": (lambda p, t, u: run_query(t, None), False),
    "list own over 100": (lambda p, t, u: run_query(t, _own(p), limit=101), False),
    "update own": (
        lambda p, t, u: requests.patch(
            rest(f"/entries/{_own(p)}-1?updateMask.fieldPaths=amount"),
            json={"fields": {"amount": value("1.00")}},
            headers=headers(t),
            timeout=30,
        ),
        False,
    ),
    "delete own": (
        lambda p, t, u: requests.delete(
            rest(f"/entries/{_own(p)}-1"), headers=headers(t), timeout=30
        ),
        False,
    ),
    "read another collection": (
        lambda p, t, u: requests.get(
            rest("/partnerIdempotencyKeys/k1"), headers=headers(t), timeout=30
        ),
        False,
    ),
    "read an API key record": (
        lambda p, t, u: requests.get(
            rest("/partnerKeys/0123456789abcdef"), headers=headers(t), timeout=30
        ),
        False,
    ),
    "list API key records": (
        lambda p, t, u: requests.get(rest("/partnerKeys"), headers=headers(t), timeout=30),
        False,
    ),
    "create an API key record": (
        lambda p, t, u: create_doc(
            t,
            "fedcba9876543210",
            {"partnerId": _own(p), "scopes": ["entries:write"]},
            collection="partnerKeys",
            server_times=False,
        ),
        False,
    ),
    "write another collection": (
        lambda p, t, u: create_doc(
            t, "x", {"partnerId": _own(p)}, collection="settings", server_times=False
        ),
        False,
    ),
}


def _allowed(response: requests.Response) -> bool:
    if response.status_code == 403:
        return False
    assert response.status_code == 200, response.text
    if response.request.url and response.request.url.endswith(":runQuery"):
        rows = response.json()
        assert not any("error" in row for row in rows), rows
    return True


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_rules_matrix(make_user: UserFactory, principal: str, operation: str) -> None:
    from functions import store as firestore

    seed_entry(T.acme, f"{T.acme}-1")
    seed_entry(T.globex, f"{T.globex}-1")
    if principal in PARTNER_RECORDS:  # partner B has no record: active, as the API decides
        firestore.client().document(f"partners/{T.acme}").set(PARTNER_RECORDS[principal])
    claims = claims_of(principal)
    user: User | None = make_user(claims) if claims is not None else None
    run, allowed_for_partner = OPERATIONS[operation]
    response = run(principal, user.token if user else None, user.uid if user else "nobody")
    expected = allowed_for_partner and principal in IS_PARTNER
    assert _allowed(response) is expected, f"{principal} / {operation}: {response.text[:300]}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": 2}, "version must start at 1"),
        ({"createdBy": "someone-else"}, "createdBy must be the caller"),
        ({"scopes": ["x"]}, "no extra fields"),
    ],
)
def test_rules_deny_forged_server_fields(
    make_user: UserFactory, change: dict[str, Any], reason: str
) -> None:
    user = make_user(claims_of("partner A"))
    fields = {**entry_fields(T.acme, user.uid), **change}
    assert create_doc(user.token, "forged", fields).status_code == 403, reason


def test_rules_deny_client_chosen_timestamps(make_user: UserFactory) -> None:
    user = make_user(claims_of("partner A"))
    fields = {**entry_fields(T.acme, user.uid)}
    write: dict[str, Any] = {
        "update": {
            "name": f"{DOCUMENTS}/entries/{T.name('backdated')}",
            "fields": {
                **{k: value(v) for k, v in fields.items()},
                "createdAt": {"timestampValue": "2020-01-01T00:00:00Z"},
                "updatedAt": {"timestampValue": "2020-01-01T00:00:00Z"},
            },
        }
    }
    response = requests.post(
        rest(":commit"), json={"writes": [write]}, headers=headers(user.token), timeout=30
    )
    assert response.status_code == 403


def test_read_only_partner_cannot_create_by_rules(make_user: UserFactory) -> None:
    user = make_user({"role": "partner", "partnerId": T.acme, "scopes": ["entries:read"]})
    assert create_doc(user.token, "ro", entry_fields(T.acme, user.uid)).status_code == 403
    seed_entry(T.acme, f"{T.acme}-1")
    assert run_query(user.token, T.acme).status_code == 200


# --- the shared corpus -----------------------------------------------------------------

CORPUS = [(name, payload, True) for name, payload in VALID.items()] + [
    (name, payload, False) for name, payload in INVALID.items()
]


def test_rules_and_model_agree_on_characters_of_every_blank_and_control_category(
    make_user: UserFactory,
) -> None:
    user = make_user(claims_of("partner A"))
    disagreements = []
    for index, (name, payload) in enumerate(unicode_samples().items()):
        response = create_doc(
            user.token, T.name(f"u{index}"), entry_fields(T.acme, user.uid, payload)
        )
        assert response.status_code in (200, 403), response.text
        by_rules = response.status_code == 200
        by_model = model_accepts(payload)
        if by_rules != by_model:
            disagreements.append(f"{name}: rules {by_rules}, model {by_model}")
    assert disagreements == []


@pytest.mark.parametrize(("name", "payload", "valid"), CORPUS, ids=[c[0] for c in CORPUS])
def test_rules_judge_the_corpus_like_the_model(
    make_user: UserFactory, name: str, payload: dict[str, Any], valid: bool
) -> None:
    user = make_user(claims_of("partner A"))
    response = create_doc(user.token, T.name("corpus"), entry_fields(T.acme, user.uid, payload))
    assert response.status_code in (200, 403), response.text
    assert (response.status_code == 200) is valid, response.text[:300]


# --- indexes -----------------------------------------------------------------------------


def _declared_indexes() -> list[tuple[str, ...]]:
    spec = json.loads((ROOT / "firestore.indexes.json").read_text())
    return [
        tuple(f["fieldPath"] for f in index["fields"])
        for index in spec["indexes"]
        if index["collectionGroup"] == "entries"
        and all(f.get("order") == "ASCENDING" for f in index["fields"])
    ]


@pytest.mark.parametrize("category", [None, "food"])
@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [(None, None), ("2026-01-01", None), (None, "2026-12-31"), ("2026-01-01", "2026-12-31")],
)
def test_every_list_query_has_a_declared_index(
    emulator_hosts: dict[str, str], category: str | None, date_from: str | None, date_to: str | None
) -> None:
    entries = declaration.current().resources[0]
    equals = () if category is None else (("category", category),)
    bounds = None if date_from is None and date_to is None else Bounds("date", date_from, date_to)
    query = store.list_query(entries, T.acme, equals=equals, bounds=bounds)
    proto = query._to_protobuf()
    where = proto.where
    filters = list(where.composite_filter.filters) if where.composite_filter.filters else [where]
    equality = {f.field_filter.field.field_path for f in filters if f.field_filter.op == 5}  # EQUAL
    order = [o.field.field_path for o in proto.order_by if o.field.field_path != "__name__"]
    assert any(
        set(index[: len(equality)]) == equality and list(index[len(equality) :]) == order
        for index in _declared_indexes()
    ), f"no index for equality {sorted(equality)} then order {order}"


# --- one policy on both doors ------------------------------------------------------------


def test_a_suspension_holds_on_the_direct_door_until_resume(
    make_user: UserFactory, api: Api
) -> None:
    from tests.helpers import cli, entry_body

    acme = make_user({"role": "partner", "partnerId": T.acme})
    seed_entry(T.acme, f"{T.acme}-1")
    assert cli("partner", "add", T.acme).returncode == 0

    def direct() -> list[int]:
        created = create_doc(acme.token, T.name(f"d{next(_ids)}"), entry_fields(T.acme, acme.uid))
        return [
            requests.get(
                rest(f"/entries/{T.acme}-1"), headers=headers(acme.token), timeout=30
            ).status_code,
            run_query(acme.token, T.acme).status_code,
            created.status_code,
        ]

    assert direct() == [200, 200, 200]
    suspended = cli("partner", "suspend", T.acme, "--yes")
    assert suspended.returncode == 0, suspended.stderr
    assert "straight on Firestore: the rules refuse" in suspended.stderr
    assert direct() == [403, 403, 403]
    through_api = api.get("fetchData", headers=acme.headers())
    assert through_api.status_code == 403  # both doors, one answer
    assert through_api.get_json()["error"]["code"] == "partner_suspended"
    assert cli("partner", "resume", T.acme).returncode == 0
    assert direct() == [200, 200, 200]
    assert api.post("createEntry", json=entry_body(), headers=acme.headers()).status_code == 201


_ids = iter(range(1_000_000))


def _direct(user: User, partner_id: str | None = None) -> list[int]:
    """A get, a query and a create straight on Firestore, as `user`'s token would (of the
    running test's acme, unless told)."""
    partner_id = partner_id or T.acme
    created = create_doc(user.token, T.name(f"d{next(_ids)}"), entry_fields(partner_id, user.uid))
    return [
        requests.get(
            rest(f"/entries/{T.acme}-1"), headers=headers(user.token), timeout=30
        ).status_code,
        run_query(user.token, partner_id).status_code,
        created.status_code,
    ]


def _outside_the_tools(change: str, uid: str) -> None:
    from firebase_admin import auth

    from functions.outside.firebase_app import admin_app

    if change == "disabled":
        auth.update_user(uid, disabled=True, app=admin_app())
    elif change == "deleted":
        auth.delete_user(uid, app=admin_app())
    else:
        auth.revoke_refresh_tokens(uid, app=admin_app())


@pytest.mark.parametrize(
    ("command", "api_reason"),
    [
        (("revoke", "{uid}", "--yes"), "unauthorized"),
        (("grant", "{uid}", "--partner", "{globex}", "--move", "--create-partner"), None),
        (
            (
                "grant",
                "{uid}",
                "--partner",
                "{acme}",
                "--scopes",
                "entries:write",
                "--create-partner",
            ),
            "forbidden",
        ),
        (("disable", "{uid}"), "unauthorized"),
    ],
    ids=["revoke", "move", "fewer scopes", "disable"],
)
def test_a_revoke_a_move_and_a_disable_close_the_direct_door_on_the_next_call(
    make_user: UserFactory, api: Api, command: tuple[str, ...], api_reason: str | None
) -> None:
    """The token keeps its claims for an hour; the access record the tool writes first
    makes the rules refuse it at once, as the API does."""
    from tests.helpers import cli

    acme = make_user({"role": "partner", "partnerId": T.acme})
    seed_entry(T.acme, f"{T.acme}-1")
    assert _direct(acme) == [200, 200, 200]
    command = tuple(word.format(uid=acme.uid, acme=T.acme, globex=T.globex) for word in command)
    done = cli(*command)
    assert done.returncode == 0, done.stderr
    assert _direct(acme) == [403, 403, 403]
    answer = api.get("fetchData", headers=acme.headers())
    if api_reason is None:  # moved: the API serves the new tenant, never the old one
        assert answer.status_code == 200
        assert answer.get_json()["data"] == []
    else:
        assert answer.status_code == (403 if api_reason == "forbidden" else 401)
    stored = _access(acme.uid)
    assert stored["disabled"] is (command[0] == "disable")
    expected = None if command[0] == "revoke" else command[3] if command[0] == "grant" else T.acme
    assert stored["partnerId"] == expected


def test_after_a_move_a_fresh_sign_in_reaches_the_new_tenant_only(make_user: UserFactory) -> None:
    from devtools import emulators
    from tests.helpers import PASSWORD, cli

    acme = make_user({"role": "partner", "partnerId": T.acme})
    seed_entry(T.acme, f"{T.acme}-1")
    assert (
        cli("grant", acme.uid, "--partner", T.globex, "--move", "--create-partner").returncode == 0
    )
    valid_after = _access(acme.uid)["validAfter"]
    time.sleep(max(0.0, valid_after.timestamp() + 1.05 - time.time()))  # a later second
    moved = User(acme.uid, acme.email, emulators.sign_in(acme.email, PASSWORD))
    assert _direct(moved, T.globex) == [403, 200, 200]  # acme-1 is not globex's
    assert _direct(moved, T.acme) == [403, 403, 403]
    assert cli("revoke", acme.uid, "--yes").returncode == 0
    assert _direct(moved, T.globex) == [403, 403, 403]
    assert cli("grant", acme.uid, "--partner", T.globex).returncode == 0
    assert _direct(moved, T.globex) == [403, 403, 403]  # signed in before the revoke
    time.sleep(1.05)
    again = User(acme.uid, acme.email, emulators.sign_in(acme.email, PASSWORD))
    assert _direct(again, T.globex) == [403, 200, 200]


@pytest.mark.parametrize("change", ["disabled", "revoked", "deleted"])
def test_a_change_made_outside_the_tools_closes_the_direct_door_at_the_next_api_call(
    make_user: UserFactory, api: Api, change: str
) -> None:
    """The Firebase console or firebase-admin: nothing tells the rules, until the API sees
    the account (its next call) or `sync-users` runs; either writes the access record."""
    acme = make_user({"role": "partner", "partnerId": T.acme})
    seed_entry(T.acme, f"{T.acme}-1")
    time.sleep(1.05)  # a revoke in the sign-in's own second would not revoke it
    _outside_the_tools(change, acme.uid)
    assert _direct(acme) == [200, 200, 200]  # the token alone: nothing told the rules yet
    answer = api.get("fetchData", headers=acme.headers())
    assert answer.status_code == 401
    assert (
        answer.get_json()["error"]["message"]
        == {
            "disabled": "The user is disabled.",
            "revoked": "The session was revoked; sign in again.",
            "deleted": "The user of this ID token no longer exists.",
        }[change]
    )
    assert _direct(acme) == [403, 403, 403]


@pytest.mark.empty_database  # sync-users reads every user
@pytest.mark.parametrize("change", ["disabled", "revoked", "deleted"])
def test_sync_users_closes_the_direct_door_to_changes_made_outside_the_tools(
    make_user: UserFactory, change: str
) -> None:
    import json

    from tests.helpers import cli

    acme = make_user({"role": "partner", "partnerId": T.acme})
    other = make_user({"role": "partner", "partnerId": T.acme})
    seed_entry(T.acme, f"{T.acme}-1")
    first = cli("--json", "sync-users")  # users made before access records: one record each
    assert {record["uid"] for record in json.loads(first.stdout)} == {acme.uid, other.uid}
    assert _direct(acme) == [200, 200, 200]
    time.sleep(1.05)
    _outside_the_tools(change, acme.uid)
    synced = cli("--json", "sync-users")
    assert synced.returncode == 0, synced.stderr
    records = {record["uid"]: record for record in json.loads(synced.stdout)}
    assert set(records) == {acme.uid}
    assert records[acme.uid]["disabled"] is (change != "revoked")
    assert (records[acme.uid]["partnerId"] is None) is (change == "deleted")
    assert _direct(acme) == [403, 403, 403]
    assert _direct(other) == [200, 200, 200]  # recorded as it is: untouched
    again = cli("--json", "sync-users")
    assert json.loads(again.stdout) == []  # nothing left to align


def _access(uid: str) -> dict[str, Any]:
    from functions import store as firestore

    snapshot = firestore.client().collection("partnerUsers").document(uid).get()
    assert snapshot.exists, f"no access record for {uid}"
    return snapshot.to_dict() or {}


# --- the generated rules compile, for every declaration the suite knows --------------------


@pytest.mark.empty_database  # it loads other rules
@pytest.mark.parametrize("which", ["resources.toml", "more_resources", "existing_data"])
def test_the_rules_generated_from_every_declaration_compile(
    emulator_hosts: dict[str, str], which: str
) -> None:
    import tomllib

    from devtools import generate
    from tests.emulator.rest import load_rules
    from tests.helpers import existing_declaration_text, more_declaration_text

    text = {
        "resources.toml": (ROOT / "resources.toml").read_text(),
        "more_resources": more_declaration_text(),
        "existing_data": existing_declaration_text(),
    }[which]
    decl = declaration.parse(tomllib.loads(text))
    try:
        load_rules(generate.rules_file(decl, generate.RULES_PATH.read_text()))  # raises if not
    finally:
        load_rules(generate.RULES_PATH.read_text())


@pytest.mark.empty_database  # it loads other rules
def test_rules_that_do_not_compile_are_caught_by_the_compile_check(
    emulator_hosts: dict[str, str],
) -> None:
    from devtools import generate
    from tests.emulator.rest import load_rules

    broken = generate.RULES_PATH.read_text().replace(
        "request.query.limit <= 100", "request.query.limit <= 'a\nb'"
    )
    assert broken != generate.RULES_PATH.read_text()
    try:
        with pytest.raises(requests.HTTPError):
            load_rules(broken)
    finally:
        load_rules(generate.RULES_PATH.read_text())
