"""`make release VERSION=x.y.z`: cut a release once CHANGELOG.md has its heading.

It refuses (one line each, nothing written) a version that is not semantic or not above
the last released one, a CHANGELOG without `## [x.y.z] - <date>`, and a contract that
breaks partners while MAJOR stays; otherwise it sets the version in its one place
(`functions/core/version.py`) and in pyproject.toml, regenerates `openapi.json` and the
SDKs (which carry the version), keeps the contract as the released one
(`contract/released.json`) and prints the commands that commit and tag it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.contract_diff import breaking_changes, semver
from devtools.prerequisites import ROOT

RELEASED = Path("contract") / "released.json"
VERSION_FILE = Path("functions") / "core" / "version.py"


def problems(
    version: str, changelog: str, released: dict[str, Any], current: dict[str, Any]
) -> list[str]:
    """Why `version` cannot be released (none: it can)."""
    try:
        wanted = semver(version)
    except ValueError as exc:
        return [str(exc)]
    last = semver(released["info"]["version"])
    found = []
    if wanted <= last:
        found.append(f"{version} is not above the last release, {released['info']['version']}")
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        found.append(
            f"CHANGELOG.md has no `## [{version}] - YYYY-MM-DD` heading: move the Unreleased "
            "items under it first"
        )
    breaks = breaking_changes(released, current)
    if breaks and wanted[0] == last[0]:
        found.append(
            f"the contract breaks partners in {len(breaks)} place(s), so MAJOR must move "
            f"(or the change go): {breaks[0]}"
        )
    return found


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="make release VERSION=x.y.z", description=__doc__)
    parser.add_argument("--version", required=True)
    args = parser.parse_args(argv)
    released = json.loads((root / RELEASED).read_text())
    current = json.loads((root / "openapi.json").read_text())
    refused = problems(args.version, (root / "CHANGELOG.md").read_text(), released, current)
    for line in refused:
        print(f"error: {line}", file=sys.stderr)
    if refused:
        return 2
    for path, pattern in (
        (root / VERSION_FILE, r'^VERSION = "[^"]*"$'),
        (root / "pyproject.toml", r'^version = "[^"]*"$'),
    ):
        text = path.read_text()
        key = "VERSION" if path.suffix == ".py" else "version"
        path.write_text(re.sub(pattern, f'{key} = "{args.version}"', text, count=1, flags=re.M))
    subprocess.run([sys.executable, "-m", "devtools.generate"], cwd=root, check=True)
    subprocess.run([sys.executable, "-m", "devtools.sdk"], cwd=root, check=True)  # its version
    (root / RELEASED).write_text((root / "openapi.json").read_text())
    print(f"released {args.version}; now:")
    print(f"  git commit -am 'Release {args.version}' && git tag -a v{args.version} "
          f"-m 'Release {args.version}' && git push --follow-tags")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
