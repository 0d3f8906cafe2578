"""Contract fuzzing: schemathesis generates requests from openapi.json and sends them
through the Functions emulator, with a real partner token and without one. Valid data
must be accepted (positive) and invalid data refused (negative): the document says
exactly what the server takes.

`make test` runs a bounded profile; `make fuzz` (FUZZ_EXAMPLES=150) runs the full one and
checks, once every case has run, that at least 1,000 requests were sent.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from firebase_admin import auth as firebase_auth
from google.cloud.firestore import FieldFilter
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from devtools import emulators
from devtools.generate import DOCUMENT_PATH
from functions import store
from functions.examples import entries_summary
from functions.outside.firebase_app import admin_app
from tests.helpers import PASSWORD, function_app, function_url

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
MINIMUM_REQUESTS = int(os.environ.get("FUZZ_MINIMUM_REQUESTS", "0"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    ignored_auth,
]
REJECTIONS = ["400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "428", "431"]
"""What refusing invalid data may look like: 412 is how a weak If-Match ETag is refused,
431 how the web server in front refuses a request line too long for it."""
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)


def servable(case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """Valid data as a client could really send it, for what JSON Schema cannot state:
    a cursor is signed by the server (a made-up one is refused, 400, as it must be), and
    a range's `xFrom` after its `xTo` is refused (400) by a rule between two parameters.
    Invalid data is sent as generated."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if case.path.startswith("/api/v1/webhook_endpoints"):
        return _reachable_webhook(case)
    if not case.query:
        return case
    case.query.pop("cursor", None)
    pairs = [(low, low.removesuffix("From") + "To") for low in case.query if low.endswith("From")]
    for low, high in [*pairs, ("from", "to")]:
        first, second = case.query.get(low), case.query.get(high)
        if _comparable(first, second) and first > second:  # type: ignore[operator]
            case.query[low], case.query[high] = second, first
    if _comparable(case.query.get("from"), case.query.get("to")):
        # entriesSummary's range is at most a year: a longer one is refused (422)
        span = dt.date.fromisoformat(case.query["to"]) - dt.date.fromisoformat(case.query["from"])
        if span.days >= entries_summary.MAX_DAYS:
            case.query["to"] = case.query["from"]
    return case


def _reachable_webhook(case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """A webhook URL the server can check (a generated host resolves nowhere): a receiver on
    loopback, which a demo project may call; and room for one more endpoint (a partner
    keeps at most 16, and the fuzzer creates more)."""
    if isinstance(case.body, dict) and case.body.get("url") is not None:
        case.body["url"] = "http://127.0.0.1:9/hook"
    if case.method.upper() == "POST" and FUZZ_PARTNERS:
        endpoints = store.client().collection("partnerWebhookEndpoints")
        mine = FieldFilter("partnerId", "in", sorted(FUZZ_PARTNERS))
        for document in endpoints.where(filter=mine).stream():
            document.reference.delete()
    return case


def _comparable(low: Any, high: Any) -> bool:
    return type(low) is type(high) and isinstance(low, (str, int))


FUZZ_PARTNERS: set[str] = set()
"""The fuzzing partners of this process: only their webhook endpoints are cleared."""

schema = schemathesis.openapi.from_path(str(DOCUMENT_PATH), config=CONFIG)
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
    return fuzzing_partner("fuzz")


def api_served_locally() -> Iterator[str]:
    """The `api` function on a local HTTP server, for a declaration swapped in-process;
    like the Functions front end, it takes the function's name off the path
    (`/api/v1/menus` reaches the function as `/v1/menus`)."""
    app = function_app("api")

    def without_function_name(environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = environ.get("PATH_INFO", "").removeprefix("/api") or "/"
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, without_function_name, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def fuzzing_partner(name: str) -> str:
    """The ID token of a partner of its own tenant (so fuzzing never touches other tests'
    data) whose limits never stop the fuzzer."""
    email = f"{name}-{os.getpid()}@example.test"
    try:
        user = firebase_auth.get_user_by_email(email, app=admin_app())
    except firebase_auth.UserNotFoundError:
        user = firebase_auth.create_user(email=email, password=PASSWORD, app=admin_app())
    claims = {"role": "partner", "partnerId": f"{name}-{os.getpid()}"}
    FUZZ_PARTNERS.add(claims["partnerId"])
    firebase_auth.set_custom_user_claims(user.uid, claims, app=admin_app())
    unlimited = {"ratePerSecond": 10_000, "burst": 10_000, "dailyCreates": 1_000_000}
    store.client().collection("partners").document(claims["partnerId"]).set(
        {"status": "active", "limits": unlimited}
    )
    return emulators.sign_in(email, PASSWORD)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def _counted(response: Any) -> None:
    sent["requests"] += 1
    if response.status_code >= 500:
        sent["server_errors"] += 1


FUZZING = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def call_as_partner(
    case: schemathesis.Case[Any], base_url: str, token: str, session: requests.Session
) -> Any:
    """Send a case with a partner's token and run every check on the answer."""
    return servable(case).call_and_validate(
        base_url=base_url,
        session=session,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=60,
    )


@schema.parametrize()
@FUZZING
def test_contract_with_a_partner_token(
    case: schemathesis.Case[Any], base_url: str, fuzz_token: str, session: requests.Session
) -> None:
    response = call_as_partner(case, base_url, fuzz_token, session)
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
