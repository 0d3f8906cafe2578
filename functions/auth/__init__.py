"""Who is calling: credentials in, a typed partner caller out.

`gate` tries a list of authenticators (`api_key_auth` for partner API keys, `id_tokens`
for Firebase ID tokens);
`callers` holds the caller type and the claim and scope rules; `sessions` shares the user
lookups of the session check; `owner_sessions` signs owners in to the console. They raise
Unauthorized (401: we cannot tell who you are) or Forbidden (403: we know you, and you may
not); turning those into responses is the HTTP layer's job.
"""

from functions.auth.callers import (
    Caller,
    caller_from_claims,
    known_scopes,
    require_scopes,
)
from functions.auth.gate import (
    Authenticator,
    authenticate,
    claimed_identity,
    default_authenticators,
)
from functions.auth.id_tokens import partner_of_user

__all__ = [
    "Authenticator",
    "Caller",
    "authenticate",
    "caller_from_claims",
    "claimed_identity",
    "default_authenticators",
    "known_scopes",
    "partner_of_user",
    "require_scopes",
]
