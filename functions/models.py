"""The entry: one model for what partners may send, what is stored and what is documented.

The patterns here are written in the subset of regular-expression syntax that both
Python and Firestore rules (RE2) accept, so `firestore.rules` validates with the same ones.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from functions.errors import FieldIssue, ValidationFailed

AMOUNT_PATTERN: Final = r"^-?(0|[1-9][0-9]{0,14})([.][0-9]{1,2})?$"
NEGATIVE_ZERO_PATTERN: Final = r"^-0([.]0+)?$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
DATE_PATTERN: Final = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
TEXT_PATTERN: Final = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
"""Printable text: no control characters other than tab and newline."""
LABEL_PATTERN: Final = r"^[^\x00-\x1f\x7f]*$"
"""Single-line text: no control characters at all."""
BLANK_RANGES: Final = (
    (0x09, 0x0D),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200D),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x2060),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
)
"""What counts as blank: every character Python's `str.isspace` accepts, and the
zero-width ones (U+180E, U+200B to U+200D, U+2060, U+FEFF). Text made only of these is
refused, by the model and by the rules alike (the rules' `trim()` only strips ASCII)."""


def _char_class(escape: str) -> str:
    parts = []
    for low, high in BLANK_RANGES:
        parts.append(
            escape.format(low) if low == high else f"{escape.format(low)}-{escape.format(high)}"
        )
    return "[" + "".join(parts) + "]"


BLANK_PATTERN: Final = "^" + _char_class("\\u{:04x}") + "*$"
"""Blank text, in Python's syntax."""
BLANK_PATTERN_RE2: Final = "^" + _char_class("\\x{{{:x}}}") + "*$"
"""The same, in RE2's syntax, as `firestore.rules` writes it."""
_BLANK = re.compile(BLANK_PATTERN)
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


ENTRY_ID_CHARS: Final = "[A-Za-z0-9_-]{1,128}"
"""The ids the API assigns and the rules let clients create."""
ENTRY_ID_PATTERN: Final = re.compile(rf"(?!__.*__\Z){ENTRY_ID_CHARS}")
"""The ids the API assigns and accepts (matched in full); Firestore reserves `__x__`."""

DESCRIPTION_MAX = 500
CATEGORY_MAX = 64
REFERENCE_MAX = 128
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

WRITABLE_FIELDS: Final = ("description", "amount", "currency", "date", "category", "reference")
SERVER_FIELDS: Final = ("id", "partnerId", "createdAt", "updatedAt", "createdBy", "version")
ENTRY_FIELDS: Final = WRITABLE_FIELDS + SERVER_FIELDS


def _not_blank(value: str) -> str:
    if _BLANK.fullmatch(value):
        raise ValueError("must contain a non-space character")
    return value


def _not_negative_zero(value: str) -> str:
    if re.fullmatch(NEGATIVE_ZERO_PATTERN, value):
        raise ValueError("must not be negative zero")
    return value


def _calendar_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("must be a real calendar date") from exc
    return value


def _utf16_at_most(limit: int) -> AfterValidator:
    """Firestore rules measure strings in UTF-16 code units (an emoji counts twice); the
    model measures them the same way, so both accept exactly the same texts."""

    def check(value: str) -> str:
        if len(value.encode("utf-16-le", "surrogatepass")) // 2 > limit:
            raise ValueError(
                f"is too long (at most {limit} characters; characters beyond the Basic "
                "Multilingual Plane, such as emoji, count as two)"
            )
        return value

    return AfterValidator(check)


UTF16_NOTE = " Length is counted in UTF-16 code units: an emoji counts as two characters."

Description = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DESCRIPTION_MAX, pattern=TEXT_PATTERN),
    AfterValidator(_not_blank),
    _utf16_at_most(DESCRIPTION_MAX),
    Field(description="What the entry is for." + UTF16_NOTE, examples=["Catering, March"]),
]
Amount = Annotated[
    str,
    StringConstraints(pattern=AMOUNT_PATTERN),
    AfterValidator(_not_negative_zero),
    Field(
        description=(
            "An exact decimal carried as a string: an optional minus sign, up to 15 digits, "
            "and up to 2 decimals. Never a JSON number."
        ),
        examples=["123.45"],
    ),
]
Currency = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_PATTERN),
    Field(description="ISO 4217 currency code (three capital letters).", examples=["EUR"]),
]
EntryDate = Annotated[
    str,
    StringConstraints(pattern=DATE_PATTERN),
    AfterValidator(_calendar_date),
    Field(description="ISO calendar date, YYYY-MM-DD.", examples=["2026-03-31"]),
]
Category = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CATEGORY_MAX, pattern=LABEL_PATTERN),
    AfterValidator(_not_blank),
    _utf16_at_most(CATEGORY_MAX),
    Field(description="A free label for grouping and filtering." + UTF16_NOTE, examples=["food"]),
]
Reference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REFERENCE_MAX, pattern=LABEL_PATTERN),
    AfterValidator(_not_blank),
    _utf16_at_most(REFERENCE_MAX),
    Field(
        description="The partner's own id for the record." + UTF16_NOTE,
        examples=["INV-2026-0042"],
    ),
]

