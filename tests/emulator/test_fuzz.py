"""Contract fuzzing: schemathesis generates requests from openapi.json and sends them
through the Functions emulator, with a real partner token and without one.

`make test` runs a bounded profile; `make fuzz` (FUZZ_EXAMPLES=150) runs the full one and
checks, once every case has run, that at least 1,000 requests were sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from firebase_admin import auth as firebase_auth
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from devtools import emulators
from devtools.generate import DOCUMENT_PATH
from functions.firebase_app import admin_app
from tests.helpers import PASSWORD, function_url

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MINIMUM_REQUESTS = int(os.environ.get("FUZZ_MINIMUM_REQUESTS", "0"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    negative_data_rejection,
    ignored_auth,
]

schema = schemathesis.openapi.from_path(str(DOCUMENT_PATH))
sent: dict[str, int] = {"requests": 0, "server_errors": 0}


@pytest.fixture(scope="module", autouse=True)
def totals() -> Iterator[dict[str, int]]:
    """The totals of the fuzz tests of this module, checked once they have all run: no 5xx,
    and (with FUZZ_MINIMUM_REQUESTS, as `make fuzz` sets it) enough requests sent."""
    sent.update(requests=0, server_errors=0)
    yield sent
    print(f"\nfuzz: {sent['requests']} requests, {sent['server_errors']} 5xx")
    assert sent["server_errors"] == 0
    assert sent["requests"] >= MINIMUM_REQUESTS, "fewer requests than FUZZ_MINIMUM_REQUESTS"


@pytest.fixture(scope="module")
def base_url(emulator_hosts: dict[str, str]) -> str:
    return function_url("fetchData").removesuffix("/fetchData")


@pytest.fixture(scope="module")
def fuzz_token(emulator_hosts: dict[str, str]) -> str:
    """A partner of its own tenant, so fuzzing never touches other tests' data."""
    email = f"fuzzer-{os.getpid()}@example.test"
    try:
        user = firebase_auth.get_user_by_email(email, app=admin_app())
    except firebase_auth.UserNotFoundError:
        user = firebase_auth.create_user(email=email, password=PASSWORD, app=admin_app())
    claims = {"role": "partner", "partnerId": f"fuzz-{os.getpid()}"}
    firebase_auth.set_custom_user_claims(user.uid, claims, app=admin_app())
    return emulators.sign_in(email, PASSWORD)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def _counted(response: Any) -> None:
    sent["requests"] += 1
    if response.status_code >= 500:
        sent["server_errors"] += 1


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_contract_with_a_partner_token(
    case: schemathesis.Case[Any], base_url: str, fuzz_token: str, session: requests.Session
) -> None:
    response = case.call_and_validate(
        base_url=base_url,
        session=session,
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=CHECKS,
        timeout=60,
    )
    _counted(response)


@schema.parametrize()
@settings(
    max_examples=max(3, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_contract_without_a_token_is_always_401(
    case: schemathesis.Case[Any], base_url: str, session: requests.Session
) -> None:
    response = case.call(base_url=base_url, session=session, timeout=60)
    _counted(response)
    case.validate_response(
        response, checks=[not_a_server_error, response_schema_conformance, status_code_conformance]
    )
    assert response.status_code in (401, 405), response.text
