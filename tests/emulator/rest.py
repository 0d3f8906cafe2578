"""Firestore's REST API as a client SDK speaks it, for tests that go through the rules."""

from __future__ import annotations

from typing import Any

import requests

from tests.helpers import PROJECT

DOCUMENTS = f"projects/{PROJECT}/databases/(default)/documents"


def rest(path: str = "") -> str:
    from devtools.emulators import firestore_host

    return f"http://{firestore_host()}/v1/{DOCUMENTS}{path}"


def value(v: Any) -> dict[str, Any]:
    """A Python value in Firestore's REST encoding."""
    if v is None:
        return {"nullValue": None}
    if isinstance(v, bool):
        return {"booleanValue": v}
    if isinstance(v, int):
        return {"integerValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [value(x) for x in v]}}
    return {"stringValue": v}


def headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def create_doc(
    token: str | None,
    doc_id: str,
    fields: dict[str, Any],
    *,
    collection: str = "entries",
    server_times: bool = True,
    times: tuple[str, ...] = ("createdAt", "updatedAt"),
) -> requests.Response:
    """A client create: the `times` as request.time, as the client SDKs send them."""
    write: dict[str, Any] = {
        "update": {
            "name": f"{DOCUMENTS}/{collection}/{doc_id}",
            "fields": {k: value(v) for k, v in fields.items()},
        },
        "currentDocument": {"exists": False},
    }
    if server_times:
        write["updateTransforms"] = [
            {"fieldPath": name, "setToServerValue": "REQUEST_TIME"} for name in times
        ]
    return requests.post(
        rest(":commit"), json={"writes": [write]}, headers=headers(token), timeout=30
    )


def get_doc(token: str | None, path: str) -> requests.Response:
    return requests.get(rest(f"/{path}"), headers=headers(token), timeout=30)


def load_rules(source: str) -> None:
    """Replace the Firestore emulator's rules of the test project."""
    from devtools import emulators

    emulators.load_rules(PROJECT, source)
