"""Settings, read from the environment when they are used (never at import time).

The Firebase CLI imports `main.py` to discover functions with no credentials and no
project variables, so nothing here may run before a request asks for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.core import logs
from functions.core.errors import ConfigurationError
from functions.core.models import LIMIT_BOUNDS, Limits, is_document_id, limit_in_range

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The folder main.py sits in: the functions codebase's source."""
OWNER_FOLDER = PACKAGE_ROOT / "owner"
"""An adopted app's own files (its declaration, its endpoints), which `make adopt` starts
and an upgrade of the package never touches; absent in this repository."""

LIVE_DATABASE = "(default)"
"""Where live credentials' calls go, and the directory of partners, keys and users."""
TEST_DATABASE = "sandbox"
"""Test mode's database: `pak_test_` keys and test users reach it, and only it."""
DATABASES = (LIVE_DATABASE, TEST_DATABASE)
MODES = {"live": LIVE_DATABASE, "test": TEST_DATABASE}
"""Each mode's database."""
DEFAULT_IDEMPOTENCY_COLLECTION = "partnerIdempotencyKeys"
DEFAULT_API_KEYS_COLLECTION = "partnerKeys"
DEFAULT_PARTNERS_COLLECTION = "partners"
DEFAULT_PARTNER_USERS_COLLECTION = "partnerUsers"
DEFAULT_AUDIT_COLLECTION = "partnerAudit"
DEFAULT_LIMITS_COLLECTION = "partnerLimits"
DEFAULT_EVENTS_COLLECTION = "partnerEvents"
DEFAULT_EVENTS_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500
MAX_REQUEST_BYTES = 32 * 1024 * 1024
"""Cloud Functions (2nd gen) takes requests of at most 32 MiB."""
DEFAULT_WEBHOOKS_COLLECTION = "partnerWebhookEndpoints"
DEFAULT_DELIVERIES_COLLECTION = "partnerWebhookDeliveries"
DEFAULT_IN_FLIGHT_COLLECTION = "partnerWebhookInFlight"
DEFAULT_USAGE_COLLECTION = "partnerUsage"
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


DEFAULT_REGION = "us-central1"
REGION_FORM = re.compile(r"[a-z]+-[a-z]+[1-9][0-9]?")


def functions_region() -> str:
    """FUNCTIONS_REGION: where every function, trigger and task queue runs (default
    us-central1). main.py reads it when it is loaded: the Firebase CLI reads the codebase's
    `.env` files before it loads main.py to discover the functions, and sets them on each
    deployed function, so the same value places them and builds their URLs.

    Raises: ConfigurationError for a value that is not a region's name.
    """
    value = _env("FUNCTIONS_REGION") or DEFAULT_REGION
    if not REGION_FORM.fullmatch(value):
        raise ConfigurationError(
            f"FUNCTIONS_REGION: {value!r} is not a Cloud Functions region such as "
            f"{DEFAULT_REGION} or europe-west1"
        )
    return value


@dataclass(frozen=True)
class Capacity:
    """What each partner function's instance gets, and how many of them (README, Deploying:
    capacity). The defaults come from `make capacity`: at 80 requests at once one instance
    peaked at 187 MiB, so 256 MB holds it; THREADS follows `concurrency` (main.py)."""

    memory_mb: int = 256
    cpu: float = 1
    concurrency: int = 80
    min_instances: int = 0
    max_instances: int = 20


