"""The HTTP layer's parsers: bearer credentials, If-Match, Idempotency-Key, list query
strings with their cursors, paths, request ids and strict JSON bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, Request

from functions import cursor
from functions.auth import Caller, authenticate, default_authenticators
from functions.errors import (
    BadRequest,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
    UnsupportedMediaType,
)
from functions.http import parsing
from functions.http.serializers import etag
from functions.models import Bounds, ListQuery, Position, Revision
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
        payload, _, signature = params["cursor"][0].partition(".")
        params = {"cursor": [payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature]}
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
        (b'{"amount": NaN}', "not valid JSON"),
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
