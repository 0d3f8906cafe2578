"""What a page of nested records costs to serve, beside a page of flat ones of the same size.

The serving work of one list page, in-process, for 20 stored documents as the Firestore SDK
decodes them: each checked against the declaration (`validation.record_from`), turned
into its wire form and encoded as the JSON answer. Two pages of the same JSON byte size
(within 2%): deliveries (tests/fixtures/data_model.toml) with timestamps, geopoints, a
reference, lists and a list of maps; and flat records of the same values, each a field of
its own (`FLAT`), with a note that brings them to the same size. So the difference is
what lists and maps cost.
CPU time (process time) per page, in ROUNDS rounds of PAGES pages each, the two pages
alternating; the median of each, and of the per-round ratios. The target: the nested
page costs at most 1.3 times the flat one.

Run by `make bench` (after the load runs) or alone: `python -m bench.page_cost`, which
prints a table and writes bench/results/page_cost.json.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
import tomllib
from collections.abc import Mapping
from typing import Any

from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.auth.credentials import AnonymousCredentials
from google.cloud.firestore import Client, GeoPoint

from bench.settings import RESULTS
from functions.edge.http.serializers import record_json
from functions.resources import declaration, validation
from tests.helpers import data_model_declaration

PAGE = 20
PAGES = 200
ROUNDS = 7
TARGET = 1.3


def _nested_document(index: int, database: Any, padding: int = 0) -> dict[str, Any]:

    moment = DatetimeWithNanoseconds(2026, 3, 31, 18, 45, index, tzinfo=dt.UTC)  # type: ignore[no-untyped-call]
    return {
        "restaurant_id": "hG7s9KqLm2Pq8RtW3xYz",
        "total": 41.5 + index,
        "tip": 3.0,
        "placed_at": moment,
        "promised_for": moment,
        "drop_off": GeoPoint(48.8584, 2.2945),
        "customer": database.document(f"users/u{index}"),
        "tags": ["vegan", "late", "rush"],
        "stops": [GeoPoint(-33.86, 151.2), GeoPoint(-33.87, 151.21)],
        "items": [{"name": f"Margherita {n}", "qty": n + 1, "unit_price": 9.5} for n in range(4)],
        "address": {
            "street": "1 Rue X" + "x" * padding,
            "postal-code": "75007",
            "door": {"code": "4B"},
        },
        "is-rush": True,
        "in": False,
        "created_time": moment,
        "updated_time": moment,
        "created_by": "uid-of-the-partner-user",
        "version": 1,
    }


FLAT = (
    """
[flat]
tenant_field = "restaurant_id"
[flat.bookkeeping]
created_at = "created_time"
updated_at = "updated_time"
created_by = "created_by"
[flat.fields]
total = { kind = "number", minimum = 0, maximum = 100000 }
tip = { kind = "number" }
placed_at = { kind = "datetime" }
promised_for = { kind = "datetime" }
drop_off = { kind = "geopoint" }
customer = { kind = "reference", to = "users" }
stop_0 = { kind = "geopoint" }
stop_1 = { kind = "geopoint" }
street = { kind = "text", max_length = 120 }
postal_code = { kind = "text", max_length = 12 }
door_code = { kind = "text", max_length = 8, pattern = "^[0-9A-Z]{1,8}$" }
is_rush = { kind = "boolean" }
in = { kind = "boolean" }
note = { kind = "text", max_length = 1000 }
"""
    + "".join(f'tag_{n} = {{ kind = "text", max_length = 16 }}\n' for n in range(3))
    + "".join(
        f'item_{n}_name = {{ kind = "text", max_length = 80 }}\n'
        f'item_{n}_qty = {{ kind = "integer", minimum = 1, maximum = 99 }}\n'
        f'item_{n}_unit_price = {{ kind = "number", minimum = 0 }}\n'
        for n in range(4)
    )
)
"""Every value of a delivery, each a field of its own: the same values, no list or map."""


def _flat_document(index: int, padding: int, database: Any) -> dict[str, Any]:
    """A delivery's values, flattened, with a note of `padding` characters."""
    nested = _nested_document(index, database)
    flat = {
        key: nested[key]
        for key in ("restaurant_id", "total", "tip", "placed_at", "promised_for", "drop_off")
    }
    flat |= {key: nested[key] for key in ("customer", "in", "created_time", "updated_time")}
    flat |= {"created_by": nested["created_by"], "version": 1, "is_rush": True}
    flat |= {f"tag_{n}": tag for n, tag in enumerate(nested["tags"])}
    flat |= {f"stop_{n}": stop for n, stop in enumerate(nested["stops"])}
    for n, item in enumerate(nested["items"]):
        flat |= {f"item_{n}_{key}": value for key, value in item.items()}
    address = nested["address"]
    flat |= {"street": address["street"], "postal_code": address["postal-code"]}
    flat |= {"door_code": address["door"]["code"], "note": "n" * (padding + 1)}
    return flat


