"""The one Idempotency-Key protocol: every shape a kept answer was written in reads as
one, one expiry rule, and the decision between a replay and a 409."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from functions.core.errors import Conflict
from functions.core.models import KeptAnswer
from functions.domain import idempotency
from functions.store.answers import answer_of

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
EXPIRES = NOW.replace(hour=13)
LIVE: dict[str, Any] = {
    "partnerId": "acme",
    "fingerprint": "f1",
    "createdAt": NOW,
    "expiresAt": EXPIRES,
}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (
            {"operation": "placeOrder", "status": 202, "response": "{}"},
            KeptAnswer("placeOrder", "f1", 202, "{}"),
        ),
        (
            {"operation": "entries.create", "status": 201, "response": "{}", "recordId": "r1"},
            KeptAnswer("entries.create", "f1", 201, "{}", "r1"),
        ),
        (  # an owner endpoint's, before one protocol
            {"endpoint": "placeOrder", "status": 200, "response": "[]"},
            KeptAnswer("placeOrder", "f1", 200, "[]"),
        ),
        (  # a built-in create's, before one protocol: its status was always 201
            {"resource": "entries", "recordId": "r9", "response": '{"id":"r9"}'},
            KeptAnswer("entries.create", "f1", 201, '{"id":"r9"}', "r9"),
        ),
    ],
)
def test_every_shape_reads_as_one_answer(stored: dict[str, Any], expected: KeptAnswer) -> None:
    assert answer_of(LIVE | stored, now=NOW) == expected


@pytest.mark.parametrize(
    "stored",
    [
        {"operation": "placeOrder", "status": 201, "response": "{}", "expiresAt": NOW},
        {"operation": "placeOrder", "status": 201, "response": "{}", "expiresAt": None},
        {"operation": "placeOrder", "status": 201, "response": "{}", "expiresAt": "2099"},
        {"operation": "placeOrder", "status": "201", "response": "{}"},
        {"operation": "placeOrder", "status": True, "response": "{}"},
        {"operation": "placeOrder", "status": 201, "response": {"id": 1}},
        {"endpoint": 7, "status": 201, "response": "{}"},
        {"fingerprint": "f1", "response": "{}"},
    ],
)
def test_an_expired_or_unreadable_record_holds_no_answer(stored: dict[str, Any]) -> None:
    assert answer_of(LIVE | stored, now=NOW) is None


def test_a_record_expires_at_its_expiry_to_the_microsecond() -> None:
    stored = LIVE | {"operation": "x", "status": 201, "response": "{}"}
    assert answer_of(stored, now=EXPIRES - dt.timedelta(microseconds=1)) is not None
    assert answer_of(stored, now=EXPIRES) is None


def test_the_fingerprint_of_a_create_is_the_one_older_records_hold() -> None:
    """Records kept before one protocol hashed the create's fields so: a retry of the same
    body must still match them."""
    fields = {"amount": "1.00", "description": "é", "date": "2026-03-20"}
    older = hashlib.sha256(
        json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert idempotency.fingerprint(fields) == older
    assert idempotency.fingerprint({**fields, "amount": "1.0"}) != older


@pytest.mark.parametrize(
    ("kept", "operation", "request_"),
    [
        (None, "placeOrder", "f1"),
        (KeptAnswer("placeOrder", "f1", 201, "{}"), "placeOrder", "f2"),
        (KeptAnswer("entries.create", "f1", 201, "{}"), "placeOrder", "f1"),
        (KeptAnswer("placeOrder", "f1", 201, "{}"), "entries.create", "f1"),
    ],
)
def test_another_request_or_operation_with_a_key_is_a_conflict(
    kept: KeptAnswer | None, operation: str, request_: str
) -> None:
    with pytest.raises(Conflict) as refused:
        idempotency.same_request(kept, operation, request_, anew="entry")
    assert refused.value.message.endswith("use a new key for a new entry.")
    assert refused.value.reason == "idempotency_key_reused"


def test_the_same_request_replays_the_kept_answer() -> None:
    kept = KeptAnswer("placeOrder", "f1", 202, '{"ok":true}')
    assert idempotency.same_request(kept, "placeOrder", "f1") is kept
