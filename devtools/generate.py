"""Write everything the declaration decides (`make generate`): the partner block of
`firestore.rules`, `firestore.indexes.json` and `openapi.json`.

Tests keep the committed files equal to fresh output, so a declaration change that was not
regenerated fails `make test`. `--declaration FILE` generates for another declaration
(the test suite's second one), `--check` only reports what is stale. In an adopted app,
where the owner's declaration is `owner/resources.toml`, it writes `owner/openapi.json`
only: `make adopt` writes the rules and indexes into the app's own files, and the
package's generated files stay as released, so upgrades do not conflict with them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from devtools.prerequisites import ROOT
from functions.contract import catalog, openapi
from functions.core import config
from functions.core.errors import ConfigurationError
from functions.resources import declaration, indexes, rules
from functions.resources.declaration import Declaration

DOCUMENT_PATH = ROOT / "openapi.json"
RULES_PATH = ROOT / "firestore.rules"
INDEXES_PATH = ROOT / "firestore.indexes.json"


def own_field_overrides() -> list[dict[str, Any]]:
    """The package's own collections' settings: idempotency records, audit records,
    daily quota counts, events, delivery records, marks of attempts under way and daily
    usage counts expire by TTL
    (`expiresAt`)."""
    return [
        {"collectionGroup": group, "fieldPath": "expiresAt", "ttl": True, "indexes": []}
        for group in (
            config.DEFAULT_IDEMPOTENCY_COLLECTION,
            config.DEFAULT_AUDIT_COLLECTION,
            config.DEFAULT_LIMITS_COLLECTION,
            config.DEFAULT_EVENTS_COLLECTION,
            config.DEFAULT_DELIVERIES_COLLECTION,
            config.DEFAULT_IN_FLIGHT_COLLECTION,
            config.DEFAULT_USAGE_COLLECTION,
        )
    ]


def own_indexes() -> list[dict[str, Any]]:
    """The queries of `partners audit` (by partner, or by partner and record, in time),
    the count a day's quota is rebuilt from (a partner's creates since a time), the
    events list (a partner's events in time, of one type or all), an endpoint's
    deliveries and the console's audit pages (a partner's latest first), and the attempts
    under way to an endpoint."""
    audit = [
        (config.DEFAULT_AUDIT_COLLECTION, fields)
        for fields in (
            ("partnerId", "at"),
            ("partnerId", "recordId", "at"),
            ("partnerId", "operation", "at"),
        )
    ]
    events = [
        (config.DEFAULT_EVENTS_COLLECTION, fields)
        for fields in (("partnerId", "at", "__name__"), ("partnerId", "type", "at", "__name__"))
    ]
    indexes = [
        {
            "collectionGroup": group,
            "queryScope": "COLLECTION",
            "fields": [{"fieldPath": name, "order": "ASCENDING"} for name in fields],
        }
        for group, fields in (*audit, *events)
    ]
    indexes.append(  # attempts under way to an endpoint, begun before a time
        {
            "collectionGroup": config.DEFAULT_IN_FLIGHT_COLLECTION,
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": "endpointId", "order": "ASCENDING"},
                {"fieldPath": "since", "order": "ASCENDING"},
            ],
        }
    )
    latest_first = (
        (config.DEFAULT_DELIVERIES_COLLECTION, "endpointId", "updatedAt"),  # `webhooks deliveries`
        (config.DEFAULT_AUDIT_COLLECTION, "partnerId", "at"),  # the console's audit pages
    )
    indexes.append(  # the console's audit pages of one operation
        {
            "collectionGroup": config.DEFAULT_AUDIT_COLLECTION,
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": "partnerId", "order": "ASCENDING"},
                {"fieldPath": "operation", "order": "ASCENDING"},
                {"fieldPath": "at", "order": "DESCENDING"},
            ],
        }
    )
    indexes += [
        {
            "collectionGroup": group,
            "queryScope": "COLLECTION",
            "fields": [
                {"fieldPath": equal, "order": "ASCENDING"},
                {"fieldPath": moment, "order": "DESCENDING"},
            ],
        }
        for group, equal, moment in latest_first
    ]
    return indexes


def indexes_file(decl: Declaration) -> str:
    document = {
        "indexes": [index for r in decl.resources for index in indexes.indexes_of(r)]
        + own_indexes(),
        "fieldOverrides": own_field_overrides(),
    }
    return json.dumps(document, indent=2) + "\n"


def rules_file(decl: Declaration, current: str) -> str:
    return rules.place(current, rules.block(decl))


def outputs(decl: Declaration, *, owner: bool = False) -> dict[Path, str]:
    """Each generated file and its content for `decl` (`owner`: an adopted app's)."""
    if owner:
        return {config.OWNER_FOLDER / DOCUMENT_PATH.name: openapi.render(decl, catalog.discover())}
    return {
        RULES_PATH: rules_file(decl, RULES_PATH.read_text()),
        INDEXES_PATH: indexes_file(decl),
        DOCUMENT_PATH: openapi.render(decl, catalog.discover()),
    }


def notes(decl: Declaration) -> list[str]:
    """What the owner should know of the declaration before opening it: lists ordered by
    a field that some documents may lack (Firestore leaves those out of the list)."""
    found = []
    for resource in decl.resources:
        if "list" in resource.operations and not resource.order_always_written:
            found.append(
                f"note: {resource.name}: lists are ordered by {resource.order!r}, which the "
                "API does not write on every record; Firestore leaves every document "
                f"without it out of the list. `python -m functions.partners inspect "
                f'{resource.name}` names those documents; order = "id" reaches them all.'
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make generate", description=__doc__)
    parser.add_argument("--declaration", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="report stale files, write none")
    args = parser.parse_args(argv)
    try:
        decl = declaration.load(args.declaration or declaration.path())
    except declaration.DeclarationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    try:
        catalog.discover()  # the owner's endpoints in main.py belong in openapi.json
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    for line in notes(decl):
        print(line, file=sys.stderr)
    stale = []
    owner = args.declaration is None and declaration.path() == declaration.OWNER_PATH
    for target, content in outputs(decl, owner=owner).items():
        if target.is_file() and target.read_text() == content:
            continue
        stale.append(target.name)
        if not args.check:
            target.write_text(content)
    verb = "stale" if args.check else "wrote"
    print(f"{verb}: {', '.join(stale) or 'nothing (all up to date)'}", file=sys.stderr)
    if owner:
        print(
            "note: the rules and indexes your declaration needs go into your app's own files: "
            "run `make adopt INTO=..`",
            file=sys.stderr,
        )
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