def _serve(resource: Any, documents: list[tuple[str, Mapping[str, Any]]]) -> bytes:
    """One page's serving work: check, wire form, JSON."""

    written = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    records = [
        record_json(validation.record_from(resource, doc_id, data, written=written))
        for doc_id, data in documents
    ]
    return json.dumps({"data": records}, separators=(",", ":")).encode()


def _cpu_ms_per_page(resource: Any, documents: list[tuple[str, Mapping[str, Any]]]) -> float:
    started = time.process_time()
    for _ in range(PAGES):
        _serve(resource, documents)
    return (time.process_time() - started) * 1000 / PAGES


def pages() -> tuple[Any, list[Any], Any, list[Any]]:
    """The two resources and their pages, of the same JSON byte size (within 2%)."""
    database = Client(project="demo-partner-api", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
    deliveries = data_model_declaration().get("deliveries")
    flat_resource = declaration.parse(tomllib.loads(FLAT)).get("flat")

    def nested_page(padding: int) -> list[Any]:
        return [(f"d{i:04}", _nested_document(i, database, padding)) for i in range(PAGE)]

    def flat_page(padding: int) -> list[Any]:
        return [(f"d{i:04}", _flat_document(i, padding, database)) for i in range(PAGE)]

    # The smaller page is padded (a longer street, a longer note) to the other's size.
    nested, flat = nested_page(0), flat_page(0)
    if len(_serve(flat_resource, flat)) > len(_serve(deliveries, nested)):
        size = len(_serve(flat_resource, flat))
        nested = nested_page(_padding(lambda p: len(_serve(deliveries, nested_page(p))), size, 113))
    else:
        size = len(_serve(deliveries, nested))
        flat = flat_page(_padding(lambda p: len(_serve(flat_resource, flat_page(p))), size, 998))
    return deliveries, nested, flat_resource, flat


def _padding(size_of: Any, size: int, most: int) -> int:
    """The least padding (0 to `most`) whose page is at least `size` bytes."""
    low, high = 0, most
    while low < high:
        middle = (low + high) // 2
        if size_of(middle) < size:
            low = middle + 1
        else:
            high = middle
    return low


def measure() -> dict[str, Any]:
    deliveries, nested, entries, flat = pages()
    nested_bytes, flat_bytes = len(_serve(deliveries, nested)), len(_serve(entries, flat))
    for _ in range(20):  # warm: models made, caches filled
        _serve(deliveries, nested)
        _serve(entries, flat)
    rounds = []
    for _ in range(ROUNDS):  # alternating, so a busy moment weighs on both alike
        rounds.append((_cpu_ms_per_page(deliveries, nested), _cpu_ms_per_page(entries, flat)))
    nested_ms = round(statistics.median(n for n, _ in rounds), 3)
    flat_ms = round(statistics.median(f for _, f in rounds), 3)
    ratio = round(statistics.median(n / f for n, f in rounds), 2)
    return {
        "records_per_page": PAGE,
        "nested": {"bytes": nested_bytes, "cpu_ms_per_page": nested_ms},
        "flat": {"bytes": flat_bytes, "cpu_ms_per_page": flat_ms},
        "ratio": ratio,
        "target": TARGET,
        "holds": ratio <= TARGET,
    }


def render(found: dict[str, Any]) -> str:
    verdict = "holds" if found["holds"] else "MISSED"
    return "\n".join(
        [
            "",
            f"## A page of {found['records_per_page']} records, nested against flat "
            f"(CPU per page, median of {ROUNDS} rounds of {PAGES})",
            "",
            "| page | JSON bytes | CPU ms per page |",
            "| --- | ---: | ---: |",
            f"| deliveries: lists, maps, timestamps, geopoints, references | "
            f"{found['nested']['bytes']} | {found['nested']['cpu_ms_per_page']} |",
            f"| the same values, each a field of its own, a note to the same size | "
            f"{found['flat']['bytes']} | "
            f"{found['flat']['cpu_ms_per_page']} |",
            "",
            f"Nested / flat: {found['ratio']}x (target at most {TARGET}x: {verdict}).",
            "",
        ]
    )


def main() -> int:
    found = measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "page_cost.json").write_text(json.dumps(found, indent=2) + "\n")
    print(render(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
