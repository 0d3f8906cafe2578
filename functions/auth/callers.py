"""The partner caller and the claims that make one: role, partner id and scopes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from functions.contract import catalog
from functions.core.errors import Forbidden
from functions.core.models import PartnerRecord
from functions.resources import declaration

PARTNER_ROLE = "partner"
ROLE_CLAIM = "role"
OWNER_CLAIM = "owner"
"""`owner: true` lets a user into the console (never a partner's user)."""
PARTNER_ID_CLAIM = "partnerId"
SCOPES_CLAIM = "scopes"
MODE_CLAIM = "mode"
"""`mode: "test"` makes a partner user a test user: its calls reach test mode's database."""
PARTNER_ID_PATTERN = re.compile(r"(?!__.*__\Z)[A-Za-z0-9_-]{1,128}")
"""Partner ids are the tenant ids an app already has, in any shape its documents use:
Firestore auto-ids (`hG7s9KqLm2Pq8RtW3xYz`), UUIDs, slugs. Letters of both cases (`acme`
and `Acme` are two partners), digits, `-` and `_`, 1 to 128 characters, never of
Firestore's reserved form `__x__` (matched in full, as the rules' `matches` does)."""
PARTNER_ID_FORM = "1 to 128 letters, digits, - and _ (never __x__)"
"""What a partner id is, in the words every refusal uses."""
PARTNER_CLAIMS = (ROLE_CLAIM, PARTNER_ID_CLAIM, SCOPES_CLAIM, MODE_CLAIM)


def known_scopes() -> frozenset[str]:
    """Every scope the package knows: each declared resource's read and write scope, and
    every scope the owner's own endpoints need."""
    return declaration.current().scopes() | catalog.scopes()


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified partner: the only identity the domain ever sees.

    `credential` says how it proved itself (a user's ID token, or an API key) and
    `credential_id` names that credential (the user's uid, or the key id); `uid` is what
    records it (`createdBy`): the uid, or `key:<key id>`.
    """

    uid: str
    partner_id: str
    scopes: frozenset[str]
    claims: Mapping[str, Any]
    credential: Literal["user", "key"] = "user"
    credential_id: str = ""
    partner: PartnerRecord | None = None
    """The partner's record as read with this call's credential (None: not read)."""
    mode: str = "live"
    """`live` or `test`: the database the call reaches (a `pak_test_` key, or a user whose
    claims carry `mode: "test"`, reaches test mode's)."""


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The partner behind verified claims, read exactly as `firestore.rules` reads them.

    A partner without a `scopes` claim holds every scope; a `scopes` claim that is present
    but not a list (null included) grants none, as in the rules (`scope in scopes`).

    Raises:
        Forbidden: the user is not a partner, or carries no valid partner id or scopes.
    """
    if claims.get(ROLE_CLAIM) != PARTNER_ROLE:
        raise Forbidden("This user does not have the partner role.", reason="not_partner")
    partner_id = claims.get(PARTNER_ID_CLAIM)
    if not isinstance(partner_id, str) or not PARTNER_ID_PATTERN.fullmatch(partner_id):
        raise Forbidden("This partner user is not assigned to a partner.", reason="no_partner_id")
    if SCOPES_CLAIM not in claims:
        scopes = known_scopes()
    elif isinstance(raw_scopes := claims[SCOPES_CLAIM], list):
        scopes = frozenset(s for s in raw_scopes if isinstance(s, str)) & known_scopes()
    else:
        raise Forbidden("This partner user's scopes are malformed.", reason="scopes_malformed")
    uid = str(claims["uid"])
    mode = "test" if claims.get(MODE_CLAIM) == "test" else "live"
    return Caller(uid, partner_id, scopes, claims, credential="user", credential_id=uid, mode=mode)


def current_claims(
    token_claims: Mapping[str, Any], record_claims: Mapping[str, Any]
) -> dict[str, Any]:
    """The token's claims with the partner claims replaced by the user record's current ones,
    so that a move, a downgrade or a revoke applies to the very next call."""
    merged = {k: v for k, v in token_claims.items() if k not in PARTNER_CLAIMS}
    merged.update({k: v for k, v in record_claims.items() if k in PARTNER_CLAIMS})
    return merged


def require_scopes(caller: Caller, scopes: frozenset[str]) -> None:
    """Raises: Forbidden when the caller lacks one of `scopes`."""
    missing = sorted(scopes - caller.scopes)
    if missing:
        holder = "API key" if caller.credential == "key" else "partner user"
        raise Forbidden(
            f"This {holder} lacks the scope(s): {', '.join(missing)}.",
            reason="insufficient_scope",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="partner-api", error="insufficient_scope", '
                    f'scope="{" ".join(missing)}"'
                )
            },
        )
