"""One instance at the concurrency a partner function deploys with: 80 calls at once, in
waves, through functions-framework's production server (gunicorn) with THREADS at 80, as
main.py sets it, against the stack's emulators. Eight partners, six calling with API keys
and two with partner users' ID tokens, list, get, create and try another tenant's record;
one partner has a tight rate limit. Nothing of one call may show in another: not the
caller, not the tenant, not the request id, not the limit state, not the usage count; and
the instance stays within the 256 MB it deploys with."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from devtools.functions_server import serving_process
from functions import store
from functions.core import config
from functions.domain import usage
from tests.corpus import VALID
from tests.helpers import User, api_key, cli, entry_body

CONCURRENT = 80
WAVES = 4
OPERATIONS = ("list", "get", "create", "foreign")
TIGHT_BURST = 8
TIGHT_RATE = 0.1
"""The tight partner's calls a second: over even a slow run, far fewer than it sends."""
SCOPES = "entries:read,entries:write"


@dataclass(frozen=True)
class Caller:
    partner: str
    bearer: str
    author: str
    """What the records it creates hold as createdBy: the uid, or `key:` and the key id."""


@dataclass
class Outcome:
    caller: Caller
    operation: str
    sent_id: str
    status: int
    echoed_id: str
    body: dict[str, Any]
    retry_after: str | None


def _seed(partner_id: str) -> list[str]:
    ids = [f"{partner_id}-{i}" for i in range(3)]
    for doc_id in ids:
        moment = dt.datetime.now(dt.UTC)
        store.client().document(f"entries/{doc_id}").set(
            {**VALID["minimal"], "partnerId": partner_id, "createdBy": "seed", "version": 1,
             "createdAt": moment, "updatedAt": moment}
        )  # fmt: skip
    return ids


