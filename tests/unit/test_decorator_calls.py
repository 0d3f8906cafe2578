"""The public decorator serving calls, in-process and without Firestore (calls that write
nothing and carry no Idempotency-Key touch no store): the models it parses, the answers
it gives and refuses, and a routing table's operation run through the function."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.auth import Caller
from functions.contract import catalog
from functions.core.errors import ConfigurationError, NotFound
from functions.core.limits import Gate
from functions.core.models import KeptAnswer
from functions.domain.owner import Work
from functions.edge import wiring
from functions.edge.decorator import Call, partner_endpoint
from functions.edge.http.parsing import REPLAYED_HEADER as REPLAYED
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
    monkeypatch.setattr(wiring, "limits_gate", lambda *_: Gate.over(MemoryLeases()))
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


# --- bodies, Idempotency-Keys and the unit of work, on Firestore's service in memory ----------


class NewOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)


class Order(BaseModel):
    id: str
    item: str
    count: int
    method: str
    key: str | None


def order_endpoint(ran: list[str]) -> Any:
    @partner_endpoint(
        scopes={"stock:read"}, response=Order, body=NewOrder, methods=("post", "put"),
        status=201, creates=True, idempotent=True, errors=(NotFound,), tag="orders",
        name="placeOrder",
    )  # fmt: skip
    def place(call: Call[NewOrder, None]) -> Order:
        """Place an order.

        It reserves the stock at once."""
        order_id = f"o-{len(ran) + 1}"
        ran.append(call.request_id)
        call.work.create(f"orders/{order_id}", {"item": call.body.item, "count": call.body.count})
        call.work.audit("create", "orders", order_id, fields=("item", "count"))
        return Order(
            id=order_id, item=call.body.item, count=call.body.count, method=call.method,
            key=call.idempotency_key,
        )  # fmt: skip

    return place


def post(
    served: Any, body: bytes, key: str | None = None, method: str = "POST", path: str = "/"
) -> Response:
    headers = {"Authorization": "Bearer good", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    with APP.test_request_context(path, method=method, headers=headers, data=body) as context:
        response: Response = served(context.request)
        return response


def _kept(service: Any) -> list[dict[str, Any]]:
    from google.cloud.firestore_v1 import _helpers

    from functions.store.client import client

    return [
        dict(_helpers.decode_dict(document.fields, client()))  # type: ignore[arg-type]
        for name, document in service.documents.items()
        if "/partnerIdempotencyKeys/" in name
    ]


def test_an_endpoint_is_declared_with_everything_the_contract_shows() -> None:
    place = order_endpoint([])
    spec = place.owner_endpoint
    assert (spec.name, spec.methods, spec.scopes) == (
        "placeOrder",
        ("POST", "PUT"),
        frozenset({"stock:read"}),
    )
    assert (spec.summary, spec.description) == ("Place an order.", "It reserves the stock at once.")
    assert (spec.response, spec.body, spec.query, spec.status) == (Order, NewOrder, None, 201)
    assert (spec.creates, spec.idempotent, spec.errors, spec.tag) == (
        True,
        True,
        (NotFound,),
        "orders",
    )
    assert [e.name for e in catalog.registered() if e.name == "placeOrder"] == ["placeOrder"]
    assert place.__name__ == "place"
    assert place.__doc__.startswith("Place an order.")
    assert stock_endpoint().owner_endpoint.tag == "your endpoints"


def test_a_key_replays_the_first_answer_and_the_function_runs_once(memory_firestore: Any) -> None:
    ran: list[str] = []
    place = order_endpoint(ran)
    first = post(place, b'{"item": "tea", "count": 2}', key="k-1")
    assert first.status_code == 201
    assert first.get_json() == {
        "id": "o-1",
        "item": "tea",
        "count": 2,
        "method": "POST",
        "key": "k-1",
    }
    assert "Idempotent-Replayed" not in first.headers
    again = post(place, b'{"count": 2,  "item": "tea"}', key="k-1")  # the same request
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ran == [first.headers["X-Request-Id"]]
    (kept,) = _kept(memory_firestore)
    assert (kept["operation"], kept["status"], kept["partnerId"]) == ("placeOrder", 201, "acme")
    other = post(place, b'{"item": "coffee"}', key="k-1")
    assert assert_error(other, 409, "conflict")["message"].startswith(
        "This Idempotency-Key was used"
    )
    put = post(place, b'{"item": "tea", "count": 2}', key="k-1", method="PUT")
    assert_error(put, 409, "conflict")  # another method: another request
    assert len(ran) == 1


def test_without_a_key_each_call_runs_and_writes(memory_firestore: Any) -> None:
    ran: list[str] = []
    place = order_endpoint(ran)
    for expected in ("o-1", "o-2"):
        response = post(place, b'{"item": "tea"}')
        assert response.get_json() == {
            "id": expected,
            "item": "tea",
            "count": 1,
            "method": "POST",
            "key": None,
        }
    orders = [name.rsplit("/", 1)[1] for name in memory_firestore.documents if "/orders/" in name]
    assert sorted(orders) == ["o-1", "o-2"]
    audits = [name for name in memory_firestore.documents if "/partnerAudit/" in name]
    assert len(audits) == 2
    assert _kept(memory_firestore) == []


@pytest.mark.parametrize(
    ("body", "key", "status", "code"),
    [
        (b'{"item": ""}', "k", 422, "validation_failed"),
        (b'{"item": "tea", "colour": "red"}', None, 422, "validation_failed"),
        (b"[]", None, 400, "invalid_argument"),
        (b'{"item": "tea"}', "bad key é", 400, "invalid_argument"),
        (b'{"item": "tea"}', "", 400, "invalid_argument"),
    ],
)
def test_a_bad_body_or_key_is_refused_and_nothing_runs(
    memory_firestore: Any, body: bytes, key: str | None, status: int, code: str
) -> None:
    ran: list[str] = []
    response = post(order_endpoint(ran), body, key=key)
    error = assert_error(response, status, code)
    if code == "invalid_argument" and key is not None:
        assert error["details"] == [{"field": "Idempotency-Key", "message": "is malformed"}]
    assert ran == []
    assert memory_firestore.calls("Commit") == []


def test_query_parameters_of_an_endpoint_without_a_query_model_are_each_named(
    memory_firestore: Any,
) -> None:
    response = post(order_endpoint([]), b'{"item": "tea"}', path="/?b=1&a=2&%3Cx%3E=3")
    assert assert_error(response, 422, "validation_failed")["details"] == [
        {"field": "(unknown field)", "message": "is not a query parameter of this endpoint"},
        {"field": "a", "message": "is not a query parameter of this endpoint"},
        {"field": "b", "message": "is not a query parameter of this endpoint"},
    ]
    assert assert_error(post(order_endpoint([]), b"{}", path="/x"), 404, "not_found")[
        "message"
    ] == ("placeOrder has no sub-paths; pass values in the query or body.")


def test_a_get_of_an_endpoint_with_a_body_model_reads_no_body_and_no_key() -> None:
    seen: list[Any] = []

    @partner_endpoint(
        scopes={"stock:read"}, response=Stock, body=Range, methods=("GET", "POST"), idempotent=True
    )
    def both(call: Call[Range, None]) -> Stock:
        seen.append((call.method, call.body, call.idempotency_key))
        return Stock(partner="p", low=0, high=0)

    headers = {"Authorization": "Bearer good", "Idempotency-Key": "k-9"}
    with APP.test_request_context("/", method="GET", headers=headers, data=b"not json") as context:
        response = both(context.request)
    assert response.status_code == 200
    assert seen == [("GET", None, None)]


def test_a_routed_functions_own_writes_are_committed_after_it_returns(
    memory_firestore: Any,
) -> None:
    def operation(caller: Caller, parsed: Any) -> dict[str, str]:
        return {"listed": caller.partner_id}

    things = Endpoint("things", "GET", frozenset({"things:read"}), lambda r, c: None, operation,
                      lambda result, parsed, caller: Reply(result))  # fmt: skip
    table = Routes(
        "things", (Route("GET", "/v1/{collection}", "list"),), lambda n: {"list": things}
    )
    ids: list[str] = []

    @partner_endpoint(routes=table)
    def served(call: Call[Any, None]) -> Any:
        ids.append(call.request_id)
        assert (call.method, call.query, call.idempotency_key) == ("GET", None, None)
        call.work.set("seen/one", {"by": call.caller.uid})
        return call.serve()

    response = call(served, "/v1/things")
    assert response.get_json() == {"listed": "acme"}
    assert ids == [response.headers["X-Request-Id"]]
    assert [name.rsplit("/", 2)[1:] for name in memory_firestore.documents] == [["seen", "one"]]


def _things_table() -> Routes:
    """One route, `GET /v1/things`, whose operation answers {"n": 1}."""
    things = Endpoint(
        "things", "GET", frozenset({"things:read"}), lambda r, c: None,
        lambda caller, parsed: {"n": 1}, lambda result, parsed, caller: Reply(result),
    )  # fmt: skip
    return Routes("things", (Route("GET", "/v1/{collection}", "list"),), lambda n: {"list": things})


def test_a_routed_function_that_writes_nothing_commits_nothing(memory_firestore: Any) -> None:
    table = _things_table()

    @partner_endpoint(routes=table)
    def served(call: Call[Any, None]) -> Any:
        return call.serve()

    assert call(served, "/v1/things").get_json() == {"n": 1}
    assert memory_firestore.calls("Commit") == []


def test_call_records_are_the_callers_records_of_the_resource() -> None:
    caller = Caller("u1", "acme", frozenset(), {})
    plain = Call(caller=caller, body=None, query=None, method="GET", request_id="r",
                 idempotency_key=None, work=Work(caller, "x"))  # fmt: skip
    records = plain.records("entries")
    assert (records.resource.name, records._caller) == ("entries", caller)
    with pytest.raises(ConfigurationError):
        plain.records("nothing")


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ((200, Stock(partner="x", low=1, high=2)), 200),
        ((299, Stock(partner="x", low=1, high=2)), 299),
        ((300, Stock(partner="x", low=1, high=2)), 500),
        (("201", Stock(partner="x", low=1, high=2)), 500),
        ((201, Stock(partner="x", low=1, high=2), "extra"), 500),
        ([201, Stock(partner="x", low=1, high=2)], 500),
    ],
)
def test_only_a_2xx_with_the_response_model_is_an_answer(answer: Any, status: int) -> None:
    response = call(stock_endpoint(answer), "/?low=1")
    assert response.status_code == status
    if status == 500:
        assert_error(response, 500, "internal")


# --- what each part of the declaration and the request decides -----------------------------


class Dated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item: str
    due: dt.date | None = None


class Receipt(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    reference: str = Field(alias="ref")
    due: dt.date | None = None


def dated_endpoint(ran: list[Any], *, race: bool = False) -> Any:
    @partner_endpoint(
        scopes={"stock:read"}, response=Receipt, body=Dated, query=Range, methods=("POST",),
        idempotent=True, name="dated",
    )  # fmt: skip
    def dated(call: Call[Dated, Range]) -> Receipt:
        """Summary line.

        Second paragraph.

        Third paragraph."""
        ran.append((call.body, call.query))
        call.work.set(f"dated/{len(ran)}", {"n": len(ran)})
        call.work.audit("create", "dated", str(len(ran)))
        if race:  # another call with the same key commits first, while this one runs
            first = KeptAnswer("dated", ran_fingerprint(call), 201, '{"ref": "first"}')
            Work(call.caller, "dated").commit(call.idempotency_key, first, None)
        return Receipt(ref=f"r-{len(ran)}", due=call.body.due)

    return dated


def ran_fingerprint(call: Call[Dated, Range]) -> str:
    from functions.edge import decorator

    return decorator._fingerprint(
        "dated", call.method, call.body.model_dump(mode="json"), call.query.model_dump(mode="json")
    )


def test_a_fingerprint_reads_the_body_and_query_as_json_and_the_answer_by_alias(
    memory_firestore: Any,
) -> None:
    ran: list[Any] = []
    dated = dated_endpoint(ran)
    assert (dated.owner_endpoint.summary, dated.owner_endpoint.description) == (
        "Summary line.", "Second paragraph.\n\nThird paragraph.",
    )  # fmt: skip
    assert dated.owner_endpoint.creates is False
    first = post(dated, b'{"item": "a", "due": "2026-03-01"}', key="k", path="/?low=10")
    assert first.status_code == 200
    assert first.get_json() == {"ref": "r-1", "due": "2026-03-01"}
    assert ran == [(Dated(item="a", due=dt.date(2026, 3, 1)), Range(low=10, to=10))]
    again = post(dated, b'{"due": "2026-03-01", "item": "a"}', key="k", path="/?low=10")
    assert again.headers[REPLAYED] == "true"
    assert again.get_json() == first.get_json()
    other_query = post(dated, b'{"item": "a", "due": "2026-03-01"}', key="k", path="/?low=3")
    assert_error(other_query, 409, "conflict")
    assert len(ran) == 1
    audits = [d for n, d in memory_firestore.documents.items() if "/partnerAudit/" in n]
    assert [d.fields["actor"].string_value for d in audits] == ["u1", "u1"]  # the call, the replay


def test_an_expired_key_is_answered_anew(memory_firestore: Any) -> None:
    from functions.store import answers

    ran: list[Any] = []
    dated = dated_endpoint(ran)
    post(dated, b'{"item": "a"}', key="k", path="/?low=1")
    answers.reference("acme", "k").update(
        {"expiresAt": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}
    )
    anew = post(dated, b'{"item": "b"}', key="k", path="/?low=1")
    assert (anew.status_code, anew.get_json()["ref"]) == (200, "r-2")
    assert REPLAYED not in anew.headers


def test_a_call_that_loses_the_race_for_its_key_gives_the_winners_answer(
    memory_firestore: Any,
) -> None:
    ran: list[Any] = []
    response = post(dated_endpoint(ran, race=True), b'{"item": "a"}', key="k", path="/?low=1")
    assert (response.status_code, response.get_json()) == (201, {"ref": "first"})
    assert response.headers[REPLAYED] == "true"
    written = [n.rsplit("/", 2)[-2] for n in memory_firestore.documents]
    assert "dated" not in written  # the loser's own writes were not committed


def test_query_parameters_are_read_as_given_and_named_as_query_parameters() -> None:
    response = call(stock_endpoint(), "/?low=10&to=12")
    assert response.get_json() == {"partner": "acme", "low": 10, "high": 12}
    refused = call(stock_endpoint(), "/?low=1&colour=red")
    assert assert_error(refused, 422, "validation_failed")["details"] == [
        {"field": "colour", "message": "is not a query parameter of this endpoint"}
    ]
    repeated = call(stock_endpoint(), "/?low=1&low=2")
    assert assert_error(repeated, 422, "validation_failed")["details"] == [
        {"field": "low", "message": "is given more than once"}
    ]


def test_a_body_field_is_named_as_a_field(memory_firestore: Any) -> None:
    response = post(order_endpoint([]), b'{"item": "tea", "size": 3}')
    assert assert_error(response, 422, "validation_failed")["details"] == [
        {"field": "size", "message": "is not a field of this endpoint"}
    ]


def _answers_nothing(call: Call[Any, Any]) -> Stock:
    raise AssertionError("never run")


def test_a_replay_is_known_before_the_quota_is_spent(memory_firestore: Any) -> None:
    from functions.edge import decorator

    spec = order_endpoint([]).owner_endpoint
    endpoint = decorator._endpoints(spec, _answers_nothing)["POST"]
    assert endpoint.replays is not None
    caller = Caller("u1", "acme", frozenset(), {})
    post(order_endpoint([]), b'{"item": "tea"}', key="k-1")

    def asked(key: str | None) -> bool:
        headers = {} if key is None else {"Idempotency-Key": key}
        with APP.test_request_context("/", method="POST", headers=headers) as context:
            assert endpoint.replays is not None
        return bool(endpoint.replays(context.request, caller))

    assert asked("k-1") is True
    assert (asked("k-2"), asked(None), asked("bad key é")) == (False, False, False)
    assert asked("k-1") is True
    assert endpoint.creates is True
    other = Caller("u9", "globex", frozenset(), {})
    with APP.test_request_context(
        "/", method="POST", headers={"Idempotency-Key": "k-1"}
    ) as context:
        assert endpoint.replays(context.request, other) is False
    plain = decorator._endpoints(stock_endpoint().owner_endpoint, _answers_nothing)["GET"]
    assert plain.replays is None


def test_a_routed_functions_audit_names_its_caller(memory_firestore: Any) -> None:
    table = _things_table()

    @partner_endpoint(routes=table)
    def served(call: Call[Any, None]) -> Any:
        call.work.audit("read", "things", "t1")
        return call.serve()

    assert call(served, "/v1/things").status_code == 200
    (audit,) = [d for n, d in memory_firestore.documents.items() if "/partnerAudit/" in n]
    assert (audit.fields["actor"].string_value, audit.fields["partnerId"].string_value) == (
        "u1",
        "acme",
    )


def test_what_a_routing_table_and_a_plain_endpoint_may_not_be_given() -> None:
    table = Routes("t", (), lambda name: None)
    for given in ({"body": Range}, {"query": Range}):
        with pytest.raises(ConfigurationError) as caught:
            partner_endpoint(routes=table, **given)  # type: ignore[arg-type]
        assert str(caught.value) == "a routing table brings its own scopes and models"
    with pytest.raises(ConfigurationError) as missing:
        partner_endpoint(scopes={"x"})
    assert str(missing.value) == "partner_endpoint needs the response model it answers with"
    caller = Caller("u1", "acme", frozenset(), {})
    plain = Call(caller=caller, body=None, query=None, method="GET", request_id="r",
                 idempotency_key=None, work=Work(caller, "x"))  # fmt: skip
    with pytest.raises(ConfigurationError) as serve:
        plain.serve()
    assert str(serve.value) == "call.serve() needs partner_endpoint(routes=...)"


def test_a_function_without_a_docstring_has_an_empty_summary() -> None:
    @partner_endpoint(scopes={"stock:read"}, response=Stock)
    def quiet(call: Call[None, None]) -> Stock:
        return Stock(partner="p", low=0, high=0)

    spec = quiet.owner_endpoint  # type: ignore[attr-defined]
    assert (spec.summary, spec.description) == ("", "")
