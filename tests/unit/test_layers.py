"""The import structure, read from the source alone: no cycle anywhere, the layers of
`functions/` (each imports only its own layer and those below it), and the contracts that
keep the web framework, Firestore's client and the request parser where they belong.

Lazy imports inside functions count, and so do imports under `if TYPE_CHECKING:`: a lazy
import closes a cycle just the same when it runs, and a type-only import still ties a
module to the other's vocabulary.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("main.py", "functions", "devtools", "bench", "tests")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("main", "functions.partners", "functions.endpoints", "functions.examples"),
    ("functions.edge", "functions.cli"),
    ("functions.operations",),
    ("functions.domain",),
    ("functions.auth",),
    ("functions.contract", "functions.store", "functions.outside"),
    ("functions.resources",),
    ("functions.core",),
)
"""The folders of `functions/`, from the entry points down to the domain values: a module
may import its own layer and the layers below; `functions` itself (the package's
`__init__`) is ground for all. The package's root holds entry points only."""

FRAMEWORK_FREE = (
    "functions.operations",
    "functions.domain",
    "functions.auth",
    "functions.contract",
    "functions.store",
    "functions.outside",
    "functions.resources",
    "functions.core",
)
"""The layers under the edge, which never see a request."""
WEB = ("flask", "werkzeug", "functions_framework", "firebase_functions.https_fn", "jinja2")

SDKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("google.cloud", ("functions.store", "functions.operations.clients")),
    ("grpc", ("functions.store",)),
    ("google", ("functions.store", "functions.outside", "functions.operations", "functions.auth")),
    ("firebase_admin", ("functions.outside", "functions.operations", "functions.auth")),
)
"""Each Google SDK and the folders that may import it (the first entry that names an
import decides): Firestore's client in the store (and the tools' client factory) alone,
firebase-admin where users, tokens and task queues are handled."""

EDGE = "functions.edge.http"
STORE = "functions.store"
"""The HTTP edge reaches Firestore through the business rules and the composed parts
(`functions.edge.wiring`), never by building a store class itself."""

CONTRACT = "functions.contract.openapi"
PARSER = "functions.edge.http.parsing"


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    """A repository module (the longest one the statement names), or an outside name as
    written (`google.cloud.firestore`)."""
    line: int
    internal: bool


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_imports(root: Path, packages: Iterable[str] = PACKAGES) -> list[Import]:
    """Every import statement of the tree under `root`, top-level, lazy and type-only."""
    files: list[Path] = []
    for package in packages:
        place = root / package
        candidates = [place] if place.suffix == ".py" else sorted(place.rglob("*.py"))
        files += [path for path in candidates if "venv" not in path.relative_to(root).parts]
    modules = {_module_name(root, path): path for path in files if path.exists()}
    found: set[Import] = set()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for imported in targets:
                target = imported
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    if target != name:
                        found.add(Import(name, target, node.lineno, internal=True))
                elif imported.partition(".")[0] not in modules:
                    found.add(Import(name, imported, node.lineno, internal=False))
    return sorted(found, key=lambda item: (item.importer, item.line, item.target))


