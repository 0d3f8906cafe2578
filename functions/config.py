"""Settings, read from the environment when they are used (never at import time).

The Firebase CLI imports `main.py` to discover functions with no credentials and no
project variables, so nothing here may run before a request asks for it.
"""

from __future__ import annotations

import hashlib
import json
import os

from functions.errors import ConfigurationError
from functions.models import Limits

DEFAULT_ENTRIES_COLLECTION = "entries"
DEFAULT_IDEMPOTENCY_COLLECTION = "partnerIdempotencyKeys"
DEFAULT_API_KEYS_COLLECTION = "partnerKeys"
DEFAULT_PARTNERS_COLLECTION = "partners"
DEFAULT_AUDIT_COLLECTION = "partnerAudit"
DEFAULT_LIMITS_COLLECTION = "partnerLimits"
DEFAULT_AUDIT_RETENTION_DAYS = 400
DEFAULT_RATE_PER_S = 25.0
DEFAULT_BURST = 100
DEFAULT_DAILY_CREATES = 50_000
DEFAULT_IDEMPOTENCY_TTL_HOURS = 24
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_FIRESTORE_TIMEOUT_S = 10.0
DEFAULT_AUTH_TIMEOUT_S = 5.0
MAX_AUTH_TIMEOUT_S = 20.0
MAX_REVOCATION_MAX_AGE_S = 300.0


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def project_id() -> str:
    """The Firebase project: from the platform's variables or FIREBASE_CONFIG.

    Raises:
        ConfigurationError: no project is configured (a 500 that names no internals).
    """
    for name in ("GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT"):
        if value := _env(name):
            return value
    if raw := _env("FIREBASE_CONFIG"):
        try:
            value = json.loads(raw).get("projectId")
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, str) and value:
            return value
    raise ConfigurationError("no project id: set GCLOUD_PROJECT (or FIREBASE_CONFIG)")


def entries_collection(declared: str = DEFAULT_ENTRIES_COLLECTION) -> str:
    """The collection of the `entries` resource: as declared, unless ENTRIES_COLLECTION
    redirects it (the benchmark writes to a collection of its own)."""
    return _env("ENTRIES_COLLECTION") or declared


def api_keys_collection() -> str:
    return _env("API_KEYS_COLLECTION") or DEFAULT_API_KEYS_COLLECTION


def partners_collection() -> str:
    return _env("PARTNERS_COLLECTION") or DEFAULT_PARTNERS_COLLECTION


def audit_collection() -> str:
    return _env("AUDIT_COLLECTION") or DEFAULT_AUDIT_COLLECTION


def limits_collection() -> str:
    """Where the shared state of rate limits and quotas lives (one document per bucket)."""
    return _env("LIMITS_COLLECTION") or DEFAULT_LIMITS_COLLECTION


