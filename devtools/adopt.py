"""Add this package to an existing Firebase app's folder (`make adopt INTO=../my-app`).

The package sits inside the app's folder (for example `my-app/partner-api/`, a copy or a
git subtree of this repository) and is deployed as its own functions codebase. Adopting
changes three files of the app, and starts the owner's folder of the package:

- `firebase.json`: one functions codebase for the package is added (or updated); every
  other entry and codebase stays as it was.
- the app's Firestore rules: the generated partner block goes between two marker
  comments; every other line stays byte for byte, and re-running replaces only the block.
  Owner rules that also reach a partner collection (rules combine with OR) are reported
  with their line and what they would let partners do; they are never edited.
- the app's Firestore indexes: the union of the app's and the package's, no duplicates.
- `owner/` in the package's folder: the owner's declaration (`owner/resources.toml`) and
  endpoints (`owner/endpoints.py`), which upgrades of the package never touch. A first
  adoption starts them with nothing declared (`--with-examples`: the demo `entries` and
  the example endpoint; `--declaration FILE`: that declaration); an upgrade from a version
  that served the package's own `resources.toml` starts them with what it served. Once
  there, they are the owner's: adoption reads them and never writes them again.

`--dry-run` prints the diff of every file it would change and changes nothing. Before
writing, a copy of each file it changes goes to `.partner-api-backup/` in the app's folder,
replacing the copies of the previous successful run. Bad input (no firebase.json, a file
that does not parse, a codebase clash, the package outside the app's folder) is refused in
one line and changes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools import generate
from devtools.prerequisites import ROOT
from functions.core import config
from functions.resources import declaration, rules
from functions.resources.declaration import Declaration, DeclarationError, Resource

LIVE = config.LIVE_DATABASE
SANDBOX = config.TEST_DATABASE

CODEBASE = "partner-api"
BACKUP_FOLDER = ".partner-api-backup"
FRAME = """rules_version = '2';

service cloud.firestore {
  match /databases/{database}/documents {
  }
}
"""


OWNER_DECLARATION = "resources.toml"
OWNER_ENDPOINTS = "endpoints.py"
EXAMPLE_RESOURCE = "entries"
"""The demo resource the example endpoint reads."""
STARTING_DECLARATION = """\
# What partners may reach in this app: one table per resource (README, "Declaring
# resources"). Nothing is declared yet, so the API serves only its own endpoints (events,
# webhook endpoints and deliveries, health, the contract and its page).
#
# To open a collection, let the package propose a block from what the collection holds
# (read only, at most 500 documents), paste it below, read its comments, then run
# `make adopt INTO=..` again (it writes the rules and indexes it needs into your app):
#
#   python -m functions.partners inspect --collection orders --propose
#   python -m functions.partners inspect --collection 'restaurants/*/orders' --propose
"""
STARTING_ENDPOINTS = '''\
"""This app's own partner endpoints (README, "Your own endpoints").

