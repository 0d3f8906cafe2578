"""The declaration and what is generated from it: refusals that name the place, the
committed outputs equal to fresh ones, the rules block placed without touching anything
else, and the OpenAPI patterns saying exactly what the server accepts."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools import generate
from functions.auth import Caller
from functions.contract import openapi
from functions.core import config
from functions.core.errors import BadRequest, ValidationFailed
from functions.edge.http import parsing
from functions.resources import declaration, indexes, kinds, rules, validation
from functions.resources.declaration import Declaration, DeclarationError, FieldSpec
from tests.helpers import more_declaration


def both() -> Declaration:
    """The repository's declaration with the test suite's two more resources."""
    decl: Declaration = more_declaration()
    return decl


def _parse(text: str) -> Declaration:
    return declaration.parse(tomllib.loads(text))


MENU = """
[menus]
operations = ["list", "get", "create", "update"]
[menus.fields.name]
kind = "text"
max_length = 80
required = true
"""


# --- refusals, each naming its place ------------------------------------------------------

REFUSED = {
    "unknown kind": ('[menus.fields.price]\nkind = "money"', "menus.fields.price: kind 'money'"),
    "text without a length": ('[menus.fields.note]\nkind = "text"', "menus.fields.note: text"),
    "a digit class": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "^\\\\d+$"',
        "menus.fields.sku: pattern escape \\d",
    ),
    "a lookahead": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "^(?!x)a$"',
        "menus.fields.sku: pattern may not use (?...)",
    ),
    "a raw newline in a pattern": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "^a\\nb$"',
        "menus.fields.sku: pattern holds a control or invisible character",
    ),
    "a raw tab in a pattern": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "^a\\tb$"',
        "menus.fields.sku: pattern holds a control or invisible character",
    ),
    "an unanchored pattern": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "[A-Z]+"',
        "menus.fields.sku: pattern must be anchored",
    ),
    "a huge repetition": (
        '[menus.fields.sku]\nkind = "text"\nmax_length = 8\npattern = "^a{1,2000}$"',
        "menus.fields.sku: pattern: repetition",
    ),
    "a quote in an enum": (
        '[menus.fields.course]\nkind = "text"\nmax_length = 8\nenum = ["chef\'s"]',
        "menus.fields.course: enum value",
    ),
    "a server field": ('[menus.fields.version]\nkind = "integer"', "menus.fields.version"),
    "a dot in a name": ('[menus.fields."a.b"]\nkind = "boolean"', "menus.fields.a.b: a field name"),
    "a name of Firestore's own": (
        '[menus.fields.__kind__]\nkind = "boolean"',
        "menus.fields.__kind__: a field name",
    ),
    "a name led by a digit": ('[menus.fields.1st]\nkind = "boolean"', "menus.fields.1st: a field"),
    "a list of lists": (
        '[menus.fields.grid]\nkind = "list"\nmax_items = 3\nof = { kind = "list", max_items = 2,'
        ' of = { kind = "integer" } }',
        "menus.fields.grid: of: a list's items are never lists",
    ),
    "a list without max_items": (
        '[menus.fields.tags]\nkind = "list"\nof = { kind = "boolean" }',
        "menus.fields.tags: a list needs max_items",
    ),
    "a list of server times": (
        '[menus.fields.tags]\nkind = "list"\nmax_items = 2\nof = { kind = "timestamp" }',
        "menus.fields.tags.of: kind 'timestamp' is not one of",
    ),
    "maps four deep": (
        '[menus.fields.a]\nkind = "map"\n[menus.fields.a.fields.b]\nkind = "map"\n'
        '[menus.fields.a.fields.b.fields.c]\nkind = "map"\n'
        '[menus.fields.a.fields.b.fields.c.fields.d]\nkind = "map"\n'
        '[menus.fields.a.fields.b.fields.c.fields.d.fields.e]\nkind = "boolean"',
        "menus.fields.a.fields.b.fields.c.fields.d: lists and maps nest at most 3 deep",
    ),
    "a map of nothing": ('[menus.fields.a]\nkind = "map"', "menus.fields.a: a map declares"),
    "a reference to nowhere": (
        '[menus.fields.chef]\nkind = "reference"',
        "menus.fields.chef: a reference names the collection",
    ),
    "an endless number bound": (
        '[menus.fields.weight]\nkind = "number"\nmaximum = inf',
        "menus.fields.weight: a number's bounds are finite",
    ),
    "a datetime bound without an offset": (
        '[menus.fields.at]\nkind = "datetime"\nminimum = "2026-01-01T00:00:00"',
        "menus.fields.at: minimum must be an RFC 3339 time with an offset",
    ),
    "a datetime bound finer than the rules": (
        '[menus.fields.at]\nkind = "datetime"\nminimum = 2026-01-01T00:00:00.000001Z',
        "menus.fields.at: minimum: the rules compare times to the millisecond",
    ),
    "access inside a map": (
        '[menus.fields.a]\nkind = "map"\n[menus.fields.a.fields.b]\nkind = "boolean"\n'
        'access = ["read"]',
        "menus.fields.a.fields.b: unknown key 'access'",
    ),
    "a required field partners cannot set": (
        '[menus.fields.code]\nkind = "currency"\nrequired = true\naccess = ["read"]',
        "menus.fields.code: a required field",
    ),
    "a timestamp partners would write": (
        '[menus.fields.at]\nkind = "timestamp"\naccess = ["read", "create"]',
        "menus.fields.at: a timestamp is set by the server",
    ),
    "bounds the wrong way round": (
        '[menus.fields.kcal]\nkind = "integer"\nminimum = 10\nmaximum = 1',
        "menus.fields.kcal: need minimum <= maximum",
    ),
    "an unknown option": ('[menus.fields.kcal]\nkind = "integer"\nmax = 3', "unknown key 'max'"),
    "a field where the server keeps its own": (
        '[menus.fields.createdAt]\nkind = "date"',
        "menus.fields.createdAt: 'createdAt' is where the server keeps created_at",
    ),
}


@pytest.mark.parametrize(("fragment", "expected"), REFUSED.values(), ids=list(REFUSED))
def test_a_field_no_language_can_check_alike_is_refused_by_name(
    fragment: str, expected: str
) -> None:
    with pytest.raises(DeclarationError) as caught:
        _parse(MENU + fragment)
    assert expected in caught.value.message


RESOURCE_REFUSALS = {
    "a filter on a hidden field": (
        'filters = ["cost"]\n[menus.fields.cost]\nkind = "decimal"\naccess = []',
        "filters: 'cost' is hidden",
    ),
    "a range over a decimal": (
        'ranges = ["cost"]\n[menus.fields.cost]\nkind = "decimal"',
        "ranges: 'cost' is a decimal",
    ),
    "a filter on no field": ('filters = ["colour"]', "filters: 'colour' is not a declared field"),
    "an internal collection": ('collection = "partnerKeys"', "collection 'partnerKeys'"),
    "a misspelt key": ('filter = ["name"]', "unknown key 'filter'"),
    "page sizes the wrong way round": ("page_size = 50\nmax_page_size = 10", "page_size"),
    "a malformed scope": ('read_scope = "menus read"', "scope 'menus read'"),
    "a direct update": ('direct_access = ["update"]', "direct_access 'update' is not one of"),
    "a direct read of a hidden field": (
        'direct_access = ["read"]\n[menus.fields.cost]\nkind = "decimal"\naccess = []',
        "direct_access: read would show the hidden field 'cost'",
    ),
    "an order by no field": ('order = "colour"', "order: 'colour' is not a declared field"),
    "an order by the update time": ('order = "updatedAt"', "order: 'updatedAt' changes with"),
    "an order by a hidden field": (
        'order = "cost"\n[menus.fields.cost]\nkind = "integer"\naccess = []',
        "order: 'cost' is hidden",
    ),
    "an order by a decimal": (
        'order = "cost"\n[menus.fields.cost]\nkind = "decimal"',
        "order: 'cost' is a decimal",
    ),
    "a bookkeeping name of true": ("bookkeeping = { version = true }", "version takes a field"),
    "a bookkeeping name twice": (
        'bookkeeping = { created_at = "at", updated_at = "at" }',
        "updated_at: 'at' is named twice",
    ),
    "a bookkeeping name that is the tenant": (
        'bookkeeping = { created_by = "partnerId" }',
        "created_by: 'partnerId' is set by the server or reserved",
    ),
    "a misspelt bookkeeping key": ("bookkeeping = { created = false }", "unknown key 'created'"),
}


@pytest.mark.parametrize(
    ("lines", "expected"), RESOURCE_REFUSALS.values(), ids=list(RESOURCE_REFUSALS)
)
def test_a_resource_the_api_cannot_serve_is_refused_by_name(lines: str, expected: str) -> None:
    head, _, fields = MENU.partition("[menus.fields.name]")
    extra_fields = ""
    if "\n[" in lines:
        lines, _, rest = lines.partition("\n[")
        extra_fields = "\n[" + rest
    text = head.replace("[menus]\n", f"[menus]\n{lines}\n") + "[menus.fields.name]" + fields
    with pytest.raises(DeclarationError) as caught:
        _parse(text + extra_fields)
    assert expected in caught.value.message
    assert caught.value.message.startswith("resources.toml: menus")


@pytest.mark.parametrize("setting", sorted(config.OWN_COLLECTIONS))
def test_no_resource_is_declared_on_one_of_the_package_s_own_collections(
    setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every own collection, from the one list in config, and where a setting moves it."""
    default = config.OWN_COLLECTIONS[setting]
    for collection in (default, f"moved{setting.title().replace('_', '')}"):
        monkeypatch.setenv(setting, collection)
        with pytest.raises(DeclarationError) as caught:
            _parse(MENU.replace("[menus]\n", f'[menus]\ncollection = "{collection}"\n'))
        assert f"collection {collection!r} is not a collection partners may reach" in (
            caught.value.message
        )
    monkeypatch.delenv(setting)
    assert _parse(MENU.replace("[menus]\n", '[menus]\ncollection = "movedElsewhere"\n'))


