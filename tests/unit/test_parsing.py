"""The HTTP layer's parsers: bearer credentials, If-Match, Idempotency-Key, list query
strings with their cursors, paths, request ids and strict JSON bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.auth import Caller, authenticate, default_authenticators
from functions.core import cursor
from functions.core.errors import (
    BadRequest,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from functions.core.models import Bounds, EventsQuery, ListQuery, Position, Revision
from functions.edge.http import parsing
from functions.edge.http.serializers import etag
from functions.resources import declaration
from tests.helpers import PROJECT

ENTRIES = declaration.current().resources[0]
ACME = Caller(uid="u1", partner_id="acme", scopes=frozenset(), claims={})
GLOBEX = Caller(uid="u2", partner_id="globex", scopes=frozenset(), claims={})
APP = Flask(__name__)


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)  # the default cursor key derives from it


def request(path: str = "/", **kwargs: Any) -> Request:
    with APP.test_request_context(path, **kwargs) as context:
        return context.request


# --- bearer credentials --------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwdw==", "Token abc.def.ghi"])
def test_no_bearer_credential_is_401_without_an_error_code(header: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        parsing.bearer_credential(header)
    assert caught.value.headers()["WWW-Authenticate"] == 'Bearer realm="partner-api"'


@pytest.mark.parametrize("header", ["Bearer", "Bearer   ", "Bearer " + "a." * 5000])
def test_an_empty_or_oversized_credential_is_an_invalid_token(header: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        parsing.bearer_credential(header)
    assert 'error="invalid_token"' in caught.value.headers()["WWW-Authenticate"]


@pytest.mark.parametrize("credential", ["abc", "a.b", "a.b.c.d"])
def test_a_credential_of_no_known_shape_is_refused_before_any_lookup(credential: str) -> None:
    with pytest.raises(Unauthorized, match="neither an API key nor an ID token"):
        authenticate(credential, default_authenticators())


@pytest.mark.parametrize(
    ("agent", "sdk"),
    [
        ("partner-api-python/1.0.0 (python 3.11.2; httpx 0.28.1)", "python/1.0.0"),
        ("partner-api-typescript/12.3.4 (node v20.20.2)", "typescript/12.3.4"),
        ("partner-api-typescript/1.0.0", "typescript/1.0.0"),
        ("partner-api-ruby/1.0.0", None),
        ("partner-api-python/1.0", None),
        ("partner-api-python/1.0.0-rc1", "python/1.0.0"),
        ("curl/8.5.0 partner-api-python/1.0.0", None),
        ("python-httpx/0.28.1", None),
        ("", None),
        (None, None),
    ],
)
def test_the_sdk_of_a_user_agent(agent: str | None, sdk: str | None) -> None:
    assert parsing.sdk_of(agent) == sdk


def test_the_bearer_scheme_is_case_insensitive() -> None:
    assert parsing.bearer_credential("bearer a.b.c") == "a.b.c"
    assert parsing.bearer_credential("BEARER  a.b.c ") == "a.b.c"


# --- If-Match and Idempotency-Key ----------------------------------------------------------


@pytest.mark.parametrize(("header", "version"), [('"1"', 1), ("7", 7), (' "12" ', 12)])
def test_if_match_names_a_version(header: str, version: int) -> None:
    assert parsing.expected_revision(header) == Revision(version=version)


@pytest.mark.parametrize(
    ("header", "written"),
    [
        ('"w1764676800123456789"', 1764676800123456789),
        ("w0", 0),
        ('"w' + "9" * 21 + '"', 10**21 - 1),
    ],
)
def test_if_match_names_the_write_time_of_a_record_without_a_version(
    header: str, written: int
) -> None:
    assert parsing.expected_revision(header) == Revision(written_ns=written)


def test_an_etag_reads_back_as_the_revision_it_was_made_from() -> None:
    moment = dt.datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=dt.UTC)
    for revision in (Revision(version=3), Revision.of_write(moment)):
        assert parsing.expected_revision(etag(revision)) == revision
    assert etag(Revision.of_write(moment)) == '"w1796205600123456000"'


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_if_match_is_428(header: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        parsing.expected_revision(header)


@pytest.mark.parametrize(
    "header",
    ["*", '"abc"', "1,2", '"1" "2"', '"1"x', "-1", "1" * 13, '"w"', "w" + "1" * 22, '"W1"', "w-1"],
)
def test_a_malformed_if_match_is_400_naming_the_header(header: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.expected_revision(header)
    assert caught.value.details == [{"field": "If-Match", "message": "is malformed"}]


@pytest.mark.parametrize("header", ['W/"1"', ' W/"7" ', "W/1"])
def test_a_weak_etag_never_matches_and_says_why(header: str) -> None:
    with pytest.raises(PreconditionFailed, match="strong"):
        parsing.expected_revision(header)


@pytest.mark.parametrize("key", ["order-42", "x" * 255, "!~"])
def test_idempotency_keys_of_visible_ascii_are_kept(key: str) -> None:
    assert parsing.idempotency_key(key) == key
    assert parsing.idempotency_key(None) is None


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\tkey", "ümlaut", "nl\n"])
def test_malformed_idempotency_keys_are_400(key: str) -> None:
    with pytest.raises(BadRequest, match="Idempotency-Key"):
        parsing.idempotency_key(key)


# --- list queries and cursors --------------------------------------------------------------


def test_a_list_query_without_parameters_is_the_first_page_of_20() -> None:
    assert parsing.list_query(ENTRIES, {}, ACME) == ListQuery()


def test_a_list_query_reads_every_parameter() -> None:
    query = parsing.list_query(
        ENTRIES,
        {
            "limit": ["5"],
            "dateFrom": ["2026-01-01"],
            "dateTo": ["2026-01-31"],
            "category": ["food"],
            "fields": ["amount, date"],
        },
        ACME,
    )
    assert query == ListQuery(
        limit=5,
        equals=(("category", "food"),),
        bounds=Bounds("date", "2026-01-01", "2026-01-31"),
        fields=frozenset({"amount", "date"}),
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": ["0"]}, "limit"),
        ({"limit": ["101"]}, "limit"),
        ({"limit": ["1.5"]}, "limit"),
        ({"limit": ["٣"]}, "limit"),
        ({"colour": ["red"]}, "colour"),
        ({"limit": ["5", "6"]}, "limit"),
        ({"dateFrom": ["2026-02-30"]}, "dateFrom"),
        ({"dateFrom": ["2026-03-02"], "dateTo": ["2026-03-01"]}, "dateTo"),
        ({"category": ["c" * 65]}, "category"),
        ({"fields": ["id,password"]}, "fields"),
        ({"fields": [""]}, "fields"),
        ({"cursor": ["x" * 3000]}, "cursor"),
    ],
)
def test_bad_list_parameters_are_400_naming_them(params: dict[str, list[str]], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.list_query(ENTRIES, params, ACME)
    assert field in {issue["field"] for issue in caught.value.details}


def _tampered(token: str) -> str:
    """The cursor with the last character of its payload changed, its signature kept."""
    payload, _, signature = token.partition(".")
    return payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature


def _cursor(values: list[Any], caller: Caller = ACME, query: ListQuery | None = None) -> str:
    fingerprint = (query or ListQuery()).fingerprint("entries")
    return cursor.encode(values, partner_id=caller.partner_id, query_fingerprint=fingerprint)


def test_a_cursor_resumes_after_the_position_it_carries() -> None:
    position = Position((dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),), "abc123")
    query = parsing.list_query(ENTRIES, {"cursor": [_cursor(position.values())]}, ACME)
    assert query.after == position


@pytest.mark.parametrize(
    "case",
    ["another partner", "another query", "tampered", "garbage", "wrong shape", "out of range"],
)
def test_an_unusable_cursor_is_one_and_the_same_400(case: str) -> None:
    good = Position((dt.datetime(2026, 3, 1, tzinfo=dt.UTC),), "abc123").values()
    params = {"cursor": [_cursor(good)]}
    if case == "another partner":
        params = {"cursor": [_cursor(good, GLOBEX)]}
    elif case == "another query":
        params = {**params, "category": ["food"]}
    elif case == "tampered":
        params = {"cursor": [_tampered(params["cursor"][0])]}
    elif case == "garbage":
        params = {"cursor": ["garbage"]}
    elif case == "wrong shape":
        params = {"cursor": [_cursor(["2026-03-01", *good])]}
    else:
        params = {"cursor": [_cursor(["0001-01-01T00:00:00+14:00", "abc123"])]}
    with pytest.raises(BadRequest) as caught:
        parsing.list_query(ENTRIES, params, ACME)
    assert caught.value.details == [{"field": "cursor", "message": "is not a cursor of this query"}]


# --- paths, request ids and bodies ---------------------------------------------------------


@pytest.mark.parametrize(("path", "entry_id"), [("/", None), ("/abc", "abc"), ("/abc/", "abc")])
def test_the_path_names_at_most_one_entry(path: str, entry_id: str | None) -> None:
    assert parsing.path_id(request(path)) == entry_id


def test_a_path_of_two_segments_is_400() -> None:
    with pytest.raises(BadRequest):
        parsing.path_id(request("/a/b"))


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("partner-req-000123", True), ("bad id\twith spaces", False), ("short", False), ("", False)],
)
def test_a_request_id_is_echoed_only_when_well_formed(incoming: str, kept: bool) -> None:
    assigned = parsing.request_id(request(headers={"X-Request-Id": incoming}))
    assert (assigned == incoming) is kept
    if not kept:
        assert len(assigned) == 32


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"description": "x", ', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"null", "JSON object"),
        (b"", "empty"),
        (b'{"amount": "1", "amount": "2"}', "repeats the key"),
        (b'{"description": "\xff\xfe"}', "UTF-8"),
        (b'{"amount": NaN}', "The body holds NaN, which JSON does not allow."),
        (b"[" * 30000 + b"]" * 30000, "nested too deeply"),
    ],
)
def test_bodies_must_be_one_strict_json_object(raw: bytes, fragment: str) -> None:
    with pytest.raises(BadRequest, match=fragment):
        parsing.parse_json_object(raw)


def test_json_numbers_stay_exact() -> None:
    assert parsing.parse_json_object(b'{"a": 0.1}')["a"] == Decimal("0.1")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json; charset=latin-1"])
def test_a_body_that_is_not_utf8_json_is_415(content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(UnsupportedMediaType):
        parsing.json_object(request(method="POST", data=b"{}", headers=headers))


def test_a_body_over_the_limit_is_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1024")
    body = b'{"a": "' + b"x" * 2000 + b'"}'
    with pytest.raises(PayloadTooLarge):
        parsing.json_object(request(method="POST", data=body, content_type="application/json"))


# --- the numbers and reasons around each verdict --------------------------------------------


@pytest.mark.parametrize(
    ("header", "reason", "message", "given"),
    [
        (
            None,
            "no_credential",
            "Send 'Authorization: Bearer <API key or Firebase ID token>'.",
            False,
        ),
        (
            "",
            "no_credential",
            "Send 'Authorization: Bearer <API key or Firebase ID token>'.",
            False,
        ),
        (
            "Basic x",
            "not_bearer",
            "Use the Bearer scheme with an API key or a Firebase ID token.",
            False,
        ),
        (
            "Bearerx y",
            "not_bearer",
            "Use the Bearer scheme with an API key or a Firebase ID token.",
            False,
        ),
        ("Bearer ", "malformed_credential", "The bearer credential is malformed.", True),
        (
            "Bearer " + "a" * 8193,
            "malformed_credential",
            "The bearer credential is malformed.",
            True,
        ),
    ],
)
def test_each_refused_credential_names_its_reason(
    header: str | None, reason: str, message: str, given: bool
) -> None:
    with pytest.raises(Unauthorized) as caught:
        parsing.bearer_credential(header)
    assert caught.value.reason == reason
    assert caught.value.message == message
    assert ("invalid_token" in caught.value.headers()["WWW-Authenticate"]) is given


def test_a_credential_of_the_largest_size_is_kept() -> None:
    assert parsing.bearer_credential("Bearer " + "a" * 8192) == "a" * 8192
    assert parsing.MAX_CREDENTIAL_CHARS == 8192


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("1.1.1.1, 203.0.113.7", "203.0.113.7"),
        ("spoofed,  2001:db8::1 ", "2001:db8::1"),
        ("1.1.1.1, ", None),
        ("", None),
        ("evil.example", None),
        ("1" * 45, "1" * 45),
        ("1" * 46, None),
    ],
)
def test_the_address_is_the_last_one_googles_front_end_appended(
    forwarded: str, address: str | None
) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    asked = request(headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert parsing.forwarded_address(asked) == address
    assert parsing.client_address(asked) == (address or "10.0.0.9")


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("a" * 8, True), ("a" * 7, False), ("a" * 128, True), ("a" * 129, False), ("A.b_c:d-9", True)],
)
def test_request_ids_are_8_to_128_safe_characters(incoming: str, kept: bool) -> None:
    assigned = parsing.request_id(request(headers={"X-Request-Id": incoming}))
    assert (assigned == incoming) is kept


def test_if_match_bounds_and_the_item_named_in_its_message() -> None:
    assert parsing.expected_revision("9" * 12) == Revision(version=10**12 - 1)
    assert parsing.expected_revision('"w' + "9" * 21 + '"') == Revision(written_ns=10**21 - 1)
    for bad in ("1" * 13, "w" + "1" * 22, '"w"', "*", '"a"'):
        with pytest.raises(BadRequest) as caught:
            parsing.expected_revision(bad, "dish")
        assert caught.value.message == (
            'If-Match must be the dish\'s ETag as read (such as "3") or its version number.'
        )
        assert caught.value.details == [{"field": "If-Match", "message": "is malformed"}]
    with pytest.raises(PreconditionFailed) as weak:
        parsing.expected_revision('W/"3"')
    assert weak.value.message.startswith("If-Match compares strong ETags only (RFC 9110)")


def test_idempotency_key_bounds_and_message() -> None:
    assert parsing.idempotency_key("x") == "x"
    assert parsing.idempotency_key("~" * 255) == "~" * 255
    assert parsing.idempotency_key(None) is None
    with pytest.raises(BadRequest) as caught:
        parsing.idempotency_key("x" * 256)
    assert caught.value.message == "Idempotency-Key must be 1 to 255 visible ASCII characters."
    assert caught.value.details == [{"field": "Idempotency-Key", "message": "is malformed"}]


def _issues(resource: Any, params: dict[str, list[str]]) -> list[dict[str, object]]:
    with pytest.raises(BadRequest) as caught:
        parsing.list_query(resource, params, ACME)
    assert caught.value.message == "Some query parameters are invalid."
    return [dict(issue) for issue in caught.value.details]


def test_each_bad_list_parameter_is_told_exactly_what_is_wrong() -> None:
    assert _issues(ENTRIES, {"limit": ["0"]}) == [{"field": "limit", "message": "must be 1 to 100"}]
    assert _issues(ENTRIES, {"limit": ["101"]})[0]["message"] == "must be 1 to 100"
    assert parsing.list_query(ENTRIES, {"limit": ["100"]}, ACME).limit == 100
    assert parsing.list_query(ENTRIES, {"limit": ["1"]}, ACME).limit == 1
    assert _issues(ENTRIES, {"colour": ["red"], "size": ["9"]}) == [
        {"field": "colour", "message": "is not a query parameter of this list"},
        {"field": "size", "message": "is not a query parameter of this list"},
    ]
    assert _issues(ENTRIES, {"category": ["a", "b"]}) == [
        {"field": "category", "message": "may be given once"}
    ]
    assert _issues(ENTRIES, {"fields": ["amount,,nope"]}) == [
        {"field": "fields", "message": "unknown fields: (empty), nope"}
    ]
    long = _issues(ENTRIES, {"fields": [",".join(f"f{i:03}" for i in range(100))]})
    assert len(str(long[0]["message"])) == 200
    assert _issues(ENTRIES, {"dateFrom": ["2026-03-02"], "dateTo": ["2026-03-01"]}) == [
        {"field": "dateTo", "message": "must not be before dateFrom"}
    ]
    same_day = {"dateFrom": ["2026-03-01"], "dateTo": ["2026-03-01"]}
    assert parsing.list_query(ENTRIES, same_day, ACME).bounds == Bounds(
        "date", "2026-03-01", "2026-03-01"
    )
    assert _issues(ENTRIES, {"cursor": ["x" * 2049]}) == [
        {"field": "cursor", "message": "is not a cursor of this API"}
    ]
    assert _issues(ENTRIES, {"cursor": [""]})[0]["field"] == "cursor"


def test_a_bound_alone_leaves_the_other_end_open() -> None:
    low = parsing.list_query(ENTRIES, {"dateFrom": ["2026-03-01"]}, ACME)
    assert low.bounds == Bounds("date", "2026-03-01", None)
    high = parsing.list_query(ENTRIES, {"dateTo": ["2026-03-01"]}, ACME)
    assert high.bounds == Bounds("date", None, "2026-03-01")
    assert _issues(ENTRIES, {"dateFrom": ["x"], "dateTo": ["2026-03-01"]}) == [
        {"field": "dateFrom", "message": 'must be a date "YYYY-MM-DD"'}
    ]


def test_integer_boolean_and_currency_filters_are_typed_as_stored() -> None:
    from tests.helpers import more_declaration

    declared = more_declaration()
    menus, orders = declared.get("menus"), declared.get("orders")
    query = parsing.list_query(
        menus,
        {"vegetarian": ["true"], "caloriesFrom": ["100"], "caloriesTo": ["900"]},
        ACME,
    )
    assert query.equals == (("vegetarian", True),)
    assert query.bounds == Bounds("calories", 100, 900)
    assert _issues(menus, {"vegetarian": ["yes"]}) == [
        {"field": "vegetarian", "message": "must be true or false"}
    ]
    assert _issues(menus, {"caloriesFrom": ["900"], "caloriesTo": ["100"]}) == [
        {"field": "caloriesTo", "message": "must not be before caloriesFrom"}
    ]
    assert parsing.list_query(orders, {"status": ["open"]}, ACME).equals == (("status", "open"),)


def test_a_list_bounds_one_range_at_a_time() -> None:
    import tomllib

    text = (
        '[logs]\ncollection = "logs"\nranges = ["day", "count"]\n'
        '[logs.fields.day]\nkind = "date"\nrequired = true\n'
        '[logs.fields.count]\nkind = "integer"\nrequired = true\n'
    )
    logs = declaration.parse(tomllib.loads(text)).get("logs")
    assert logs is not None
    both = {"dayFrom": ["2026-01-01"], "countTo": ["5"]}
    assert _issues(logs, both) == [
        {"field": "count", "message": "a list bounds one range at a time"}
    ]
    assert parsing.list_query(logs, {"countTo": ["5"]}, ACME).bounds == Bounds("count", None, 5)


def test_a_good_body_is_read_whole_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1024")
    body = b'{"a": "' + b"x" * (1024 - 9) + b'"}'
    assert len(body) == 1024
    for content_type in (
        "application/json",
        "application/json; charset=UTF-8",
        "Application/JSON; charset=utf8",
    ):
        read = parsing.json_object(request(method="POST", data=body, content_type=content_type))
        assert read == {"a": "x" * 1015}
    over = body[:-2] + b'x"}'
    with pytest.raises(PayloadTooLarge) as caught:
        parsing.json_object(request(method="POST", data=over, content_type="application/json"))
    assert caught.value.message == "The body may be at most 1024 bytes."


def test_a_body_longer_than_it_says_is_cut_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("MAX_BODY_BYTES", "1024")
    body = b'{"a": "' + b"x" * 2000 + b'"}'
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        method="POST", data=body, content_type="application/json"
    ).get_environ()
    del environ["CONTENT_LENGTH"]  # a chunked body: no length said, the stream ends with it
    environ["wsgi.input_terminated"] = True
    environ["wsgi.input"] = io.BytesIO(body)
    asked = Request(environ)
    assert asked.content_length is None
    with pytest.raises(PayloadTooLarge, match="at most 1024 bytes"):
        parsing.json_object(asked)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": 1, "b": {"a": 1}}', None),
        (b'  {"a": Infinity}', "The body holds Infinity, which JSON does not allow."),
        (b'{"a": -Infinity}', "The body holds -Infinity, which JSON does not allow."),
        (b'{"k": 1, "k": 1}', "The body repeats the key 'k'."),
        (b"  \n ", "The body is empty; send a JSON object."),
        (b'"text"', "The body must be a JSON object."),
        (b"\xc3", "The body is not valid UTF-8."),
    ],
)
def test_strict_json_messages(raw: bytes, message: str | None) -> None:
    if message is None:
        assert parsing.parse_json_object(raw) == {"a": 1, "b": {"a": 1}}
        return
    with pytest.raises(BadRequest) as caught:
        parsing.parse_json_object(raw)
    assert caught.value.message == message


def test_a_cursor_keeps_every_other_parameter_of_its_query() -> None:
    params = {
        "limit": ["5"],
        "category": ["food"],
        "dateFrom": ["2026-01-01"],
        "dateTo": ["2026-01-31"],
        "fields": [" amount , date "],
    }
    first = parsing.list_query(ENTRIES, params, ACME)
    moment = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    position = Position(("2026-01-05", moment), "abc123")  # ordered by date, then creation
    token = cursor.encode(
        position.values(), partner_id="acme", query_fingerprint=first.fingerprint("entries")
    )
    resumed = parsing.list_query(ENTRIES, {**params, "cursor": [token]}, ACME)
    assert resumed == ListQuery(
        limit=5,
        after=position,
        equals=(("category", "food"),),
        bounds=Bounds("date", "2026-01-01", "2026-01-31"),
        fields=frozenset({"amount", "date"}),
    )


def test_a_cursor_of_1_to_2048_characters_is_read_as_one() -> None:
    for size in (1, 2048):  # read, then refused as a cursor of no query
        with pytest.raises(BadRequest) as caught:
            parsing.list_query(ENTRIES, {"cursor": ["A" * size]}, ACME)
        assert caught.value.message == (
            "The cursor is not valid for this query; start again without a cursor."
        )
        assert caught.value.details == [
            {"field": "cursor", "message": "is not a cursor of this query"}
        ]
    assert _issues(ENTRIES, {"cursor": ["A" * 2049]}) == [
        {"field": "cursor", "message": "is not a cursor of this API"}
    ]


# --- the events list's query ---------------------------------------------------------------

TYPES = ("entries.created", "entries.updated")


def _events_cursor(values: list[Any], caller: Caller = ACME, event_type: str | None = None) -> str:
    fingerprint = EventsQuery(event_type=event_type).fingerprint()
    return cursor.encode(values, partner_id=caller.partner_id, query_fingerprint=fingerprint)


def test_an_events_query_without_parameters_is_the_first_page_of_20_of_every_type() -> None:
    assert parsing.events_query({}, ACME, TYPES) == EventsQuery(
        limit=20, after=None, event_type=None
    )


@pytest.mark.parametrize("limit", ["1", "57", "100"])
def test_an_events_query_reads_its_limit_from_1_to_100(limit: str) -> None:
    query = parsing.events_query({"limit": [limit], "type": ["entries.updated"]}, ACME, TYPES)
    assert query == EventsQuery(limit=int(limit), after=None, event_type="entries.updated")


@pytest.mark.parametrize(
    ("params", "issues"),
    [
        ({"limit": ["0"]}, [{"field": "limit", "message": "must be 1 to 100"}]),
        ({"limit": ["101"]}, [{"field": "limit", "message": "must be 1 to 100"}]),
        ({"limit": ["-1"]}, [{"field": "limit", "message": "must be 1 to 100"}]),
        ({"limit": ["٣"]}, [{"field": "limit", "message": "must be 1 to 100"}]),
        ({"limit": [""]}, [{"field": "limit", "message": "must be 1 to 100"}]),
        ({"limit": ["5", "6"]}, [{"field": "limit", "message": "may be given once"}]),
        (
            {"type": ["orders.created"]},
            [{"field": "type", "message": "is not an event type of this API"}],
        ),
        ({"cursor": [""]}, [{"field": "cursor", "message": "is not a cursor of this API"}]),
        ({"cursor": ["x" * 2049]}, [{"field": "cursor", "message": "is not a cursor of this API"}]),
        (
            {"since": ["x"]},
            [{"field": "since", "message": "is not a query parameter of this list"}],
        ),
        (
            {"page": ["2"], "limit": ["0"], "type": ["x"], "cursor": [""]},
            [
                {"field": "page", "message": "is not a query parameter of this list"},
                {"field": "limit", "message": "must be 1 to 100"},
                {"field": "type", "message": "is not an event type of this API"},
                {"field": "cursor", "message": "is not a cursor of this API"},
            ],
        ),
    ],
)
def test_bad_events_parameters_are_400_naming_each(
    params: dict[str, list[str]], issues: list[dict[str, str]]
) -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.events_query(params, ACME, TYPES)
    assert caught.value.message == "Some query parameters are invalid."
    assert caught.value.details == issues


def test_an_events_cursor_resumes_after_the_event_it_carries() -> None:
    at = dt.datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=dt.UTC)
    params = {
        "cursor": [_events_cursor([at.isoformat(), "ev-7"], event_type="entries.created")],
        "type": ["entries.created"],
        "limit": ["5"],
    }
    query = parsing.events_query(params, ACME, TYPES)
    assert query == EventsQuery(limit=5, after=(at, "ev-7"), event_type="entries.created")
    assert query.after is not None
    assert query.after[0].tzinfo is not None


def test_a_cursor_at_the_longest_length_is_read_not_refused_for_its_size() -> None:
    token = _events_cursor(["2026-03-01T00:00:00+00:00", "e" * 1400])
    assert len(token) <= 2048
    query = parsing.events_query({"cursor": [token]}, ACME, TYPES)
    assert query.after == (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "e" * 1400)


@pytest.mark.parametrize(
    "case", ["another partner", "another type", "tampered", "garbage", "wrong shape", "bad time"]
)
def test_an_unusable_events_cursor_is_one_and_the_same_400(case: str) -> None:
    good = ["2026-03-01T00:00:00+00:00", "ev-1"]
    params = {"cursor": [_events_cursor(good)]}
    if case == "another partner":
        params = {"cursor": [_events_cursor(good, GLOBEX)]}
    elif case == "another type":
        params = {**params, "type": ["entries.created"]}
    elif case == "tampered":
        params = {"cursor": [_tampered(params["cursor"][0])]}
    elif case == "garbage":
        params = {"cursor": ["garbage"]}
    elif case == "wrong shape":
        params = {"cursor": [_events_cursor([*good, "extra"])]}
    else:
        params = {"cursor": [_events_cursor(["yesterday", "ev-1"])]}
    with pytest.raises(BadRequest) as caught:
        parsing.events_query(params, ACME, TYPES)
    assert caught.value.details == [{"field": "cursor", "message": "is not a cursor of this query"}]


# --- what the parsers name and answer exactly ----------------------------------------------


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "no_credential"), ("", "no_credential"), ("Basic x", "not_bearer")],
)
def test_a_missing_or_foreign_credential_is_not_a_given_token(
    header: str | None, reason: str
) -> None:
    with pytest.raises(Unauthorized) as caught:
        parsing.bearer_credential(header)
    assert caught.value.token_given is False
    assert caught.value.reason == reason


def test_a_path_of_two_segments_names_what_the_path_takes() -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.path_id(request("/a/b"))
    assert caught.value.message == "The path takes at most one segment: the record's id."


def test_if_match_names_a_record_unless_told_otherwise() -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.expected_revision('"a"')
    assert caught.value.message == (
        'If-Match must be the record\'s ETag as read (such as "3") or its version number.'
    )
    with pytest.raises(PreconditionFailed) as weak:
        parsing.expected_revision(' W/"3" ')
    assert weak.value.message == (
        "If-Match compares strong ETags only (RFC 9110): a weak ETag (W/...) never "
        'matches. Send the ETag as read, such as "3".'
    )


def test_a_request_without_a_request_id_gets_a_new_one_each_time() -> None:
    first, second = (parsing.request_id(request()) for _ in range(2))
    assert len(first) == len(second) == 32
    assert first != second
    assert all(c in "0123456789abcdef" for c in first)


def test_the_forwarded_address_is_the_last_of_three() -> None:
    asked = request(headers={"X-Forwarded-For": "1.1.1.1, 2.2.2.2, 203.0.113.9"})
    assert parsing.forwarded_address(asked) == "203.0.113.9"


def test_the_list_fields_are_named_exactly_as_sent_with_spaces_around() -> None:
    query = parsing.list_query(ENTRIES, {"fields": [" description , amount"]}, ACME)
    assert query.fields == frozenset({"description", "amount"})
    with pytest.raises(BadRequest) as caught:
        parsing.list_query(ENTRIES, {"fields": ["Xdescription"]}, ACME)
    assert [issue["field"] for issue in caught.value.details] == ["fields"]
    assert "Xdescription" in caught.value.details[0]["message"]


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/json; charset=utf8", True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        (None, False),
    ],
)
def test_a_body_is_json_in_utf8_whatever_the_case(content_type: str | None, accepted: bool) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    asked = request(method="POST", data=b'{"a": 1}', headers=headers)
    if accepted:
        assert parsing.json_object(asked) == {"a": 1}
    else:
        with pytest.raises(UnsupportedMediaType):
            parsing.json_object(asked)


def test_a_body_nested_too_deeply_says_so() -> None:
    with pytest.raises(BadRequest) as caught:
        parsing.parse_json_object(b"[" * 30000 + b"]" * 30000)
    assert caught.value.message == "The body is nested too deeply."


class _Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    city: str = Field(min_length=1)


class _Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: _Address
    note: str = ""

    @field_validator("note")
    @classmethod
    def _no_shouting(cls, value: str) -> str:
        if value.isupper():
            raise ValueError("Note must not shout")
        return value


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


def test_a_nested_field_is_named_by_its_path_and_a_validator_in_its_own_words() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parsing.model_input(_Order, {"address": {}, "note": "LOUD", "x": 1}, "field")
    assert caught.value.details == [
        {"field": "x", "message": "is not a field of this endpoint"},
        {"field": "address.city", "message": "is required"},
        {"field": "note", "message": "note must not shout"},
    ]
    assert set(caught.value.details[2]) == {"field", "message"}


def test_a_model_that_allows_extra_names_keeps_them() -> None:
    parsed = parsing.model_input(_Open, {"name": "a", "colour": "red"}, "field")
    assert parsed.name == "a"
    assert parsed.model_extra == {"colour": "red"}
    with pytest.raises(ValidationFailed) as caught:
        parsing.model_input(_Open, {"colour": "red"}, "query parameter")
    assert caught.value.details == [{"field": "name", "message": "is required"}]
