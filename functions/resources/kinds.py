"""The field kinds: one class a kind, holding every face of it side by side.

A kind is checked in three languages and read in one more: the Python check (a pydantic
annotation), the Firestore rules expression, the JSON Schema of the OpenAPI document, and
the value and schema of a list filter on it, with the message a wrong value is told. Each
face is an abstract method of `Kind`, so a kind that lacks one cannot be made, and a kind
the declaration names but no class implements is refused at import: nothing falls back to
another kind's face. The parity tests then prove the faces accept the same values.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from functions.core.models import (
    BIDI_CONTROLS,
    BLANK_PATTERN,
    BLANK_PATTERN_RE2,
    BLANK_RANGES,
    CURRENCY_PATTERN,
    DATE_PATTERN,
    LABEL_PATTERN,
    LABEL_PATTERN_RE2,
    NEGATIVE_ZERO_PATTERN,
    TEXT_PATTERN,
    char_class,
    is_calendar_date,
)
from functions.resources.declaration import KINDS, FieldSpec

DATE_JSON_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
)
"""DATE_PATTERN without year 0000, for JSON Schema (whose `format: date` rules out the
days a month does not have)."""
UTF16_NOTE = " Length is counted in UTF-16 code units: an emoji counts as two characters."
_BLANK = re.compile(BLANK_PATTERN)


# --- patterns ---------------------------------------------------------------------------


def decimal_pattern(spec: FieldSpec) -> str:
    """Digits and scale, negative zero included (the rules refuse it with a second check)."""
    integer = f"(0|[1-9][0-9]{{0,{spec.digits - 1}}})"
    fraction = f"([.][0-9]{{1,{spec.scale}}})?" if spec.scale else ""
    return f"^-?{integer}{fraction}$"


def exact_decimal_pattern(spec: FieldSpec) -> str:
    """One pattern without negative zero, for JSON Schema (which has no 'and not')."""
    fraction = f"([.][0-9]{{1,{spec.scale}}})?" if spec.scale else ""
    nonzero = f"[1-9][0-9]{{0,{spec.digits - 1}}}{fraction}"
    alternatives = [f"0{fraction}", f"-?{nonzero}"]
    if spec.scale:  # -0.05: a zero integer part needs a non-zero decimal
        for zeros in range(spec.scale):
            tail = spec.scale - zeros - 1
            alternatives.append(f"-0[.]{'0' * zeros}[1-9]" + (f"[0-9]{{0,{tail}}}" if tail else ""))
    return "^(" + "|".join(alternatives) + ")$"


def text_pattern(spec: FieldSpec) -> str:
    return TEXT_PATTERN if spec.multiline else LABEL_PATTERN


def text_pattern_re2(spec: FieldSpec) -> str:
    """`text_pattern` as the rules write it (RE2 has no `\\u` escapes)."""
    return TEXT_PATTERN if spec.multiline else LABEL_PATTERN_RE2


def not_blank_text_pattern(spec: FieldSpec) -> str:
    """Allowed characters with at least one that is not blank, in one pattern (JSON Schema)."""
    if spec.multiline:
        allowed = r"[^\u0000-\u0008\u000b-\u001f\u007f]"
    else:
        allowed = char_class(BIDI_CONTROLS, "json", negated=True, head=r"\u0000-\u001f\u007f")
    blanks = tuple((low, high) for low, high in BLANK_RANGES if low > 0x20)
    if not spec.multiline:
        blanks += BIDI_CONTROLS
    visible = char_class(blanks, "json", negated=True, head=r"\u0000-\u0020\u007f")
    return f"^{allowed}*{visible}{allowed}*$"


# --- Python -----------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if _BLANK.fullmatch(value):
        raise ValueError("must contain a non-space character")
    return value


def _not_negative_zero(value: str) -> str:
    if re.fullmatch(NEGATIVE_ZERO_PATTERN, value):
        raise ValueError("must not be negative zero")
    return value


def _whole_number(value: Any) -> Any:
    """JSON has one number type: 204.0 and 2.04e2 are the integer 204 (as JSON Schema
    reads them), stored as an integer. Booleans and fractions stay refused."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def _calendar_date(value: str) -> str:
    if not is_calendar_date(value):
        raise ValueError("must be a real calendar date")
    return value


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_between(low: int, high: int) -> AfterValidator:
    """Firestore rules measure strings in UTF-16 code units (an emoji counts twice); the
    model measures them the same way, so both accept exactly the same texts."""

    def check(value: str) -> str:
        size = utf16_length(value)
        if size > high:
            raise ValueError(
                f"is too long (at most {high} characters; characters beyond the Basic "
                "Multilingual Plane, such as emoji, count as two)"
            )
        if size < low:
            raise ValueError(f"is too short (at least {low} characters)")
        return value

    return AfterValidator(check)


