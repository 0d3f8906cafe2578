"""Documents drawn from a declaration, judged by the rules (on the Firestore emulator) and by
the API's model: the property is that both verdicts are always the same.

The drawing leans on the edges where the two languages could part: Unicode blanks and
controls, astral characters at length limits, negative zero, impossible dates, numbers of
the wrong JSON type, nulls, unknown and hidden fields, and ids the API cannot read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import unicodedata
from collections.abc import Callable
from typing import Any

from hypothesis import event
from hypothesis import strategies as st

from functions.core.errors import ValidationFailed
from functions.core.models import BLANK_RANGES, ENTRY_ID_PATTERN
from functions.edge.http.parsing import parse_json_object
from functions.resources import declaration, kinds, validation
from functions.resources.declaration import FieldSpec, Resource
from tests.emulator.rest import create_doc
from tests.helpers import User

MISSING = object()
_ids = itertools.count()

SPECIAL_CHARACTERS = sorted(
    {chr(c) for low, high in BLANK_RANGES for c in range(low, high + 1)}
    | {
        chr(c)
        for c in range(0x10000)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) in {"Cc", "Cf", "Zs"}
    }
)
ODD_IDS = ["odd.id é", "a b", "__x__", "x" * 129, "ünïcode", "semi;colon", "dot."]


def _text(spec: FieldSpec) -> st.SearchStrategy[Any]:
    mixed = st.text(
        alphabet=st.one_of(
            st.sampled_from(SPECIAL_CHARACTERS), st.characters(codec="utf-8"), st.just("\U0001f355")
        ),
        max_size=min(spec.max_length + 2, 40),
    )
    edges = [
        "x" * spec.max_length,
        "x" * (spec.max_length + 1),
        "\U0001f355" * (spec.max_length // 2),
        "\U0001f355" * (spec.max_length // 2 + 1),
        "x" * (spec.max_length - 1) + "\U0001f355",
    ]
    options = [mixed, st.sampled_from(edges), st.sampled_from(SPECIAL_CHARACTERS)]
    if spec.enum:
        options.append(st.sampled_from(spec.enum))
        options.append(
            st.sampled_from([v.upper() for v in spec.enum] + [v + " " for v in spec.enum])
        )
    if spec.pattern:
        options.append(st.from_regex(spec.pattern, fullmatch=True))
    return st.one_of(*options)


def values(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Values near and across the edges of one field."""
    wrong_types = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.just(1.5))
    if spec.kind == "text":
        kind = _text(spec)
    elif spec.kind == "decimal":
        kind = st.one_of(
            st.from_regex(
                rf"-?[0-9]{{1,{spec.digits + 1}}}(\.[0-9]{{0,{spec.scale + 1}}})?", fullmatch=True
            ),
            st.sampled_from(["-0", "-0.00", "-0.0", "00", "1.", ".5", "+1", "1e3", " 1"]),
        )
    elif spec.kind == "currency":
        kind = st.from_regex(r"[A-Za-z]{2,4}", fullmatch=True)
    elif spec.kind == "date":
        kind = st.one_of(
            st.dates().map(lambda day: day.isoformat()),
            st.sampled_from(["2026-02-29", "2024-02-29", "0000-01-01", "2026-13-01", "2026-1-01"]),
        )
    elif spec.kind == "integer":
        kind = st.one_of(
            st.integers(spec.minimum - 3, spec.minimum + 3),
            st.integers(spec.maximum - 3, spec.maximum + 3),
            st.integers(-(2**40), 2**40),
            st.just(2.0),
            st.sampled_from(["7", True]),
        )
    elif spec.kind in NEW_KINDS:
        kind = NEW_KINDS[spec.kind](spec)
    else:
        kind = st.one_of(st.booleans(), st.sampled_from([0, 1, "true"]))
    return st.one_of(kind, kind, wrong_types)


def _numbers(spec: FieldSpec) -> st.SearchStrategy[Any]:
    edges = [b + d for b in (spec.low, spec.high) if b is not None for d in (-0.5, 0.0, 0.5)]
    return st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        st.integers(-(2**60), 2**60),
        st.sampled_from([*edges, 1e308, -0.0, "1.5", True]),
    )


