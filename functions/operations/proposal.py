"""Look before you declare: a `resources.toml` block proposed from a sample of a collection
the owner's app already fills. The logic behind `inspect --collection PATH --propose`.

Each field's kind is inferred from the Firestore types its values have (counted, and named
where they disagree), where the tenant lives is guessed (the path, a reference, a string
field) and the server's bookkeeping fields are found by their usual names. What it could
not decide is said in comments beside the block; the block itself is a declaration that
loads as it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.core.models import DATE_PATTERN, as_document_path, is_calendar_date
from functions.operations.inspection import stored_type
from functions.resources.declaration import (
    MAX_LIST_ITEMS,
    MAX_NESTING,
    MAX_TEXT_LENGTH,
    RULES_UNROLLED_ITEMS,
    is_field_name,
)

SAMPLE = 500
"""Documents read for a proposal, at most (read only)."""

TENANT_HINTS = (
    "tenant", "partner", "restaurant", "company", "org", "account", "owner", "shop",
    "store", "team", "business", "merchant", "venue", "club", "school", "clinic",
)  # fmt: skip
"""Words in a field's name that suggest it names the tenant."""

BOOKKEEPING_NAMES = {
    "created_at": ("created_time", "createdAt", "created_at", "createdTime", "created"),
    "updated_at": ("updated_time", "updatedAt", "updated_at", "updatedTime", "modified_at"),
    "created_by": ("created_by", "createdBy"),
    "version": ("version",),
}
"""Where apps usually keep what the server keeps, by the kind of value each holds."""
_BOOKKEEPING_TYPES = {
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "created_by": "string",
    "version": "integer",
}


@dataclass
class Proposal:
    """A proposed declaration of one collection, with what it could not decide."""

    collection: str
    resource: str
    sampled: int
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    types: dict[str, dict[str, int]] = field(default_factory=dict)

    def render(self) -> str:
        """The block, led by what it saw and could not decide, as TOML comments."""
        head = [
            f"# Proposed from {self.sampled} documents of {self.collection} (read only).",
            *(f"# {note}" for note in self.notes),
        ]
        return "\n".join([*head, *self.lines]) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "resource": self.resource,
            "sampled": self.sampled,
            "types": self.types,
            "notes": self.notes,
            "toml": "\n".join(self.lines) + "\n",
        }


def propose(collection: str, documents: Sequence[tuple[str, Mapping[str, Any]]]) -> Proposal:
    """A declaration of `collection` (`restaurants/*/orders` for a subcollection of each
    tenant's document) from `documents`: (path, data) as the store read them."""
    segments = collection.strip("/").split("/")
    name = re.sub(r"[^a-z0-9-]", "-", segments[-1].lower().replace("_", "-")).strip("-")
    name = name if re.fullmatch(r"[a-z][a-z0-9-]{0,62}", name) else "records"
    found = Proposal(collection, name, len(documents))
    data = [dict(document) for _, document in documents]
    names = list(dict.fromkeys(key for document in data for key in document))
    for key in names:
        found.types[key] = dict(Counter(stored_type(d[key]) for d in data if key in d))
    snake = sum("_" in key for key in names) > sum(key != key.lower() for key in names)
    tenant, tenancy = _tenancy(segments, data, names, snake, found.notes)
    book = _bookkeeping(data, names, found.notes)
    found.lines += [f"[{name}]", *tenancy]
    found.lines.append('operations = ["list", "get", "create", "update"]')
    found.notes.append('add "delete" to operations to let partners delete records')
    if not data:
        found.notes.append("the collection held no documents: nothing to infer fields from")
    found.lines += ["", f"[{name}.bookkeeping]"]
    found.lines += [f"{key} = {_toml(value)}" for key, value in book.items()]
    taken = {tenant, *(v for v in book.values() if isinstance(v, str))}
    for key in names:
        if key in taken:
            continue
        if not is_field_name(key):
            found.notes.append(f"left out {key!r}: the rules language cannot address that name")
            continue
        values = [d[key] for d in data if key in d]
        spec = _spec(values, found.notes, key, depth=0)
        if spec is None:
            continue
        if len(values) == len(data) and all(v is not None for v in values):
            spec["required"] = True
        found.lines += ["", f"[{name}.fields.{key}]", *_table(spec)]
    return found


def _tenancy(
    segments: list[str], data: list[dict[str, Any]], names: list[str], snake: bool, notes: list[str]
) -> tuple[str | None, list[str]]:
    """The tenant field and the lines that say where the tenant lives."""
    if len(segments) == 3 and segments[1] in ("*", "{tenant}"):
        parent = segments[0]
        field_name = _singular(parent) + ("_id" if snake else "Id")
        notes.append(f"the tenant is the path: each {_singular(parent)}'s {segments[2]}")
        return None, [
            f'collection = "{parent}/{{tenant}}/{segments[2]}"',
            f'tenant_field = "{field_name}"  # the path\'s tenant, as partners read it',
        ]
    lines = [f'collection = "{"/".join(segments)}"'] if len(segments) == 1 else []
    everywhere = [key for key in names if all(key in d and d[key] is not None for d in data)]
    hinted = [key for key in everywhere if any(h in key.lower() for h in TENANT_HINTS)]
    references = [key for key in everywhere if _all_of(data, key, "reference")]
    strings = [key for key in everywhere if _all_of(data, key, "string")]
    for candidates, kind in ((hinted, "reference"), (references, "reference"), (hinted, "string")):
        for key in candidates:
            if kind == "reference" and key in references:
                targets = Counter(as_document_path(d[key]).collection for d in data)  # type: ignore[union-attr]
                (target, _), *others = targets.most_common()
                if "/" in target or others:
                    continue
                notes.append(f"the tenant is a reference: {key} -> {target}/<tenant id>")
                return key, [*lines, f'tenant_field = "{key}"', f'tenant_reference = "{target}"']
            if kind == "string" and key in strings:
                notes.append(f"the tenant is a string field: {key} (check it is your tenant's id)")
                return key, [*lines, f'tenant_field = "{key}"']
    notes.append(
        "could not tell where the tenant lives: no field in every document names it; set "
        "tenant_field (or tenant_reference, or declare the collection as a subcollection)"
    )
    return None, lines