def _matches(pattern: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError("does not have the required form")
        return value

    return AfterValidator(check)


def _one_of(values: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"must be one of: {', '.join(values)}")
        return value

    return AfterValidator(check)


def annotation_of_time() -> Any:
    """A moment as Firestore returns it, or as an ISO string in a kept JSON answer."""
    return Annotated[dt.datetime, Field(strict=False)]


# --- Firestore rules ----------------------------------------------------------------------


def rules_string(value: str) -> str:
    """A rules string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


RULES_HELPERS = f"""\
    // Text of allowed characters that is not blank: the blank set is the model's
    // BLANK_PATTERN (trim() would strip ASCII spaces only). Sizes are UTF-16 code units.
    function partnerApiText(value, minSize, maxSize, pattern) {{
      return value is string
        && value.size() >= minSize
        && value.size() <= maxSize
        && value.matches(pattern)
        && !value.matches({rules_string(BLANK_PATTERN_RE2)});
    }}

    function partnerApiDecimal(value, pattern) {{
      return value is string
        && value.matches(pattern)
        && !value.matches({rules_string(NEGATIVE_ZERO_PATTERN)});
    }}

    function partnerApiLeapYear(year) {{
      return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    }}

    function partnerApiDaysInMonth(year, month) {{
      return month == 2 ? (partnerApiLeapYear(year) ? 29 : 28)
        : (month in [4, 6, 9, 11] ? 30 : 31);
    }}

    function partnerApiDate(value) {{
      return value is string
        && value.matches({rules_string(DATE_PATTERN)})
        && int(value[0:4]) >= 1
        && int(value[8:10]) <= partnerApiDaysInMonth(int(value[0:4]), int(value[5:7]));
    }}
"""


# --- the kinds -----------------------------------------------------------------------------


class Kind(ABC):
    """Every face of one field kind. A subclass states its name and what lists may do
    with it, and implements each face; none is inherited."""

    name: ClassVar[str]
    filterable: ClassVar[bool]
    """Whether a list may filter on it for equality."""
    rangeable: ClassVar[bool]
    """Whether a list may bound it (`<field>From`, `<field>To`)."""
    orderable: ClassVar[bool]
    """Whether a list may be ordered by it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [
            attribute
            for attribute in ("name", "filterable", "rangeable", "orderable")
            if attribute not in cls.__dict__
        ]
        if missing:
            raise TypeError(f"{cls.__name__} does not say its {', '.join(missing)}")

    @abstractmethod
    def annotation(self, spec: FieldSpec) -> Any:
        """The pydantic type that checks a value (strict: no coercion)."""

    @abstractmethod
    def rules_check(self, spec: FieldSpec, value: str) -> str:
        """The rules expression that holds when `value` (an expression) is valid."""

    @abstractmethod
    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        """The JSON Schema of a value, exact where JSON Schema can say it."""

    @abstractmethod
    def description(self, spec: FieldSpec) -> str:
        """What the document says of a value when the declaration says nothing."""

    @abstractmethod
    def message(self, spec: FieldSpec) -> str:
        """What a value of the wrong form is told."""

    @abstractmethod
    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        """A filter or bound from a query string, typed as stored.

        Raises: ValueError with the message for the client; TypeError for a kind lists
        never filter on (the declaration refuses such a filter).
        """

    @abstractmethod
    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        """The schema of a filter parameter: what `query_value` accepts."""

    def _not_a_filter(self) -> TypeError:
        return TypeError(f"a {self.name} field is never a list filter or bound")


class Text(Kind):
    name = "text"
    filterable, rangeable, orderable = True, False, True

    def annotation(self, spec: FieldSpec) -> Any:
        checks: list[Any] = [
            StringConstraints(min_length=1, max_length=spec.max_length, pattern=text_pattern(spec)),
            AfterValidator(_not_blank),
            _utf16_between(spec.min_length, spec.max_length),
        ]
        if spec.pattern:
            checks.append(_matches(spec.pattern))
        if spec.enum:
            checks.append(_one_of(spec.enum))
        return Annotated[str, *checks]

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        check = (
            f"partnerApiText({value}, {spec.min_length}, {spec.max_length}, "
            f"{rules_string(text_pattern_re2(spec))})"
        )
        if spec.pattern:
            check += f" && {value}.matches({rules_string(spec.pattern)})"
        if spec.enum:
            check += f" && {value} in [{', '.join(rules_string(v) for v in spec.enum)}]"
        return check

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "string",
            "minLength": spec.min_length,
            "maxLength": spec.max_length,
        }
        if spec.enum:
            schema["enum"] = list(spec.enum)
        elif spec.pattern:
            schema["allOf"] = [{"pattern": not_blank_text_pattern(spec)}, {"pattern": spec.pattern}]
        else:
            schema["pattern"] = not_blank_text_pattern(spec)
        return schema

    def description(self, spec: FieldSpec) -> str:
        return (spec.description or "Text.") + UTF16_NOTE

    def message(self, spec: FieldSpec) -> str:
        if spec.multiline:
            return "must not contain control characters"
        return "must not contain control characters or bidirectional controls"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if not 1 <= len(raw) <= spec.max_length:  # a filter matches nothing, or a value
            raise ValueError(f"must be 1 to {spec.max_length} characters")
        return raw

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": spec.max_length}


