"""The package maps say what the tree holds: README's layout names every folder and root
module of `functions/`, and each folder's `__init__` docstring names each of its modules
and subfolders, and nothing that is not there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "functions"
ASSETS = {"vendor", "static", "templates", "__pycache__"}


def _members(folder: Path) -> set[str]:
    """The modules (`name`) and subpackages (`name/`) of a folder."""
    found = set()
    for path in folder.iterdir():
        if path.name in ASSETS or path.name == "__init__.py":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            found.add(f"{path.name}/")
        elif path.suffix == ".py":
            found.add(path.stem)
    return found


def _folders() -> list[Path]:
    return sorted(p.parent for p in PACKAGE.rglob("__init__.py") if "vendor" not in p.parts)


def _named(text: str) -> set[str]:
    """Names in backticks: `records`, `webhooks/`, `python -m ...` (the last is no name)."""
    return {name for name in re.findall(r"`([^`]+)`", text) if re.fullmatch(r"\w+/?", name)}


def test_the_packages_root_holds_entry_points_only() -> None:
    assert {m for m in _members(PACKAGE) if not m.endswith("/")} == {"endpoints", "partners"}


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_folders_docstring_names_what_it_holds(folder: Path) -> None:
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    named = _named(docstring)
    members = _members(folder)
    missing = {m for m in members if m not in named and m.rstrip("/") not in named}
    assert missing == set(), f"{folder.name}/__init__.py does not name {sorted(missing)}"
    folders_named = {n for n in named if n.endswith("/")}
    assert folders_named <= members, f"names folders that are not there: {folders_named - members}"


def test_readmes_layout_names_every_folder_and_root_module_of_the_package() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    entries = set(re.findall(r"^  (\w+/|\w+\.py)\s", block, flags=re.MULTILINE))
    expected = {m if m.endswith("/") else f"{m}.py" for m in _members(PACKAGE)}
    assert entries == expected


def test_a_module_the_map_leaves_out_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""`known` only."""\n')
    (folder / "known.py").write_text("")
    (folder / "stray.py").write_text("")
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    assert _members(folder) - _named(docstring) == {"stray"}


def test_what_the_package_reads_beside_itself_is_found_from_its_folders() -> None:
    """Modules that moved into folders still find main.py, resources.toml and their
    assets: a wrong count of `parent`s finds nothing, silently."""
    from functions.contract import catalog
    from functions.edge.console import app
    from functions.edge.http import docs
    from functions.resources import declaration

    assert catalog.ENTRY_SOURCE == ROOT / "main.py"
    assert declaration.DEFAULT_PATH == ROOT / "resources.toml"
    assert (docs.VENDOR / "swagger-ui-bundle.js").is_file()
    assert (app.HERE / "templates" / "base.html").is_file()
