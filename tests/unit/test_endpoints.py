"""Owner endpoints without the emulators: what a declaration may say (refused at import,
naming each problem), how a body or query becomes a model or one 422, what a function
may return, and what the OpenAPI document says of the endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from functions.contract import catalog, openapi
from functions.contract.catalog import OwnerEndpoint
from functions.core.errors import ConfigurationError, NotFound, ValidationFailed
from functions.edge import decorator as endpoints
from functions.edge.http import parsing


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    count: int = Field(ge=1, le=9)


class Answer(BaseModel):
    ok: bool


class Window(BaseModel):
    since: str = Field(alias="from", description="The first day.")
    limit: int = 10


class Nested(BaseModel):
    tags: list[str]


@pytest.fixture(autouse=True)
def forget_test_endpoints() -> Iterator[None]:
    before = {e.name for e in catalog.registered()}
    yield
    for endpoint in catalog.registered():
        if endpoint.name not in before:
            catalog.unregister(endpoint.name)


def spec(**overrides: Any) -> OwnerEndpoint:
    given: dict[str, Any] = {
        "name": "placeItem",
        "methods": ("POST",),
        "scopes": frozenset({"items:write"}),
        "summary": "",
        "description": "",
        "response": Answer,
        "body": Item,
    }
    return OwnerEndpoint(**{**given, **overrides})


# --- the declaration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"name": "place-item"}, "letters and digits"),
        ({"name": "fetchData"}, "the package's own function has that name"),
        ({"methods": ()}, "names no method"),
        ({"methods": ("FETCH",)}, "unknown method(s) ['FETCH']"),
        ({"methods": ("POST", "POST")}, "a method is named twice"),
        ({"scopes": frozenset()}, "names no scope"),
        ({"scopes": frozenset({"Items"})}, "scope 'Items' is not `<noun>:<verb>`"),
        ({"methods": ("GET",)}, "takes a body, but none of its methods carries one"),
        ({"status": 204}, "status 204 is not a 2xx with a body"),
        ({"status": 302}, "status 302"),
        ({"methods": ("GET",), "body": None, "idempotent": True}, "Idempotency-Key"),
        ({"query": Nested}, "query parameter 'tags' must be a single value"),
        ({"response": dict}, "is not a pydantic model"),
        ({"errors": (ValueError,)}, "is not one of the package's errors"),
    ],
)
def test_an_inconsistent_declaration_is_refused_naming_the_problem(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        spec(**overrides)
    assert problem in refused.value.message
    assert refused.value.message.startswith(f"endpoint {overrides.get('name', 'placeItem')}:")


def test_two_endpoints_of_one_name_are_refused_but_a_module_loaded_twice_is_not() -> None:
    catalog.register(spec())
    catalog.register(spec())  # the same declaration again
    with pytest.raises(ConfigurationError, match="two endpoints are named placeItem"):
        catalog.register(spec(response=Item))
    assert [e.name for e in catalog.registered()].count("placeItem") == 1


def test_the_scopes_of_registered_endpoints_are_known_scopes() -> None:
    from functions.auth import known_scopes

    assert "items:write" not in known_scopes()
    catalog.register(spec())
    assert "items:write" in catalog.scopes()
    assert {"items:write", "entries:read", "entries:write"} <= known_scopes()


def test_discovery_names_an_entry_module_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "main.py"
    broken.write_text("raise ImportError('no module named stripe')\n")
    monkeypatch.setattr(catalog, "_discovered", False)
    monkeypatch.delitem(__import__("sys").modules, "main", raising=False)
    with pytest.raises(ConfigurationError) as failed:
        catalog.discover(broken)
    assert failed.value.message == (
        "main.py could not be loaded to find your endpoints: ImportError: no module named stripe"
    )
    assert "main" not in __import__("sys").modules


def test_discovery_registers_what_the_entry_module_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "main.py"
    source.write_text(
        "from pydantic import BaseModel\n"
        "from functions.edge.decorator import partner_endpoint\n"
        "class Out(BaseModel):\n    n: int\n"
        "@partner_endpoint(scopes={'reports:read'}, response=Out)\n"
        "def monthlyReport(call):\n    '''A report.'''\n    return Out(n=1)\n"
    )
    monkeypatch.setattr(catalog, "_discovered", False)
    monkeypatch.delitem(__import__("sys").modules, "main", raising=False)
    found = catalog.discover(source)
    assert [e.name for e in found if e.name == "monthlyReport"] == ["monthlyReport"]
    assert catalog.discover(source) == found  # once per process
    monkeypatch.delitem(__import__("sys").modules, "main")


# --- input ---------------------------------------------------------------------------------


def test_a_body_is_checked_by_the_model_with_every_problem_named() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parsing.model_input(Item, {"name": "", "count": 10, "colour": "red", "a b": 1}, "field")
    issues = {i["field"]: i["message"] for i in refused.value.details}
    assert issues == {
        "name": "string should have at least 1 character",
        "count": "input should be less than or equal to 9",
        "colour": "is not a field of this endpoint",
        "(unknown field)": "is not a field of this endpoint",
    }
    with pytest.raises(ValidationFailed) as missing:
        parsing.model_input(Item, {}, "field")
    assert missing.value.details == [
        {"field": "name", "message": "is required"},
        {"field": "count", "message": "is required"},
    ]
    assert parsing.model_input(Item, {"name": "x", "count": 9}, "field") == Item(name="x", count=9)


def test_query_values_are_single_and_named_by_their_alias() -> None:
    assert parsing.query_values({"from": ["2026-03-01"]}) == {"from": "2026-03-01"}
    with pytest.raises(ValidationFailed) as repeated:
        parsing.query_values({"from": ["a", "b"], "to": ["c"]})
    assert repeated.value.details == [{"field": "from", "message": "is given more than once"}]
    parsed = parsing.model_input(Window, {"from": "2026-03-01", "limit": "5"}, "query parameter")
    assert (parsed.since, parsed.limit) == ("2026-03-01", 5)
    with pytest.raises(ValidationFailed) as unknown:
        parsing.model_input(Window, {"from": "x", "since": "y"}, "query parameter")
    assert unknown.value.details == [
        {"field": "since", "message": "is not a query parameter of this endpoint"}
    ]


# --- what the function returns --------------------------------------------------------------


def test_a_function_returns_its_model_or_a_status_and_its_model() -> None:
    declared = spec(status=201)
    assert endpoints._split(declared, Answer(ok=True)) == (201, Answer(ok=True))
    assert endpoints._split(declared, (202, Answer(ok=False))) == (202, Answer(ok=False))
    for wrong, reason in [
        ({"ok": True}, "returned dict, not its response model Answer"),
        (Item(name="x", count=1), "returned Item, not its response model Answer"),
        ((204, Answer(ok=True)), "returned status 204"),
        (("201", Answer(ok=True)), "returned status '201'"),
    ]:
        with pytest.raises(ConfigurationError) as refused:
            endpoints._split(declared, wrong)
        assert reason in refused.value.message


def test_an_idempotency_key_is_bound_to_the_endpoint_method_body_and_query() -> None:
    base = endpoints._fingerprint("placeItem", "POST", {"a": 1, "b": 2}, {"x": "1"})
    assert base == endpoints._fingerprint("placeItem", "POST", {"b": 2, "a": 1}, {"x": "1"})
    others = {
        endpoints._fingerprint("placeOther", "POST", {"a": 1, "b": 2}, {"x": "1"}),
        endpoints._fingerprint("placeItem", "PUT", {"a": 1, "b": 2}, {"x": "1"}),
        endpoints._fingerprint("placeItem", "POST", {"a": 1, "b": 3}, {"x": "1"}),
        endpoints._fingerprint("placeItem", "POST", {"a": 1, "b": 2}, {"x": "2"}),
    }
    assert base not in others
    assert len(others) == 4


def test_the_decorator_registers_the_endpoint_from_the_function() -> None:
    @endpoints.partner_endpoint(
        scopes={"items:write"}, methods=("post", "PUT"), body=Item, response=Answer,
        creates=True, idempotent=True, errors=(NotFound,),
    )  # fmt: skip
    def placeItem(call: endpoints.Call[Item, None]) -> Answer:  # noqa: N802
        """Place one item.

        It lands in the caller's tenant."""
        return Answer(ok=True)

    declared = placeItem.owner_endpoint  # type: ignore[attr-defined]
    assert declared in catalog.registered()
    assert (declared.name, declared.methods) == ("placeItem", ("POST", "PUT"))
    assert (declared.summary, declared.description) == (
        "Place one item.",
        "It lands in the caller's tenant.",
    )
    assert placeItem.__name__ == "placeItem"


