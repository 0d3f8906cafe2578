"""Firestore: the only package that talks to it.

`client` holds the lazily created client, the translation of backend failures into our
errors and the unit of work every change is written through; `records` persists the
records of every declared resource and their idempotency records; `keys`, `partners`,
`limits` and `audit` keep API keys, partner records, the limits' leases and the audit
trail; `answers` the answers of owner endpoints kept for an Idempotency-Key; `events`,
`webhooks` and `deliveries` the change events, partners' webhook endpoints and every
delivery attempt. All speak in domain types (`functions.models`), never in headers or wire shapes.
"""

from functions.store.client import UnitOfWork, WriteConflict, client

__all__ = ["UnitOfWork", "WriteConflict", "client"]
