"""Firestore faults during traffic, on a Firestore emulator this test owns.

A paused emulator (SIGSTOP) is a backend that stops answering: requests must come back as
503 with Retry-After within the configured deadline, never hang, never 500. After it
resumes, the API recovers by itself and retried creates (same Idempotency-Key) land
exactly once, so nothing acknowledged is lost. A killed emulator (connection refused)
gives 503 too, and a restarted one is used again without restarting the API.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest

from devtools.emulators import FirestoreProcess
from tests.helpers import Api, User, entry_body

DEADLINE_S = 2.0


@pytest.fixture
def own_firestore(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[FirestoreProcess]:
    firestore = FirestoreProcess()
    firestore.start()  # raises when no emulator JAR is set up: `make test` sets one up
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.host)
    from functions import store

    # A fresh emulator's first answers are slow (its JVM warms up), slower still on a busy
    # machine: one read with a long deadline first, then the deadline under test.
    list(store.client().collection("warm-up").limit(1).stream(timeout=60))
    monkeypatch.setenv("FIRESTORE_TIMEOUT_S", str(DEADLINE_S))
    try:
        yield firestore
    finally:
        firestore.kill()


def _create(api: Api, user: User, key: str) -> tuple[int, str | None, float, str]:
    started = time.monotonic()
    response = api.post(
        "createEntry",
        json=entry_body(reference=key),
        headers=user.headers(**{"Idempotency-Key": key}),
    )
    elapsed = time.monotonic() - started
    body = response.get_json()
    entry_id = body.get("id") if response.status_code == 201 else None
    return response.status_code, entry_id, elapsed, response.headers.get("Retry-After", "")


def _acknowledged(api: Api, user: User, key: str) -> str:
    """A create retried with its key until it is acknowledged (as clients do), for the
    set-up before a fault: a busy machine may slow a first answer past the deadline."""
    for _ in range(20):
        status, entry_id, _, _ = _create(api, user, key)
        if status == 201:
            return str(entry_id)
        assert status == 503
        time.sleep(0.5)
    pytest.fail(f"{key} was never acknowledged before the fault")


def test_a_stalled_backend_is_503_then_recovers_with_nothing_lost(
    api: Api, acme: User, own_firestore: FirestoreProcess
) -> None:
    acked: dict[str, str] = {}
    for i in range(3):
        acked[f"before-{i}"] = _acknowledged(api, acme, f"before-{i}")

    own_firestore.signal(signal.SIGSTOP)
    outcomes: list[tuple[int, str | None, float, str]] = []

    def traffic(worker: int) -> None:
        for i in range(2):
            outcomes.append(_create(api, acme, f"during-{worker}-{i}"))

    threads = [threading.Thread(target=traffic, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    listed = api.get("fetchData", headers=acme.headers())
    own_firestore.signal(signal.SIGCONT)

    assert {status for status, *_ in outcomes} == {503}
    assert {retry_after for *_, retry_after in outcomes} == {"5"}
    assert max(elapsed for _, _, elapsed, _ in outcomes) < DEADLINE_S * 2 + 3
    assert listed.status_code == 503
    assert "Traceback" not in listed.get_data(as_text=True)

    # The API recovers by itself; clients retry with the same keys.
    keys = [f"during-{w}-{i}" for w in range(3) for i in range(2)]
    for key in keys:
        for _ in range(20):
            status, entry_id, _, _ = _create(api, acme, key)
            if status == 201:
                acked[key] = str(entry_id)
                break
            assert status == 503
            time.sleep(0.5)
        else:
            pytest.fail(f"{key} was never acknowledged after the backend came back")

    page = api.get("fetchData?limit=100", headers=acme.headers()).get_json()
    references = [entry["reference"] for entry in page["data"]]
    assert sorted(references) == sorted(acked), "every acknowledged create exactly once"
    assert {entry["id"] for entry in page["data"]} == set(acked.values())


def test_a_dead_backend_is_503_and_a_restarted_one_is_used_again(
    api: Api, acme: User, own_firestore: FirestoreProcess
) -> None:
    assert _acknowledged(api, acme, "first")
    port = own_firestore.port
    own_firestore.kill()
    status, _, elapsed, retry_after = _create(api, acme, "while-down")
    assert (status, retry_after) == (503, "5")
    assert elapsed < DEADLINE_S * 2 + 3
    own_firestore.port, own_firestore.host = port, f"127.0.0.1:{port}"
    own_firestore.start()
    for _ in range(30):
        if _create(api, acme, "after-restart")[0] == 201:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the API did not use the restarted backend")
