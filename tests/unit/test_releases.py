"""One version for the package and its contract, a changelog that says what each release
changed, and a contract that cannot break partners while MAJOR stays."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools import release
from devtools.contract_diff import breaking_changes, semver
from functions.core.version import VERSION
from tests.helpers import ROOT

CURRENT = json.loads((ROOT / "openapi.json").read_text())
RELEASED = json.loads((ROOT / "contract" / "released.json").read_text())
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
RELEASE_HEADING = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def test_one_version_for_the_package_its_contract_and_its_changelog() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = RELEASE_HEADING.findall(CHANGELOG)
    assert (pyproject, CURRENT["info"]["version"], releases[0][0]) == (VERSION,) * 3
    assert semver(VERSION) >= semver(RELEASED["info"]["version"])
    assert [semver(v) for v, _ in releases] == sorted(
        (semver(v) for v, _ in releases), reverse=True
    )


def test_the_changelog_keeps_the_keep_a_changelog_form() -> None:
    assert CHANGELOG.startswith("# Changelog\n")
    headings = re.findall(r"^## (.+)$", CHANGELOG, re.M)
    assert headings[0] == "[Unreleased]"
    assert all(RELEASE_HEADING.match(f"## {h}") for h in headings[1:]), headings
    kinds = set(re.findall(r"^### (.+)$", CHANGELOG, re.M))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_contract_does_not_break_partners_while_major_stays() -> None:
    breaks = breaking_changes(RELEASED, CURRENT)
    if semver(VERSION)[0] == semver(RELEASED["info"]["version"])[0]:
        assert breaks == [], (
            "openapi.json breaks partners of the last release; move MAJOR (make release) "
            "or keep the contract:\n" + "\n".join(breaks)
        )


def entry(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["components"]["schemas"]["Entry"])


def list_params(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["paths"]["/api/v1/entries"]["get"]["parameters"])


def _remove_field(d: dict[str, Any]) -> None:
    del d["components"]["schemas"]["Entry"]["properties"]["amount"]


def _rename_path(d: dict[str, Any]) -> None:
    d["paths"]["/api/v1/ledger"] = d["paths"].pop("/api/v1/entries")


def _narrow_text(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["EntryCreate"]["properties"]["amount"]["type"] = "integer"


def _shorter(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["EntryCreate"]["properties"]["description"]["maxLength"] = 10


def _require(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["EntryCreate"]["required"].append("category")


def _drop_param(d: dict[str, Any]) -> None:
    d["paths"]["/api/v1/entries"]["get"]["parameters"] = [
        p for p in d["paths"]["/api/v1/entries"]["get"]["parameters"] if p["name"] != "cursor"
    ]


def _fewer_event_types(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["NewWebhookEndpoint"]["properties"]["event_types"]["items"][
        "enum"
    ].remove("entries.deleted")


def _no_longer_given(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["Entry"]["required"].remove("amount")


def _new_writer(d: dict[str, Any]) -> None:
    d["components"]["schemas"]["Event"]["properties"]["writer"]["enum"].append("import")


BREAKS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_remove_field, "GET /api/v1/entries/{id} 200.amount: removed"),
    (_rename_path, "/api/v1/entries: removed"),
    (_narrow_text, "POST /api/v1/entries body.amount: no longer takes string"),
    (_shorter, "POST /api/v1/entries body.description: maxLength 500 became 10"),
    (_require, "POST /api/v1/entries body.category: became required"),
    (_drop_param, "GET /api/v1/entries query parameter cursor: removed"),
    (
        _fewer_event_types,
        "POST /api/v1/webhook_endpoints body.event_types[]: no longer takes ['entries.deleted']",
    ),
    (_no_longer_given, "GET /api/v1/entries/{id} 200.amount: no longer always given"),
    (_new_writer, "GET /api/v1/events/{id} 200.writer: may now be ['import']"),
]


@pytest.mark.parametrize(("plant", "line"), BREAKS, ids=[f.__name__ for f, _ in BREAKS])
def test_each_planted_break_is_found_and_named(
    plant: Callable[[dict[str, Any]], None], line: str
) -> None:
    broken = copy.deepcopy(CURRENT)
    plant(broken)
    found = breaking_changes(CURRENT, broken)
    assert line in found, found
    last = CURRENT | {"info": {"version": "1.0.0"}}
    minor = release.problems("1.1.0", "## [1.1.0] - 2026-12-07", last, broken)
    assert minor[-1].startswith(f"the contract breaks partners in {len(found)} place(s)")
    assert release.problems("2.0.0", "## [2.0.0] - 2026-12-07", last, broken) == []


def test_what_only_adds_or_widens_breaks_nobody() -> None:
    grown = copy.deepcopy(CURRENT)
    schemas = grown["components"]["schemas"]
    schemas["Entry"]["properties"]["note"] = {"type": "string"}
    schemas["EntryCreate"]["properties"]["note"] = {"type": "string", "maxLength": 9}
    schemas["EntryCreate"]["properties"]["description"]["maxLength"] = 5000
    schemas["NewWebhookEndpoint"]["properties"]["event_types"]["items"]["enum"].append("x.y")
    grown["paths"]["/api/v1/notes"] = grown["paths"]["/api/v1/entries"]
    grown["paths"]["/api/v1/entries"]["get"]["description"] = "Reworded."
    assert breaking_changes(CURRENT, grown) == []


def test_a_release_is_refused_in_one_line_each(tmp_path: Path) -> None:
    released = CURRENT | {"info": {**CURRENT["info"], "version": "1.2.0"}}
    assert release.problems("1.2", CHANGELOG, released, CURRENT) == [
        "'1.2' is not a semantic version (MAJOR.MINOR.PATCH)"
    ]
    assert release.problems("1.1.9", "", released, CURRENT) == [
        "1.1.9 is not above the last release, 1.2.0",
        "CHANGELOG.md has no `## [1.1.9] - YYYY-MM-DD` heading: move the Unreleased items "
        "under it first",
    ]


def test_a_release_sets_the_version_everywhere_and_keeps_its_contract(tmp_path: Path) -> None:
    """`make release` on a copy of the repository: 1.1.0 after 1.0.0, nothing else."""
    root = tmp_path / "repo"
    for folder in ("functions", "devtools", "contract", "sdk"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tooling").symlink_to(ROOT / "tooling")  # tsc, for the TypeScript SDK
    for name in ("main.py", "resources.toml", "firestore.rules", "firestore.indexes.json",
                 "openapi.json", "pyproject.toml"):  # fmt: skip
        shutil.copy(ROOT / name, root / name)
    (root / "CHANGELOG.md").write_text(
        CHANGELOG.replace("## [Unreleased]\n", "## [Unreleased]\n\n## [1.1.0] - 2026-12-07\n")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUNCTIONS_", "PARTNER_"))}
    run = subprocess.run(
        [sys.executable, "-m", "devtools.release", "--version", "1.1.0"], cwd=root,
        env={**env, "PYTHONPATH": str(root), "GOOGLE_CLOUD_PROJECT": "demo-partner-api"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert 'VERSION = "1.1.0"' in (root / "functions/core/version.py").read_text()
    assert tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"] == "1.1.0"
    document = json.loads((root / "openapi.json").read_text())
    assert document["info"]["version"] == "1.1.0"
    assert json.loads((root / "contract/released.json").read_text()) == document
    assert json.loads((root / "sdk/typescript/package.json").read_text())["version"] == "1.1.0"
    assert 'version = "1.1.0"' in (root / "sdk/python/pyproject.toml").read_text()
    assert 'VERSION = "1.1.0"' in (root / "sdk/python/src/partner_api/_operations.py").read_text()
    assert "git tag -a v1.1.0" in run.stdout
    again = subprocess.run(
        [sys.executable, "-m", "devtools.release", "--version", "1.1.0"], cwd=root,
        env={**env, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert (again.returncode, again.stderr) == (
        2,
        "error: 1.1.0 is not above the last release, 1.1.0\n",
    )
