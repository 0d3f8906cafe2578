"""`inspect` judges stored documents as the functions do: pure logic, no emulator."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from functions.core.models import Revision
from functions.operations import inspection
from functions.resources import declaration
from functions.resources.declaration import Resource

WRITTEN = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
DECLARATION = """
[dishes]
order = "created"
[dishes.bookkeeping]
created_at = "created"
updated_at = false
created_by = false
version = false
[dishes.fields.name]
kind = "text"
max_length = 20
required = true
[dishes.fields.price]
kind = "decimal"
digits = 5
scale = 2
"""


def dishes() -> Resource:
    resource = declaration.parse(tomllib.loads(DECLARATION)).get("dishes")
    assert resource is not None
    return resource


def judge(*documents: tuple[str, dict[str, Any]], sample: int = 100) -> inspection.Inspection:
    return inspection.inspect(dishes(), ((i, d, WRITTEN) for i, d in documents), sample=sample)


def test_each_document_lands_in_exactly_the_outcome_the_api_gives_it() -> None:
    found = judge(
        ("ok", {"partnerId": "a", "name": "Soup", "created": WRITTEN}),
        ("no-time", {"partnerId": "a", "name": "Bread"}),
        ("bad-price", {"partnerId": "a", "name": "Stew", "price": 3.5, "created": WRITTEN}),
        ("no-name", {"partnerId": "a", "price": "1.00", "created": WRITTEN, "note": "x"}),
        ("no-tenant", {"name": "Tea", "note": "y"}),
        ("number-tenant", {"partnerId": 7, "name": "Tea"}),
    )
    assert found.scanned == 6
    assert (found.served.count, found.served.examples) == (2, ["ok", "no-time"])
    assert {reason: t.examples for reason, t in found.skipped.items()} == {
        "price is not a valid decimal": ["bad-price"],
        "name is missing": ["no-name"],
    }
    assert found.no_tenant.examples == ["no-tenant", "number-tenant"]
    assert found.out_of_lists.examples == ["no-time"]
    assert dict(found.undeclared) == {"note": 2}
    assert dict(found.wrong_kind) == {"price": 1}
    assert found.complete


def test_a_sample_stops_reading_and_says_so() -> None:
    docs = [(f"d{i}", {"partnerId": "a", "name": "x", "created": WRITTEN}) for i in range(5)]
    pulled: list[str] = []

    def stream() -> Any:
        for doc_id, data in docs:
            pulled.append(doc_id)
            yield doc_id, data, WRITTEN

    found = inspection.inspect(dishes(), stream(), sample=3)
    assert (found.scanned, found.complete, found.served.count) == (3, False, 3)
    assert len(pulled) == 4  # one past the sample tells it is incomplete, no more
    assert "the first 3 by id" in inspection.render(found)


def test_examples_are_capped_and_counts_are_not() -> None:
    docs = [(f"x{i}", {"name": "orphan"}) for i in range(10)]
    found = judge(*docs)
    assert found.no_tenant.count == 10
    assert found.no_tenant.examples == ["x0", "x1", "x2"]


def test_the_report_states_both_doors() -> None:
    closed = inspection.doors(dishes())
    assert closed["firestore"] == "closed: partners reach this collection through the API only"
    opened = declaration.parse(
        tomllib.loads(DECLARATION.replace("[dishes]\n", '[dishes]\ndirect_access = ["read"]\n'))
    ).get("dishes")
    assert opened is not None
    text = inspection.doors(opened)["firestore"]
    assert text.startswith("read with a partner's ID token")
    assert "refused while the partner is suspended" in text
    assert "not rate limited" in text
    assert "no audit record" in text


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 12, 2, 9, 0, 0, 1, tzinfo=dt.UTC),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ],
)
def test_a_write_time_revision_counts_nanoseconds_from_the_epoch(moment: dt.datetime) -> None:
    expected = int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()) * 10**9
    expected += moment.microsecond * 1000
    assert Revision.of_write(moment).written_ns == expected


def test_a_write_time_keeps_the_nanoseconds_firestore_gives() -> None:
    from google.api_core.datetime_helpers import DatetimeWithNanoseconds

    def at(nanos: int) -> dt.datetime:
        moment: dt.datetime = DatetimeWithNanoseconds(  # type: ignore[no-untyped-call]
            2026, 12, 2, 9, 0, 0, nanosecond=nanos, tzinfo=dt.UTC
        )
        return moment

    moment, earlier = at(123456789), at(123456788)
    assert (Revision.of_write(moment).written_ns or 0) % 10**9 == 123456789
    assert Revision.of_write(moment) != Revision.of_write(earlier)


def test_a_revision_is_a_version_or_a_write_time() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Revision()
    with pytest.raises(ValueError, match="exactly one"):
        Revision(version=1, written_ns=1)
