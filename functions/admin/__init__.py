"""Operators' tools, served by no function.

`operator` holds every action an owner takes (partner users, records, limits, suspension,
keys, audit, inspection), over `users` (custom claims), `records` (partner records and the
audit trail), `keys` and `inspection`; `clients` makes the Firestore client and checks the
emulators; `cli` parses the command line and prints, and only that.
"""