class ExactDecimal(Kind):
    name = "decimal"
    filterable, rangeable, orderable = False, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        return Annotated[
            str,
            StringConstraints(pattern=decimal_pattern(spec)),
            AfterValidator(_not_negative_zero),
        ]

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"partnerApiDecimal({value}, {rules_string(decimal_pattern(spec))})"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "pattern": exact_decimal_pattern(spec)}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or (
            f"An exact decimal carried as a string: an optional minus sign, up to "
            f"{spec.digits} digits, and up to {spec.scale} decimals. Never a JSON number."
        )

    def message(self, spec: FieldSpec) -> str:
        example = "123" if not spec.scale else "123." + "45"[: spec.scale].ljust(spec.scale, "0")
        return f'must be a decimal string such as "{example}" (at most {spec.scale} decimals)'

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        raise self._not_a_filter()

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        raise self._not_a_filter()


class Currency(Kind):
    name = "currency"
    filterable, rangeable, orderable = True, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        return Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"{value} is string && {value}.matches({rules_string(CURRENCY_PATTERN)})"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "pattern": CURRENCY_PATTERN}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "ISO 4217 currency code (three capital letters)."

    def message(self, spec: FieldSpec) -> str:
        return 'must be an ISO 4217 code such as "EUR"'

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if not re.fullmatch(CURRENCY_PATTERN, raw):
            raise ValueError(self.message(spec))
        return raw

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "pattern": CURRENCY_PATTERN}


