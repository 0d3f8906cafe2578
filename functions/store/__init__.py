"""Firestore: the only package that talks to it, persistence only.

`client` holds the lazily created client, the translation of backend failures into our
errors and the unit of work every change is written through; `calls` makes each call by
the fast path (`wire`: plain protobuf messages, behind FIRESTORE_FAST_PATH) or the SDK's
public API; `records` persists the records of every declared resource; `keys`,
`partners`, `limits`, `audit`, `usage` and `partner_users` keep API keys, partner
records, the limits' leases, the audit trail, usage counts and partner users' access
records; `answers` the answers kept for an Idempotency-Key; `events`, `webhooks` and
`deliveries` the change events, partners' webhook endpoints and every delivery attempt.
All speak in domain types (`functions.core.models`), never in headers or wire shapes.
"""

from functions.store.client import UnitOfWork, WriteConflict, client

__all__ = ["UnitOfWork", "WriteConflict", "client"]
