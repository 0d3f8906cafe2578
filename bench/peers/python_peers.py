"""Python peers of the benchmark, served by functions-framework like the API itself.

- naive_fetch / naive_create: a naive port of the seed's Node functions (fetch the whole
  collection, no auth, a module-level client).
- bare_page: the same one-page query the API makes, with no auth and no validation:
  what auth and validation cost is the API's latency minus this one's.
- hello: a hello-world function, the floor of the server itself.
"""

import os
from typing import Any

import functions_framework
from flask import Request
from google.cloud import firestore

db = firestore.Client(project=os.environ["GCLOUD_PROJECT"])
COLLECTION = os.environ.get("ENTRIES_COLLECTION", "entries")


@functions_framework.http
def naive_fetch(request: Request) -> list[dict[str, Any]]:
    docs = db.collection(COLLECTION).get()
    return [
        {
            "id": d.id,
            "description": d.get("description"),
            "amount": d.get("amount"),
            "date": d.get("date"),
        }
        for d in docs
    ]


@functions_framework.http
def naive_create(request: Request) -> tuple[dict[str, str], int]:
    _, ref = db.collection(COLLECTION).add(
        {**request.get_json(), "createdAt": firestore.SERVER_TIMESTAMP}
    )
    return {"id": ref.id}, 201


@functions_framework.http
def bare_page(request: Request) -> dict[str, Any]:
    query = (
        db.collection(COLLECTION)
        .where(filter=firestore.FieldFilter("partnerId", "==", request.args["partner"]))
        .order_by("createdAt")
        .order_by("__name__")
        .limit(21)
    )
    return {"data": [(d.to_dict() or {}) | {"id": d.id} for d in query.stream()][:20]}


@functions_framework.http
def hello(request: Request) -> str:
    return "hello"