# --- the contract -------------------------------------------------------------------------------


def test_the_document_lists_an_owner_endpoint_with_its_models_scopes_and_statuses() -> None:
    declared = spec(
        methods=("POST",), query=Window, creates=True, idempotent=True, errors=(NotFound,),
        status=201, summary="Place one item.", description="In the tenant.",
    )  # fmt: skip
    document = openapi.build(endpoints=(declared,))
    operation = document["paths"]["/placeItem"]["post"]
    assert operation["operationId"] == "placeItem"
    assert operation["summary"] == "Place one item."
    assert operation["description"] == "In the tenant.\n\nNeeds the scope(s) `items:write`."
    assert operation["tags"] == ["your endpoints"]
    assert operation["security"] == [
        {"partnerApiKey": ["items:write"]},
        {"firebaseIdToken": ["items:write"]},
    ]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    names = [(p["name"], p["in"], p["required"]) for p in operation["parameters"]]
    assert names == [
        ("from", "query", True), ("limit", "query", False), ("Idempotency-Key", "header", False),
    ]  # fmt: skip
    assert operation["parameters"][0]["description"] == "The first day."
    assert set(operation["responses"]) == {
        "201", "400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "431",
        "500", "503",
    }  # fmt: skip
    assert "quota_exceeded" in operation["responses"]["429"]["description"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    schemas = document["components"]["schemas"]
    assert schemas["Item"]["additionalProperties"] is False
    assert schemas["Answer"]["required"] == ["ok"]
    assert {"name": "your endpoints", "description": openapi.OWNER_TAG_DESCRIPTION} in document[
        "tags"
    ]
    json.dumps(document)  # plain JSON


def test_a_model_named_like_a_declared_schema_is_refused() -> None:
    class Entry(BaseModel):
        total: int

    with pytest.raises(ConfigurationError, match="'Entry' is taken"):
        openapi.build(endpoints=(spec(response=Entry, body=None, methods=("GET",)),))


def test_several_methods_get_one_operation_each() -> None:
    declared = spec(methods=("GET", "POST"), body=Item)
    operations = openapi.build(endpoints=(declared,))["paths"]["/placeItem"]
    assert [operations[m]["operationId"] for m in ("get", "post")] == [
        "placeItemGet",
        "placeItemPost",
    ]
    assert "requestBody" not in operations["get"]
    assert "415" not in operations["get"]["responses"]
