"""Documents drawn from a declaration, judged by the rules (on the Firestore emulator) and by
the API's model: the property is that both verdicts are always the same.

The drawing leans on the edges where the two languages could part: Unicode blanks and
controls, astral characters at length limits, negative zero, impossible dates, numbers of
the wrong JSON type, nulls, unknown and hidden fields, and ids the API cannot read.
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from typing import Any

from hypothesis import strategies as st

from functions.core.errors import ValidationFailed
from functions.core.models import BLANK_RANGES, ENTRY_ID_PATTERN
from functions.edge.http.parsing import parse_json_object
from functions.resources import validation
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
    else:
        kind = st.one_of(st.booleans(), st.sampled_from([0, 1, "true"]))
    return st.one_of(kind, kind, wrong_types)


@st.composite
def documents(draw: st.DrawFn, resource: Resource) -> tuple[str, dict[str, Any]]:
    """(document id, the fields a client sends) for one create."""
    body: dict[str, Any] = {}
    for spec in resource.fields:
        if not spec.creatable:
            continue
        present = draw(st.integers(0, 9)) < (8 if spec.required else 5)
        if present:
            body[spec.name] = draw(values(spec))
    extra = [s.name for s in resource.fields if not s.creatable and not s.server_set]
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.sampled_from([*extra, "colour", "Description"]))] = "x"
    base = draw(
        st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True), st.sampled_from(ODD_IDS))
    )
    return f"{base}{next(_ids)}", body


def api_stores(resource: Resource, doc_id: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """What the API would store for this create (the body as the server parses JSON, with
    an id it can read), or None when it refuses it."""
    try:
        draft = validation.parse_create(resource, parse_json_object(json.dumps(body).encode()))
    except ValidationFailed:
        return None
    return draft.stored_fields() if ENTRY_ID_PATTERN.fullmatch(doc_id) else None


def rules_accept(
    resource: Resource, user: User, partner_id: str, doc_id: str, body: dict[str, Any]
) -> bool:
    """What the rules decide for a direct client create of the same document."""
    book = resource.bookkeeping
    server = {book.created_by: user.uid, book.version: 1}
    document = {
        **body,
        resource.tenant_field: partner_id,
        **{name: value for name, value in server.items() if name is not None},
    }
    times = (
        *(name for name in (book.created_at, book.updated_at) if name is not None),
        *(s.name for s in resource.fields if s.server_set),
    )
    response = create_doc(user.token, doc_id, document, collection=resource.collection, times=times)
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
    if stored is None:
        assert not rules_accept(resource, user, partner_id, doc_id, body), ("rules", doc_id, body)
    else:
        assert rules_accept(resource, user, partner_id, doc_id, stored), ("api", doc_id, stored)
