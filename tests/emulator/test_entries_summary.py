"""The shipped example endpoint, entriesSummary, through the Functions emulator: totals per
currency and category of the caller's entries in a date range, exact, against sums the
test computes itself; and the tenant-scoped reader it uses, page by page."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import flask
import pytest
import requests

from functions import store
from functions.auth import Caller
from functions.core.models import Bounds
from functions.domain import owner
from functions.examples.entries_summary import entriesSummary
from tests.helpers import Api, T, User, create, function_url

ENTRIES: list[dict[str, Any]] = [
    {"amount": "0.10", "currency": "EUR", "category": "food", "date": "2026-03-01"},
    {"amount": "0.20", "currency": "EUR", "category": "food", "date": "2026-03-15"},
    {"amount": "19.99", "currency": "EUR", "category": None, "date": "2026-03-31"},
    {"amount": "-5.00", "currency": "EUR", "category": None, "date": "2026-03-20"},
    {"amount": "999999999999.99", "currency": "USD", "category": "travel", "date": "2026-03-02"},
    {"amount": "0.01", "currency": "USD", "category": "travel", "date": "2026-03-02"},
    {"amount": "7.00", "currency": "CHF", "category": "food", "date": "2026-03-10"},
    {"amount": "100.00", "currency": "EUR", "category": "food", "date": "2026-02-28"},  # before
    {"amount": "100.00", "currency": "EUR", "category": "food", "date": "2026-04-01"},  # after
]
RANGE = ("2026-03-01", "2026-03-31")


def summary(user: User, query: str) -> requests.Response:
    return requests.get(
        function_url("entriesSummary") + "?" + query, headers=user.headers(), timeout=60
    )


def expected_totals(entries: list[dict[str, Any]], low: str, high: str) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str | None], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for entry in entries:
        if low <= entry["date"] <= high:
            group = sums[(entry["currency"], entry["category"])]
            group[0] += 1
            group[1] += Decimal(entry["amount"])
    ordered = sorted(sums.items(), key=lambda i: (i[0][0], i[0][1] is not None, i[0][1] or ""))
    return [
        {"currency": c, "category": k, "entries": n, "amount": f"{total:.2f}"}
        for (c, k), (n, total) in ordered
    ]


def test_without_the_read_scope_the_summary_is_403(partner: Any) -> None:
    writer: User = partner("acme", scopes=["entries:write"])
    response = summary(writer, "from=2026-03-01&to=2026-03-31")
    assert response.status_code == 403, response.text
    assert "entries:read" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", {"from": "is required", "to": "is required"}),
        ("from=2026-03-31&to=2026-03-01", {"to": "must not be before from"}),
        ("from=2026-01-01&to=2027-01-02", {"to": "must be less than 366 days after from"}),
        ("from=2026-02-30&to=2026-03-01", {"from": None}),
        ("from=2026-03-01&to=2026-03-02&currency=EUR", {"currency": None}),
    ],
)
def test_a_bad_range_is_one_422_naming_each_parameter(
    acme: User, query: str, named: dict[str, str | None]
) -> None:
    response = summary(acme, query)
    assert response.status_code == 422, response.text
    details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
    assert set(details) == set(named)
    for field, message in named.items():
        if message is not None:
            assert details[field] == message


def test_the_totals_are_exact_per_currency_and_category_and_only_the_callers(
    api: Api, acme: User, globex: User
) -> None:
    for entry in ENTRIES:
        create(api, acme, description="summed", **entry)
    create(api, globex, description="not acme's", amount="50.00", currency="EUR",
           category="food", date="2026-03-05")  # fmt: skip
    broken_id = T.name("broken-one")
    broken = store.client().collection("entries").document(broken_id)
    now = dt.datetime.now(dt.UTC)
    broken.set(
        {"partnerId": T.acme, "date": "2026-03-03", "amount": "ten", "currency": "EUR",
         "description": "left by another writer", "createdAt": now}
    )  # fmt: skip
    response = summary(acme, f"from={RANGE[0]}&to={RANGE[1]}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["totals"] == expected_totals(ENTRIES, *RANGE)
    assert body["entries"] == 7
    assert body["skipped"] == [broken_id]
    assert (body["from"], body["to"]) == RANGE
    eur_food = next(t for t in body["totals"] if (t["currency"], t["category"]) == ("EUR", "food"))
    assert eur_food["amount"] == "0.30"  # not 0.30000000000000004
    one_day = summary(acme, "from=2026-03-02&to=2026-03-02").json()
    assert one_day["totals"] == [
        {"currency": "USD", "category": "travel", "entries": 2, "amount": "1000000000000.00"}
    ]
    assert summary(globex, f"from={RANGE[0]}&to={RANGE[1]}").json()["totals"] == [
        {"currency": "EUR", "category": "food", "entries": 1, "amount": "50.00"}
    ]
    # the same function in this process, as functions-framework calls it: the same answer
    with flask.Flask("summary").test_request_context(
        "/", query_string={"from": RANGE[0], "to": RANGE[1]}, headers=acme.headers()
    ):
        local = entriesSummary(flask.request)
    assert (local.status_code, local.get_json()) == (200, body)


def test_the_tenant_reader_walks_every_page_and_never_another_tenant(
    api: Api, acme: User, globex: User
) -> None:
    for day in range(1, 6):
        create(api, acme, date=f"2026-05-0{day}", amount=f"{day}.00")
    create(api, globex, date="2026-05-03")
    caller = Caller(acme.uid, T.acme, frozenset({"entries:read"}), {})
    reader = owner.tenant_records("entries", caller)
    seen = list(reader.each(bounds=Bounds("date", "2026-05-02", "2026-05-05"), page_size=2))
    assert [r.values["date"] for r in seen] == ["2026-05-02", "2026-05-03", "2026-05-04",
                                                "2026-05-05"]  # fmt: skip
    assert {r.values["partnerId"] for r in seen} == {T.acme}
    assert (reader.read, reader.skipped) == (4, [])
    assert len(list(reader.each(equals={"category": "none-such"}))) == 0
    with pytest.raises(Exception, match="not declared filterable by amount"):
        list(reader.each(equals={"amount": "1.00"}))
    with pytest.raises(Exception, match="declares no range on amount"):
        list(reader.each(bounds=Bounds("amount", "1", "2")))
    with pytest.raises(Exception, match="declares no resource 'ledgers'"):
        owner.tenant_records("ledgers", caller)
    assert dt.date.fromisoformat(seen[-1].values["date"]).day == 5