def test_two_resources_on_one_collection_are_refused_and_an_empty_file_declares_none() -> None:
    twice = MENU + MENU.replace("[menus", "[dishes").replace(
        "operations", 'collection = "menus"\noperations'
    )
    with pytest.raises(DeclarationError, match="collection 'menus' is already declared"):
        _parse(twice)
    empty = _parse("# an adopted app's start: no collection open yet\n")
    assert (empty.resources, empty.scopes(), empty.first_urls) == ((), frozenset(), None)
    with pytest.raises(DeclarationError, match="operation 'purge'"):
        _parse(MENU.replace('"update"]', '"purge"]'))


def test_a_delete_is_declared_never_assumed() -> None:
    assert (
        "delete"
        not in _parse(MENU.replace('operations = ["list", "get", "create", "update"]\n', ""))
        .resources[0]
        .operations
    )
    declared = _parse(MENU.replace('"update"]', '"update", "delete"]')).resources[0]
    assert "delete" in declared.operations
    assert declared.scope_of_delete == "menus:write"
    own = _parse(MENU.replace('"update"]', '"update", "delete"]\ndelete_scope = "menus:delete"'))
    assert own.resources[0].scope_of_delete == "menus:delete"
    assert "menus:delete" in own.scopes()
    with pytest.raises(DeclarationError, match="delete_scope needs the delete operation"):
        _parse(MENU.replace('"update"]', '"update"]\ndelete_scope = "menus:delete"'))
    with pytest.raises(DeclarationError, match="direct_access: delete needs the delete operation"):
        _parse(MENU.replace('"update"]', '"update"]\ndirect_access = ["delete"]'))


