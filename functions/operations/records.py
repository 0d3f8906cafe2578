"""Partner records and the audit trail: the logic behind `python -m functions.partners
partner add|suspend|resume|limits|show|list` and `python -m functions.partners audit`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from functions.auth.callers import PARTNER_ID_FORM, PARTNER_ID_PATTERN
from functions.core import config
from functions.core.models import LIMIT_BOUNDS, PartnerRecord, limit_in_range
from functions.operations.errors import Refused, UsageError
from functions.store import audit as audit_store
from functions.store import partners as partner_store
from functions.store.client import WriteConflict

if TYPE_CHECKING:
    from functions.operations.clients import Database

LIMIT_FIELDS = {"rate": "ratePerSecond", "burst": "burst", "daily_creates": "dailyCreates"}


def partner_json(record: PartnerRecord, snapshot: Any = None) -> dict[str, Any]:
    """A partner's record for people, with the limits that apply to it."""
    limits = record.limits(config.default_limits())
    data = (snapshot.to_dict() or {}) if snapshot is not None and snapshot.exists else {}
    return {
        "id": record.partner_id,
        "status": record.status if record.exists else "active (no record)",
        "displayName": record.display_name,
        "limits": {
            "ratePerSecond": limits.rate_per_s,
            "burst": limits.burst,
            "dailyCreates": limits.daily_creates,
        },
        "overrides": dict(record.overrides),
        "createdAt": _time(data.get("createdAt")),
        "updatedAt": _time(data.get("updatedAt")),
    }


def _time(value: Any) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if isinstance(value, dt.datetime) else None


def limit_overrides(rate: float | None, burst: int | None, daily: int | None) -> dict[str, Any]:
    """Raises: UsageError for a value out of range (NaN and infinities included)."""
    overrides: dict[str, Any] = {}
    for flag, name, value in (
        ("--rate", "ratePerSecond", rate),
        ("--burst", "burst", burst),
        ("--daily-creates", "dailyCreates", daily),
    ):
        if value is None:
            continue
        if not limit_in_range(name, value):
            raise UsageError(f"{flag} must be {LIMIT_BOUNDS[name]}")
        overrides[name] = value
    return overrides


class PartnerRecords:
    """Partner records through the operator's Firestore client; each change is copied
    whole to `mirror` (test mode's database, whose rules read their own copy)."""

    def __init__(self, database: Database, mirror: Database | None = None) -> None:
        self.database = database
        self.mirror = mirror

    def copy(self, partner_id: str) -> None:
        """The partner's record, copied whole to `mirror` (a partner recorded before test
        mode existed has no copy until it changes: a test user's grant makes one)."""
        if self.mirror is not None:
            partner_store.copy(partner_id, self.database, self.mirror)

    def _snapshot(self, partner_id: str) -> Any:
        if not PARTNER_ID_PATTERN.fullmatch(partner_id):
            raise Refused(f"partner id {partner_id!r} is malformed: use {PARTNER_ID_FORM}")
        return partner_store.read(partner_id, self.database)

    def get(self, partner_id: str) -> tuple[PartnerRecord, Any]:
        snapshot = self._snapshot(partner_id)
        data = snapshot.to_dict() if snapshot.exists else None
        return partner_store.record_from(partner_id, data), snapshot

    def exists(self, partner_id: str) -> bool:
        return bool(self._snapshot(partner_id).exists)

    def add(self, partner_id: str, name: str, overrides: Mapping[str, Any]) -> PartnerRecord:
        """Raises: Refused when the partner already has a record."""
        self._snapshot(partner_id)
        try:
            partner_store.create(partner_id, name, overrides, self.database)
        except WriteConflict as exc:
            raise Refused(f"partner {partner_id!r} already exists") from exc
        self.copy(partner_id)
        return self.get(partner_id)[0]

    def require(self, partner_id: str, *, create: bool) -> None:
        """A partner record must exist before users or keys are given to it.

        Raises: Refused for an unknown partner, unless `create` (then it is added).
        """
        if self.exists(partner_id):
            return
        if not create:
            raise Refused(
                f"no partner {partner_id!r}: add it first (`partner add {partner_id}`) or "
                "pass --create-partner"
            )
        self.add(partner_id, partner_id, {})

    def recorded(self, partner_id: str) -> Any:
        """The partner's record as stored. Raises: Refused for an unknown partner."""
        snapshot = self._snapshot(partner_id)
        if not snapshot.exists:
            raise Refused(f"no partner {partner_id!r}; add it with `partner add {partner_id}`")
        return snapshot

    def change(self, partner_id: str, changes: Mapping[str, Any]) -> PartnerRecord:
        """Raises: Refused for an unknown partner or a concurrent change."""
        snapshot = self.recorded(partner_id)
        try:
            partner_store.update(partner_id, changes, self.database, since=snapshot.update_time)
        except WriteConflict as exc:
            raise Refused(f"partner {partner_id!r} changed meanwhile; run again") from exc
        self.copy(partner_id)
        return self.get(partner_id)[0]

    def set_limits(self, partner_id: str, overrides: Mapping[str, Any]) -> PartnerRecord:
        record, _ = self.get(partner_id)
        return self.change(partner_id, {"limits": {**record.overrides, **overrides}})

    def every(self) -> Iterator[tuple[PartnerRecord, Any]]:
        for snapshot in partner_store.every(self.database):
            yield partner_store.record_from(snapshot.id, snapshot.to_dict()), snapshot

    def audit(
        self, partner_id: str, since: dt.datetime | None, record_id: str | None
    ) -> list[dict[str, Any]]:
        self._snapshot(partner_id)
        return [
            {
                key: _time(value) if isinstance(value, dt.datetime) else value
                for key, value in entry.items()
                if key != "expiresAt"
            }
            for entry in audit_store.query(
                self.database, partner_id, since=since, record_id=record_id
            )
        ]
