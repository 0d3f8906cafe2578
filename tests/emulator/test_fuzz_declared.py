"""Contract fuzzing of the test suite's second declaration (menus with a hidden field,
orders with an owner-named tenant field): the document generated from it, the functions
serving it, positive and negative checks, as for the repository's declaration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis

from functions.contract import openapi
from tests.emulator.test_fuzz import (
    CONFIG,
    FUZZING,
    api_served_locally,
    call_as_partner,
    fuzzing_partner,
)
from tests.helpers import more_declaration

pytestmark = pytest.mark.empty_database  # it swaps the rules for a declaration of its own

schema = schemathesis.openapi.from_dict(openapi.build(more_declaration()), config=CONFIG).include(
    path_regex="^/api/v1/(menus|orders)"
)
sent: dict[str, int] = {"requests": 0, "server_errors": 0}


@pytest.fixture(scope="module", autouse=True)
def totals(more_resources: Any) -> Iterator[dict[str, int]]:
    sent.update(requests=0, server_errors=0)
    yield sent
    print(f"\nfuzz (second declaration): {sent['requests']} requests, {sent['server_errors']} 5xx")
    assert sent["server_errors"] == 0
    assert sent["requests"] > 0


@pytest.fixture(scope="module")
def base_url(more_resources: Any) -> Iterator[str]:
    """The `api` function on a local HTTP server; like the Functions front end, it takes
    the function's name off the path (`/api/v1/menus` reaches the function as `/v1/menus`)."""
    yield from api_served_locally()


@pytest.fixture(scope="module")
def fuzz_token(more_resources: Any) -> str:
    return fuzzing_partner("fuzz-more")


@schema.parametrize()
@FUZZING
def test_the_second_declarations_contract(
    case: schemathesis.Case[Any], base_url: str, fuzz_token: str
) -> None:
    with requests.Session() as session:
        response = call_as_partner(case, base_url, fuzz_token, session)
    sent["requests"] += 1
    if response.status_code >= 500:
        sent["server_errors"] += 1
