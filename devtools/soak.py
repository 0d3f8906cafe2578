"""Load with retries: do retried, cut-off createEntry calls lose or duplicate anything?

K partners each create M entries with an Idempotency-Key, concurrently, against
createEntry served by functions-framework in its production server (gunicorn). A share
of first attempts is cut off client-side mid-flight (the connection is closed after a
random part of the request, sometimes all of it, without reading the answer), and every
request is retried with the same key until it is acknowledged. Afterwards Firestore must
hold exactly one entry per acknowledged key, and no entry nobody asked for.

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
from concurrent.futures import ThreadPoolExecutor
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
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return (
            self.duplicates == self.lost == self.unexpected == self.server_errors == 0
            and self.entries_found == self.entries_expected == self.acknowledged
        )


def _partner_tokens(count: int, run_id: str) -> dict[str, str]:
    from firebase_admin import auth  # noqa: PLC0415

    from devtools.emulators import sign_in  # noqa: PLC0415
    from functions.firebase_app import admin_app  # noqa: PLC0415

    tokens = {}
    for index in range(count):
        partner_id = f"soak-{run_id}-{index}"
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


def _create_with_retries(
    url: str, token: str, key: str, index: int, *, cut_share: float, seed: int
) -> tuple[Counter[str], str | None]:
    """One entry: maybe a cut-off first attempt, then retries until acknowledged."""
    rng = random.Random(f"{seed}-{key}")
    body = json.dumps(
        {
            "description": f"soak {key}",
            "amount": f"{index}.00",
            "currency": "EUR",
            "date": "2026-06-01",
            "reference": key,
        }
    ).encode()
    counts: Counter[str] = Counter()
    if rng.random() < cut_share:
        try:
            _cut_off(url, token, key, body, rng)
        except OSError:
            counts["other_errors"] += 1
        counts.update(("cut_offs", "requests"))
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    for attempt in range(20):
        if attempt or counts["cut_offs"]:
            counts["retries"] += 1
        counts["requests"] += 1
        try:
            response = requests.post(url, data=body, timeout=30, headers=headers)
        except requests.RequestException:
            counts["other_errors"] += 1
            time.sleep(0.1 * (attempt + 1))
            continue
        counts[f"status {response.status_code}"] += 1
        if response.status_code >= 500:
            counts["server_errors"] += 1
            time.sleep(0.1 * (attempt + 1))
            continue
        if response.status_code == 201:
            counts["replays"] += response.headers.get("Idempotent-Replayed") == "true"
            return counts, str(response.json()["id"])
        counts["other_errors"] += 1
        return counts, None
    return counts, None


def run(url: str, *, partners: int, entries: int, cut_share: float, seed: int = 7) -> SoakReport:
    """Drive the load against createEntry at `url`, then audit Firestore."""
    run_id = f"{int(time.time() * 1000)}"
    tokens = _partner_tokens(partners, run_id)
    report = SoakReport(partners=partners, entries_per_partner=entries)
    acknowledged: dict[tuple[str, str], str] = {}
    totals: Counter[str] = Counter()
    lock = threading.Lock()
    started = time.monotonic()

    def one(job: tuple[str, int]) -> None:
        partner_id, index = job
        key = f"{partner_id}-{index}"
        counts, entry_id = _create_with_retries(
            url, tokens[partner_id], key, index, cut_share=cut_share, seed=seed
        )
        with lock:
            totals.update(counts)
            if entry_id is not None:
                acknowledged[(partner_id, key)] = entry_id

    jobs = [(partner_id, index) for index in range(entries) for partner_id in tokens]
    with ThreadPoolExecutor(max_workers=min(16, max(2, partners * 2))) as pool:
        list(pool.map(one, jobs))
    report.seconds = round(time.monotonic() - started, 2)
    for name in ("requests", "cut_offs", "retries", "server_errors", "other_errors", "replays"):
        setattr(report, name, totals[name])
    report.statuses = {
        k.removeprefix("status "): v for k, v in totals.items() if k.startswith("status ")
    }
    report.acknowledged = len(acknowledged)
    report.entries_expected = partners * entries
    _audit(report, tokens, acknowledged)
    return report


def _audit(
    report: SoakReport, tokens: dict[str, str], acknowledged: dict[tuple[str, str], str]
) -> None:
    """Count what Firestore holds for the soak's partners against what was acknowledged."""
    from google.cloud.firestore import FieldFilter  # noqa: PLC0415

    from functions import config, store  # noqa: PLC0415

    collection = store.client().collection(config.entries_collection())
    for partner_id in tokens:
        docs = list(collection.where(filter=FieldFilter("partnerId", "==", partner_id)).stream())
        report.entries_found += len(docs)
        by_key = Counter(str(doc.get("reference")) for doc in docs)
        report.duplicates += sum(count - 1 for count in by_key.values() if count > 1)
        requested = {f"{partner_id}-{i}" for i in range(report.entries_per_partner)}
        report.unexpected += sum(1 for key in by_key if key not in requested)
        ids = {doc.id for doc in docs}
        mine = [entry_id for (pid, _), entry_id in acknowledged.items() if pid == partner_id]
        report.lost += sum(1 for entry_id in mine if entry_id not in ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=8)
    parser.add_argument("--entries", type=int, default=150)
    parser.add_argument("--cut-share", type=float, default=0.25)
    args = parser.parse_args(argv)
    with serve_function("createEntry") as url:
        report = run(url, partners=args.partners, entries=args.entries, cut_share=args.cut_share)
    figures = {**asdict(report), "clean": report.clean}
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:>20}: {value}")
    print(f"written to {REPORT.relative_to(ROOT)}")
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
