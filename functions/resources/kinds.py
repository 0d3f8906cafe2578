"""The field kinds: one class a kind, holding every face of it side by side.

A kind is checked in three languages and read in one more: the Python check (a pydantic
annotation), the Firestore rules expression, the JSON Schema of the OpenAPI document, and
the value and schema of a list filter on it, with the message a wrong value is told. A
kind whose stored form is not its wire form (a time, a geopoint, a reference, lists and
maps of them) also says how a stored value is checked (as the SDK reads it) and how it
is answered; the flat kinds store what travels (`Flat`). Each face is an abstract method
of `Kind`, so a kind that lacks one cannot be made, and a kind the declaration names but
no class implements is refused at import: nothing falls back to another kind's face. The
parity tests then prove the faces accept the same values.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, NotRequired, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
)
from typing_extensions import TypedDict  # pydantic takes no typing.TypedDict before 3.12

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
    DocumentPath,
    GeoPoint,
    as_document_path,
    as_geopoint,
    char_class,
    is_calendar_date,
    is_document_id,
    rfc3339,
)
from functions.resources.declaration import KINDS, FieldSpec, parse_moment

DATE_JSON_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
)
"""DATE_PATTERN without year 0000, for JSON Schema (whose `format: date` rules out the
days a month does not have)."""
UTF16_NOTE = " Length is counted in UTF-16 code units: an emoji counts as two characters."
_BLANK = re.compile(BLANK_PATTERN)


# --- memo ------------------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")


class PerObject(Generic[T, R]):
    """`func` made once per object, found by identity: a declaration's specs and
    resources live as long as the process, and hashing one (every field of every nested
    spec) cost more than the work the cache saves."""

    def __init__(self, func: Callable[[T], R]) -> None:
        self.func = func
        self.made: dict[int, tuple[T, R]] = {}
        functools.update_wrapper(self, func)

    def __call__(self, key: T) -> R:
        found = self.made.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        value = self.func(key)
        self.made[id(key)] = (key, value)
        return value

    def cache_clear(self) -> None:
        self.made.clear()


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
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def _visible_and_utf16_between(low: int, high: int) -> AfterValidator:
    """Not blank, and `low` to `high` long as Firestore rules measure strings: in UTF-16
    code units (an emoji counts twice), so both accept exactly the same texts. One
    validator for both checks: a page of records runs it for every text."""

    def check(value: str) -> str:
        _not_blank(value)
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
        if "name" not in cls.__dict__ and cls.__name__ == "Flat":
            return  # the base of the flat kinds, never a kind itself
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
    def stored_annotation(self, spec: FieldSpec) -> Any:
        """The pydantic type that checks a stored value (as the SDK reads it, or as a kept
        JSON answer holds it: see `KEPT`) and gives it in the form `annotation` gives."""

    @abstractmethod
    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        """A checked value as partners read it (JSON, a time still a datetime)."""

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


class Flat(Kind):
    """A value stored exactly as it travels (a string, a whole number, a boolean): its
    stored check is its input check and the rules check all of it."""

    def stored_annotation(self, spec: FieldSpec) -> Any:
        return self.annotation(spec)

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        return value


class Text(Flat):
    name = "text"
    filterable, rangeable, orderable = True, False, True

    def annotation(self, spec: FieldSpec) -> Any:
        checks: list[Any] = [
            StringConstraints(min_length=1, max_length=spec.max_length, pattern=text_pattern(spec)),
            _visible_and_utf16_between(spec.min_length, spec.max_length),
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


class ExactDecimal(Flat):
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


class Currency(Flat):
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


class Date(Flat):
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


class Integer(Flat):
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


class Boolean(Flat):
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


class Timestamp(Flat):
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


# --- the kinds whose stored form is not their wire form --------------------------------------

KEPT = "kept"
"""The validation context of a kept JSON answer: a stored check then takes the wire form
(the answer a create gave, replayed) as well as the stored one."""


def _kept(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(KEPT))


def _json_number(value: Any) -> float | None:
    """A JSON number (the parser reads fractions as Decimal) as a float; None for
    anything else, booleans included."""
    if type(value) is bool or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?")
"""A number as JSON writes it (a query's `totalFrom=1.5e3` too)."""


def _rules_number(number: float) -> str:
    """A float literal of the rules: plain digits (they take no exponent), the shortest
    that reads back as `number`."""
    text = format(Decimal(repr(number)), "f")
    return text if "." in text else text + ".0"


class Number(Kind):
    name = "number"
    filterable, rangeable, orderable = False, True, True

    def _check(self, spec: FieldSpec, number: float | None) -> float:
        if number is None:
            raise ValueError(self.message(spec))
        if spec.low is not None and number < spec.low:
            raise ValueError(f"must be at least {spec.low:g}")
        if spec.high is not None and number > spec.high:
            raise ValueError(f"must be at most {spec.high:g}")
        return number

    def annotation(self, spec: FieldSpec) -> Any:
        return Annotated[float, PlainValidator(lambda v: self._check(spec, _json_number(v)))]

    def stored_annotation(self, spec: FieldSpec) -> Any:
        def check(value: Any) -> int | float:
            if type(value) is int:  # another writer's integer reads as a number too
                self._check(spec, float(value))
                return value
            if type(value) is not float:
                raise ValueError(self.message(spec))
            return self._check(spec, value)

        return Annotated[float, PlainValidator(check)]

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        return value

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        # Only a finite double times zero is zero (NaN and infinities give NaN); the
        # rules have no isInfinite (the emulator: "Function not found").
        check = f"({value} is int || ({value} is float && {value} * 0.0 == 0.0))"
        if spec.low is not None:
            check += f" && {value} >= {_rules_number(spec.low)}"
        if spec.high is not None:
            check += f" && {value} <= {_rules_number(spec.high)}"
        return check

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number", "format": "double"}
        if spec.low is not None:
            schema["minimum"] = spec.low
        if spec.high is not None:
            schema["maximum"] = spec.high
        return schema

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "A number (a double: about 15 significant digits)."

    def message(self, spec: FieldSpec) -> str:
        return "must be a finite number"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        if not _JSON_NUMBER.fullmatch(raw):
            raise ValueError("must be a number such as 12.5")
        return self._check(spec, _json_number(float(raw)))

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return self.schema(spec)


def _bound_text(moment: dt.datetime) -> str:
    return rfc3339(moment).replace(".000000Z", "Z")


class DateTime(Kind):
    name = "datetime"
    filterable, rangeable, orderable = False, True, True

    def _check(self, spec: FieldSpec, moment: dt.datetime | None) -> dt.datetime:
        if moment is None:
            raise ValueError(self.message(spec))
        if spec.low is not None and moment < spec.low:
            raise ValueError(f"must be at or after {_bound_text(spec.low)}")
        if spec.high is not None and moment > spec.high:
            raise ValueError(f"must be at or before {_bound_text(spec.high)}")
        return moment

    def annotation(self, spec: FieldSpec) -> Any:
        def check(value: Any) -> dt.datetime:
            return self._check(spec, parse_moment(value) if type(value) is str else None)

        return Annotated[dt.datetime, PlainValidator(check)]

    def stored_annotation(self, spec: FieldSpec) -> Any:
        def check(value: Any, info: ValidationInfo) -> dt.datetime:
            if isinstance(value, dt.datetime):
                moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
                return self._check(spec, moment.astimezone(dt.UTC))
            if _kept(info) and type(value) is str:
                return self._check(spec, parse_moment(value))
            raise ValueError("must be a timestamp")

        return Annotated[dt.datetime, PlainValidator(check)]

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        return rfc3339(value)

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        check = f"{value} is timestamp"
        if spec.low is not None:
            check += f" && {value} >= timestamp.value({_millis(spec.low)})"
        if spec.high is not None:
            check += f" && {value} <= timestamp.value({_millis(spec.high)})"
        return check

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "format": "date-time"}
        if spec.low is not None:
            schema["formatMinimum"] = _bound_text(spec.low)
        if spec.high is not None:
            schema["formatMaximum"] = _bound_text(spec.high)
        return schema

    def description(self, spec: FieldSpec) -> str:
        bounds = ""
        if spec.low is not None or spec.high is not None:
            low = _bound_text(spec.low) if spec.low is not None else "any time"
            high = _bound_text(spec.high) if spec.high is not None else "any time"
            bounds = f" From {low} to {high}."
        return (spec.description or "A moment.") + (
            " RFC 3339 with an offset (2026-03-31T18:45:00Z, +02:00 accepted); answered "
            "in UTC with Z, to the microsecond." + bounds
        )

    def message(self, spec: FieldSpec) -> str:
        return 'must be an RFC 3339 time with an offset, such as "2026-03-31T18:45:00Z"'

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        return self._check(spec, parse_moment(raw))

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _millis(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(milliseconds=1)


class Geo(Kind):
    name = "geopoint"
    filterable, rangeable, orderable = False, False, False

    def _check(self, spec: FieldSpec, latitude: Any, longitude: Any) -> GeoPoint:
        lat, lon = _json_number(latitude), _json_number(longitude)
        if lat is None or lon is None or not -90 <= lat <= 90 or not -180 <= lon <= 180:
            raise ValueError(self.message(spec))
        return GeoPoint(lat, lon)

    def annotation(self, spec: FieldSpec) -> Any:
        def check(value: Any) -> GeoPoint:
            if not isinstance(value, Mapping) or set(value) != {"latitude", "longitude"}:
                raise ValueError(self.message(spec))
            return self._check(spec, value["latitude"], value["longitude"])

        return Annotated[GeoPoint, PlainValidator(check)]

    def stored_annotation(self, spec: FieldSpec) -> Any:
        wire = self.annotation(spec).__metadata__[0].func

        def check(value: Any, info: ValidationInfo) -> GeoPoint:
            point = as_geopoint(value)
            if point is not None:
                return self._check(spec, point.latitude, point.longitude)
            if _kept(info):
                return wire(value)  # type: ignore[no-any-return]
            raise ValueError("must be a geopoint")

        return Annotated[GeoPoint, PlainValidator(check)]

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        return {"latitude": value.latitude, "longitude": value.longitude}

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return f"{value} is latlng"  # Firestore holds only latitudes and longitudes in range

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["latitude", "longitude"],
            "properties": {
                "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            },
        }

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "A place: latitude -90 to 90, longitude -180 to 180."

    def message(self, spec: FieldSpec) -> str:
        return 'must be {"latitude": -90 to 90, "longitude": -180 to 180}'

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        raise self._not_a_filter()

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        raise self._not_a_filter()


REFERENCE_ID_JSON_PATTERN = r"^(?!\.\.?$)(?!__.*__$)[^/\u0000-\u001f\u007f]+$"
MAX_REFERENCE_ID_CHARS = 375
"""The longest id a reference takes from partners: 1,500 bytes (Firestore's limit) in
any script, so the contract states it exactly."""
_PRINTABLE_ID = re.compile(rf"[^\x00-\x1f\x7f/]{{1,{MAX_REFERENCE_ID_CHARS}}}")


class Reference(Kind):
    name = "reference"
    filterable, rangeable, orderable = True, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        def check(value: Any) -> DocumentPath:
            if type(value) is not str or not _PRINTABLE_ID.fullmatch(value):
                raise ValueError(self.message(spec))
            if not is_document_id(value):
                raise ValueError(self.message(spec))
            return DocumentPath(f"{spec.to}/{value}")

        return Annotated[DocumentPath, PlainValidator(check)]

    def stored_annotation(self, spec: FieldSpec) -> Any:
        wire = self.annotation(spec).__metadata__[0].func

        def check(value: Any, info: ValidationInfo) -> DocumentPath:
            path = as_document_path(value)
            if path is not None:
                if path.collection != spec.to:
                    raise ValueError(f"must be a reference into {spec.to}")
                return path
            if _kept(info):
                return wire(value)  # type: ignore[no-any-return]
            raise ValueError("must be a reference")

        return Annotated[DocumentPath, PlainValidator(check)]

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        return value.id

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        return (
            f"{value} is path && {value} == "
            f"/databases/$(database)/documents/{spec.to}/$({value}[4])"
        )

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        # A document id: no slash or control character, not `.`, `..` or `__x__`; at
        # most 1,500 bytes, which 375 characters never exceed.
        return {
            "type": "string",
            "pattern": REFERENCE_ID_JSON_PATTERN,
            "maxLength": MAX_REFERENCE_ID_CHARS,
        }

    def description(self, spec: FieldSpec) -> str:
        return (spec.description or "A reference.") + (
            f" The id of a document of {spec.to} (stored as a Firestore reference)."
        )

    def message(self, spec: FieldSpec) -> str:
        return f"must be the id of a document of {spec.to}"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        """`?customer=u1`: the records that reference users/u1."""
        if not _PRINTABLE_ID.fullmatch(raw) or not is_document_id(raw):
            raise ValueError(self.message(spec))
        return DocumentPath(f"{spec.to}/{raw}")

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        return self.schema(spec)


class List(Kind):
    name = "list"
    filterable, rangeable, orderable = False, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        assert spec.of is not None
        return Annotated[
            list[annotation(spec.of)],  # type: ignore[misc]
            Field(min_length=spec.min_items, max_length=spec.max_items),
        ]

    def stored_annotation(self, spec: FieldSpec) -> Any:
        assert spec.of is not None
        return Annotated[
            list[stored_annotation(spec.of)],  # type: ignore[misc]
            Field(min_length=spec.min_items, max_length=spec.max_items),
        ]

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        convert = wire_converter(spec)
        return value if convert is None else convert(value)

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        assert spec.of is not None
        check = f"{value} is list && {value}.size() <= {spec.max_items}"
        if spec.min_items:
            check += f" && {value}.size() >= {spec.min_items}"
        for index in range(spec.max_items):
            item = rules_check(spec.of, f"{value}[{index}]")
            check += f" && ({value}.size() <= {index} || ({item}))"
        return check

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        assert spec.of is not None
        schema: dict[str, Any] = {"type": "array", "items": json_schema(spec.of)}
        schema["maxItems"] = spec.max_items
        if spec.min_items:
            schema["minItems"] = spec.min_items
        return schema

    def description(self, spec: FieldSpec) -> str:
        return spec.description or f"A list of {spec.min_items} to {spec.max_items} items."

    def message(self, spec: FieldSpec) -> str:
        return f"must be a list of {spec.min_items} to {spec.max_items} items"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        raise self._not_a_filter()

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        raise self._not_a_filter()


_INPUT = ConfigDict(extra="forbid", strict=True, frozen=True)
_STORED = ConfigDict(extra="ignore", strict=True, frozen=True)


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null; omit the field instead")
    return value


def map_model(spec: FieldSpec, *, stored: bool) -> Any:
    return (_STORED_MAPS if stored else _INPUT_MAPS)(spec)


def _map_model(spec: FieldSpec, *, stored: bool) -> Any:
    """A map's fields as a TypedDict (validated straight into a dict, keys as declared,
    `my-field` too): on input unknown keys are refused; stored, ignored. An optional
    field may be absent, never null."""
    fields: dict[str, Any] = {}
    for item in spec.fields:
        kind = stored_annotation(item) if stored else annotation(item)
        if item.required:
            fields[item.name] = kind
        else:
            fields[item.name] = NotRequired[Annotated[kind, BeforeValidator(_refuse_null)]]
    title = "Stored" if stored else "Input"
    typed = TypedDict(f"{title}Map_{spec.name or 'item'}", fields)  # type: ignore[misc]
    typed.__pydantic_config__ = _STORED if stored else _INPUT  # type: ignore[attr-defined]
    return typed


def _input_map(spec: FieldSpec) -> Any:
    return _map_model(spec, stored=False)


def _stored_map(spec: FieldSpec) -> Any:
    return _map_model(spec, stored=True)


_INPUT_MAPS: PerObject[FieldSpec, Any] = PerObject(_input_map)
_STORED_MAPS: PerObject[FieldSpec, Any] = PerObject(_stored_map)


def _aliases(model: type[BaseModel]) -> dict[str, str]:
    return {name: info.alias or name for name, info in model.model_fields.items()}


aliases: PerObject[type[BaseModel], dict[str, str]] = PerObject(_aliases)
"""A model's field names to the declared names they stand for."""


class Map(Kind):
    name = "map"
    filterable, rangeable, orderable = False, False, False

    def annotation(self, spec: FieldSpec) -> Any:
        return map_model(spec, stored=False)

    def stored_annotation(self, spec: FieldSpec) -> Any:
        return map_model(spec, stored=True)

    def to_wire(self, spec: FieldSpec, value: Any) -> Any:
        convert = wire_converter(spec)
        return value if convert is None else convert(value)

    def rules_check(self, spec: FieldSpec, value: str) -> str:
        names = ", ".join(rules_string(item.name) for item in spec.fields)
        required = ", ".join(rules_string(item.name) for item in spec.fields if item.required)
        check = f"{value} is map && {value}.keys().hasOnly([{names}])"
        if required:
            check += f" && {value}.keys().hasAll([{required}])"
        for item in spec.fields:
            inner = rules_check(item, f"{value}[{rules_string(item.name)}]")
            check += (
                f" && ({inner})"
                if item.required
                else f" && (!({rules_string(item.name)} in {value}) || ({inner}))"
            )
        return check

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {item.name: json_schema(item) for item in spec.fields},
        }
        required = [item.name for item in spec.fields if item.required]
        if required:
            schema["required"] = required
        return schema

    def description(self, spec: FieldSpec) -> str:
        return spec.description or "An object of the fields below."

    def message(self, spec: FieldSpec) -> str:
        return "must be an object of the declared fields"

    def query_value(self, spec: FieldSpec, raw: str) -> Any:
        raise self._not_a_filter()

    def query_schema(self, spec: FieldSpec) -> dict[str, Any]:
        raise self._not_a_filter()


