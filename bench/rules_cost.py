"""What the rules' status checks cost a direct Firestore read (`make rules-cost`).

A partner with an ID token reads one of its entries straight from Firestore, N times,
under the generated rules and under the same rules without `partnerApiIsActive()` (the
partner's suspension and the user's access record), in alternating rounds on one
emulator: with neither record (two `exists()`), with the partner's (`exists()` then
`get()` of it), and with both (four access calls of two documents). Prints and writes
bench/results/rules_cost.{json,md}: median latency per read, the difference, and the
access calls each evaluation makes. Runs under the emulators (`devtools.stack exec`).

The emulator's latency is not production's: the figure to carry over is the access calls
(Firestore bills each dependent document read of a rules evaluation as a document read);
the latency says only that the check costs the emulator little against a whole read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from typing import Any

import requests

from bench.settings import RESULTS
from devtools import emulators, generate
from functions.core.models import EPOCH
from functions.resources import declaration

PROJECT = "demo-partner-api"
DOCUMENT = f"projects/{PROJECT}/databases/(default)/documents/entries/acme-1"


def _rules(with_check: bool) -> str:
    source = generate.rules_file(declaration.current(), generate.RULES_PATH.read_text())
    if not with_check:
        source = source.replace("\n        && partnerApiIsActive();", ";")
        source = source.replace("\n        && partnerApiIsActive()", "")
        if "partnerApiIsActive()" in source.split("function partnerApiIsActive()", 1)[1]:
            raise RuntimeError("the status check is still called: the rules block changed shape")
    return source


def _load(source: str) -> None:
    emulators.load_rules(PROJECT, source)


def _partner_token() -> tuple[str, str]:
    from firebase_admin import auth  # noqa: PLC0415

    from functions.outside.firebase_app import admin_app  # noqa: PLC0415

    email, password = f"rules-{uuid.uuid4().hex[:8]}@example.test", "bench-password"
    user = auth.create_user(email=email, password=password, app=admin_app())
    auth.set_custom_user_claims(user.uid, {"role": "partner", "partnerId": "acme"}, app=admin_app())
    return user.uid, emulators.sign_in(email, password)


def _median_ms(session: requests.Session, token: str, reads: int) -> float:
    url = f"http://{emulators.firestore_host()}/v1/{DOCUMENT}"
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    for _ in range(reads):
        start = time.perf_counter()
        response = session.get(url, headers=headers, timeout=30)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"a direct read was refused: {response.text[:200]}")
    return statistics.median(times)


def measure(reads: int, rounds: int) -> dict[str, Any]:
    from functions import store  # noqa: PLC0415

    emulators.wipe_firestore(PROJECT)
    store.client().document("entries/acme-1").set(
        {"partnerId": "acme", "description": "x", "amount": "1.00", "currency": "EUR"}
        | {"date": "2026-03-01", "createdBy": "bench", "version": 1}
    )
    uid, token = _partner_token()
    with_check, without = _rules(True), _rules(False)
    results: dict[str, Any] = {}
    partner = store.client().document("partners/acme")
    access = store.client().document(f"partnerUsers/{uid}")
    cases = (
        # (case, partner record, user's access record, access calls, documents read)
        ("no records", False, False, 2, 2),
        ("an active partner record", True, False, 3, 2),
        ("both records (a user the tools changed)", True, True, 4, 2),
    )
    with requests.Session() as session:
        for case, has_partner, has_access, calls, documents in cases:
            if has_partner:
                partner.set({"status": "active"})
            else:
                partner.delete()
            if has_access:
                access.set({"partnerId": "acme", "validAfter": EPOCH, "disabled": False})
            else:
                access.delete()
            checked, unchecked = [], []
            for _ in range(rounds):
                _load(with_check)
                _median_ms(session, token, 20)  # warm the rules
                checked.append(_median_ms(session, token, reads))
                _load(without)
                _median_ms(session, token, 20)
                unchecked.append(_median_ms(session, token, reads))
            results[case] = {
                "access_calls": calls,
                "documents_read": documents,
                "with_check_ms": round(statistics.median(checked), 3),
                "without_check_ms": round(statistics.median(unchecked), 3),
                "added_ms": round(statistics.median(checked) - statistics.median(unchecked), 3),
            }
    _load(generate.RULES_PATH.read_text())
    return {"reads_per_round": reads, "rounds": rounds, "cases": results}


def report(found: dict[str, Any]) -> str:
    lines = [
        "# The rules' status checks on a direct read (partner suspension, user access)",
        "",
        f"Firestore emulator, one partner reading one entry by id: {found['rounds']} "
        f"alternating rounds of {found['reads_per_round']} reads, median per read.",
        "",
        "| records | access calls per evaluation | documents read (billed) | with the checks "
        "| without | added |",
        "|---|---|---|---|---|---|",
    ]
    for case, row in found["cases"].items():
        lines.append(
            f"| {case} | {row['access_calls']} | {row['documents_read']} "
            f"| {row['with_check_ms']:.2f} ms "
            f"| {row['without_check_ms']:.2f} ms | {row['added_ms']:+.2f} ms |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rules-cost", description=__doc__)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    found = measure(args.reads, args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "rules_cost.json").write_text(json.dumps(found, indent=2) + "\n")
    text = report(found)
    (RESULTS / "rules_cost.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
