"""Domain values shared by every declared resource: records, drafts, list positions.

The patterns here are the building blocks of the field kinds (`functions.resources.kinds`),
written in the subset of regular-expression syntax that both Python and Firestore rules
(RE2) accept, so the generated rules validate with the same ones.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

AMOUNT_PATTERN: Final = r"^-?(0|[1-9][0-9]{0,14})([.][0-9]{1,2})?$"
NEGATIVE_ZERO_PATTERN: Final = r"^-0([.]0+)?$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
DATE_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
Ranges = tuple[tuple[int, int], ...]

TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
"""Printable text: no control characters other than tab and newline."""
BIDI_CONTROLS: Final[Ranges] = ((0x202A, 0x202E), (0x2066, 0x2069))
"""Embeddings, overrides and isolates: they reorder what follows them on the line, so a
single-line text (a name, a reference) could show something else than it holds."""
BLANK_RANGES: Final[Ranges] = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0xAD, 0xAD),
    (0x34F, 0x34F),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x115F, 0x1160),
    (0x1680, 0x1680),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2000, 0x200F),
    (0x2028, 0x202F),
    (0x205F, 0x206F),
    (0x2800, 0x2800),
    (0x3000, 0x3000),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
"""What counts as blank: every character Python's `str.isspace` accepts, every
default-ignorable code point and format character of Unicode 15.1 (zero-width, joiners,
soft hyphen, bidirectional and other format controls, fillers, variation selectors, tags),
and the blank-looking U+2800 BRAILLE PATTERN BLANK. Text made only of these is refused, by
the model and by the rules alike (the rules' `trim()` only strips ASCII)."""


def char_class(ranges: Ranges, syntax: str, *, negated: bool = False, head: str = "") -> str:
    """A character class of `ranges` in one regular-expression syntax: "python" (`\\u`,
    `\\U` escapes), "re2" (`\\x{...}`, as the rules write it) or "json" (escapes within
    the Basic Multilingual Plane, the characters themselves beyond it, which JSON Schema's
    ECMA-262 dialect and Python read alike)."""

    def one(code: int) -> str:
        if syntax == "re2":
            return f"\\x{{{code:x}}}"
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        return f"\\U{code:08x}" if syntax == "python" else chr(code)

    parts = "".join(one(low) if low == high else f"{one(low)}-{one(high)}" for low, high in ranges)
    return f"[{'^' if negated else ''}{head}{parts}]"


LABEL_PATTERN: Final = (
    "^" + char_class(BIDI_CONTROLS, "python", negated=True, head=r"\x00-\x1f\x7f") + "*$"
)
"""Single-line text: no control characters at all, no bidirectional controls."""
LABEL_PATTERN_RE2: Final = (
    "^" + char_class(BIDI_CONTROLS, "re2", negated=True, head=r"\x00-\x1f\x7f") + "*$"
)
"""The same, in RE2's syntax, as `firestore.rules` writes it."""
BLANK_PATTERN: Final = "^" + char_class(BLANK_RANGES, "python") + "*$"
"""Blank text, in Python's syntax."""
BLANK_PATTERN_RE2: Final = "^" + char_class(BLANK_RANGES, "re2") + "*$"
"""The same, in RE2's syntax, as `firestore.rules` writes it."""
MAX_DOCUMENT_ID_BYTES = 1500


def is_document_id(value: str) -> bool:
    """Whether Firestore could hold a document with this id (any writer's, not only ours):
    1 to 1,500 bytes, no slash, not `.` or `..`, not of the reserved form `__x__`."""
    size = len(value.encode("utf-8", "surrogatepass"))
    return (
        0 < size <= MAX_DOCUMENT_ID_BYTES
        and "/" not in value
        and value not in (".", "..")
        and not (len(value) >= 4 and value.startswith("__") and value.endswith("__"))
    )


IDEMPOTENCY_KEY_PATTERN: Final = re.compile(r"[\x21-\x7e]{1,255}")
"""An Idempotency-Key: 1 to 255 printable ASCII characters, no spaces."""
ENTRY_ID_CHARS: Final = "[A-Za-z0-9_-]{1,128}"
"""The ids the API assigns and the rules let clients create."""
ENTRY_ID_PATTERN: Final = re.compile(rf"(?!__.*__\Z){ENTRY_ID_CHARS}")
"""The ids the API assigns and accepts (matched in full); Firestore reserves `__x__`."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated create body: the fields to store (optional ones absent, never null)."""

    fields: Mapping[str, Any]

    def stored_fields(self) -> dict[str, Any]:
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class FieldChanges:
    """A validated patch: the fields to set and the optional fields to clear."""

    sets: Mapping[str, Any]
    clears: tuple[str, ...] = ()

    def changes(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        return dict(self.sets), self.clears


@dataclass(frozen=True, slots=True)
class Revision:
    """What a change is based on: the record's version where its document holds one,
    otherwise the time Firestore last wrote the document (nanoseconds since the epoch).

    Either way a write by anyone in between (the owner's app included, for documents
    without a version) changes it, so a change based on an old revision is refused.
    """

    version: int | None = None
    written_ns: int | None = None

    def __post_init__(self) -> None:
        if (self.version is None) == (self.written_ns is None):
            raise ValueError("a revision is a version or a write time, exactly one")

    @classmethod
    def of_write(cls, moment: dt.datetime) -> Revision:
        """The revision of a document last written at `moment` (a Firestore update time,
        whose nanoseconds survive where it carries them)."""
        nanos = getattr(moment, "nanosecond", moment.microsecond * 1000)
        seconds = calendar.timegm(moment.utctimetuple())
        return cls(written_ns=seconds * 1_000_000_000 + nanos)


@dataclass(frozen=True, slots=True)
class Record:
    """A stored record as partners may read it: its values in wire order (hidden fields
    left out, optional and absent bookkeeping ones None) and its revision."""

    id: str
    values: Mapping[str, Any]
    revision: Revision

    @property
    def version(self) -> int | None:
        return self.revision.version


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends in the list order: the sort key of its last record.

    The order is the resource's order field (when it has one) then the document id, led
    by a range field when a list bounds one; `keys` are the values before the id. Records
    added during pagination never shift the pages already returned.
    """

    keys: tuple[Any, ...]
    doc_id: str

    def values(self) -> list[Any]:
        """The JSON-able form a cursor carries."""
        keys = [
            key.astimezone(dt.UTC).isoformat() if isinstance(key, dt.datetime) else key
            for key in self.keys
        ]
        return [*keys, self.doc_id]

    @classmethod
    def from_values(cls, values: Any, *, kinds: tuple[str, ...] = ()) -> Position:
        """A position of an order whose keys are of `kinds` ("timestamp", "date",
        "integer", "text"), then the document id.

        Raises:
            ValueError: `values` is not a position of this order.
        """
        if not isinstance(values, list) or len(values) != len(kinds) + 1:
            raise ValueError("not a position of this order")
        doc_id = values[-1]
        if not isinstance(doc_id, str) or not is_document_id(doc_id):
            raise ValueError("not a document id")
        keys = tuple(_key(kind, value) for kind, value in zip(kinds, values[:-1], strict=True))
        return cls(keys, doc_id)


MAX_TEXT_KEY_CHARS = 1000


def _key(kind: str, value: Any) -> Any:
    """One sort key of a cursor, checked against its kind (a forged one never queries)."""
    if kind in ("timestamp", "datetime"):
        if not isinstance(value, str):
            raise ValueError("not a time")
        try:
            moment = dt.datetime.fromisoformat(value)
            moment.astimezone(dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise ValueError("not a time") from exc
        if moment.tzinfo is None:
            raise ValueError("a time without a zone")
        return moment
    if kind == "date":
        if not (isinstance(value, str) and is_calendar_date(value)):
            raise ValueError("not a date")
        return value
    if kind == "integer":
        if type(value) is not int:
            raise ValueError("not a whole number")
        return value
    if kind == "number":
        if type(value) not in (int, float) or not math.isfinite(value):
            raise ValueError("not a number")
        return value
    if kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT_KEY_CHARS:
            raise ValueError("not a text")
        return value
    raise ValueError(f"a list is not ordered by a {kind}")


@dataclass(frozen=True, slots=True)
class Bounds:
    """A range filter: `field` from `low` to `high` (either may be open)."""

    field: str
    low: Any = None
    high: Any = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request of one partner, parsed and bounded."""

    limit: int = 20
    after: Position | None = None
    equals: tuple[tuple[str, Any], ...] = ()
    bounds: Bounds | None = None
    fields: frozenset[str] | None = None
    expand: tuple[str, ...] = ()

    def fingerprint(self, resource: str = "") -> str:
        """What a cursor is bound to: the resource, every filter and the order, not the
        page size."""
        parts = [resource, *(f"{name}={value!r}" for name, value in self.equals)]
        if self.bounds is not None:
            parts.append(f"{self.bounds.field}:{self.bounds.low!r}..{self.bounds.high!r}")
        return "|".join(parts)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list; `next_after` is where the next page starts, None on the last.

    `skipped` names the stored documents in the page's range that are not valid records
    (written by another app, an older version or a direct client): left out, never hidden.
    """

    records: list[Record]
    next_after: Position | None
    skipped: list[str] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.next_after is not None


@dataclass(frozen=True, slots=True)
class IdempotentCreate:
    """An Idempotency-Key and the fingerprint of the request it was first used with."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Created:
    """A created record; `replayed` when an earlier request with the same key made it."""

    record: Record
    replayed: bool


WRITERS: Final = ("api", "direct", "app")
"""Who changed a record: the API, a partner straight on Firestore, or the owner's app."""


@dataclass(frozen=True, slots=True)
class Event:
    """One change of one record, as its partner may see it: `data` holds the record's
    partner-visible fields after the change (before it, for a deletion)."""

    id: str
    type: str
    partner_id: str
    resource: str
    record_id: str
    version: int | None
    data: Mapping[str, Any]
    changed: tuple[str, ...]
    at: dt.datetime
    writer: str
    request_id: str | None = None


EVENTS_PAGE_SIZE: Final = 20
EVENTS_MAX_PAGE_SIZE: Final = 100


@dataclass(frozen=True, slots=True)
class EventsQuery:
    """A page request of a partner's events: after which one, of which type."""

    limit: int = EVENTS_PAGE_SIZE
    after: tuple[dt.datetime, str] | None = None
    event_type: str | None = None

    def fingerprint(self) -> str:
        return f"events|{self.event_type or ''}"


ALL_EVENTS: Final = "*"
MAX_WEBHOOK_ENDPOINTS: Final = 16
"""Webhook endpoints one partner may keep."""
WEBHOOK_ENDPOINT_STATUSES: Final = ("enabled", "disabled")


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """A webhook endpoint's secret; a rotated one signs until `expires_at`."""

    value: str
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where a partner wants its events delivered, and which ones (`*`: all)."""

    id: str
    partner_id: str
    url: str
    event_types: tuple[str, ...]
    status: str
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    secrets: tuple[SigningSecret, ...] = ()
    disabled_reason: str | None = None
    failing_since: dt.datetime | None = None
    """Since when every delivery to it fails (None: the last one succeeded)."""

    def wants(self, event_type: str) -> bool:
        return self.status == "enabled" and (
            ALL_EVENTS in self.event_types or event_type in self.event_types
        )

    def signing_secrets(self, now: dt.datetime) -> tuple[str, ...]:
        """The secrets that sign now: the current one, and rotated ones not yet expired."""
        return tuple(s.value for s in self.secrets if s.expires_at is None or s.expires_at > now)


MAX_DELIVERIES_LISTED: Final = 100
"""An endpoint's deliveries one listing shows at most (the latest)."""
DELIVERY_STATES: Final = ("retrying", "delivered", "abandoned")
"""A delivery's state after its latest attempt: `abandoned` when the endpoint went
away or was disabled, or no retry was left."""


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One try to deliver an event to an endpoint."""

    at: dt.datetime
    attempt: int
    """The queue's retry count: 0 for the first try."""
    status: int | None
    """The receiver's HTTP status (None: no answer)."""
    latency_ms: float | None
    error: str | None
    next_attempt_at: dt.datetime | None = None
    """When the queue tries again (its backoff schedule); None when it will not."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event's deliveries to one endpoint: one record, every attempt in it."""

    id: str
    partner_id: str
    event_id: str
    endpoint_id: str
    state: str
    updated_at: dt.datetime
    delivered_at: dt.datetime | None
    attempts: tuple[DeliveryAttempt, ...]


USAGE_COUNTERS: Final = ("calls", "ok", "client_errors", "limited", "errors", "creates")
"""What usage counts of a partner's calls, per day: all calls; by outcome (2xx and 3xx;
4xx but 429; 429; 5xx); and records created (201, not replayed)."""


@dataclass(frozen=True, slots=True)
class DayUsage:
    """A partner's calls on one day (UTC), as the instances have written them so far."""

    partner_id: str
    day: dt.date
    calls: int = 0
    ok: int = 0
    client_errors: int = 0
    limited: int = 0
    errors: int = 0
    creates: int = 0
    flushes: int = 0
    """The writes that made these counts (what metering cost)."""
    sdks: Mapping[str, int] = field(default_factory=dict)
    """Calls by partner SDK version (`python/1.0.0`); calls without one are not here."""


def rfc3339(moment: dt.datetime) -> str:
    """A time on the wire: UTC, microseconds, `Z`, four-digit years (0001 too)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A place on Earth as Firestore stores it (degrees)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class DocumentPath:
    """A reference to a document: its path from the database's root (`users/u1`,
    `restaurants/r1/orders/o1`), whatever client or SDK made it."""

    path: str

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def collection(self) -> str:
        """The collection path the document sits in."""
        return self.path.rsplit("/", 1)[0]


def as_geopoint(value: Any) -> GeoPoint | None:
    """A stored geopoint as ours (the SDK's class and ours carry the same attributes)."""
    if isinstance(value, GeoPoint):
        return value
    latitude, longitude = getattr(value, "latitude", None), getattr(value, "longitude", None)
    if type(latitude) is float and type(longitude) is float and not isinstance(value, Mapping):
        return GeoPoint(latitude, longitude)
    return None


def as_document_path(value: Any) -> DocumentPath | None:
    """A stored reference as ours (the SDK's `DocumentReference` has a `path` too)."""
    if isinstance(value, DocumentPath):
        return value
    path = getattr(value, "path", None)
    if isinstance(path, str) and path.count("/") % 2 == 1 and not isinstance(value, Mapping):
        return DocumentPath(path)
    return None


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """The first answer of a call made with an Idempotency-Key, kept to replay it: the
    operation (`entries.create`, an owner endpoint's name), what the request was
    (`fingerprint`), its status and JSON body, and the record a create made."""

    operation: str
    fingerprint: str
    status: int
    body: str
    record_id: str | None = None


def is_calendar_date(value: str) -> bool:
    if re.fullmatch(DATE_PATTERN, value) is None:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who changed which record how: written with the change, in the same unit of work."""

    actor: str
    credential: str
    partner_id: str
    operation: str
    resource: str
    record_id: str
    version_before: int | None
    version_after: int | None
    fields: tuple[str, ...]
    request_id: str


# --- partners -----------------------------------------------------------------------------


MIN_RATE_PER_S: Final = 0.01
MAX_RATE_PER_S: Final = 10_000.0
MAX_BURST: Final = 100_000
MAX_DAILY_CREATES: Final = 100_000_000
LIMIT_BOUNDS: Final = {
    "ratePerSecond": f"{MIN_RATE_PER_S:g} to {MAX_RATE_PER_S:g} calls a second",
    "burst": f"1 to {MAX_BURST} calls",
    "dailyCreates": f"0 to {MAX_DAILY_CREATES} creates",
}
"""The range of each limit: wherever a value enters (the CLI, a partner record, the
environment), one outside it is refused or ignored, so no limit can overflow the
arithmetic of a lease or lock a partner out."""


def limit_in_range(name: str, value: Any) -> bool:
    """Whether `value` is a usable value of the limit `name` (a record's key)."""
    if isinstance(value, bool):
        return False
    if name == "ratePerSecond":
        return isinstance(value, int | float) and MIN_RATE_PER_S <= value <= MAX_RATE_PER_S
    if name == "burst":
        return type(value) is int and 1 <= value <= MAX_BURST
    if name == "dailyCreates":
        return type(value) is int and 0 <= value <= MAX_DAILY_CREATES
    return False


@dataclass(frozen=True, slots=True)
class Limits:
    """What one partner may spend: a token bucket for every call (`rate_per_s` sustained,
    `burst` at once) and a daily quota of created records (UTC days)."""

    rate_per_s: float
    burst: int
    daily_creates: int

    def merged(self, overrides: Mapping[str, Any]) -> Limits:
        """These limits with a partner record's valid overrides applied (values out of
        range are ignored: see `valid_overrides`)."""
        valid = valid_overrides(overrides)
        return Limits(
            float(valid.get("ratePerSecond", self.rate_per_s)),
            int(valid.get("burst", self.burst)),
            int(valid.get("dailyCreates", self.daily_creates)),
        )

    @property
    def refill_s(self) -> float:
        """How long an empty bucket takes to fill again."""
        return self.burst / self.rate_per_s


def valid_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides of a partner record that are in range; the others count as absent."""
    return {name: value for name, value in overrides.items() if limit_in_range(name, value)}


PARTNER_STATUSES: Final = ("active", "suspended")


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """A partner as its record says. A partner without a record is active with the default
    limits (every grant made before records existed); a record whose status is not one we
    know is treated as suspended: an unreadable record never opens a door."""

    partner_id: str
    status: str = "active"
    display_name: str = ""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    exists: bool = True

    @property
    def suspended(self) -> bool:
        return self.status != "active"

    def limits(self, defaults: Limits) -> Limits:
        return defaults.merged(self.overrides)

    @classmethod
    def absent(cls, partner_id: str) -> PartnerRecord:
        return cls(partner_id, exists=False)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class UserAccess:
    """What a partner user may do now, as the rules read it (`partnerUsers/{uid}`).

    A token keeps the claims it was minted with for up to an hour; this record says what
    holds since: the tenant the user belongs to (None once revoked), the time before which
    no sign-in counts (a revoke or a move), and whether the user is disabled. The rules
    refuse a token it contradicts; a user without a record is judged by the token alone.
    """

    uid: str
    partner_id: str | None
    valid_after: dt.datetime = EPOCH
    disabled: bool = False
