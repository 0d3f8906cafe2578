"""Hostile and malformed input: each one a clean 4xx in the one envelope, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Api,
    User,
    assert_error,
    entry_body,
    stored_entries,
)

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"description": "x", ', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"a string"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b"", "empty"),
        (b'{"amount": "1", "amount": "2"}', "repeats the key"),
        (b'{"description": "\xff\xfe"}', "UTF-8"),
        (b'{"amount": NaN}', "The body holds NaN, which JSON does not allow."),
        (b'{"amount": Infinity}', "The body holds Infinity, which JSON does not allow."),
    ],
)
def test_create_rejects_malformed_bodies_with_400(
    api: Api, acme: User, raw: bytes, fragment: str
) -> None:
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    error = assert_error(response, 400, "invalid_argument")
    assert fragment in error["message"]
    assert stored_entries() == []


@pytest.mark.parametrize("number", [b"1e309", b"-0", b"12.5", b"123456789012345678901234567890"])
def test_json_numbers_are_never_amounts(api: Api, acme: User, number: bytes) -> None:
    raw = (
        b'{"description": "x", "currency": "EUR", "date": "2026-01-01", "amount": ' + number + b"}"
    )
    response = api.post(
        "createEntry", data=raw, headers=acme.headers(**{"Content-Type": "application/json"})
    )
    error = assert_error(response, 422, "validation_failed")
    assert error["details"] == [{"field": "amount", "message": "must be a string"}]
    assert stored_entries() == []


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=abc",
        "limit=1.5",
        "limit=-1",
        "limit=",
        "colour=red",
        "limit=5&limit=6",
        "dateFrom=2026-13-01",
        "dateFrom=2026-03-02&dateTo=2026-03-01",
        "fields=id,password",
        "fields=",
        "cursor=" + "x" * 3000,
    ],
)
def test_bad_list_parameters_are_400_naming_them(api: Api, acme: User, query: str) -> None:
    error = assert_error(api.get(f"fetchData?{query}", headers=acme.headers()), 400)
    assert error["details"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("fetchData/a/b", 400),
        ("fetchData/__name__x/", 404),
        ("fetchData/__x__", 404),
        ("fetchData/odd.id", 404),
        ("fetchData/" + "x" * 129, 404),
    ],
)
def test_odd_paths_are_clean_4xx(api: Api, acme: User, path: str, status: int) -> None:
    assert_error(api.get(path, headers=acme.headers()), status)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"description": "Catering", "amount": "1.00", "currency": "EUR", "date": "2026-',
        b'{"description": "Catering"',
        b"{",
        b'{"a": 1}}',
        b"\x00\x00",
        b'\xef\xbb\xbf{"description": "BOM"}',
    ],
)
def test_truncated_and_binary_bodies_are_400(api: Api, acme: User, raw: bytes) -> None:
    response = api.post("createEntry", data=raw, headers=acme.headers(**JSON))
    assert_error(response, 400, "invalid_argument")
    assert stored_entries() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("description", "a\u0000b"), ("reference", "x" * 10000), ("category", "\u202e" + "x" * 70)],
)
def test_nul_bytes_and_very_long_strings_are_422(
    api: Api, acme: User, field: str, value: str
) -> None:
    response = api.post("createEntry", json=entry_body(**{field: value}), headers=acme.headers())
    error = assert_error(response, 422, "validation_failed")
    assert error["details"][0]["field"] == field
    assert stored_entries() == []


def test_huge_query_string_is_400_with_a_bounded_answer(api: Api, acme: User) -> None:
    params = "&".join(f"p{i}=x" for i in range(2000))
    response = api.get(f"fetchData?{params}", headers=acme.headers())
    error = assert_error(response, 400)
    assert len(error["details"]) == 20
    assert "2000 problems" in error["message"]
    assert len(response.get_data()) < len(params)


def test_oversized_headers_are_handled(api: Api, acme: User) -> None:
    headers: dict[str, Any] = acme.headers(
        **{"X-Padding": "p" * 60000, "Idempotency-Key": "k" * 5000}
    )
    response = api.post("createEntry", json=entry_body(), headers=headers)
    assert_error(response, 400)
    assert stored_entries() == []
