"""The unit suite starts every test from cold caches, so a test never passes on what an
earlier one computed (mutation testing relies on it: a cached model or document built
before a mutant was switched on would hide the mutant)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def cold_caches() -> Iterator[None]:
    from functions.contract import openapi
    from functions.edge import wiring
    from functions.resources import declaration, validation

    def clear() -> None:
        declaration._load_cached.cache_clear()
        validation.models_of.cache_clear()
        openapi._document_of.cache_clear()
        wiring.reset()

    clear()
    yield
    clear()


@pytest.fixture(autouse=True, scope="session")
def no_usage_writes() -> None:
    """Calls served in this process are metered (functions.domain.usage); with no Firestore here,
    the counts are dropped rather than written (until the process ends: the meter also
    writes at exit). `test_usage` tests meters of its own."""
    from functions.domain import usage

    usage.METER._write = lambda counts, now: len(counts)  # for the process: its exit too


@pytest.fixture
def memory_firestore(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Firestore's gRPC service in memory (tests/unit/firestore_service.py), served on a
    loopback port; the package's client (`functions.store.client.client()`) is a real SDK
    client talking to it, on the fast path unless the test switches it off."""
    import importlib

    store_client = importlib.import_module("functions.store.client")
    from tests.helpers import PROJECT
    from tests.unit.firestore_service import MemoryFirestore, serve

    service = MemoryFirestore()
    server, address = serve(service)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", address)
    monkeypatch.setenv("GCLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", "5")
    monkeypatch.setattr(store_client, "_clients", {})
    yield service
    server.stop(grace=None)