def _memory_mib(pid: int) -> float:
    """The high-water marks of gunicorn's master and its worker, added (Cloud Run counts
    the container's memory)."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    total_kib = 0
    for each in pids:
        status = Path(f"/proc/{each}/status").read_text()
        total_kib += int(status.split("VmHWM:")[1].split()[0])
    return total_kib / 1024


def _partners(run: str, partner: Callable[..., User]) -> tuple[list[Caller], dict[str, list[str]]]:
    """Seven partners with three records each (two call with a user's ID token, five with
    a key), then the tight one, last."""
    callers: list[Caller] = []
    records: dict[str, list[str]] = {}
    for i in range(8):
        partner_id = f"cap-{run}-{i}"
        key = api_key(partner_id, SCOPES)  # the partner's record, and a key
        records[partner_id] = _seed(partner_id)
        if i < 2:
            user = partner(tenant=partner_id)
            callers.append(Caller(partner_id, user.token, user.uid))
        else:
            callers.append(Caller(partner_id, key, "key:" + key.split("_")[2]))
    limited = cli("partner", "limits", callers[-1].partner, "--rate", str(TIGHT_RATE),
                  "--burst", str(TIGHT_BURST))  # fmt: skip
    assert limited.returncode == 0, limited.stderr
    return callers, records


def _load(url: str, callers: list[Caller], records: dict[str, list[str]]) -> list[Outcome]:
    """WAVES waves of CONCURRENT calls, each wave released at once."""
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=CONCURRENT))
    others = {c.partner: next(p for p in records if p != c.partner) for c in callers}

    def call(slot: int, barrier: threading.Barrier) -> Outcome:
        caller = callers[slot % len(callers)]
        operation = OPERATIONS[(slot // len(callers)) % len(OPERATIONS)]
        sent = f"cap-{uuid.uuid4().hex}"
        # A connection of its own each: gunicorn closes a kept-alive one after 2 s idle,
        # and a call sent on one as it closes would be reset (not an answer of ours).
        headers = {
            "Authorization": f"Bearer {caller.bearer}",
            "X-Request-Id": sent,
            "Connection": "close",
        }
        target = {
            "list": "?limit=10",
            "get": "/" + records[caller.partner][slot % 3],
            "foreign": "/" + records[others[caller.partner]][0],
        }
        barrier.wait(timeout=120)
        if operation == "create":
            headers["Idempotency-Key"] = f"cap-{uuid.uuid4().hex}"
            response = session.post(
                f"{url}/v1/entries", json=entry_body(), headers=headers, timeout=120
            )
        else:
            response = session.get(
                f"{url}/v1/entries{target[operation]}", headers=headers, timeout=120
            )
        return Outcome(caller, operation, sent, response.status_code,
                       response.headers.get("X-Request-Id", ""),
                       response.json() if response.content else {},
                       response.headers.get("Retry-After"))  # fmt: skip

    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(CONCURRENT) as pool:
        for _ in range(WAVES):
            barrier = threading.Barrier(CONCURRENT)
            wave = [pool.submit(call, slot, barrier) for slot in range(CONCURRENT)]
            outcomes += [future.result(timeout=300) for future in wave]
    return outcomes


def _check_answers(outcomes: list[Outcome], tight: Caller, elapsed_s: float) -> None:
    """Every answer is its own call's: request id, caller, tenant, author, limit state."""
    assert len(outcomes) == CONCURRENT * WAVES
    assert [o.echoed_id for o in outcomes] == [o.sent_id for o in outcomes]
    assert len({o.sent_id for o in outcomes}) == len(outcomes)
    untight = Counter((o.operation, o.status) for o in outcomes if o.caller is not tight)
    assert set(untight) == {("list", 200), ("get", 200), ("create", 201), ("foreign", 404)}
    for outcome in outcomes:
        if outcome.status == 200 and outcome.operation == "list":
            assert len(outcome.body["data"]) >= 3  # its seeded records, and what it created
            assert {r["partnerId"] for r in outcome.body["data"]} == {outcome.caller.partner}
        elif outcome.status in (200, 201):
            assert outcome.body["partnerId"] == outcome.caller.partner
        if outcome.status == 201:
            stored = store.client().document(f"entries/{outcome.body['id']}").get().to_dict()
            assert stored is not None
            assert (stored["partnerId"], stored["createdBy"]) == (
                outcome.caller.partner, outcome.caller.author,
            )  # fmt: skip
        if outcome.status == 429:
            assert outcome.caller is tight
            assert int(outcome.retry_after or "0") >= 1
    tight_calls = [o for o in outcomes if o.caller is tight]
    admitted = sum(o.status != 429 for o in tight_calls)
    assert 1 <= admitted <= TIGHT_BURST + math.ceil(TIGHT_RATE * elapsed_s) + 1  # its burst
    # and what its rate refilled over the run
    assert sum(o.status == 429 for o in tight_calls) == len(tight_calls) - admitted > 0


def _check_usage(outcomes: list[Outcome], callers: list[Caller]) -> None:
    """Each partner's usage counts exactly its own calls, by outcome."""
    rows = usage.usage([c.partner for c in callers], 2)  # today, and yesterday at midnight
    counters = ("calls", "ok", "limited", "client_errors", "creates")
    for caller in callers:
        mine = [o for o in outcomes if o.caller is caller]
        row = usage.totals([r for r in rows if r.partner_id == caller.partner])
        assert tuple(row[name] for name in counters) == (
            len(mine),
            sum(o.status < 400 for o in mine),
            sum(o.status == 429 for o in mine),
            sum(400 <= o.status < 500 and o.status != 429 for o in mine),
            sum(o.status == 201 for o in mine),
        ), caller.partner


def test_eighty_calls_at_once_keep_their_caller_tenant_request_limits_and_usage(
    clean: None, partner: Callable[..., User]
) -> None:
    callers, records = _partners(uuid.uuid4().hex[:6], partner)
    capacity = config.partner_capacity()
    env = {"THREADS": str(capacity.concurrency), "USAGE_FLUSH_SECONDS": "3600"}
    with serving_process("api", env=env) as (url, process):
        started = time.monotonic()
        outcomes = _load(url, callers, records)
        elapsed_s = time.monotonic() - started
        peak_mib = _memory_mib(process.pid)
    # the server has stopped: its worker wrote the usage it held as it exited
    _check_answers(outcomes, callers[-1], elapsed_s)
    _check_usage(outcomes, callers)
    print(f"\n{CONCURRENT} at once, {len(outcomes)} calls: peak memory {peak_mib:.1f} MiB")
    assert peak_mib < capacity.memory_mb
