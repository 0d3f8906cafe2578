"""What in a new OpenAPI document breaks partners written against an older one.

A partner's code sends requests and reads responses, so the two sides break differently.
A request breaks when the server stops taking what it took: a path, an operation or a
parameter removed, a parameter or body field that becomes required, a value narrowed (a
type dropped, an enum value removed, a bound tightened, a pattern or format changed, a
body field removed where unknown fields are refused). A response breaks when it stops
giving what it gave: a field removed or no longer always there, a type that changes, an
enum value added (a partner's switch has no branch for it), a success status removed.
Anything else a schema does differently on either side, which this check cannot prove
compatible, is reported too: a false alarm costs a look, a missed break costs partners.

Written here rather than taken from a package: the well-kept OpenAPI diff tools either
read OpenAPI 3.0 only (npm `openapi-diff`; the contract is 3.1) or install a Go binary
from GitHub at install time (oasdiff, openapi-changes), which a machine limited to PyPI
and npm cannot fetch.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
EXACT = ("pattern", "format", "const", "multipleOf")
IGNORED = frozenset(
    {"description", "title", "examples", "example", "default", "deprecated", "readOnly",
     "writeOnly", "$comment", "formatMinimum", "formatMaximum"}
)  # fmt: skip
"""Words that document a schema without changing what it accepts or gives."""
HANDLED = frozenset(
    {"type", "enum", "properties", "required", "additionalProperties", "items", "anyOf",
     "oneOf", "$ref", *LOWER_BOUNDS, *UPPER_BOUNDS, *EXACT}
)  # fmt: skip


class Diff:
    """The breaking changes found, each one line naming where."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.found: list[str] = []

    def resolve(self, doc: dict[str, Any], schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            node: Any = doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema, seen = node, seen + 1
        return schema

    def say(self, where: str, what: str) -> None:
        self.found.append(f"{where}: {what}")

    # --- schemas --------------------------------------------------------------------------

    def schema(self, where: str, old: Any, new: Any, side: str, depth: int = 0) -> None:
        """`side`: "request" (what partners send) or "response" (what they read)."""
        old, new = self.resolve(self.old, old), self.resolve(self.new, new)
        if depth > 12 or old == new or not isinstance(old, dict) or not isinstance(new, dict):
            return
        if set(old) - IGNORED - HANDLED or set(new) - IGNORED - HANDLED:
            unknown = sorted((set(old) | set(new)) - IGNORED - HANDLED)
            if any(old.get(k) != new.get(k) for k in unknown):
                self.say(where, f"changed {', '.join(unknown)}, which this check cannot judge")
        if self._variants(where, old, new, side, depth):
            return
        self._types(where, old, new, side)
        self._enum(where, old, new, side)
        self._bounds(where, old, new, side)
        self._object(where, old, new, side, depth)
        if "items" in old or "items" in new:
            self.schema(f"{where}[]", old.get("items", {}), new.get("items", {}), side, depth + 1)

    def _variants(self, where: str, old: dict[str, Any], new: dict[str, Any], side: str,
                  depth: int) -> bool:  # fmt: skip
        key_old = "anyOf" if "anyOf" in old else "oneOf" if "oneOf" in old else None
        key_new = "anyOf" if "anyOf" in new else "oneOf" if "oneOf" in new else None
        if key_old is None and key_new is None:
            return False
        a, b = old.get(key_old or "", [old]), new.get(key_new or "", [new])
        if len(a) == len(b):
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                self.schema(f"{where}<{index}>", x, y, side, depth + 1)
        elif (side == "request" and len(b) < len(a)) or (side == "response" and len(b) > len(a)):
            self.say(where, f"its {len(a)} alternative shapes became {len(b)}")
        return True

    @staticmethod
    def _type_set(schema: dict[str, Any]) -> set[str]:
        kind = schema.get("type")
        return set(kind) if isinstance(kind, list) else {kind} if kind else set()

    def _types(self, where: str, old: dict[str, Any], new: dict[str, Any], side: str) -> None:
        before, after = self._type_set(old), self._type_set(new)
        if before == after or (not before and side == "response"):
            return
        if side == "request":
            lost = before - after if after else set()
            if "number" in after:
                lost.discard("integer")
            if lost:
                self.say(where, f"no longer takes {', '.join(sorted(lost))}")
        else:
            gained = after - before if before else after
            if "number" in before:
                gained.discard("integer")
            if gained:
                self.say(where, f"may now be {', '.join(sorted(gained))}")

    def _enum(self, where: str, old: dict[str, Any], new: dict[str, Any], side: str) -> None:
        before, after = old.get("enum"), new.get("enum")
        if before == after:
            return
        if side == "request":
            if after is not None:
                lost = [v for v in (before or []) if v not in after]
                if before is None or lost:
                    self.say(where, f"no longer takes {lost or 'every value'}")
        elif after is None or before is not None:
            gained = [v for v in (after or []) if v not in (before or [])]
            if after is None or gained:
                self.say(where, f"may now be {gained or 'any value'}")

    def _bounds(self, where: str, old: dict[str, Any], new: dict[str, Any], side: str) -> None:
        for key in (*LOWER_BOUNDS, *UPPER_BOUNDS):
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            tighter = (
                b is not None
                and (a is None or (b > a if key in LOWER_BOUNDS else b < a))
            )  # fmt: skip
            looser = a is not None and (b is None or (b < a if key in LOWER_BOUNDS else b > a))
            if (side == "request" and tighter) or (side == "response" and looser):
                self.say(where, f"{key} {a} became {b}")
        for key in EXACT:
            if old.get(key) != new.get(key) and (side == "request" or new.get(key) is None):
                self.say(where, f"{key} {old.get(key)!r} became {new.get(key)!r}")

    def _object(self, where: str, old: dict[str, Any], new: dict[str, Any], side: str,
                depth: int) -> None:  # fmt: skip
        props_old, props_new = old.get("properties") or {}, new.get("properties") or {}
        req_old, req_new = set(old.get("required") or []), set(new.get("required") or [])
        closed = new.get("additionalProperties") is False
        for name in sorted(set(props_old) | set(props_new)):
            here = f"{where}.{name}"
            if name not in props_new:
                if side == "response" or closed:
                    self.say(here, "removed")
                continue
            if name not in props_old:
                if side == "request" and name in req_new:
                    self.say(here, "added as required")
                continue
            if side == "request" and name in req_new - req_old:
                self.say(here, "became required")
            if side == "response" and name in req_old - req_new:
                self.say(here, "no longer always given")
            self.schema(here, props_old[name], props_new[name], side, depth + 1)
        if side == "request" and old.get("additionalProperties") is not False and closed:
            self.say(where, "now refuses fields it does not name")

    # --- operations -----------------------------------------------------------------------

    def document(self) -> list[str]:
        paths_old, paths_new = self.old.get("paths") or {}, self.new.get("paths") or {}
        for path, item in sorted(paths_old.items()):
            if path not in paths_new:
                self.say(path, "removed")
                continue
            for method in METHODS:
                if method in item:
                    where = f"{method.upper()} {path}"
                    if method not in paths_new[path]:
                        self.say(where, "removed")
                    else:
                        self.operation(where, item[method], paths_new[path][method])
        return self.found

    def operation(self, where: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        params_old = {
            (p["in"], p["name"]): p for p in map(self._old_param, old.get("parameters", []))
        }
        params_new = {
            (p["in"], p["name"]): p for p in map(self._new_param, new.get("parameters", []))
        }
        for key in sorted(set(params_old) | set(params_new)):
            here = f"{where} {key[0]} parameter {key[1]}"
            if key not in params_new:
                self.say(here, "removed")
            elif key not in params_old:
                if params_new[key].get("required"):
                    self.say(here, "added as required")
            else:
                if params_new[key].get("required") and not params_old[key].get("required"):
                    self.say(here, "became required")
                self.schema(here, params_old[key].get("schema", {}),
                            params_new[key].get("schema", {}), "request")  # fmt: skip
        body_old = self._body(self.old, old.get("requestBody"))
        body_new = self._body(self.new, new.get("requestBody"))
        if body_old is not None or body_new is not None:
            self.schema(f"{where} body", body_old or {}, body_new or {}, "request")
        for status, response in sorted((old.get("responses") or {}).items()):
            if not status.startswith("2"):
                continue
            if status not in (new.get("responses") or {}):
                self.say(f"{where} {status}", "removed")
                continue
            a = self._body(self.old, response)
            b = self._body(self.new, new["responses"][status])
            if a is not None:
                self.schema(f"{where} {status}", a, b or {}, "response")

    def _old_param(self, param: Any) -> dict[str, Any]:
        return dict(self.resolve(self.old, param))

    def _new_param(self, param: Any) -> dict[str, Any]:
        return dict(self.resolve(self.new, param))

    def _body(self, doc: dict[str, Any], holder: Any) -> Any:
        holder = self.resolve(doc, holder)
        if not isinstance(holder, dict):
            return None
        content = holder.get("content") or {}
        media = content.get("application/json") or next(iter(content.values()), None)
        return None if media is None else media.get("schema")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Each change of `new` that breaks a partner written against `old`, one line each."""
    return Diff(old, new).document()


def semver(value: str) -> tuple[int, int, int]:
    """Raises: ValueError for anything but MAJOR.MINOR.PATCH."""
    parts = value.split(".")
    if len(parts) != 3 or not all(p.isdigit() and (p == "0" or p[0] != "0") for p in parts):
        raise ValueError(f"{value!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(parts[0]), int(parts[1]), int(parts[2])
