"""The dependency locks: what the deploy installs is complete, hashed, and what the
sources declare; development runs the very versions that deploy.

`make lock` writes requirements.txt from requirements.in and requirements-dev.txt from
requirements-dev.in; these tests fail when a lock and its source drift apart.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import ROOT

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a compiled lock, by canonical name."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared(path: Path) -> list[Requirement]:
    """The requirements a source file declares (includes and comments skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


DEPLOY = pins(ROOT / "requirements.txt")
DEV = pins(ROOT / "requirements-dev.txt")


def closure(roots: list[Requirement]) -> set[str]:
    """Every distribution the roots need, read from the installed packages' metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in roots]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras or {""}]
            marker = requirement.marker
            if marker is None or any(marker.evaluate(env) for env in environments):
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return {name for name, _ in seen}


@pytest.mark.parametrize("source", ["requirements.in", "requirements-dev.in"])
def test_every_declared_requirement_is_locked_as_declared(source: str) -> None:
    lock = DEPLOY if source == "requirements.in" else DEV
    for requirement in declared(ROOT / source):
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is declared in {source} but not locked: run `make lock`"
        assert requirement.specifier.contains(lock[name]), (
            f"{name} {requirement.specifier} in {source}, {lock[name]} in the lock: `make lock`"
        )


def test_the_deploy_lock_holds_everything_the_functions_need() -> None:
    needed = closure(declared(ROOT / "requirements.in"))
    assert needed - set(DEPLOY) == set(), "run `make lock`"
    assert len(DEPLOY) >= len(declared(ROOT / "requirements.in"))


def test_every_locked_package_carries_a_hash() -> None:
    for path in (ROOT / "requirements.txt", ROOT / "requirements-dev.txt"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
        for block in blocks:
            if _PIN.match(block):
                assert "--hash=sha256:" in block, f"{block.split()[0]} has no hash in {path.name}"


def test_development_runs_the_versions_that_deploy() -> None:
    for name, version in DEPLOY.items():
        assert DEV.get(name) == version, f"{name}: {version} deployed, {DEV.get(name)} in dev"


def test_the_environment_is_installed_from_the_dev_lock() -> None:
    for name, version in DEV.items():
        assert importlib.metadata.version(name) == version, f"{name}: run `make` to reinstall"