BY_NAME: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Text(),
        ExactDecimal(),
        Currency(),
        Date(),
        Integer(),
        Boolean(),
        Timestamp(),
        Number(),
        DateTime(),
        Geo(),
        Reference(),
        List(),
        Map(),
    )
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


def stored_annotation(spec: FieldSpec) -> Any:
    return kind_of(spec).stored_annotation(spec)


def _stored_adapter(spec: FieldSpec) -> TypeAdapter[Any]:
    return TypeAdapter(stored_annotation(spec))


stored_adapter: PerObject[FieldSpec, TypeAdapter[Any]] = PerObject(_stored_adapter)
"""The check of one stored value of a field, on its own (events, `inspect`)."""


def to_wire(spec: FieldSpec, value: Any) -> Any:
    return kind_of(spec).to_wire(spec, value)


Converter = Callable[[Any], Any]


def _wire_converter(spec: FieldSpec) -> Converter | None:
    """How a checked value of `spec` becomes its wire form; None where it already is
    (text, numbers, booleans, and lists and maps of only those)."""
    if spec.kind in ("datetime", "geopoint", "reference"):
        kind = kind_of(spec)
        return lambda value: kind.to_wire(spec, value)
    if spec.kind == "list":
        assert spec.of is not None
        item = wire_converter(spec.of)
        return None if item is None else lambda value: [item(each) for each in value]
    if spec.kind == "map":
        inner = [(field.name, wire_converter(field)) for field in spec.fields]
        converted = [(name, convert) for name, convert in inner if convert is not None]
        if not converted:
            return None

        def convert_map(value: Any) -> Any:
            wire = dict(value)
            for name, convert in converted:
                if name in wire:
                    wire[name] = convert(wire[name])
            return wire

        return convert_map
    return None


wire_converter = PerObject(_wire_converter)


def references(spec: FieldSpec, value: Any) -> list[DocumentPath]:
    """Every reference a checked value holds, in lists and maps too."""
    if spec.kind == "reference":
        return [value]
    if spec.kind == "list" and spec.of is not None:
        return [found for item in value for found in references(spec.of, item)]
    if spec.kind == "map":
        return [
            found
            for item in spec.fields
            if item.name in value
            for found in references(item, value[item.name])
        ]
    return []