CAPACITY_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PARTNER_MEMORY_MB": ("memory_mb", int),
    "PARTNER_CPU": ("cpu", float),
    "PARTNER_CONCURRENCY": ("concurrency", int),
    "PARTNER_MIN_INSTANCES": ("min_instances", int),
    "PARTNER_MAX_INSTANCES": ("max_instances", int),
}
MEMORY_SIZES_MB = (256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


def partner_capacity() -> Capacity:
    """The partner functions' capacity: PARTNER_MEMORY_MB, PARTNER_CPU,
    PARTNER_CONCURRENCY, PARTNER_MIN_INSTANCES and PARTNER_MAX_INSTANCES, each defaulting
    to `Capacity`'s. Read when main.py loads, as FUNCTIONS_REGION is.

    Raises: ConfigurationError naming the setting, for a value Cloud Run would refuse.
    """
    values: dict[str, Any] = {}
    for name, (field, parse) in CAPACITY_SETTINGS.items():
        raw = _env(name)
        if raw is None:
            continue
        try:
            values[field] = parse(raw)
        except ValueError:
            raise ConfigurationError(f"{name}: {raw!r} is not a number") from None
    capacity = Capacity(**values)
    problems = []
    if capacity.memory_mb not in MEMORY_SIZES_MB:
        problems.append(f"PARTNER_MEMORY_MB: one of {', '.join(map(str, MEMORY_SIZES_MB))}")
    if not (0.08 <= capacity.cpu <= 1 or capacity.cpu in (2, 4, 6, 8)):
        problems.append("PARTNER_CPU: 0.08 to 1, or 2, 4, 6 or 8")
    if not 1 <= capacity.concurrency <= 1000 or (capacity.concurrency > 1 and capacity.cpu < 1):
        problems.append("PARTNER_CONCURRENCY: 1 to 1000, and 1 below 1 CPU")
    if not 0 <= capacity.min_instances <= capacity.max_instances <= 1000:
        problems.append("PARTNER_MIN_INSTANCES and PARTNER_MAX_INSTANCES: 0 <= min <= max <= 1000")
    if problems:
        raise ConfigurationError("; ".join(problems))
    return capacity


OWN_COLLECTIONS: dict[str, str] = {
    "API_KEYS_COLLECTION": DEFAULT_API_KEYS_COLLECTION,
    "PARTNERS_COLLECTION": DEFAULT_PARTNERS_COLLECTION,
    "PARTNER_USERS_COLLECTION": DEFAULT_PARTNER_USERS_COLLECTION,
    "AUDIT_COLLECTION": DEFAULT_AUDIT_COLLECTION,
    "LIMITS_COLLECTION": DEFAULT_LIMITS_COLLECTION,
    "IDEMPOTENCY_COLLECTION": DEFAULT_IDEMPOTENCY_COLLECTION,
    "EVENTS_COLLECTION": DEFAULT_EVENTS_COLLECTION,
    "WEBHOOKS_COLLECTION": DEFAULT_WEBHOOKS_COLLECTION,
    "DELIVERIES_COLLECTION": DEFAULT_DELIVERIES_COLLECTION,
    "IN_FLIGHT_COLLECTION": DEFAULT_IN_FLIGHT_COLLECTION,
    "USAGE_COLLECTION": DEFAULT_USAGE_COLLECTION,
}
"""The one list of the package's own collections: each setting and its default."""
OWN_COLLECTION_SETTINGS = frozenset(OWN_COLLECTIONS)
"""The package's own collections' settings, which no resource's override may shadow."""


def own_collections() -> frozenset[str]:
    """Every collection the package keeps for itself: the defaults, and where a
    `*_COLLECTION` setting moves one, the place it moves to (no resource may be declared
    on either: partners would reach the package's keys, events or limits)."""
    moved = {_env(setting) for setting in OWN_COLLECTIONS}
    return frozenset(OWN_COLLECTIONS.values()) | {name for name in moved if name}


def collection_setting(resource_name: str) -> str | None:
    """The variable that moves a resource's collection (`menus` -> MENUS_COLLECTION), or
    None when it would be one of the package's own settings."""
    name = resource_name.upper().replace("-", "_") + "_COLLECTION"
    return None if name in OWN_COLLECTION_SETTINGS else name


def resource_collection(resource_name: str, declared: str) -> str:
    """A resource's collection: as declared, unless `<NAME>_COLLECTION` moves it (the
    benchmark writes entries to a collection of its own; the rules keep the declared one)."""
    setting = collection_setting(resource_name)
    return (_collection_env(setting) if setting else None) or declared


def _collection_env(name: str) -> str | None:
    """A collection setting, or None when unset.

    Raises:
        ConfigurationError: the value is not a collection id Firestore accepts (1 to 1,500
            bytes, no slash, not `.` or `..`, not `__x__`): every call would fail alike.
    """
    value = _env(name)
    if value is not None and not is_document_id(value):
        raise ConfigurationError(f"{name} must be a collection id (no slash, 1 to 1500 bytes)")
    return value


def api_keys_collection() -> str:
    return _collection_env("API_KEYS_COLLECTION") or DEFAULT_API_KEYS_COLLECTION


def partners_collection() -> str:
    return _collection_env("PARTNERS_COLLECTION") or DEFAULT_PARTNERS_COLLECTION


def partner_users_collection() -> str:
    """Where each partner user's current access is kept for the rules (`partnerUsers/{uid}`:
    tenant, valid-after time, disabled), beside the claims in their tokens."""
    return _collection_env("PARTNER_USERS_COLLECTION") or DEFAULT_PARTNER_USERS_COLLECTION


def audit_collection() -> str:
    return _collection_env("AUDIT_COLLECTION") or DEFAULT_AUDIT_COLLECTION


def limits_collection() -> str:
    """Where the shared state of rate limits and quotas lives (one document per bucket)."""
    return _collection_env("LIMITS_COLLECTION") or DEFAULT_LIMITS_COLLECTION


def events_collection() -> str:
    """Where the change events of partners' records are kept (readable through the API)."""
    return _collection_env("EVENTS_COLLECTION") or DEFAULT_EVENTS_COLLECTION


def webhooks_collection() -> str:
    """Where partners' webhook endpoints (and their signing secrets) are kept."""
    return _collection_env("WEBHOOKS_COLLECTION") or DEFAULT_WEBHOOKS_COLLECTION


def deliveries_collection() -> str:
    """Where every delivery of an event to an endpoint is recorded, attempt by attempt."""
    return _collection_env("DELIVERIES_COLLECTION") or DEFAULT_DELIVERIES_COLLECTION


def in_flight_collection() -> str:
    """Where each first-lane delivery attempt under way is marked, so that one endpoint
    never holds more than a few of the lane's slots."""
    return _collection_env("IN_FLIGHT_COLLECTION") or DEFAULT_IN_FLIGHT_COLLECTION


def console_api_key() -> str | None:
    """The project's Web API key (public, as in every web app's config): the console signs
    owners in with it. Not needed under the Auth emulator."""
    return _env("CONSOLE_API_KEY")


def usage_collection() -> str:
    """Where each partner's calls are counted, a document a day."""
    return _collection_env("USAGE_COLLECTION") or DEFAULT_USAGE_COLLECTION


def usage_flush_seconds() -> int:
    """How long an instance keeps its usage counts before writing them (it also writes
    once it holds USAGE_FLUSH_CALLS calls).

    Raises: ConfigurationError."""
    return _int_env("USAGE_FLUSH_SECONDS", 30, minimum=1, maximum=3600)


def events_retention_days() -> int:
    """How long an event is kept: EVENTS_RETENTION_DAYS (a TTL policy on `expiresAt`)."""
    return _int_env(
        "EVENTS_RETENTION_DAYS",
        DEFAULT_EVENTS_RETENTION_DAYS,
        minimum=1,
        maximum=MAX_RETENTION_DAYS,
    )


def audit_retention_days() -> int:
    return _int_env(
        "AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS, minimum=1, maximum=MAX_RETENTION_DAYS
    )


def default_limits() -> Limits:
    """Every partner's limits unless its record overrides them: RATE_LIMIT_PER_S calls a
    second sustained, RATE_LIMIT_BURST at once, DAILY_CREATE_QUOTA creates a UTC day. A
    value that is not a number in range is ignored (the default applies), logged once."""
    return Limits(
        float(_limit_env("RATE_LIMIT_PER_S", "ratePerSecond", DEFAULT_RATE_PER_S, float)),
        int(_limit_env("RATE_LIMIT_BURST", "burst", DEFAULT_BURST, int)),
        int(_limit_env("DAILY_CREATE_QUOTA", "dailyCreates", DEFAULT_DAILY_CREATES, int)),
    )


_reported_limits: set[tuple[str, str]] = set()


def _limit_env(name: str, key: str, default: float, parse: Callable[[str], Any]) -> Any:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is not None and limit_in_range(key, value):
        return value
    if (name, raw) not in _reported_limits:
        _reported_limits.add((name, raw))
        logs.log(
            "WARNING",
            f"{name}={raw!r} is not {LIMIT_BOUNDS[key]}; the default {default:g} applies",
            code="limits_setting_invalid",
        )
    return default


def idempotency_collection() -> str:
    return _collection_env("IDEMPOTENCY_COLLECTION") or DEFAULT_IDEMPOTENCY_COLLECTION


def idempotency_ttl_hours() -> int:
    return _int_env(
        "IDEMPOTENCY_TTL_HOURS", DEFAULT_IDEMPOTENCY_TTL_HOURS, minimum=1, maximum=24 * 366
    )


def max_body_bytes() -> int:
    return _int_env(
        "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1024, maximum=MAX_REQUEST_BYTES
    )


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


def tasks_emulator_host() -> str | None:
    """The Cloud Tasks emulator firebase-admin enqueues to (CLOUD_TASKS_EMULATOR_HOST)."""
    return _env("CLOUD_TASKS_EMULATOR_HOST") or None


def is_demo_project() -> bool:
    """A `demo-` project exists nowhere but on the emulators."""
    return project_id().startswith("demo-")


def local_overrides_allowed() -> bool:
    """Whether emulator mode and test hooks may apply: only in a `demo-` project (which
    exists nowhere but on the emulators) or outside a deployed runtime."""
    if project_id().startswith("demo-"):
        return True
    return not any(_env(name) for name in DEPLOYED_RUNTIME_MARKERS)


LOCAL_ONLY_VARIABLES = (
    "FIREBASE_AUTH_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "CLOUD_TASKS_EMULATOR_HOST",
    "ID_TOKEN_CERTS_URL",
)
"""Variables that point the SDKs at emulators or weaken verification: never in a deployed
function of a real project."""


def _set_as_the_sdks_read_it(name: str) -> bool:
    # firebase-admin (`_auth_utils.is_emulated`) and google-cloud-firestore treat any
    # non-empty raw value as set, whitespace included: so must the guard.
    return os.environ.get(name, "") != ""


def check_local_only() -> None:
    """Refuse to serve any partner call where a local-only variable is set in a deployed
    function of a real project, API keys included.

    Raises:
        ConfigurationError: naming the variable (logged, never sent).
    """
    for name in LOCAL_ONLY_VARIABLES:
        if _set_as_the_sdks_read_it(name) and not local_overrides_allowed():
            raise ConfigurationError(
                f"{name} is set in a deployed function of project {project_id()}: refusing "
                "to serve. It applies only to demo- projects and local runs; remove it."
            )


def _local_only(name: str) -> str | None:
    """A variable that weakens verification, refused in a deployed function.

    Raises:
        ConfigurationError: it is set where local overrides are not allowed; the function
            then refuses to serve rather than trust what it did not verify.
    """
    check_local_only()
    return _env(name)


def auth_emulator_host() -> str | None:
    """Set only under the Auth emulator; firebase-admin then skips signature checks."""
    return _local_only("FIREBASE_AUTH_EMULATOR_HOST")


def firestore_emulator_host() -> str | None:
    """Read by google-cloud-firestore itself; here only to key the client cache."""
    return _env("FIRESTORE_EMULATOR_HOST")


def firestore_fast_path() -> bool:
    """Whether the store makes its hot calls as plain protobuf messages (`store.wire`,
    default on; it still falls back by itself when the installed SDK is not the one it
    was written against), or all of them through the SDK's public API (`false`, `0`,
    `no`, `off`). Any other value keeps the default, as AUTH_CHECK_REVOKED does: a typo
    never stops the functions, and either path serves every call."""
    return (_env("FIRESTORE_FAST_PATH") or "true").lower() not in {"0", "false", "no", "off"}


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


def _int_env(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """A whole-number setting, within its bounds (a value past them would overflow the
    dates and sizes made from it).

    Raises: ConfigurationError naming the variable and its range."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number") from exc
    if not minimum <= value <= maximum:
        raise ConfigurationError(f"{name} must be {minimum} to {maximum}")
    return value
