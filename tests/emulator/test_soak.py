"""A short soak: retried and cut-off creates across partners lose and duplicate nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools import soak
from devtools.functions_server import serve_function


@pytest.fixture
def create_entry_server(emulator_hosts: dict[str, str]) -> Iterator[str]:
    with serve_function("createEntry") as url:
        yield url


def test_retries_and_cut_offs_lose_and_duplicate_nothing(create_entry_server: str) -> None:
    report = soak.run(create_entry_server, partners=3, entries=12, cut_share=0.4)
    print(report)
    assert report.cut_offs > 0
    assert report.retries >= report.cut_offs
    assert report.server_errors == 0
    assert report.duplicates == 0
    assert report.lost == 0
    assert report.unexpected == 0
    assert report.acknowledged == report.entries_expected == 36
    assert report.entries_found == 36
    assert report.clean
