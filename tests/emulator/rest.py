"""Firestore's REST API as a client SDK speaks it, for tests that go through the rules."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import requests

from functions.core.models import DocumentPath, GeoPoint, rfc3339
from tests.helpers import PROJECT

DOCUMENTS = f"projects/{PROJECT}/databases/(default)/documents"


def rest(path: str = "") -> str:
    from devtools.emulators import firestore_host

    return f"http://{firestore_host()}/v1/{DOCUMENTS}{path}"


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
"""How protobuf's JSON writes the doubles JSON has no number for."""


def value(v: Any) -> dict[str, Any]:
    """A Python value in Firestore's REST encoding (a datetime a timestamp, our geopoints
    and references as the client SDKs send them)."""
    if v is None:
        return {"nullValue": None}
    if isinstance(v, bool):
        return {"booleanValue": v}
    if isinstance(v, int):
        return {"integerValue": str(v)}
    if isinstance(v, list):
        return {"arrayValue": {"values": [value(x) for x in v]}}
    if isinstance(v, dict):
        return {"mapValue": {"fields": {k: value(x) for k, x in v.items()}}}
    return _typed(v)


def _typed(v: Any) -> dict[str, Any]:
    if isinstance(v, float):
        return {"doubleValue": v if math.isfinite(v) else _NON_FINITE[str(v)]}
    if isinstance(v, dt.datetime):
        return {"timestampValue": rfc3339(v)}
    if isinstance(v, GeoPoint):
        return {"geoPointValue": {"latitude": v.latitude, "longitude": v.longitude}}
    if isinstance(v, DocumentPath):
        return {"referenceValue": f"{DOCUMENTS}/{v.path}"}
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


def delete_doc(token: str | None, path: str) -> requests.Response:
    """A client delete of the document at `path`."""
    return requests.delete(rest(f"/{path}"), headers=headers(token), timeout=30)


def get_doc(token: str | None, path: str) -> requests.Response:
    return requests.get(rest(f"/{path}"), headers=headers(token), timeout=30)


def load_rules(source: str) -> None:
    """Replace the Firestore emulator's rules of the test project."""
    from devtools import emulators

    emulators.load_rules(PROJECT, source)