class Date(Kind):
    name = "date"
    filterable, rangeable, orderable = True, True, True

    def annotation(self, spec: FieldSpec) -> Any:
        return Annotated[
            str, StringConstraints(pattern=DATE_PATTERN), AfterValidator(_calendar_date)
        ]

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"partnerApiDate({value})"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date", "pattern": DATE_JSON_PATTERN}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "ISO calendar date, YYYY-MM-DD."

    def message(self, spec: FieldSpec) -> str:
        return 'must be a date in the form "YYYY-MM-DD"'

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if not is_calendar_date(raw):
            raise ValueError('must be a date "YYYY-MM-DD"')
        return raw

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date", "pattern": DATE_JSON_PATTERN}


class Integer(Kind):
    name = "integer"
    filterable, rangeable, orderable = True, True, True

    def annotation(self, spec: FieldSpec) -> Any:
        return Annotated[
            int, BeforeValidator(_whole_number), Field(ge=spec.minimum, le=spec.maximum)
        ]

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"{value} is int && {value} >= {spec.minimum} && {value} <= {spec.maximum}"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "A whole number."

    def message(self, spec: FieldSpec) -> str:
        return f"must be a whole number from {spec.minimum} to {spec.maximum}"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if not re.fullmatch(r"-?[0-9]{1,16}", raw) or not spec.minimum <= int(raw) <= spec.maximum:
            raise ValueError(self.message(spec))
        return int(raw)

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum}


class Boolean(Kind):
    name = "boolean"
    filterable, rangeable, orderable = True, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        return bool

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"{value} is bool"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "boolean"}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "True or false."

    def message(self, spec: FieldSpec) -> str:
        return "must be true or false"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if raw not in ("true", "false"):
            raise ValueError(self.message(spec))
        return raw == "true"

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "enum": ["true", "false"]}


class Timestamp(Kind):
    name = "timestamp"
    filterable, rangeable, orderable = False, False, True

    def annotation(self, spec: FieldSpec) -> Any:
        return annotation_of_time()

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"{value} == request.time"

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date-time", "readOnly": True}

    def description(self, spec: FieldSpec) -> str:
        return spec.description or (
            "Set by the server when the record is "
            + ("created." if spec.set_on == "create" else "written.")
        )

    def message(self, spec: FieldSpec) -> str:
        return "is set by the server"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        raise self._not_a_filter()

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        raise self._not_a_filter()


BY_NAME: dict[str, Kind] = {
    kind.name: kind
    for kind in (Text(), ExactDecimal(), Currency(), Date(), Integer(), Boolean(), Timestamp())
}
"""Every kind, by the name the declaration uses."""

if missing := sorted(set(KINDS) ^ set(BY_NAME)):
    raise TypeError(f"the declaration's kinds and the implemented kinds differ: {missing}")


def kind_of(spec: FieldSpec) -> Kind:
    """Raises: LookupError for a kind no class implements (never another kind's face)."""
    try:
        return BY_NAME[spec.kind]
    except KeyError:
        raise LookupError(f"no field kind {spec.kind!r}") from None


# The faces as functions of a field, for the modules that build from a declaration.


def annotation(spec: FieldSpec) -> Any:
    return kind_of(spec).annotation(spec)


def rules_check(spec: FieldSpec, value: str) -> str:
    return kind_of(spec).rules_check(spec, value)


def json_schema(spec: FieldSpec) -> dict[str, Any]:
    """The schema of one value with its description and example (see the UTF-16 note)."""
    kind = kind_of(spec)
    schema = kind.schema(spec)
    schema["description"] = kind.description(spec)
    if spec.example is not None:
        schema["examples"] = [spec.example]
    return schema


def pattern_message(spec: FieldSpec) -> str:
    return kind_of(spec).message(spec)


def query_value(spec: FieldSpec, raw: str) -> Any:
    return kind_of(spec).query_value(spec, raw)


def query_schema(spec: FieldSpec) -> dict[str, Any]:
    return kind_of(spec).query_schema(spec)
