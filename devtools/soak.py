"""Load with retries, limits and faults: do retried createEntry calls lose or duplicate
anything, or write a change without its audit record or its event?

K partners (each with a rate limit on its record) each create M entries with an
Idempotency-Key, concurrently, against createEntry served by functions-framework in its
production server (gunicorn): two healthy processes and, with --faulty, one whose
Firestore never answers (every call there is a 503 with Retry-After). A share of first
attempts is cut off client-side mid-flight (the connection is closed after a random part
of the request, sometimes all of it, without reading the answer); a share of keys is sent
by two clients at once. Clients honour 429 and 503 `Retry-After`, retry with the same key
on the next process, until the entry is acknowledged.

Afterwards, read straight from Firestore: every acknowledged entry exists exactly once
with the content sent, has exactly one audit record of its creation, and its key's
idempotency record names it; no entry exists that nobody asked for.

`make soak` runs the full profile; the tests run a short one.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from devtools.functions_server import serve_function

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "soak.json"
PASSWORD = "soak-password-1"


@dataclass
class SoakReport:
    partners: int
    entries_per_partner: int
    requests: int = 0
    cut_offs: int = 0
    retries: int = 0
    server_errors: int = 0
    other_errors: int = 0
    acknowledged: int = 0
    entries_expected: int = 0
    entries_found: int = 0
    duplicates: int = 0
    lost: int = 0
    unexpected: int = 0
    replays: int = 0
    rate_limited: int = 0
    unavailable: int = 0
    concurrent_keys: int = 0
    content_mismatches: int = 0
    audit_mismatches: int = 0
    idempotency_mismatches: int = 0
    events_found: int = 0
    event_mismatches: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return (
            self.duplicates == self.lost == self.unexpected == 0
            and self.other_errors == self.server_errors == 0
            and self.content_mismatches == self.audit_mismatches == 0
            and self.idempotency_mismatches == self.event_mismatches == 0
            and self.events_found == self.entries_found
            and self.entries_found == self.entries_expected == self.acknowledged
        )


def _partner_tokens(count: int, run_id: str, rate: float) -> dict[str, str]:
    """Partners with a rate limit on their records, and an ID token of a user of each."""
    from firebase_admin import auth  # noqa: PLC0415

    from devtools.emulators import sign_in  # noqa: PLC0415
    from functions import store  # noqa: PLC0415
    from functions.outside.firebase_app import admin_app  # noqa: PLC0415

    tokens = {}
    for index in range(count):
        partner_id = f"soak-{run_id}-{index}"
        store.client().collection("partners").document(partner_id).set(
            {"status": "active", "limits": {"ratePerSecond": rate, "burst": max(2, int(rate))}}
        )
        email = f"{partner_id}@soak.example"
        user = auth.create_user(email=email, password=PASSWORD, app=admin_app())
        auth.set_custom_user_claims(
            user.uid, {"role": "partner", "partnerId": partner_id}, app=admin_app()
        )
        tokens[partner_id] = sign_in(email, PASSWORD)
    return tokens


def _cut_off(url: str, token: str, key: str, body: bytes, rng: random.Random) -> None:
    """Send all or part of the request, then close without reading the answer."""
    parsed = urllib.parse.urlsplit(url)
    head = (
        f"POST {parsed.path or '/'} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {key}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    cut_at = len(head) if rng.random() < 0.6 else rng.randrange(1, len(head))
    with socket.create_connection((parsed.hostname, parsed.port), timeout=5) as sock:
        sock.sendall(head[:cut_at])
        if cut_at == len(head):
            time.sleep(rng.uniform(0, 0.02))  # the server is now working on it


MAX_WAIT_S = 10.0
"""The most a client waits on one Retry-After."""


def entry_body(key: str, index: int) -> dict[str, str]:
    return {
        "description": f"soak {key}",
        "amount": f"{index}.00",
        "currency": "EUR",
        "date": "2026-06-01",
        "reference": key,
    }


def _create_with_retries(
    urls: list[str], token: str, key: str, index: int, *, cut_share: float, seed: int, lane: int
) -> tuple[Counter[str], str | None]:
    """One entry: maybe a cut-off first attempt, then retries on the next process until
    acknowledged, waiting what a 429 or a 503 says (`Retry-After`)."""
    rng = random.Random(f"{seed}-{key}-{lane}")
    body = json.dumps(entry_body(key, index)).encode()
    counts: Counter[str] = Counter()
    if rng.random() < cut_share:
        try:
            _cut_off(urls[0], token, key, body, rng)
        except OSError:
            counts["cut_off_errors"] += 1
        counts.update(("cut_offs", "requests"))
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    start = rng.randrange(len(urls))
    for attempt in range(60):
        if attempt or counts["cut_offs"]:
            counts["retries"] += 1
        counts["requests"] += 1
        url = urls[(start + attempt) % len(urls)]
        try:
            response = requests.post(url, data=body, timeout=30, headers=headers)
        except requests.RequestException:
            counts["connection_errors"] += 1
            time.sleep(0.1 * (attempt + 1))
            continue
        counts[f"status {response.status_code}"] += 1
        if response.status_code in (429, 503):
            counts["rate_limited" if response.status_code == 429 else "unavailable"] += 1
            wait = float(response.headers.get("Retry-After") or 1)
            time.sleep(min(wait, MAX_WAIT_S) * rng.uniform(1.0, 1.2))
            continue
        if response.status_code >= 500:
            counts["server_errors"] += 1
            time.sleep(0.1 * (attempt + 1))
            continue
        if response.status_code == 201:
            counts["replays"] += response.headers.get("Idempotent-Replayed") == "true"
            return counts, str(response.json()["id"])
        counts["other_errors"] += 1
        return counts, None
    counts["other_errors"] += 1
    return counts, None


def run(
    urls: list[str],
    *,
    partners: int,
    entries: int,
    cut_share: float,
    concurrent_share: float = 0.1,
    rate: float = 10.0,
    seed: int = 7,
) -> SoakReport:
    """Drive the load against createEntry at `urls`, then audit Firestore."""
    run_id = f"{int(time.time() * 1000)}"
    tokens = _partner_tokens(partners, run_id, rate)
    report = SoakReport(partners=partners, entries_per_partner=entries)
    acknowledged: dict[tuple[str, str], set[str]] = {}
    totals: Counter[str] = Counter()
    lock = threading.Lock()
    started = time.monotonic()
    chance = random.Random(seed)

    def one(job: tuple[str, int, int]) -> None:
        partner_id, index, lane = job
        key = f"{partner_id}-{index}"
        counts, entry_id = _create_with_retries(
            urls, tokens[partner_id], key, index, cut_share=cut_share, seed=seed, lane=lane
        )
        with lock:
            totals.update(counts)
            if entry_id is not None:
                acknowledged.setdefault((partner_id, key), set()).add(entry_id)

    jobs = [(partner_id, index, 0) for index in range(entries) for partner_id in tokens]
    twins = [(p, i, 1) for p, i, _ in jobs if chance.random() < concurrent_share]
    report.concurrent_keys = len(twins)
    for twin in twins:  # the same key from a second client, at about the same time
        jobs.insert(jobs.index((twin[0], twin[1], 0)) + 1, twin)
    with ThreadPoolExecutor(max_workers=min(16, max(2, partners * 2))) as pool:
        list(pool.map(one, jobs))
    report.seconds = round(time.monotonic() - started, 2)
    for name in (
        "requests",
        "cut_offs",
        "retries",
        "server_errors",
        "other_errors",
        "replays",
        "rate_limited",
        "unavailable",
    ):
        setattr(report, name, totals[name])
    report.statuses = {
        k.removeprefix("status "): v for k, v in totals.items() if k.startswith("status ")
    }
    report.acknowledged = len(acknowledged)
    # Two clients acknowledged different ids for one key only if two entries exist, which
    # the Firestore count below finds.
    report.entries_expected = partners * entries
    _audit(report, tokens, {key: min(ids) for key, ids in acknowledged.items()})
    return report


def _audit(
    report: SoakReport, tokens: dict[str, str], acknowledged: dict[tuple[str, str], str]
) -> None:
    """What Firestore holds for the soak's partners, against what was acknowledged: the
    entries and their content, their audit records, the idempotency records."""
    import hashlib  # noqa: PLC0415

    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    from functions import store  # noqa: PLC0415
    from functions.core import config  # noqa: PLC0415

    database = store.client()
    entries = database.collection(config.resource_collection("entries", "entries"))
    for partner_id in tokens:
        mine = FieldFilter("partnerId", "==", partner_id)
        docs = list(entries.where(filter=mine).stream())
        report.entries_found += len(docs)
        by_key = Counter(str(doc.get("reference")) for doc in docs)
        report.duplicates += sum(count - 1 for count in by_key.values() if count > 1)
        requested = {f"{partner_id}-{i}" for i in range(report.entries_per_partner)}
        report.unexpected += sum(1 for key in by_key if key not in requested)
        stored = {doc.id: doc.to_dict() or {} for doc in docs}
        trail = [
            doc.to_dict() or {}
            for doc in database.collection(config.audit_collection()).where(filter=mine).stream()
        ]
        created = Counter(r.get("recordId") for r in trail if r.get("operation") == "create")
        events = [
            doc.to_dict() or {}
            for doc in database.collection(config.events_collection()).where(filter=mine).stream()
        ]
        report.events_found += len(events)
        evented = Counter(e.get("recordId") for e in events if e.get("type") == "entries.created")
        report.event_mismatches += sum(1 for entry_id in stored if evented[entry_id] != 1)
        report.event_mismatches += sum(1 for entry_id in evented if entry_id not in stored)
        for (pid, key), entry_id in acknowledged.items():
            if pid != partner_id:
                continue
            document = stored.get(entry_id)
            if document is None:
                report.lost += 1
                continue
            index = int(key.rsplit("-", 1)[1])
            sent = entry_body(key, index)
            if {name: document.get(name) for name in sent} != sent:
                report.content_mismatches += 1
            if created[entry_id] != 1:
                report.audit_mismatches += 1
            record_id = hashlib.sha256(f"{partner_id}\n{key}".encode()).hexdigest()
            kept = database.collection(config.idempotency_collection()).document(record_id).get()
            if not kept.exists or kept.get("recordId") != entry_id:
                report.idempotency_mismatches += 1
        report.audit_mismatches += sum(1 for entry_id in created if entry_id not in stored)


def serving(stack: ExitStack, *, faulty: bool) -> list[str]:
    """Two healthy createEntry processes and, if `faulty`, one whose Firestore is a
    loopback port that never answers (each of its calls ends in a 503 within 0.5 s)."""
    urls = [stack.enter_context(serve_function("createEntry")) for _ in range(2)]
    if faulty:
        stalled = stack.enter_context(_stalled_port())
        env = {"FIRESTORE_EMULATOR_HOST": stalled, "FIRESTORE_TIMEOUT_S": "0.5"}
        urls.append(stack.enter_context(serve_function("createEntry", env=env)))
    return urls


@contextmanager
def _stalled_port() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for connection in held:
            connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=8)
    parser.add_argument("--entries", type=int, default=150)
    parser.add_argument("--cut-share", type=float, default=0.25)
    parser.add_argument("--concurrent-share", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=1.0, help="each partner's calls/s")
    parser.add_argument(
        "--no-faulty", action="store_true", help="no process with a Firestore that never answers"
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        report = run(
            serving(stack, faulty=not args.no_faulty),
            partners=args.partners,
            entries=args.entries,
            cut_share=args.cut_share,
            concurrent_share=args.concurrent_share,
            rate=args.rate,
        )
    figures = {**asdict(report), "clean": report.clean}
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:>20}: {value}")
    print(f"written to {REPORT.relative_to(ROOT)}")
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
