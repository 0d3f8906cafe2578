"""Demo data for `make serve`: two partners, their users and a few entries each."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable

from devtools.emulators import sign_in
from functions.auth import Caller
from functions.core.models import Draft
from functions.domain import records as partner_records
from functions.operations.keys import KeyDirectory
from functions.operations.records import PartnerRecords
from functions.operations.users import PartnerDirectory
from functions.resources import declaration

DEMO_PASSWORD = "demo-password-1"
JSON_HEADER = "-H 'Content-Type: application/json'"
DEMO_USERS = {"acme": "demo@acme.example", "globex": "demo@globex.example"}
DEMO_OWNER = "owner@demo.example"
"""The demo owner: signs in to the console with DEMO_PASSWORD."""
DEMO_ENTRIES = {
    "acme": [
        {
            "description": "Catering, staff party",
            "amount": "1250.00",
            "currency": "EUR",
            "date": "2026-03-02",
            "category": "food",
            "reference": "ACME-0001",
        },
        {
            "description": "Kitchen equipment",
            "amount": "899.90",
            "currency": "EUR",
            "date": "2026-03-05",
            "category": "equipment",
        },
        {
            "description": "Refund, damaged delivery",
            "amount": "-45.50",
            "currency": "EUR",
            "date": "2026-03-09",
            "category": "food",
        },
        {
            "description": "Cleaning service",
            "amount": "320.00",
            "currency": "EUR",
            "date": "2026-03-15",
            "category": "services",
            "reference": "ACME-0004",
        },
    ],
    "globex": [
        {
            "description": "Consulting",
            "amount": "5000.00",
            "currency": "USD",
            "date": "2026-02-20",
            "category": "services",
        },
    ],
}


def seed(project: str) -> dict[str, str]:
    """Demo users, entries, one API key per partner and a test mode key of acme's (under
    `test`); returns the keys."""
    from firebase_admin import auth  # noqa: PLC0415

    from functions import store as firestore  # noqa: PLC0415

    entries = declaration.current().get("entries")
    directory = PartnerDirectory(project)
    keys = KeyDirectory(project, firestore.client())
    issued = {}
    records = PartnerRecords(firestore.client())
    for partner_id, email in DEMO_USERS.items():
        records.add(partner_id, partner_id.title(), {})
        user = auth.create_user(email=email, password=DEMO_PASSWORD, app=directory.app)
        directory.grant(user.uid, partner_id, None)
        caller = Caller(user.uid, partner_id, frozenset(), {})
        for fields in DEMO_ENTRIES[partner_id]:
            if entries is not None:  # as the partner's user would create them
                partner_records.create_record(entries, caller, Draft(fields), None)
        issued[partner_id] = keys.create(partner_id, None, label="demo key").key
    issued["test"] = keys.create("acme", None, label="demo test key", mode="test").key
    owner = auth.create_user(email=DEMO_OWNER, password=DEMO_PASSWORD, app=directory.app)
    directory.add_owner(owner.uid)
    return issued


def seed_and_describe(project: str, function_url: Callable[[str, str], str], log_path: str) -> str:
    """Seed, then explain how to call the API, with a working key and token."""
    demo_keys = seed(project)
    token = sign_in(DEMO_USERS["acme"], DEMO_PASSWORD)
    fetch = function_url(project, "fetchData")
    create = function_url(project, "createEntry")
    update = function_url(project, "updateEntry")
    body = '{"description":"Coffee beans","amount":"42.00","currency":"EUR","date":"2026-03-20"}'
    lines = [
        "",
        f"Partner API is running on the Firebase emulators (project {project}).",
        f"API reference (open in a browser): {function_url(project, 'docs')}",
        f"Owner's console (open in a browser): {function_url(project, 'console')}",
        f"  sign in as {DEMO_OWNER}, password {DEMO_PASSWORD}",
        "",
        "Functions:",
        *(
            f"  {name:<12} {function_url(project, name)}"
            for name in (
                "fetchData",
                "createEntry",
                "updateEntry",
                "api",
                "health",
                "openapi",
                "docs",
            )
        ),
        "  (api serves every resource of resources.toml: api/v1/<resource>[/<id>])",
        "",
        f"Demo partner users (password {DEMO_PASSWORD}): "
        + ", ".join(f"{email} [{pid}]" for pid, email in DEMO_USERS.items()),
        "",
        "Demo API keys (what partners' servers use):",
        *(f"  {pid:<7} {key}" for pid, key in demo_keys.items() if pid != "test"),
        f"  export KEY={demo_keys['acme']}",
        "acme's test mode key (its calls reach the sandbox database, never the live data):",
        f"  export TEST_KEY={demo_keys['test']}",
        "",
        "An ID token for demo@acme.example (valid for one hour):",
        f"  export TOKEN={token}",
        "",
        "Try:",
        f'  curl -s -H "Authorization: Bearer $KEY" {shlex.quote(fetch + "?limit=2")}',
        f'  curl -s -H "Authorization: Bearer $TOKEN" {shlex.quote(fetch + "?limit=2")}',
        f'  curl -s -i -H "Authorization: Bearer $KEY" '
        f"{shlex.quote(function_url(project, 'api') + '/v1/entries?limit=2')}",
        f'  curl -s -X POST -H "Authorization: Bearer $KEY" {JSON_HEADER} '
        f"-H 'Idempotency-Key: demo-1' -d '{body}' {create}",
        f'  curl -s -X PATCH -H "Authorization: Bearer $KEY" {JSON_HEADER} '
        f'-H \'If-Match: "1"\' -d \'{{"category":"food"}}\' {update}/<id>',
        "",
        f"Request logs (one JSON line per call) and the emulators' output: {log_path}",
        "A fresh token later: make token",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def main() -> int:
    """`python -m devtools.seed token [EMAIL]`: print a fresh ID token of a demo user."""
    email = sys.argv[2] if len(sys.argv) > 2 else DEMO_USERS["acme"]
    print(sign_in(email, DEMO_PASSWORD))
    return 0


if __name__ == "__main__":
    sys.exit(main())