def test_a_file_that_is_not_toml_is_refused_with_its_name(tmp_path: Path) -> None:
    broken = tmp_path / "resources.toml"
    broken.write_text("[menus\n")
    with pytest.raises(DeclarationError, match=r"^resources.toml: not valid TOML"):
        declaration.load(broken)
    with pytest.raises(DeclarationError, match="cannot be read"):
        declaration.load(tmp_path / "missing.toml")


def test_make_generate_refuses_a_bad_declaration_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MENU + '[menus.fields.x]\nkind = "money"\n')
    before = {path: path.read_text() for path in generate.outputs(declaration.current())}
    assert generate.main(["--declaration", str(bad)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: bad.toml: menus.fields.x: kind 'money' is not one of text, decimal, date, "
        "currency, integer, boolean, timestamp, number, datetime, geopoint, reference, "
        "list, map"
    ]
    assert {path: path.read_text() for path in before} == before


# --- the default declaration is today's contract ----------------------------------------------


def test_the_default_declaration_is_the_entries_contract() -> None:
    entries = declaration.current().get("entries")
    assert entries is not None
    assert entries.wire_fields == (
        "id", "partnerId", "description", "amount", "currency", "date", "category",
        "reference", "createdAt", "updatedAt", "createdBy", "version",
    )  # fmt: skip
    assert (entries.read_scope, entries.write_scope) == ("entries:read", "entries:write")
    assert (entries.page_size, entries.max_page_size) == (20, 100)
    assert list(entries.query_params()) == [
        "limit", "cursor", "dateFrom", "dateTo", "category", "fields",
    ]  # fmt: skip


def test_the_committed_outputs_are_what_the_declaration_generates() -> None:
    stale = [
        path.name
        for path, content in generate.outputs(declaration.current()).items()
        if path.read_text() != content
    ]
    assert stale == [], "run `make generate`"
    assert generate.main(["--check"]) == 0


def test_every_declared_list_shape_has_one_index() -> None:
    decl = both()
    menus, orders = decl.get("menus"), decl.get("orders")
    assert menus is not None
    assert orders is not None
    # 2 filters -> 4 subsets, each without a range or with the one range field
    assert len(indexes.indexes_of(menus)) == 8
    assert len(indexes.indexes_of(orders)) == 4
    assert all(
        index["fields"][0]["fieldPath"] == "restaurantId" for index in indexes.indexes_of(orders)
    )
    owner: dict[str, Any] = {
        "indexes": [{"collectionGroup": "users", "fields": []}],
        "fieldOverrides": [1],
    }
    merged = indexes.merged(owner, decl)
    assert merged["indexes"][0] == owner["indexes"][0]
    assert merged["fieldOverrides"] == [1]
    assert indexes.merged(merged, decl) == merged  # no duplicates on a second run


def test_direct_access_needs_the_operation_it_opens() -> None:
    only_list = MENU.replace('["list", "get", "create", "update"]', '["list"]')
    with pytest.raises(DeclarationError, match="direct_access: create needs the create operation"):
        _parse(only_list.replace("[menus]\n", '[menus]\ndirect_access = ["create"]\n'))
    only_create = MENU.replace('["list", "get", "create", "update"]', '["create"]')
    with pytest.raises(DeclarationError, match="direct_access: read needs the get or list"):
        _parse(only_create.replace("[menus]\n", '[menus]\ndirect_access = ["read"]\n'))


def test_bookkeeping_defaults_keep_the_apis_fields_and_false_removes_them() -> None:
    kept = _parse(MENU).get("menus")
    assert kept is not None
    assert kept.bookkeeping.fields == ("createdAt", "updatedAt", "createdBy", "version")
    assert (kept.order, kept.order_field, kept.direct_access) == (
        "createdAt",
        "createdAt",
        frozenset(),
    )
    bare = _parse(
        MENU.replace(
            "[menus]\n", "[menus]\nbookkeeping = { created_at = false, version = false }\n"
        )
    ).get("menus")
    assert bare is not None
    assert bare.bookkeeping.fields == ("updatedAt", "createdBy")
    assert (bare.order, bare.order_field, bare.order_keys()) == ("id", None, ())
    assert bare.wire_fields == ("id", "partnerId", "name", "updatedAt", "createdBy")
    renamed = _parse(
        MENU.replace("[menus]\n", '[menus]\nbookkeeping = { created_at = "created" }\n')
    ).get("menus")
    assert renamed is not None
    assert renamed.order_keys() == (("created", "timestamp"),)
    assert renamed.order_keys("name") == (("name", "text"), ("created", "timestamp"))


@pytest.mark.parametrize(
    ("order", "written"), [("id", True), ("createdAt", True), ("name", True), ("note", False)]
)
def test_generate_says_so_when_a_list_order_field_may_be_missing(order: str, written: bool) -> None:
    text = MENU + '[menus.fields.note]\nkind = "text"\nmax_length = 9\n'
    decl = _parse(text.replace("[menus]\n", f'[menus]\norder = "{order}"\n'))
    menus = decl.get("menus")
    assert menus is not None
    assert menus.order_always_written is written
    notes = generate.notes(decl)
    if written:
        assert notes == []
    else:
        assert notes == [
            "note: menus: lists are ordered by 'note', which the API does not write on every "
            "record; Firestore leaves every document without it out of the list. `python -m "
            "functions.partners inspect menus` names those documents; "
            'order = "id" reaches them all.'
        ]


def test_lists_by_id_need_an_index_only_beside_a_filter_or_range() -> None:
    text = MENU.replace("[menus]\n", '[menus]\norder = "id"\nfilters = ["name"]\n')
    menus = _parse(text + '[menus.fields.kcal]\nkind = "integer"\n').get("menus")
    assert menus is not None
    shapes = [[f["fieldPath"] for f in i["fields"]] for i in indexes.indexes_of(menus)]
    assert shapes == [["partnerId", "name"]]  # the tenant alone: Firestore's own index
    ranged = _parse(
        text.replace("filters", 'ranges = ["kcal"]\nfilters')
        + '[menus.fields.kcal]\nkind = "integer"\n'
    ).get("menus")
    assert ranged is not None
    shapes = [[f["fieldPath"] for f in i["fields"]] for i in indexes.indexes_of(ranged)]
    assert shapes == [["partnerId", "kcal"], ["partnerId", "name"], ["partnerId", "name", "kcal"]]


# --- the rules block ----------------------------------------------------------------------


def test_direct_access_decides_what_the_rules_allow_and_every_allow_checks_the_status() -> None:
    def block_of(direct: str) -> str:
        decl = _parse(MENU.replace("[menus]\n", f"[menus]\ndirect_access = {direct}\n"))
        text = rules.block(decl)
        return text[text.index("// menus") :]

    closed = block_of("[]")
    assert "allow get" not in closed
    assert "allow list" not in closed
    assert "allow create" not in closed
    assert "allow read, write: if false;" in closed
    assert "straight on Firestore: nothing (API only)" in closed
    read = block_of('["read"]')
    assert "allow get" in read
    assert "allow list" in read
    assert "allow create" not in read
    both_doors = block_of('["read", "create"]')
    allows = [line for line in both_doors.splitlines() if "allow " in line and "false" not in line]
    assert len(allows) == 3
    statements = both_doors.split("allow ")[1:4]
    assert all("partnerApiIsActive()" in statement for statement in statements)


def test_the_status_check_names_the_owners_database_variable() -> None:
    owner = (
        "rules_version = '2';\nservice cloud.firestore {\n  match /databases/{db}/documents {\n"
        "  }\n}\n"
    )
    placed = rules.place(owner, rules.block(declaration.current()))
    assert "$(database)" not in placed
    assert "/databases/$(db)/documents/partners/$(request.auth.token.partnerId)" in placed


OWNER_RULES = """rules_version = '2';
service cloud.firestore {
  match /databases/{database}/documents {
    match /users/{uid} {
      allow read, write: if request.auth.uid == uid;  // the owner's {own} comment
    }
  }
}
"""


def test_the_block_goes_inside_the_documents_match_and_keeps_every_owner_line() -> None:
    block = rules.block(both())
    placed = rules.place(OWNER_RULES, block)
    assert block in placed
    assert placed.replace(block, "").replace("\n\n", "\n", 1) == OWNER_RULES
    assert placed.index(block) < placed.rindex("  }\n}")
    again = rules.place(placed, rules.block(declaration.current()))
    assert again.replace(rules.block(declaration.current()), "") == placed.replace(block, "")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("service cloud.firestore {}\n", "no `match /databases"),
        (OWNER_RULES + rules.BEGIN + "\n", "unbalanced"),
        (OWNER_RULES + rules.END + "\n" + rules.BEGIN + "\n", "END marker comes before"),
    ],
)
def test_a_rules_file_the_block_cannot_go_into_is_refused(source: str, message: str) -> None:
    with pytest.raises(rules.RulesFileError, match=message):
        rules.place(source, rules.block(declaration.current()))


