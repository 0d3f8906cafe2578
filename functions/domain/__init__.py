"""The business rules, free of HTTP and of Firestore's client: `records` (the built-in
operations on every declared resource), `owner` (what an owner's endpoint does in a
call), `idempotency` (the one Idempotency-Key protocol), `changes` (changes as events),
`usage` (metering), and `webhooks/`. The domain decides; the store persists the unit of
work it is handed."""
