"""Operators' tools, served by no function.

`operator` holds every action an owner takes (partner users, records, limits, suspension,
keys, audit, inspection), over `users` (custom claims), `records` (partner records and the
audit trail), `keys`, `inspection` (what partners would see of a declared collection) and
`proposal` (a declaration proposed from a collection not declared yet); `clients` makes the
Firestore client and checks the emulators; `errors` says what went wrong in one line. The
command-line tool (`functions.cli`) and the console (`functions.edge.console`) are their
front ends.
"""
