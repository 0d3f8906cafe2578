"""The entry models: the shared corpus judged by the model, the patterns the rules share
with it, and the positions cursors carry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from functions.core import models
from functions.core.errors import ValidationFailed
from functions.core.models import Position
from functions.resources import declaration, validation
from tests.corpus import INVALID, VALID, model_accepts
from tests.helpers import ROOT

ENTRIES = declaration.current().resources[0]
CORPUS = [(name, payload, True) for name, payload in VALID.items()] + [
    (name, payload, False) for name, payload in INVALID.items()
]


@pytest.mark.parametrize(("name", "payload", "valid"), CORPUS, ids=[c[0] for c in CORPUS])
def test_model_judges_the_corpus(name: str, payload: dict[str, Any], valid: bool) -> None:
    assert model_accepts(payload) is valid


@pytest.mark.parametrize(
    "pattern",
    [
        models.AMOUNT_PATTERN,
        models.NEGATIVE_ZERO_PATTERN,
        models.CURRENCY_PATTERN,
        models.DATE_PATTERN,
        models.TEXT_PATTERN,
        models.LABEL_PATTERN_RE2,
    ],
)
def test_rules_use_the_models_patterns(pattern: str) -> None:
    rules = (ROOT / "firestore.rules").read_text()
    assert f"'{pattern.replace(chr(92), chr(92) * 2)}'" in rules


def test_a_patch_must_change_something_and_never_null_a_required_field() -> None:
    with pytest.raises(ValidationFailed, match="at least one field"):
        validation.parse_patch(ENTRIES, {})
    with pytest.raises(ValidationFailed) as caught:
        validation.parse_patch(ENTRIES, {"amount": None})
    assert caught.value.details == [{"field": "amount", "message": "is required; cannot be null"}]
    sets, clears = validation.parse_patch(ENTRIES, {"amount": "1.00", "category": None}).changes()
    assert (sets, clears) == ({"amount": "1.00"}, ("category",))


def test_unknown_and_server_fields_are_named_without_echoing_input() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validation.parse_create(ENTRIES, {**VALID["minimal"], "version": 2, "<script>": 1})
    assert {"field": "version", "message": "is set by the server and cannot be written"} in (
        caught.value.details
    )
    assert {"field": "(unknown field)", "message": "is not a field of an entry"} in (
        caught.value.details
    )


@pytest.mark.parametrize("by_date", [False, True])
def test_a_position_survives_its_round_trip(by_date: bool) -> None:
    moment = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    keys = ("2026-03-01", moment) if by_date else (moment,)
    position = Position(keys, "abc_123")
    kinds = ("date", "timestamp") if by_date else ("timestamp",)
    assert Position.from_values(json.loads(json.dumps(position.values())), kinds=kinds) == (
        position
    )


@pytest.mark.parametrize(
    "values",
    [
        "not a list",
        ["2026-03-01T00:00:00+00:00"],
        ["2026-03-01T00:00:00+00:00", 7],
        ["2026-03-01T00:00:00+00:00", "a/b"],
        ["2026-03-01T00:00:00+00:00", "__name__"],
        ["2026-03-01T00:00:00", "abc"],
        ["0001-01-01T00:00:00+14:00", "abc"],
        ["9999-12-31T23:59:59-14:00", "abc"],
        ["yesterday", "abc"],
    ],
)
def test_a_forged_position_is_refused(values: Any) -> None:
    with pytest.raises(ValueError, match=r"^(not|a time)"):
        Position.from_values(values, kinds=("timestamp",))


# --- blank text and document ids ----------------------------------------------------------


INVISIBLE = ["\u200e", "\u00ad", "\u2063", "\u202e", "\u3164", "\u2800", "\U000e0020"]
"""Characters text was once accepted with, alone: each is invisible or blank-looking."""


def test_the_blank_set_is_whitespace_and_every_invisible_character() -> None:
    import unicodedata

    listed = {c for low, high in models.BLANK_RANGES for c in range(low, high + 1)}
    whitespace = {c for c in range(0x110000) if chr(c).isspace()}
    formats = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert whitespace <= listed
    assert formats <= listed  # every format character this Python knows (Unicode 14)
    assert {ord(c) for c in INVISIBLE} <= listed
    # and nothing one can see: spaces, controls, formats, marks and fillers that draw
    # nothing, the braille blank, code points not yet assigned
    drawn = {
        hex(c)
        for c in listed
        if unicodedata.category(chr(c))
        not in {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Lo", "So", "Cn"}
    }
    assert drawn == set()
    assert {
        unicodedata.name(chr(c), "") for c in listed if unicodedata.category(chr(c)) == "So"
    } == {"BRAILLE PATTERN BLANK"}


@pytest.mark.parametrize("character", INVISIBLE)
def test_text_of_one_invisible_character_is_refused(character: str) -> None:
    for text in (character, character * 3, f" {character}\u200b"):
        with pytest.raises(ValidationFailed) as caught:
            validation.parse_create(ENTRIES, {**VALID["minimal"], "description": text})
        assert caught.value.details == [
            {"field": "description", "message": "must contain a non-space character"}
        ]


@pytest.mark.parametrize("control", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_bidirectional_controls_are_refused_in_single_line_text_only(control: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validation.parse_create(ENTRIES, {**VALID["minimal"], "category": f"abc{control}def"})
    assert caught.value.details == [
        {
            "field": "category",
            "message": "must not contain control characters or bidirectional controls",
        }
    ]
    draft = validation.parse_create(ENTRIES, {**VALID["minimal"], "description": f"a{control}b"})
    assert draft.fields["description"] == f"a{control}b"  # multiline text may hold them


@pytest.mark.parametrize("text", ["\u00a0", "\u3000", "\u2028", "\u0085", " \u200b\ufeff "])
def test_text_of_unicode_blanks_only_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validation.parse_create(ENTRIES, {**VALID["minimal"], "description": text})
    assert caught.value.details == [
        {"field": "description", "message": "must contain a non-space character"}
    ]


def test_the_rules_refuse_blank_text_and_odd_ids_with_the_models_patterns() -> None:
    rules = (ROOT / "firestore.rules").read_text()
    assert f"!value.matches('{models.BLANK_PATTERN_RE2.replace(chr(92), chr(92) * 2)}')" in rules
    assert "value.trim()" not in rules
    assert f"id.matches('^{models.ENTRY_ID_CHARS}$')" in rules


@pytest.mark.parametrize(
    ("value", "readable"),
    [
        ("abc", True),
        ("odd.id", True),
        ("Café", True),
        ("x" * 1500, True),
        ("x" * 1501, False),
        ("é" * 751, False),
        ("", False),
        ("a/b", False),
        (".", False),
        ("..", False),
        ("__x__", False),
        ("____", False),
        ("__x", True),
    ],
)
def test_any_id_firestore_can_hold_is_readable(value: str, readable: bool) -> None:
    assert models.is_document_id(value) is readable


def test_a_position_may_carry_any_stored_id() -> None:
    values = ["2026-03-01T00:00:00+00:00", "odd.id é"]
    assert Position.from_values(values, kinds=("timestamp",)).doc_id == "odd.id é"