main.py deploys every Firebase function this module defines or imports: put each under
`https_fn.on_request(**PARTNER_FUNCTION)` and `partner_endpoint` (from
`functions.endpoints`), and the package's gate runs before it.
"""
'''
EXAMPLE_ENDPOINTS = STARTING_ENDPOINTS + (
    "\n# The package's example: totals of the caller's entries (it reads `entries`).\n"
    "from functions.examples.entries_summary import entriesSummary  # noqa: F401\n"
)


class Refused(Exception):
    """Adoption cannot go on; the message is the one line the owner reads."""


@dataclass(frozen=True)
class Change:
    path: Path
    before: str | None
    after: str

    def diff(self, app: Path) -> str:
        name = self.path.relative_to(app).as_posix()
        lines = difflib.unified_diff(
            (self.before or "").splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{name}" if self.before is not None else "/dev/null",
            tofile=f"b/{name}",
        )
        return "".join(lines)


@dataclass(frozen=True)
class Overlap:
    """An owner rule that also lets partners at one of their collections."""

    file: str
    line: int
    path: str
    operations: tuple[str, ...]
    condition: str
    collection: str

    def describe(self) -> str:
        verbs = ", ".join(self.operations)
        when = "always" if self.condition == "true" else f"if {self.condition}"
        return (
            f"{self.file}:{self.line}: `match {self.path}` allows {verbs} {when}: anyone it "
            f"lets in may {verbs} the partner collection `{self.collection}` of every tenant, "
            "past the partner rules (rules combine with OR)"
        )


# --- JSON files, edited in place ----------------------------------------------------------------
#
# The owner's JSON files are edited where they must change and nowhere else: a member is
# appended to an array, or one value is replaced, and every other byte stays as written
# (json.dumps of the whole file would reformat the owner's entries).

_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class _Member:
    key: str | None
    at: int  # where the member begins: its key in an object, its value in an array
    start: int  # its value
    end: int


@dataclass(frozen=True)
class _Container:
    start: int
    end: int  # just past the closing bracket
    members: tuple[_Member, ...]

    def get(self, key: str) -> _Member | None:
        return next((m for m in self.members if m.key == key), None)


def _skip(text: str, index: int) -> int:
    return index + len(text[index:]) - len(text[index:].lstrip())


def _container(text: str, start: int) -> _Container:
    """The object or array whose opening bracket is at `start`, with its members' spans."""
    closing = "}" if text[start] == "{" else "]"
    index = _skip(text, start + 1)
    members: list[_Member] = []
    while text[index] != closing:
        at, key = index, None
        if closing == "}":
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, _skip(text, index) + 1)  # past the colon
        _, end = _DECODER.raw_decode(text, index)
        members.append(_Member(key, at, index, end))
        index = _skip(text, end)
        if text[index] == ",":
            index = _skip(text, index + 1)
    return _Container(start, index + 1, tuple(members))


def _top(text: str) -> _Container:
    return _container(text, _skip(text, 0))


def _line_indent(text: str, position: int) -> str:
    """The indentation of the line `position` is on."""
    line = text[text.rfind("\n", 0, position) + 1 : position]
    return line[: len(line) - len(line.lstrip())]


def _dumped(value: Any, indent: str) -> str:
    return json.dumps(value, indent=2).replace("\n", "\n" + indent)


def _append(text: str, container: _Container, value: Any, key: str | None = None) -> str:
    """`text` with `value` (under `key` in an object) added as the container's last member,
    indented like the members before it."""
    head = f"{json.dumps(key)}: " if key is not None else ""
    if container.members:
        first, last = container.members[0], container.members[-1]
        on_own_line = not text[text.rfind("\n", 0, first.at) + 1 : first.at].strip()
        indent = _line_indent(text, first.at)
        separator = f",\n{indent}" if on_own_line else ", "
        added = f"{separator}{head}{_dumped(value, indent)}"
        return text[: last.end] + added + text[last.end :]
    outer = _line_indent(text, container.start)
    indent = outer + "  "
    inner = f"\n{indent}{head}{_dumped(value, indent)}\n{outer}"
    return text[: container.start + 1] + inner + text[container.end - 1 :]


def _replace(text: str, member: _Member, value: Any) -> str:
    indent = _line_indent(text, member.at)
    return text[: member.start] + _dumped(value, indent) + text[member.end :]


# --- firebase.json -----------------------------------------------------------------------------