def audit_retention_days() -> int:
    return _int_env("AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, minimum=1)


def default_limits() -> Limits:
    """Every partner's limits unless its record overrides them: RATE_LIMIT_PER_S calls a
    second sustained, RATE_LIMIT_BURST at once, DAILY_CREATE_QUOTA creates a UTC day."""
    raw = _env("RATE_LIMIT_PER_S")
    try:
        rate = float(raw) if raw else DEFAULT_RATE_PER_S
    except ValueError as exc:
        raise ConfigurationError("RATE_LIMIT_PER_S must be a number") from exc
    if rate <= 0:
        raise ConfigurationError("RATE_LIMIT_PER_S must be above 0")
    return Limits(
        rate,
        _int_env("RATE_LIMIT_BURST", DEFAULT_BURST, minimum=1),
        _int_env("DAILY_CREATE_QUOTA", DEFAULT_DAILY_CREATES, minimum=0),
    )


def idempotency_collection() -> str:
    return _env("IDEMPOTENCY_COLLECTION") or DEFAULT_IDEMPOTENCY_COLLECTION


def idempotency_ttl_hours() -> int:
    return _int_env("IDEMPOTENCY_TTL_HOURS", DEFAULT_IDEMPOTENCY_TTL_HOURS, minimum=1)


def max_body_bytes() -> int:
    return _int_env("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1024)


def firestore_timeout_s() -> float:
    raw = _env("FIRESTORE_TIMEOUT_S")
    try:
        return max(0.5, float(raw)) if raw else DEFAULT_FIRESTORE_TIMEOUT_S
    except ValueError as exc:
        raise ConfigurationError("FIRESTORE_TIMEOUT_S must be a number of seconds") from exc


def auth_timeout_s() -> float:
    """How long a call may wait on the auth backend (a user lookup, the signing keys)
    before it is answered 503; well under the functions' 30 s timeout."""
    raw = _env("AUTH_TIMEOUT_S")
    try:
        value = float(raw) if raw else DEFAULT_AUTH_TIMEOUT_S
    except ValueError as exc:
        raise ConfigurationError("AUTH_TIMEOUT_S must be a number of seconds") from exc
    if not 0.5 <= value <= MAX_AUTH_TIMEOUT_S:
        raise ConfigurationError(f"AUTH_TIMEOUT_S must be between 0.5 and {MAX_AUTH_TIMEOUT_S:g}")
    return value


def cors_origins() -> frozenset[str]:
    """Origins allowed to call from a browser; empty (CORS off) unless configured."""
    raw = _env("CORS_ALLOWED_ORIGINS") or ""
    return frozenset(origin.strip() for origin in raw.split(",") if origin.strip())


DEPLOYED_RUNTIME_MARKERS = ("K_SERVICE", "K_REVISION", "FUNCTION_TARGET", "CLOUD_RUN_JOB")
"""Variables that Cloud Functions and Cloud Run set in every deployed instance."""


def local_overrides_allowed() -> bool:
    """Whether emulator mode and test hooks may apply: only in a `demo-` project (which
    exists nowhere but on the emulators) or outside a deployed runtime."""
    if project_id().startswith("demo-"):
        return True
    return not any(_env(name) for name in DEPLOYED_RUNTIME_MARKERS)


def _local_only(name: str) -> str | None:
    """A variable that weakens verification, refused in a deployed function.

    Raises:
        ConfigurationError: it is set where local overrides are not allowed; the function
            then refuses to serve rather than trust what it did not verify.
    """
    value = _env(name)
    if value and not local_overrides_allowed():
        raise ConfigurationError(
            f"{name} is set in a deployed function of project {project_id()}: refusing to "
            "serve. It applies only to demo- projects and local runs; remove it."
        )
    return value


def auth_emulator_host() -> str | None:
    """Set only under the Auth emulator; firebase-admin then skips signature checks."""
    return _local_only("FIREBASE_AUTH_EMULATOR_HOST")


def firestore_emulator_host() -> str | None:
    """Read by google-cloud-firestore itself; here only to key the client cache."""
    return _env("FIRESTORE_EMULATOR_HOST")


def check_revoked() -> bool:
    """Whether every request checks for revoked sessions and disabled users (default on)."""
    return (_env("AUTH_CHECK_REVOKED") or "true").lower() not in {"0", "false", "no", "off"}


def revocation_max_age_s() -> float:
    """How old a user lookup may be when it decides that a session is still valid.

    0 (the default): only a lookup that started after the request arrived, so the very
    next call after a revoke or a disable is refused. Above 0, a revoke can take up to
    that many seconds to reach a server instance, in exchange for fewer lookups.
    """
    raw = _env("AUTH_REVOCATION_MAX_AGE_S")
    try:
        value = float(raw) if raw else 0.0
    except ValueError as exc:
        raise ConfigurationError("AUTH_REVOCATION_MAX_AGE_S must be a number of seconds") from exc
    if not 0 <= value <= MAX_REVOCATION_MAX_AGE_S:
        raise ConfigurationError(
            f"AUTH_REVOCATION_MAX_AGE_S must be between 0 and {MAX_REVOCATION_MAX_AGE_S:g}"
        )
    return value


def id_token_certs_url() -> str | None:
    """Where to fetch the public keys of ID tokens, when not Google's: a test hook for
    offline signature checks, refused in a deployed function."""
    return _local_only("ID_TOKEN_CERTS_URL")


def cursor_key() -> bytes:
    """The key that signs pagination cursors: CURSOR_SECRET, a secret the deploy holds.

    Only a `demo-` project (which exists nowhere but on the emulators) may do without it:
    its key is derived from the project id, so anyone who knows the scheme can forge its
    cursors. Even a forged cursor only moves within the caller's own data (every query is
    scoped to the caller's tenant).

    Raises:
        ConfigurationError: a real project without CURSOR_SECRET.
    """
    secret = _env("CURSOR_SECRET")
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    project = project_id()
    if not project.startswith("demo-"):
        raise ConfigurationError(
            "CURSOR_SECRET is not set: run `firebase functions:secrets:set CURSOR_SECRET` "
            "and deploy again"
        )
    return hashlib.sha256(f"partner-api-cursor:{project}".encode()).digest()


def _int_env(name: str, default: int, *, minimum: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number") from exc
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}")
    return value