def _datetimes(spec: FieldSpec) -> st.SearchStrategy[Any]:
    offsets = st.sampled_from(["Z", "z", "+02:00", "-05:30", "+00:00", "", "+2:00"])
    fractions = st.sampled_from(["", ".5", ".123456", ".1234567", "."])
    moments = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))
    text = st.builds(
        lambda m, f, z: m.isoformat(timespec="seconds") + f + z, moments, fractions, offsets
    )
    edges = [
        b.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        for b in (spec.low, spec.high)
        if b is not None
    ]
    return st.one_of(text, st.sampled_from([*edges, "2026-02-29T00:00:00Z", "2026-03-31"]))


def _geopoints(spec: FieldSpec) -> st.SearchStrategy[Any]:
    coordinate = st.one_of(
        st.floats(-200, 200, allow_nan=False), st.integers(-200, 200), st.just("1")
    )
    return st.one_of(
        st.fixed_dictionaries({"latitude": coordinate, "longitude": coordinate}),
        st.fixed_dictionaries({"latitude": coordinate}),
        st.just([1.0, 2.0]),
    )


def _references(spec: FieldSpec) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True), st.sampled_from([*ODD_IDS, "a/b"])
    )


def _lists(spec: FieldSpec) -> st.SearchStrategy[Any]:
    assert spec.of is not None
    item = st.one_of(valid(spec.of), values(spec.of))
    return st.lists(item, min_size=max(spec.min_items - 1, 0), max_size=spec.max_items + 1)