def test_hidden_fields_close_direct_reads_and_owner_named_tenants_are_checked() -> None:
    block = rules.block(both())
    menus = block[block.index("match /menus/") : block.index("// orders:")]
    assert "allow get" not in menus
    assert "allow list" not in menus
    assert "Hidden from partners: costPrice" in menus
    assert "'costPrice'" not in block  # never in hasOnly: partners cannot write it directly
    orders = block[block.index("match /orders/") :]
    assert "resource.data.restaurantId == request.auth.token.partnerId" in orders
    assert "data.placedAt == request.time" in block
    assert "allow update, delete: if false;" in orders


# --- OpenAPI: typed schemas, exact nullability ---------------------------------------------


def test_each_resource_has_typed_schemas_and_only_its_operations() -> None:
    document = openapi.build(both())
    schemas, paths = document["components"]["schemas"], document["paths"]
    assert "patch" not in paths["/api/v1/orders/{id}"]
    assert set(paths["/api/v1/menus/{id}"]) == {"get", "patch"}
    assert "costPrice" not in json.dumps(schemas["MenuItem"])
    assert "costPrice" not in schemas["MenuItemCreate"]["properties"]
    assert schemas["Order"]["properties"]["restaurantId"]["type"] == "string"
    items = schemas["OrderPage"]["properties"]["data"]["items"]
    assert items == {  # the whole record first, the fields a projection asked for second
        "anyOf": [
            {"$ref": "#/components/schemas/Order"},
            {"$ref": "#/components/schemas/OrderFields"},
        ]
    }
    assert schemas["OrderFields"]["required"] == ["id"]
    assert schemas["OrderFields"]["properties"] == schemas["Order"]["properties"]
    assert schemas["Order"]["required"] == list(both().get("orders").wire_fields)  # type: ignore[union-attr]
    entry_create = schemas["EntryCreate"]["properties"]
    assert "anyOf" not in entry_create["category"]  # null is refused on create
    patch = schemas["EntryPatch"]
    assert patch["minProperties"] == 1
    assert "anyOf" not in patch["properties"]["amount"]  # a required field cannot be nulled
    assert patch["properties"]["category"]["anyOf"][1] == {"type": "null"}
    assert schemas["MenuItemCreate"]["properties"]["course"]["enum"] == [
        "starter", "main", "dessert", "drink",
    ]  # fmt: skip


