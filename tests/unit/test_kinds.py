"""The field kinds: every kind has every face, none falls back on another, and each face
says exactly what it says (values, bounds, messages, rules and schemas pinned)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.resources import declaration, kinds
from functions.resources.declaration import FieldSpec

TEXT = FieldSpec("name", "text", min_length=2, max_length=5)
NOTE = FieldSpec("note", "text", max_length=10, multiline=True)
CODE = FieldSpec("code", "text", max_length=8, pattern="^[A-Z]+$")
COURSE = FieldSpec("course", "text", max_length=10, enum=("main", "side"))
PRICE = FieldSpec("price", "decimal", digits=4, scale=2)
WHOLE = FieldSpec("units", "decimal", digits=3, scale=0)
CURRENCY = FieldSpec("currency", "currency")
DAY = FieldSpec("day", "date")
COUNT = FieldSpec("count", "integer", minimum=-3, maximum=12)
FLAG = FieldSpec("flag", "boolean")
PLACED = FieldSpec("placedAt", "timestamp", set_on="create")
TOUCHED = FieldSpec("touchedAt", "timestamp", set_on="write")
FACES = (
    "annotation",
    "rules_check",
    "schema",
    "description",
    "message",
    "query_value",
    "query_schema",
)


def check(spec: FieldSpec, value: Any) -> Any:
    return TypeAdapter(kinds.annotation(spec)).validate_python(value)


def refusal(spec: FieldSpec, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        check(spec, value)
    return str(caught.value.errors()[0]["msg"])


# --- completeness ---------------------------------------------------------------------------


def test_every_declared_kind_has_one_class_with_every_face_of_its_own() -> None:
    assert sorted(kinds.BY_NAME) == sorted(declaration.KINDS)
    for name, kind in kinds.BY_NAME.items():
        assert kind.name == name
        for face in FACES:
            assert face in type(kind).__dict__, f"{name} inherits its {face}"
        stored_faces = ("stored_annotation", "to_wire")
        if isinstance(kind, kinds.Flat):  # stored as it travels: the base says so once
            assert not any(face in type(kind).__dict__ for face in stored_faces), name
        else:
            assert all(face in type(kind).__dict__ for face in stored_faces), name


def test_what_lists_may_do_with_a_kind_is_what_the_declaration_allows() -> None:
    by = kinds.BY_NAME.values()
    assert {k.name for k in by if k.filterable} == declaration._FILTERABLE
    assert {k.name for k in by if k.rangeable} == declaration._RANGEABLE
    assert {k.name for k in by if k.orderable} == declaration._ORDERABLE


def test_a_kind_that_lacks_a_face_or_a_property_cannot_be_made() -> None:
    class Half(kinds.Kind):
        name = "half"
        filterable, rangeable, orderable = False, False, False

        def annotation(self, spec: FieldSpec) -> Any:
            return str

    with pytest.raises(TypeError, match="abstract"):
        Half()  # type: ignore[abstract]
    with pytest.raises(TypeError, match="does not say its orderable"):

        class Unsaid(kinds.Kind):
            name = "unsaid"
            filterable, rangeable = False, False


def test_an_unknown_kind_is_refused_never_described_as_another() -> None:
    stray = FieldSpec("stray", "money")
    for face in (
        lambda: kinds.annotation(stray),
        lambda: kinds.json_schema(stray),
        lambda: kinds.rules_check(stray, "v"),
        lambda: kinds.query_value(stray, "1"),
        lambda: kinds.query_schema(stray),
        lambda: kinds.pattern_message(stray),
    ):
        with pytest.raises(LookupError, match="no field kind 'money'"):
            face()


@pytest.mark.parametrize("spec", [PRICE, PLACED])
def test_kinds_lists_never_filter_on_say_so_when_asked(spec: FieldSpec) -> None:
    with pytest.raises(TypeError, match=f"a {spec.kind} field is never a list filter"):
        kinds.query_value(spec, "1")
    with pytest.raises(TypeError, match="never a list filter"):
        kinds.query_schema(spec)


# --- Python ---------------------------------------------------------------------------------


def test_text_counts_utf16_units_and_refuses_blank_and_controls() -> None:
    assert check(TEXT, "ab") == "ab"
    assert check(TEXT, "abcde") == "abcde"
    assert check(TEXT, "a😀") == "a😀"  # 3 units
    assert refusal(TEXT, "a") == "Value error, is too short (at least 2 characters)"
    assert refusal(TEXT, "abcdef").startswith("String should have at most 5 characters")
    assert refusal(TEXT, "ab😀😀") == (
        "Value error, is too long (at most 5 characters; characters beyond the Basic "
        "Multilingual Plane, such as emoji, count as two)"
    )
    assert refusal(TEXT, "   ") == "Value error, must contain a non-space character"
    assert refusal(TEXT, "\u00a0\u3000") == "Value error, must contain a non-space character"
    assert "should match pattern" in refusal(TEXT, "a\tb")
    assert "should match pattern" in refusal(TEXT, "ab\u202e")
    assert check(NOTE, "a\tb\nc") == "a\tb\nc"
    assert "should match pattern" in refusal(NOTE, "a\x00")
    assert refusal(TEXT, 5).startswith("Input should be a valid string")


def test_a_texts_pattern_and_enum_are_checked_after_its_characters() -> None:
    assert check(CODE, "ABC") == "ABC"
    assert refusal(CODE, "AbC") == "Value error, does not have the required form"
    assert check(COURSE, "side") == "side"
    assert refusal(COURSE, "dessert") == "Value error, must be one of: main, side"


def test_decimals_keep_their_digits_scale_and_refuse_negative_zero() -> None:
    for good in ("0", "9999", "-9999.99", "0.5", "-0.01", "12.30"):
        assert check(PRICE, good) == good
    for bad in ("10000", "1.234", "01", "1.", ".5", "+1", "1e3", " 1"):
        assert "should match pattern" in refusal(PRICE, bad), bad
    for zero in ("-0", "-0.0", "-0.00"):
        assert refusal(PRICE, zero) == "Value error, must not be negative zero"
    assert refusal(PRICE, 1.5).startswith("Input should be a valid string")
    assert check(WHOLE, "999") == "999"
    assert "should match pattern" in refusal(WHOLE, "1.0")


def test_currency_and_date_kinds() -> None:
    assert check(CURRENCY, "EUR") == "EUR"
    for bad in ("eur", "EURO", "EU", "€"):
        assert "should match pattern" in refusal(CURRENCY, bad)
    assert check(DAY, "2024-02-29") == "2024-02-29"
    assert check(DAY, "0001-01-01") == "0001-01-01"
    assert refusal(DAY, "2023-02-29") == "Value error, must be a real calendar date"
    assert refusal(DAY, "0000-01-01") == "Value error, must be a real calendar date"
    assert refusal(DAY, "2023-04-31") == "Value error, must be a real calendar date"
    assert "should match pattern" in refusal(DAY, "2023-13-01")
    assert "should match pattern" in refusal(DAY, "2023-1-01")


def test_integers_take_integral_json_numbers_within_their_bounds() -> None:
    assert check(COUNT, -3) == -3
    assert check(COUNT, 12) == 12
    value = check(COUNT, Decimal("12.0"))
    assert value == 12
    assert type(value) is int
    assert check(COUNT, Decimal("1.2e1")) == 12
    assert refusal(COUNT, 13) == "Input should be less than or equal to 12"
    assert refusal(COUNT, -4) == "Input should be greater than or equal to -3"
    assert "valid integer" in refusal(COUNT, Decimal("1.5"))
    assert refusal(COUNT, Decimal("Infinity")) == "Input should be a finite number"


def test_booleans_and_timestamps() -> None:
    assert check(FLAG, True) is True
    assert check(FLAG, False) is False
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert check(PLACED, moment) == moment
    assert check(PLACED, "2026-01-02T03:04:05Z") == moment


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TEXT, "must not contain control characters or bidirectional controls"),
        (NOTE, "must not contain control characters"),
        (PRICE, 'must be a decimal string such as "123.45" (at most 2 decimals)'),
        (WHOLE, 'must be a decimal string such as "123" (at most 0 decimals)'),
        (
            FieldSpec("p", "decimal", scale=1),
            'must be a decimal string such as "123.4" (at most 1 decimals)',
        ),
        (
            FieldSpec("p", "decimal", scale=4),
            'must be a decimal string such as "123.4500" (at most 4 decimals)',
        ),
        (CURRENCY, 'must be an ISO 4217 code such as "EUR"'),
        (DAY, 'must be a date in the form "YYYY-MM-DD"'),
        (COUNT, "must be a whole number from -3 to 12"),
        (FLAG, "must be true or false"),
        (PLACED, "is set by the server"),
    ],
)
def test_each_kind_tells_a_wrong_value_what_it_must_be(spec: FieldSpec, message: str) -> None:
    assert kinds.pattern_message(spec) == message


# --- Firestore rules ------------------------------------------------------------------------


def test_each_kinds_rules_expression() -> None:
    label = kinds.rules_string(kinds.text_pattern_re2(TEXT))
    assert kinds.rules_check(TEXT, "v") == f"partnerApiText(v, 2, 5, {label})"
    note = kinds.rules_string(kinds.text_pattern_re2(NOTE))
    assert kinds.rules_check(NOTE, "v") == f"partnerApiText(v, 1, 10, {note})"
    assert kinds.rules_check(CODE, "d.code").endswith(" && d.code.matches('^[A-Z]+$')")
    assert kinds.rules_check(COURSE, "c").endswith(" && c in ['main', 'side']")
    assert kinds.rules_check(PRICE, "p") == (
        "partnerApiDecimal(p, '^-?(0|[1-9][0-9]{0,3})([.][0-9]{1,2})?$')"
    )
    assert kinds.rules_check(WHOLE, "p") == "partnerApiDecimal(p, '^-?(0|[1-9][0-9]{0,2})$')"
    assert kinds.rules_check(CURRENCY, "c") == "c is string && c.matches('^[A-Z]{3}$')"
    assert kinds.rules_check(DAY, "d") == "partnerApiDate(d)"
    assert kinds.rules_check(COUNT, "n") == "n is int && n >= -3 && n <= 12"
    assert kinds.rules_check(FLAG, "f") == "f is bool"
    assert kinds.rules_check(PLACED, "t") == "t == request.time"


def test_rules_strings_escape_quotes_and_backslashes() -> None:
    assert kinds.rules_string("a'b\\c") == "'a\\'b\\\\c'"
    assert kinds.rules_string("") == "''"


def test_the_rules_helpers_check_sizes_blanks_negative_zero_and_calendar_days() -> None:
    helpers = kinds.RULES_HELPERS
    assert "value.size() >= minSize" in helpers
    assert "value.size() <= maxSize" in helpers
    assert "(year % 4 == 0 && year % 100 != 0) || year % 400 == 0" in helpers
    assert "month == 2 ? (partnerApiLeapYear(year) ? 29 : 28)" in helpers
    assert "(month in [4, 6, 9, 11] ? 30 : 31)" in helpers
    assert "int(value[0:4]) >= 1" in helpers
    assert "int(value[8:10]) <= partnerApiDaysInMonth(int(value[0:4]), int(value[5:7]))" in helpers
    assert "'^-0([.]0+)?$'" in helpers


# --- JSON Schema ----------------------------------------------------------------------------


def test_each_kinds_json_schema() -> None:
    text = kinds.json_schema(TEXT)
    assert text == {
        "type": "string",
        "minLength": 2,
        "maxLength": 5,
        "pattern": kinds.not_blank_text_pattern(TEXT),
        "description": "Text." + kinds.UTF16_NOTE,
    }
    assert kinds.json_schema(COURSE)["enum"] == ["main", "side"]
    assert "pattern" not in kinds.json_schema(COURSE)
    assert kinds.json_schema(CODE)["allOf"] == [
        {"pattern": kinds.not_blank_text_pattern(CODE)},
        {"pattern": "^[A-Z]+$"},
    ]
    price = kinds.json_schema(PRICE)
    assert price["type"] == "string"
    assert price["pattern"] == kinds.exact_decimal_pattern(PRICE)
    assert price["description"] == (
        "An exact decimal carried as a string: an optional minus sign, up to 4 digits, and "
        "up to 2 decimals. Never a JSON number."
    )
    assert kinds.json_schema(CURRENCY) == {
        "type": "string",
        "pattern": "^[A-Z]{3}$",
        "description": "ISO 4217 currency code (three capital letters).",
    }
    assert kinds.json_schema(DAY) == {
        "type": "string",
        "format": "date",
        "pattern": kinds.DATE_JSON_PATTERN,
        "description": "ISO calendar date, YYYY-MM-DD.",
    }
    assert kinds.json_schema(COUNT) == {
        "type": "integer",
        "minimum": -3,
        "maximum": 12,
        "description": "A whole number.",
    }
    assert kinds.json_schema(FLAG) == {"type": "boolean", "description": "True or false."}
    assert kinds.json_schema(PLACED) == {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
        "description": "Set by the server when the record is created.",
    }
    assert kinds.json_schema(TOUCHED)["description"] == (
        "Set by the server when the record is written."
    )


def test_a_declared_description_and_example_replace_the_defaults() -> None:
    for kind in ("decimal", "currency", "date", "integer", "boolean", "timestamp"):
        spec = FieldSpec("f", kind, description="Said.", example="x")
        schema = kinds.json_schema(spec)
        assert schema["description"] == "Said.", kind
        assert schema["examples"] == ["x"]
    said = kinds.json_schema(FieldSpec("f", "text", max_length=3, description="Said."))
    assert said["description"] == "Said." + kinds.UTF16_NOTE
    assert "examples" not in kinds.json_schema(TEXT)


@pytest.mark.parametrize(
    ("spec", "accepted", "refused"),
    [
        (
            PRICE,
            ["0", "0.5", "-0.5", "-0.05", "9999.99", "-1", "0.00"],
            ["-0", "-0.0", "-0.00", "10000", "1.234"],
        ),
        (WHOLE, ["0", "-1", "999"], ["-0", "1000", "1.0"]),
        (
            FieldSpec("p", "decimal", digits=2, scale=3),
            ["-0.001", "-0.1", "-0.010", "99.999"],
            ["-0.000", "100"],
        ),
    ],
)
def test_the_documents_decimal_pattern_is_exact(
    spec: FieldSpec, accepted: list[str], refused: list[str]
) -> None:
    pattern = re.compile(kinds.exact_decimal_pattern(spec))
    assert [v for v in accepted if not pattern.fullmatch(v)] == []
    assert [v for v in refused if pattern.fullmatch(v)] == []


def test_the_json_date_pattern_has_no_year_zero() -> None:
    pattern = re.compile(kinds.DATE_JSON_PATTERN)
    for good in ("0001-01-01", "0010-12-31", "0100-06-15", "1000-01-01", "2026-02-28"):
        assert pattern.fullmatch(good), good
    for bad in ("0000-01-01", "2026-00-01", "2026-13-01", "2026-01-00", "2026-01-32", "226-01-01"):
        assert not pattern.fullmatch(bad), bad


def test_the_not_blank_text_pattern_needs_one_visible_character() -> None:
    label = re.compile(kinds.not_blank_text_pattern(TEXT))
    note = re.compile(kinds.not_blank_text_pattern(NOTE))
    assert label.fullmatch(" a ")
    assert not label.fullmatch("   ")
    assert not label.fullmatch("\u00a0")
    assert not label.fullmatch("a\u202eb")
    assert not label.fullmatch("a\tb")
    assert note.fullmatch("a\tb\nc")
    assert not note.fullmatch("\t\n ")
    assert not note.fullmatch("a\x00")


# --- query strings --------------------------------------------------------------------------


def test_filter_values_are_typed_as_stored_and_bounded() -> None:
    assert kinds.query_value(COUNT, "-3") == -3
    assert kinds.query_value(COUNT, "12") == 12
    for bad in ("13", "-4", "1.0", "x", "", "12345678901234567"):
        with pytest.raises(ValueError, match=r"^must be a whole number from -3 to 12$"):
            kinds.query_value(COUNT, bad)
    assert kinds.query_value(FLAG, "true") is True
    assert kinds.query_value(FLAG, "false") is False
    for bad in ("True", "1", "yes", ""):
        with pytest.raises(ValueError, match=r"^must be true or false$"):
            kinds.query_value(FLAG, bad)
    assert kinds.query_value(DAY, "2024-02-29") == "2024-02-29"
    for bad in ("2023-02-29", "2024-2-1", "today"):
        with pytest.raises(ValueError, match=r'^must be a date "YYYY-MM-DD"$'):
            kinds.query_value(DAY, bad)
    assert kinds.query_value(CURRENCY, "USD") == "USD"
    with pytest.raises(ValueError, match=r'^must be an ISO 4217 code such as "EUR"$'):
        kinds.query_value(CURRENCY, "usd")
    assert kinds.query_value(TEXT, "a") == "a"  # shorter than a stored value: matches none
    assert kinds.query_value(TEXT, "abcde") == "abcde"
    for bad in ("", "abcdef"):
        with pytest.raises(ValueError, match=r"^must be 1 to 5 characters$"):
            kinds.query_value(TEXT, bad)


def test_filter_schemas_say_what_query_values_accept() -> None:
    assert kinds.query_schema(COUNT) == {"type": "integer", "minimum": -3, "maximum": 12}
    assert kinds.query_schema(FLAG) == {"type": "string", "enum": ["true", "false"]}
    assert kinds.query_schema(DAY) == {
        "type": "string",
        "format": "date",
        "pattern": kinds.DATE_JSON_PATTERN,
    }
    assert kinds.query_schema(CURRENCY) == {"type": "string", "pattern": "^[A-Z]{3}$"}
    assert kinds.query_schema(TEXT) == {"type": "string", "minLength": 1, "maxLength": 5}


def test_utf16_length_counts_surrogate_pairs_twice() -> None:
    assert kinds.utf16_length("") == 0
    assert kinds.utf16_length("abc") == 3
    assert kinds.utf16_length("é") == 1
    assert kinds.utf16_length("😀") == 2
    assert kinds.utf16_length("a😀b") == 4
