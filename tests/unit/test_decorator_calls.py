"""The public decorator serving calls, in-process and without Firestore (calls that write
nothing and carry no Idempotency-Key touch no store): the models it parses, the answers
it gives and refuses, and a routing table's operation run through the function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.auth import Caller
from functions.contract import catalog
from functions.core.errors import ConfigurationError, NotFound
from functions.core.limits import Gate
from functions.domain.owner import Work
from functions.edge import wiring
from functions.edge.decorator import Call, partner_endpoint
from functions.edge.http.pipeline import Endpoint
from functions.edge.http.responses import Reply
from functions.edge.http.routes import Route, Routes
from tests.helpers import PROJECT, MemoryLeases, assert_error

APP = Flask(__name__)


class Keys:
    def authenticate(self, credential: str) -> Caller | None:
        if credential == "good":
            return Caller("u1", "acme", frozenset({"stock:read", "things:read"}), {})
        if credential == "other":
            return Caller("u2", "acme", frozenset({"things:read"}), {})
        return None


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    low: int = Field(ge=0, le=10)
    high: int = Field(default=10, alias="to")


class Stock(BaseModel):
    partner: str
    low: int
    high: int


@pytest.fixture(autouse=True)
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    monkeypatch.setattr(wiring, "authenticators", lambda: (Keys(),))
    monkeypatch.setattr(wiring, "limits_gate", lambda: Gate.over(MemoryLeases()))
    before = {e.name for e in catalog.registered()}
    yield
    for endpoint in catalog.registered():
        if endpoint.name not in before:
            catalog.unregister(endpoint.name)


def call(served: Any, path: str = "/", method: str = "GET", credential: str = "good") -> Response:
    headers = {"Authorization": f"Bearer {credential}"}
    with APP.test_request_context(path, method=method, headers=headers) as context:
        response: Response = served(context.request)
        return response


def stock_endpoint(answer: Any = None) -> Any:
    @partner_endpoint(scopes={"stock:read"}, response=Stock, query=Range)
    def stockLevels(call: Call[None, Range]) -> Any:  # noqa: N802 - a deployed name
        """Stock levels in a range."""
        if answer is not None:
            return answer
        return Stock(partner=call.caller.partner_id, low=call.query.low, high=call.query.high)

    return stockLevels


def test_a_call_gets_its_query_model_and_answers_with_its_response_model() -> None:
    response = call(stock_endpoint(), "/?low=2&to=7")
    assert response.status_code == 200
    assert response.get_json() == {"partner": "acme", "low": 2, "high": 7}
    assert response.headers["X-Request-Id"]
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(
    ("path", "method", "credential", "status", "code"),
    [
        ("/?low=2", "POST", "good", 405, "method_not_allowed"),
        ("/?low=2", "GET", "nobody", 401, "unauthenticated"),
        ("/?low=2", "GET", "other", 403, "permission_denied"),
        ("/?low=11", "GET", "good", 422, "validation_failed"),
        ("/?low=2&extra=1", "GET", "good", 422, "validation_failed"),
        ("/", "GET", "good", 422, "validation_failed"),
        ("/sub?low=2", "GET", "good", 404, "not_found"),
    ],
)
def test_what_the_decorator_refuses_and_with_which_status(
    path: str, method: str, credential: str, status: int, code: str
) -> None:
    response = call(stock_endpoint(), path, method, credential)
    assert_error(response, status, code)
    if status == 405:
        assert response.headers["Allow"] == "GET"


def test_a_status_and_a_model_or_a_wrong_answer() -> None:
    created = call(stock_endpoint((202, Stock(partner="x", low=1, high=2))), "/?low=1")
    assert (created.status_code, created.get_json()["partner"]) == (202, "x")
    for wrong in ({"partner": "x"}, (204, Stock(partner="x", low=1, high=2)), (199, None)):
        catalog.unregister("stockLevels")
        assert_error(call(stock_endpoint(wrong), "/?low=1"), 500, "internal")


def test_a_function_served_by_a_routing_table_runs_its_operation_through_call_serve() -> None:
    seen: list[tuple[str, Any]] = []

    def parse(request: Request, caller: Caller) -> str:
        return request.path.strip("/") or "all"

    def operation(caller: Caller, target: str) -> dict[str, str]:
        seen.append((caller.partner_id, target))
        return {"thing": target}

    def serialize(result: dict[str, str], target: str, caller: Caller) -> Reply:
        return Reply(result, headers={"ETag": '"1"'})

    things = Endpoint("things", "GET", frozenset({"things:read"}), parse, operation, serialize)
    table = Routes(
        "things",
        (Route("GET", "/v1/{collection}", "list"),),
        lambda name: {"list": things} if name == "things" else None,
    )

    @partner_endpoint(routes=table)
    def served(call: Call[Any, None]) -> Any:
        assert call.body == "v1/things"
        result = call.serve()
        return {**result, "by": call.caller.uid}

    response = call(served, "/v1/things")
    assert (response.status_code, response.headers["ETag"]) == (200, '"1"')
    assert response.get_json() == {"thing": "v1/things", "by": "u1"}
    assert seen == [("acme", "v1/things")]
    assert_error(call(served, "/v1/nothing"), 404, "not_found")
    assert_error(call(served, "/v1/things", "DELETE"), 405, "method_not_allowed")
    assert getattr(served, "routes", None) is table


def test_a_routing_table_brings_its_own_scopes_and_models() -> None:
    table = Routes("t", (), lambda name: None)
    with pytest.raises(ConfigurationError, match="brings its own scopes and models"):
        partner_endpoint(routes=table, scopes={"things:read"})
    with pytest.raises(ConfigurationError, match="brings its own scopes and models"):
        partner_endpoint(routes=table, response=Stock)
    with pytest.raises(ConfigurationError, match="needs the response model"):
        partner_endpoint(scopes={"things:read"})


def test_call_serve_needs_a_routing_table() -> None:
    plain = Call(
        caller=Caller("u1", "acme", frozenset(), {}),
        body=None,
        query=None,
        method="GET",
        request_id="r1",
        idempotency_key=None,
        work=Work(Caller("u1", "acme", frozenset(), {}), "x"),
    )
    with pytest.raises(ConfigurationError, match=r"needs partner_endpoint\(routes=...\)"):
        plain.serve()


def test_the_package_errors_a_function_raises_keep_their_status() -> None:
    @partner_endpoint(scopes={"stock:read"}, response=Stock, errors=(NotFound,))
    def missingStock(call: Call[None, None]) -> Stock:  # noqa: N802 - a deployed name
        raise NotFound("No such shelf.")

    response = call(missingStock)
    assert assert_error(response, 404, "not_found")["message"] == "No such shelf."
