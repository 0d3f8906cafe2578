"""The partner caller and the claims that make one: role, partner id and scopes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from functions.errors import Forbidden

PARTNER_ROLE = "partner"
ROLE_CLAIM = "role"
PARTNER_ID_CLAIM = "partnerId"
SCOPES_CLAIM = "scopes"
SCOPE_READ = "entries:read"
SCOPE_WRITE = "entries:write"
ALL_SCOPES = frozenset({SCOPE_READ, SCOPE_WRITE})
PARTNER_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""Partner ids: lowercase letters, digits and inner hyphens, 1 to 63 characters."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified partner: the only identity the domain ever sees."""

    uid: str
    partner_id: str
    scopes: frozenset[str]
    claims: Mapping[str, Any]


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The partner behind verified claims.

    Raises:
        Forbidden: the user is not a partner, or carries no valid partner id or scopes.
    """
    if claims.get(ROLE_CLAIM) != PARTNER_ROLE:
        raise Forbidden("This user does not have the partner role.")
    partner_id = claims.get(PARTNER_ID_CLAIM)
    if not isinstance(partner_id, str) or not PARTNER_ID_PATTERN.match(partner_id):
        raise Forbidden("This partner user is not assigned to a partner.")
    raw_scopes = claims.get(SCOPES_CLAIM)
    if raw_scopes is None:
        scopes = ALL_SCOPES
    elif isinstance(raw_scopes, list) and all(isinstance(s, str) for s in raw_scopes):
        scopes = frozenset(raw_scopes) & ALL_SCOPES
    else:
        raise Forbidden("This partner user's scopes are malformed.")
    return Caller(uid=str(claims["uid"]), partner_id=partner_id, scopes=scopes, claims=claims)


def require_scopes(caller: Caller, scopes: frozenset[str]) -> None:
    """Raises: Forbidden when the caller lacks one of `scopes`."""
    missing = sorted(scopes - caller.scopes)
    if missing:
        raise Forbidden(
            f"This partner user lacks the scope(s): {', '.join(missing)}.",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="partner-api", error="insufficient_scope", '
                    f'scope="{" ".join(missing)}"'
                )
            },
        )