def _all_of(data: list[dict[str, Any]], key: str, kind: str) -> bool:
    return all(stored_type(d[key]) == kind for d in data)


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _bookkeeping(data: list[dict[str, Any]], names: list[str], notes: list[str]) -> dict[str, Any]:
    """Each bookkeeping key: the field the app keeps it in, or false."""
    book: dict[str, Any] = {}
    for key, candidates in BOOKKEEPING_NAMES.items():
        wanted = _BOOKKEEPING_TYPES[key]
        found = next(
            (
                name
                for name in candidates
                if name in names and _all_of([d for d in data if name in d], name, wanted)
            ),
            None,
        )
        book[key] = found or False
    if book["created_at"] is False:
        notes.append("no creation time found: lists are ordered by document id")
    return book


def _spec(values: list[Any], notes: list[str], where: str, *, depth: int) -> dict[str, Any] | None:
    """A field spec for `values` (None: no kind holds them; a note says why)."""
    types = Counter(stored_type(v) for v in values if v is not None)
    if not types:
        notes.append(f"left out {where}: only nulls seen")
        return None
    if set(types) <= {"integer", "double"} and len(types) == 2:
        types = Counter({"double": sum(types.values())})
    (main, _), *others = types.most_common()
    if others:
        seen = ", ".join(f"{kind} {n}" for kind, n in types.most_common())
        notes.append(f"{where}: types disagree ({seen}); proposed {main}, the others are skipped")
    values = [v for v in values if v is not None and stored_type(v) == main]
    return _spec_of(main, values, notes, where, depth=depth)


def _spec_of(
    main: str, values: list[Any], notes: list[str], where: str, *, depth: int
) -> dict[str, Any] | None:
    simple = {"integer": "integer", "double": "number", "boolean": "boolean"}
    simple |= {"timestamp": "datetime", "geopoint": "geopoint"}
    if main in simple:
        return {"kind": simple[main]}
    if main == "string":
        return _text(values)
    if main == "reference":
        targets = Counter(as_document_path(v).collection for v in values)  # type: ignore[union-attr]
        (target, _), *others = targets.most_common()
        if "/" in target:
            notes.append(f"left out {where}: references into subcollections ({target})")
            return None
        if others:
            notes.append(f"{where}: references into several collections; proposed {target}")
        return {"kind": "reference", "to": target}
    if main in ("array", "map"):
        return _container(main, values, notes, where, depth=depth)
    notes.append(f"left out {where}: no field kind holds a {main}")
    return None


def _text(values: list[str]) -> dict[str, Any]:
    """A date where every value is one, else a text with room for the longest seen."""
    if all(re.fullmatch(DATE_PATTERN, v) and is_calendar_date(v) for v in values):
        return {"kind": "date"}
    longest = max(len(v.encode("utf-16-le", "surrogatepass")) // 2 for v in values)
    spec: dict[str, Any] = {"kind": "text", "max_length": _room(longest, MAX_TEXT_LENGTH)}
    if longest > MAX_TEXT_LENGTH:
        spec["description"] = (
            f"Texts of up to {longest} characters were seen; a text holds at most "
            f"{MAX_TEXT_LENGTH}: longer ones are skipped."
        )
    if any("\n" in v for v in values):
        spec["multiline"] = True
    return spec


def _container(
    main: str, values: list[Any], notes: list[str], where: str, *, depth: int
) -> dict[str, Any] | None:
    if depth >= MAX_NESTING:
        notes.append(f"left out {where}: lists and maps nest at most {MAX_NESTING} deep")
        return None
    if main == "array":
        items = [item for value in values for item in value]
        if not items:
            notes.append(f"left out {where}: only empty lists seen")
            return None
        item = _spec(items, notes, f"{where}[]", depth=depth + 1)
        if item is None or item["kind"] == "list":
            notes.append(f"left out {where}: its items have no kind a list holds")
            return None
        longest = max(len(value) for value in values)
        most = max(RULES_UNROLLED_ITEMS, min(MAX_LIST_ITEMS, 2 * longest))
        item.pop("required", None)
        return {"kind": "list", "max_items": most, "of": item}
    keys = list(dict.fromkeys(key for value in values for key in value))
    fields: dict[str, dict[str, Any]] = {}
    for key in keys:
        if not is_field_name(key):
            notes.append(f"left out {where}.{key}: the rules language cannot address that name")
            continue
        inner = [value[key] for value in values if key in value]
        spec = _spec(inner, notes, f"{where}.{key}", depth=depth + 1)
        if spec is not None:
            if len(inner) == len(values) and all(v is not None for v in inner):
                spec["required"] = True
            fields[key] = spec
    if not fields:
        notes.append(f"left out {where}: no field of its maps has a kind")
        return None
    return {"kind": "map", "fields": fields}


def _room(longest: int, limit: int) -> int:
    """A length bound with room to grow: twice the longest seen, in steps of 16."""
    return min(limit, max(16, -(-2 * longest // 16) * 16))


def _table(spec: Mapping[str, Any]) -> list[str]:
    """A field spec as the lines of its TOML table (nested ones inline)."""
    return [f"{key} = {_toml(value)}" for key, value in spec.items()]


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(type(value).__name__)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)