def _maps(spec: FieldSpec) -> st.SearchStrategy[Any]:
    @st.composite
    def draw_map(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for item in spec.fields:
            if _chance(draw, 9 if item.required else 5):
                body[item.name] = draw(valid(item) if _chance(draw, 7) else values(item))
        if _chance(draw, 1):
            body["unknown"] = 1
        return body

    return draw_map()


def valid(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Values the API accepts (drawn beside the edges, so that documents with many fields
    are accepted often enough for the property to test both verdicts)."""
    return VALID[spec.kind](spec)


def _valid_text(spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.enum:
        return st.sampled_from(spec.enum)
    if spec.pattern:
        return st.from_regex(spec.pattern, fullmatch=True)
    longest = min(spec.max_length, 12)
    return st.from_regex(
        rf"[A-Za-z][A-Za-z ]{{{spec.min_length - 1},{longest - 1}}}", fullmatch=True
    )


def _valid_datetime(spec: FieldSpec) -> st.SearchStrategy[Any]:
    low = (spec.low or dt.datetime(1, 1, 2, tzinfo=dt.UTC)).replace(tzinfo=None)
    high = (spec.high or dt.datetime(9999, 12, 30, tzinfo=dt.UTC)).replace(tzinfo=None)
    moments = st.datetimes(min_value=low, max_value=high)
    return moments.map(lambda m: m.isoformat(timespec="microseconds") + "Z")


def _valid_list(spec: FieldSpec) -> st.SearchStrategy[Any]:
    assert spec.of is not None
    return st.lists(valid(spec.of), min_size=spec.min_items, max_size=spec.max_items)


def _valid_map(spec: FieldSpec) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {item.name: valid(item) for item in spec.fields if item.required},
        optional={item.name: valid(item) for item in spec.fields if not item.required},
    )


VALID: dict[str, Callable[[FieldSpec], st.SearchStrategy[Any]]] = {
    "text": _valid_text,
    "decimal": lambda s: st.from_regex(rf"[1-9][0-9]{{0,{s.digits - 1}}}", fullmatch=True),
    "currency": lambda s: st.from_regex(r"[A-Z]{3}", fullmatch=True),
    "date": lambda s: st.dates(min_value=dt.date(1, 1, 1)).map(lambda day: day.isoformat()),
    "integer": lambda s: st.integers(s.minimum, s.maximum),
    "boolean": lambda s: st.booleans(),
    "number": lambda s: st.floats(s.low, s.high, allow_nan=False, allow_infinity=False),
    "datetime": _valid_datetime,
    "geopoint": lambda s: st.fixed_dictionaries(
        {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
    ),
    "reference": lambda s: st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True),
    "list": _valid_list,
    "map": _valid_map,
}


NEW_KINDS = {
    "number": _numbers,
    "datetime": _datetimes,
    "geopoint": _geopoints,
    "reference": _references,
    "list": _lists,
    "map": _maps,
}


def _chance(draw: st.DrawFn, tenths: int) -> bool:
    """True about `tenths` times in ten. Hypothesis favours the first of the choices (and
    the ends of an integer range), so the likelier outcome is listed first."""
    choices = [True] * tenths + [False] * (10 - tenths)
    return bool(draw(st.sampled_from(choices if tenths >= 5 else choices[::-1])))


@st.composite
def documents(draw: st.DrawFn, resource: Resource) -> tuple[str, dict[str, Any]]:
    """(document id, the fields a client sends) for one create."""
    body: dict[str, Any] = {}
    # A third of the documents draw every field from its edges; the others draw valid
    # values and then one field from its edges, so both verdicts are tested often.
    fields = [s for s in resource.fields if s.creatable and s.name not in resource.api_only]
    edged = draw(st.sampled_from([None, *fields])) if _chance(draw, 7) else "all"
    for spec in fields:  # an API-only field is left out: the rules refuse it whole
        if _chance(draw, 9 if spec.required else 5):
            at_edge = edged in ("all", spec)
            body[spec.name] = draw(values(spec) if at_edge else valid(spec))
    extra = [s.name for s in resource.fields if not s.creatable and not s.server_set]
    if _chance(draw, 1):
        body[draw(st.sampled_from([*extra, "colour", "Description"]))] = "x"
    plain = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
    base = draw(st.sampled_from(ODD_IDS) if _chance(draw, 2) else plain)
    return f"{base}{next(_ids)}", body


def api_stores(resource: Resource, doc_id: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """What the API would store for this create (the body as the server parses JSON, with
    an id it can read), or None when it refuses it."""
    try:
        draft = validation.parse_create(resource, parse_json_object(json.dumps(body).encode()))
    except ValidationFailed:
        return None
    fields = draft.stored_fields()
    if not ENTRY_ID_PATTERN.fullmatch(doc_id) or _into_declared(resource, fields):
        return None
    return fields


def _into_declared(resource: Resource, fields: dict[str, Any]) -> bool:
    """Whether a value references a declared collection: the drawn ids name no record of
    the caller's, so the API refuses it (422) as the rules do (their get() fails)."""
    declared = declaration.current()
    return any(
        declared.at(path.collection) is not None
        for spec in resource.fields
        if spec.name in fields
        for path in kinds.references(spec, fields[spec.name])
    )


def rules_accept(
    resource: Resource, user: User, partner_id: str, doc_id: str, body: dict[str, Any]
) -> bool:
    """What the rules decide for a direct client create of the same document."""
    book = resource.bookkeeping
    server = {book.created_by: user.uid, book.version: 1}
    document = {
        **body,
        **(
            {}
            if resource.tenant_in_path
            else {resource.tenant_field: resource.tenant_value(partner_id)}
        ),
        **{name: value for name, value in server.items() if name is not None},
    }
    times = (
        *(name for name in (book.created_at, book.updated_at) if name is not None),
        *(s.name for s in resource.fields if s.server_set),
    )
    collection = resource.collection_of(partner_id)
    response = create_doc(user.token, doc_id, document, collection=collection, times=times)
    assert response.status_code in (200, 400, 403), response.text[:300]
    return response.status_code == 200


def assert_parity(
    resource: Resource, user: User, partner_id: str, drawn: tuple[str, dict[str, Any]]
) -> None:
    """What the API refuses, the rules refuse; what the API stores, the rules accept.

    For every body without JSON-only spellings this is one verdict judged twice; a whole
    number sent as 204.0 is stored by the API as the integer 204, and that stored document
    is what the rules must accept."""
    doc_id, body = drawn
    stored = api_stores(resource, doc_id, body)
    event("refused by both" if stored is None else "accepted by both")
    if stored is None:
        assert not rules_accept(resource, user, partner_id, doc_id, body), ("rules", doc_id, body)
    else:
        assert rules_accept(resource, user, partner_id, doc_id, stored), ("api", doc_id, stored)