# --- the document's patterns say exactly what the model accepts -----------------------------

DECIMAL_CHARS = st.text(alphabet="-0123456789.", max_size=12)


@pytest.mark.parametrize(("digits", "scale"), [(15, 2), (4, 2), (3, 0), (5, 3)])
@settings(max_examples=400, deadline=None)
@given(value=DECIMAL_CHARS)
def test_the_decimal_pattern_accepts_what_the_model_does(
    digits: int, scale: int, value: str
) -> None:
    spec = FieldSpec(name="price", kind="decimal", required=True, digits=digits, scale=scale)
    assert bool(re.fullmatch(kinds.exact_decimal_pattern(spec), value)) is _model_takes(spec, value)


TEXT_CHARS = st.text(
    alphabet=st.sampled_from(
        [
            "a",
            "é",
            " ",
            "\t",
            "\n",
            "\r",
            "\x00",
            "\x1f",
            "\x7f",
            "\x85",
            "\xa0",
            "\u2003",
            "\u200b",
            "\u2028",
            "\u3000",
            "\ufeff",
            "\U0001f355",
            "\u180e",
        ]
    ),
    max_size=6,
)


@pytest.mark.parametrize("multiline", [True, False])
@settings(max_examples=400, deadline=None)
@given(value=TEXT_CHARS)
def test_the_text_pattern_accepts_what_the_model_does(multiline: bool, value: str) -> None:
    spec = FieldSpec(name="note", kind="text", required=True, max_length=20, multiline=multiline)
    in_document = bool(re.fullmatch(kinds.not_blank_text_pattern(spec), value))
    assert in_document is _model_takes(spec, value)


