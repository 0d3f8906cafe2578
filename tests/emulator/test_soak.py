"""A short soak: retried and cut-off creates across partners, under their rate limits and
with one serving process whose Firestore never answers, lose and duplicate nothing and
leave every entry with its audit and idempotency records and exactly one event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from devtools import soak


@pytest.fixture
def create_entry_servers(emulator_hosts: dict[str, str]) -> Iterator[list[str]]:
    with ExitStack() as stack:
        yield soak.serving(stack, faulty=True)


def test_retries_limits_and_faults_lose_and_duplicate_nothing(
    create_entry_servers: list[str],
) -> None:
    report = soak.run(
        create_entry_servers,
        partners=3,
        entries=6,
        cut_share=0.4,
        concurrent_share=0.3,
        rate=2.0,
    )
    print(report)
    assert report.cut_offs > 0
    assert report.concurrent_keys > 0
    assert report.rate_limited > 0  # clients met their limits and waited
    assert report.unavailable > 0  # and the faulty process, and moved on
    assert report.retries >= report.cut_offs
    assert report.server_errors == 0
    assert report.duplicates == 0
    assert report.lost == 0
    assert report.unexpected == 0
    assert report.content_mismatches == 0
    assert report.audit_mismatches == 0
    assert report.idempotency_mismatches == 0
    assert report.event_mismatches == 0
    assert report.events_found == 18  # one event per change, retries and replays making none
    assert report.acknowledged == report.entries_expected == 18
    assert report.entries_found == 18
    assert report.clean