_INPUT_CONFIG = ConfigDict(extra="forbid", strict=True, frozen=True)


class EntryCreate(BaseModel):
    """The body of createEntry: every writable field; server fields are refused."""

    model_config = _INPUT_CONFIG

    description: Description
    amount: Amount
    currency: Currency
    date: EntryDate
    category: Category | None = None
    reference: Reference | None = None

    @field_validator("category", "reference", mode="before")
    @classmethod
    def _omit_rather_than_null(cls, value: Any) -> Any:
        # Stored entries have no null fields (the rules refuse them too): omit instead.
        if value is None:
            raise ValueError("must be a string; omit the field instead of sending null")
        return value

    def stored_fields(self) -> dict[str, str]:
        """The writable fields as stored: optional ones absent rather than null."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class EntryPatch(BaseModel):
    """The body of updateEntry: any writable fields; null clears an optional one."""

    model_config = _INPUT_CONFIG

    description: Description | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    date: EntryDate | None = None
    category: Category | None = None
    reference: Reference | None = None

    def changes(self) -> tuple[dict[str, str], tuple[str, ...]]:
        """(fields to set, optional fields to clear)."""
        sent = self.model_dump(exclude_unset=True)
        sets = {k: v for k, v in sent.items() if v is not None}
        clears = tuple(k for k, v in sent.items() if v is None)
        return sets, clears


class Entry(BaseModel):
    """An entry as the API returns it (fields other writers may have added are dropped)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(description="Server-assigned id.")
    partnerId: str = Field(description="The tenant that owns the entry.")  # noqa: N815
    description: Description
    amount: Amount
    currency: Currency
    date: EntryDate
    category: Category | None = None
    reference: Reference | None = None
    createdAt: dt.datetime = Field(description="When the entry was created (UTC).")  # noqa: N815
    updatedAt: dt.datetime = Field(description="When the entry last changed (UTC).")  # noqa: N815
    createdBy: str = Field(description="The uid of the partner user who created it.")  # noqa: N815
    version: int = Field(ge=1, description="Starts at 1, +1 on every update; the ETag.")


def parse_create(body: Mapping[str, Any]) -> EntryCreate:
    """Raises: ValidationFailed naming every bad, missing or unknown field."""
    try:
        return EntryCreate.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(exc)) from exc


def parse_patch(body: Mapping[str, Any]) -> EntryPatch:
    """Raises: ValidationFailed for bad or unknown fields, or an empty patch."""
    try:
        patch = EntryPatch.model_validate(dict(body))
    except ValidationError as exc:
        raise ValidationFailed(details=field_issues(exc)) from exc
    if not patch.model_fields_set:
        raise ValidationFailed(
            "Send at least one field to change.",
            details=[{"field": "", "message": "no fields to update"}],
        )
    for name in ("description", "amount", "currency", "date"):
        if name in patch.model_fields_set and getattr(patch, name) is None:
            raise ValidationFailed(
                details=[{"field": name, "message": "is required; cannot be null"}]
            )
    return patch


