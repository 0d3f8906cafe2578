"""Entry payloads that the API's model and the Firestore rules must judge alike.

Each case is the writable part of an entry and whether it is valid; the rules tests add
the server fields a real create carries. Values are plain JSON, as a client would send.
"""

from __future__ import annotations

from typing import Any

BASE: dict[str, Any] = {
    "description": "Catering, March",
    "amount": "123.45",
    "currency": "EUR",
    "date": "2026-03-31",
}


def _with(**changes: Any) -> dict[str, Any]:
    payload = {**BASE, **changes}
    return {k: v for k, v in payload.items() if v is not None}


VALID: dict[str, dict[str, Any]] = {
    "minimal": _with(),
    "with category and reference": _with(category="food", reference="INV-2026-0042"),
    "negative amount": _with(amount="-45.50"),
    "zero": _with(amount="0"),
    "one decimal": _with(amount="7.5"),
    "fifteen digits": _with(amount="123456789012345.99"),
    "leap day": _with(date="2024-02-29"),
    "year 2000 leap day": _with(date="2000-02-29"),
    "thirty-first": _with(date="2026-12-31"),
    "description at 500": _with(description="d" * 500),
    "description with newline": _with(description="line one\nline two"),
    "unicode description": _with(description="Café, crème brûlée"),
    "category at 64": _with(category="c" * 64),
    "reference at 128": _with(reference="r" * 128),
    "no-break spaces around text": _with(description="\u00a0Catering\u00a0"),
    "emoji": _with(description="\U0001f355 pizza night"),
    "250 astral characters (500 UTF-16 units)": _with(description="\U0001f355" * 250),
    "32 astral characters in category": _with(category="\U0001f355" * 32),
    "499 units then an astral character": _with(description="d" * 498 + "\U0001f355"),
}

INVALID: dict[str, dict[str, Any]] = {
    "missing description": _with(description=None),
    "missing amount": _with(amount=None),
    "missing currency": _with(currency=None),
    "missing date": _with(date=None),
    "empty description": _with(description=""),
    "blank description": _with(description="   "),
    "description over 500": _with(description="d" * 501),
    "NUL in description": _with(description="a\u0000b"),
    "escape in description": _with(description="a\u001bb"),
    "amount as number": _with(amount=123.45),
    "amount as integer": _with(amount=12),
    "three decimals": _with(amount="12.345"),
    "thousands separator": _with(amount="1,000.00"),
    "leading zero": _with(amount="01.00"),
    "sixteen digits": _with(amount="1234567890123456"),
    "negative zero": _with(amount="-0"),
    "negative zero with decimals": _with(amount="-0.00"),
    "plus sign": _with(amount="+1.00"),
    "trailing dot": _with(amount="1."),
    "exponent": _with(amount="1e3"),
    "lowercase currency": _with(currency="eur"),
    "four-letter currency": _with(currency="EURO"),
    "currency as number": _with(currency=978),
    "day 30 of February": _with(date="2026-02-30"),
    "non-leap February 29": _with(date="2026-02-29"),
    "century non-leap": _with(date="1900-02-29"),
    "April 31": _with(date="2026-04-31"),
    "month 13": _with(date="2026-13-01"),
    "year zero": _with(date="0000-01-01"),
    "date with time": _with(date="2026-03-31T00:00:00Z"),
    "empty category": _with(category=""),
    "category over 64": _with(category="c" * 65),
    "newline in category": _with(category="a\nb"),
    "reference over 128": _with(reference="r" * 129),
    "null category": {**BASE, "category": None},
    "unknown field": _with(isAdmin=True),
    "no-break space description": _with(description="\u00a0"),
    "ideographic space description": _with(description="\u3000\u3000"),
    "next-line description": _with(description="\u0085"),
    "line separator category": _with(category="\u2028"),
    "zero-width reference": _with(reference="\u200b\ufeff"),
    "mixed blanks description": _with(description=" \u00a0\t\u2003\n"),
    "251 astral characters (502 UTF-16 units)": _with(description="\U0001f355" * 251),
    "33 astral characters in category": _with(category="\U0001f355" * 33),
    "500 units then an astral character": _with(description="d" * 499 + "\U0001f355"),
}


def unicode_samples() -> dict[str, dict[str, Any]]:
    """Payloads drawn from the Unicode categories that blank checks and control-character
    patterns meet (separators, controls, format characters): every such character of the
    Basic Multilingual Plane alone as a description and as a category. No verdict is
    given: the rules and the model must simply agree on each."""
    import unicodedata

    from functions.core.models import BIDI_CONTROLS, BLANK_RANGES

    codes = {
        code
        for code in range(0x10000)
        if not 0xD800 <= code <= 0xDFFF
        and unicodedata.category(chr(code)) in {"Zs", "Zl", "Zp", "Cc", "Cf"}
    }
    for low, high in BLANK_RANGES:  # the blank set, beyond the plane by its ends and middle
        codes |= set(range(low, high + 1)) if high <= 0xFFFF else {low, (low + high) // 2, high}
    samples: dict[str, dict[str, Any]] = {}
    for code in sorted(codes):
        samples[f"description U+{code:04X}"] = _with(description=chr(code))
        samples[f"category U+{code:04X}"] = _with(category=chr(code))
    for low, high in BIDI_CONTROLS:  # inside visible text: refused on one line only
        for code in range(low, high + 1):
            samples[f"description a U+{code:04X} b"] = _with(description=f"a{chr(code)}b")
            samples[f"category a U+{code:04X} b"] = _with(category=f"a{chr(code)}b")
    return samples


def model_accepts(payload: dict[str, Any]) -> bool:
    """Whether the API's model takes `payload` as a create body (sent as JSON)."""
    import json

    from functions.core.errors import ValidationFailed
    from functions.resources import declaration, validation

    entries = declaration.current().get("entries")
    assert entries is not None

    try:
        validation.parse_create(entries, json.loads(json.dumps(payload)))
    except ValidationFailed:
        return False
    return True
