"""Partners' usage in Firestore (collection `partnerUsage` by default): one document per
partner and day (`<partner>_<YYYY-MM-DD>`), counters that instances add to in aggregate
(`functions.domain.usage`), kept USAGE_RETENTION_DAYS (a TTL policy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from functions.core import config
from functions.core.models import DayUsage
from functions.store import calls
from functions.store.client import backend_errors, call_options, client, count_reads

if TYPE_CHECKING:
    from google.cloud import firestore

USAGE_RETENTION_DAYS: Final = 400
SDK_PREFIX: Final = "sdk:"
"""How the meter names an SDK version's counter (`sdk:python/1.0.0`)."""
SDKS_FIELD: Final = "sdks"
_FIELDS: Final = {
    "calls": "calls",
    "ok": "ok",
    "client_errors": "clientErrors",
    "limited": "limited",
    "errors": "errors",
    "creates": "creates",
}


def _usage(database: firestore.Client | None = None) -> firestore.CollectionReference:
    return (database or client()).collection(config.usage_collection())


def document_id(partner_id: str, day: dt.date) -> str:
    return f"{partner_id}_{day.isoformat()}"


def add(counts: Mapping[tuple[str, dt.date, str], Mapping[str, int]], now: dt.datetime) -> int:
    """Add each (partner, day, database)'s counters, one write per document, in one batch
    a database; returns the number of documents written. Each write also counts itself
    (`flushes`)."""
    from google.cloud import firestore  # noqa: PLC0415

    if not counts:
        return 0
    batches: dict[str, Any] = {}
    for (partner_id, day, database), counters in counts.items():
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        fields: dict[str, Any] = {
            "partnerId": partner_id,
            "day": day.isoformat(),
            "flushes": firestore.Increment(1),
            "updatedAt": now,
            "expiresAt": start + dt.timedelta(days=USAGE_RETENTION_DAYS),
        }
        sdks: dict[str, Any] = {}
        for name, value in counters.items():
            if not value:
                continue
            if name.startswith(SDK_PREFIX):
                sdks[name.removeprefix(SDK_PREFIX)] = firestore.Increment(value)
            else:
                fields[_FIELDS[name]] = firestore.Increment(value)
        if sdks:
            fields[SDKS_FIELD] = sdks
        db = client(database)
        batch = batches.setdefault(database, db.batch())
        batch.set(_usage(db).document(document_id(partner_id, day)), fields, merge=True)
    with backend_errors():
        for batch in batches.values():
            batch.commit(**call_options("commit"))
    return len(counts)


def days(
    partner_ids: Sequence[str], first: dt.date, last: dt.date, database: Any = None
) -> dict[tuple[str, dt.date], DayUsage]:
    """Each partner's usage on each day from `first` to `last` (zeros where none was
    recorded): one read per document asked."""
    span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    wanted = [(p, d) for p in partner_ids for d in span]
    found: dict[tuple[str, dt.date], DayUsage] = {key: DayUsage(key[0], key[1]) for key in wanted}
    if not wanted:
        return found
    collection = _usage(database)
    references = [collection.document(document_id(p, d)) for p, d in wanted]
    db = database or client()
    with backend_errors():
        snapshots = calls.get_all(db, references)
    count_reads(len(snapshots))
    for snapshot in snapshots:
        data = snapshot.to_dict() if snapshot.exists else None
        if not data:
            continue
        partner_id, _, day = snapshot.id.rpartition("_")
        try:
            key = (partner_id, dt.date.fromisoformat(day))
        except ValueError:
            continue
        if key in found:
            found[key] = DayUsage(key[0], key[1], **_counters(data))
    return found


def _counters(data: Mapping[str, Any]) -> dict[str, Any]:
    """The counters as stored; one edited into another shape reads as 0."""

    def whole(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    stored_sdks = data.get(SDKS_FIELD)
    sdks = stored_sdks if isinstance(stored_sdks, Mapping) else {}
    return {name: whole(data.get(stored)) for name, stored in _FIELDS.items()} | {
        "flushes": whole(data.get("flushes")),
        "sdks": {str(name): whole(n) for name, n in sdks.items() if whole(n)},
    }