def field_issues(error: ValidationError) -> list[FieldIssue]:
    """One plain message per field, naming server-set fields as such."""
    issues: list[FieldIssue] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"])
        if not _SAFE_FIELD_NAME.fullmatch(name):
            name = "(unknown field)"  # never reflect arbitrary client input
        kind = item["type"]
        if kind == "extra_forbidden":
            message = (
                "is set by the server and cannot be written"
                if name in SERVER_FIELDS
                else "is not a field of an entry"
            )
        elif kind == "missing":
            message = "is required"
        elif kind in ("string_type", "string_sub_type"):
            message = "must be a string"
        elif kind == "string_pattern_mismatch":
            message = _PATTERN_MESSAGES.get(name, "has characters that are not allowed")
        elif kind == "string_too_short":
            message = "must not be empty"
        elif kind == "string_too_long":
            message = f"is too long (at most {_MAX_LENGTHS.get(name, '?')} characters)"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        issues.append({"field": name, "message": message})
    return issues


_SAFE_FIELD_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PATTERN_MESSAGES = {
    "amount": 'must be a decimal string such as "123.45" (at most 2 decimals)',
    "currency": 'must be an ISO 4217 code such as "EUR"',
    "date": 'must be a date in the form "YYYY-MM-DD"',
    "description": "must not contain control characters",
    "category": "must not contain control characters",
    "reference": "must not contain control characters",
}
_MAX_LENGTHS = {
    "description": DESCRIPTION_MAX,
    "category": CATEGORY_MAX,
    "reference": REFERENCE_MAX,
}


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends in the list order: the sort key of its last entry.

    The order is (createdAt, id), or (date, createdAt, id) when a list filters by date, so
    entries added during pagination never shift the pages already returned.
    """

    created_at: dt.datetime
    entry_id: str
    date: str | None = None

    @classmethod
    def of(cls, entry: Entry, *, by_date: bool) -> Position:
        return cls(entry.createdAt, entry.id, entry.date if by_date else None)

    def values(self) -> list[str]:
        """The JSON-able form a cursor carries."""
        created = self.created_at.astimezone(dt.UTC).isoformat()
        return (
            [created, self.entry_id] if self.date is None else [self.date, created, self.entry_id]
        )

    @classmethod
    def from_values(cls, values: Any, *, by_date: bool) -> Position:
        """Raises: ValueError when `values` is not a position of this order."""
        size = 3 if by_date else 2
        if not isinstance(values, list) or len(values) != size:
            raise ValueError("not a position of this order")
        if not all(isinstance(v, str) for v in values):
            raise ValueError("not a position of this order")
        date = values[0] if by_date else None
        created, entry_id = values[-2], values[-1]
        if not is_document_id(entry_id):
            raise ValueError("not a document id")
        try:
            created_at = dt.datetime.fromisoformat(created)
            created_at.astimezone(dt.UTC)
        except (ValueError, OverflowError) as exc:
            raise ValueError("not a time") from exc
        if created_at.tzinfo is None:
            raise ValueError("a time without a zone")
        return cls(created_at, entry_id, date)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request of one partner, parsed and bounded."""

    limit: int = DEFAULT_PAGE_SIZE
    after: Position | None = None
    date_from: str | None = None
    date_to: str | None = None
    category: str | None = None
    fields: frozenset[str] | None = None

    @property
    def by_date(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def fingerprint(self) -> str:
        """What a cursor is bound to: every filter and the order, not the page size."""
        return "|".join(
            [
                self.date_from or "",
                self.date_to or "",
                self.category or "",
                "date" if self.by_date else "created",
            ]
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list; `next_after` is where the next page starts, None on the last.

    `skipped` names the stored documents in the page's range that are not valid entries
    (written by another app, an older version or a direct client): left out, never hidden.
    """

    entries: list[Entry]
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
    """A created entry; `replayed` when an earlier request with the same key made it."""

    entry: Entry
    replayed: bool


def is_calendar_date(value: str) -> bool:
    if re.fullmatch(DATE_PATTERN, value) is None:
        return False
    try:
        _calendar_date(value)
    except ValueError:
        return False
    return True