def test_the_document_serves_its_own_project_and_groups_operations_by_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    committed = openapi.build(both(), endpoints=())
    assert committed["servers"][0]["variables"]["project"]["default"] == "demo-partner-api"
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-accounting")
    monkeypatch.setenv("FUNCTIONS_REGION", "europe-west1")
    openapi._document_of.cache_clear()
    served = openapi.document()
    for server in served["servers"]:
        assert server["variables"]["project"]["default"] == "acme-accounting"
        assert server["variables"]["region"]["default"] == "europe-west1"
    assert [tag["name"] for tag in committed["tags"]] == [
        "entries", "menus", "orders", "entries: first urls", "events", "webhook endpoints",
    ]  # fmt: skip
    assert committed["paths"]["/api/v1/menus"]["get"]["tags"] == ["menus"]
    assert committed["paths"]["/fetchData"]["get"]["tags"] == ["entries: first urls"]
    text = json.dumps(committed)
    assert "<burst>" not in text  # the reference page would take it for an HTML tag
    assert '"$ref": "#/components/schemas/Error"' not in text
    assert committed["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def _model_takes(spec: FieldSpec, value: Any) -> bool:
    resource = declaration.Resource(
        name="things",
        collection="things",
        item="thing",
        tenant_field="partnerId",
        operations=frozenset({"create"}),
        read_scope="things:read",
        write_scope="things:write",
        fields=(spec,),
    )
    try:
        validation.parse_create(resource, {spec.name: value})
    except ValidationFailed:
        return False
    return True


FIELD_LISTS = st.lists(st.sampled_from(["id", "amount", "bogus", ",", " ", "\t", ""]), max_size=6)


@settings(max_examples=300, deadline=None)
@given(parts=FIELD_LISTS)
def test_the_fields_pattern_accepts_what_the_server_does(parts: list[str]) -> None:
    value = "".join(parts)
    entries = declaration.current().resources[0]
    pattern = openapi.build()["paths"]["/fetchData"]["get"]["parameters"][-1]["schema"]["pattern"]
    caller = Caller(uid="u", partner_id="acme", scopes=frozenset(), claims={})
    try:
        parsing.list_query(entries, {"fields": [value]}, caller)
        served = True
    except BadRequest:
        served = False
    assert bool(re.fullmatch(pattern, value)) is served


@pytest.mark.parametrize(
    ("name", "setting"),
    [
        ("entries", "ENTRIES_COLLECTION"),
        ("order-lines", "ORDER_LINES_COLLECTION"),
        ("menus2", "MENUS2_COLLECTION"),
        ("partners", None),
        ("api-keys", None),
        ("audit", None),
        ("limits", None),
        ("idempotency", None),
    ],
)
def test_any_resource_may_be_moved_by_its_own_setting_never_by_the_packages(
    name: str, setting: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.core import config

    assert config.collection_setting(name) == setting
    assert config.resource_collection(name, "declared") == "declared"
    for variable in (setting or f"{name.upper().replace('-', '_')}_COLLECTION",):
        monkeypatch.setenv(variable, "moved")
    assert config.resource_collection(name, "declared") == ("moved" if setting else "declared")
    monkeypatch.setenv(setting or "UNUSED_COLLECTION", "  ")
    assert config.resource_collection(name, "declared") == "declared", "blank is unset"


@pytest.mark.parametrize(
    "variable", ["MENUS_COLLECTION", "PARTNERS_COLLECTION", "API_KEYS_COLLECTION"]
)
@pytest.mark.parametrize("value", ["a/b", "__menus__", ".", "x" * 1501])
def test_a_collection_setting_firestore_cannot_hold_is_a_configuration_error(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.core import config
    from functions.core.errors import ConfigurationError
    from functions.operations.errors import environment_problem

    monkeypatch.setenv(variable, value)
    read = {
        "MENUS_COLLECTION": lambda: config.resource_collection("menus", "menus"),
        "PARTNERS_COLLECTION": config.partners_collection,
        "API_KEYS_COLLECTION": config.api_keys_collection,
    }[variable]
    with pytest.raises(ConfigurationError) as caught:
        read()
    assert caught.value.message == (
        f"{variable} must be a collection id (no slash, 1 to 1500 bytes)"
    )
    assert environment_problem(caught.value) == caught.value.message, "the CLI says it as is"
    monkeypatch.setenv(variable, "moved-2")
    assert read() == "moved-2"


def test_the_first_urls_serve_one_resource_at_most() -> None:
    assert declaration.current().first_urls is not None
    assert declaration.current().first_urls.name == "entries"  # type: ignore[union-attr]
    assert _parse(MENU).first_urls is None
    marked = MENU.replace("[menus]\n", "[menus]\nfirst_urls = true\n", 1)
    twice = marked + marked.replace("[menus", "[dishes")
    with pytest.raises(DeclarationError, match="dishes: first_urls: menus has them already"):
        _parse(twice)
