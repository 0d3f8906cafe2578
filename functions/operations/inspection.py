"""Look before you open: what partners would see of a collection the owner's app already
fills. The logic behind `python -m functions.partners inspect RESOURCE`.

Every document is judged exactly as the functions judge it (the same validation models),
so the numbers here are what a list and a get will do: served, skipped (named in a list's
`skipped`, 409 on a get), never served (no tenant field: no partner owns it), or out of
lists (no order field: Firestore leaves it out of an ordered query, a get still serves
it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from functions.core.models import as_document_path, as_geopoint
from functions.resources import kinds, validation
from functions.resources.declaration import FieldSpec, Resource

EXAMPLES = 3
"""Example ids kept per reason."""

StoredDocument = tuple[str, Mapping[str, Any], dt.datetime]
"""A document as the store streams it: its id, its data, when Firestore last wrote it."""


@dataclass
class Tally:
    """How many documents share one outcome, with the first few ids."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, doc_id: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(doc_id)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}


_SIMPLE_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (str, "string"),
    (int, "integer"),
    (float, "double"),
    (bytes, "bytes"),
    (list, "array"),
    (dt.datetime, "timestamp"),
    (Mapping, "map"),
)


def stored_type(value: Any) -> str:
    """The Firestore type a stored value has, by the name Firestore gives it."""
    if value is None:
        return "null"
    for kind, name in _SIMPLE_TYPES:
        if isinstance(value, kind):
            return name
    if as_geopoint(value) is not None:
        return "geopoint"
    return "reference" if as_document_path(value) is not None else type(value).__name__


@dataclass
class FieldTally:
    """One declared field across the documents that hold it: how many hold a value of
    its kind, and the Firestore types seen (where they disagree, the owner sees it)."""

    kind: str
    present: int = 0
    valid: int = 0
    types: Counter[str] = field(default_factory=Counter)

    def add(self, spec: FieldSpec, value: Any) -> None:
        self.present += 1
        self.types[stored_type(value)] += 1
        try:
            kinds.stored_adapter(spec).validate_python(value)
        except ValidationError:
            return
        self.valid += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "present": self.present,
            "valid": self.valid,
            "types": dict(self.types.most_common()),
        }


@dataclass
class Inspection:
    """What partners would see of one resource's collection (or of one partner's part)."""

    resource: Resource
    partner_id: str | None
    sample: int
    scanned: int = 0
    served: Tally = field(default_factory=Tally)
    skipped: dict[str, Tally] = field(default_factory=dict)
    no_tenant: Tally = field(default_factory=Tally)
    out_of_lists: Tally = field(default_factory=Tally)
    undeclared: Counter[str] = field(default_factory=Counter)
    wrong_kind: Counter[str] = field(default_factory=Counter)
    fields: dict[str, FieldTally] = field(default_factory=dict)
    complete: bool = True

    @property
    def skipped_count(self) -> int:
        return sum(tally.count for tally in self.skipped.values())

    def add(self, doc_id: str, data: Mapping[str, Any], written: dt.datetime) -> None:
        """Judge one stored document as the functions would."""
        resource = self.resource
        self.scanned += 1
        for name in sorted(set(data) - set(resource.stored_fields)):
            self.undeclared[name] += 1
        for spec in resource.fields:
            if spec.name in data:
                tally = self.fields.setdefault(spec.name, FieldTally(spec.kind))
                tally.add(spec, data[spec.name])
        if resource.tenant_of(data) is None:
            self.no_tenant.add(doc_id)
            return
        order = resource.order_field
        if order is not None and order not in data:
            self.out_of_lists.add(doc_id)
        try:
            validation.record_from(resource, doc_id, data, written=written)
        except validation.InvalidStored as exc:
            reasons = []
            for name in exc.fields:
                if name in data:
                    self.wrong_kind[name] += 1
                    reasons.append(f"{name} is not a valid {_kind_of(resource, name)}")
                else:
                    reasons.append(f"{name} is missing")
            self.skipped.setdefault("; ".join(reasons), Tally()).add(doc_id)
            return
        self.served.add(doc_id)

    def as_json(self) -> dict[str, Any]:
        resource = self.resource
        return {
            "resource": resource.name,
            "collection": resource.collection,
            "partner": self.partner_id,
            "order": resource.order,
            "scanned": self.scanned,
            "complete": self.complete,
            "served": self.served.as_json(),
            "skipped": {
                "count": self.skipped_count,
                "reasons": {reason: t.as_json() for reason, t in sorted(self.skipped.items())},
            },
            "noTenantField": self.no_tenant.as_json(),
            "outOfLists": self.out_of_lists.as_json(),
            "undeclaredFields": dict(sorted(self.undeclared.items())),
            "wrongKind": dict(sorted(self.wrong_kind.items())),
            "fields": {
                spec.name: self.fields.get(spec.name, FieldTally(spec.kind)).as_json()
                for spec in resource.fields
            },
            "doors": doors(resource),
        }


