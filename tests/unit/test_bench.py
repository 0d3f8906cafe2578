"""The benchmark's own logic: reading wrk's output, writing its load scripts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.load import Scenario, parse_wrk, wrk_script

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40123
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    42.10ms   12.01ms 210.33ms   88.00%
  Latency Distribution
     50%   38.83ms
     75%   45.00ms
     90%   60.12ms
     99%    1.20s
  448 requests in 5.00s, 1.20MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:     89.55
Transfer/sec:    245.10KB
"""


def test_parse_wrk_reads_rate_percentiles_and_errors() -> None:
    load = parse_wrk(WRK_OUTPUT)
    assert load.rps == 89.55
    assert load.p50_ms == 38.83
    assert load.p99_ms == 1200.0
    assert load.requests == 448
    assert load.errors == 4 + 1 + 2


def test_parse_wrk_of_a_failed_run_is_all_zero() -> None:
    load = parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    assert (load.rps, load.p50_ms, load.requests, load.errors) == (0.0, 0.0, 0, 0)


def test_idempotency_keys_of_the_load_differ_from_run_to_run(tmp_path: Path) -> None:
    """A key repeated in a later round would measure replays, not creates."""
    scenario = Scenario("keyed", "server", method="POST", body={"a": "b"}, unique_key=True)
    first = wrk_script(scenario, "token", tmp_path).read_text()
    second = wrk_script(scenario, "token", tmp_path).read_text()
    assert 'headers["Idempotency-Key"] = "k" .. id .. "-" .. counter' in first
    prefix = re.compile(r'local id = "([0-9a-f]{32})"')
    first_id, second_id = prefix.search(first), prefix.search(second)
    assert first_id
    assert second_id
    assert first_id.group(1) != second_id.group(1)


def test_the_page_cost_compares_valid_pages_of_one_size() -> None:
    """Both pages are served in full (no document left out as invalid) and are the same
    size within 2%, so the ratio `make bench` reports is what lists and maps cost."""
    from bench import page_cost

    nested_resource, nested, flat_resource, flat = page_cost.pages()
    nested_bytes = len(page_cost._serve(nested_resource, nested))
    flat_bytes = len(page_cost._serve(flat_resource, flat))
    assert abs(nested_bytes - flat_bytes) <= 0.02 * nested_bytes, (nested_bytes, flat_bytes)
    for resource, page in ((nested_resource, nested), (flat_resource, flat)):
        served = json.loads(page_cost._serve(resource, page))["data"]
        assert len(served) == page_cost.PAGE
    # the same values, and the flat records' note
    values = sum(1 for _ in _leaves(json.loads(page_cost._serve(nested_resource, nested))))
    assert (
        values
        == sum(1 for _ in _leaves(json.loads(page_cost._serve(flat_resource, flat))))
        - page_cost.PAGE
    )


def _leaves(value: Any) -> Any:
    if isinstance(value, dict) and set(value) != {"latitude", "longitude"}:
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value
