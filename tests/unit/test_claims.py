"""The claims that make a partner caller, the scope check, and the partners CLI's merges."""

from __future__ import annotations

from typing import Any

import pytest

from functions.admin.partners import Refused, merged_grant, merged_revoke
from functions.auth import ALL_SCOPES, caller_from_claims, require_scopes
from functions.errors import Forbidden


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"role": "admin", "partnerId": "acme"},
        {"role": "partner"},
        {"role": "partner", "partnerId": ""},
        {"role": "partner", "partnerId": "ACME"},
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
    assert (caller.uid, caller.partner_id, caller.scopes) == ("u1", "acme", ALL_SCOPES)
    narrowed = caller_from_claims(
        {"uid": "u1", "role": "partner", "partnerId": "acme", "scopes": ["entries:read", "x"]}
    )
    assert narrowed.scopes == {"entries:read"}
    with pytest.raises(Forbidden) as caught:
        require_scopes(narrowed, frozenset({"entries:write"}))
    assert 'error="insufficient_scope"' in caught.value.headers()["WWW-Authenticate"]
    assert 'scope="entries:write"' in caught.value.headers()["WWW-Authenticate"]


def test_merged_grant_keeps_other_claims_and_replaces_partner_ones() -> None:
    merged = merged_grant({"tier": "gold", "scopes": ["entries:read"]}, "acme", None, move=False)
    assert merged == {"tier": "gold", "role": "partner", "partnerId": "acme"}


@pytest.mark.parametrize(
    ("existing", "partner_id", "scopes", "message"),
    [
        ({}, "Acme", None, "malformed"),
        ({}, "", None, "malformed"),
        ({}, "-acme", None, "malformed"),
        ({}, "a" * 64, None, "malformed"),
        ({"partnerId": "globex"}, "acme", None, "--move"),
        ({}, "acme", ["entries:delete"], "unknown scopes"),
        ({}, "acme", [], "at least one scope"),
        ({"notes": "x" * 990}, "acme", None, "Firebase allows 1000"),
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