def inspect(
    resource: Resource,
    documents: Iterable[StoredDocument],
    *,
    partner_id: str | None = None,
    sample: int,
) -> Inspection:
    """Judge at most `sample` documents (in id order, as the store streams them)."""
    found = Inspection(resource, partner_id, sample)
    for doc_id, data, written in documents:
        if found.scanned >= sample:
            found.complete = False
            break
        found.add(doc_id, data, written)
    return found


def _kind_of(resource: Resource, name: str) -> str:
    book = resource.bookkeeping
    if name == resource.tenant_field:
        return (
            f"reference into {resource.tenant_reference}" if resource.tenant_reference else "text"
        )
    if name == book.created_by:
        return "text"
    if name == book.version:
        return "version (a whole number from 1)"
    if name in (book.created_at, book.updated_at):
        return "timestamp"
    spec = next((spec for spec in resource.fields if spec.name == name), None)
    return spec.kind if spec is not None else "value"


def doors(resource: Resource) -> dict[str, str]:
    """What holds on each door of this resource, in plain words."""
    api = (
        "every call is authenticated, scoped, refused while the partner is suspended, "
        "rate limited, counted against the daily quota (creates) and audited (writes)"
    )
    direct = resource.direct_access
    if not direct:
        firestore = "closed: partners reach this collection through the API only"
    else:
        doing = " and ".join(sorted(direct))
        firestore = (
            f"{doing} with a partner's ID token, own tenant only, refused while the partner "
            "is suspended (the rules read its record); not rate limited and not counted "
            "against the daily quota; direct writes leave no audit record"
        )
    return {"api": api, "firestore": firestore}


def render(found: Inspection) -> str:
    """The report for people."""
    resource = found.resource
    order = resource.order_field
    who = f"partner {found.partner_id}" if found.partner_id else "all partners"
    ordered = f"ordered by {order}, then id" if order else "ordered by id"
    lines = [
        f"{resource.name}: collection {resource.collection}, {who}, lists {ordered}",
        f"scanned {found.scanned} documents"
        + ("" if found.complete else f" (the first {found.sample} by id; --sample for more)"),
        _row("served", found.served, f"valid {resource.name}: lists and gets serve them"),
        f"  {'skipped':<16}{found.skipped_count:>7}  named in a list's `skipped`, 409 on a get",
    ]
    for reason, tally in sorted(found.skipped.items()):
        lines.append(f"    {tally.count:>5}  {reason}{_examples(tally)}")
    lines.append(
        _row("no tenant field", found.no_tenant, f"no {resource.tenant_field}: never served")
    )
    if order is not None:
        lines.append(
            _row(
                "out of lists",
                found.out_of_lists,
                f"no {order}: Firestore leaves them out of every list (a get still serves "
                'valid ones); order = "id" reaches them all',
            )
        )
    if found.undeclared:
        counted = ", ".join(f"{name} ({n})" for name, n in sorted(found.undeclared.items()))
        lines.append(
            f"fields in the data that are not declared (partners never see them): {counted}"
        )
    if found.wrong_kind:
        counted = ", ".join(f"{name} ({n})" for name, n in sorted(found.wrong_kind.items()))
        lines.append(f"values of the wrong kind, per field: {counted}")
    if found.fields:
        lines.append("per field (valid of present; the Firestore types seen):")
    for spec in resource.fields:
        held = found.fields.get(spec.name)
        if held is not None:
            seen = ", ".join(f"{name} {n}" for name, n in held.types.most_common())
            lines.append(
                f"  {spec.name:<16}{spec.kind:<10}{held.valid:>7} of {held.present:<7}{seen}"
            )
    for door, text in doors(resource).items():
        lines.append(f"{'the API' if door == 'api' else 'straight on Firestore'}: {text}")
    return "\n".join(lines)


def _row(label: str, tally: Tally, text: str) -> str:
    return f"  {label:<16}{tally.count:>7}  {text}{_examples(tally)}"


def _examples(tally: Tally) -> str:
    return f" (e.g. {', '.join(tally.examples)})" if tally.examples else ""
