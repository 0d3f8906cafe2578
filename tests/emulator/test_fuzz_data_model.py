"""Contract fuzzing of every field kind (tests/fixtures/data_model.toml): numbers,
date-times, geopoints, reference ids, lists, maps in lists and maps, a tenant kept as a
reference, a tenant's subcollection and deletes. What the document generated from the
declaration promises, the server accepts; what it refuses, the server refuses; nothing
is a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis

from functions.contract import openapi
from functions.core.models import rfc3339
from functions.resources import kinds
from tests.emulator.test_fuzz import (
    CONFIG,
    FUZZING,
    api_served_locally,
    call_as_partner,
    fuzzing_partner,
)
from tests.helpers import data_model_declaration

pytestmark = pytest.mark.empty_database  # it swaps the rules for a declaration of its own

DECLARATION = data_model_declaration()
schema = schemathesis.openapi.from_dict(openapi.build(DECLARATION), config=CONFIG).include(
    path_regex="^/api/v1/(deliveries|orders|specials|couriers)"
)
sent: dict[str, int] = {"requests": 0, "server_errors": 0}


@pytest.fixture(scope="module", autouse=True)
def totals(data_model: Any) -> Iterator[dict[str, int]]:
    sent.update(requests=0, server_errors=0)
    yield sent
    print(f"\nfuzz (every kind): {sent['requests']} requests, {sent['server_errors']} 5xx")
    assert sent["server_errors"] == 0
    assert sent["requests"] > 0


@pytest.fixture(scope="module")
def base_url(data_model: Any) -> Iterator[str]:
    """The `api` function on a local HTTP server (`/api/v1/x` reaches it as `/v1/x`)."""
    yield from api_served_locally()


@pytest.fixture(scope="module")
def fuzz_token(data_model: Any) -> str:
    return fuzzing_partner("fuzz-kinds")


def within_what_json_schema_cannot_say(case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """Valid data as a client could send it, where the document cannot state a rule: a
    reference into a declared collection names one of the caller's own records (a made-up
    id is refused, 422, as it must be), and a datetime's bounds (JSON Schema bounds
    numbers only; the document gives them as formatMinimum/formatMaximum), and text
    lengths in UTF-16 code units as the rules count them (JSON Schema counts characters;
    each text's description says so)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if case.query:
        _one_range_in_order(case.query)
    if not isinstance(case.body, dict):
        return case
    body: dict[str, Any] = _in_the_basic_plane(case.body)
    body.pop("courier", None)
    deliveries = DECLARATION.get("deliveries")
    assert deliveries is not None
    if isinstance(body.get("promised_for"), str):
        body["promised_for"] = rfc3339(deliveries.field("promised_for").low)
    case.body = body
    return case


def _in_the_basic_plane(value: Any) -> Any:
    """`value` with each character beyond the Basic Multilingual Plane as an `x`."""
    if isinstance(value, str):
        return "".join("x" if ord(c) > 0xFFFF else c for c in value)
    if isinstance(value, list):
        return [_in_the_basic_plane(item) for item in value]
    if isinstance(value, dict):
        return {key: _in_the_basic_plane(item) for key, item in value.items()}
    return value


def _one_range_in_order(query: dict[str, Any]) -> None:
    """A list bounds one range at a time (400 otherwise), from its low end to its high."""
    bounded = [name.removesuffix("From") for name in query if name.endswith("From")]
    bounded += [name.removesuffix("To") for name in query if name.endswith("To")]
    for extra in list(dict.fromkeys(bounded))[1:]:
        query.pop(f"{extra}From", None)
        query.pop(f"{extra}To", None)
    for name in dict.fromkeys(bounded):
        low, high = query.get(f"{name}From"), query.get(f"{name}To")
        if low is None or high is None:
            continue
        spec = next(r for r in DECLARATION.resources if r.name == "deliveries").field(name)
        if kinds.query_value(spec, str(low)) > kinds.query_value(spec, str(high)):
            query[f"{name}From"], query[f"{name}To"] = high, low


@schema.parametrize()
@FUZZING
def test_every_kinds_contract(case: schemathesis.Case[Any], base_url: str, fuzz_token: str) -> None:
    with requests.Session() as session:
        response = call_as_partner(
            within_what_json_schema_cannot_say(case), base_url, fuzz_token, session
        )
    sent["requests"] += 1
    if response.status_code >= 500:
        sent["server_errors"] += 1