def import_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for item in imports:
        graph.setdefault(item.importer, set())
        if item.internal:
            graph[item.importer].add(item.target)
            graph.setdefault(item.target, set())
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_of(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int | None:
    for depth, members in enumerate(layers):
        if _within(module, members):
            return depth
    return None


def violations(
    imports: Iterable[Import], layers: tuple[tuple[str, ...], ...] = LAYERS
) -> list[str]:
    """Every broken contract, one line each (empty when the tree keeps them all)."""
    imports = list(imports)
    graph = import_graph(imports)
    found: list[str] = []
    for item in imports:
        where = f"{item.importer}:{item.line} imports {item.target}"
        if item.internal:
            low, high = layer_of(item.importer, layers), layer_of(item.target, layers)
            if low is not None and high is not None and high < low:
                found.append(f"{where}: up from layer {low} to layer {high}")
        if _within(item.importer, FRAMEWORK_FREE) and _within(item.target, WEB):
            found.append(f"{where}: the layers under the edge never import the web")
        for sdk, owners in SDKS:
            if _within(item.target, (sdk,)):
                if not _within(item.importer, owners):
                    found.append(f"{where}: only {', '.join(owners)} import {sdk}")
                break
        if _within(item.importer, (EDGE,)) and _within(item.target, (STORE,)):
            found.append(f"{where}: the HTTP edge does not build the store's parts")
    reached = _reachable(graph, CONTRACT)
    if PARSER in reached:
        found.append(f"{CONTRACT} reaches {PARSER}: the contract is not built from the parser")
    return found


def _reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        for successor in graph.get(node, ()):
            if successor not in seen:
                seen.add(successor)
                todo.append(successor)
    return seen


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere_in_the_tree() -> None:
    graph = import_graph(read_imports(ROOT))
    assert "functions.edge.http.pipeline" in graph["functions.edge.http.views"]
    assert cycles(graph) == []


def test_every_module_of_the_package_has_a_layer() -> None:
    modules = {
        _module_name(ROOT, path)
        for path in [ROOT / "main.py", *(ROOT / "functions").rglob("*.py")]
        if "vendor" not in path.parts
    }
    assert len(modules) > 40
    assert sorted(m for m in modules if m != "functions" and layer_of(m) is None) == []


def test_the_tree_keeps_every_contract() -> None:
    imports = read_imports(ROOT, ("main.py", "functions"))
    assert sum(item.internal for item in imports) > 150, "the reader found the imports"
    assert violations(imports) == []


@pytest.mark.parametrize(
    ("path", "source", "broken"),
    [
        (
            "functions/core/models.py",
            "from functions.edge.http import parsing\n",
            "functions.core.models:1 imports functions.edge.http.parsing: up from layer 7 to "
            "layer 1",
        ),
        (
            "functions/store/records.py",
            "from functions.domain import changes\n",
            "functions.store.records:1 imports functions.domain.changes: up from layer 5 to "
            "layer 3",
        ),
        (
            "functions/core/limits.py",
            "def f():\n    import flask\n",
            "functions.core.limits:2 imports flask: the layers under the edge never import the web",
        ),
        (
            "functions/domain/records.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from google.cloud import firestore\n",
            "functions.domain.records:3 imports google.cloud.firestore: only functions.store, "
            "functions.operations.clients import google.cloud",
        ),
        (
            "functions/domain/webhooks/delivery.py",
            "def f():\n    from firebase_admin import functions\n",
            "functions.domain.webhooks.delivery:2 imports firebase_admin.functions: only "
            "functions.outside, functions.operations, functions.auth import firebase_admin",
        ),
        (
            "functions/edge/console/session.py",
            "import grpc\n",
            "functions.edge.console.session:1 imports grpc: only functions.store import grpc",
        ),
        (
            "functions/edge/http/views.py",
            "from functions.store.limits import FirestoreLeases\n",
            "functions.edge.http.views:1 imports functions.store.limits: the HTTP edge does not "
            "build the store's parts",
        ),
        (
            "functions/contract/openapi/__init__.py",
            "from functions.core import cursor\n",
            "functions.contract.openapi reaches functions.edge.http.parsing: the contract is not "
            "built from the parser",
        ),
    ],
)
def test_a_deliberate_violation_is_found(
    tmp_path: Path, path: str, source: str, broken: str
) -> None:
    """A copy of the package with one import added breaks exactly that contract."""
    tree = tmp_path / "tree"
    for original in [ROOT / "main.py", *(ROOT / "functions").rglob("*.py")]:
        if "vendor" in original.parts:
            continue
        copy = tree / original.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(original.read_text())
    target = tree / path
    target.write_text(source + target.read_text())
    if path == "functions/contract/openapi/__init__.py":  # the parser, through another module
        cursor = tree / "functions/core/cursor.py"
        cursor.write_text(cursor.read_text() + "\nfrom functions.edge.http import parsing\n")
    before = violations(read_imports(ROOT, ("main.py", "functions")))
    found = violations(read_imports(tree, ("main.py", "functions")))
    assert broken in found, found
    assert broken not in before