def _codebase_entry(source: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    ours = json.loads((ROOT / "firebase.json").read_text())["functions"][0]
    return {**(existing or {}), **ours, "source": source, "codebase": CODEBASE}


def _check_codebases(entries: list[Any], source: str) -> int | None:
    """The index of our codebase's entry, if any.

    Raises:
        Refused: a codebase of another source has our name, or ours has another name.
    """
    if not all(isinstance(entry, dict) for entry in entries):
        raise Refused("firebase.json: `functions` must be an object or a list of objects")
    ours = None
    for index, entry in enumerate(entries):
        codebase, entry_source = entry.get("codebase", "default"), entry.get("source")
        if codebase == CODEBASE and entry_source != source:
            raise Refused(
                f"firebase.json: the codebase {CODEBASE!r} already deploys {entry_source!r}, "
                f"not {source!r}; rename one of them"
            )
        if entry_source == source and codebase != CODEBASE:
            raise Refused(
                f"firebase.json: {source!r} is already deployed as codebase {codebase!r}; "
                f"remove that entry or rename it to {CODEBASE!r}"
            )
        if codebase == CODEBASE:
            ours = index
    return ours


def adopted_firebase_json(text: str, source: str) -> str:
    """The app's firebase.json with this package's codebase added or updated and the
    Firestore rules and indexes named; nothing else of the file changes.

    Raises:
        Refused: the file is not a JSON object, or a codebase clashes with ours.
    """
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise Refused(f"firebase.json: not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise Refused("firebase.json: must be a JSON object")
    found = config.get("firestore")
    if isinstance(found, list) and not all(isinstance(e, dict) for e in found):
        raise Refused("firebase.json: firestore must list objects, one a database")
    if found is not None and not isinstance(found, (dict, list)):
        raise Refused("firebase.json: firestore must be an object or a list of objects")
    functions = config.get("functions", [])
    entries = [functions] if isinstance(functions, dict) else list(functions)
    ours = _check_codebases(entries, source)
    member = _top(text).get("functions")
    if member is None:
        text = _append(text, _top(text), [_codebase_entry(source, None)], key="functions")
    elif isinstance(functions, dict):  # one codebase: it becomes the first of a list
        indent = _line_indent(text, member.at) + "  "
        first = text[member.start : member.end] if ours is None else ""
        entry = _codebase_entry(source, functions if ours is not None else None)
        items = [item for item in (first, _dumped(entry, indent)) if item]
        listed = "[\n" + ",\n".join(indent + item for item in items)
        listed += "\n" + _line_indent(text, member.at) + "]"
        text = text[: member.start] + listed + text[member.end :]
    else:
        array = _container(text, member.start)
        if ours is None:
            text = _append(text, array, _codebase_entry(source, None))
        elif entries[ours] != _codebase_entry(source, entries[ours]):
            text = _replace(text, array.members[ours], _codebase_entry(source, entries[ours]))
    firestore = config.get("firestore")
    wanted = firestore_entries(firestore)
    if firestore is None:
        text = _append(text, _top(text), wanted, key="firestore")
    elif firestore != wanted:
        found = _top(text).get("firestore")
        if found is not None:
            text = _replace(text, found, wanted)
    return text


def firestore_entries(found: Any) -> list[dict[str, Any]]:
    """firebase.json's `firestore` for both databases: the live one as the app has it
    (its rules and indexes files, ours where it names none), the app's other databases as
    they are, and test mode's (`sandbox`) deployed with the live one's files."""
    entries = found if isinstance(found, list) else [found or {}]
    live = next(
        (e for e in entries if e.get("database", LIVE) == LIVE),
        {},
    )
    live = {
        "database": LIVE,
        "rules": "firestore.rules",
        "indexes": "firestore.indexes.json",
        **{k: v for k, v in live.items() if k != "database"},
    }
    others = [e for e in entries if e.get("database", LIVE) not in (LIVE, SANDBOX)]
    sandbox = {"database": SANDBOX, "rules": live["rules"], "indexes": live["indexes"]}
    return [live, *others, sandbox]


def live_files(config: dict[str, Any]) -> dict[str, Any]:
    """The live database's entry of an adopted firebase.json (rules and indexes files)."""
    return firestore_entries(config.get("firestore"))[0]


# --- the owner's rules: where they also reach partner collections ------------------------------

_TOKEN = re.compile(r"match\s+(\S+)\s*\{|allow\s+([a-z,\s]+?)\s*(?::\s*if\s+(.*?))?;|\{|\}", re.S)


def overlaps(source: str, file: str, decl: Declaration) -> list[Overlap]:
    """Owner `allow` statements (outside the partner block) whose match also covers a
    document of a declared collection, with a condition other than a literal false."""
    text = _without_block(source)
    found: list[Overlap] = []
    stack: list[str | None] = []  # the match path each open brace belongs to (None: other)
    for token in _TOKEN.finditer(_without_comments(text)):
        whole = token.group(0)
        if token.group(1) is not None:
            stack.append(token.group(1))
        elif whole == "{":
            stack.append(None)
        elif whole == "}":
            if stack:
                stack.pop()
        else:
            condition = " ".join((token.group(3) or "true").split())
            if condition == "false":
                continue
            path = "".join(part for part in stack if part is not None)
            for resource in decl.resources:
                if _covers(path, resource):
                    line = text.count("\n", 0, token.start()) + 1
                    ops = tuple(op.strip() for op in token.group(2).split(",") if op.strip())
                    found.append(
                        Overlap(file, line, _owner_path(path), ops, condition, resource.collection)
                    )
    return found


def _owner_path(path: str) -> str:
    return path.removeprefix("/databases/{database}/documents") or "/"


def _covers(path: str, resource: Resource) -> bool:
    """Whether a full match path reaches `/<collection>/<id>` of the default database."""
    segments = [s for s in path.split("/") if s]
    target = ["databases", "(default)", "documents", resource.collection, "any-id"]
    return _match(segments, target)


def _match(pattern: list[str], target: list[str]) -> bool:
    if not pattern:
        return not target
    head = pattern[0]
    if head.startswith("{") and head.endswith("=**}"):
        return any(_match(pattern[1:], target[i:]) for i in range(len(target) + 1))
    if not target:
        return False
    if head.startswith("{") and head.endswith("}"):
        return _match(pattern[1:], target[1:])
    return head == target[0] and _match(pattern[1:], target[1:])


def _without_comments(text: str) -> str:
    """Comments blanked out, line numbers kept."""
    return re.sub(r"//[^\n]*", lambda m: " " * len(m.group(0)), text)


def _without_block(text: str) -> str:
    """The partner block blanked out (line numbers kept): it is ours, not the owner's."""
    lines = text.split("\n")
    inside = False
    for index, line in enumerate(lines):
        if line.strip().startswith(rules.BEGIN_PREFIX):
            inside = True
        if inside:
            lines[index] = ""
        if line.strip() == rules.END:
            inside = False
    return "\n".join(lines)


def _check_rules(text: str, file: str) -> None:
    """Raises: Refused when the rules are not a Firestore rules file we can read."""
    code = _without_comments(text)
    if "service cloud.firestore" not in code:
        raise Refused(f"{file}: not a Firestore rules file (no `service cloud.firestore`)")
    if code.count("{") != code.count("}"):
        raise Refused(f"{file}: unbalanced braces; fix the rules before adopting")


# --- the plan and its execution -------------------------------------------------------------


def adopted_indexes(text: str | None, decl: Declaration, file: str) -> str:
    """The app's indexes file with every index and field override the package needs that
    it lacks appended; nothing of the app's is removed, reordered or reformatted.

    Raises:
        Refused: the file is not a JSON object.
    """
    ours = json.loads(generate.indexes_file(decl))
    if text is None or not text.strip():
        return json.dumps(ours, indent=2) + "\n"
    try:
        owner = json.loads(text)
    except ValueError as exc:
        raise Refused(f"{file}: not valid JSON ({exc})") from exc
    if not isinstance(owner, dict):
        raise Refused(f"{file}: must be a JSON object")
    for key in ("indexes", "fieldOverrides"):
        missing = [item for item in ours[key] if item not in owner.get(key, [])]
        if not missing:
            continue
        member = _top(text).get(key)
        if member is None:
            text = _append(text, _top(text), missing, key=key)
            continue
        for item in missing:
            text = _append(text, _container(text, member.start), item)
            member = _top(text).get(key) or member
    return text


def _adopted_before(app: Path) -> bool:
    """Whether the app's firebase.json deploys our codebase already: an upgrade."""
    try:
        found = json.loads((app / "firebase.json").read_text()).get("functions", [])
    except (OSError, ValueError, AttributeError):
        return False  # `plan` refuses such a file in its own words
    entries = [found] if isinstance(found, dict) else found
    return isinstance(entries, list) and any(
        isinstance(entry, dict) and entry.get("codebase") == CODEBASE for entry in entries
    )


def _parsed(text: str, name: str) -> Declaration:
    try:
        return declaration.parse(tomllib.loads(text), source=name)
    except tomllib.TOMLDecodeError as exc:
        raise Refused(f"{name}: not valid TOML ({exc})") from exc
    except DeclarationError as exc:
        raise Refused(exc.message) from exc


def owner_folder(
    app: Path, package: Path, *, examples: bool = False, start: Path | None = None
) -> tuple[list[Change], Declaration]:
    """The owner's files to start (none once they exist) and the declaration to adopt.

    A first adoption starts with nothing declared, or the demo with `examples`, or the
    file `start`; an upgrade of an app adopted before the owner's folder existed starts
    with the package's own `resources.toml`, which that version served, and keeps the
    example endpoint it deployed while `entries` stays declared.

    Raises:
        Refused: a start asked for where the owner's declaration exists, or a declaration
            that does not parse.
    """
    folder = package / config.OWNER_FOLDER.name
    declared, endpoints = folder / OWNER_DECLARATION, folder / OWNER_ENDPOINTS
    name = f"{folder.name}/{OWNER_DECLARATION}"
    if declared.is_file():
        if examples or start is not None:
            raise Refused(
                f"{name} exists: it is your declaration now; edit it rather than start it again"
            )
        return [], _parsed(declared.read_text(), name)
    upgrade = _adopted_before(app)
    if start is not None:
        try:
            text = start.read_text()
        except OSError as exc:
            raise Refused(f"{start}: cannot be read ({exc.strerror})") from exc
    elif upgrade or examples:
        served = package / declaration.DEFAULT_PATH.name
        text = (served if served.is_file() else declaration.DEFAULT_PATH).read_text()
    else:
        text = STARTING_DECLARATION
    decl = _parsed(text, name)
    example = examples or (upgrade and decl.get(EXAMPLE_RESOURCE) is not None)
    changes = [Change(declared, None, text)]
    if not endpoints.is_file():
        changes.append(
            Change(endpoints, None, EXAMPLE_ENDPOINTS if example else STARTING_ENDPOINTS)
        )
    return changes, decl


def plan(app: Path, package: Path, decl: Declaration) -> tuple[list[Change], list[Overlap]]:
    """Every file change adoption makes, and the owner rules that overlap ours.

    Raises:
        Refused: the folder or one of its files cannot be adopted as it is.
    """
    if not app.is_dir():
        raise Refused(f"{app}: no such folder")
    config_path = app / "firebase.json"
    if not config_path.is_file():
        raise Refused(f"{app}: not a Firebase project (no firebase.json); run `firebase init`")
    try:
        source = package.resolve().relative_to(app.resolve()).as_posix()
    except ValueError:
        raise Refused(
            f"the package must sit inside {app} (for example {app}/partner-api); "
            "copy it there and run again from that copy"
        ) from None
    if source == ".":
        raise Refused("the package cannot be the app's own folder; put it in a subfolder")
    config_before = config_path.read_text()
    config_after = adopted_firebase_json(config_before, source)
    firestore = live_files(json.loads(config_after))
    rules_path = _inside(app, firestore["rules"], "firestore.rules")
    indexes_path = _inside(app, firestore["indexes"], "firestore.indexes")
    rules_before = rules_path.read_text() if rules_path.is_file() else None
    current_rules = rules_before if rules_before is not None else FRAME
    _check_rules(current_rules, firestore["rules"])
    try:
        rules_after = rules.place(current_rules, rules.block(decl))
    except rules.RulesFileError as exc:
        raise Refused(f"{firestore['rules']}: {exc}") from exc
    indexes_before = indexes_path.read_text() if indexes_path.is_file() else None
    indexes_after = adopted_indexes(indexes_before, decl, firestore["indexes"])
    changes = [
        Change(config_path, config_before, config_after),
        Change(rules_path, rules_before, rules_after),
        Change(indexes_path, indexes_before, indexes_after),
    ]
    changed = [change for change in changes if change.before != change.after]
    return changed, overlaps(rules_after, firestore["rules"], decl)


def _inside(app: Path, named: Any, key: str) -> Path:
    """The app's file that firebase.json names, refused unless it resolves inside the app
    (symbolic links followed): adoption writes only the app's own files.

    Raises:
        Refused: a name that is not a relative path inside the app.
    """
    if not isinstance(named, str) or not named.strip():
        raise Refused(f"firebase.json: {key} must name a file")
    path = app / named
    try:
        path.resolve().relative_to(app.resolve())
    except ValueError:
        raise Refused(
            f"firebase.json: {key} is {named!r}, outside the app's folder; adoption writes "
            "only files inside it: move the file into the app and name it relatively"
        ) from None
    return path


BACKUP_IGNORE = "# Copies make adopt keeps of the files it changed; not part of the app.\n*\n"


def apply(app: Path, changes: list[Change]) -> None:
    """Back up what changes (replacing the previous run's backups), then write; new files
    (the owner's folder) have nothing to back up and leave the backups as they were."""
    backup = app / BACKUP_FOLDER
    if any(change.before is not None for change in changes):
        shutil.rmtree(backup, ignore_errors=True)
        backup.mkdir()
        (backup / ".gitignore").write_text(BACKUP_IGNORE)
    for change in changes:
        if change.before is not None:
            target = backup / change.path.relative_to(app)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.before)
    for change in changes:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        change.path.write_text(change.after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make adopt INTO=<app folder>",
        description="Add the partner API to an existing Firebase app's folder.",
    )
    parser.add_argument("--into", type=Path, required=True, help="the app's folder")
    parser.add_argument("--dry-run", action="store_true", help="print the diff, change nothing")
    parser.add_argument(
        "--with-examples",
        action="store_true",
        help="start owner/ with the demo `entries` and the example endpoint",
    )
    parser.add_argument(
        "--declaration",
        type=Path,
        default=None,
        help="start owner/resources.toml as a copy of this file (an `inspect --propose` "
        "block, say)",
    )
    args = parser.parse_args(argv)
    app = args.into.resolve()  # the owner's folder is named from the package, absolutely
    try:
        owned, decl = owner_folder(app, ROOT, examples=args.with_examples, start=args.declaration)
        changes, found = plan(app, ROOT, decl)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    changes = owned + changes
    if args.dry_run:
        for change in changes:
            print(change.diff(app), end="")
    else:
        apply(app, changes)
    for change in changes:
        verb = "would change" if args.dry_run else "changed"
        print(f"{verb}: {change.path.relative_to(app).as_posix()}", file=sys.stderr)
    if not changes:
        print("nothing to change: the app already has this version", file=sys.stderr)
    for overlap in found:
        print(f"warning: {overlap.describe()}", file=sys.stderr)
    for line in existing_data(decl):
        print(line, file=sys.stderr)
    return 0


def existing_data(decl: Declaration) -> list[str]:
    """What to check before partners reach collections the app may already fill: on the
    Firestore emulator, how many documents each holds; elsewhere, the command to run."""
    if not decl.resources:
        return []
    if config.firestore_emulator_host() is None:
        names = ", ".join(resource.name for resource in decl.resources)
        return [
            f"note: if your app already keeps documents in the collections of {names}, run "
            "`python -m functions.partners inspect RESOURCE` (with the project's "
            "credentials) before you deploy: it shows what partners would see of them"
        ]
    from functions.core.errors import ApiError  # noqa: PLC0415
    from functions.store import records  # noqa: PLC0415
    from functions.store.client import client  # noqa: PLC0415

    lines = []
    for resource in decl.resources:
        try:
            held = records.count(resource, client())
        except (ApiError, OSError) as exc:  # no project, or the emulator does not answer
            lines.append(f"note: {resource.name}: could not count its documents ({exc})")
            continue
        if held:
            lines.append(
                f"warning: {resource.name}: collection {resource.collection} already holds "
                f"{held} documents on the emulator (project {config.project_id()}): run "
                f"`python -m functions.partners inspect {resource.name}` to see what partners "
                "would see of them"
            )
    return lines


if __name__ == "__main__":
    sys.exit(main())
