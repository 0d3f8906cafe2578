"""Examples of owner endpoints that ship with the package: each one documented, tested and
removable (delete its import from main.py, then run `make generate`): `entries_summary`
sums the caller's entries."""
