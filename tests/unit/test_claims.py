"""The claims that make a partner caller, the scope check, and the partners CLI's merges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.auth import caller_from_claims, known_scopes, require_scopes
from functions.auth.callers import current_claims
from functions.core.errors import Forbidden
from functions.core.models import EPOCH, UserAccess
from functions.operations.errors import Refused
from functions.operations.users import (
    Change,
    PartnerUser,
    merged_grant,
    merged_revoke,
    synced_access,
)


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"role": "admin", "partnerId": "acme"},
        {"role": "partner"},
        {"role": "partner", "partnerId": ""},
        {"role": "partner", "partnerId": "__acme__"},
        {"role": "partner", "partnerId": "acme/other"},
        {"role": "partner", "partnerId": 7},
        {"role": "partner", "partnerId": "acme", "scopes": "entries:read"},
    ],
)
def test_caller_from_claims_forbids_non_partners(claims: dict[str, Any]) -> None:
    with pytest.raises(Forbidden):
        caller_from_claims({"uid": "u1", **claims})


def test_caller_from_claims_defaults_to_all_scopes_and_drops_unknown_ones() -> None:
    caller = caller_from_claims({"uid": "u1", "role": "partner", "partnerId": "acme"})
    assert (caller.uid, caller.partner_id, caller.scopes) == ("u1", "acme", known_scopes())
    narrowed = caller_from_claims(
        {"uid": "u1", "role": "partner", "partnerId": "acme", "scopes": ["entries:read", "x"]}
    )
    assert narrowed.scopes == {"entries:read"}
    with pytest.raises(Forbidden) as caught:
        require_scopes(narrowed, frozenset({"entries:write"}))
    assert 'error="insufficient_scope"' in caught.value.headers()["WWW-Authenticate"]
    assert 'scope="entries:write"' in caught.value.headers()["WWW-Authenticate"]


@pytest.mark.parametrize(
    "partner_id",
    [
        "hG7s9KqLm2Pq8RtW3xYz",
        "Acme",
        "acme",
        "3f2c1b9e-7d4a-4e3b-9c1d-2a6b8e0f4c7d",
        "_x",
        "a" * 128,
    ],
)
def test_a_partner_id_is_any_tenant_id_an_app_already_has(partner_id: str) -> None:
    """Auto-ids, UUIDs and slugs, each case its own partner: `acme` and `Acme` are two."""
    merged = merged_grant({}, partner_id, None, move=False)
    assert merged["partnerId"] == partner_id
    caller = caller_from_claims({"uid": "u1", "role": "partner", "partnerId": partner_id})
    assert caller.partner_id == partner_id


def test_merged_grant_keeps_other_claims_and_replaces_partner_ones() -> None:
    merged = merged_grant(
        {"tier": "gold", "partnerId": "acme", "role": "x"}, "acme", None, move=False
    )
    assert merged == {"tier": "gold", "role": "partner", "partnerId": "acme"}


@pytest.mark.parametrize(
    ("existing", "partner_id", "scopes", "message"),
    [
        ({}, "", None, "malformed"),
        ({}, "a" * 129, None, "malformed"),
        ({}, "__acme__", None, "malformed"),
        ({}, "acme.co", None, "malformed"),
        ({}, "acme/x", None, "malformed"),
        ({}, "acmé", None, "malformed"),
        ({"partnerId": "globex"}, "acme", None, "--move"),
        ({}, "acme", ["entries:delete"], "unknown scopes"),
        ({}, "acme", [], "at least one scope"),
        ({"notes": "x" * 990}, "acme", None, "Firebase allows 1000"),
        ({"owner": True}, "acme", None, "is an owner of this app"),
    ],
)
def test_merged_grant_refuses(
    existing: dict[str, Any], partner_id: str, scopes: list[str] | None, message: str
) -> None:
    with pytest.raises(Refused, match=message):
        merged_grant(existing, partner_id, scopes, move=False)


def test_merged_revoke_removes_only_partner_claims_and_refuses_non_partners() -> None:
    assert merged_revoke({"role": "partner", "partnerId": "acme", "tier": "gold"}) == {
        "tier": "gold"
    }
    with pytest.raises(Refused, match="not a partner"):
        merged_revoke({"tier": "gold"})


# --- claims read exactly as the rules read them ---------------------------------------------


@pytest.mark.parametrize("partner_id", ["acme\n", "acme\r", " acme", "acme ", "ac\nme"])
def test_a_partner_id_must_match_in_full(partner_id: str) -> None:
    with pytest.raises(Forbidden):
        caller_from_claims({"uid": "u1", "role": "partner", "partnerId": partner_id})
    with pytest.raises(Refused, match="malformed"):
        merged_grant({}, partner_id, None, move=False)


@pytest.mark.parametrize("scopes", [None, "entries:read", 7, {"entries:read": True}])
def test_a_present_scopes_claim_that_is_not_a_list_grants_nothing(scopes: Any) -> None:
    """The rules grant a scope only if `scopes` is absent or a list holding it."""
    with pytest.raises(Forbidden):
        caller_from_claims({"uid": "u1", "role": "partner", "partnerId": "acme", "scopes": scopes})


def test_non_string_scopes_in_the_list_are_ignored_as_by_the_rules() -> None:
    caller = caller_from_claims(
        {"uid": "u1", "role": "partner", "partnerId": "acme", "scopes": [1, None, "entries:read"]}
    )
    assert caller.scopes == {"entries:read"}


def test_the_user_records_partner_claims_replace_the_tokens() -> None:
    token = {"uid": "u1", "iat": 1, "role": "partner", "partnerId": "acme", "scopes": ["x"]}
    assert current_claims(token, {"role": "partner", "partnerId": "globex", "tier": "gold"}) == {
        "uid": "u1",
        "iat": 1,
        "role": "partner",
        "partnerId": "globex",
    }
    assert current_claims(token, {}) == {"uid": "u1", "iat": 1}


# --- grant never widens silently ---------------------------------------------------------


def test_grant_without_scopes_keeps_the_scopes_a_user_holds() -> None:
    reader = {"role": "partner", "partnerId": "acme", "scopes": ["entries:read"]}
    assert merged_grant(reader, "acme", None, move=False)["scopes"] == ["entries:read"]
    widened = merged_grant(reader, "acme", ["entries:read", "entries:write"], move=False)
    assert widened["scopes"] == ["entries:read", "entries:write"]
    assert "scopes" not in merged_grant({}, "acme", None, move=False), "a new partner: all"


@pytest.mark.parametrize(
    ("before", "after", "narrows"),
    [
        ({}, {"role": "partner", "partnerId": "acme"}, False),
        (
            {"role": "partner", "partnerId": "acme", "scopes": ["entries:read"]},
            {"role": "partner", "partnerId": "acme"},
            False,
        ),
        (
            {"role": "partner", "partnerId": "acme"},
            {"role": "partner", "partnerId": "acme", "scopes": ["entries:read"]},
            True,
        ),
        (
            {"role": "partner", "partnerId": "acme"},
            {"role": "partner", "partnerId": "globex"},
            True,
        ),
        ({"role": "partner", "partnerId": "acme"}, {}, True),
    ],
)
def test_a_change_knows_when_it_takes_rights_away(
    before: dict[str, Any], after: dict[str, Any], narrows: bool
) -> None:
    change = Change(before, PartnerUser("u1", None, disabled=False, claims=after))
    assert change.narrows() is narrows
    assert change.as_json()["before"] == before


def test_the_cli_says_at_once_when_an_emulator_it_is_pointed_at_is_not_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from functions.cli import commands as cli
    from tests.helpers import closed_port

    port = closed_port()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{port}")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    started = time.monotonic()
    code = cli.main(["--project", "demo-x", "partner", "list"])
    elapsed = time.monotonic() - started
    assert code == 3
    assert elapsed < 5.0  # the SDK alone retried for minutes
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"error: the Firestore emulator at 127.0.0.1:{port} (FIRESTORE_EMULATOR_HOST) does not "
        "answer: start the emulators (`make serve`, or `firebase emulators:start`), or unset "
        "FIRESTORE_EMULATOR_HOST to use the real project"
    )


# --- the access record `sync-users` writes, by the account as Firebase Auth holds it -------

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
ACME = {"role": "partner", "partnerId": "acme"}


def _user(
    claims: dict[str, Any], *, disabled: bool = False, since: dt.datetime | None = None
) -> Any:
    return PartnerUser("u1", None, disabled=disabled, claims=claims, valid_since=since)


@pytest.mark.parametrize(
    ("user", "record", "expected"),
    [
        (None, None, None),  # no account, no record: nothing to close
        (_user({}), None, None),  # not a partner's user
        (_user(ACME), None, UserAccess("u1", "acme", EPOCH, False)),
        (_user(ACME, disabled=True), None, UserAccess("u1", "acme", EPOCH, True)),
        # revoked outside the tools: a millisecond before Firebase's whole second
        (
            _user(ACME, since=NOW),
            None,
            UserAccess("u1", "acme", NOW - dt.timedelta(milliseconds=1), False),
        ),
        # a later valid-after already recorded (a revoke by the tools) is kept
        (
            _user(ACME, since=NOW),
            UserAccess("u1", "acme", NOW + dt.timedelta(seconds=5), False),
            UserAccess("u1", "acme", NOW + dt.timedelta(seconds=5), False),
        ),
        # deleted: shut out, whatever the record said
        (None, UserAccess("u1", "acme", NOW, False), UserAccess("u1", None, NOW, True)),
        # claims removed outside the tools: no tenant
        (_user({}), UserAccess("u1", "acme", NOW, False), UserAccess("u1", None, NOW, False)),
        # moved outside the tools: the new tenant
        (
            _user({"role": "partner", "partnerId": "globex"}),
            UserAccess("u1", "acme", NOW, False),
            UserAccess("u1", "globex", NOW, False),
        ),
    ],
)
def test_synced_access_follows_the_account(
    user: PartnerUser | None, record: UserAccess | None, expected: UserAccess | None
) -> None:
    assert synced_access("u1", user, record) == expected
